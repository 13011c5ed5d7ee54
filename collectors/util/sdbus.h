/*
 * sdbus.h - sd-bus (libsystemd) for the collectors that ask services over D-Bus,
 * loaded with dlopen when such a collector starts: a collector process that
 * runs none of them does not map libsystemd and what it pulls in.  The calls go
 * through the table sdbus, typed from <systemd/sd-bus.h> (libsystemd-dev at
 * build time; libsystemd0 at run time).
 */
#ifndef SHMETRICS_SDBUS_H
#define SHMETRICS_SDBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* clang-format off */
#define SDBUS_FUNCS(X)                                                      \
	X(call_method) X(error_free) X(error_is_set) X(flush_close_unref)   \
	X(get_property_string) X(get_property_trivial)                      \
	X(message_enter_container) X(message_exit_container)                \
	X(message_read) X(message_unref) X(new) X(open_system)              \
	X(set_address) X(set_bus_client) X(set_method_call_timeout)         \
	X(start) X(unref)
/* clang-format on */

struct sdbus_funcs {
#define SDBUS_FIELD(f) __typeof__(sd_bus_##f) *f;
	SDBUS_FUNCS(SDBUS_FIELD)
#undef SDBUS_FIELD
};

/* Filled by sdbus_load(); read-only afterwards. */
extern struct sdbus_funcs sdbus;

/* Loads libsystemd.so.0 once (thread-safe).  0, or -ENOENT with the reason. */
int sdbus_load(char *err, size_t errlen);

/*
 * Connects to the bus at address ("unix:path=..."), or to the system bus when
 * address is "" ($DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket),
 * as a bus client whose method calls time out after timeout_us.  The connection
 * and its authentication complete in the first call.  0 or -errno with err.
 */
int sdbus_connect(sd_bus **bus, const char *address, uint64_t timeout_us, char *err, size_t errlen);

/* A call's failure: true when the connection itself is gone or timed out (the
 * caller drops it), false for an error answered by the peer. */
bool sdbus_fatal(int rc);

#endif
