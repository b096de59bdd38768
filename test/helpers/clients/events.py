"""Lifecycle events of one guest as python3-libvirt's default event loop delivers them.

usage: events.py URI NAME XMLFILE
Defines, starts, suspends, resumes, destroys and undefines NAME from XMLFILE
while a callback registered with domainEventRegisterAny(LIFECYCLE) records
every event of it; prints them as JSON: [[event, detail], ...].
"""
import json
import sys
import threading
import time

import libvirt

uri, name, xml_file = sys.argv[1], sys.argv[2], sys.argv[3]
libvirt.registerErrorHandler(lambda *_: None, None)
libvirt.virEventRegisterDefaultImpl()
stop = False


def loop():
    while not stop:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(uri)
seen = []
done = threading.Event()


def on_lifecycle(_conn, dom, event, detail, _opaque):
    if dom.name() != name:
        return
    seen.append([event, detail])
    if event == libvirt.VIR_DOMAIN_EVENT_UNDEFINED:
        done.set()


cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
with open(xml_file, encoding="utf-8") as f:
    dom = conn.defineXML(f.read())
dom.create()
time.sleep(0.5)
dom.suspend()
dom.resume()
dom.destroy()
dom.undefine()
done.wait(10)
conn.domainEventDeregisterAny(cb)
stop = True
# wake the loop so the thread can see `stop`
libvirt.virEventAddTimeout(0, lambda *_: None, None)
conn.close()
print(json.dumps(seen))
