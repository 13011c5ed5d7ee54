/*
 * netclass - network device properties from SYSFS/class/net/<device>/: one gauge
 * (or counter) per numeric attribute, node_network_up from operstate, and
 * node_network_info carrying the textual ones as labels (and adminstate, "up"
 * or "down" from the IFF_UP bit of flags).  Regular files in that
 * directory (bonding_masters) are not devices.  An attribute that is missing, or
 * that the kernel refuses to give now (carrier and speed of a device that is
 * down answer EINVAL), leaves only its own series out.
 *
 * --collector.netclass.ignored-devices: devices whose name matches are skipped.
 * --collector.netclass.ignore-invalid-speed: no speed series when the kernel
 * reports -1 (unknown), instead of -125000.
 * --collector.netclass.netlink: the families come from rtnetlink instead
 * (netclass_rtnl.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "devtab.h"
#include "filter.h"
#include "lazyfam.h"
#include "netclass_rtnl.h"
#include "sysattr.h"

#define SPEED_BYTES_PER_MBIT 125000 /* 10^6 / 8 */
#define TEXT_MAX             320    /* ifalias is at most 255 bytes */

struct net_attr {
	const char *file, *name;
	enum metric_type type;
};

/* In node_exporter's order; the name's HELP is "Network device property: NAME". */
static const struct net_attr nums[] = {
	{ "addr_assign_type", "address_assign_type", METRIC_GAUGE },
	{ "carrier", "carrier", METRIC_GAUGE },
	{ "carrier_changes", "carrier_changes_total", METRIC_COUNTER },
	{ "carrier_up_count", "carrier_up_changes_total", METRIC_COUNTER },
	{ "carrier_down_count", "carrier_down_changes_total", METRIC_COUNTER },
	{ "dev_id", "device_id", METRIC_GAUGE },
	{ "dormant", "dormant", METRIC_GAUGE },
	{ "flags", "flags", METRIC_GAUGE },
	{ "ifindex", "iface_id", METRIC_GAUGE },
	{ "iflink", "iface_link", METRIC_GAUGE },
	{ "link_mode", "iface_link_mode", METRIC_GAUGE },
	{ "mtu", "mtu_bytes", METRIC_GAUGE },
	{ "name_assign_type", "name_assign_type", METRIC_GAUGE },
	{ "netdev_group", "net_dev_group", METRIC_GAUGE },
	{ "speed", "speed_bytes", METRIC_GAUGE },
	{ "tx_queue_len", "transmit_queue_length", METRIC_GAUGE },
	{ "type", "protocol_type", METRIC_GAUGE },
};
#define N_NUMS      (sizeof nums / sizeof nums[0])
#define FLAGS_INDEX 7
#define SPEED_INDEX 14
#define IFF_UP_BIT  0x1 /* IFF_UP of <net/if.h> */

/* The info labels, sorted by name as exposed (device goes between). */
enum net_text { T_ADDRESS, T_BROADCAST, T_DUPLEX, T_IFALIAS, T_OPERSTATE, N_TEXTS };
static const char *const text_files[N_TEXTS] = { "address", "broadcast", "duplex", "ifalias",
						 "operstate" };

struct net_dev {
	struct dev_entry e; /* first */
	struct sysattr num_attr[N_NUMS], text_attr[N_TEXTS];
	bool ok[N_NUMS];
	int64_t v[N_NUMS];
	char text[N_TEXTS][TEXT_MAX];
};

struct net_state {
	struct devtab tab;
	struct fd_budget budget;
	struct optregex ignored;
	bool ignore_invalid_speed;
	char buf[SYSATTR_MAX];
	char names[N_NUMS][64];
	char helps[N_NUMS][96];
};

static bool net_want(const char *name, unsigned char d_type, void *ctx)
{
	struct net_state *s = ctx;
	return d_type != DT_REG && !optregex_match(&s->ignored, name, strlen(name));
}

static int net_setup(struct dev_entry *e, void *ctx)
{
	struct net_dev *d = (struct net_dev *)e;
	(void)ctx;
	for (size_t i = 0; i < N_NUMS; i++)
		sysattr_init(&d->num_attr[i]);
	for (int i = 0; i < N_TEXTS; i++)
		sysattr_init(&d->text_attr[i]);
	return 0;
}

static void net_teardown(struct dev_entry *e, void *ctx)
{
	struct net_dev *d = (struct net_dev *)e;
	struct net_state *s = ctx;
	for (size_t i = 0; i < N_NUMS; i++)
		sysattr_close(&d->num_attr[i], &s->budget);
	for (int i = 0; i < N_TEXTS; i++)
		sysattr_close(&d->text_attr[i], &s->budget);
}

static const struct devtab_ops net_ops = {
	.want = net_want,
	.setup = net_setup,
	.teardown = net_teardown,
};

static void net_fini(void *state)
{
	struct net_state *s = state;
	if (!s)
		return;
	devtab_fini(&s->tab);
	optregex_fini(&s->ignored);
	free(s);
}

