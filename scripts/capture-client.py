#!/usr/bin/python3
"""Drive libvirt's own C client (python3-libvirt) through virtwire's capture proxy.

Run by scripts/capture-fixtures.ts, which records every RPC message that passes the proxy and
turns them into golden packets under fixtures/packets/. The point of this script is breadth:
call many procedures, each with a real result (or a real error), so that the fixtures show what
a real libvirtd sends, not what we believe it sends.

  capture-client.py PORT [--guest-xml FILE]   qemu+tcp and test+tcp through 127.0.0.1:PORT
  capture-client.py --default-uri             open(None): must run where /run/libvirt/libvirt-sock
                                              is the proxy (capture-fixtures.ts arranges a private
                                              mount namespace); the only way the C client sends
                                              CONNECT_GET_URI

Must run with /usr/bin/python3 (Debian's python3-libvirt is only visible there).
"""

import argparse
import os
import re
import sys
import threading
import time

import libvirt
import libvirt_qemu

# Fixed names and UUIDs so that successive captures differ as little as possible.
QEMU_DOMAIN = "fixture1"
QEMU_UUID = "76697274-7769-7265-8000-000000000001"
TEST_DOMAIN = "fixture2"
TEST_UUID = "76697274-7769-7265-8000-000000000002"
TRANSIENT_DOMAIN = "fixture3"
TRANSIENT_UUID = "76697274-7769-7265-8000-000000000003"
TEST_VOLUME = "fixture-vol.img"

failures = []


def log(msg):
    print(f"[capture-client] {msg}", flush=True)


def step(name, fn, expect_error=False):
    """Run one API call; errors are data here, but an unexpected one is reported at the end.

    expect_error=None takes either outcome: for calls whose answer depends on the daemon's
    version or the guest, where the packet is what we are after.
    """
    try:
        result = fn()
    except libvirt.libvirtError as e:
        code = e.get_error_code()
        if expect_error or expect_error is None:
            log(f"ok   {name}: expected error {code} ({e.get_error_message()})")
        else:
            log(f"FAIL {name}: error {code}: {e.get_error_message()}")
            failures.append(name)
        return None
    if expect_error:
        log(f"FAIL {name}: expected an error, got {short(result)}")
        failures.append(name)
    else:
        log(f"ok   {name}: {short(result)}")
    return result


def short(value):
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 100 else text[:97] + "..."


