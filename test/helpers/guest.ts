import { readFileSync } from 'node:fs';
import type { Connection } from '../../src/api/handles.js';
import { host } from './hosts.js';

/** Destroys and undefines, on each connection, every domain whose name starts with `prefix`. */
export async function removeDomains(conns: readonly Connection[], prefix: string): Promise<void> {
  for (const c of conns) {
    for (const d of await c.listDomains()) {
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
