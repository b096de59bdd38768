/**
 * A migration of a persistent domain leaves it defined but shut off on the
 * source, where libvirt answers GET_JOB_STATS with "domain is not running".
 * The examples' migration-postcopy loop died of that on the real hosts: the
 * progress loop must end with the migration, whatever the sampler hits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../../src/testing/index.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

async function run(
  intervalMs: number,
): Promise<{ lines: number; sourceState: string | undefined }> {
  const a = await Simulator.start({
    hostname: 'host-a',
    timeScale: 50,
    domains: [{ name: 'vm', state: 'running', persistent: true, memoryMiB: 64 }],
  });
  const b = await Simulator.start({ hostname: 'host-b', timeScale: 50 });
  opened.push(a, b);
  const ca = await a.connect();
  const cb = await b.connect();
  opened.push(ca, cb);
  const dom = await ca.lookupDomain('vm');
  const m = dom.migrate(cb, { live: true, postcopy: true, postcopyPolicy: 'after-precopy' });
  let lines = 0;
  for await (const p of m.progress({ intervalMs })) {
    expect(p.phase === 'precopy' || p.phase === 'postcopy').toBe(true);
    lines++;
  }
  const { domain } = await m.done;
  expect(domain?.name).toBe('vm');
  // the source keeps the definition, shut off: a live GET_JOB_STATS there now fails
  await expect(dom.jobStats()).rejects.toMatchObject({ codeName: 'VIR_ERR_OPERATION_INVALID' });
  return { lines, sourceState: a.domain('vm')?.state };
}

describe('progress() of a migration that leaves the source domain shut off', () => {
  it('ends with the migration when it ends before the first sample', async () => {
    const r = await run(60_000);
    expect(r.sourceState).toBe('shutoff');
  });

  it('ends with the migration when samples race its end', async () => {
    const r = await run(1);
    expect(r.sourceState).toBe('shutoff');
  });
});
