// CPU figures from /proc for the benches: a process's CPU, its busiest thread,
// and how busy the whole machine was, sampled around a measured window.

import { readdirSync, readFileSync } from 'node:fs';

/** [name, utime + stime in seconds] from a /proc/<pid>[/task/<tid>]/stat file; throws if unreadable. */
export function readStatCpu(path: string): [string, number] {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  return [name, (Number(f[11]) + Number(f[12])) / 100]; // CLK_TCK is 100 on Linux
}

/** utime + stime of a process in seconds (from /proc), or null. */
export function procCpuSec(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return readStatCpu(`/proc/${pid}/stat`)[1];
  } catch {
    return null;
  }
}

/** CPU seconds all CPUs spent not idle, from /proc/stat (null if unreadable). */
export function machineBusySec(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(1, 9);
    const [user, nice, system, , , irq, softirq, steal] = f.map(Number) as number[];
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds per thread of `pid`, by thread id, with the thread's name (null if unreadable). */
export function threadCpuSec(pid: number | null): Map<string, [string, number]> | null {
  if (pid === null) return null;
  const out = new Map<string, [string, number]>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    try {
      out.set(tid, readStatCpu(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** [name, CPU seconds] of the thread that used the most CPU between two samples. */
export function busiestThread(
  before: Map<string, [string, number]> | null,
  after: Map<string, [string, number]> | null,
): [string, number] | null {
  if (before === null || after === null) return null;
  let best: [string, number] | null = null;
  for (const [tid, [name, sec]] of after) {
    const used = sec - (before.get(tid)?.[1] ?? 0);
    if (best === null || used > best[1]) best = [name, used];
  }
  return best;
}

/** Seconds this process's threads have waited runnable for a CPU (schedstat), or null. */
export function runqueueWaitSec(): number | null {
  try {
    let sum = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const f = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
        sum += Number(f[1]) / 1e9;
      } catch {
        // the thread ended meanwhile
      }
    }
    return sum;
  } catch {
    return null;
  }
}

/** One measured window of a throughput run. */
export interface Run {
  readonly callsPerSec: number;
  readonly calls: number;
  readonly seconds: number;
  /** Client CPU seconds over the counted window (all threads). */
  readonly clientCpuSec: number;
  /**
   * Seconds the client's threads were runnable but waited for a CPU over the
   * window (schedstat), null where unknown (python3-libvirt's side).
   */
  readonly clientRunqueueSec?: number | null;
  /** Daemon CPU seconds over the counted window, null if /proc was unreadable. */
  readonly daemonCpuSec: number | null;
  /** CPU seconds the whole machine spent busy over the window (all CPUs), or null. */
  readonly machineBusySec: number | null;
  /** The daemon's busiest thread over the window: [name, CPU seconds], or null. */
  readonly daemonBusiestThread: [string, number] | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits out the warm-up, then counts `done()` over the timed window with the
 * CPU figures of this process, the daemon, its busiest thread and the machine.
 */
export async function measureWindow(
  done: () => number,
  pid: number | null,
  warmupMs: number,
  durationMs: number,
): Promise<Run> {
  await sleep(warmupMs);
  const d0 = procCpuSec(pid);
  const th0 = threadCpuSec(pid);
  const m0 = machineBusySec();
  const u0 = process.cpuUsage();
  const q0 = runqueueWaitSec();
  const t0 = process.hrtime.bigint();
  const c0 = done();
  await sleep(durationMs);
  const c1 = done();
  const t1 = process.hrtime.bigint();
  const u1 = process.cpuUsage(u0);
  const q1 = runqueueWaitSec();
  const m1 = machineBusySec();
  const th1 = threadCpuSec(pid);
  const d1 = procCpuSec(pid);
  const seconds = Number(t1 - t0) / 1e9;
  return {
    callsPerSec: (c1 - c0) / seconds,
    calls: c1 - c0,
    seconds,
    clientCpuSec: (u1.user + u1.system) / 1e6,
    clientRunqueueSec: q0 === null || q1 === null ? null : q1 - q0,
    daemonCpuSec: d0 === null || d1 === null ? null : d1 - d0,
    machineBusySec: m0 === null || m1 === null ? null : m1 - m0,
    daemonBusiestThread: busiestThread(th0, th1),
  };
}
