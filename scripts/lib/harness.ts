/**
 * One way to drive scripts/test-hosts.sh from TypeScript (tests, benches,
 * fixture capture): run a command, read its `env` output.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HARNESS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-hosts.sh');

export interface HarnessResult {
  readonly ok: boolean;
  readonly status: number;
  readonly stdout: string;
  /** stdout and stderr together, for error messages. */
  readonly out: string;
}

/**
 * Runs `test-hosts.sh CMD [ARGS...]` (a command and its arguments as an array,
 * e.g. `['up-gen', 'trixie']`). With `echo`, what it printed is copied to that
 * stream afterwards (benches pass stderr so their --json stdout stays clean).
 */
export function runHarness(
  cmd: string | readonly string[],
  opts: { echo?: NodeJS.WriteStream } = {},
): HarnessResult {
  const args = typeof cmd === 'string' ? [cmd] : cmd;
  const r = spawnSync('bash', [HARNESS, ...args], {
    cwd: join(dirname(HARNESS), '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? '';
  const out = `${stdout}${r.stderr ?? ''}`;
  if (opts.echo && out) opts.echo.write(out);
  return { ok: r.status === 0, status: r.status ?? 1, stdout, out };
}

/**
 * The NAME=value lines of `test-hosts.sh env` (or `env-sasl`). Values that are
 * not shell-safe come single-quoted, as a POSIX shell would read them.
 */
export function parseHarnessEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2)
      v = v.slice(1, -1).replaceAll("'\\''", "'");
    env[m[1]!] = v;
  }
  return env;
}

/** What a bench that drives the real test hosts gives {@link benchWithHosts}. */
export interface HostedBench {
  /** Progress lines (stderr when the bench prints --json on stdout). */
  log(line: string): void;
  /** Whether the hosts this bench needs are up, from `test-hosts.sh status`; default: all of them. */
  hostsUp?(status: HarnessResult): boolean;
  /** The bench itself, given `test-hosts.sh env`. */
  main(env: Record<string, string>): Promise<void>;
  /** Undoes what `main` set up (domains, pools, connections); runs once, whatever happened. */
  cleanup(): Promise<void>;
}

/**
 * Runs a bench against the test hosts: brings them up when they are not (and
 * then down again at the end, and only then), runs the bench's cleanup exactly
 * once, also on SIGINT/SIGTERM (exit 130), and on an error prints it and exits 1.
 */
