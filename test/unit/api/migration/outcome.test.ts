/**
 * A failed migration's report waits for the destination libvirt is still
 * tearing down, a bounded time, and otherwise shows what it last read.
 */
import { describe, expect, it } from 'vitest';
import {
  destinationSettling,
  failureOutcome,
  settledSide,
} from '../../../../src/api/migration/outcome.js';
import type { SideState } from '../../../../src/api/migration/records.js';
import { domainState } from '../../../../src/api/names.js';
import { RemoteError } from '../../../../src/rpc/errors.js';
import { remoteErrorValue } from '../../../helpers/hostile-daemon.js';

const dom = (state: number, reason: number): SideState => ({
  kind: 'domain',
  ...domainState(state, reason),
});
const SHUTDOWN = dom(4, 0); // shutdown (unknown), as libvirt 9.0 shows the incoming guest going
const INCOMING = dom(3, 2); // paused (migration)
const STARTING = dom(3, 11); // paused (starting up)
const RUNNING = dom(1, 2); // running (migrated)
const POSTCOPY = dom(3, 12); // paused (postcopy)
const SHUTOFF = dom(5, 3); // shutoff (migrated): a persistent definition stays so
const ABSENT: SideState = { kind: 'absent' };

describe('destinationSettling', () => {
  it('names the states of a guest being removed, and only those', () => {
    expect([SHUTDOWN, INCOMING, STARTING].map(destinationSettling)).toEqual([true, true, true]);
    expect(
      [RUNNING, POSTCOPY, SHUTOFF, ABSENT, { kind: 'unknown', why: 'x' } as SideState].map(
        destinationSettling,
      ),
    ).toEqual([false, false, false, false, false]);
  });
});

describe('settledSide', () => {
  it('reads again until the guest is gone', async () => {
    const seen = [SHUTDOWN, SHUTDOWN, ABSENT];
    let reads = 0;
    const s = await settledSide(INCOMING, async () => seen[reads++]!, destinationSettling, 5000);
    expect(s).toEqual(ABSENT);
    expect(reads).toBe(3);
  });

  it('does not read at all when the first state is final', async () => {
    let reads = 0;
    const s = await settledSide(
      RUNNING,
      async () => {
        reads++;
        return ABSENT;
      },
      destinationSettling,
    );
    expect(s).toBe(RUNNING);
    expect(reads).toBe(0);
  });

  it('gives up after its limit and returns the last state read, as read', async () => {
    let reads = 0;
    const t0 = performance.now();
    const s = await settledSide(
      SHUTDOWN,
      async () => {
        reads++;
        return reads === 1 ? INCOMING : SHUTDOWN;
      },
      destinationSettling,
      350,
    );
    const took = performance.now() - t0;
    expect(s).toEqual(SHUTDOWN);
    // a read every 100 ms: at most 4 in 350 ms (fewer if the machine is slow), then it stops
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(4);
    expect(took).toBeGreaterThanOrEqual(340);
  });
});

describe('failureOutcome', () => {
  const remote = (code: number, message: string): Error =>
    new Error('migration of vm failed in perform on the source', {
      cause: new RemoteError(
        remoteErrorValue(code, message),
        'remote.DOMAIN_MIGRATE_PERFORM3_PARAMS',
      ),
    });
  const cancelled = remote(78, "operation aborted: job 'migration out' canceled by client");
  const brokenPipe = remote(
    9,
    "operation failed: job 'migration out' failed: Unable to write to socket: Broken pipe",
  );

  it('is aborted when libvirt says the job was cancelled, whoever asked', () => {
    expect(failureOutcome(cancelled)).toBe('aborted');
    expect(failureOutcome(cancelled, true)).toBe('aborted');
  });

  it('is aborted when our accepted abort made the job fail instead (QEMU saw its socket shut)', () => {
    expect(failureOutcome(brokenPipe, true)).toBe('aborted');
  });

  it('is failed when nobody aborted', () => {
    expect(failureOutcome(brokenPipe)).toBe('failed');
    expect(failureOutcome(new Error('link lost'))).toBe('failed');
  });
});
