/**
 * `virtwire events`: live, typed domain events until Ctrl-C (or --timeout,
 * or --count events), as text lines in virsh's form or one JSON object each.
 */
import type { DomainEvent, Subscription } from '../api/events.js';
import { VirtwireError } from '../errors.js';
import { domainEvents } from '../generated/events.js';
import { RemoteError } from '../rpc/errors.js';
import type { CliContext } from './context.js';
import { CommandError, UsageError } from './errors.js';
import { domainEventJson, domainEventText, virshTimestamp } from './event-format.js';
import { jsonLine } from './json.js';

export interface EventsOptions {
  readonly domain?: string;
  readonly event?: string;
  readonly json?: boolean;
  readonly timeout?: number;
  readonly count?: number;
  readonly timestamp?: boolean;
  /** Timestamps in ISO 8601 (UTC) rather than virsh's form; implies timestamp. */
  readonly iso?: boolean;
  readonly list?: boolean;
}

export const DOMAIN_EVENT_NAMES = Object.keys(domainEvents) as Array<keyof typeof domainEvents>;

/** The event names asked for (comma-separated; all when none), checked against the generated table. */
export function selectEvents(spec: string | undefined): Array<keyof typeof domainEvents> {
  if (spec === undefined) return [...DOMAIN_EVENT_NAMES];
  const names = spec
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/-/g, '_'))
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('events: --event needs an event name');
  for (const n of names) {
    if (!(n in domainEvents))
      throw new UsageError(
        `events: unknown event ${JSON.stringify(n)} (known: ${DOMAIN_EVENT_NAMES.join(', ')})`,
      );
  }
  return names as Array<keyof typeof domainEvents>;
}

export async function eventsCommand(ctx: CliContext, opts: EventsOptions): Promise<void> {
  if (opts.list) {
    ctx.out(DOMAIN_EVENT_NAMES.join('\n'));
    return;
  }
  const wanted = selectEvents(opts.event);
  if (opts.timeout !== undefined && !(opts.timeout > 0))
    throw new UsageError('events: --timeout must be a positive number of seconds');
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count > 0))
    throw new UsageError('events: --count must be a positive integer');

  const conn = await ctx.open();
  const subs: Array<Subscription<DomainEvent>> = [];
  let received = 0;
  let finish: (why: string) => void = () => {};
  const finished = new Promise<string>((resolve) => {
    finish = resolve;
  });
  const offInterrupt = ctx.io.interrupt.on(() => finish('interrupt'));
  let timer: NodeJS.Timeout | null = null;
  try {
    const domain = opts.domain !== undefined ? await conn.lookupDomain(opts.domain) : undefined;
    // A daemon older than the tables does not know every event ID (9.0 has no nic_mac_change):
    // it refuses the registration, and the event is skipped by name with a note.
    const skipped: string[] = [];
    let refusal: RemoteError | undefined;
    for (const name of wanted) {
      const sub = conn.events.domain(name, domain ? { domain } : {}) as Subscription<DomainEvent>;
      try {
        await sub.ready;
        subs.push(sub);
      } catch (err) {
        if (!(err instanceof RemoteError)) throw err;
        skipped.push(name);
        refusal = err;
        if (ctx.tracing) ctx.err(`virtwire: event ${name} refused: ${err.message}`);
      }
    }
    const daemon = skipped.length > 0 ? await daemonVersion(conn) : '';
    if (subs.length === 0) {
      throw new CommandError(
        `events: the daemon${daemon} offers none of the event types asked for (${skipped.join(', ')})` +
          (refusal ? `; it answered: ${refusal.message}` : ''),
      );
    }
    if (skipped.length > 0)
      ctx.err(`note: skipped ${skipped.join(', ')}: not offered by this daemon${daemon}`);
    const print = (ev: DomainEvent): void => {
      received++;
      if (opts.json) {
        ctx.out(jsonLine({ ...domainEventJson(ev), time: new Date().toISOString() }));
      } else {
        const now = new Date();
        const stamp = opts.iso
          ? `${now.toISOString()}: `
          : opts.timestamp
            ? `${virshTimestamp(now)}: `
            : '';
        ctx.out(`${stamp}${domainEventText(ev)}`);
      }
      if (opts.count !== undefined && received >= opts.count) finish('count');
    };
    const subscribed = wanted.filter((n) => !skipped.includes(n));
    const loops = subs.map(async (sub) => {
      for await (const ev of sub) print(ev);
    });
    // every loop ending on its own means the connection went away
    const ended = Promise.all(loops).then(() => 'closed');
    if (opts.timeout !== undefined)
      timer = setTimeout(() => finish('timeout'), opts.timeout * 1000);
    const listening =
      subs.length === 1
        ? `${subscribed[0]} events`
        : `${subs.length}${skipped.length > 0 ? ` of ${wanted.length}` : ''} event types`;
    ctx.err(`listening for ${listening}${domain ? ` of ${domain.name}` : ''} (Ctrl-C to stop)`);
    const why = await Promise.race([finished, ended]);
    if (why === 'closed') {
      const info = await conn.closed;
      throw new CommandError(`events: the connection closed (${info.reason})`);
    }
    ctx.err(`events received: ${received}`);
  } finally {
    offInterrupt();
    if (timer) clearTimeout(timer);
    await Promise.all(subs.map((s) => s.close().catch(() => {})));
    await conn.close();
  }
}

/** ` (libvirt 9.0.0)`, for notes about what the daemon offers; empty when it cannot be asked. */
async function daemonVersion(conn: { getLibVersion(): Promise<bigint | number> }): Promise<string> {
  try {
    const v = Number(await conn.getLibVersion());
    return ` (libvirt ${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000})`;
  } catch (err) {
    if (err instanceof VirtwireError) return '';
    throw err;
  }
}
