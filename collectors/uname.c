/*
 * uname - node_uname_info, a constant 1 labelled with the fields of uname(2).
 * In a container the kernel fields (sysname, release, version, machine) are the
 * host's, while nodename and domainname are the container's UTS namespace: the
 * same as node_exporter, which makes the same call.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "collector.h"

static int uname_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	(void)env;
	(void)err;
	(void)errlen;
	*state = NULL;
	return 0;
}

static int uname_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	/* Sorted, as node_exporter prints them. */
	static const char *const names[] = { "domainname", "machine", "nodename",
					     "release",    "sysname", "version" };
	struct utsname u;

	(void)state;
	if (uname(&u) != 0) {
		int e = errno;
		snprintf(err, errlen, "uname() failed: %s", strerror(e));
		return -e;
	}
	const char *values[] = { u.domainname, u.machine, u.nodename,
				 u.release,    u.sysname, u.version };
	int rc = batch_family(b, "node_uname_info",
			      "Labeled system information as provided by the uname system call.",
			      METRIC_GAUGE, err, errlen);
	if (rc == 0)
		rc = batch_add(b, names, values, 6, 1.0, err, errlen);
	return rc;
}

static void uname_fini(void *state)
{
	(void)state;
}

const struct collector_ops collector_uname_ops = {
	.init = uname_init,
	.collect = uname_collect,
	.fini = uname_fini,
};
