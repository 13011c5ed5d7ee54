/*
 * infiniband - InfiniBand adapters and ports from SYSFS/class/infiniband/, as
 * node_exporter's infiniband collector reports them: node_infiniband_info per
 * device (board_id, fw_ver, hca_type), and per port its state and physical state
 * ("4: ACTIVE" gives 4), its rate ("40 Gb/sec (4X QDR)" in bytes per second) and
 * the counters of ports/<n>/counters/, and the legacy 64-bit ones older drivers
 * (mlx4) keep in ports/<n>/counters_ext/ (node_infiniband_legacy_*).  The data
 * counters count 4-byte words and are reported in bytes.  A counter the driver
 * cannot give ("N/A (no PMA)") is left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "scan.h"
#include "valtable.h"

struct ib_counter {
	const char *file;
	double scale;
	bool ext; /* in counters_ext/, not counters/ */
};

static const struct ib_counter ib_counters[] = {
	{ "excessive_buffer_overrun_errors", 1, false },
	{ "link_downed", 1, false },
	{ "link_error_recovery", 1, false },
	{ "local_link_integrity_errors", 1, false },
	{ "multicast_rcv_packets", 1, false },
	{ "multicast_xmit_packets", 1, false },
	{ "port_rcv_constraint_errors", 1, false },
	{ "port_xmit_constraint_errors", 1, false },
	{ "port_rcv_data", 4, false },
	{ "port_xmit_data", 4, false },
	{ "port_xmit_discards", 1, false },
	{ "port_rcv_errors", 1, false },
	{ "port_rcv_packets", 1, false },
	{ "port_xmit_packets", 1, false },
	{ "port_rcv_remote_physical_errors", 1, false },
	{ "port_rcv_switch_relay_errors", 1, false },
	{ "port_xmit_wait", 1, false },
	{ "symbol_error", 1, false },
	{ "unicast_rcv_packets", 1, false },
	{ "unicast_xmit_packets", 1, false },
	{ "VL15_dropped", 1, false },
	{ "port_rcv_discards", 1, false },
	{ "port_multicast_rcv_packets", 1, true },
	{ "port_multicast_xmit_packets", 1, true },
	{ "port_rcv_data_64", 4, true },
	{ "port_rcv_packets_64", 1, true },
	{ "port_unicast_rcv_packets", 1, true },
	{ "port_unicast_xmit_packets", 1, true },
	{ "port_xmit_data_64", 4, true },
	{ "port_xmit_packets_64", 1, true },
};
#define N_COUNTERS (sizeof ib_counters / sizeof ib_counters[0])

enum { COL_STATE = N_COUNTERS, COL_PHYS_STATE, COL_RATE, N_COLS };

