/*
 * wifi - wireless interfaces and their stations over nl80211 (generic netlink),
 * as node_exporter's opt-in wifi collector reports them:
 *
 *   node_wifi_interface_frequency_hertz{device}
 *   node_wifi_station_info{bssid, device, mode, ssid} 1   the BSS the interface is
 *     in (mode "client" when authenticated or associated, "ad-hoc" in an IBSS)
 *   per station {device, mac_address}: node_wifi_station_connected_seconds_total,
 *     _inactive_seconds, _receive_bits_per_second, _transmit_bits_per_second,
 *     _receive_bytes_total, _transmit_bytes_total, _signal_dbm,
 *     _transmit_retries_total, _transmit_failed_total, _beacon_loss_total
 *
 * Three requests per interface each cycle: the interface dump, the scan results
 * (for the BSS whose status is set) and the station dump.  A value the driver
 * does not give is 0, as there.  Interfaces without a name (P2P devices) are
 * skipped.  On a kernel without nl80211 (no wireless hardware, most servers and
 * virtual machines) the collection fails with "no data", which is what
 * node_exporter reports too (success 0).  node_exporter's test-only
 * --collector.wifi.fixtures (JSON files instead of the kernel) is not provided.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/nl80211.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "lazyfam.h"
#include "nlsock.h"
#include "valtable.h"

#define HW_MAX   (3 * 32)
#define SSID_MAX (32 * 3 + 1) /* 32 bytes, each possibly widened to U+FFFD */

enum {
	S_CONNECTED,
	S_INACTIVE,
	S_RX_BITRATE,
	S_TX_BITRATE,
	S_RX_BYTES,
	S_TX_BYTES,
	S_SIGNAL,
	S_TX_RETRIES,
	S_TX_FAILED,
	S_BEACON_LOSS,
	N_SCOLS
};

static const struct valtable_col scols[N_SCOLS] = {
	{ "node_wifi_station_connected_seconds_total",
	  "The total number of seconds a station has been connected to an access point.",
	  METRIC_COUNTER, 0 },
	{ "node_wifi_station_inactive_seconds",
	  "The number of seconds since any wireless activity has occurred on a station.",
	  METRIC_GAUGE, 0 },
	{ "node_wifi_station_receive_bits_per_second",
	  "The current WiFi receive bitrate of a station, in bits per second.", METRIC_GAUGE, 0 },
	{ "node_wifi_station_transmit_bits_per_second",
	  "The current WiFi transmit bitrate of a station, in bits per second.", METRIC_GAUGE, 0 },
	{ "node_wifi_station_receive_bytes_total",
	  "The total number of bytes received by a WiFi station.", METRIC_COUNTER, 0 },
	{ "node_wifi_station_transmit_bytes_total",
	  "The total number of bytes transmitted by a WiFi station.", METRIC_COUNTER, 0 },
	{ "node_wifi_station_signal_dbm",
	  "The current WiFi signal strength, in decibel-milliwatts (dBm).", METRIC_GAUGE, 0 },
	{ "node_wifi_station_transmit_retries_total",
	  "The total number of times a station has had to retry while sending a packet.",
	  METRIC_COUNTER, 0 },
	{ "node_wifi_station_transmit_failed_total",
	  "The total number of times a station has failed to send a packet.", METRIC_COUNTER, 0 },
	{ "node_wifi_station_beacon_loss_total",
	  "The total number of times a station has detected a beacon loss.", METRIC_COUNTER, 0 },
};

struct wifi_if {
	char name[IFNAMSIZ];
	uint32_t index;
	uint32_t freq_mhz;
	bool has_bss;
	char bssid[HW_MAX], ssid[SSID_MAX];
	const char *mode;
};

struct wifi_state {
	struct nlsock nl;
	uint16_t family; /* 0 until resolved */
	struct wifi_if *ifs;
	size_t n_ifs, cap_ifs;
	struct valtable stations; /* rows labelled {device, mac_address} */
	size_t cur;               /* the interface being asked about */
};

static void wifi_fini(void *state)
{
	struct wifi_state *s = state;
	if (!s)
		return;
	nlsock_close(&s->nl);
	valtable_free(&s->stations);
	free(s->ifs);
	free(s);
}

