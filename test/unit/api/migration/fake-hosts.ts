/**
 * Two recording stand-ins for the connections a migration runs on: every
 * migration procedure is logged with its arguments and answered with a
 * canned reply (cookies A, B, C, D in libvirt's order), or with the error a
 * test plants. Enough of MigrationConnection/MigrationDomain for managed.ts.
 */
import type {
  MigrationConnection,
  MigrationDomain,
  MigrationProcedures,
} from '../../../../src/api/migration/contract.js';
import type { JobStats } from '../../../../src/api/migration/index.js';
import { type DomainState, domainState } from '../../../../src/api/names.js';
import type { RemoteNonnullDomain } from '../../../../src/generated/remote.js';

export const cookie = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: unknown): string => new TextDecoder().decode(b as Uint8Array);

export interface Call {
  readonly host: 'src' | 'dst';
  readonly proc: keyof MigrationProcedures;
  readonly args: Record<string, unknown>;
}

export const REF: RemoteNonnullDomain = { name: 'vm', uuid: new Uint8Array(16).fill(7), id: 1 };
export const BEGIN_XML = '<domain><name>vm</name></domain>';
export const URI_OUT = 'tcp://dst.example:49152';

const REPLIES: Record<keyof MigrationProcedures, () => unknown> = {
  domainMigrateBegin3Params: () => ({ xml: BEGIN_XML, cookieOut: cookie('A') }),
  domainMigratePrepare3Params: () => ({ cookieOut: cookie('B'), uriOut: URI_OUT }),
  domainMigratePerform3Params: () => ({ cookieOut: cookie('C') }),
  domainMigrateFinish3Params: () => ({ dom: { ...REF, id: 9 }, cookieOut: cookie('D') }),
  domainMigrateConfirm3Params: () => undefined,
  domainMigrateBegin3: () => ({ xml: BEGIN_XML, cookieOut: cookie('A') }),
  domainMigratePrepare3: () => ({ cookieOut: cookie('B'), uriOut: URI_OUT }),
  domainMigratePerform3: () => ({ cookieOut: cookie('C') }),
  domainMigrateFinish3: () => ({ dom: { ...REF, id: 9 }, cookieOut: cookie('D') }),
  domainMigrateConfirm3: () => undefined,
  // the orchestration never asks; the Migration does, to tell the same host twice apart
  connectGetCapabilities: () => ({ capabilities: '<capabilities/>' }),
};

export interface FakeOptions {
  /** Feature numbers each side supports (default: all). */
  readonly srcFeatures?: readonly number[];
  readonly dstFeatures?: readonly number[];
  /** The domain's state code on the source (1 running, 3 paused). */
  readonly stateCode?: number;
  /** Procedures that fail, with the error they throw. */
  readonly failing?: Partial<Record<keyof MigrationProcedures, Error>>;
}

const ALL_FEATURES = [3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15];

function fakeConnection(
  host: 'src' | 'dst',
  features: readonly number[],
  calls: Call[],
  failing: FakeOptions['failing'],
): MigrationConnection {
  const remote = Object.fromEntries(
    Object.entries(REPLIES).map(([proc, reply]) => [
      proc,
      async (args: Record<string, unknown>) => {
        calls.push({ host, proc: proc as keyof MigrationProcedures, args: { ...args } });
        const err = failing?.[proc as keyof MigrationProcedures];
        if (err) throw err;
        return reply();
      },
    ]),
  ) as unknown as MigrationProcedures;
  const unused = (what: string) => (): never => {
    throw new Error(`the orchestration does not use ${what}`);
  };
  return {
    remote,
    events: { domain: unused('events') } as unknown as MigrationConnection['events'],
    isOpen: true,
    onStateChange: () => () => {},
    whenOpen: async () => {},
    supportsFeature: async (f: number) => features.includes(f),
    lookupDomain: unused('lookupDomain'),
    handles: { Domain: unused('handles.Domain') },
  };
}

export function fakeHosts(opts: FakeOptions = {}): {
  src: MigrationConnection;
  dst: MigrationConnection;
  domain: MigrationDomain;
  calls: Call[];
} {
  const calls: Call[] = [];
  const src = fakeConnection('src', opts.srcFeatures ?? ALL_FEATURES, calls, opts.failing);
  const dst = fakeConnection('dst', opts.dstFeatures ?? ALL_FEATURES, calls, opts.failing);
  const state: DomainState = domainState(opts.stateCode ?? 1, 1);
  const none = async (): Promise<void> => {};
  const domain: MigrationDomain = {
    conn: src,
    name: REF.name,
    uuid: '07070707-0707-0707-0707-070707070707',
    id: REF.id,
    wire: REF,
    state: async () => state,
    jobStats: async () => ({ type: 0, raw: {} }) as unknown as JobStats,
    abortJob: none,
    abortJobFlags: none,
    migrateStartPostCopy: none,
    migrateSetMaxDowntime: none,
    migrateSetMaxSpeed: none,
  };
  return { src, dst, domain, calls };
}
