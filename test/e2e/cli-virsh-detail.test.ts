/**
 * dominfo, domjobinfo and events side by side with virsh 9.0 on the real
 * hosts A and B, around a real live migration of a QEMU guest from A to B:
 * the same lines (labels) and the same values, not the same bytes.
 *
 * Compared: `virsh dominfo`, `virsh domjobinfo` on the source during the
 * migration and on the destination (virsh's refusal there), `virsh
 * domjobinfo --completed` on the destination afterwards, `virsh event --all
 * --loop --timestamp` on both hosts, and `virsh event --list`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/index.js';
import { guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';
import { CliProcess, runCli } from '../unit/cli/run-cli.js';

const run = promisify(execFile);
const NAME = 'vw-cli-vd';
let a: Connection;
let b: Connection;
let A: string;
let B: string;

beforeAll(async () => {
  A = host('VIRTWIRE_HOST_A_TCP');
  B = host('VIRTWIRE_HOST_B_TCP');
  a = await connect(A);
  b = await connect(B);
  await removeDomains([a, b], NAME);
});
afterAll(async () => {
  await removeDomains([a, b], NAME);
  await a.close();
  await b.close();
});

async function virsh(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('virsh', args);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `Label:   value` lines as label -> value, whitespace in values collapsed (virsh pads
 * numbers: `4053         ms`); a line that starts with spaces continues the previous label.
 */
function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([A-Za-z][^:]*):\s+(.*)$/.exec(line);
    if (m && !line.startsWith(' ')) {
      last = m[1]!;
      out.set(last, m[2]!.replace(/\s+/g, ' ').trim());
    } else if (last) out.set(last, `${out.get(last)}\n${line.trim()}`);
  }
  return out;
}

interface Ev {
  readonly time: number;
  readonly type: string;
  readonly domain: string;
  /** The text after `for domain 'x':`, and the tab-indented lines after it. */
  readonly details: string[];
}

/** Event lines with virsh's timestamps, of either tool; event names in virtwire's spelling. */
function events(text: string): Ev[] {
  const out: Ev[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      out.at(-1)?.details.push(line.slice(1));
      continue;
    }
    const m =
      /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})([+-]\d\d)(\d\d): event '([^']+)' for domain '([^']+)':\s*(.*)$/.exec(
        line,
      );
    if (!m) continue;
    const time = Date.parse(`${m[1]!.replace(' ', 'T')}${m[2]}:${m[3]}`);
    out.push({
      time,
      type: m[4]!.replace(/-/g, '_'),
      domain: m[5]!,
      details: m[6] ? [m[6]] : [],
    });
  }
  return out.filter((e) => e.domain === NAME);
}

