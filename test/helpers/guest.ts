import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AnyConnection } from '../../src/api/handles.js';
import { host } from './hosts.js';

/** Destroys and undefines, on each connection, every domain whose name starts with `prefix`. */
export async function removeDomains(
  conns: readonly AnyConnection[],
  prefix: string,
): Promise<void> {
  for (const c of conns) {
    for (const d of await c.listAllDomains()) {
      if (!d.name.startsWith(prefix)) continue;
      await d.destroy().catch(() => {});
      await d.undefine().catch(() => {});
    }
  }
}

/** The harness's guest XML (the memory-dirtying multiboot kernel) under another name. */
export function guestXml(name: string): string {
  const xml = readFileSync(host('VIRTWIRE_GUEST_XML'), 'utf8');
  return xml.replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`);
}

/** Reads the guest's memory counter (guest-physical 0x200000) through the QEMU monitor. */
export async function guestCounter(
  conn: {
    qemu: {
      domainMonitorCommand(a: {
        dom: unknown;
        cmd: string;
        flags: number;
      }): Promise<{ result: string }>;
    };
  },
  dom: unknown,
): Promise<number> {
  const { result } = await conn.qemu.domainMonitorCommand({
    dom,
    cmd: 'xp /1wx 0x200000',
    flags: 1,
  });
  const m = /:\s*0x([0-9a-f]+)/i.exec(result);
  if (!m) throw new Error(`unexpected monitor output: ${result}`);
  return Number.parseInt(m[1]!, 16);
}

/**
 * The harness's guest with a qcow2 disk `vda` at `disk` (see createQcow2): snapshots,
 * checkpoints, block information, statistics and block jobs need one.
 */
export function guestXmlWithDisk(name: string, disk: string): string {
  const device =
    `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>` +
    `<source file='${disk}'/><target dev='vda' bus='virtio'/></disk>`;
  return guestXml(name).replace('</devices>', `  ${device}\n  </devices>`);
}

/** A fresh qcow2 image for a test guest's disk, beside the harness's guest kernel. */
export function createQcow2(name: string, size = '16M'): string {
  const path = join(dirname(host('VIRTWIRE_GUEST_KERNEL')), `${name}.qcow2`);
  rmSync(path, { force: true });
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, size]);
  return path;
}
