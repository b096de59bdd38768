/**
 * The examples of README.md and docs/ that need real libvirt hosts (streams,
 * SASL, TLS, SSH, the admin socket, QEMU's monitor, migration between two
 * hosts), and those that also run on the simulator, run here against hosts
 * A and B: packed once, installed into a scratch consumer project, each run
 * with `node` on its compiled file and the hosts' addresses in VIRTWIRE_*
 * variables. Every example gets a fresh running guest on host A (none on B).
 * `npm run examples` runs the simulator ones in CI from the same tarball.
 */
// generations: 9.0 only, because the examples document one deployment (hosts A and B with the
// SASL, TLS and SSH listeners of 9.0); the API they use is proven on every generation elsewhere.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExamples, prepareConsumer, ROOT, runExample } from '../../scripts/lib/examples.js';
import { runHarness as harness, parseHarnessEnv } from '../../scripts/lib/harness.js';
import type { RemoteNonnullStoragePool } from '../../src/generated/remote.js';
import { type Connection, connect } from '../../src/index.js';
import { removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';
import { suiteTempDir } from '../helpers/tmp.js';

const PREFIX = `vw-examples-${process.pid}`;
const GUEST = `${PREFIX}-vm`;
const POOL = `${PREFIX}-pool`;

/** The harness's guest with a display (for the screenshot) under `name`. */
function guestXml(name: string): string {
  return readFileSync(host('VIRTWIRE_GUEST_XML'), 'utf8')
    .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
    .replace(
      '</devices>',
      "<graphics type='vnc' port='-1' listen='127.0.0.1'/><video><model type='vga'/></video></devices>",
    );
}

const hostExamples = listExamples().filter((e) => e.runsOn.has('hosts'));

describe('the examples against the real hosts, from the packed tarball', () => {
  const scratchDir = suiteTempDir('vw-examples-hosts-');
  let consumer = '';
  let a: Connection;
  let b: Connection;
  let pool: RemoteNonnullStoragePool | undefined;
  let volume = '';
  let sasl: Record<string, string> = {};
  let saslStartedHere = false;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/index.js')))
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 600_000 });
    consumer = prepareConsumer(scratchDir());
    a = await connect(host('VIRTWIRE_HOST_A_TCP'));
    b = await connect(host('VIRTWIRE_HOST_B_TCP'));
    await removeDomains([a, b], PREFIX);

    const poolDir = join(scratchDir(), 'pool');
    mkdirSync(poolDir);
    const xml = `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`;
    pool = (await a.remote.storagePoolCreateXml({ xml, flags: 0 })).pool;
    const vol = await a.remote.storageVolCreateXml({
      pool,
      xml: `<volume><name>disk.raw</name><capacity unit='MiB'>4</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
      flags: 0,
    });
    volume = (await a.remote.storageVolGetPath({ vol: vol.vol })).name;

    const up = harness('up-sasl');
    if (!up.ok) throw new Error(`could not start the SASL test host:\n${up.out}`);
    saslStartedHere = !/already up/.test(up.out);
    sasl = parseHarnessEnv(harness('env-sasl').stdout);
  }, 900_000);

  afterAll(async () => {
    if (a?.isOpen && b?.isOpen) await removeDomains([a, b], PREFIX);
    if (pool) await a.remote.storagePoolDestroy({ pool }).catch(() => {});
    await a?.close();
    await b?.close();
    if (saslStartedHere) harness('down-sasl');
  }, 120_000);

  it.each(hostExamples.map((e) => e.name))(
    '%s',
    async (name) => {
      // a fresh running guest on A, none on B: examples suspend, destroy and migrate it
      await removeDomains([a, b], PREFIX);
      await (await a.domainDefineXML(guestXml(GUEST))).create();
      const cwd = join(scratchDir(), name);
      mkdirSync(cwd);
      const defineXml = join(cwd, 'guest.xml');
      writeFileSync(defineXml, guestXml(`${PREFIX}-defined`));

      const ssh = `${host('VIRTWIRE_SSH_ADDR')}`;
      const knownHosts = `known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}`;
      const r = await runExample(
        consumer,
        name,
        cwd,
        {
          HOME: cwd, // no agent, no keys or auth.conf of the machine's user
          VIRTWIRE_URI: host('VIRTWIRE_HOST_A_TCP'),
          VIRTWIRE_DEST_URI: host('VIRTWIRE_HOST_B_TCP'),
          VIRTWIRE_DOMAIN: GUEST,
          VIRTWIRE_GUEST_XML: defineXml,
          VIRTWIRE_ADMIN_SOCKET: host('VIRTWIRE_HOST_A_ADMIN_SOCKET'),
          VIRTWIRE_TEST_URI: host('VIRTWIRE_HOST_A_TEST'),
          VIRTWIRE_VOLUME: volume,
          VIRTWIRE_TLS_URI: host('VIRTWIRE_HOST_A_TLS'),
          VIRTWIRE_SASL_URI: sasl['VIRTWIRE_SASL_TCP']!,
          VIRTWIRE_SASL_USER: sasl['VIRTWIRE_SASL_USER']!,
          VIRTWIRE_SASL_PASSWORD: sasl['VIRTWIRE_SASL_PASSWORD']!,
          VIRTWIRE_SSH_PASSWORD_URI: `qemu+libssh2://root@${ssh}:${host('VIRTWIRE_SSH_PASSWORD_PORT')}/system?sshauth=password&${knownHosts}`,
          VIRTWIRE_SSH_PASSWORD: host('VIRTWIRE_SSH_PASSWORD'),
          VIRTWIRE_SSH_KEY_URI: `qemu+libssh://root@${ssh}:${host('VIRTWIRE_SSH_PORT')}/system?keyfile=${host('VIRTWIRE_SSH_KEY_ENCRYPTED')}&sshauth=privkey&${knownHosts}`,
          VIRTWIRE_SSH_KEY_PASSPHRASE: host('VIRTWIRE_SSH_KEY_PASSPHRASE'),
        },
        240_000,
      );
      rmSync(cwd, { recursive: true, force: true });
      expect({ status: r.status, stderr: r.stderr }, r.stdout).toEqual({ status: 0, stderr: '' });
    },
    300_000,
  );
});
