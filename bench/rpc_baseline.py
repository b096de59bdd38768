#!/usr/bin/python3
"""python3-libvirt (the C client) side of bench/rpc.ts.

    /usr/bin/python3 bench/rpc_baseline.py --uri qemu+tcp://127.0.0.1/system \
        --proc connectGetLibVersion --threads 16 --connections 1 \
        --warmup 0.5 --duration 3 [--domain bench-rpc]

Opens --connections virConnects (before anything is timed), starts --threads
threads (thread i uses connection i % connections) that each issue the
procedure back to back, lets them run for --warmup seconds, then counts the
calls completed during the next --duration seconds. libvirt's client is
thread-safe: threads sharing one virConnect multiplex their calls on its one
socket. The bindings release the GIL around every libvirt call.

Prints one JSON object on stdout:
    {"proc", "threads", "connections", "calls", "seconds", "callsPerSec",
     "clientCpuSec", "daemonCpuSec", "machineBusySec", "daemonBusiestThread",
     "errors"}
clientCpuSec is this process's CPU time (all threads) during the counted
window; daemonCpuSec that of --daemon-pid (from /proc, null without it);
machineBusySec the CPU time all CPUs spent not idle; daemonBusiestThread
[name, CPU seconds] of --daemon-pid's busiest thread (null without it).
Exits 1 if any call failed.
"""

import argparse
import json
import os
import sys
import threading
import time

import libvirt

PROCS = ("connectGetLibVersion", "domainGetInfo")


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime + stime of a process in seconds, or None if it cannot be read."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy():
    """CPU seconds all CPUs spent not idle (from /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK


def thread_cpu(pid):
    """{tid: (name, utime + stime seconds)} of a process's threads, or None."""
    if pid is None:
        return None
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def busiest(before, after):
    """[name, seconds] of the thread that used the most CPU between two thread_cpu()s."""
    if before is None or after is None:
        return None
    best = None
    for tid, (name, sec) in after.items():
        used = sec - before.get(tid, (name, 0.0))[1]
        if best is None or used > best[1]:
            best = [name, used]
    return best


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--proc", required=True, choices=PROCS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--domain", default="bench-rpc")
    ap.add_argument("--daemon-pid", type=int, default=None)
    a = ap.parse_args()
    if a.threads < 1 or a.connections < 1 or a.connections > a.threads:
        ap.error("need 1 <= connections <= threads")

    # libvirt prints errors to stderr by default; we report them ourselves
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

    conns = [libvirt.open(a.uri) for _ in range(a.connections)]
    calls = []
    for i in range(a.threads):
        conn = conns[i % a.connections]
        if a.proc == "connectGetLibVersion":
            calls.append(conn.getLibVersion)
        else:
            # one virDomain per thread, looked up once (one RPC) before timing
            calls.append(conn.lookupByName(a.domain).info)
    # prove the call works before timing it
    for c in calls:
        c()

    counts = [0] * a.threads  # each thread writes only its own slot
    stop = threading.Event()
    errors = []
    start_gate = threading.Barrier(a.threads + 1)

    def worker(i: int) -> None:
        call = calls[i]
        n = 0
        start_gate.wait()
        try:
            while not stop.is_set():
                call()
                n += 1
                counts[i] = n
        except libvirt.libvirtError as e:  # reported, makes the run fail
            errors.append(str(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.threads)]
    for t in threads:
        t.start()
    start_gate.wait()
    time.sleep(a.warmup)
    d0, u0 = proc_cpu(a.daemon_pid), self_cpu()
    m0, th0 = machine_busy(), thread_cpu(a.daemon_pid)
    t0 = time.monotonic()
    c0 = sum(counts)
    time.sleep(a.duration)
    c1 = sum(counts)
    t1 = time.monotonic()
    d1, u1 = proc_cpu(a.daemon_pid), self_cpu()
    m1, th1 = machine_busy(), thread_cpu(a.daemon_pid)
    stop.set()
    for t in threads:
        t.join()
    for conn in conns:
        conn.close()

    seconds = t1 - t0
    out = {
        "proc": a.proc,
        "threads": a.threads,
        "connections": a.connections,
        "calls": c1 - c0,
        "seconds": seconds,
        "callsPerSec": (c1 - c0) / seconds,
        "clientCpuSec": u1 - u0,
        "daemonCpuSec": None if d0 is None or d1 is None else d1 - d0,
        "machineBusySec": None if m0 is None or m1 is None else m1 - m0,
        "daemonBusiestThread": busiest(th0, th1),
        "errors": errors[:5],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
