/**
 * virtwire's `node:diagnostics_channel` channels: the one place where the
 * library reports what it does, for APM agents (OpenTelemetry and others
 * subscribe without patching, as they do to undici's and pg's channels), for
 * `NODE_DEBUG=virtwire`, and for the CLI's `--debug`, which are subscribers
 * like any other.
 *
 * Publishing costs nothing measurable while nobody subscribes: every
 * publisher checks `hasSubscribers` before it builds a message.
 *
 * The names and message shapes below are public API (documented in the
 * README's "Tracing" section); add fields, never rename or remove one.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';

/** Which way a message went, seen from this process. */
export type Direction = 'send' | 'recv';

/**
 * One RPC call from the moment it is queued to the moment its reply (or its
 * failure) is handled: a TracingChannel named `virtwire:rpc:call`, whose
 * `start`/`end` bracket the synchronous part (encoding and queueing) and
 * `asyncStart`/`asyncEnd` the settlement; `error` fires for every rejection.
 * The context object is the same in every event of one call; fields marked
 * "after" are filled in when the reply arrives.
 */
export interface RpcCallMessage {
  /** Process-unique number of the connection (see `virtwire:connection:open`). */
  readonly connectionId: number;
  /** `remote`, `qemu`, `lxc`, `admin` or `keepalive`. */
  readonly program: string;
  /** libvirt's procedure name without the program prefix, e.g. `DOMAIN_GET_INFO`. */
  readonly procedure: string;
  /** The procedure number. */
  readonly proc: number;
  /** The call's serial once assigned (0 if it failed before being sent). */
  serial: number;
  /** Bytes of the whole CALL message, length word included (0 if it was never sent). */
  requestBytes: number;
  /** After: bytes of the whole REPLY message, when one arrived. */
  replyBytes?: number;
  /** After: `ok`, or `error` for a REPLY with status ERROR. */
  status?: 'ok' | 'error';
  /** After: libvirt's error name (`VIR_ERR_NO_DOMAIN`) when the daemon answered with an error. */
  errorCode?: string;
  /** Set by TracingChannel: the resolved value, or the rejection. */
  result?: unknown;
  error?: unknown;
}

/** Every message that crosses a connection, in either direction (`virtwire:rpc:message`). */
export interface RpcWireMessage {
  readonly connectionId: number;
  readonly direction: Direction;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
  /** Bytes of the whole message, length word included. */
  readonly size: number;
  /** For an ERROR reply or stream packet: libvirt's error name, when it decodes. */
  readonly errorCode?: string;
}

/** A connection finished its open sequence (`virtwire:connection:open`). */
export interface ConnectionOpenMessage {
  readonly connectionId: number;
  /** The URI as given, with any password replaced by `***`. */
  readonly uri: string;
  /** `unix`, `tcp`, `tls`, `ssh`, `libssh`, `libssh2`, `ext`, or `custom` for a user transport. */
  readonly transport: string;
  /** How it authenticated: `none`, `polkit`, `sasl.<MECH>`. */
  readonly auth: string;
  /** Milliseconds from connect() to the open connection. */
  readonly durationMs: number;
}

/** A connection ended (`virtwire:connection:close`), once, for whatever reason. */
export interface ConnectionCloseMessage {
  readonly connectionId: number;
  /** libvirt's close reasons: `client`, `eof`, `error`, `keepalive`. */
  readonly reason: string;
  readonly error?: Error;
}

/**
 * A supervised connection changed state (`virtwire:connection:state`):
 * `connecting` -> `open`, then `reconnecting` when its link ends other than by
 * `close()`, `open` again once the open sequence succeeded on a new link, and
 * `closed` at the end (by `close()`, or when reconnecting gave up).
 */
