import { XdrError } from './errors.js';
import type { Codec } from './index.js';

/** One procedure of an RPC program, as the generator describes it. */
export interface ProcedureInfo {
  /** libvirt's procedure name without its program prefix, e.g. `CONNECT_OPEN`. */
  readonly name: string;
  readonly number: number;
  /** The typed method name, e.g. `connectOpen`. */
  readonly method: string;
  /** Payload the client sends (for events: the payload the server sends); null when void. */
  readonly args: Codec<unknown> | null;
  /** Payload of a successful reply; null when void. */
  readonly ret: Codec<unknown> | null;
  /** True for procedures the server sends as MESSAGE (events). */
  readonly event: boolean;
  /** High-priority calls are served by the daemon even when its workers are busy. */
  readonly priority: 'high' | 'low';
  /** Direction of the data stream the call opens: read = daemon to client. */
  readonly stream: 'read' | 'write' | null;
  /** The flag that asks for a sparse stream, when the procedure supports one. */
  readonly sparseFlag: string | null;
  /** Access control checks the daemon applies (informational). */
  readonly acl: readonly string[];
}

/** An RPC program: its number, version and procedure table. */
export interface ProgramInfo {
  readonly name: string;
  readonly program: number;
  readonly version: number;
  readonly procedures: readonly ProcedureInfo[];
}

/** Length of an array value about to be encoded; anything else is an XdrError, not a TypeError. */
export function arrayLength(a: unknown): number {
  if (!Array.isArray(a))
    throw new XdrError(`array expected, got ${a === null ? 'null' : typeof a}`);
  return a.length;
}
