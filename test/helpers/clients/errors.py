"""The errors python3-libvirt reports for calls on objects a host does not have.

usage: errors.py URI RUNNING_GUEST
Prints JSON: {label: {code, domain, message}} for each call that fails, and
{label: "ok"} for each that succeeds (listing what does not exist).
"""
import json
import sys

import libvirt
import libvirt_qemu  # noqa: F401 (the qemu program is reachable; not called here)

uri, guest = sys.argv[1], sys.argv[2]
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)
ro = libvirt.openReadOnly(uri)
dom = conn.lookupByName(guest)
ZERO = "00000000-0000-4000-8000-000000000001"
calls = {
    "listAllNetworks": lambda: conn.listAllNetworks(),
    "listAllStoragePools": lambda: conn.listAllStoragePools(),
    "listAllSecrets": lambda: conn.listAllSecrets(),
    "listAllNWFilterBindings": lambda: conn.listAllNWFilterBindings(),
    "snapshotListNames": lambda: dom.snapshotListNames(),
    "listAllCheckpoints": lambda: dom.listAllCheckpoints(),
    "networkLookupByName": lambda: conn.networkLookupByName("vw-nope"),
    "networkLookupByUUIDString": lambda: conn.networkLookupByUUIDString(ZERO),
    "storagePoolLookupByName": lambda: conn.storagePoolLookupByName("vw-nope"),
    "storageVolLookupByPath": lambda: conn.storageVolLookupByPath("/vw-nope"),
    "nodeDeviceLookupByName": lambda: conn.nodeDeviceLookupByName("vw-nope"),
    "secretLookupByUUIDString": lambda: conn.secretLookupByUUIDString(ZERO),
    "interfaceLookupByName": lambda: conn.interfaceLookupByName("vw-nope"),
    "nwfilterLookupByName": lambda: conn.nwfilterLookupByName("vw-nope"),
    "snapshotLookupByName": lambda: dom.snapshotLookupByName("vw-nope"),
    "checkpointLookupByName": lambda: dom.checkpointLookupByName("vw-nope"),
    "lookupByName": lambda: conn.lookupByName("vw-nope"),
    "abortJob": lambda: dom.abortJob(),
    "migrateStartPostCopy": lambda: dom.migrateStartPostCopy(0),
    "ro.suspend": lambda: ro.lookupByName(guest).suspend(),
    "ro.networkCreateXML": lambda: ro.networkCreateXML("<network><name>vw</name></network>"),
    "ro.storagePoolCreateXML": lambda: ro.storagePoolCreateXML("<pool/>", 0),
    "ro.snapshotCreateXML": lambda: ro.lookupByName(guest).snapshotCreateXML(
        "<domainsnapshot/>", 0
    ),
    "ro.nodeSuspendForDuration": lambda: ro.suspendForDuration(0, 60, 0),
}
out = {"libVersion": conn.getLibVersion(), "hvMajorMinor": conn.getVersion() // 1000}
for label, call in calls.items():
    try:
        r = call()
        out[label] = "ok" if r in (None, 0, []) else f"ok: {r!r}"
    except libvirt.libvirtError as e:
        out[label] = {
            "code": e.get_error_code(),
            "domain": e.get_error_domain(),
            "message": e.get_error_message(),
        }
print(json.dumps(out, sort_keys=True))
