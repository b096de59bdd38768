import { Feature } from '../api/features.js';

/** The libvirt releases a simulator can answer as (`Simulator.start({ profile })`). */
export type SimProfileName = '9.0' | '11.3' | '12.9';

/**
 * What libvirtd of one release, with the QEMU it shipped alongside, tells
 * its clients about itself: the versions, the feature probes' answers and
 * the procedures it knows. A procedure a release did not have yet gets that
 * daemon's answer to an unknown procedure (VIR_ERR_RPC, "unknown procedure: N").
 */
export interface SimProfile {
  readonly name: SimProfileName;
  /** CONNECT_GET_LIB_VERSION: major * 1,000,000 + minor * 1000 + micro. */
  readonly libVersion: bigint;
  /** CONNECT_GET_VERSION: the QEMU version, encoded the same way. */
  readonly hvVersion: bigint;
  /** The highest procedure number the daemon dispatches, per program. */
  readonly lastProcedure: Readonly<Record<'remote' | 'qemu' | 'lxc', number>>;
  /** VIR_DOMAIN_EVENT_ID_LAST: domain event IDs at or above it are refused on registration. */
  readonly domainEventIdLast: number;
  /** The CONNECT_SUPPORTS_FEATURE numbers answered 1 (every other number gets 0). */
  readonly features: ReadonlySet<number>;
  /** What a migration's source reports, as this release with its QEMU does. */
  readonly migrationSource: MigrationSourceProfile;
}

/**
 * The events a migration's source sends that changed between the releases
 * modelled (seen in the cross-check against each generation's real hosts).
 */
export interface MigrationSourceProfile {
  /**
   * The first pre-copy pass QEMU reports (MIGRATION_ITERATION): 1 up to QEMU
   * 10.0; QEMU 11.1 reports none for the first pass, its first event says 2.
   */
  readonly firstReportedPass: number;
  /**
   * Whether the final pre-copy pass, made with the guest paused, is reported:
   * up to QEMU 10.0 it is, QEMU 11.1 does not. (The pass at a post-copy switch
   * is still reported: nothing seen on the real hosts says otherwise.)
   */
  readonly reportsPausedPass: boolean;
  /**
   * Whether libvirt passes on QEMU's report of its own end (libvirt asks it to
   * quit once the guest runs on the destination) as SHUTDOWN/HOST, just before
   * STOPPED/MIGRATED: libvirt 11.3 and 12.9 do, 9.0 with QEMU 7.2 does not.
   */
  readonly shutdownEventOnQuit: boolean;
  /**
   * With UNDEFINE_SOURCE, the detail of the UNDEFINED event the source sends
   * after JOB_COMPLETED (12.9: 2, a detail newer than the 11.3 tables), or
   * null when it sends none (9.0, 11.3).
   */
  readonly undefineSourceDetail: number | null;
  /**
   * For how long after a post-copy failure the source refuses a recovery's
   * Begin with VIR_ERR_OPERATION_INVALID ("QEMU reports migration is still
   * running"): QEMU 11.1 tells libvirt 12.9 of the failure a moment before its
   * own migration state reaches postcopy-paused (seen on the real 12.9 hosts);
   * 0 where the recovery is accepted at once.
   */
  readonly resumeRefusedMs: number;
}

/**
 * libvirtd's CONNECT_SUPPORTS_FEATURE answers with the QEMU driver. The same
 * from 9.0 to 12.9: the remote daemon answers the RPC features, the QEMU
 * driver the migration ones, and 16 is answered by every driver.
 */
const QEMU_FEATURES: ReadonlySet<number> = new Set([
  Feature.MIGRATION_V2,
  Feature.MIGRATION_P2P,
  Feature.MIGRATION_V3,
  Feature.MIGRATION_CHANGE_PROTECTION,
  Feature.FD_PASSING,
  Feature.TYPED_PARAM_STRING,
  Feature.PROGRAM_KEEPALIVE,
  11, // XML_MIGRATABLE
  Feature.MIGRATION_OFFLINE,
  Feature.MIGRATION_PARAMS,
  Feature.REMOTE_EVENT_CALLBACK,
  Feature.REMOTE_CLOSE_CALLBACK,
  16, // NETWORK_UPDATE_HAS_CORRECT_ORDER
]);

/**
 * The releases modelled, one per generation the project's real test hosts
 * run (scripts/test-hosts.sh and scripts/gen-hosts.sh), each with the QEMU
 * those hosts have beside it; the cross-check compares every profile with
 * the daemon it models.
 * - 9.0: Debian 12 (QEMU 7.2). Its last remote procedure is 443
 *   (DOMAIN_FD_ASSOCIATE), its last domain event ID 26 (MEMORY_DEVICE_SIZE_CHANGE).
 * - 11.3: Debian 13 (QEMU 10.0), the release the simulator's protocol tables
 *   come from: remote procedures up to 453, NIC_MAC_CHANGE as event ID 27.
 * - 12.9: Debian 13 with backports (QEMU 11.1). Two domain events came after
 *   11.3 (VCPU_REMOVED and CHANNEL_LIFECYCLE: event IDs 28 and 29, remote
 *   procedures 454 and 455) and one call (DOMAIN_ANNOUNCE_INTERFACE, 456). The simulator's
 *   tables stop at 453, so it answers 454 to 456 as unknown procedures even
 *   as 12.9; it accepts registrations for the two new event IDs and never
 *   sends those events (nothing it simulates raises them).
 */
export const SIM_PROFILES: Readonly<Record<SimProfileName, SimProfile>> = {
  '9.0': {
    name: '9.0',
    libVersion: 9_000_000n,
    hvVersion: 7_002_000n,
    lastProcedure: { remote: 443, qemu: 7, lxc: 1 },
    domainEventIdLast: 27,
    features: QEMU_FEATURES,
    migrationSource: {
      firstReportedPass: 1,
      reportsPausedPass: true,
      shutdownEventOnQuit: false,
      undefineSourceDetail: null,
      resumeRefusedMs: 0,
    },
  },
  '11.3': {
    name: '11.3',
    libVersion: 11_003_000n,
    hvVersion: 10_000_000n,
    lastProcedure: { remote: 453, qemu: 7, lxc: 1 },
    domainEventIdLast: 28,
    features: QEMU_FEATURES,
    migrationSource: {
      firstReportedPass: 1,
      reportsPausedPass: true,
      shutdownEventOnQuit: true,
      undefineSourceDetail: null,
      resumeRefusedMs: 0,
    },
  },
  '12.9': {
    name: '12.9',
    libVersion: 12_009_000n,
    hvVersion: 11_001_000n,
    lastProcedure: { remote: 456, qemu: 7, lxc: 1 },
    domainEventIdLast: 30,
    features: QEMU_FEATURES,
    migrationSource: {
      firstReportedPass: 2,
      reportsPausedPass: false,
      shutdownEventOnQuit: true,
      undefineSourceDetail: 2,
      resumeRefusedMs: 300,
    },
  },
};

/** The newest release modelled: what a simulator answers as unless told otherwise. */
export const DEFAULT_PROFILE: SimProfileName = '12.9';

/** Whether the daemon of `profile` knows procedure `number` of `program`. */
export function knowsProcedure(profile: SimProfile, program: string, number: number): boolean {
  const last = profile.lastProcedure[program as keyof SimProfile['lastProcedure']];
  return last === undefined || number <= last;
}