/** virsh `Suspended Migrated` and virtwire `suspended (migrated)`, as `suspended migrated`. */
const lifecycleWords = (s: string): string =>
  s.replace(/[()]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();

describe('virtwire and virsh 9.0 on the same guest and migration', () => {
  it('dominfo, domjobinfo, events: the same lines and values', async () => {
    // ---- event listeners on both hosts, both tools
    const virshEvents = [A, B].map(
      (uri) => new CliProcessOf('virsh', ['-c', uri, 'event', '--all', '--loop', '--timestamp']),
    );
    const ours = [A, B].map((uri) => new CliProcess(['-c', uri, 'events', '--timestamp']));
    for (const p of ours) await p.waitFor((o) => o.stderr.includes('listening for'), 'listening');
    const virshList = (await virsh('-c', A, 'event', '--list')).stdout.trim().split('\n');
    // 9.0 offers every event type virsh 9.0 knows, and not nic_mac_change
    expect(ours[0]!.stderr).toContain(
      `listening for ${virshList.length} of ${virshList.length + 1} event types`,
    );
    expect(ours[0]!.stderr).toContain(
      'note: skipped nic_mac_change: not offered by this daemon (libvirt 9.0.0)',
    );
    await new Promise((r) => setTimeout(r, 500)); // virsh registers too

    // ---- dominfo
    await a.domainCreateXML(guestXml(NAME));
    await new Promise((r) => setTimeout(r, 500));
    const vInfo = fields((await virsh('-c', A, 'dominfo', NAME)).stdout);
    const oInfo = await runCli(['-c', A, 'dominfo', NAME]);
    expect(oInfo.code).toBe(0);
    const mine = fields(oInfo.stdout);
    expect([...mine.keys()]).toEqual([...vInfo.keys()]);
    expect(vInfo.has('Security model')).toBe(true);
    expect(vInfo.has('Messages')).toBe(true);
    for (const [k, v] of vInfo) if (k !== 'CPU time') expect(mine.get(k), k).toBe(v);

    // ---- domjobinfo during a migration that cannot converge at 20 MiB/s
    const d = await a.lookupDomain(NAME);
    const m = d.migrate(b, { live: true, bandwidth: 20 });
    const progress = m.progress({ intervalMs: 200 })[Symbol.asyncIterator]();
    await progress.next();
    await new Promise((r) => setTimeout(r, 1500)); // past the first samples: a bandwidth is measured
    const vJob = fields((await virsh('-c', A, 'domjobinfo', NAME)).stdout);
    const oJob = await runCli(['-c', A, 'domjobinfo', NAME]);
    const oJson = await runCli(['-c', A, 'domjobinfo', '--json', NAME]);
    const vDest = await virsh('-c', B, 'domjobinfo', NAME);
    const oDest = await runCli(['-c', B, 'domjobinfo', NAME]);
    await b.lookupDomain(NAME); // still migrating: the destination has the incoming domain
    await d.migrateSetMaxSpeed(1000);
    await m.done;
    await progress.return?.(undefined);

    expect(oJob.code).toBe(0);
    const job = fields(oJob.stdout);
    expect([...job.keys()]).toEqual([...vJob.keys()]);
    expect(vJob.get('Operation')).toBe('Outgoing migration');
    expect(vJob.has('Expected downtime')).toBe(true);
    for (const k of [
      'Job type',
      'Operation',
      'Memory total',
      'Data total',
      'Page size',
      'Setup time',
    ])
      expect(job.get(k), k).toBe(vJob.get(k));
    const j = JSON.parse(oJson.stdout) as { operation: string; stats: Record<string, unknown> };
    expect(j.operation).toBe('Outgoing migration');
    expect(typeof j.stats.memory_total).toBe('number');
    // the destination: virsh's answer is libvirt's refusal, and so is ours
    expect(vDest.code).toBe(1);
    expect(oDest.code).toBe(1);
    const vMsg = /^error: (.*)$/m.exec(vDest.stderr)?.[1];
    expect(vMsg).toContain('migration statistics are available only on the source host');
    expect(oDest.stderr).toContain(vMsg!);

    // ---- the completed job on the destination: every line and value equal
    const oDone = await runCli(['-c', B, 'domjobinfo', '--completed', '--keep-completed', NAME]);
    const oDoneJson = await runCli([
      '-c',
      B,
      'domjobinfo',
      '--completed',
      '--keep-completed',
      '--json',
      NAME,
    ]);
    const vDone = fields((await virsh('-c', B, 'domjobinfo', '--completed', NAME)).stdout);
    expect(oDone.code).toBe(0);
    const done = fields(oDone.stdout);
    expect(vDone.get('Operation')).toBe('Incoming migration');
    expect(vDone.has('Total downtime')).toBe(true);
    expect([...done.entries()]).toEqual([...vDone.entries()]);
    const dj = JSON.parse(oDoneJson.stdout) as {
      type: string;
      operationCode: number;
      stats: Record<string, unknown>;
    };
    expect(dj.type).toBe('Completed');
    expect(dj.operationCode).toBe(4);
    expect(`${dj.stats.downtime} ms`).toBe(vDone.get('Total downtime'));

    // ---- a lifecycle event on B while everyone listens, then stop the listeners
    await (await b.lookupDomain(NAME)).suspend();
    await (await b.lookupDomain(NAME)).resume();
    await new Promise((r) => setTimeout(r, 1000));
    for (const p of ours) p.kill('SIGINT');
    for (const p of virshEvents) p.kill('SIGINT');
    const [oA, oB] = await Promise.all(ours.map((p) => p.done));
    const [vA, vB] = await Promise.all(virshEvents.map((p) => p.done));
    for (const [side, o, v] of [
      ['A', oA!.stdout, vA!.stdout],
      ['B', oB!.stdout, vB!.stdout],
    ] as const) {
      const oe = events(o);
      const ve = events(v);
      expect(
        oe.map((e) => e.type),
        side,
      ).toEqual(ve.map((e) => e.type));
      expect(oe.length, side).toBeGreaterThan(0);
      oe.forEach((e, i) => {
        const w = ve[i]!;
        expect(Math.abs(e.time - w.time), `${side} ${e.type} time`).toBeLessThan(2000);
        if (e.type === 'lifecycle')
          expect(lifecycleWords(e.details[0]!), side).toBe(lifecycleWords(w.details[0]!));
        if (e.type === 'migration_iteration')
          expect(e.details[0]).toBe(`iteration ${/'(\d+)'/.exec(w.details[0]!)?.[1]}`);
        // job_completed: every typed parameter, as virsh lists them
        if (e.type === 'job_completed') {
          expect(e.details.length).toBeGreaterThan(15);
          expect(e.details).toEqual(w.details);
        }
      });
    }
    expect(events(oA!.stdout).map((e) => e.type)).toContain('job_completed');
  }, 120_000);
});

/** Any program run like CliProcess runs the CLI: output collected, killable, awaited. */
class CliProcessOf {
  stdout = '';
  readonly done: Promise<{ code: number | null; stdout: string }>;
  private readonly child: ChildProcess;
  constructor(exe: string, args: string[]) {
    this.child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) => resolve({ code, stdout: this.stdout }));
    });
  }
  kill(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}