class EventLoop:
    """libvirt's default event loop in a thread.

    Needed before any connection is opened: only then does the C client watch its socket
    asynchronously, which is what lets it receive events and answer keepalive PINGs while idle.
    """

    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self._stop = False
        # a periodic no-op timer makes each loop iteration return, so stop() is noticed
        libvirt.virEventAddTimeout(100, lambda timer, opaque: None, None)
        self._thread = threading.Thread(target=self._run, name="libvirt-events", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            libvirt.virEventRunDefaultImpl()

    def stop(self):
        self._stop = True
        self._thread.join(timeout=2)


class EventLog:
    def __init__(self):
        self._cond = threading.Condition()
        self._items = []

    def add(self, item):
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(predicate(i) for i in self._items):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


def guest_xml(path):
    with open(path, encoding="utf-8") as f:
        xml = f.read()
    named = f"<name>{QEMU_DOMAIN}</name>\n  <uuid>{QEMU_UUID}</uuid>"
    xml = re.sub(r"<name>[^<]*</name>", named, xml, count=1)
    return xml


def test_domain_xml(name, uuid):
    return (
        f"<domain type='test'><name>{name}</name><uuid>{uuid}</uuid>"
        "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64'>hvm</type></os></domain>"
    )


def remove_leftover(conn, name):
    """A previous run that died half-way may have left the domain behind."""
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    log(f"removing leftover domain {name}")
    if dom.isActive():
        dom.destroy()
    if dom.isPersistent():
        dom.undefineFlags(
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        )


def qemu_phase(port, xml_path):
    uri = f"qemu+tcp://127.0.0.1:{port}/system"
    # open: AUTH_LIST, CONNECT_SUPPORTS_FEATURE (keepalive and others), CONNECT_OPEN
    conn = libvirt.open(uri)
    log(f"opened {uri}")

    # --- the host
    step("getType", conn.getType)
    step("getVersion", conn.getVersion)
    step("getLibVersion", conn.getLibVersion)
    step("getHostname", conn.getHostname)
    step("getCapabilities", lambda: len(conn.getCapabilities()))
    step("getDomainCapabilities", lambda: len(conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0)))
    step("getInfo", conn.getInfo)
    step("getCPUMap", lambda: conn.getCPUMap(0))
    step("getMemoryStats", lambda: conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0))
    step("getFreeMemory", conn.getFreeMemory)
    step("getCellsFreeMemory", lambda: conn.getCellsFreeMemory(0, 1))
    step("getMaxVcpus", lambda: conn.getMaxVcpus("qemu"))
    step("getSecurityModel", conn.getSecurityModel)
    step("isSecure", conn.isSecure)
    step("listAllDomains", lambda: [d.name() for d in conn.listAllDomains(0)])
    step("numOfDomains", conn.numOfDomains)
    step("numOfDefinedDomains", conn.numOfDefinedDomains)
    step("listDefinedDomains", conn.listDefinedDomains)
    # an error reply: VIR_ERR_NO_DOMAIN (42)
    step("lookupByName(missing)", lambda: conn.lookupByName("no-such-domain"), expect_error=True)

    remove_leftover(conn, QEMU_DOMAIN)

    events = EventLog()
    callbacks = []

    def lifecycle(_conn, dom, event, detail, _opaque):
        events.add(("lifecycle", dom.name(), event, detail))

    def job_completed(_conn, dom, params, _opaque):
        events.add(("job", dom.name(), params))

    def monitor_event(_conn, dom, event, _secs, _micros, details, _opaque):
        events.add(("monitor", dom.name(), event, details))

    for event_id, label, callback in (
        (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, "LIFECYCLE", lifecycle),
        (libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, "JOB_COMPLETED", job_completed),
    ):
        callbacks.append(step(
            f"domainEventRegisterAny({label})",
            lambda e=event_id, cb=callback: conn.domainEventRegisterAny(None, e, cb, None),
        ))
    monitor_cb = step(
        "qemuMonitorEventRegister",
        lambda: libvirt_qemu.qemuMonitorEventRegister(conn, None, "STOP", monitor_event, None, 0),
    )

    # --- a real guest: the harness's 58-byte kernel under TCG
    dom = step("defineXMLFlags", lambda: conn.defineXMLFlags(guest_xml(xml_path), 0))
    if dom is None:
        raise SystemExit("cannot define the QEMU guest; giving up")
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_DEFINED, 5)
    step("lookupByName", lambda: conn.lookupByName(QEMU_DOMAIN).name())
    step("lookupByUUIDString", lambda: conn.lookupByUUIDString(QEMU_UUID).name())
    step("XMLDesc", lambda: len(dom.XMLDesc(0)))
    step("info", dom.info)
    step("state", lambda: dom.state(0))
    step("isActive", dom.isActive)
    step("isPersistent", dom.isPersistent)
    step("autostart", dom.autostart)
    step("maxMemory", dom.maxMemory)
    step("OSType", dom.OSType)
    # libvirt 11.2: autostart for the next host boot only
    if hasattr(dom, "setAutostartOnce"):
        step("setAutostartOnce", lambda: dom.setAutostartOnce(1))
        step("autostartOnce", dom.autostartOnce)
        step("setAutostartOnce(0)", lambda: dom.setAutostartOnce(0))

    # virDomainCreate: CREATE, then the remote driver's LOOKUP_BY_UUID to learn the new id
    step("create", dom.create)
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_STARTED)
    step("lookupByID", lambda: conn.lookupByID(dom.ID()).name())
    step("listDomainsID", conn.listDomainsID)
    time.sleep(0.3)  # let the guest's counter move before we read it
    step(
        "qemuMonitorCommand(hmp)",
        lambda: libvirt_qemu.qemuMonitorCommand(
            dom, "xp /1wx 0x200000", libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
        ),
    )
    step(
        "qemuMonitorCommand(qmp)",
        lambda: libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0),
    )
    step(
        "qemuAgentCommand (no agent)",
        lambda: libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', 2, 0),
        expect_error=True,
    )
    # libvirt 11.2: I/O throttle groups, typed parameters in; libvirt 10.2: graphics reload,
    # refused here (the guest has no graphics)
    if hasattr(dom, "setThrottleGroup"):
        # the group's name travels in the parameters too (as virsh sends it): without it the
        # live XML gets a nameless group that libvirt 11.3 then cannot parse back (managed save
        # fails with "missing group name")
        step(
            "setThrottleGroup",
            lambda: dom.setThrottleGroup(
                "vwgroup",
                {libvirt.VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME: "vwgroup", "total_bytes_sec": 10485760},
                libvirt.VIR_DOMAIN_AFFECT_LIVE),
        )
        step("delThrottleGroup", lambda: dom.delThrottleGroup("vwgroup", libvirt.VIR_DOMAIN_AFFECT_LIVE))
    if hasattr(dom, "graphicsReload"):
        step("graphicsReload (no graphics)",
             lambda: dom.graphicsReload(libvirt.VIR_DOMAIN_GRAPHICS_RELOAD_TYPE_VNC, 0), expect_error=True)
    step("vcpus", dom.vcpus)
    step("vcpuPinInfo", lambda: dom.vcpuPinInfo(0))
    step("emulatorPinInfo", lambda: dom.emulatorPinInfo(0))
    step("vcpusFlags", lambda: dom.vcpusFlags(0))
    step("maxVcpus", dom.maxVcpus)
    step("controlInfo", lambda: dom.controlInfo(0))
    # cgroup_controllers = [] on the test hosts: a real, documented refusal
    step("schedulerParameters (no cgroups)", dom.schedulerParameters, expect_error=True)
    step("jobInfo", dom.jobInfo)
    # no jobStats() here: the fixture keeps the first reply, and the one worth keeping is the
    # completed SAVE job's below, rich in typed parameters
    step("migrateGetMaxSpeed", lambda: dom.migrateGetMaxSpeed(0))
    step("getAllDomainStats", lambda: [(d.name(), s) for d, s in conn.getAllDomainStats(0, 0)])

    step("suspend", dom.suspend)
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_SUSPENDED)
    step("resume", dom.resume)
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_RESUMED)

    # a stream: the guest's serial console, client -> server data, then finish
    def console():
        st = conn.newStream(0)
        dom.openConsole(None, st, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        # more than 28 bytes: libvirt-wireshark flags shorter stream packets as malformed (its
        # stream dissector subtracts the header length twice), which would spoil the cross-check
        sent = st.send(b"virtwire capture-fixtures: console stream\r\n")
        st.finish()
        return sent

    step("openConsole+send+finish", console)

    # managed save stops the guest as a SAVE job; its completed statistics are typed parameters
    # of several types (int operation, ullong counters), and also arrive as a JOB_COMPLETED event
    step("managedSave", lambda: dom.managedSave(0))
    events.wait_for(lambda e: e[0] == "job")
    step("hasManagedSaveImage", lambda: dom.hasManagedSaveImage(0))
    step("jobStats(COMPLETED)", lambda: dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED))
    step("createWithFlags (restore)", lambda: dom.createWithFlags(0))
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_STARTED
                    and e[3] == libvirt.VIR_DOMAIN_EVENT_STARTED_RESTORED)
    step("destroyFlags", lambda: dom.destroyFlags(0))
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_STOPPED
                    and e[3] == libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
    step("undefineFlags", lambda: dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE))
    events.wait_for(lambda e: e[0] == "lifecycle" and e[2] == libvirt.VIR_DOMAIN_EVENT_UNDEFINED)

    for cb in callbacks:
        if cb is not None:
            step("domainEventDeregisterAny", lambda cb=cb: conn.domainEventDeregisterAny(cb))
    if monitor_cb is not None:
        step("qemuMonitorEventDeregister", lambda: libvirt_qemu.qemuMonitorEventDeregister(conn, monitor_cb))
    return conn


