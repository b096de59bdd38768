"""A managed post-copy migration with python3-libvirt's migrate3, switched from another thread.

usage: migrate3.py SRC_URI DST_URI NAME BANDWIDTH_MIB
While the main thread sits in dom.migrate3(), a sampler thread reads
dom.jobStats() every 100 ms, and a switcher thread calls migrateStartPostCopy()
once a sample shows memory being transferred plus one second. Prints JSON:
{ok, error, dest, switched, samples: [stats...], source_state, dest_state}.
"""
import json
import sys
import threading
import time

import libvirt

src_uri, dst_uri, name, bandwidth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
libvirt.registerErrorHandler(lambda *_: None, None)
src = libvirt.open(src_uri)
dst = libvirt.open(dst_uri)
dom = src.lookupByName(name)
samples = []
moving = threading.Event()
finished = threading.Event()
switched = {"ok": None, "error": None}


def sampler():
    while not finished.is_set():
        try:
            s = dom.jobStats()
        except libvirt.libvirtError:
            break
        if s.get("type") == libvirt.VIR_DOMAIN_JOB_UNBOUNDED:
            samples.append(s)
            if s.get("memory_processed", 0) > 0:
                moving.set()
        time.sleep(0.1)


def switcher():
    if not moving.wait(60):
        return
    time.sleep(1)
    try:
        dom.migrateStartPostCopy(0)
        switched["ok"] = True
    except libvirt.libvirtError as e:
        switched["ok"] = False
        switched["error"] = e.get_error_message()


threads = [threading.Thread(target=sampler), threading.Thread(target=switcher)]
for t in threads:
    t.start()
flags = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_POSTCOPY
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)
out = {"ok": False, "error": None, "dest": None}
try:
    new = dom.migrate3(dst, {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: bandwidth}, flags)
    out["ok"] = True
    out["dest"] = new.name()
except libvirt.libvirtError as e:
    out["error"] = e.get_error_message()
finished.set()
moving.set()
for t in threads:
    t.join()


def state(conn):
    try:
        return list(conn.lookupByName(name).state())
    except libvirt.libvirtError:
        return None


out.update(
    switched=switched, samples=samples, source_state=state(src), dest_state=state(dst)
)
print(json.dumps(out))
