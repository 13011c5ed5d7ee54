/*
 * ethtool - what network drivers tell through the SIOCETHTOOL ioctl, as
 * node_exporter's opt-in ethtool collector reports it, for each device of
 * SYSFS/class/net:
 *
 *   node_ethtool_info{bus_info, device, driver, expansion_rom_version,
 *     firmware_version, version} 1                           (ETHTOOL_GDRVINFO)
 *   node_ethtool_<stat>{device}  untyped, one family per driver statistic
 *     (ETHTOOL_GSTRINGS + ETHTOOL_GSTATS, what `ethtool -S` prints)
 *   node_network_supported_speed_bytes / advertised_speed_bytes{device, duplex, mode},
 *   node_network_supported_port_info{device, type}, node_network_autonegotiate,
 *   and {autonegotiate,pause,asymmetricpause}_{supported,advertised}   (ETHTOOL_GSET)
 *
 * A statistic's name is made a metric name as node_exporter makes it: each run of
 * characters other than [A-Za-z0-9_] (with the underscores around it) becomes
 * "_", the result is lower-cased and stripped of leading underscores, and "rx"
 * and "tx" as whole words become "received" and "transmitted"; rx_bytes,
 * rx_packets, rx_errors, rx_dropped, tx_bytes, tx_packets and tx_errors take
 * node_exporter's fixed names (node_ethtool_received_bytes_total, ...).  Two
 * statistics of one device whose names come out the same are both left out.
 * The link modes are the 32 bits of the legacy ETHTOOL_GSET, as node_exporter
 * reads them: modes above bit 31 (2.5GBASE-T, 50G and faster) are not seen.
 *
 * Options: --collector.ethtool.device-include / device-exclude (regular
 * expressions on the device name) and --collector.ethtool.metrics-include (on
 * the statistic's cleaned name, default ".*").  A device whose driver answers
 * EOPNOTSUPP to a request simply lacks those series; another error on one
 * device is shown as the collection's warning and the other devices are still
 * reported.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "hsort.h"
#include "lazyfam.h"
#include "metricname.h"

#define FQ_MAX    160 /* "node_ethtool_" + a 31-character name with every rx expanded */
#define STR_MAX   (ETH_GSTRING_LEN + 1)
#define STATS_MAX 65536 /* more statistics than any driver has: refused */

struct eth_dev {
	char name[IFNAMSIZ];
	bool has_link, has_info;
	struct ethtool_cmd link;
	struct ethtool_drvinfo info;
};

struct eth_stat {
	char fq[FQ_MAX];
	char key[STR_MAX]; /* the cleaned name: HELP says "Network interface <key>" */
	char raw[STR_MAX]; /* the driver's name */
	size_t dev;
	uint32_t idx; /* its place in the driver's list */
	bool dropped;
	uint64_t value;
};

struct eth_state {
	int fd;
	char dir[PATH_MAX]; /* SYSFS/class/net */
	struct dirents names;
	struct optregex exclude, include, metrics;
	struct eth_dev *devs;
	size_t n_devs, cap_devs;
	struct eth_stat *stats;
	size_t n_stats, cap_stats;
	/* ETHTOOL_GSTRINGS and ETHTOOL_GSTATS replies, grown as drivers need */
	struct ethtool_gstrings *strings;
	struct ethtool_stats *values;
	size_t cap_entries;
	char warning[256];
};

static void eth_fini(void *state)
{
	struct eth_state *s = state;
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	dirents_free(&s->names);
	optregex_fini(&s->exclude);
	optregex_fini(&s->include);
	optregex_fini(&s->metrics);
	free(s->devs);
	free(s->stats);
	free(s->strings);
	free(s->values);
	free(s);
}

