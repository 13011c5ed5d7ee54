/*
 * arp - the number of entries in the IPv4 neighbour table per device.  As in
 * node_exporter, --collector.arp.netlink (on by default) reads the table with an
 * rtnetlink RTM_GETNEIGH dump, counting the IPv4 entries /proc/net/arp would
 * list (those without NUD_NOARP) and naming each device from its index; with
 * it off, PROCFS/net/arp is read (header line, then "IP HWtype Flags HWaddress
 * Mask Device").  --collector.arp.device-include / device-exclude filter the
 * devices.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "filter.h"
#include "hsort.h"
#include "lazyfam.h"
#include "procfile.h"
#include "nlsock.h"
#include "scan.h"

#define ARP_COLUMNS  6
#define ARP_NAME_MAX 64 /* interface names are at most 15 bytes */

struct arp_device {
	char name[ARP_NAME_MAX];
	int ifindex; /* netlink: the name is looked up once per device, after the dump */
	unsigned long long entries;
};

struct arp_state {
	struct procfile file;
	struct devfilter filter;
	bool netlink;
	struct nlsock nl;
	struct arp_device *devs;
	size_t n_devs, cap;
};

static void arp_fini(void *state)
{
	struct arp_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	devfilter_fini(&s->filter);
	nlsock_close(&s->nl);
	free(s->devs);
	free(s);
}

static int arp_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct arp_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	nlsock_init(&s->nl, NETLINK_ROUTE);
	s->netlink = collector_option_bool(env, "netlink");
	int rc = procfile_init(&s->file, env->procfs, "net/arp", err, errlen);
	if (rc == 0)
		rc = devfilter_init(&s->filter, env, err, errlen);
	if (rc) {
		arp_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* The device's counter, added when new; NULL when out of memory. */
static struct arp_device *arp_device(struct arp_state *s, const char *name, size_t n)
{
	for (size_t i = 0; i < s->n_devs; i++)
		if (strlen(s->devs[i].name) == n && memcmp(s->devs[i].name, name, n) == 0)
			return &s->devs[i];
	if (s->n_devs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct arp_device *d = realloc(s->devs, cap * sizeof *d);
		if (!d)
			return NULL;
		s->devs = d;
		s->cap = cap;
	}
	struct arp_device *d = &s->devs[s->n_devs++];
	memcpy(d->name, name, n);
	d->name[n] = '\0';
	d->ifindex = 0;
	d->entries = 0;
	return d;
}

/* The Device column of an entry line; false for the header and short lines. */
static bool arp_line_device(struct scan line, const char **dev, size_t *devlen)
{
	const char *w;
	size_t n;
	int count = 0;

	*dev = NULL;
	*devlen = 0;
	while (scan_word(&line, &w, &n)) {
		if (count == 0 && word_is(w, n, "IP"))
			return false;
		*dev = w;
		*devlen = n;
		count++;
	}
	return count >= ARP_COLUMNS && *devlen < ARP_NAME_MAX;
}

static int arp_count(struct arp_state *s, char *err, size_t errlen)
{
	struct scan text = scan_text(s->file.buf, s->file.len), line;

	s->n_devs = 0;
	while (scan_line(&text, &line)) {
		const char *dev;
		size_t n;
		if (!arp_line_device(line, &dev, &n) || devfilter_ignored(&s->filter, dev, n))
			continue;
		struct arp_device *d = arp_device(s, dev, n);
		if (!d) {
			snprintf(err, errlen, "out of memory for %zu ARP devices", s->n_devs + 1);
			return -ENOMEM;
		}
		d->entries++;
	}
	return 0;
}

/* One IPv4 neighbour: counted for its device (by index) unless NUD_NOARP (which
 * /proc/net/arp does not list either). */
static int on_neigh(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct arp_state *s = ctx;

	if (nh->nlmsg_type != RTM_NEWNEIGH || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
		return 0;
	const struct ndmsg *nd = NLMSG_DATA(nh);
	if (nd->ndm_family != AF_INET || (nd->ndm_state & NUD_NOARP) != 0)
		return 0;
	for (size_t i = 0; i < s->n_devs; i++)
		if (s->devs[i].ifindex == nd->ndm_ifindex) {
			s->devs[i].entries++;
			return 0;
		}
	struct arp_device *d = arp_device(s, "", 0);
	if (!d) {
		snprintf(err, errlen, "out of memory for %zu ARP devices", s->n_devs + 1);
		return -ENOMEM;
	}
	d->ifindex = nd->ndm_ifindex;
	d->entries = 1;
	return 0;
}

/* Names the devices counted by index (one lookup each, not one per entry) and
 * drops those filtered out, and those gone since the dump (node_exporter skips
 * them too). */
static void arp_name_devices(struct arp_state *s)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->n_devs; i++) {
		struct arp_device *d = &s->devs[i];
		char name[IF_NAMESIZE];
		if (!if_indextoname((unsigned)d->ifindex, name) ||
		    devfilter_ignored(&s->filter, name, strlen(name)))
			continue;
		snprintf(d->name, sizeof d->name, "%s", name);
		s->devs[kept++] = *d;
	}
	s->n_devs = kept;
}

static int arp_count_netlink(struct arp_state *s, char *err, size_t errlen)
{
	struct ndmsg req = { .ndm_family = AF_INET };
	struct nl_req r;
	s->n_devs = 0;
	nl_req_init(&r, RTM_GETNEIGH, NLM_F_DUMP, &req, sizeof req);
	int rc = nlsock_request(&s->nl, &r.nh, "neighbour dump", on_neigh, s, err, errlen);
	if (rc == 0)
		arp_name_devices(s);
	return rc;
}

static int arp_by_name(const void *a, const void *b)
{
	return strcmp(((const struct arp_device *)a)->name, ((const struct arp_device *)b)->name);
}

static int arp_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct arp_state *s = state;
	struct lazyfam fam = { "node_arp_entries", "ARP entries by device", METRIC_GAUGE, false };

	int rc;
	if (s->netlink) {
		rc = arp_count_netlink(s, err, errlen);
	} else {
		rc = procfile_read(&s->file, err, errlen);
		if (rc)
			return rc == -ENOENT ? 0 : rc;
		rc = arp_count(s, err, errlen);
	}
	hsort(s->devs, s->n_devs, sizeof *s->devs, arp_by_name);
	for (size_t i = 0; rc == 0 && i < s->n_devs; i++) {
		const char *values[] = { s->devs[i].name };
		rc = lazyfam_add(b, &fam, names, values, 1, (double)s->devs[i].entries, err,
				 errlen);
	}
	return rc;
}

const struct collector_ops collector_arp_ops = {
	.init = arp_init,
	.collect = arp_collect,
	.fini = arp_fini,
};
