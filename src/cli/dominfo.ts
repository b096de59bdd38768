/**
 * `virtwire dominfo`: the lines virsh 9.0 prints, under the same conditions
 * (CPU time only when non-zero, security lines when the host has a security
 * model, a label when the domain has one, the daemon's messages about the
 * domain), and the same facts as JSON.
 */
import type { Connection, Domain } from '../api/handles.js';
import type { DomainState } from '../api/names.js';
import { isNoSupport } from '../rpc/errors.js';
import type { CliContext } from './context.js';
import { jsonPretty } from './json.js';
import { stateWords } from './state-words.js';

export interface SecurityInfo {
  readonly model: string;
  readonly doi: string;
  /** The domain's label, when the model gives it one. */
  readonly label?: { readonly label: string; readonly enforcing: boolean };
}

export interface DomInfo {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly osType: string | undefined;
  readonly state: DomainState;
  readonly vcpus: number;
  readonly cpuTimeNs: bigint;
  readonly maxMemKiB: bigint;
  readonly memoryKiB: bigint;
  /** undefined: the daemon could not say (virsh prints `unknown`). */
  readonly persistent: boolean | undefined;
  /** undefined: the daemon could not say (virsh leaves the line out). */
  readonly autostart: boolean | undefined;
  readonly managedSave: boolean | undefined;
  /** undefined: the host has no security model (or the driver does not support asking). */
  readonly security?: SecurityInfo | undefined;
  /** virDomainGetMessages: taint reasons and deprecation notes; empty when none (or not supported). */
  readonly messages?: readonly string[];
}

/** virDomainInfo's maxMem when the domain has no memory limit (virsh says `no limit`). */
const NO_LIMIT = 0xffff_ffffn;

/** virsh's `%-15s %s`: the label in a 15-column field and one space. */
const line = (label: string, value: string): string => `${label.padEnd(15)} ${value}`;

export function renderDomInfo(i: DomInfo): string {
  const out = [
    line('Id:', i.id >= 0 ? String(i.id) : '-'),
    line('Name:', i.name),
    line('UUID:', i.uuid),
  ];
  if (i.osType !== undefined) out.push(line('OS Type:', i.osType));
  out.push(line('State:', stateWords(i.state.state)), line('CPU(s):', String(i.vcpus)));
  if (i.cpuTimeNs !== 0n) out.push(line('CPU time:', `${(Number(i.cpuTimeNs) / 1e9).toFixed(1)}s`));
  out.push(
    line('Max memory:', i.maxMemKiB === NO_LIMIT ? 'no limit' : `${i.maxMemKiB} KiB`),
    line('Used memory:', `${i.memoryKiB} KiB`),
  );
  const yn = (b: boolean | undefined): string => (b === undefined ? 'unknown' : b ? 'yes' : 'no');
  out.push(line('Persistent:', yn(i.persistent)));
  if (i.autostart !== undefined) out.push(line('Autostart:', i.autostart ? 'enable' : 'disable'));
  out.push(line('Managed save:', yn(i.managedSave)));
  if (i.security) {
    out.push(line('Security model:', i.security.model), line('Security DOI:', i.security.doi));
    const l = i.security.label;
    if (l)
      out.push(line('Security label:', `${l.label} (${l.enforcing ? 'enforcing' : 'permissive'})`));
  }
  (i.messages ?? []).forEach((m, n) => {
    out.push(line(n === 0 ? 'Messages:' : '', m));
  });
  return out.join('\n');
}

/** A fact the daemon (or the simulator) may not offer: undefined instead of an error. */
const optional = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

/**
 * The host's security model and the domain's label, as virsh asks for them: an
 * empty model means none is shown; a driver that does not support the question
 * is no error (virsh resets it too), any other failure is.
 */
async function securityInfo(conn: Connection, d: Domain): Promise<SecurityInfo | undefined> {
  let model: { model: string; doi: string };
  try {
    model = await conn.nodeGetSecurityModel();
  } catch (err) {
    if (isNoSupport(err)) return undefined;
    throw err;
  }
  if (model.model === '') return undefined;
  const label = await optional(d.getSecurityLabel());
  return {
    model: model.model,
    doi: model.doi,
    ...(label && label.label !== ''
      ? { label: { label: label.label, enforcing: label.enforcing !== 0 } }
      : {}),
  };
}

export async function domInfo(conn: Connection, d: Domain): Promise<DomInfo> {
  const [info, state, osType, persistent, autostart, managedSave, security, messages] =
    await Promise.all([
      d.getInfo(),
      d.state(),
      optional(d.getOSType()),
      optional(d.isPersistent().then((r) => r !== 0)),
      optional(d.getAutostart().then((r) => r !== 0)),
      optional(d.hasManagedSaveImage().then((r) => r !== 0)),
      securityInfo(conn, d),
      // libvirt before 7.1 has no messages call: no messages then, as virsh shows none
      optional(d.getMessages(0)),
    ]);
  return {
    id: d.id,
    name: d.name,
    uuid: d.uuid,
    osType,
    state,
    vcpus: info.nrVirtCpu,
    cpuTimeNs: info.cpuTime,
    maxMemKiB: info.maxMem,
    memoryKiB: info.memory,
    persistent,
    autostart,
    managedSave,
    security,
    messages: messages ?? [],
  };
}

/** dominfo --json: the same facts; 64-bit figures as decimal strings, as the CLI's JSON does. */
export function domInfoJson(i: DomInfo): Record<string, unknown> {
  return { ...i, id: i.id >= 0 ? i.id : null, security: i.security ?? null };
}

export async function dominfoCommand(
  ctx: CliContext,
  name: string,
  opts: { json?: boolean },
): Promise<void> {
  const conn = await ctx.open();
  try {
    const i = await domInfo(conn, await conn.lookupDomain(name));
    ctx.out(opts.json ? jsonPretty(domInfoJson(i)) : renderDomInfo(i));
  } finally {
    await conn.close();
  }
}