def keepalive_phase(conn):
    # The daemon (keepalive_interval = 5) pings a client that has been silent for 5 s; the C
    # client answers with PONG from its event loop. Afterwards our own keepalive (every 1 s)
    # makes the client ping and the daemon pong. Order matters: once the client pings every
    # second, the daemon never sees 5 quiet seconds again.
    log("idle 7 s: waiting for the daemon's keepalive PING")
    time.sleep(7)
    step("setKeepAlive(1, 3)", lambda: conn.setKeepAlive(1, 3))
    time.sleep(2.5)
    step("isAlive", conn.isAlive)


def network_metadata(conn, net):
    """libvirt 9.7: network metadata, and the METADATA_CHANGE network event it raises."""
    events = EventLog()
    cb = step(
        "networkEventRegisterAny(METADATA_CHANGE)",
        lambda: conn.networkEventRegisterAny(
            net, libvirt.VIR_NETWORK_EVENT_ID_METADATA_CHANGE,
            lambda _c, _n, mtype, nsuri, _o: events.add(("metadata", mtype, nsuri)), None),
    )
    step(
        "network.setMetadata",
        lambda: net.setMetadata(libvirt.VIR_NETWORK_METADATA_DESCRIPTION, "virtwire fixture",
                                None, None, libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE),
    )
    step("network.metadata",
         lambda: net.metadata(libvirt.VIR_NETWORK_METADATA_DESCRIPTION, None,
                              libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE))
    if cb is not None:
        if not events.wait_for(lambda e: e[0] == "metadata", 5):
            log("FAIL no network METADATA_CHANGE event")
            failures.append("network METADATA_CHANGE event")
        step("networkEventDeregisterAny", lambda: conn.networkEventDeregisterAny(cb))


