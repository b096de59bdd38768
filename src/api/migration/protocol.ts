/**
 * The migration protocol variants behind one interface: v3 with extensible
 * parameters (libvirt >= 1.1, procedures 302-307) and v3 without (213-218).
 * The orchestration (managed.ts) is written once against `MigrationProtocol`;
 * only these two classes know which procedure and which argument shape a
 * phase takes.
 */
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../generated/remote.js';
import { Feature } from '../features.js';
import { getString, replaceString } from '../typed-params.js';
import type { MigrationConnection, MigrationProcedures } from './contract.js';
import { MigrationError } from './errors.js';
import type { MigrationPlan } from './plan.js';

export type ProtocolName = 'v3-params' | 'v3';

/** The five calls of libvirt's migration, each returning what the next one needs. */
export interface MigrationProtocol {
  readonly name: ProtocolName;
  /** Source: the domain XML to send and cookie A. */
  begin(flags: number): Promise<{ xml: string; cookie: Uint8Array }>;
  /** Destination: gets ready to receive; keeps the URI it chose. Returns cookie B. */
  prepare(xml: string, cookie: Uint8Array, flags: number): Promise<Uint8Array>;
  /** Source: sends the domain (peer-to-peer: runs the whole migration itself). Returns cookie C. */
  perform(cookie: Uint8Array, flags: number): Promise<Uint8Array>;
  /** Destination: starts (or, cancelled, discards) the domain; null when it has none. */
  finish(
    cookie: Uint8Array,
    flags: number,
    cancelled: boolean,
  ): Promise<{ dom: RemoteNonnullDomain | null; cookie: Uint8Array }>;
  /** Source: ends its side, killing the domain there or (cancelled) resuming it. */
  confirm(cookie: Uint8Array, flags: number, cancelled: boolean): Promise<void>;
}

/** What a protocol instance talks to and carries. */
export interface ProtocolEnds {
  readonly source: MigrationProcedures;
  /** Null for peer-to-peer and direct migration, which never call the destination. */
  readonly destination: MigrationProcedures | null;
  readonly dom: RemoteNonnullDomain;
  /** The domain's name on the source: its name on the destination unless destination_name says otherwise. */
  readonly domainName: string;
  readonly params: readonly RemoteTypedParam[];
  /** Peer-to-peer: the destination daemon's URI, which the source daemon connects to itself. */
  readonly dconnuri: string | null;
}

export function openProtocol(name: ProtocolName, ends: ProtocolEnds): MigrationProtocol {
  return name === 'v3-params' ? new V3WithParams(ends) : new V3(ends);
}

/** The parameters the v3 procedures without a parameter list have an argument for. */
const V3_CARRIES = new Set(['migrate_uri', 'destination_name', 'destination_xml', 'bandwidth']);

/**
 * The variant the daemons speak, as libvirt chooses it: with parameters when
 * every host supports them (unless the plan asks for `v3`), else v3, whose
 * arguments must be able to carry the plan's parameters. `requireV3`: check
 * that every host supports v3 (managed migration; peer-to-peer and direct
 * migration check their own feature instead).
 */
export async function pickProtocol(
  hosts: readonly MigrationConnection[],
  plan: MigrationPlan,
  requireV3: boolean,
): Promise<ProtocolName> {
  const params = await Promise.all(hosts.map((h) => h.supportsFeature(Feature.MIGRATION_PARAMS)));
  if (params.every(Boolean) && plan.protocol !== 'v3') return 'v3-params';
  const extra = plan.params.filter((p) => !V3_CARRIES.has(p.field)).map((p) => p.field);
  if (extra.length) {
    throw new MigrationError(
      'setup',
      `migration v3 without parameters cannot carry ${[...new Set(extra)].join(', ')}`,
    );
  }
  if (requireV3) {
    const v3 = await Promise.all(hosts.map((h) => h.supportsFeature(Feature.MIGRATION_V3)));
    if (!v3.every(Boolean))
      throw new MigrationError(
        'setup',
        'the daemons support neither migration v3 with parameters nor v3',
      );
  }
  return 'v3';
}

function needDestination(ends: ProtocolEnds): MigrationProcedures {
  if (!ends.destination) throw new TypeError('this phase runs on a destination connection');
  return ends.destination;
}

/** v3 with parameters: the parameter list travels with every call and gathers what each learns. */
class V3WithParams implements MigrationProtocol {
  readonly name = 'v3-params';
  private params: RemoteTypedParam[];

  constructor(private readonly ends: ProtocolEnds) {
    this.params = [...ends.params];
  }

  async begin(flags: number): Promise<{ xml: string; cookie: Uint8Array }> {
    const r = await this.ends.source.domainMigrateBegin3Params({
      dom: this.ends.dom,
      params: this.params,
      flags,
    });
    return { xml: r.xml, cookie: r.cookieOut };
  }