static int eth_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct eth_state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->fd = -1;
	int rc = path_fmt(s->dir, sizeof s->dir, "%s/class/net", env->sysfs);
	if (rc)
		snprintf(err, errlen, "--path.sysfs is too long");
	if (rc == 0)
		rc = optregex_init(&s->exclude, env, "device-exclude", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->include, env, "device-include", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->metrics, env, "metrics-include", err, errlen);
	if (rc) {
		eth_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* ---- names ---- */

/* At in[i]: a match of (^|_)WORD(_|$), the way Go's ReplaceAllString walks
 * (left to right, matches never overlapping).  Returns the match's length. */
static size_t word_at(const char *in, size_t i, const char *word)
{
	size_t lead = in[i] == '_' ? 1 : 0, w = strlen(word);
	if (!lead && i != 0)
		return 0;
	if (strncmp(in + i + lead, word, w) != 0)
		return 0;
	char after = in[i + lead + w];
	if (after != '\0' && after != '_')
		return 0;
	return lead + w + (after == '_');
}

static void replace_word(const char *in, char *out, size_t cap, const char *word, const char *by)
{
	size_t n = 0;
	for (size_t i = 0; in[i] && n + 1 < cap;) {
		size_t m = word_at(in, i, word);
		if (m == 0) {
			out[n++] = in[i++];
			continue;
		}
		n += (size_t)snprintf(out + n, cap - n, "%s%s%s", in[i] == '_' ? "_" : "", by,
				      in[i + m - 1] == '_' ? "_" : "");
		if (n >= cap)
			n = cap - 1;
		i += m;
	}
	out[n] = '\0';
}

/* buildEthtoolFQName: lower case, no leading '_', rx/tx spelt out. */
static void ethtool_fqname(const char *key, char *out, size_t cap)
{
	char low[STR_MAX], a[FQ_MAX - 16], b[FQ_MAX - 16];
	size_t n = 0;

	while (*key == '_')
		key++;
	for (; key[n] && n + 1 < sizeof low; n++)
		low[n] = (char)(key[n] >= 'A' && key[n] <= 'Z' ? key[n] - 'A' + 'a' : key[n]);
	low[n] = '\0';
	replace_word(low, a, sizeof a, "rx", "received");
	replace_word(a, b, sizeof b, "tx", "transmitted");
	snprintf(out, cap, "node_ethtool_%s", b);
}

/* The statistics node_exporter names itself, with their HELP. */
static const struct {
	const char *key, *name, *help;
} fixed_stats[] = {
	{ "rx_bytes", "node_ethtool_received_bytes_total", "Network interface bytes received" },
	{ "rx_dropped", "node_ethtool_received_dropped_total",
	  "Number of received frames dropped" },
	{ "rx_errors", "node_ethtool_received_errors_total",
	  "Number of received frames with errors" },
	{ "rx_packets", "node_ethtool_received_packets_total",
	  "Network interface packets received" },
	{ "tx_bytes", "node_ethtool_transmitted_bytes_total", "Network interface bytes sent" },
	{ "tx_errors", "node_ethtool_transmitted_errors_total",
	  "Number of sent frames with errors" },
	{ "tx_packets", "node_ethtool_transmitted_packets_total",
	  "Network interface packets sent" },
};
#define N_FIXED (sizeof fixed_stats / sizeof fixed_stats[0])

static void stat_name(const char *key, char *fq, size_t cap)
{
	for (size_t i = 0; i < N_FIXED; i++)
		if (strcmp(key, fixed_stats[i].key) == 0) {
			snprintf(fq, cap, "%s", fixed_stats[i].name);
			return;
		}
	ethtool_fqname(key, fq, cap);
}

/* ---- the ioctls ---- */

static int eth_ioctl(struct eth_state *s, const char *dev, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
	ifr.ifr_data = data;
	return ioctl(s->fd, SIOCETHTOOL, &ifr) == 0 ? 0 : -errno;
}

/* Room for n statistics and their names; the kernel writes as many as the
 * driver has at the time of the call, so there is room to spare. */
static int eth_room(struct eth_state *s, size_t n)
{
	size_t want = n * 2 + 256;

	if (want <= s->cap_entries)
		return 0;
	void *str = realloc(s->strings, sizeof *s->strings + want * ETH_GSTRING_LEN);
	if (str)
		s->strings = str;
	void *val = str ? realloc(s->values, sizeof *s->values + want * sizeof(uint64_t)) : NULL;
	if (!val)
		return -ENOMEM;
	s->values = val;
	s->cap_entries = want;
	return 0;
}

static void warn_once(struct eth_state *s, const char *what, const char *dev, int rc)
{
	if (rc == -EOPNOTSUPP || rc == -ENODEV || s->warning[0])
		return; /* no such support, or a device gone: nothing to say */
	snprintf(s->warning, sizeof s->warning, "ethtool %s of %s failed: %s", what, dev,
		 strerror(-rc));
}

static int add_stat(struct eth_state *s, size_t dev, uint32_t idx, const char *raw, uint64_t value)
{
	char key[STR_MAX];

	if (metric_name_sanitize(key, sizeof key, raw, strlen(raw)) != 0 || !key[0] ||
	    !optregex_match(&s->metrics, key, strlen(key)))
		return 0;
	if (s->n_stats == s->cap_stats) {
		size_t cap = s->cap_stats ? s->cap_stats * 2 : 256;
		struct eth_stat *v = realloc(s->stats, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->stats = v;
		s->cap_stats = cap;
	}
	struct eth_stat *st = &s->stats[s->n_stats++];
	snprintf(st->key, sizeof st->key, "%s", key);
	snprintf(st->raw, sizeof st->raw, "%s", raw);
	stat_name(key, st->fq, sizeof st->fq);
	st->dev = dev;
	st->idx = idx;
	st->dropped = false;
	st->value = value;
	return 0;
}

/* By family name, then device, then the driver's order. */
static int stat_cmp(const void *a, const void *b)
{
	const struct eth_stat *x = a, *y = b;
	int c = strcmp(x->fq, y->fq);
	if (c)
		return c;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * One device's statistics, sorted: a name the driver lists twice keeps its last
 * value; two different names that come out as one metric are both dropped, as
 * node_exporter drops them.
 */
static void dedupe(struct eth_stat *v, size_t n)
{
	hsort(v, n, sizeof *v, stat_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		bool same_raw = true;
		while (j < n && strcmp(v[j].fq, v[i].fq) == 0) {
			same_raw &= strcmp(v[j].raw, v[i].raw) == 0;
			j++;
		}
		for (size_t k = i; k < j; k++)
			v[k].dropped = !same_raw || k + 1 < j;
		i = j;
	}
}

/* A statistic's name, as the driver gave it (up to 32 bytes, NUL-padded). */
static void raw_name(const struct eth_state *s, uint32_t i, char *out)
{
	memcpy(out, s->strings->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
	out[ETH_GSTRING_LEN] = '\0';
}

/* ETHTOOL_GSTRINGS then ETHTOOL_GSTATS. */
static int read_stats(struct eth_state *s, size_t dev, uint32_t n)
{
	const char *name = s->devs[dev].name;
	int rc;

	if (n == 0 || n > STATS_MAX)
		return 0;
	if ((rc = eth_room(s, n)) != 0)
		return rc;
	memset(s->strings, 0, sizeof *s->strings);
	s->strings->cmd = ETHTOOL_GSTRINGS;
	s->strings->string_set = ETH_SS_STATS;
	s->strings->len = n;
	memset(s->values, 0, sizeof *s->values);
	s->values->cmd = ETHTOOL_GSTATS;
	s->values->n_stats = n;
	if ((rc = eth_ioctl(s, name, s->strings)) != 0 ||
	    (rc = eth_ioctl(s, name, s->values)) != 0) {
		warn_once(s, "statistics", name, rc);
		return 0;
	}
	uint32_t count = s->strings->len < s->values->n_stats ? s->strings->len
							      : s->values->n_stats;
	if (count > s->cap_entries)
		count = (uint32_t)s->cap_entries; /* cannot be: the room was there */
	size_t first = s->n_stats;
	for (uint32_t i = 0; i < count; i++) {
		char raw[STR_MAX];
		raw_name(s, i, raw);
		if (raw[0] && (rc = add_stat(s, dev, i, raw, s->values->data[i])) != 0)
			return rc;
	}
	dedupe(s->stats + first, s->n_stats - first);
	return 0;
}

/* ---- devices ---- */

static struct eth_dev *dev_new(struct eth_state *s)
{
	if (s->n_devs == s->cap_devs) {
		size_t cap = s->cap_devs ? s->cap_devs * 2 : 16;
		struct eth_dev *v = realloc(s->devs, cap * sizeof *v);
		if (!v)
			return NULL;
		s->devs = v;
		s->cap_devs = cap;
	}
	struct eth_dev *d = &s->devs[s->n_devs];
	memset(d, 0, sizeof *d);
	return d;
}

static bool dev_ignored(const struct eth_state *s, const char *name)
{
	size_t n = strlen(name);
	return optregex_match(&s->exclude, name, n) ||
	       (s->include.set && !optregex_match(&s->include, name, n));
}

static int read_device(struct eth_state *s, const char *name)
{
	struct eth_dev *d = dev_new(s);
	int rc;

	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof d->name, "%s", name);
	d->link.cmd = ETHTOOL_GSET;
	rc = eth_ioctl(s, name, &d->link);
	d->has_link = rc == 0;
	if (rc)
		warn_once(s, "link settings", name, rc);
	d->info.cmd = ETHTOOL_GDRVINFO;
	rc = eth_ioctl(s, name, &d->info);
	d->has_info = rc == 0;
	if (rc)
		warn_once(s, "driver info", name, rc);
	size_t dev = s->n_devs++;
	return d->has_info ? read_stats(s, dev, d->info.n_stats) : 0;
}

/* The devices of SYSFS/class/net (its regular files, bonding_masters, are not). */
static int read_devices(struct eth_state *s, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t listed = 0;

	int rc = dirents_read(&s->names, s->dir, NULL);
	if (rc == -ENOENT || rc == -EACCES) {
		snprintf(err, errlen, "no data: %s cannot be read: %s", s->dir, strerror(-rc));
		return -ENODATA;
	}
	if (rc) {
		snprintf(err, errlen, "could not list %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->names.n; i++) {
		const char *name = dirents_name(&s->names, i);
		if (path_fmt(path, sizeof path, "%s/%s", s->dir, name) < 0 ||
		    (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) || strlen(name) >= IFNAMSIZ)
			continue;
		listed++;
		if (!dev_ignored(s, name))
			rc = read_device(s, name);
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory for the ethtool statistics");
	else if (rc == 0 && listed == 0) {
		snprintf(err, errlen, "no network devices found in %s", s->dir);
		rc = -ENODATA;
	}
	return rc;
}

/* ---- link settings ---- */

/* node_exporter's table of link modes, in the bit order of linux/ethtool.h; only
 * the first 32 bits exist in ETHTOOL_GSET's masks. */
static const struct {
	int bit;
	unsigned mbps;
	bool full;
	const char *phy;
} speeds[] = {
	{ ETHTOOL_LINK_MODE_10baseT_Half_BIT, 10, false, "T" },
	{ ETHTOOL_LINK_MODE_10baseT_Full_BIT, 10, true, "T" },
	{ ETHTOOL_LINK_MODE_100baseT_Half_BIT, 100, false, "T" },
	{ ETHTOOL_LINK_MODE_100baseT_Full_BIT, 100, true, "T" },
	{ ETHTOOL_LINK_MODE_1000baseT_Half_BIT, 1000, false, "T" },
	{ ETHTOOL_LINK_MODE_1000baseT_Full_BIT, 1000, true, "T" },
	{ ETHTOOL_LINK_MODE_10000baseT_Full_BIT, 10000, true, "T" },
	{ ETHTOOL_LINK_MODE_1000baseKX_Full_BIT, 1000, true, "KX" },
	{ ETHTOOL_LINK_MODE_10000baseKX4_Full_BIT, 10000, true, "KX4" },
	{ ETHTOOL_LINK_MODE_10000baseKR_Full_BIT, 10000, true, "KR" },
	{ ETHTOOL_LINK_MODE_10000baseR_FEC_BIT, 10000, true, "R_FEC" },
	{ ETHTOOL_LINK_MODE_20000baseMLD2_Full_BIT, 20000, true, "MLD2" },
	{ ETHTOOL_LINK_MODE_20000baseKR2_Full_BIT, 20000, true, "KR2" },
	{ ETHTOOL_LINK_MODE_40000baseKR4_Full_BIT, 40000, true, "KR4" },
	{ ETHTOOL_LINK_MODE_40000baseCR4_Full_BIT, 40000, true, "CR4" },
	{ ETHTOOL_LINK_MODE_40000baseSR4_Full_BIT, 40000, true, "SR4" },
	{ ETHTOOL_LINK_MODE_40000baseLR4_Full_BIT, 40000, true, "LR4" },
	{ ETHTOOL_LINK_MODE_56000baseKR4_Full_BIT, 56000, true, "KR4" },
	{ ETHTOOL_LINK_MODE_56000baseCR4_Full_BIT, 56000, true, "CR4" },
	{ ETHTOOL_LINK_MODE_56000baseSR4_Full_BIT, 56000, true, "SR4" },
	{ ETHTOOL_LINK_MODE_56000baseLR4_Full_BIT, 56000, true, "LR4" },
	{ ETHTOOL_LINK_MODE_25000baseCR_Full_BIT, 25000, true, "CR" },
};

static const struct {
	int bit;
	const char *type;
} ports[] = {
	{ ETHTOOL_LINK_MODE_TP_BIT, "TP" },   { ETHTOOL_LINK_MODE_AUI_BIT, "AUI" },
	{ ETHTOOL_LINK_MODE_MII_BIT, "MII" }, { ETHTOOL_LINK_MODE_FIBRE_BIT, "FIBRE" },
	{ ETHTOOL_LINK_MODE_BNC_BIT, "BNC" }, { ETHTOOL_LINK_MODE_Backplane_BIT, "Backplane" },
};

static bool has_bit(uint32_t mask, int bit)
{
	return bit < 32 && (mask >> bit) & 1u;
}

static int emit_speeds(struct eth_state *s, bool advertised, struct batch *b, char *err,
		       size_t errlen)
{
	static const char *const names[] = { "device", "duplex", "mode" };
	struct lazyfam fam = {
		advertised ? "node_network_advertised_speed_bytes"
			   : "node_network_supported_speed_bytes",
		advertised ? "Combination of speeds and features offered by network device"
			   : "Combination of speeds and features supported by network device",
		METRIC_GAUGE, false
	};
	char mode[32];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_devs; i++) {
		const struct eth_dev *d = &s->devs[i];
		uint32_t mask = advertised ? d->link.advertising : d->link.supported;
		for (size_t k = 0; rc == 0 && d->has_link && k < sizeof speeds / sizeof speeds[0];
		     k++) {
			if (!has_bit(mask, speeds[k].bit))
				continue;
			snprintf(mode, sizeof mode, "%ubase%s", speeds[k].mbps, speeds[k].phy);
			const char *v[] = { d->name, speeds[k].full ? "full" : "half", mode };
			rc = lazyfam_add(b, &fam, names, v, 3, speeds[k].mbps * 125000.0, err,
					 errlen);
		}
	}
	return rc;
}

static int emit_ports(struct eth_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "type" };
	struct lazyfam fam = { "node_network_supported_port_info",
			       "Type of ports or PHYs supported by network device", METRIC_GAUGE,
			       false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_devs; i++)
		for (size_t k = 0; rc == 0 && k < sizeof ports / sizeof ports[0]; k++)
			if (s->devs[i].has_link &&
			    has_bit(s->devs[i].link.supported, ports[k].bit)) {
				const char *v[] = { s->devs[i].name, ports[k].type };
				rc = lazyfam_add(b, &fam, names, v, 2, 1, err, errlen);
			}
	return rc;
}

/* One gauge per device from its link settings: a capability bit, or autoneg. */
static int emit_flag(struct eth_state *s, const char *name, const char *help, bool advertised,
		     int bit, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct lazyfam fam = { name, help, METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_devs; i++) {
		const struct eth_dev *d = &s->devs[i];
		const char *v[] = { d->name };
		if (!d->has_link)
			continue;
		double value = bit < 0
				   ? d->link.autoneg
				   : has_bit(advertised ? d->link.advertising : d->link.supported,
					     bit);
		rc = lazyfam_add(b, &fam, names, v, 1, value, err, errlen);
	}
	return rc;
}

static int emit_link(struct eth_state *s, struct batch *b, char *err, size_t errlen)
{
	static const struct {
		const char *name, *help;
		bool advertised;
		int bit;
	} flags[] = {
		{ "node_network_autonegotiate_supported",
		  "If this port device supports autonegotiate", false,
		  ETHTOOL_LINK_MODE_Autoneg_BIT },
		{ "node_network_pause_supported", "If this port device supports pause frames",
		  false, ETHTOOL_LINK_MODE_Pause_BIT },
		{ "node_network_asymmetricpause_supported",
		  "If this port device supports asymmetric pause frames", false,
		  ETHTOOL_LINK_MODE_Asym_Pause_BIT },
		{ "node_network_autonegotiate_advertised",
		  "If this port device offers autonegotiate", true, ETHTOOL_LINK_MODE_Autoneg_BIT },
		{ "node_network_pause_advertised", "If this port device offers pause capability",
		  true, ETHTOOL_LINK_MODE_Pause_BIT },
		{ "node_network_asymmetricpause_advertised",
		  "If this port device offers asymmetric pause capability", true,
		  ETHTOOL_LINK_MODE_Asym_Pause_BIT },
		{ "node_network_autonegotiate", "If this port is using autonegotiate", false, -1 },
	};
	int rc = emit_speeds(s, false, b, err, errlen);
	if (rc == 0)
		rc = emit_ports(s, b, err, errlen);
	if (rc == 0)
		rc = emit_speeds(s, true, b, err, errlen);
	for (size_t i = 0; rc == 0 && i < sizeof flags / sizeof flags[0]; i++)
		rc = emit_flag(s, flags[i].name, flags[i].help, flags[i].advertised, flags[i].bit,
			       b, err, errlen);
	return rc;
}

/* ---- driver info and statistics ---- */

/* A driver string (up to 32 bytes) as a label value: UTF-8, NUL-terminated. */
static void drv_string(const char *in, size_t cap, char *out)
{
	size_t n = strnlen(in, cap);
	memcpy(out, in, n);
	out[n] = '\0';
	if (!utf8_valid(out, n))
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] >= 0x80)
				out[i] = '?';
}

static int emit_info(struct eth_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "bus_info",         "device",
					     "driver",           "expansion_rom_version",
					     "firmware_version", "version" };
	struct lazyfam fam = { "node_ethtool_info",
			       "A metric with a constant '1' value labeled by bus_info, device, "
			       "driver, expansion_rom_version, firmware_version, version.",
			       METRIC_GAUGE, false };
	char bus[STR_MAX], drv[STR_MAX], erom[STR_MAX], fw[STR_MAX], ver[STR_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_devs; i++) {
		const struct ethtool_drvinfo *in = &s->devs[i].info;
		if (!s->devs[i].has_info)
			continue;
		drv_string(in->bus_info, sizeof in->bus_info, bus);
		drv_string(in->driver, sizeof in->driver, drv);
		drv_string(in->erom_version, sizeof in->erom_version, erom);
		drv_string(in->fw_version, sizeof in->fw_version, fw);
		drv_string(in->version, sizeof in->version, ver);
		const char *v[] = { bus, s->devs[i].name, drv, erom, fw, ver };
		rc = lazyfam_add(b, &fam, names, v, 6, 1, err, errlen);
	}
	return rc;
}