static const struct valtable_col ib_cols[N_COLS] = {
	{ "node_infiniband_excessive_buffer_overrun_errors_total",
	  "Number of times that OverrunErrors consecutive flow control update periods occurred, "
	  "each having at least one overrun error.",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_link_downed_total",
	  "Number of times the link failed to recover from an error state and went down",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_link_error_recovery_total",
	  "Number of times the link successfully recovered from an error state", METRIC_COUNTER,
	  0 },
	{ "node_infiniband_local_link_integrity_errors_total",
	  "Number of times that the count of local physical errors exceeded the threshold "
	  "specified by LocalPhyErrors.",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_multicast_packets_received_total",
	  "Number of multicast packets received (including errors)", METRIC_COUNTER, 0 },
	{ "node_infiniband_multicast_packets_transmitted_total",
	  "Number of multicast packets transmitted (including errors)", METRIC_COUNTER, 0 },
	{ "node_infiniband_port_constraint_errors_received_total",
	  "Number of packets received on the switch physical port that are discarded",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_port_constraint_errors_transmitted_total",
	  "Number of packets not transmitted from the switch physical port", METRIC_COUNTER, 0 },
	{ "node_infiniband_port_data_received_bytes_total",
	  "Number of data octets received on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_port_data_transmitted_bytes_total",
	  "Number of data octets transmitted on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_port_discards_transmitted_total",
	  "Number of outbound packets discarded by the port because the port is down or "
	  "congested",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_port_errors_received_total",
	  "Number of packets containing an error that were received on this port", METRIC_COUNTER,
	  0 },
	{ "node_infiniband_port_packets_received_total",
	  "Number of packets received on all VLs by this port (including errors)", METRIC_COUNTER,
	  0 },
	{ "node_infiniband_port_packets_transmitted_total",
	  "Number of packets transmitted on all VLs from this port (including errors)",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_port_receive_remote_physical_errors_total",
	  "Number of packets marked with the EBP (End of Bad Packet) delimiter received on the "
	  "port.",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_port_receive_switch_relay_errors_total",
	  "Number of packets that could not be forwarded by the switch.", METRIC_COUNTER, 0 },
	{ "node_infiniband_port_transmit_wait_total",
	  "Number of ticks during which the port had data to transmit but no data was sent "
	  "during the entire tick",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_symbol_error_total",
	  "Number of minor link errors detected on one or more physical lanes.", METRIC_COUNTER,
	  0 },
	{ "node_infiniband_unicast_packets_received_total",
	  "Number of unicast packets received (including errors)", METRIC_COUNTER, 0 },
	{ "node_infiniband_unicast_packets_transmitted_total",
	  "Number of unicast packets transmitted (including errors)", METRIC_COUNTER, 0 },
	{ "node_infiniband_vl15_dropped_total",
	  "Number of incoming VL15 packets dropped due to resource limitations.", METRIC_COUNTER,
	  0 },
	{ "node_infiniband_port_discards_received_total",
	  "Number of inbound packets discarded by the port because the port is down or congested",
	  METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_multicast_packets_received_total",
	  "Number of multicast packets received", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_multicast_packets_transmitted_total",
	  "Number of multicast packets transmitted", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_data_received_bytes_total",
	  "Number of data octets received on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_packets_received_total",
	  "Number of data packets received on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_unicast_packets_received_total",
	  "Number of unicast packets received", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_unicast_packets_transmitted_total",
	  "Number of unicast packets transmitted", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_data_transmitted_bytes_total",
	  "Number of data octets transmitted on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_legacy_packets_transmitted_total",
	  "Number of data packets received on all links", METRIC_COUNTER, 0 },
	{ "node_infiniband_state_id",
	  "State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: "
	  "act defer)",
	  METRIC_GAUGE, 0 },
	{ "node_infiniband_physical_state_id",
	  "Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: "
	  "disable, 4: shift, 5: link up, 6: link error recover, 7: phytest)",
	  METRIC_GAUGE, 0 },
	{ "node_infiniband_rate_bytes_per_second", "Maximum signal transfer rate", METRIC_GAUGE,
	  0 },
};

/* info labels: device, then these attributes. */
static const char *const ib_info_labels[] = { "board_id", "device", "firmware_version",
					      "hca_type" };
#define IB_TEXT_MAX 128

struct ib_state {
	char root[PATH_MAX];
	struct dirents devs, ports;
	struct valtable table;
	char info[4][IB_TEXT_MAX];
};

static int ib_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct ib_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/class/infiniband", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/infiniband is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->table, N_COLS);
	*state = s;
	return 0;
}

static void ib_fini(void *state)
{
	struct ib_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devs);
	dirents_free(&s->ports);
	valtable_free(&s->table);
	free(s);
}

static long ib_text(const char *dir, const char *file, char *out, size_t cap)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", dir, file) != 0)
		return -ENAMETOOLONG;
	long n = sysfile_text(path, out, cap);
	if (n < 0)
		out[0] = '\0';
	return n;
}

/* "4: ACTIVE" -> 4 */
static bool ib_state_id(const char *text, double *v)
{
	const char *colon = strchr(text, ':');
	uint64_t id;
	if (!colon || !parse_u64(text, (size_t)(colon - text), &id))
		return false;
	*v = (double)id;
	return true;
}