  async prepare(xml: string, cookie: Uint8Array, flags: number): Promise<Uint8Array> {
    this.params = replaceString(this.params, 'destination_xml', xml);
    const r = await needDestination(this.ends).domainMigratePrepare3Params({
      params: this.params,
      cookieIn: cookie,
      flags,
    });
    if (r.uriOut !== null) this.params = replaceString(this.params, 'migrate_uri', r.uriOut);
    return r.cookieOut;
  }

  async perform(cookie: Uint8Array, flags: number): Promise<Uint8Array> {
    const r = await this.ends.source.domainMigratePerform3Params({
      dom: this.ends.dom,
      dconnuri: this.ends.dconnuri,
      params: this.params,
      cookieIn: cookie,
      flags,
    });
    return r.cookieOut;
  }

  async finish(
    cookie: Uint8Array,
    flags: number,
    cancelled: boolean,
  ): Promise<{ dom: RemoteNonnullDomain | null; cookie: Uint8Array }> {
    if (getString(this.params, 'destination_name') === undefined) {
      this.params = replaceString(this.params, 'destination_name', this.ends.domainName);
    }
    const r = await needDestination(this.ends).domainMigrateFinish3Params({
      params: this.params,
      cookieIn: cookie,
      flags,
      cancelled: cancelled ? 1 : 0,
    });
    return { dom: r.dom, cookie: r.cookieOut };
  }

  async confirm(cookie: Uint8Array, flags: number, cancelled: boolean): Promise<void> {
    await this.ends.source.domainMigrateConfirm3Params({
      dom: this.ends.dom,
      params: this.params,
      cookieIn: cookie,
      flags,
      cancelled: cancelled ? 1 : 0,
    });
  }
}

/** v3 without parameters: the four values it can carry are arguments of their own. */
class V3 implements MigrationProtocol {
  readonly name = 'v3';
  /** Where the stream goes: migrate_uri, then what Prepare chose. */
  private uri: string | null;
  /** The XML to start from; it goes with the first call on the source (Begin, or Perform alone). */
  private xmlin: string | null;
  private readonly dname: string | null;
  private readonly bandwidth: bigint;

  constructor(private readonly ends: ProtocolEnds) {
    const p = ends.params;
    this.uri = getString(p, 'migrate_uri') ?? null;
    this.xmlin = getString(p, 'destination_xml') ?? null;
    this.dname = getString(p, 'destination_name') ?? null;
    const bw = p.find((x) => x.field === 'bandwidth')?.value;
    this.bandwidth = bw?.type === 4 ? bw.ul : 0n;
  }

  private takeXmlin(): string | null {
    const x = this.xmlin;
    this.xmlin = null;
    return x;
  }

  async begin(flags: number): Promise<{ xml: string; cookie: Uint8Array }> {
    const r = await this.ends.source.domainMigrateBegin3({
      dom: this.ends.dom,
      xmlin: this.takeXmlin(),
      flags: BigInt(flags),
      dname: this.dname,
      resource: this.bandwidth,
    });
    return { xml: r.xml, cookie: r.cookieOut };
  }

  async prepare(xml: string, cookie: Uint8Array, flags: number): Promise<Uint8Array> {
    const r = await needDestination(this.ends).domainMigratePrepare3({
      cookieIn: cookie,
      uriIn: this.uri,
      flags: BigInt(flags),
      dname: this.dname,
      resource: this.bandwidth,
      domXml: xml,
    });
    if (r.uriOut !== null) this.uri = r.uriOut;
    return r.cookieOut;
  }

  async perform(cookie: Uint8Array, flags: number): Promise<Uint8Array> {
    const r = await this.ends.source.domainMigratePerform3({
      dom: this.ends.dom,
      xmlin: this.takeXmlin(),
      cookieIn: cookie,
      dconnuri: this.ends.dconnuri,
      uri: this.uri,
      flags: BigInt(flags),
      dname: this.dname,
      resource: this.bandwidth,
    });
    return r.cookieOut;
  }

  async finish(
    cookie: Uint8Array,
    flags: number,
    cancelled: boolean,
  ): Promise<{ dom: RemoteNonnullDomain | null; cookie: Uint8Array }> {
    const r = await needDestination(this.ends).domainMigrateFinish3({
      dname: this.dname ?? this.ends.domainName,
      cookieIn: cookie,
      dconnuri: null,
      uri: this.uri,
      flags: BigInt(flags),
      cancelled: cancelled ? 1 : 0,
    });
    return { dom: r.dom, cookie: r.cookieOut };
  }

  async confirm(cookie: Uint8Array, flags: number, cancelled: boolean): Promise<void> {
    await this.ends.source.domainMigrateConfirm3({
      dom: this.ends.dom,
      cookieIn: cookie,
      flags: BigInt(flags),
      cancelled: cancelled ? 1 : 0,
    });
  }
}