static int net_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct net_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	fd_budget_init(&s->budget);
	s->ignore_invalid_speed = collector_option_bool(env, "ignore-invalid-speed");
	for (size_t i = 0; i < N_NUMS; i++) {
		snprintf(s->names[i], sizeof s->names[i], "node_network_%s", nums[i].name);
		snprintf(s->helps[i], sizeof s->helps[i], "Network device property: %s",
			 nums[i].name);
	}
	int rc = devtab_init(&s->tab, env->sysfs, "class/net", sizeof(struct net_dev), &net_ops, s,
			     err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->ignored, env, "ignored-devices", err, errlen);
	if (rc) {
		net_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* Label values must be UTF-8; an ifalias need not be. */
static void net_text_clean(char *t)
{
	if (utf8_valid(t, strlen(t)))
		return;
	for (; *t; t++)
		if ((unsigned char)*t >= 0x80)
			*t = '?';
}

static void net_read(struct net_state *s, struct net_dev *d)
{
	size_t n;

	for (size_t i = 0; i < N_NUMS; i++)
		d->ok[i] = sysattr_read(&d->num_attr[i], d->e.dirfd, nums[i].file, s->buf,
					sizeof s->buf, &n, &s->budget) == 0 &&
			   sysattr_parse_i64(s->buf, n, &d->v[i]);
	if (d->ok[SPEED_INDEX] && d->v[SPEED_INDEX] < 0 && s->ignore_invalid_speed)
		d->ok[SPEED_INDEX] = false;
	for (int i = 0; i < N_TEXTS; i++) {
		if (sysattr_read(&d->text_attr[i], d->e.dirfd, text_files[i], d->text[i], TEXT_MAX,
				 &n, &s->budget) != 0)
			d->text[i][0] = '\0';
		net_text_clean(d->text[i]);
	}
}

static double net_value(const struct net_dev *d, size_t i)
{
	if (i == SPEED_INDEX)
		return (double)d->v[i] * SPEED_BYTES_PER_MBIT;
	return (double)d->v[i];
}

static int net_emit_up_and_info(struct net_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const up_names[] = { "device" };
	static const char *const info_names[] = { "address", "adminstate", "broadcast", "device",
						  "duplex",  "ifalias",    "operstate" };
	struct lazyfam up = { "node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.",
			      METRIC_GAUGE, false };
	struct lazyfam info = { "node_network_info",
				"Non-numeric data from /sys/class/net/<iface>, value is always 1.",
				METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct net_dev *d = (struct net_dev *)s->tab.entries[i];
		const char *v[] = { d->e.name };
		rc = lazyfam_add(b, &up, up_names, v, 1,
				 strcmp(d->text[T_OPERSTATE], "up") == 0 ? 1.0 : 0.0, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct net_dev *d = (struct net_dev *)s->tab.entries[i];
		/* The administrative state is the IFF_UP bit of flags ("ip link set up"). */
		const char *admin = !d->ok[FLAGS_INDEX]                     ? "unknown"
				    : (d->v[FLAGS_INDEX] & IFF_UP_BIT) != 0 ? "up"
									    : "down";
		const char *v[] = { d->text[T_ADDRESS],   admin,
				    d->text[T_BROADCAST], d->e.name,
				    d->text[T_DUPLEX],    d->text[T_IFALIAS],
				    d->text[T_OPERSTATE] };
		rc = lazyfam_add(b, &info, info_names, v, 7, 1.0, err, errlen);
	}
	return rc;
}

static int net_emit(struct net_state *s, size_t a, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct lazyfam fam = { s->names[a], s->helps[a], nums[a].type, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct net_dev *d = (struct net_dev *)s->tab.entries[i];
		const char *v[] = { d->e.name };
		if (d->ok[a])
			rc = lazyfam_add(b, &fam, names, v, 1, net_value(d, a), err, errlen);
	}
	return rc;
}

static int net_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct net_state *s = state;

	int rc = devtab_scan(&s->tab, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < s->tab.n; i++)
		net_read(s, (struct net_dev *)s->tab.entries[i]);
	rc = net_emit_up_and_info(s, b, err, errlen);
	for (size_t a = 0; rc == 0 && a < N_NUMS; a++)
		rc = net_emit(s, a, b, err, errlen);
	return rc;
}

/* The sysfs reader above, or with --collector.netclass.netlink netclass_rtnl.c. */
struct netclass_source {
	bool rtnl;
	void *impl;
};

static void netclass_fini(void *state)
{
	struct netclass_source *src = state;
	if (!src)
		return;
	if (src->rtnl)
		netclass_rtnl_fini(src->impl);
	else
		net_fini(src->impl);
	free(src);
}

static int netclass_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct netclass_source *src = calloc(1, sizeof *src);
	if (!src)
		return -ENOMEM;
	src->rtnl = collector_option_bool(env, "netlink");
	int rc = src->rtnl ? netclass_rtnl_init(&src->impl, env, err, errlen)
			   : net_init(&src->impl, env, err, errlen);
	if (rc) {
		free(src);
		return rc;
	}
	*state = src;
	return 0;
}

static int netclass_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct netclass_source *src = state;
	return src->rtnl ? netclass_rtnl_collect(src->impl, b, err, errlen)
			 : net_collect(src->impl, b, err, errlen);
}

const struct collector_ops collector_netclass_ops = {
	.init = netclass_init,
	.collect = netclass_collect,
	.fini = netclass_fini,
};
