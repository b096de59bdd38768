import { Feature } from '../api/features.js';
import {
  VirDomainDestroyFlagsValues,
  VirDomainMigrateMaxSpeedFlags,
  VirDomainUndefineFlagsValues,
  VirDomainXMLFlags,
  VirErrorDomain,
  VirErrorNumber,
} from '../generated/api.js';
import {
  RemoteAuthType,
  type RemoteMethods,
  type RemoteTypedParam,
  remoteProgram,
} from '../generated/remote.js';
import { parseUri } from '../uri/index.js';
import { readonlyAllowed, readonlyDenied } from './calls.js';
import { checkFlags, internalError, invalidArg, libvirtError, SimError } from './errors.js';
import type { SimDomain } from './host.js';
import { registerInventory } from './inventory.js';
import type { HostMigrations } from './migration/index.js';
import { DEFAULT_PROFILE, SIM_PROFILES, type SimProfile } from './profile.js';
import type { Fn, Handler, SimConnection } from './server.js';

const MAX_LIST = 16384;

const str = (field: string, s: string): RemoteTypedParam => ({ field, value: { type: 7, s } });
const ull = (field: string, ul: bigint): RemoteTypedParam => ({ field, value: { type: 4, ul } });

/** The parameters a v3 call without them would have carried. */
function v3Params(p: {
  xml?: string | null;
  dname?: string | null;
  uri?: string | null;
  resource?: bigint;
}): RemoteTypedParam[] {
  const out: RemoteTypedParam[] = [];
  if (p.xml) out.push(str('destination_xml', p.xml));
  if (p.dname) out.push(str('destination_name', p.dname));
  if (p.uri) out.push(str('migrate_uri', p.uri));
  if (p.resource) out.push(ull('bandwidth', p.resource));
  return out;
}

const flags32 = (f: bigint): number => {
  if (f < 0n || f > 0xffffffffn) throw invalidArg(`flags 0x${f.toString(16)} out of range`);
  return Number(f);
};

/**
 * The remote program as the simulated daemon serves it, by method name, with
 * the host's migrations, answering as libvirtd of `profile`. Everything not
 * listed answers as libvirtd without a driver for it (calls.ts `unserved`).
 */
