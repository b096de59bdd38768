/**
 * The virsh-like domain commands: list, domstate, domjobabort,
 * migrate-postcopy (dominfo and domjobinfo have files of their own). Each
 * renders with a pure function (tested on its own) and has a --json form
 * where output is data.
 */
import type { Connection } from '../api/handles.js';
import type { DomainState } from '../api/names.js';
import { VirDomainAbortJobFlagsValues } from '../generated/api.js';
import { isNoDomain } from '../rpc/errors.js';
import type { CliContext } from './context.js';
import { table } from './format.js';
import { jsonPretty } from './json.js';
import { reasonWords, stateWords } from './state-words.js';
import { listFlags } from './virsh-commands.js';

export { reasonWords, stateWords } from './state-words.js';

export function renderState(s: DomainState, withReason: boolean): string {
  return withReason ? `${stateWords(s.state)} (${reasonWords(s.reason)})` : stateWords(s.state);
}

export interface ListRow {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
}

export function renderList(rows: readonly ListRow[]): string {
  return table(
    ['Id', 'Name', 'State'],
    rows.map((r) => [r.id >= 0 ? String(r.id) : '-', r.name, stateWords(r.state.state)]),
  );
}

/** Running domains first by id, then inactive ones by name, as virsh orders them. */
function byVirshOrder(a: ListRow, b: ListRow): number {
  const ai = a.id >= 0 ? a.id : Number.POSITIVE_INFINITY;
  const bi = b.id >= 0 ? b.id : Number.POSITIVE_INFINITY;
  return ai - bi || a.name.localeCompare(b.name);
}

async function withConnection<T>(ctx: CliContext, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await ctx.open();
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

export async function listCommand(
  ctx: CliContext,
  opts: Readonly<Record<string, boolean | undefined>>,
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const domains = await conn.listAllDomains(listFlags(opts));
    // A domain may vanish between the listing and its state call (a transient one stopping): skip it.
    const found = await Promise.all(
      domains.map(async (d): Promise<ListRow | null> => {
        try {
          return { id: d.id, name: d.name, uuid: d.uuid, state: await d.state() };
        } catch (err) {
          if (isNoDomain(err)) return null;
          throw err;
        }
      }),
    );
    const rows = found.filter((r): r is ListRow => r !== null);
    rows.sort(byVirshOrder);
    if (opts.json) {
      ctx.out(
        jsonPretty(
          rows.map((r) => ({
            id: r.id >= 0 ? r.id : null,
            name: r.name,
            uuid: r.uuid,
            state: r.state.state,
            reason: r.state.reason,
          })),
        ),
      );
    } else if (opts.name || opts.uuid) {
      for (const r of rows) ctx.out(opts.uuid && !opts.name ? r.uuid : r.name);
    } else {
      ctx.out(renderList(rows));
    }
  });
}

export async function domstateCommand(
  ctx: CliContext,
  name: string,
  opts: { reason?: boolean; json?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const s = await (await conn.lookupDomain(name)).state();
    ctx.out(opts.json ? jsonPretty(s) : renderState(s, opts.reason ?? false));
  });
}

export async function domjobabortCommand(
  ctx: CliContext,
  name: string,
  opts: { postcopy?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const d = await conn.lookupDomain(name);
    if (opts.postcopy)
      await d.abortJobFlags(VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY);
    else await d.abortJob();
  });
}

export async function migratePostcopyCommand(ctx: CliContext, name: string): Promise<void> {
  await withConnection(ctx, async (conn) => {
    await (await conn.lookupDomain(name)).migrateStartPostCopy();
  });
}

export { type DomInfo, domInfo, dominfoCommand, renderDomInfo } from './dominfo.js';
export { domjobinfoCommand, renderJobInfo } from './job-info.js';
