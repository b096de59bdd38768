import { VirtwireError } from '../errors.js';
import { VirConnectListAllDomainsFlags } from '../generated/api.js';
import { type LxcMethods, lxcProgram } from '../generated/lxc.js';
import { type QemuMethods, qemuProgram } from '../generated/qemu.js';
import { type RemoteMethods, remoteProgram } from '../generated/remote.js';
import type { CallOptions, CloseInfo, RpcClient } from '../rpc/client.js';
import { isNoDomain } from '../rpc/errors.js';
import { bindProgram, type MethodsOf } from '../rpc/methods.js';
import type { LibvirtUri } from '../uri/index.js';
import { Domain } from './domain.js';

export { Feature } from './features.js';

import { Events } from './events.js';
import { parseUuid } from './names.js';

/** The daemon asked for an authentication this client cannot do, or authentication failed. */
export class AuthError extends VirtwireError {
  override name = 'AuthError';
}

/** Optional features the daemon said it supports during the open sequence. */
export interface ConnectionFeatures {
  readonly keepalive: boolean;
  readonly eventCallback: boolean;
  readonly closeCallback: boolean;
}

/**
 * An open libvirt connection. Every procedure of every program is a typed
 * method of `remote`, `qemu` and `lxc`; the handles (`lookupDomain`,
 * `listDomains`...) cover everyday work on top.
 */
export class Connection implements AsyncDisposable {
  readonly remote: MethodsOf<RemoteMethods>;
  readonly qemu: MethodsOf<QemuMethods>;
  readonly lxc: MethodsOf<LxcMethods>;
  /** The URI the daemon reports for this connection. */
  uri = '';
  features: ConnectionFeatures = { keepalive: false, eventCallback: false, closeCallback: false };
  /**
   * How this connection authenticated: `none`, `polkit`, or `sasl.<MECHANISM>`
   * (e.g. `sasl.SCRAM-SHA-256`). A daemon too old for AUTH_LIST gives `none`.
   */
  auth = 'none';
  private closing: Promise<void> | null = null;
  private eventsApi: Events | null = null;

  constructor(
    readonly rpc: RpcClient,
    /** The URI this connection was opened with, parsed. */
    readonly target: LibvirtUri,
  ) {
    this.remote = bindProgram<RemoteMethods>(rpc, remoteProgram);
    this.qemu = bindProgram<QemuMethods>(rpc, qemuProgram);
    this.lxc = bindProgram<LxcMethods>(rpc, lxcProgram);
  }

  /** Settles when the connection ends, with the reason (`client`, `eof`, `error`, `keepalive`). */
  get closed(): Promise<CloseInfo> {
    return this.rpc.closed;
  }

  get isOpen(): boolean {
    return this.rpc.isOpen;
  }

  /**
   * Event subscriptions: `conn.events.domain('lifecycle', { domain })` and the
   * other families, each an async iterable over a bounded queue.
   */
  get events(): Events {
    this.eventsApi ??= new Events(this.rpc);
    return this.eventsApi;
  }

  /** Asks the daemon whether it supports a feature (see `Feature`). */
  async supportsFeature(feature: number, opts?: CallOptions): Promise<boolean> {
    const r = await this.remote.connectSupportsFeature({ feature }, opts);
    return r.supported !== 0;
  }

  /** Finds a domain by name, or by UUID when the string is one. */
  async lookupDomain(nameOrUuid: string, opts?: CallOptions): Promise<Domain> {
    const uuid = parseUuid(nameOrUuid);
    if (uuid) {
      try {
        const r = await this.remote.domainLookupByUuid({ uuid }, opts);
        return new Domain(this, r.dom);
      } catch (err) {
        // A name may look like a UUID: fall back to it, as virsh does.
        if (!isNoDomain(err)) throw err;
      }
    }
    const r = await this.remote.domainLookupByName({ name: nameOrUuid }, opts);
    return new Domain(this, r.dom);
  }

  /** Finds a running domain by its id. */
  async lookupDomainById(id: number, opts?: CallOptions): Promise<Domain> {
    const r = await this.remote.domainLookupById({ id }, opts);
    return new Domain(this, r.dom);
  }

  /** Every domain, filtered by VIR_CONNECT_LIST_DOMAINS_* flags (0 = all). */
  async listDomains(flags = 0, opts?: CallOptions): Promise<Domain[]> {
    const r = await this.remote.connectListAllDomains({ needResults: 1, flags }, opts);
    return r.domains.map((d) => new Domain(this, d));
  }

  /** Running domains only. */
  listActiveDomains(opts?: CallOptions): Promise<Domain[]> {
    return this.listDomains(VirConnectListAllDomainsFlags.VIR_CONNECT_LIST_DOMAINS_ACTIVE, opts);
  }

  /** Defines a persistent domain from XML (VIR_DOMAIN_DEFINE_* flags). */
  async defineDomain(xml: string, flags = 0, opts?: CallOptions): Promise<Domain> {
    const r = await this.remote.domainDefineXmlFlags({ xml, flags }, opts);
    return new Domain(this, r.dom);
  }

  /** Creates and starts a transient domain from XML (VIR_DOMAIN_START_* flags). */
  async createDomain(xml: string, flags = 0, opts?: CallOptions): Promise<Domain> {
    const r = await this.remote.domainCreateXml({ xmlDesc: xml, flags }, opts);
    return new Domain(this, r.dom);
  }

  /**
   * Closes the connection: CONNECT_CLOSE as libvirt's client sends it, then the
   * transport. Calls still waiting reject with ConnectionClosedError.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.rpc.isOpen) {
        try {
          await this.remote.connectClose(undefined, { timeoutMs: 2000 });
        } catch {
          // the daemon may already be gone; closing goes on regardless
        }
      }
      await this.rpc.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
