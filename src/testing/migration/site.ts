import type { SimHost } from '../host.js';
import type { NetworkSeat } from '../network.js';

/** Where a migration call runs: the simulated host, and its place on the network the other side is on. */
export interface MigrationSite {
  readonly host: SimHost;
  readonly seat: NetworkSeat;
}
