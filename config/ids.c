/*
 * ids.c - users and groups by name.  getpwnam_r and getgrnam_r want a buffer
 * big enough for the whole entry (a group with many members needs more than
 * sysconf's hint), so both retry with a larger one on ERANGE, up to 1 MiB.
 */
#include "values.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#define ID_BUF_FIRST 1024u
#define ID_BUF_MAX   (1u << 20)

/* One lookup: fills *found (or leaves it NULL) and returns getxxnam_r's result. */
typedef int (*lookup_fn)(const char *name, void *entry, char *buf, size_t size, void **found);

static int pw_lookup(const char *name, void *entry, char *buf, size_t size, void **found)
{
	return getpwnam_r(name, entry, buf, size, (struct passwd **)found);
}

static int gr_lookup(const char *name, void *entry, char *buf, size_t size, void **found)
{
	return getgrnam_r(name, entry, buf, size, (struct group **)found);
}

/* Runs fn with a growing buffer; 1 found (entry filled, its strings in *bufp,
 * which the caller frees), 0 no such name, -errno when the lookup failed. */
static int lookup_retrying(lookup_fn fn, const char *name, void *entry, char **bufp)
{
	for (size_t size = ID_BUF_FIRST;; size *= 2) {
		void *found = NULL;
		char *buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		int rc = fn(name, entry, buf, size, &found);
		if (rc == ERANGE && size < ID_BUF_MAX) {
			free(buf);
			continue;
		}
		if (found) {
			*bufp = buf;
			return 1;
		}
		free(buf);
		/* "not found" comes as 0, or as one of these from some NSS modules */
		return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM ? 0
											    : -rc;
	}
}

int config_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw;
	char *buf = NULL;
	int rc = lookup_retrying(pw_lookup, name, &pw, &buf);

	if (rc == 1) {
		if (uid)
			*uid = pw.pw_uid;
		if (gid)
			*gid = pw.pw_gid;
	}
	free(buf);
	return rc;
}

int config_lookup_group(const char *name, gid_t *gid)
{
	struct group gr;
	char *buf = NULL;
	int rc = lookup_retrying(gr_lookup, name, &gr, &buf);

	if (rc == 1 && gid)
		*gid = gr.gr_gid;
	free(buf);
	return rc;
}
