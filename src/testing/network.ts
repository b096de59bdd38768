import type { Transport } from '../transport/types.js';
import { parseUri } from '../uri/index.js';
import type { DomainJob } from './host.js';
import { SharedLinks } from './migration/link.js';

/** A simulator as the others on its network reach it. */
export interface NetworkMember {
  /** Every URI it answers to (tcp, unix, in-memory name). */
  readonly uris: readonly string[];
  /** An in-memory connection to it. */
  transport(): Transport;
}

/**
 * One simulator's place on its network, from `Simulator.start` to `close`:
 * what its migrations reach the other simulators through.
 */
export interface NetworkSeat {
  /** The hostname the simulator asked for, else the network's next `sim-N`. */
  readonly hostname: string;
  /** Makes the simulator reachable by its URIs (once its listeners are up). */
  publish(member: NetworkMember): void;
  /** Takes the simulator off the network; nothing finds it any more. */
  leave(): void;
  /** The simulator on this network answering `uri`: that exact URI first, then the same host, port, socket and path. */
  find(uri: string): NetworkMember | undefined;
  /** Counts Prepare calls across the network (the migration ports they hand out follow it). */
  nextPrepared(): number;
  /** Incoming migrations of every simulator on the network, by the id their cookies carry. */
  readonly incoming: Map<string, DomainJob>;
  /** The transfers on the network's links, sharing each host's bandwidth. */
  readonly links: SharedLinks;
}

/** Host, port, socket and path: what tells two URIs of one daemon apart. */
function key(uri: string): string | null {
  try {
    const u = parseUri(uri);
    return `${u.host ?? ''}|${u.port ?? ''}|${u.params.socket ?? ''}|${u.path}`;
  } catch {
    return null;
  }
}

/**
 * The simulators that can reach each other, as hosts on one network: a
 * peer-to-peer (or tunnelled) migration finds its destination among them by
 * URI, and a managed migration's source finds the incoming half the
 * destination prepared. The migrations running on a network share its
 * links: each host's `bandwidthMiBps` is the capacity of its link out and
 * of its link in, split fairly among the transfers leaving (or entering) it,
 * each also held to its own speed limit. A simulator is on one network for its whole life,
 * the one given to `Simulator.start({ network })`, else
 * {@link SimNetwork.default}. Networks share nothing: two of them may each
 * have a simulator answering the same URI, in one process and in tests that
 * run in parallel, and neither sees the other's.
 *
 * ```ts
 * const net = new SimNetwork();
 * const a = await Simulator.start({ network: net, hostname: 'a', domains: [{ name: 'vm', state: 'running' }] });
 * const b = await Simulator.start({ network: net, hostname: 'b' });
 * await using conn = await a.connect();
 * await (await conn.lookupDomain('vm')).migrateToURI(b.uri, { live: true, peer2peer: true }).done;
 * ```
 */
export class SimNetwork {
  /**
   * The network of every simulator started without one: the process's only
   * shared simulator state. Tests that must not meet others' simulators
   * (same hostnames, parallel runs) give each group a `new SimNetwork()`.
   */
  static readonly default: SimNetwork = new SimNetwork();

  private readonly members = new Set<NetworkMember>();
  private readonly incoming = new Map<string, DomainJob>();
  private readonly links = new SharedLinks();
  /** Simulators that joined without a hostname (they are named `sim-N`). */
  private unnamed = 0;
  private prepared = 0;

  /**
   * For `Simulator.start`: takes a place on this network. Tests have no
   * need to call it.
   * @internal
   */
  join(hostname?: string): NetworkSeat {
    let member: NetworkMember | null = null;
    return {
      hostname: hostname ?? `sim-${++this.unnamed}`,
      publish: (m) => {
        member = m;
        this.members.add(m);
      },
      leave: () => {
        if (member) this.members.delete(member);
      },
      find: (uri) => this.find(uri),
      nextPrepared: () => this.prepared++,
      incoming: this.incoming,
      links: this.links,
    };
  }

  private find(uri: string): NetworkMember | undefined {
    for (const m of this.members) if (m.uris.includes(uri)) return m;
    const k = key(uri);
    if (k === null) return undefined;
    for (const m of this.members) if (m.uris.some((u) => key(u) === k)) return m;
    return undefined;
  }
}