export async function benchWithHosts(bench: HostedBench): Promise<void> {
  let startedHosts = false;
  let interrupted = false;
  let cleaning: Promise<void> | null = null;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      try {
        await bench.cleanup();
      } catch (err) {
        process.stderr.write(`warning: cleanup: ${(err as Error).message}\n`);
      }
      if (startedHosts) {
        bench.log('taking the hosts down (this bench started them)');
        runHarness('down', { echo: process.stderr });
      }
    })();
    return cleaning;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`\n${sig}: cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const status = runHarness('status');
    if (!(bench.hostsUp?.(status) ?? status.ok)) {
      bench.log('the hosts this bench needs are down: bash scripts/test-hosts.sh up');
      startedHosts = true;
      const up = runHarness('up', { echo: process.stderr });
      if (!up.ok) throw new Error(`test-hosts.sh up failed: ${up.out}`);
    }
    await bench.main(parseHarnessEnv(runHarness('env').stdout));
    await cleanup();
  } catch (err) {
    // after a signal, the calls cut short by cleanup() are no error of their own
    if (!interrupted) {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    }
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  }
}

/** The libvirt generations the harness can run, oldest first (hosts A/B are the first). */
export const GENERATION_KEYS = ['bookworm', 'trixie', 'backports'] as const;
export type GenerationKey = (typeof GENERATION_KEYS)[number];

/** One generation of test hosts, as `test-hosts.sh env` describes it. */
export interface Generation {
  readonly key: GenerationKey;
  /** libvirt's version in the daemon's package, e.g. `11.3.0`. */
  readonly libvirt: string;
  /** The same as connectGetLibVersion answers it: major * 1e6 + minor * 1e3 + micro. */
  readonly libVer: bigint;
  readonly qemu: string;
  /** Its two hosts' letters: the `X` of the VIRTWIRE_HOST_X_* variables. */
  readonly hosts: readonly [string, string];
  /** For test titles: `libvirt 11.3.0 / QEMU 10.0.13 (trixie)`. */
  readonly label: string;
}

/** libvirt's version number of a dotted version string (`11.3.0` -> 11003000n). */
export function libVerOf(version: string): bigint {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new Error(`not a libvirt version: "${version}"`);
  return BigInt(m[1]!) * 1_000_000n + BigInt(m[2]!) * 1000n + BigInt(m[3] ?? 0);
}

/** The generations whose hosts `env` lists (VIRTWIRE_GEN_<KEY>_HOSTS), oldest first. */
export function generationsFromEnv(env: Readonly<Record<string, string>>): Generation[] {
  const out: Generation[] = [];
  for (const key of GENERATION_KEYS) {
    const k = key.toUpperCase();
    const hosts = env[`VIRTWIRE_GEN_${k}_HOSTS`]?.split(/\s+/).filter(Boolean);
    if (!hosts) continue;
    const libvirt = env[`VIRTWIRE_GEN_${k}_LIBVIRT`] ?? '';
    const qemu = env[`VIRTWIRE_GEN_${k}_QEMU`] ?? '';
    if (hosts.length !== 2 || !libvirt)
      throw new Error(`test-hosts.sh env describes generation ${key} incompletely`);
    out.push({
      key,
      libvirt,
      libVer: libVerOf(libvirt),
      qemu,
      hosts: [hosts[0]!, hosts[1]!],
      label: `libvirt ${libvirt} / QEMU ${qemu} (${key})`,
    });
  }
  return out;
}

/**
 * Whether a request (VIRTWIRE_GENERATIONS: keys or libvirt versions such as
 * `9.0` or `12`, separated by commas or spaces; `all` or empty for every one)
 * names this generation.
 */
export function generationWanted(gen: Generation, request: string | undefined): boolean {
  const tokens = (request ?? '').split(/[\s,]+/).filter(Boolean);
  if (tokens.length === 0 || tokens.includes('all')) return true;
  return tokens.some((t) => t === gen.key || gen.libvirt === t || gen.libvirt.startsWith(`${t}.`));
}

/**
 * Which pair of hosts plays the bookworm generation (libvirt 9.0), from
 * VIRTWIRE_BOOKWORM_HOSTS: A and B (unset, the default), or the spare pair G
 * and H (gen-hosts.sh `spare`), which a run uses while another holds A and B.
 */
export function bookwormPair(value: string | undefined): 'AB' | 'GH' {
  const v = (value ?? '').replace(/[\s,]+/g, '').toUpperCase();
  if (v === '' || v === 'AB') return 'AB';
  if (v === 'GH') return 'GH';
  throw new Error(
    `VIRTWIRE_BOOKWORM_HOSTS=${value}: the bookworm generation runs on A,B (the default) or on G,H (the spare pair)`,
  );
}

/**
 * `env` as a run with VIRTWIRE_BOOKWORM_HOSTS=G,H sees it: the bookworm
 * generation's hosts are the spare pair, and A and B's variables are gone, so
 * that a test using A or B directly fails rather than race the run that holds them.
 */
export function bookwormOnSpare(env: Readonly<Record<string, string>>): Record<string, string> {
  const spare = env['VIRTWIRE_GEN_SPARE_HOSTS'];
  if (!spare)
    throw new Error(
      'VIRTWIRE_BOOKWORM_HOSTS=G,H, but test-hosts.sh env lists no spare hosts (up-gen spare)',
    );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (!/^VIRTWIRE_HOST_[AB]_/.test(k)) out[k] = v;
  out['VIRTWIRE_GEN_BOOKWORM_HOSTS'] = spare;
  return out;
}