export interface ConnectionStateMessage {
  /** The supervised connection's own number: it outlives its links. */
  readonly connectionId: number;
  /** The current link's number (its `virtwire:rpc:*` messages carry it), 0 while there is none. */
  readonly linkId: number;
  /** The URI as given, with any password replaced by `***`. */
  readonly uri: string;
  readonly from: string;
  readonly to: string;
  /** Why the link ended (`eof`, `error`, `keepalive`), on the way to `reconnecting` or `closed`. */
  readonly reason?: string;
  readonly error?: Error;
  /** The attempt about to be made (reconnecting) or that succeeded (open). */
  readonly attempt?: number;
  /** How long the next attempt waits (reconnecting). */
  readonly delayMs?: number;
  /** Back to `open`: milliseconds since the last message the old link received. */
  readonly gapMs?: number;
}

/** A data stream opened (`virtwire:stream:open`). */
export interface StreamOpenMessage {
  readonly connectionId: number;
  readonly program: string;
  readonly procedure: string;
  readonly serial: number;
  /** `read`: daemon to client; `write`: client to daemon. */
  readonly direction: 'read' | 'write';
}

/** A data stream ended (`virtwire:stream:close`). */
export interface StreamCloseMessage {
  readonly connectionId: number;
  readonly serial: number;
  /** How it ended. */
  readonly outcome: 'finished' | 'aborted' | 'error';
  /** Data bytes carried (holes not counted). */
  readonly bytes: number;
  readonly error?: Error;
}

/** A managed or peer-to-peer migration entered a phase (`virtwire:migration:phase`). */
export interface MigrationPhaseMessage {
  /** Process-unique number of the migration. */
  readonly migrationId: number;
  /** The domain's name and UUID on the source. */
  readonly domain: string;
  readonly uuid: string;
  /** `setup`, `begin`, `prepare`, `perform`, `finish`, `confirm`, `done`, or `failed`. */
  readonly phase: string;
  /** Milliseconds since the migration started. */
  readonly elapsedMs: number;
  /** For `failed`: the error the migration rejects with. */
  readonly error?: Error;
}

/** The names of virtwire's diagnostics channels, by what they report. */
export const CHANNELS = {
  call: 'virtwire:rpc:call',
  message: 'virtwire:rpc:message',
  connectionOpen: 'virtwire:connection:open',
  connectionClose: 'virtwire:connection:close',
  connectionState: 'virtwire:connection:state',
  streamOpen: 'virtwire:stream:open',
  streamClose: 'virtwire:stream:close',
  migrationPhase: 'virtwire:migration:phase',
} as const;

export const callChannel = tracingChannel<unknown, RpcCallMessage>(CHANNELS.call);

/**
 * Whether anyone listens to `virtwire:rpc:call`. `TracingChannel.hasSubscribers`
 * is missing on Bun (1.4: undefined, which would read as "nobody", and no call
 * would ever be traced); its five channels' own `hasSubscribers` say the same
 * thing on every runtime, so they answer where the aggregate is missing.
 */
export const callTraced: () => boolean =
  typeof callChannel.hasSubscribers === 'boolean'
    ? () => callChannel.hasSubscribers
    : () =>
        callChannel.start.hasSubscribers ||
        callChannel.end.hasSubscribers ||
        callChannel.asyncStart.hasSubscribers ||
        callChannel.asyncEnd.hasSubscribers ||
        callChannel.error.hasSubscribers;
export const messageChannel = channel(CHANNELS.message);
export const connectionOpenChannel = channel(CHANNELS.connectionOpen);
export const connectionCloseChannel = channel(CHANNELS.connectionClose);
export const connectionStateChannel = channel(CHANNELS.connectionState);
export const streamOpenChannel = channel(CHANNELS.streamOpen);
export const streamCloseChannel = channel(CHANNELS.streamClose);
export const migrationPhaseChannel = channel(CHANNELS.migrationPhase);

let lastId = 0;
/** A new process-unique id for a connection or migration. */
export function nextId(): number {
  lastId = (lastId + 1) % Number.MAX_SAFE_INTEGER;
  return lastId;
}