static int wifi_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct wifi_state *s = calloc(1, sizeof *s);
	(void)env;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nlsock_init(&s->nl, NETLINK_GENERIC);
	valtable_init(&s->stations, N_SCOLS);
	*state = s;
	return 0;
}

/* A hardware address as node_exporter writes it: lower-case hex, colon-separated. */
static void hwaddr(char *out, const struct nl_attr *a)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint16_t i = 0; a->data && i < a->len && n + 4 <= HW_MAX; i++)
		n += (size_t)snprintf(out + n, HW_MAX - n, "%s%02x", i ? ":" : "", a->data[i]);
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80             ? 1
		     : (p[0] & 0xe0) == 0xc0 ? 2
		     : (p[0] & 0xf0) == 0xe0 ? 3
		     : (p[0] & 0xf8) == 0xf0 ? 4
					     : 0;
	if (len == 0 || len > n)
		return 0;
	return utf8_valid((const char *)p, len) ? len : 0;
}

/* The SSID as Go decodes it rune by rune: each invalid byte becomes U+FFFD. */
static void decode_ssid(char *out, const unsigned char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < SSID_MAX;) {
		size_t len = p[i] ? utf8_seq(p + i, n - i) : 0;
		if (len == 0) {
			memcpy(out + o, p[i] ? "\xef\xbf\xbd" : "?", p[i] ? 3 : 1);
			o += p[i] ? 3 : 1; /* a NUL cannot be in a label value */
			i++;
			continue;
		}
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
}

/* The SSID element (id 0) of a BSS's information elements. */
static void find_ssid(char *out, const struct nl_attr *ies)
{
	const unsigned char *p = ies->data, *end = ies->data ? ies->data + ies->len : NULL;
	out[0] = '\0';
	while (p && end - p >= 2 && end - p - 2 >= p[1]) {
		if (p[0] == 0) {
			decode_ssid(out, p + 2, p[1]);
			return;
		}
		p += 2 + p[1];
	}
}

/* ---- the requests ---- */

static struct nl_req *wifi_req(struct wifi_state *s, struct nl_req *r, uint8_t cmd,
			       uint32_t ifindex)
{
	struct genlmsghdr g = { .cmd = cmd, .version = 1 };
	nl_req_init(r, s->family, NLM_F_DUMP, &g, sizeof g);
	if (ifindex)
		nl_req_put_u32(r, NL80211_ATTR_IFINDEX, ifindex);
	return r;
}

static int on_interface(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct wifi_state *s = ctx;
	struct nl_attr tb[NL80211_ATTR_WIPHY_FREQ + 1];
	struct wifi_if w;

	memset(&w, 0, sizeof w);
	if (!nl_msg_attrs(nh, GENL_HDRLEN, tb, NL80211_ATTR_WIPHY_FREQ + 1) ||
	    !nl_get_str(&tb[NL80211_ATTR_IFNAME], w.name, sizeof w.name) || !w.name[0])
		return 0; /* no name: a P2P device, not a network interface */
	nl_get_u32(&tb[NL80211_ATTR_IFINDEX], &w.index);
	nl_get_u32(&tb[NL80211_ATTR_WIPHY_FREQ], &w.freq_mhz);
	if (s->n_ifs == s->cap_ifs) {
		size_t cap = s->cap_ifs ? s->cap_ifs * 2 : 4;
		struct wifi_if *v = realloc(s->ifs, cap * sizeof *v);
		if (!v) {
			snprintf(err, errlen, "out of memory for %zu wifi interfaces", cap);
			return -ENOMEM;
		}
		s->ifs = v;
		s->cap_ifs = cap;
	}
	s->ifs[s->n_ifs++] = w;
	return 0;
}

static const char *bss_mode(uint32_t status)
{
	if (status == NL80211_BSS_STATUS_AUTHENTICATED || status == NL80211_BSS_STATUS_ASSOCIATED)
		return "client";
	return status == NL80211_BSS_STATUS_IBSS_JOINED ? "ad-hoc" : "unknown";
}

