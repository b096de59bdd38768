/**
 * virtwire: a pure-TypeScript client for libvirt's remote RPC protocol.
 *
 * This entry point exports the XDR runtime; the RPC tables live in
 * `virtwire/protocol`.
 */
export { type Codec, XdrError, XdrReader, XdrWriter } from './xdr/index.js';
export type { ProcedureInfo, ProgramInfo } from './xdr/program.js';
