/**
 * A program in a real pseudo-terminal, driven and read as a person would
 * see it: tmux runs it in a detached session of a given size; the test
 * reads the screen (capture-pane), presses keys (send-keys C-c), sends
 * signals, and after the program ends reads its exit status and whether
 * the cursor was left visible (remain-on-exit keeps the pane).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmuxOptions {
  readonly cols: number;
  readonly rows?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class TmuxSession {
  /** Every screen seen by waitFor/capture, for a failing test to show. */
  readonly frames: string[] = [];
  private readonly socket = `vw-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'vw-tmux-'));
  private readonly statusFile = join(this.dir, 'status');
  private readonly rawFile = join(this.dir, 'raw');

  constructor(argv: readonly string[], opts: TmuxOptions) {
    const env = Object.entries({ TERM: 'xterm-256color', ...opts.env })
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    // A shell waits for the program and writes its exit status to a file: tmux 3.3 sometimes
    // marks a pane dead before it has the status. The shell ignores Ctrl-C (the program, in the
    // same foreground group, gets it); signals are sent to the program itself (see pid).
    const cmd =
      `cd ${quote(opts.cwd ?? process.cwd())} && trap '' INT && ` +
      `env ${env} ${argv.map(quote).join(' ')}; echo $? > ${quote(this.statusFile)}`;
    this.tmux([
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-x',
      String(opts.cols),
      '-y',
      String(opts.rows ?? 40),
      cmd,
    ]);
    this.tmux(['set-option', '-g', 'remain-on-exit', 'on']);
    this.tmux(['set-option', '-g', 'history-limit', '5000']);
    // every byte the program writes, escape codes included (for the cursor's state)
    this.tmux(['pipe-pane', '-t', '0', '-o', `cat >> ${quote(this.rawFile)}`]);
  }

  /** Everything the program wrote to the terminal so far, escape codes and all. */
  raw(): string {
    return existsSync(this.rawFile) ? readFileSync(this.rawFile, 'latin1') : '';
  }

  private tmux(args: readonly string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  private format(f: string): string {
    return this.tmux(['display-message', '-p', '-t', '0', f]).trim();
  }

  /** The visible screen, as text (trailing blanks trimmed). */
  capture(): string {
    const s = this.tmux(['capture-pane', '-p', '-t', '0'])
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trimEnd();
    if (this.frames.at(-1) !== s) this.frames.push(s);
    return s;
  }

  /**
   * The whole scrollback and screen; `joined`, lines the terminal wrapped
   * are joined back into the lines the program wrote.
   */
  history(joined = false): string {
    return this.tmux(['capture-pane', '-p', ...(joined ? ['-J'] : []), '-S', '-', '-t', '0'])
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trimEnd();
  }

  /** Polls the screen until `test` holds; rejects after `ms`, showing the last screen. */
  async waitFor(test: (screen: string) => boolean, what: string, ms = 60_000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const s = this.capture();
      if (test(s)) return s;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private watcher: NodeJS.Timeout | null = null;

  /** Captures the screen every `ms` into `frames` until the program ends (or close()). */
  watch(ms = 150): this {
    this.watcher ??= setInterval(() => {
      try {
        this.capture();
      } catch {
        // the server is going away
      }
    }, ms);
    return this;
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', '0', ...keys]);
  }

  /** The program's pid (the child of the pane's shell). */
  get pid(): number {
    const shell = this.format('#{pane_pid}');
    return Number(execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim().split('\n')[0]);
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  get ended(): boolean {
    return existsSync(this.statusFile) && readFileSync(this.statusFile, 'utf8').endsWith('\n');
  }

  /** Waits for the program to end; its exit status (128 + n for a signal it did not catch). */
  async exit(ms = 120_000): Promise<number> {
    const until = Date.now() + ms;
    while (!this.ended) {
      if (Date.now() > until)
        throw new Error(`the program did not end; the screen:\n${this.capture()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.capture();
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
    return Number(readFileSync(this.statusFile, 'utf8').trim());
  }

  /**
   * Whether the program left the cursor visible: the last cursor escape it
   * wrote shows it (or it never hid it). Read from the raw output, since tmux's
   * own cursor flag of a dead pane depends on when its "Pane is dead" line lands.
   */
  get cursorVisible(): boolean {
    const raw = this.raw();
    return raw.lastIndexOf('\x1b[?25l') <= raw.lastIndexOf('\x1b[?25h');
  }

  /** Whether the program hid the cursor at some point (the live line does). */
  get cursorWasHidden(): boolean {
    return this.raw().includes('\x1b[?25l');
  }

  get columns(): number {
    return Number(this.format('#{pane_width}'));
  }

  close(): void {
    if (this.watcher) clearInterval(this.watcher);
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The live progress lines in `frames` (a bar and a percent, or a percent first on a narrow screen), in order. */
export function liveLines(frames: readonly string[]): string[] {
  const seen: string[] = [];
  for (const f of frames) {
    for (const l of f.split('\n')) {
      if (/^(\[[#.]+\] +)?\s*\d+\.\d% {2}(pre|post)-copy/.test(l) && seen.at(-1) !== l)
        seen.push(l);
    }
  }
  return seen;
}
