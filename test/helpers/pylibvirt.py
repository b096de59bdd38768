"""The C library's side of virtwire's differential tests.

Reads one JSON request on stdin, {"uri": ..., "probes": [{"id", "target", "method", "args"}]},
opens the URI with libvirt's Python binding (the C client), calls each probe's method on its
target object and writes {"results": {id: {"ok": value} | {"error": {...}}}} on stdout.

Values are written so that both sides can be compared exactly: integers as {"$int": "digits"}
(Python's are unbounded, JSON numbers in JavaScript are not), bytes as {"$bytes": hex}, libvirt
objects as {"$handle": kind, "id": identity}. Run with /usr/bin/python3 (the one that has the
binding).
"""

import json
import sys

import libvirt


def identity(v):
    """A libvirt object as (kind, identity), or None when v is not one."""
    if isinstance(v, libvirt.virDomain):
        return "Domain", v.UUIDString()
    if isinstance(v, libvirt.virDomainSnapshot):
        return "DomainSnapshot", v.getName()
    if isinstance(v, libvirt.virDomainCheckpoint):
        return "DomainCheckpoint", v.getName()
    if isinstance(v, libvirt.virNetwork):
        return "Network", v.UUIDString()
    if isinstance(v, libvirt.virNetworkPort):
        return "NetworkPort", v.UUIDString()
    if isinstance(v, libvirt.virStoragePool):
        return "StoragePool", v.UUIDString()
    if isinstance(v, libvirt.virStorageVol):
        return "StorageVol", v.key()
    if isinstance(v, libvirt.virNodeDevice):
        return "NodeDevice", v.name()
    if isinstance(v, libvirt.virSecret):
        return "Secret", v.UUIDString()
    if isinstance(v, libvirt.virNWFilter):
        return "NWFilter", v.UUIDString()
    if isinstance(v, libvirt.virNWFilterBinding):
        return "NWFilterBinding", v.portDev()
    if isinstance(v, libvirt.virInterface):
        return "Interface", v.name()
    return None


def norm(v):
    if v is None or isinstance(v, (bool, str, float)):
        return v
    if isinstance(v, int):
        return {"$int": str(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {str(k): norm(x) for k, x in v.items()}
    ident = identity(v)
    if ident is not None:
        return {"$handle": ident[0], "id": ident[1]}
    raise TypeError("cannot describe a %s" % type(v).__name__)


def resolve(conn, t):
    kind = t["kind"]
    if kind == "Connection":
        return conn
    if kind == "Domain":
        return conn.lookupByUUIDString(t["uuid"])
    if kind == "DomainSnapshot":
        return conn.lookupByUUIDString(t["domain"]).snapshotLookupByName(t["name"], 0)
    if kind == "DomainCheckpoint":
        return conn.lookupByUUIDString(t["domain"]).checkpointLookupByName(t["name"], 0)
    if kind == "Network":
        return conn.networkLookupByUUIDString(t["uuid"])
    if kind == "NetworkPort":
        return conn.networkLookupByUUIDString(t["network"]).portLookupByUUIDString(t["uuid"])
    if kind == "StoragePool":
        return conn.storagePoolLookupByUUIDString(t["uuid"])
    if kind == "StorageVol":
        return conn.storageVolLookupByKey(t["key"])
    if kind == "NodeDevice":
        return conn.nodeDeviceLookupByName(t["name"])
    if kind == "Secret":
        return conn.secretLookupByUUIDString(t["uuid"])
    if kind == "NWFilter":
        return conn.nwfilterLookupByUUIDString(t["uuid"])
    if kind == "NWFilterBinding":
        return conn.nwfilterBindingLookupByPortDev(t["portdev"])
    if kind == "Interface":
        return conn.interfaceLookupByName(t["name"])
    raise ValueError("unknown target kind %r" % kind)


def arg(conn, a):
    if isinstance(a, dict) and "$target" in a:
        return resolve(conn, a["$target"])
    if isinstance(a, dict) and "$bytes" in a:
        return bytes.fromhex(a["$bytes"])
    if isinstance(a, list):
        return [arg(conn, x) for x in a]
    return a


def error(e):
    return {
        "code": e.get_error_code(),
        "domain": e.get_error_domain(),
        "message": e.get_error_message(),
    }


def main():
    request = json.load(sys.stdin)
    # libvirt prints every error on stderr by default; the test reads them from the results.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open(request["uri"])
    results = {}
    try:
        for p in request["probes"]:
            try:
                obj = resolve(conn, p["target"])
                value = getattr(obj, p["method"])(*[arg(conn, a) for a in p["args"]])
                results[p["id"]] = {"ok": norm(value)}
            except libvirt.libvirtError as e:
                results[p["id"]] = {"error": error(e)}
            except Exception as e:  # a probe the binding cannot make: the test reports it
                results[p["id"]] = {"pyerror": "%s: %s" % (type(e).__name__, e)}
    finally:
        conn.close()
    json.dump({"version": libvirt.getVersion(), "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
