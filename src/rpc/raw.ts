/**
 * The hook through which a transport that reads with Node's `onread` (one
 * reused buffer, no Readable stream, no per-read allocation) hands its bytes
 * to the RPC client. The bytes are only valid during the call.
 */
export const RAW_DATA = Symbol('virtwire.rawData');

export interface RawDataSource {
  [RAW_DATA]?: (chunk: Uint8Array) => void;
}
