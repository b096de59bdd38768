import {
  VirDomainShutoffReason as Shutoff,
  VirDomainEventStoppedDetailType as Stopped,
} from '../../generated/api.js';
import { operationFailed } from '../errors.js';
import type { SimDomain, SimHost } from '../host.js';
import { abandonIncoming } from './destination.js';
import { IncomingJob, OutgoingJob } from './job.js';

// What ends migrations from outside them: a guest destroyed, a client gone,
// the simulator closing.

/**
 * A domain is being destroyed: a migration it takes part in fails (the
 * source's with "domain is not running", the destination's by the broken
 * stream).
 */
export function onDestroy(d: SimDomain): void {
  const job = d.job;
  if (job instanceof OutgoingJob) {
    job.fail(operationFailed('domain is not running'));
    if (job.target)
      abandonIncoming(
        job.target,
        Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
        Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
      );
    d.job = null;
  } else if (job instanceof IncomingJob) {
    job.unlist();
    d.job = null;
    job.source?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
    job.done.reject(operationFailed('domain is not running'));
  }
}

/**
 * A client connection closed. As libvirt does, a migration it was driving is
 * called off: the source's job ends (the guest resumes if the migration had
 * stopped it) and the destination's half-migrated guest is killed. Post-copy
 * goes on (there is no way back), and a failed post-copy waits for recovery.
 */
export function onClientClosed(host: SimHost, owner: object): void {
  const gone = operationFailed('the client driving the migration closed its connection');
  for (const d of host.all()) {
    const job = d.job;
    if (job instanceof OutgoingJob && job.owner === owner) {
      if (job.phase === 'begin' || job.phase === 'precopy') {
        job.fail(gone);
        job.restoreSource();
        if (job.target) {
          abandonIncoming(
            job.target,
            Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
            Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
          );
        }
      } else if (job.phase === 'transferred') {
        // whether the destination runs it is unknown here: leave the guest as it is, as libvirt does
        d.job = null;
      }
    } else if (job instanceof IncomingJob && job.owner === owner) {
      if (job.phase === 'postcopy' || job.phase === 'postcopy-failed') continue;
      job.source?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
      job.done.reject(gone);
      abandonIncoming(
        job,
        Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
        Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
      );
    }
  }
}

/**
 * The simulator is closing: its migrations fail and leave the network's
 * links. A post-copy stream into it breaks on the source's side.
 */
export function stopAll(host: SimHost): void {
  for (const d of host.all()) {
    const job = d.job;
    if (job instanceof OutgoingJob) {
      job.fail(operationFailed('the simulated host is shutting down'));
      job.halt();
    }
    if (job instanceof IncomingJob) {
      job.unlist();
      job.done.reject(operationFailed('the simulated host is shutting down'));
      const src = job.source;
      src?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
      if (src?.phase === 'postcopy') src.breakPostcopy();
    }
  }
}
