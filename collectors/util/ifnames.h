/*
 * ifnames.h - the names of the network interfaces by index, from an rtnetlink
 * link dump, for the collectors whose kernel replies name an interface only by
 * its index (routes, queueing disciplines).  The table's memory only grows.
 */
#ifndef SHMETRICS_IFNAMES_H
#define SHMETRICS_IFNAMES_H

#include <net/if.h>
#include <stddef.h>

#include "nlsock.h"

struct ifname {
	int index;
	char name[IF_NAMESIZE];
};

struct ifnames {
	struct ifname *v;
	size_t n, cap;
};

/* Empties t, then fills it from a link dump over s.  0 or -errno with err. */
int ifnames_load(struct ifnames *t, struct nlsock *s, char *err, size_t errlen);

/* One RTM_NEWLINK message into t (what ifnames_load does for each). */
int ifnames_add_msg(struct ifnames *t, const struct nlmsghdr *nh, char *err, size_t errlen);

/* The name of index, or NULL when t has none. */
const char *ifnames_find(const struct ifnames *t, int index);

void ifnames_free(struct ifnames *t);

#endif
