/**
 * examples/ as users get them: every code block of README.md and docs/ that
 * shows library use is an excerpt of a file in examples/, and every example
 * is type-checked and run from the packed tarball installed into a scratch
 * consumer project (no path into src/, no tsx: what `npm install virtwire`
 * gives). Used by scripts/examples.ts (the simulator runs, a CI step) and
 * test/e2e/examples.test.ts (the runs against the real hosts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Where an example can run: inside the runner's simulators, or only against real libvirt hosts. */
export type Target = 'simulator' | 'hosts';
const TARGETS: readonly Target[] = ['simulator', 'hosts'];

export interface Example {
  /** File name without `.ts`, e.g. `events-domain`. */
  readonly name: string;
  readonly path: string;
  readonly runsOn: ReadonlySet<Target>;
}

/** Languages whose blocks show library use (sh, json and text blocks are CLI sessions and output). */
const CODE_LANGS = new Set([
  'ts',
  'typescript',
  'js',
  'javascript',
  'mjs',
  'cjs',
  'tsx',
  'mts',
  'cts',
]);
/** The marker that names a block's example: `<!-- example: examples/NAME.ts -->` on the line before. */
const MARKER = /^<!--\s*example:\s*(examples\/[\w.-]+\.ts)\s*-->$/;
/** A block line that stands for lines of the example the page leaves out. */
const ELISION = '// ...';

/** Every examples/*.ts with its `// runs on: simulator, hosts` header; a missing or unknown target throws. */
export function listExamples(root = ROOT): Example[] {
  const dir = join(root, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      const m = /^\/\/ runs on: (.+)$/m.exec(readFileSync(path, 'utf8'));
      if (!m) throw new Error(`examples/${f}: no "// runs on: simulator|hosts" line`);
      const targets = m[1]!.split(',').map((t) => t.trim());
      for (const t of targets)
        if (!(TARGETS as readonly string[]).includes(t))
          throw new Error(`examples/${f}: unknown target "${t}" (targets: ${TARGETS.join(', ')})`);
      return { name: f.slice(0, -3), path, runsOn: new Set(targets as Target[]) };
    });
}

export interface DocBlock {
  /** Page path relative to the root, e.g. `docs/api.md`. */
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly lines: readonly string[];
  /** The example the marker before the block names, if any. */
  readonly example: string | null;
}

/** The pages whose code blocks must be examples: README.md and every docs/*.md. */
export function docPages(root = ROOT): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function codeBlocks(page: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = before >= 0 ? MARKER.exec(lines[before]!.trim()) : null;
    blocks.push({
      page,
      line: start + 1,
      lang: open[1]!.toLowerCase(),
      lines: lines.slice(start + 1, end),
      example: marker ? marker[1]! : null,
    });
    i = end;
  }
  return blocks;
}

/**
 * Whether `block` is an excerpt of `file`: its lines appear in the file in
 * order, each run between `// ...` lines contiguous. Trailing blanks do not count.
 */
export function isExcerpt(block: readonly string[], file: readonly string[]): boolean {
  const norm = (l: string) => l.trimEnd();
  const target = file.map(norm);
  const runs: string[][] = [[]];
  for (const l of block) {
    if (l.trim() === ELISION) runs.push([]);
    else runs[runs.length - 1]!.push(norm(l));
  }
  let from = 0;
  for (const run of runs) {
    if (run.length === 0) continue;
    let found = -1;
    for (let i = from; i + run.length <= target.length && found < 0; i++)
      if (run.every((l, k) => target[i + k] === l)) found = i;
    if (found < 0) return false;
    from = found + run.length;
  }
  return true;
}

/** What is wrong with the pages' code blocks: each problem names the page and line. */
export function checkDocs(root = ROOT): string[] {
  const problems: string[] = [];
  const examples = new Map(listExamples(root).map((e) => [`examples/${e.name}.ts`, e]));
  for (const page of docPages(root)) {
    for (const b of codeBlocks(page, readFileSync(join(root, page), 'utf8'))) {
      const where = `${page}:${b.line}`;
      if (!CODE_LANGS.has(b.lang)) {
        if (b.example) problems.push(`${where}: an example marker on a \`${b.lang}\` block`);
        continue;
      }
      if (!b.example) {
        problems.push(
          `${where}: a \`${b.lang}\` block with no example: put the code in examples/ and mark the block <!-- example: examples/NAME.ts -->`,
        );
        continue;
      }
      const ex = examples.get(b.example);
      if (!ex) {
        problems.push(`${where}: ${b.example} does not exist`);
        continue;
      }
      if (!isExcerpt(b.lines, readFileSync(ex.path, 'utf8').split('\n')))
        problems.push(
          `${where}: the block is not an excerpt of ${b.example} (its lines, in order; "${ELISION}" marks a cut)`,
        );
    }
  }
  return problems;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 300_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * Packs the package as `npm run build` left dist/ (the caller builds first),
 * installs the tarball into `dir/consumer` from the npm cache, copies
 * examples/ there and compiles them with the consumer's view of the types.
 * Returns the consumer's directory; the compiled examples are in its build/.
 */
export function prepareConsumer(dir: string, root = ROOT): string {
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', dir], root),
  ) as Array<{ filename: string }>;
  const consumer = join(dir, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  // --offline: the dependencies come from the npm cache that `npm ci` filled
  run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', join(dir, packed[0]!.filename)],
    consumer,
  );
  // ssh2, the optional peer dependency the libssh/libssh2 examples need (as the docs
  // say), is this repository's copy: Node resolves its own dependencies from there
  symlinkSync(join(root, 'node_modules/ssh2'), join(consumer, 'node_modules/ssh2'));
  // a consumer's dev dependency, as the README asks for it
  symlinkSync(join(root, 'node_modules/@types'), join(consumer, 'node_modules/@types'));
  cpSync(join(root, 'examples'), join(consumer, 'examples'), { recursive: true });
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        // as strict as this repository; target ES2022 so that `await using` is lowered for Node 20
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        module: 'nodenext',
        target: 'es2022',
        types: ['node'],
        rootDir: 'examples',
        outDir: 'build',
      },
      include: ['examples'],
    }),
  );
  run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], consumer);
  return consumer;
}

export interface ExampleRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a compiled example with `node`, in `cwd` (its scratch directory), with `env` added. */
export function runExample(
  consumer: string,
  name: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<ExampleRun> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('node', [join(consumer, 'build', `${name}.js`)], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}
