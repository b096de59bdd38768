/**
 * libvirt's own C clients as test drivers: virsh (/usr/bin/virsh) and
 * python3-libvirt (through /usr/bin/python3, the interpreter Debian's
 * package is installed for), run against any pair of hosts by URI, real
 * daemons or simulators. Their output is normalised so that runs on both
 * kinds of host can be compared: UUIDs, ids, timings and counts that vary
 * from run to run are taken out, everything else is kept.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VIRSH = '/usr/bin/virsh';
export const PYTHON = '/usr/bin/python3';
const CLIENTS = join(dirname(fileURLToPath(import.meta.url)), 'clients');

/** Whether libvirt's clients are installed (scripts/test-hosts.sh install puts them there). */
export function haveClients(): boolean {
  return existsSync(VIRSH) && existsSync(PYTHON);
}

export interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function collect(child: ChildProcess, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${child.spawnargs.join(' ')} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Runs `virsh -c URI ARGS...` (no shell); LANG=C so messages are libvirt's English ones. */
export function virsh(uri: string, args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  return collect(
    spawn(VIRSH, ['-c', uri, ...args], { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } }),
    timeoutMs,
  );
}

/** Starts virsh in the background (a migration to act on, an event watcher); `stop` ends it by its PID. */
export function virshBackground(
  uri: string,
  args: readonly string[],
): { readonly done: Promise<Run>; stop(): void } {
  const child = spawn(VIRSH, ['-c', uri, ...args], {
    env: { ...process.env, LANG: 'C', LC_ALL: 'C' },
  });
  const done = collect(child, 600_000);
  return {
    done,
    stop: () => {
      child.kill('SIGINT');
      // virsh ends `event --loop` on SIGINT; if it does not, it goes anyway
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      done.finally(() => clearTimeout(hard)).catch(() => {});
    },
  };
}

/** Runs one of the Python clients under test/helpers/clients and parses the JSON it prints. */
export async function python<T>(
  script: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<T> {
  const r = await collect(
    spawn(PYTHON, [join(CLIENTS, script), ...args], {
      env: { ...process.env, LANG: 'C', LC_ALL: 'C' },
    }),
    timeoutMs,
  );
  const last = r.out.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || last === '') {
    throw new Error(`${script} exited ${r.code}: ${r.err.trim() || r.out.trim()}`);
  }
  return JSON.parse(last) as T;
}

/** A scratch directory for the XML files virsh and Python read. */
export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'vw-clients-'));
}

/** Writes a domain definition to a file for `virsh define` / the Python clients; returns its path. */
export function writeXml(dir: string, name: string, xml: string): string {
  const path = join(dir, `${name}.xml`);
  writeFileSync(path, xml);
  return path;
}

/** A virsh result with run-to-run noise (UUIDs, ids, CPU time, progress steps) taken out. */
export function norm(r: Run): { code: number | null; out: string; err: string } {
  const clean = (s: string) =>
    s
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replace(/^(Id:\s+)\d+$/gm, '$1<id>')
      .replace(/^CPU time:.*\n/gm, '')
      .replace(/^(Security model|Security DOI|Messages):.*\n/gm, '')
      .replace(/Migration: \[[ 0-9]+%\]/g, '')
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trim();
  return { code: r.code, out: clean(r.out), err: clean(r.err) };
}

/** The percentages virsh --verbose printed (on stderr), in order. */
export function progress(r: Run): number[] {
  return [...`${r.out}${r.err}`.matchAll(/Migration: \[\s*(-?\d+)\s*%\]/g)].map((m) =>
    Number(m[1]),
  );
}

/** `virsh dominfo` as key -> value (without the lines that differ between hosts by nature). */
export function dominfo(r: Run): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of norm(r).out.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** The field names `virsh domjobinfo` printed. */
export function jobinfoKeys(r: Run): string[] {
  return [...r.out.matchAll(/^([A-Za-z][A-Za-z ]*[a-z]):/gm)].map((m) => m[1] ?? '');
}

/**
 * What `virsh event --all --loop` printed, per domain, one line per event:
 * `lifecycle Started Booted`, consecutive `migration-iteration` events as one,
 * `job-completed` with its field names.
 */
export function parseEvents(text: string): Map<string, string[]> {
  const byDomain = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = /^(?:\S+ \S+: )?event '([^']+)' for domain '([^']+)':\s*(.*)$/.exec(line);
    if (m) {
      const [, kind = '', dom = '', rest = ''] = m;
      const list = byDomain.get(dom) ?? [];
      byDomain.set(dom, list);
      current = null;
      if (kind === 'migration-iteration') {
        if (list.at(-1) !== 'migration-iteration') list.push('migration-iteration');
      } else if (kind === 'job-completed') {
        list.push('job-completed');
        current = list;
      } else list.push(`${kind} ${rest.trim()}`);
      continue;
    }
    const field = /^\t([a-z_.]+): /.exec(line);
    if (field && current) current[current.length - 1] += ` ${field[1]}`;
  }
  return byDomain;
}

/** The guest both kinds of host run: the harness's memory-dirtying guest, described to the simulator too. */
export function guestXml(base: string, name: string): string {
  // the simulator reads its dirty model from <metadata>; libvirtd keeps foreign metadata as it is.
  // The real guest rewrites a 46 MiB working set without pause.
  const metadata =
    "<metadata><virtwire:sim xmlns:virtwire='urn:virtwire:simulator:1' dirtyRateMiBps='5000' dirtySetMiB='46'/></metadata>";
  return base
    .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
    .replace(/<\/name>/, `</name>\n  ${metadata}`);
}
