/**
 * `virtwire/protocol`: libvirt's RPC programs as data. Each object gives the
 * program number, version and every procedure with its number, typed-method
 * name, argument/result codecs, priority and stream direction.
 */
export { adminProgram as admin } from './generated/admin.js';
export { keepaliveProgram as keepalive } from './generated/keepalive.js';
export { lxcProgram as lxc } from './generated/lxc.js';
export { qemuProgram as qemu } from './generated/qemu.js';
export { remoteEvents, remoteProgram as remote } from './generated/remote.js';
export type { Codec } from './xdr/index.js';
export type {
  CallDescriptor,
  EventInfo,
  ProcedureInfo,
  ProgramId,
  ProgramInfo,
} from './xdr/program.js';