def test_phase(port):
    uri = f"test+tcp://127.0.0.1:{port}/default"
    conn = libvirt.open(uri)
    log(f"opened {uri}")
    remove_leftover(conn, TEST_DOMAIN)

    step("listAllNetworks", lambda: [n.name() for n in conn.listAllNetworks(0)])
    net = step("networkLookupByName", lambda: conn.networkLookupByName("default"))
    if net is not None:
        step("network.XMLDesc", lambda: len(net.XMLDesc(0)))
        step("network.isActive", net.isActive)
        if hasattr(net, "setMetadata"):
            network_metadata(conn, net)
    step("listAllStoragePools", lambda: [p.name() for p in conn.listAllStoragePools(0)])
    pool = step("storagePoolLookupByName", lambda: conn.storagePoolLookupByName("default-pool"))
    if pool is not None:
        step("pool.info", pool.info)
        step("pool.XMLDesc", lambda: len(pool.XMLDesc(0)))
        vol = step(
            "pool.createXML (volume)",
            lambda: pool.createXML(
                f"<volume><name>{TEST_VOLUME}</name><capacity unit='MiB'>8</capacity></volume>", 0
            ),
        )
        step("pool.listAllVolumes", lambda: [v.name() for v in pool.listAllVolumes(0)])
        if vol is not None:
            step("vol.info", vol.info)
            step("vol.delete", lambda: vol.delete(0))
    # the test driver's fixed node CPU statistics: libvirt 12.x adds a "guest" field to them, a
    # typed parameter the 11.3 tables and clients have never seen
    step("getCPUStats", lambda: conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0))
    step("listAllInterfaces", lambda: [i.name() for i in conn.listAllInterfaces(0)])
    step("listAllDevices", lambda: [d.name() for d in conn.listAllDevices(0)])

    test = step("lookupByName(test)", lambda: conn.lookupByName("test"))
    if test is not None:
        step("schedulerType", test.schedulerType)
        step("schedulerParameters", test.schedulerParameters)
        # the binding always adds VIR_TYPED_PARAM_STRING_OKAY, which the test driver refuses:
        # a VIR_ERR_INVALID_ARG error reply
        step("schedulerParametersFlags", lambda: test.schedulerParametersFlags(0), expect_error=True)
        step("vcpus", test.vcpus)
        step("vcpuPinInfo", lambda: test.vcpuPinInfo(0))
        step("memoryStats", test.memoryStats)
        step("blkioParameters", lambda: test.blkioParameters(0))
        step("memoryParameters", lambda: test.memoryParameters(0))
        step("getTime", lambda: test.getTime(0))
    step("getAllDomainStats", lambda: [(d.name(), s) for d, s in conn.getAllDomainStats(0, 0)])

    dom = step("defineXML", lambda: conn.defineXML(test_domain_xml(TEST_DOMAIN, TEST_UUID)))
    if dom is not None:
        step("create", dom.create)
        snap = step(
            "snapshotCreateXML",
            lambda: dom.snapshotCreateXML("<domainsnapshot><name>snap1</name></domainsnapshot>", 0),
        )
        step("listAllSnapshots", lambda: [s.getName() for s in dom.listAllSnapshots(0)])
        if snap is not None:
            step("snapshot.getXMLDesc", lambda: len(snap.getXMLDesc(0)))
            step("snapshot.delete", lambda: snap.delete(0))
        step("setMemory", lambda: dom.setMemory(32 * 1024))
        step("shutdown", dom.shutdown)
        step("undefine", dom.undefine)
    transient = step(
        "createXML (transient)",
        lambda: conn.createXML(test_domain_xml(TRANSIENT_DOMAIN, TRANSIENT_UUID), 0),
    )
    if transient is not None:
        step("destroy", transient.destroy)
    # the test driver has no job support: a VIR_ERR_NO_SUPPORT error reply
    if test is not None:
        step("jobInfo (unsupported)", test.jobInfo, expect_error=True)
    step("close(test)", conn.close)


def default_uri_phase():
    # open(None) on a root client probes /run/libvirt/libvirt-sock, sends an empty name in
    # CONNECT_OPEN and then asks the daemon which URI it chose: CONNECT_GET_URI.
    conn = libvirt.open(None)
    log("opened the default URI")
    step("getURI", conn.getURI)
    step("close(default)", conn.close)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", nargs="?", type=int)
    ap.add_argument("--guest-xml", default=os.environ.get("VIRTWIRE_GUEST_XML"))
    ap.add_argument("--default-uri", action="store_true")
    args = ap.parse_args()

    # errors are reported by step(); keep libvirt from also printing each one to stderr
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    loop = EventLoop()
    try:
        if args.default_uri:
            default_uri_phase()
        else:
            if args.port is None or not args.guest_xml:
                ap.error("PORT and --guest-xml (or VIRTWIRE_GUEST_XML) are required")
            conn = qemu_phase(args.port, args.guest_xml)
            test_phase(args.port)
            keepalive_phase(conn)
            step("close(qemu)", conn.close)
    finally:
        loop.stop()
    if failures:
        log(f"{len(failures)} unexpected result(s): {', '.join(failures)}")
        sys.exit(1)
    log("done")


if __name__ == "__main__":
    main()