/* The first BSS that has a status is the one the interface is in. */
static int on_bss(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct wifi_state *s = ctx;
	struct wifi_if *w = &s->ifs[s->cur];
	struct nl_attr tb[NL80211_ATTR_BSS + 1], bss[NL80211_BSS_STATUS + 1];
	uint32_t status;

	(void)err;
	(void)errlen;
	if (w->has_bss || !nl_msg_attrs(nh, GENL_HDRLEN, tb, NL80211_ATTR_BSS + 1) ||
	    !tb[NL80211_ATTR_BSS].data)
		return 0;
	nl_attrs(tb[NL80211_ATTR_BSS].data, tb[NL80211_ATTR_BSS].len, bss, NL80211_BSS_STATUS + 1);
	if (!nl_get_u32(&bss[NL80211_BSS_STATUS], &status))
		return 0;
	w->has_bss = true;
	w->mode = bss_mode(status);
	hwaddr(w->bssid, &bss[NL80211_BSS_BSSID]);
	find_ssid(w->ssid, &bss[NL80211_BSS_INFORMATION_ELEMENTS]);
	return 0;
}

/* NL80211_RATE_INFO_BITRATE32 (or the 16-bit one) in 100 kbit/s, in bit/s. */
static double bitrate(const struct nl_attr *nest)
{
	struct nl_attr tb[NL80211_RATE_INFO_BITRATE32 + 1];
	uint32_t r32 = 0;
	uint16_t r16 = 0;

	nl_attrs(nest->data, nest->len, tb, NL80211_RATE_INFO_BITRATE32 + 1);
	if (!nl_get_u32(&tb[NL80211_RATE_INFO_BITRATE32], &r32) || r32 == 0)
		r32 = nl_get_u16(&tb[NL80211_RATE_INFO_BITRATE], &r16) ? r16 : 0;
	return (double)r32 * 100000.0;
}

/* A 64-bit counter, or its 32-bit version on drivers without it. */
static double counter(const struct nl_attr *a64, const struct nl_attr *a32)
{
	uint64_t v64;
	uint32_t v32;
	if (nl_get_u64(a64, &v64) && v64 != 0)
		return (double)v64;
	return nl_get_u32(a32, &v32) ? v32 : 0;
}

static void station_values(struct wifi_state *s, size_t row, const struct nl_attr *tb)
{
	uint32_t u = 0;
	uint8_t sig = 0;

	valtable_set(&s->stations, row, S_CONNECTED,
		     nl_get_u32(&tb[NL80211_STA_INFO_CONNECTED_TIME], &u) ? u : 0);
	u = 0;
	nl_get_u32(&tb[NL80211_STA_INFO_INACTIVE_TIME], &u);
	valtable_set(&s->stations, row, S_INACTIVE, u / 1000.0);
	valtable_set(&s->stations, row, S_RX_BITRATE, bitrate(&tb[NL80211_STA_INFO_RX_BITRATE]));
	valtable_set(&s->stations, row, S_TX_BITRATE, bitrate(&tb[NL80211_STA_INFO_TX_BITRATE]));
	valtable_set(&s->stations, row, S_RX_BYTES,
		     counter(&tb[NL80211_STA_INFO_RX_BYTES64], &tb[NL80211_STA_INFO_RX_BYTES]));
	valtable_set(&s->stations, row, S_TX_BYTES,
		     counter(&tb[NL80211_STA_INFO_TX_BYTES64], &tb[NL80211_STA_INFO_TX_BYTES]));
	nl_get_u8(&tb[NL80211_STA_INFO_SIGNAL], &sig);
	valtable_set(&s->stations, row, S_SIGNAL, (int8_t)sig);
	static const struct {
		int attr, col;
	} u32s[] = { { NL80211_STA_INFO_TX_RETRIES, S_TX_RETRIES },
		     { NL80211_STA_INFO_TX_FAILED, S_TX_FAILED },
		     { NL80211_STA_INFO_BEACON_LOSS, S_BEACON_LOSS } };
	for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
		u = 0;
		nl_get_u32(&tb[u32s[i].attr], &u);
		valtable_set(&s->stations, row, (size_t)u32s[i].col, u);
	}
}

