import { XdrError } from './errors.js';
import type { Codec } from './index.js';

/** Identity of an RPC program, as every message header carries it. */
export interface ProgramId {
  /** `remote`, `qemu`, `lxc`, `admin`, `keepalive`. */
  readonly name: string;
  readonly program: number;
  readonly version: number;
}

/**
 * The static facts of one procedure that a call needs, computed once (the
 * generated tables hold one per procedure), so that a call is a descriptor,
 * its arguments and its options.
 */
export interface CallDescriptor<A = unknown, R = unknown> {
  /** The program it belongs to (one object per program, shared by its procedures). */
  readonly program: ProgramId;
  /** libvirt's procedure name without its program prefix, e.g. `CONNECT_OPEN`. */
  readonly name: string;
  readonly number: number;
  /** `program.NAME`, e.g. `remote.CONNECT_OPEN`: used in errors and traces. */
  readonly label: string;
  /**
   * The virNetMessageType of the message that starts it: CALL, or MESSAGE for
   * one-way messages (events, keepalive), which get no reply.
   */
  readonly type: number;
  /** Payload the client sends (for events: the payload the server sends); null when void. */
  readonly args: Codec<A> | null;
  /** Payload of a successful reply; null when void. */
  readonly ret: Codec<R> | null;
  /** High-priority calls are served by the daemon even when its workers are busy. */
  readonly priority: 'high' | 'low';
  /** Direction of the data stream the call opens: read = daemon to client. */
  readonly stream: 'read' | 'write' | null;
}

/** One procedure of an RPC program, as the generator describes it: its call descriptor and more. */
export interface ProcedureInfo extends CallDescriptor {
  /** The typed method name, e.g. `connectOpen`. */
  readonly method: string;
  /** True for procedures the server sends as MESSAGE (events). */
  readonly event: boolean;
  /** The flag that asks for a sparse stream, when the procedure supports one. */
  readonly sparseFlag: string | null;
  /** Access control checks the daemon applies (informational). */
  readonly acl: readonly string[];
}

/** An event a program's server sends as MESSAGE: the procedure and the codec of its payload. */
export interface EventInfo {
  /** libvirt's procedure name without its program prefix, e.g. `DOMAIN_EVENT_LIFECYCLE`. */
  readonly name: string;
  readonly number: number;
  readonly payload: Codec<unknown>;
}

/** An RPC program: its number, version and procedure table. */
export interface ProgramInfo extends ProgramId {
  readonly procedures: readonly ProcedureInfo[];
}

/** Length of an array value about to be encoded; anything else is an XdrError, not a TypeError. */
export function arrayLength(a: unknown): number {
  if (!Array.isArray(a))
    throw new XdrError(`array expected, got ${a === null ? 'null' : typeof a}`);
  return a.length;
}
