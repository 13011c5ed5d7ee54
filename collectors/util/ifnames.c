#include "ifnames.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ifnames_add_msg(struct ifnames *t, const struct nlmsghdr *nh, char *err, size_t errlen)
{
	struct nl_attr tb[IFLA_IFNAME + 1];

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    !nl_msg_attrs(nh, sizeof(struct ifinfomsg), tb, IFLA_IFNAME + 1))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	char name[IF_NAMESIZE];
	if (!nl_get_str(&tb[IFLA_IFNAME], name, sizeof name))
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ifname *v = realloc(t->v, cap * sizeof *v);
		if (!v) {
			snprintf(err, errlen, "out of memory for %zu interface names", cap);
			return -ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].index = ifi->ifi_index;
	memcpy(t->v[t->n].name, name, sizeof name);
	t->n++;
	return 0;
}

static int on_link(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	return ifnames_add_msg(ctx, nh, err, errlen);
}

int ifnames_load(struct ifnames *t, struct nlsock *s, char *err, size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_req r;

	t->n = 0;
	nl_req_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
	return nlsock_request(s, &r.nh, "link dump", on_link, t, err, errlen);
}

const char *ifnames_find(const struct ifnames *t, int index)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].index == index)
			return t->v[i].name;
	return NULL;
}

void ifnames_free(struct ifnames *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}