static int on_station(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct wifi_state *s = ctx;
	struct nl_attr tb[NL80211_ATTR_STA_INFO + 1], info[NL80211_STA_INFO_MAX + 1];
	char mac[HW_MAX];

	if (!nl_msg_attrs(nh, GENL_HDRLEN, tb, NL80211_ATTR_STA_INFO + 1) ||
	    !tb[NL80211_ATTR_STA_INFO].data)
		return 0;
	nl_attrs(tb[NL80211_ATTR_STA_INFO].data, tb[NL80211_ATTR_STA_INFO].len, info,
		 NL80211_STA_INFO_MAX + 1);
	hwaddr(mac, &tb[NL80211_ATTR_MAC]);
	const char *labels[] = { s->ifs[s->cur].name, mac };
	int row = valtable_row(&s->stations, labels, 2);
	if (row == -ENOMEM) {
		snprintf(err, errlen, "out of memory for the wifi stations");
		return row;
	}
	if (row >= 0)
		station_values(s, (size_t)row, info);
	return 0;
}

/* ---- the collection ---- */

static int resolve_family(struct wifi_state *s, char *err, size_t errlen)
{
	if (s->family)
		return 0;
	int rc = nlsock_genl_family(&s->nl, NL80211_GENL_NAME, &s->family, err, errlen);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "no data: the kernel has no nl80211 (no wireless device)");
		return -ENODATA;
	}
	return rc;
}

/* Scan results and stations of interface i; a kernel answer of ENOENT means
 * there are none, as node_exporter takes it. */
static int ask_interface(struct wifi_state *s, size_t i, char *err, size_t errlen)
{
	struct nl_req r;
	char what[64];

	s->cur = i;
	snprintf(what, sizeof what, "scan results of %s", s->ifs[i].name);
	int rc = nlsock_request(&s->nl, &wifi_req(s, &r, NL80211_CMD_GET_SCAN, s->ifs[i].index)->nh,
				what, on_bss, s, err, errlen);
	if (rc == -ENOENT)
		rc = 0;
	if (rc)
		return rc;
	snprintf(what, sizeof what, "stations of %s", s->ifs[i].name);
	rc = nlsock_request(&s->nl, &wifi_req(s, &r, NL80211_CMD_GET_STATION, s->ifs[i].index)->nh,
			    what, on_station, s, err, errlen);
	return rc == -ENOENT ? 0 : rc;
}

static int emit_interfaces(struct wifi_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const fnames[] = { "device" };
	static const char *const inames[] = { "bssid", "device", "mode", "ssid" };
	struct lazyfam freq = { "node_wifi_interface_frequency_hertz",
				"The current frequency a WiFi interface is operating at, in hertz.",
				METRIC_GAUGE, false };
	struct lazyfam info = { "node_wifi_station_info",
				"Labeled WiFi interface station information as provided by the "
				"operating system.",
				METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_ifs; i++) {
		const char *v[] = { s->ifs[i].name };
		rc = lazyfam_add(b, &freq, fnames, v, 1, s->ifs[i].freq_mhz * 1e6, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < s->n_ifs; i++) {
		const struct wifi_if *w = &s->ifs[i];
		const char *v[] = { w->bssid, w->name, w->mode, w->ssid };
		if (w->has_bss)
			rc = lazyfam_add(b, &info, inames, v, 4, 1, err, errlen);
	}
	return rc;
}

static int wifi_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const snames[] = { "device", "mac_address" };
	struct wifi_state *s = state;
	struct nl_req r;

	s->n_ifs = 0;
	valtable_reset(&s->stations);
	int rc = resolve_family(s, err, errlen);
	if (rc == 0)
		rc = nlsock_request(&s->nl, &wifi_req(s, &r, NL80211_CMD_GET_INTERFACE, 0)->nh,
				    "wifi interface dump", on_interface, s, err, errlen);
	for (size_t i = 0; rc == 0 && i < s->n_ifs; i++)
		rc = ask_interface(s, i, err, errlen);
	if (rc && rc != -ENODATA)
		s->family = 0; /* looked up again: nl80211 may have been loaded meanwhile */
	if (rc == 0)
		rc = emit_interfaces(s, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->stations, scols, snames, 2, b, err, errlen);
	return rc;
}

const struct collector_ops collector_wifi_ops = {
	.init = wifi_init,
	.collect = wifi_collect,
	.fini = wifi_fini,
};
