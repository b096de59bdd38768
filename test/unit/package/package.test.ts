/**
 * The package as users get it: `npm pack`, installed into a scratch project,
 * used from both module systems in one process, type-checked under the
 * TypeScript settings the README names, and its CLI run from node_modules/.bin.
 *
 * It packs dist/ as `npm run build` left it; when dist/ is missing or older
 * than the sources, it builds first (CI builds before testing, so it does not).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { suiteTempDir, tempDir } from '../../helpers/tmp.js';

const root = join(import.meta.dirname, '../../..');
const execFileAsync = promisify(execFile);
const bin = (name: string) => join(root, 'node_modules/.bin', name);

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}
function builtAt(): number {
  try {
    return Math.min(
      ...['index.js', 'index.d.ts', 'cli.js', 'index.cjs'].map(
        (f) => statSync(join(root, 'dist', f)).mtimeMs,
      ),
    );
  } catch {
    return 0;
  }
}
const inputs = ['src', 'bin', 'package.json', 'tsup.config.ts', 'scripts/cjs-entries.js'];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

describe('the packed package', () => {
  const scratchDir = suiteTempDir('vw-package-');
  let scratch = '';
  let consumer = '';
  let files: string[] = [];

  beforeAll(() => {
    scratch = scratchDir();
    consumer = join(scratch, 'consumer');
    if (builtAt() < Math.max(...inputs.map((p) => newest(join(root, p))))) {
      process.stderr.write(
        'package test: dist/ is missing or older than the sources: npm run build\n',
      );
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore', timeout: 300_000 });
    }
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed[0]!.files.map((f) => f.path).sort();
    execFileSync('mkdir', ['-p', consumer]);
    writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
    const install = run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(scratch, packed[0]!.filename),
      ],
      consumer,
    );
    if (install.status !== 0)
      throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
    // the consumer's own dev dependency, as the README asks for it
    symlinkSync(join(root, 'node_modules/@types'), join(consumer, 'node_modules/@types'));
  }, 400_000);

  it('carries the ESM build, its CommonJS entry points, types and the CLI: no maps, no CJS build', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('bin/virtwire.js');
    for (const entry of ['index', 'protocol', 'testing'])
      for (const ext of ['.js', '.d.ts', '.cjs', '.d.cts'])
        expect(files).toContain(`dist/${entry}${ext}`);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    // the .cjs files are the three entry points, nothing built for CommonJS
    expect(files.filter((f) => f.endsWith('.cjs'))).toEqual([
      'dist/index.cjs',
      'dist/protocol.cjs',
      'dist/testing.cjs',
    ]);
    expect(files.filter((f) => !/^(dist|bin)\/|^(package\.json|README\.md)$/.test(f))).toEqual([]);
  });

  it('one class identity: import and require give the same classes, instanceof holds across them', () => {
    writeFileSync(
      join(consumer, 'both.mjs'),
      `import { createRequire } from 'node:module';
import * as esm from 'virtwire';
import * as esmTesting from 'virtwire/testing';
import * as esmProtocol from 'virtwire/protocol';
const require = createRequire(import.meta.url);
const cjs = require('virtwire');
const classes = Object.keys(esm).filter((k) => typeof esm[k] === 'function' && /^[A-Z]/.test(k));
const differ = Object.keys(esm).filter((k) => cjs[k] !== esm[k]);
const sameTesting = require('virtwire/testing').Simulator === esmTesting.Simulator;
const sameProtocol = require('virtwire/protocol').remote === esmProtocol.remote;
// a simulator started through require, called through import: the error it
// raises is an instance of the classes both module systems hand out
const sim = await require('virtwire/testing').Simulator.start({ domains: [] });
const conn = await esm.connect(sim.uri, { transport: sim.transport() });
let err;
try { await conn.lookupDomain('nope'); } catch (e) { err = e; }
await conn.close();
await sim.close();
console.log(JSON.stringify({
  classes: classes.length, differ, sameTesting, sameProtocol,
  remote: err instanceof cjs.RemoteError && err instanceof esm.RemoteError,
  base: err instanceof cjs.VirtwireError, noDomain: cjs.isNoDomain(err),
}));
`,
    );
    writeFileSync(
      join(consumer, 'first-require.cjs'),
      `const cjs = require('virtwire');
import('virtwire').then((esm) => {
  const e = new cjs.ConnectionClosedError('client', 'x');
  console.log(JSON.stringify({ same: esm.Connection === cjs.Connection, instance: e instanceof esm.VirtwireError }));
});
`,
    );
    const both = run('node', ['both.mjs'], consumer);
    expect(both.stderr).toBe('');
    expect(JSON.parse(both.stdout)).toEqual({
      classes: expect.any(Number),
      differ: [],
      sameTesting: true,
      sameProtocol: true,
      remote: true,
      base: true,
      noDomain: true,
    });
    expect(JSON.parse(both.stdout).classes).toBeGreaterThan(20);
    const cjsFirst = run('node', ['first-require.cjs'], consumer);
    expect(cjsFirst.stderr).toBe('');
    expect(JSON.parse(cjsFirst.stdout)).toEqual({ same: true, instance: true });
  }, 60_000);

  const esmSource = `import { connect, VirtwireError, type DomainEvent } from 'virtwire';
import { remote } from 'virtwire/protocol';
import { Simulator } from 'virtwire/testing';
const jobType = (e: DomainEvent<'block_job'>): number => e.jobType;
export const used = [connect, VirtwireError, remote.procedures.length, Simulator, jobType];
`;
  const cjsSource = `import { connect, VirtwireError } from 'virtwire';
import vw = require('virtwire');
export const same: boolean = VirtwireError === vw.VirtwireError && connect === vw.connect;
`;
  // the settings the README names; each program also checks dist/'s declarations (no skipLibCheck)
  const settings: Array<[string, Record<string, string>, Record<string, string>]> = [
    [
      'nodenext (an ES module and a CommonJS one)',
      { module: 'nodenext' },
      { 'esm.mts': esmSource, 'cjs.cts': cjsSource },
    ],
    [
      'bundler',
      { module: 'esnext', moduleResolution: 'bundler', target: 'es2022' },
      { 'bundler.mts': esmSource },
    ],
    [
      'node10 (typesVersions for the subpaths)',
      { module: 'commonjs', moduleResolution: 'node10', target: 'es2022' },
      {
        'node10.ts': esmSource
          .replace(', type DomainEvent', '')
          .replace(/const jobType[^\n]*\n/, '')
          .replace(', jobType', ''),
      },
    ],
  ];
  it('type-checks under every TypeScript setting the README names', async () => {
    const runs = settings.map(([label, options, sources], i) => {
      for (const [file, text] of Object.entries(sources)) writeFileSync(join(consumer, file), text);
      const config = join(consumer, `tsconfig.${i}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, types: ['node'], ...options },
          files: Object.keys(sources),
        }),
      );
      // in parallel: each program loads the whole of dist/'s declarations and @types/node
      return execFileAsync(bin('tsc'), ['-p', config], { cwd: consumer }).then(
        () => [label, 'ok'],
        (e: { stdout?: string; stderr?: string; message: string }) => [
          label,
          `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message,
        ],
      );
    });
    expect(Object.fromEntries(await Promise.all(runs))).toEqual(
      Object.fromEntries(settings.map(([label]) => [label, 'ok'])),
    );
  }, 180_000);

  it('runs its CLI from node_modules/.bin', () => {
    const version = run(join(consumer, 'node_modules/.bin/virtwire'), ['--version'], consumer);
    expect(version.stdout.trim()).toBe(
      JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: root, encoding: 'utf8' })),
    );
    const help = run(join(consumer, 'node_modules/.bin/virtwire'), ['--help'], consumer);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: virtwire \[options\] \[command\]/);
  });
});

describe('a fresh clone', () => {
  it('runs `virtwire` from the sources before any build (npx virtwire right after npm ci)', () => {
    // a clone's layout without dist/: bin/ and package.json copied, the rest linked
    const clone = tempDir('vw-clone-');
    execFileSync('mkdir', ['-p', join(clone, 'bin')]);
    execFileSync('cp', [join(root, 'bin/virtwire.js'), join(clone, 'bin/')]);
    execFileSync('cp', [join(root, 'package.json'), clone]);
    for (const d of ['src', 'node_modules']) symlinkSync(join(root, d), join(clone, d));
    const r = run('node', [join(clone, 'bin/virtwire.js'), '--version'], clone);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = run('node', [join(clone, 'bin/virtwire.js'), 'events', '--help'], clone);
    expect(help.stdout).toContain('Event types: lifecycle, reboot');
  }, 60_000);
});
