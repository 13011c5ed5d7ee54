#!/usr/bin/python3
# tests/lib/fake_systemd.py - the part of org.freedesktop.systemd1 that the
# systemd collector (and node_exporter's) calls, served on a private bus for
# tests/e2e_systemd.sh: Manager.ListUnits, the Manager's Version,
# Virtualization and SystemState, and per unit the Unit, Service, Socket,
# Timer and Mount properties the collectors read (Properties.Get / GetAll).
#
#   /usr/bin/python3 tests/lib/fake_systemd.py BUS_ADDRESS [READY_FILE]
#
# It owns org.freedesktop.systemd1 on BUS_ADDRESS, writes READY_FILE once it
# does, and runs until SIGTERM (at most 10 minutes).  Unit object paths are
# escaped the way systemd escapes them, so clients that build the path from
# the name (go-systemd) and clients that take it from ListUnits agree.
# SIGSTOP makes it a hung systemd: calls wait until SIGCONT.
import signal
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ROOT = "/org/freedesktop/systemd1"
NO_VALUE = 2**64 - 1  # systemd's "infinity" / "not known"

MANAGER = {
    "Version": dbus.String("252.38-1~deb12u1"),
    "Virtualization": dbus.String("kvm"),
    "SystemState": dbus.String("degraded"),
}

# name: (load, active, sub, {interface: {property: value}})
UNITS = {
    "ssh.service": ("loaded", "active", "running", {
        "Service": {"Type": dbus.String("notify"), "NRestarts": dbus.UInt32(0),
                    "TasksCurrent": dbus.UInt64(3), "TasksMax": dbus.UInt64(4915)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000000123456)}}),
    "cron.service": ("loaded", "active", "running", {
        "Service": {"Type": dbus.String("simple"), "NRestarts": dbus.UInt32(2),
                    "TasksCurrent": dbus.UInt64(1), "TasksMax": dbus.UInt64(NO_VALUE)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000100000000)}}),
    "nginx.service": ("loaded", "failed", "failed", {
        "Service": {"Type": dbus.String("forking"), "NRestarts": dbus.UInt32(5),
                    "TasksCurrent": dbus.UInt64(NO_VALUE), "TasksMax": dbus.UInt64(4915)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000200000000)}}),
    "backup.service": ("loaded", "inactive", "dead", {
        "Service": {"Type": dbus.String("oneshot"), "NRestarts": dbus.UInt32(0),
                    "TasksCurrent": dbus.UInt64(NO_VALUE), "TasksMax": dbus.UInt64(4915)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(0)}}),
    "db-upgrade.service": ("loaded", "activating", "start", {
        "Service": {"Type": dbus.String("oneshot"), "NRestarts": dbus.UInt32(1),
                    "TasksCurrent": dbus.UInt64(4), "TasksMax": dbus.UInt64(100)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(0)}}),
    "apt-daily.timer": ("loaded", "active", "waiting", {
        "Timer": {"LastTriggerUSec": dbus.UInt64(1700000500000000)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000000000000)}}),
    "docker.socket": ("loaded", "active", "listening", {
        "Socket": {"NAccepted": dbus.UInt32(10), "NConnections": dbus.UInt32(1),
                   "NRefused": dbus.UInt32(3)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000000500000)}}),
    "home.mount": ("loaded", "active", "mounted", {
        "Mount": {"Type": dbus.String("ext4")},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(1700000000000000)}}),
    "session-1.scope": ("loaded", "active", "running", {"Unit": {}}),
    "user.slice": ("loaded", "active", "active", {"Unit": {}}),
    "ghost.service": ("not-found", "inactive", "dead", {"Unit": {}}),
    "web.service": ("loaded", "deactivating", "stop-sigterm", {
        "Service": {"Type": dbus.String("exec"), "NRestarts": dbus.UInt32(0),
                    "TasksCurrent": dbus.UInt64(2), "TasksMax": dbus.UInt64(4915)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(0)}}),
    "reloading.service": ("loaded", "reloading", "reload", {
        "Service": {"Type": dbus.String("notify"), "NRestarts": dbus.UInt32(0),
                    "TasksCurrent": dbus.UInt64(1), "TasksMax": dbus.UInt64(4915)},
        "Unit": {"ActiveEnterTimestamp": dbus.UInt64(0)}}),
}


def escape(name):
    """systemd's bus_label_escape: [A-Za-z0-9] kept, every other byte _xx."""
    out = []
    for i, b in enumerate(name.encode()):
        c = chr(b)
        if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)):
            out.append(c)
        else:
            out.append("_%02x" % b)
    return "".join(out)


def unit_path(name):
    return ROOT + "/unit/" + escape(name)


class Properties(dbus.service.Object):
    def __init__(self, conn, path, table):
        super().__init__(conn, path)
        self.table = table  # {interface: {property: value}}

    @dbus.service.method(PROPS_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        values = self.table.get(iface.rsplit(".", 1)[-1], {})
        if prop not in values:
            raise dbus.exceptions.DBusException(
                "Unknown property %s.%s" % (iface, prop),
                name="org.freedesktop.DBus.Error.UnknownProperty")
        return values[prop]

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.table.get(iface.rsplit(".", 1)[-1], {})


class Manager(Properties):
    def __init__(self, conn):
        super().__init__(conn, ROOT, {"Manager": MANAGER})

    @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="a(ssssssouso)")
    def ListUnits(self):
        return [(name, name + " (test)", load, active, sub, "", dbus.ObjectPath(unit_path(name)),
                 dbus.UInt32(0), "", dbus.ObjectPath("/"))
                for name, (load, active, sub, _) in sorted(UNITS.items())]

    @dbus.service.method(MANAGER_IFACE, in_signature="s", out_signature="o")
    def GetUnit(self, name):
        if name not in UNITS:
            raise dbus.exceptions.DBusException(
                "Unit %s not loaded." % name, name="org.freedesktop.systemd1.NoSuchUnit")
        return dbus.ObjectPath(unit_path(name))


def main():
    address = sys.argv[1]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(address)
    keep = [Manager(conn)]
    for name, (_, _, _, table) in UNITS.items():
        keep.append(Properties(conn, unit_path(name), table))
    _bus_name = dbus.service.BusName("org.freedesktop.systemd1", conn)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("ready\n")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.timeout_add_seconds(600, loop.quit)
    loop.run()
    del keep, _bus_name


if __name__ == "__main__":
    main()