static const char *stat_help(const struct eth_stat *st, char *buf, size_t cap)
{
	for (size_t i = 0; i < N_FIXED; i++)
		if (strcmp(st->key, fixed_stats[i].key) == 0)
			return fixed_stats[i].help;
	snprintf(buf, cap, "Network interface %s", st->key);
	return buf;
}

/* Every statistic's family, its devices together.  A family the batch refuses
 * (a name already taken, such as a statistic called "info") is left out. */
static int emit_stats(struct eth_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	char help[96];
	int rc = 0;

	hsort(s->stats, s->n_stats, sizeof *s->stats, stat_cmp);
	for (size_t i = 0; rc == 0 && i < s->n_stats;) {
		size_t j = i;
		while (j < s->n_stats && strcmp(s->stats[j].fq, s->stats[i].fq) == 0)
			j++;
		bool any = false;
		for (size_t k = i; k < j; k++)
			any |= !s->stats[k].dropped;
		if (any) {
			rc = batch_family(b, s->stats[i].fq,
					  stat_help(&s->stats[i], help, sizeof help),
					  METRIC_UNTYPED, err, errlen);
			bool skip = rc == -EINVAL;
			if (skip)
				rc = 0;
			for (size_t k = i; rc == 0 && !skip && k < j; k++) {
				const char *v[] = { s->devs[s->stats[k].dev].name };
				if (s->stats[k].dropped)
					continue;
				rc = batch_add(b, names, v, 1, (double)s->stats[k].value, err,
					       errlen);
				if (rc == -EEXIST || rc == -EINVAL)
					rc = 0;
			}
		}
		i = j;
	}
	return rc;
}

static int eth_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct eth_state *s = state;

	s->n_devs = s->n_stats = 0;
	s->warning[0] = '\0';
	if (s->fd < 0) {
		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			snprintf(err, errlen, "socket(AF_INET) for the ethtool ioctls failed: %s",
				 strerror(errno));
			return -errno;
		}
	}
	int rc = read_devices(s, err, errlen);
	if (rc == 0)
		rc = emit_link(s, b, err, errlen);
	if (rc == 0)
		rc = emit_info(s, b, err, errlen);
	if (rc == 0)
		rc = emit_stats(s, b, err, errlen);
	if (rc == 0 && s->warning[0])
		snprintf(err, errlen, "%s", s->warning);
	return rc;
}

const struct collector_ops collector_ethtool_ops = {
	.init = eth_init,
	.collect = eth_collect,
	.fini = eth_fini,
};
