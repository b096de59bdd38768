import type { MigrationEvent } from '../../src/index.js';

/**
 * Every event of a migration until it ends, one line each: `side:event/detail`
 * for lifecycle events, `source:iteration N`, `source:job_completed`.
 */
export async function eventTrail(m: {
  events(): AsyncIterable<MigrationEvent>;
}): Promise<string[]> {
  const out: string[] = [];
  for await (const e of m.events()) {
    const ev = e.event;
    out.push(
      ev.type === 'lifecycle'
        ? `${e.side}:${ev.event}/${ev.detail}`
        : ev.type === 'migration_iteration'
          ? `${e.side}:iteration ${ev.iteration}`
          : `${e.side}:${ev.type}`,
    );
  }
  return out;
}
