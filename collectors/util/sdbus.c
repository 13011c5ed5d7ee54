#include "sdbus.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct sdbus_funcs sdbus;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load(void)
{
	void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(load_error, sizeof load_error, "dlopen(\"libsystemd.so.0\") failed: %s",
			 dlerror());
		return;
	}
	/* dlsym's void * into a function pointer: through memcpy, which C allows. */
#define SDBUS_LOAD(f)                                                  \
	if (!load_error[0]) {                                          \
		void *sym = dlsym(h, "sd_bus_" #f);                    \
		if (sym)                                               \
			memcpy(&sdbus.f, &sym, sizeof sym);            \
		else                                                   \
			snprintf(load_error, sizeof load_error,        \
				 "libsystemd.so.0 has no sd_bus_" #f); \
	}
	SDBUS_FUNCS(SDBUS_LOAD)
#undef SDBUS_LOAD
}

int sdbus_load(char *err, size_t errlen)
{
	pthread_once(&load_once, load);
	if (!load_error[0])
		return 0;
	snprintf(err, errlen, "%s (D-Bus collectors need libsystemd0)", load_error);
	return -ENOENT;
}

int sdbus_connect(sd_bus **out, const char *address, uint64_t timeout_us, char *err, size_t errlen)
{
	sd_bus *bus = NULL;
	int rc;

	if (!address[0]) {
		rc = sdbus.open_system(&bus);
	} else {
		rc = sdbus.new(&bus);
		if (rc >= 0)
			rc = sdbus.set_address(bus, address);
		if (rc >= 0)
			rc = sdbus.set_bus_client(bus, 1);
		if (rc >= 0)
			rc = sdbus.start(bus);
	}
	if (rc >= 0)
		rc = sdbus.set_method_call_timeout(bus, timeout_us);
	if (rc < 0) {
		snprintf(err, errlen, "connecting to %.400s failed: %s",
			 address[0] ? address : "the system bus", strerror(-rc));
		sdbus.unref(bus);
		return rc;
	}
	*out = bus;
	return 0;
}

bool sdbus_fatal(int rc)
{
	return rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -ENOTCONN || rc == -EPIPE ||
	       rc == -ECONNREFUSED;
}