export function remoteHandlers(
  migration: HostMigrations,
  profile: SimProfile = SIM_PROFILES[DEFAULT_PROFILE],
): Map<string, Handler> {
  const m = new Map<string, Handler>();
  const on = <K extends keyof RemoteMethods>(name: K, fn: Fn<K>): void => {
    const proc = remoteProgram.procedures.find((p) => p.method === name);
    if (!proc) throw new Error(`no remote procedure ${name}`);
    const ro = readonlyAllowed(proc.acl) || name.startsWith('domainMigrateGet');
    m.set(name, (args, c) => {
      if (c.readonly && !ro) throw readonlyDenied(remoteProgram, proc);
      return fn(args as RemoteMethods[K][0], c);
    });
  };
  const dom = (c: SimConnection, d: { name: string; uuid: Uint8Array; id: number }): SimDomain =>
    c.host.forArg(d);

  // Connection
  on('authList', () => ({ types: [RemoteAuthType.REMOTE_AUTH_NONE] }));
  on('connectSupportsFeature', ({ feature }, c) => {
    if (feature === Feature.PROGRAM_KEEPALIVE) c.startKeepalive();
    return { supported: profile.features.has(feature) ? 1 : 0 };
  });
  on('connectOpen', ({ name, flags }, c) => {
    checkFlags(flags, 1 /* VIR_CONNECT_RO */, 'remoteDispatchConnectOpen');
    if (c.openName !== null) throw internalError('connection already open', 'VIR_FROM_RPC');
    const wanted = name ?? '';
    if (wanted !== '') {
      let driver: string;
      try {
        driver = parseUri(wanted).driver;
      } catch {
        driver = '';
      }
      if (driver !== 'qemu') {
        throw new SimError(
          VirErrorNumber.VIR_ERR_NO_CONNECT,
          VirErrorDomain.VIR_FROM_NONE,
          `no connection driver available for ${wanted}`,
          'no connection driver available for %s',
          wanted,
        );
      }
    }
    c.openName = wanted || 'qemu:///system';
    c.opened(wanted);
    c.readonly = (flags & 1) !== 0;
  });
  on('connectClose', (_a, c) => {
    c.openName = null;
  });
  on('connectGetUri', (_a, c) => ({ uri: c.openName ?? 'qemu:///system' }));
  on('connectGetHostname', (_a, c) => ({ hostname: c.host.hostname }));
  on('connectGetType', () => ({ type: 'QEMU' }));
  on('connectGetVersion', () => ({ hvVer: profile.hvVersion }));
  on('connectGetLibVersion', () => ({ libVer: profile.libVersion }));
  on('connectGetMaxVcpus', () => ({ maxVcpus: 255 }));
  on('connectIsSecure', () => ({ secure: 1 }));
  on('nodeGetInfo', () => ({
    model: [...'x86_64'].map((ch) => ch.charCodeAt(0)).concat(new Array(26).fill(0)),
    memory: 16n * 1024n * 1024n,
    cpus: 8,
    mhz: 2400,
    nodes: 1,
    sockets: 1,
    cores: 4,
    threads: 2,
  }));
  on('connectGetCapabilities', (_a, c) => ({
    capabilities: `<capabilities>\n  <host>\n    <uuid>${c.host.hostUuid}</uuid>\n    <cpu>\n      <arch>x86_64</arch>\n    </cpu>\n  </host>\n  <guest>\n    <os_type>hvm</os_type>\n    <arch name='x86_64'>\n      <domain type='qemu'/>\n      <domain type='kvm'/>\n    </arch>\n  </guest>\n</capabilities>\n`,
  }));
  on('connectRegisterCloseCallback', () => undefined);
  on('connectUnregisterCloseCallback', () => undefined);

  // Listing and lookup
  on('connectListAllDomains', ({ needResults, flags }, c) => {
    const all = c.host.list(flags);
    // As libvirtd's generated dispatcher: more than the reply's bound fails the call.
    if (all.length > MAX_LIST) {
      throw internalError(
        `Too many domains '${all.length}' for limit '${MAX_LIST}'`,
        'VIR_FROM_RPC',
      );
    }
    return { domains: needResults ? all.map((d) => d.wire) : [], ret: all.length };
  });
  on('connectNumOfDomains', (_a, c) => ({ num: c.host.all().filter((d) => d.active).length }));
  on('connectListDomains', ({ maxids }, c) => {
    if (maxids > MAX_LIST)
      throw libvirtError('VIR_ERR_RPC', 'VIR_FROM_RPC', 'maxids > REMOTE_DOMAIN_LIST_MAX');
    const ids = c.host
      .all()
      .filter((d) => d.active)
      .map((d) => d.id)
      .sort((a, b) => a - b);
    return { ids: ids.slice(0, maxids) };
  });
  on('connectNumOfDefinedDomains', (_a, c) => ({
    num: c.host.all().filter((d) => !d.active && d.persistent).length,
  }));
  on('connectListDefinedDomains', ({ maxnames }, c) => {
    if (maxnames > MAX_LIST) {
      throw libvirtError('VIR_ERR_RPC', 'VIR_FROM_RPC', 'maxnames > REMOTE_DOMAIN_LIST_MAX');
    }
    const names = c.host
      .all()
      .filter((d) => !d.active && d.persistent)
      .map((d) => d.name)
      .sort();
    return { names: names.slice(0, maxnames) };
  });
  on('domainLookupByName', ({ name }, c) => ({ dom: c.host.lookupByName(name).wire }));
  on('domainLookupByUuid', ({ uuid }, c) => ({ dom: c.host.lookupByUuid(uuid).wire }));
  on('domainLookupById', ({ id }, c) => ({ dom: c.host.lookupById(id).wire }));

  // Life cycle
  on('domainDefineXml', ({ xml }, c) => ({ dom: c.host.define(xml).wire }));
  on('domainDefineXmlFlags', ({ xml, flags }, c) => {
    checkFlags(flags, 1 /* VALIDATE */, 'qemuDomainDefineXMLFlags');
    return { dom: c.host.define(xml).wire };
  });
  on('domainCreateXml', ({ xmlDesc, flags }, c) => ({
    dom: c.host.createXml(xmlDesc, flags, c).wire,
  }));
  on('domainCreate', ({ dom: d }, c) => {
    c.host.start(dom(c, d), 0, c);
  });
  on('domainCreateWithFlags', ({ dom: d, flags }, c) => {
    const x = dom(c, d);
    c.host.start(x, flags, c);
    return { dom: x.wire };
  });
  on('domainSuspend', ({ dom: d }, c) => c.host.suspend(dom(c, d)));
  on('domainResume', ({ dom: d }, c) => c.host.resume(dom(c, d)));
  const destroy = (x: SimDomain, c: SimConnection): void => {
    if (!x.active)
      throw libvirtError('VIR_ERR_OPERATION_INVALID', 'VIR_FROM_DOMAIN', 'domain is not running');
    migration.onDestroy(x);
    c.host.destroy(x);
  };
  on('domainDestroy', ({ dom: d }, c) => destroy(dom(c, d), c));
  on('domainDestroyFlags', ({ dom: d, flags }, c) => {
    checkFlags(
      flags,
      VirDomainDestroyFlagsValues.VIR_DOMAIN_DESTROY_GRACEFUL |
        VirDomainDestroyFlagsValues.VIR_DOMAIN_DESTROY_REMOVE_LOGS,
      'qemuDomainDestroyFlags',
    );
    destroy(dom(c, d), c);
  });
  on('domainShutdown', ({ dom: d }, c) => c.host.shutdown(dom(c, d)));
  on('domainShutdownFlags', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0x1f, 'qemuDomainShutdownFlags');
    c.host.shutdown(dom(c, d));
  });
  on('domainUndefine', ({ dom: d }, c) => c.host.undefine(dom(c, d)));
  on('domainUndefineFlags', ({ dom: d, flags }, c) => {
    checkFlags(
      flags,
      Object.values(VirDomainUndefineFlagsValues).reduce((a, b) => a | b, 0),
      'qemuDomainUndefineFlags',
    );
    c.host.undefine(dom(c, d));
  });

  // Inspection
  on('domainGetXmlDesc', ({ dom: d, flags }, c) => {
    checkFlags(
      flags,
      Object.values(VirDomainXMLFlags).reduce((a, b) => a | b, 0),
      'qemuDomainGetXMLDesc',
    );
    const x = dom(c, d);
    return { xml: c.host.xml(x, (flags & VirDomainXMLFlags.VIR_DOMAIN_XML_INACTIVE) !== 0) };
  });
  on('domainGetInfo', ({ dom: d }, c) => {
    const x = dom(c, d);
    return {
      state: x.state,
      maxMem: x.def.memoryKiB,
      memory: x.def.currentMemoryKiB,
      nrVirtCpu: x.def.vcpus,
      cpuTime: c.host.cpuTimeNs(x),
    };
  });
  on('domainGetState', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainGetState');
    const x = dom(c, d);
    return { state: x.state, reason: x.reason };
  });
  on('domainIsActive', ({ dom: d }, c) => ({ active: dom(c, d).active ? 1 : 0 }));
  on('domainIsPersistent', ({ dom: d }, c) => ({ persistent: dom(c, d).persistent ? 1 : 0 }));
  on('domainIsUpdated', ({ dom: d }, c) => {
    dom(c, d);
    return { updated: 0 };
  });
  on('domainGetAutostart', ({ dom: d }, c) => ({ autostart: dom(c, d).autostart ? 1 : 0 }));
  on('domainSetAutostart', ({ dom: d, autostart }, c) => {
    const x = dom(c, d);
    if (!x.persistent) {
      throw libvirtError(
        'VIR_ERR_OPERATION_INVALID',
        'VIR_FROM_QEMU',
        'cannot set autostart for transient domain',
      );
    }
    x.autostart = autostart !== 0;
  });
  on('domainGetOsType', ({ dom: d }, c) => {
    dom(c, d);
    return { type: 'hvm' };
  });
  on('domainGetMaxMemory', ({ dom: d }, c) => ({ memory: dom(c, d).def.memoryKiB }));
  on('domainHasManagedSaveImage', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainHasManagedSaveImage');
    dom(c, d);
    return { result: 0 };
  });
  on('domainGetVcpusFlags', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0xf, 'qemuDomainGetVcpusFlags');
    return { num: dom(c, d).def.vcpus };
  });

  // Events
  on('connectDomainEventCallbackRegisterAny', ({ eventID, dom: d }, c) => {
    if (eventID < 0 || eventID >= profile.domainEventIdLast) {
      throw internalError(`unsupported event ID ${eventID}`, 'VIR_FROM_RPC');
    }
    // Like libvirtd, a filter may name a domain this host does not have (yet): a migration's destination.
    return { callbackID: c.register(eventID, d) };
  });
  on('connectDomainEventCallbackDeregisterAny', ({ callbackID }, c) => {
    if (!c.deregister(callbackID)) {
      throw internalError(`domain event callback ${callbackID} not registered`, 'VIR_FROM_RPC');
    }
  });

  // Jobs and migration tunables
  on('domainGetJobInfo', ({ dom: d }, c) => migration.jobInfo(dom(c, d)));
  on('domainGetJobStats', ({ dom: d, flags }, c) => migration.jobStats(dom(c, d), flags));
  on('domainAbortJob', ({ dom: d }, c) => migration.abortJob(dom(c, d), 0));
  on('domainAbortJobFlags', ({ dom: d, flags }, c) => migration.abortJob(dom(c, d), flags));
  on('domainMigrateStartPostCopy', ({ dom: d, flags }, c) =>
    migration.startPostCopy(dom(c, d), flags),
  );
  const PC = VirDomainMigrateMaxSpeedFlags.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY;
  on('domainMigrateGetMaxSpeed', ({ dom: d, flags }, c) => {
    checkFlags(flags, PC, 'qemuDomainMigrateGetMaxSpeed');
    const x = dom(c, d);
    return { bandwidth: flags & PC ? x.postcopyMaxSpeedMiBps : x.maxSpeedMiBps };
  });
  on('domainMigrateSetMaxSpeed', ({ dom: d, bandwidth, flags }, c) => {
    checkFlags(flags, PC, 'qemuDomainMigrateSetMaxSpeed');
    if (bandwidth > 8796093022207n) {
      throw invalidArg(`bandwidth must be less than ${8796093022207n + 1n}`);
    }
    migration.setMaxSpeed(dom(c, d), bandwidth, (flags & PC) !== 0);
  });
  on('domainMigrateGetMaxDowntime', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainMigrateGetMaxDowntime');
    return { downtime: dom(c, d).maxDowntimeMs };
  });
  on('domainMigrateSetMaxDowntime', ({ dom: d, downtime, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainMigrateSetMaxDowntime');
    migration.setMaxDowntime(dom(c, d), downtime);
  });
  on('domainMigrateGetCompressionCache', ({ dom: d, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainMigrateGetCompressionCache');
    return { cacheSize: dom(c, d).compressionCacheBytes };
  });
  on('domainMigrateSetCompressionCache', ({ dom: d, cacheSize, flags }, c) => {
    checkFlags(flags, 0, 'qemuDomainMigrateSetCompressionCache');
    dom(c, d).compressionCacheBytes = cacheSize;
  });

  // Migration v3 with parameters
  on('domainMigrateBegin3Params', ({ dom: d, params, flags }, c) =>
    migration.begin(dom(c, d), params, flags, c),
  );
  on('domainMigratePrepare3Params', ({ params, cookieIn, flags }, c) =>
    migration.prepare(params, cookieIn, flags, c),
  );
  on('domainMigratePerform3Params', ({ dom: d, dconnuri, params, cookieIn, flags }, c) =>
    migration.perform(dom(c, d), dconnuri, params, cookieIn, flags, c),
  );
  on('domainMigrateFinish3Params', ({ params, cookieIn, flags, cancelled }) =>
    migration.finish(params, cookieIn, flags, cancelled),
  );
  on('domainMigrateConfirm3Params', ({ dom: d, flags, cancelled }, c) =>
    migration.confirm(dom(c, d), flags, cancelled),
  );

  // Migration v3 without parameters: the same, with the few values it can carry
  on('domainMigrateBegin3', ({ dom: d, xmlin, flags, dname, resource }, c) =>
    migration.begin(dom(c, d), v3Params({ xml: xmlin, dname, resource }), flags32(flags), c),
  );
  on('domainMigratePrepare3', ({ cookieIn, uriIn, flags, dname, resource, domXml }, c) =>
    migration.prepare(
      v3Params({ xml: domXml, dname, uri: uriIn, resource }),
      cookieIn,
      flags32(flags),
      c,
    ),
  );
  on(
    'domainMigratePerform3',
    ({ dom: d, xmlin, cookieIn, dconnuri, uri, flags, dname, resource }, c) =>
      migration.perform(
        dom(c, d),
        dconnuri,
        v3Params({ xml: xmlin, dname, uri, resource }),
        cookieIn,
        flags32(flags),
        c,
      ),
  );
  on('domainMigrateFinish3', ({ dname, cookieIn, uri, flags, cancelled }) =>
    migration.finish(v3Params({ dname, uri }), cookieIn, flags32(flags), cancelled),
  );
  on('domainMigrateConfirm3', ({ dom: d, flags, cancelled }, c) =>
    migration.confirm(dom(c, d), flags32(flags), cancelled),
  );

  registerInventory(on, dom);

  return m;
}