/* "40 Gb/sec (4X QDR)" or "2.5 Gb/sec" -> bytes per second */
static bool ib_rate(const char *text, double *v)
{
	struct scan words = scan_text(text, strlen(text));
	const char *w, *unit;
	size_t n, unitlen;
	double rate;
	if (!scan_word(&words, &w, &n) || !parse_double(w, n, &rate) ||
	    !scan_word(&words, &unit, &unitlen))
		return false;
	if (word_is(unit, unitlen, "Gb/sec"))
		*v = rate * 1e9 / 8;
	else if (word_is(unit, unitlen, "Mb/sec"))
		*v = rate * 1e6 / 8;
	else
		return false;
	return true;
}

static void ib_read_counters(struct ib_state *s, const char *portdir, size_t row)
{
	char dir[PATH_MAX], ext[PATH_MAX], text[64];
	if (path_fmt(dir, sizeof dir, "%s/counters", portdir) != 0 ||
	    path_fmt(ext, sizeof ext, "%s/counters_ext", portdir) != 0)
		return;
	for (size_t c = 0; c < N_COUNTERS; c++) {
		uint64_t v;
		long n = ib_text(ib_counters[c].ext ? ext : dir, ib_counters[c].file, text,
				 sizeof text);
		if (n > 0 && parse_u64(text, (size_t)n, &v))
			valtable_set(&s->table, row, c, (double)v * ib_counters[c].scale);
	}
}

static int ib_read_port(struct ib_state *s, const char *dev, const char *devdir, const char *port)
{
	char dir[PATH_MAX], text[IB_TEXT_MAX];
	double v;
	if (path_fmt(dir, sizeof dir, "%s/ports/%s", devdir, port) != 0)
		return 0;
	const char *labels[] = { dev, port };
	int row = valtable_row(&s->table, labels, 2);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	if (ib_text(dir, "state", text, sizeof text) > 0 && ib_state_id(text, &v))
		valtable_set(&s->table, (size_t)row, COL_STATE, v);
	if (ib_text(dir, "phys_state", text, sizeof text) > 0 && ib_state_id(text, &v))
		valtable_set(&s->table, (size_t)row, COL_PHYS_STATE, v);
	if (ib_text(dir, "rate", text, sizeof text) > 0 && ib_rate(text, &v))
		valtable_set(&s->table, (size_t)row, COL_RATE, v);
	ib_read_counters(s, dir, (size_t)row);
	return 0;
}

static int ib_read_device(struct ib_state *s, const char *dev, struct lazyfam *info,
			  struct batch *b, char *err, size_t errlen)
{
	char dir[PATH_MAX], ports[PATH_MAX];
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, dev) != 0 ||
	    path_fmt(ports, sizeof ports, "%s/ports", dir) != 0)
		return 0;
	ib_text(dir, "board_id", s->info[0], IB_TEXT_MAX);
	snprintf(s->info[1], IB_TEXT_MAX, "%s", dev);
	ib_text(dir, "fw_ver", s->info[2], IB_TEXT_MAX);
	ib_text(dir, "hca_type", s->info[3], IB_TEXT_MAX);
	const char *values[] = { s->info[0], s->info[1], s->info[2], s->info[3] };
	int rc = lazyfam_add(b, info, ib_info_labels, values, 4, 1.0, err, errlen);
	if (rc || dirents_read(&s->ports, ports, NULL) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < s->ports.n; i++)
		rc = ib_read_port(s, dev, dir, dirents_name(&s->ports, i));
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory for InfiniBand ports");
	return rc;
}

static int ib_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "port" };
	struct ib_state *s = state;
	struct lazyfam info = { "node_infiniband_info",
				"Non-numeric data from /sys/class/infiniband/<device>, value is "
				"always 1.",
				METRIC_GAUGE, false };

	valtable_reset(&s->table);
	int rc = dirents_read(&s->devs, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->devs.n; i++)
		rc = ib_read_device(s, dirents_name(&s->devs, i), &info, b, err, errlen);
	return rc ? rc : valtable_emit(&s->table, ib_cols, names, 2, b, err, errlen);
}

const struct collector_ops collector_infiniband_ops = {
	.init = ib_init,
	.collect = ib_collect,
	.fini = ib_fini,
};
