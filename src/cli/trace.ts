/**
 * Protocol tracing for the CLI (`--debug` or NODE_DEBUG=virtwire): every RPC
 * message of every connection in either direction, one line each on the
 * CLI's stderr, with the program and procedure by name. The lines come from
 * the library's one trace subscriber (src/rpc/trace.ts), here pointed at the
 * CLI's own error stream.
 */
import {
  describeMessage,
  nodeDebugEnabled,
  nodeDebugLogging,
  subscribeDebugLog,
  traceLine,
} from '../rpc/trace.js';

export { describeMessage, nodeDebugEnabled, traceLine };

/**
 * Starts writing trace lines with `write` and returns the function that
 * stops it. Nothing is started when NODE_DEBUG already makes the library
 * print the same lines to stderr: each message is traced once.
 */
export function startTrace(write: (line: string) => void): () => void {
  if (nodeDebugLogging()) return () => {};
  return subscribeDebugLog(write);
}
