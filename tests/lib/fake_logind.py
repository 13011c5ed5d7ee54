#!/usr/bin/python3
# tests/lib/fake_logind.py - the part of org.freedesktop.login1 that the logind
# collector (and node_exporter's) calls, served on a private bus for
# tests/e2e_logind.sh: Manager.ListSeats, Manager.ListSessions, and each
# session's Remote, Type and Class (org.freedesktop.DBus.Properties.Get).
#
#   /usr/bin/python3 tests/lib/fake_logind.py BUS_ADDRESS [READY_FILE]
#
# It owns org.freedesktop.login1 on BUS_ADDRESS, writes READY_FILE once it does,
# and runs until SIGTERM (at most 10 minutes).  SIGSTOP makes it a hung logind:
# calls wait until SIGCONT.
import signal
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

MANAGER_IFACE = "org.freedesktop.login1.Manager"
SESSION_IFACE = "org.freedesktop.login1.Session"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ROOT = "/org/freedesktop/login1"

SEATS = ["seat0"]

# id: (uid, user, seat, remote, type, class); None where reading the session fails.
SESSIONS = {
    "1": (1000, "alice", "seat0", False, "x11", "user"),
    "2": (1000, "alice", "", True, "tty", "user"),         # an SSH login: no seat
    "3": (1001, "bob", "", True, "tty", "user"),
    "c1": (112, "gdm", "seat0", False, "wayland", "greeter"),
    "4": (1002, "carol", "", False, "unspecified", "manager"),  # a newer class: "other"
    "5": (1003, "dave", "seat0", False, "weird", "background"),  # a newer type: "other"
    "6": (1004, "erin", "seat1", False, "tty", "user"),   # a seat ListSeats does not name
    "7": None,                                             # its properties cannot be read
}


def session_path(sid):
    """logind's object path: the id escaped as sd-bus escapes labels."""
    return ROOT + "/session/" + "".join(
        c if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)) else "_%02x" % ord(c)
        for i, c in enumerate(sid))


class Session(dbus.service.Object):
    def __init__(self, conn, sid, fields):
        super().__init__(conn, session_path(sid))
        self.fields = fields

    @dbus.service.method(PROPS_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if self.fields is None or iface != SESSION_IFACE:
            raise dbus.exceptions.DBusException(
                "No such property %s.%s" % (iface, prop),
                name="org.freedesktop.DBus.Error.UnknownProperty")
        _, _, _, remote, typ, cls = self.fields
        values = {"Remote": dbus.Boolean(remote), "Type": dbus.String(typ),
                  "Class": dbus.String(cls)}
        if prop not in values:
            raise dbus.exceptions.DBusException(
                "No such property %s" % prop, name="org.freedesktop.DBus.Error.UnknownProperty")
        return values[prop]


class Manager(dbus.service.Object):
    def __init__(self, conn):
        super().__init__(conn, ROOT)

    @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="a(so)")
    def ListSeats(self):
        return [(seat, dbus.ObjectPath(ROOT + "/seat/" + seat)) for seat in SEATS]

    @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="a(susso)")
    def ListSessions(self):
        out = []
        for sid, fields in SESSIONS.items():
            uid, user, seat = (fields or (0, "nobody", ""))[:3]
            out.append((sid, dbus.UInt32(uid), user, seat, dbus.ObjectPath(session_path(sid))))
        return out


def main():
    address = sys.argv[1]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(address)
    keep = [Manager(conn)] + [Session(conn, sid, f) for sid, f in SESSIONS.items()]
    _bus_name = dbus.service.BusName("org.freedesktop.login1", conn)
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
