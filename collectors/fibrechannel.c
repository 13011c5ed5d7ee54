/*
 * fibrechannel - Fibre Channel host ports from SYSFS/class/fc_host/<host>/, as
 * node_exporter's fibrechannel collector reports them: node_fibrechannel_info
 * labelled with the port's attributes (the "0x" of the hexadecimal ones
 * dropped), and the counters of statistics/, which the kernel prints in
 * hexadecimal.  A counter of all ones (0xffffffffffffffff) is the driver's way of
 * saying it does not keep that count, and is left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "valtable.h"

static const char *const fc_stat_files[] = {
	"dumped_frames",
	"error_frames",
	"fcp_packet_aborts",
	"invalid_crc_count",
	"invalid_tx_word_count",
	"link_failure_count",
	"loss_of_signal_count",
	"loss_of_sync_count",
	"nos_count",
	"rx_frames",
	"rx_words",
	"seconds_since_last_reset",
	"tx_frames",
	"tx_words",
};
#define N_STATS (sizeof fc_stat_files / sizeof fc_stat_files[0])

static const struct valtable_col fc_cols[N_STATS] = {
	{ "node_fibrechannel_dumped_frames_total", "Number of dumped frames", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_error_frames_total", "Number of errors in frames", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_fcp_packet_aborts_total", "Number of aborted packets", METRIC_COUNTER,
	  0 },
	{ "node_fibrechannel_invalid_crc_total", "Invalid Cyclic Redundancy Check count",
	  METRIC_COUNTER, 0 },
	{ "node_fibrechannel_invalid_tx_words_total",
	  "Number of invalid words transmitted by host port", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_link_failure_total", "Number of times the host port link has failed",
	  METRIC_COUNTER, 0 },
	{ "node_fibrechannel_loss_of_signal_total", "Number of times signal has been lost",
	  METRIC_COUNTER, 0 },
	{ "node_fibrechannel_loss_of_sync_total",
	  "Number of failures on either bit or transmission word boundaries", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_nos_total",
	  "Number Not_Operational Primitive Sequence received by host port", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_rx_frames_total", "Number of frames received", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_rx_words_total", "Number of words received by host port",
	  METRIC_COUNTER, 0 },
	{ "node_fibrechannel_seconds_since_last_reset_total",
	  "Number of seconds since last host port reset", METRIC_COUNTER, 0 },
	{ "node_fibrechannel_tx_frames_total", "Number of frames transmitted by host port",
	  METRIC_COUNTER, 0 },
	{ "node_fibrechannel_tx_words_total", "Number of words transmitted by host port",
	  METRIC_COUNTER, 0 },
};

/* The info labels in name order; "fc_host" is the host's name, not a file. */
static const char *const fc_info[] = {
	"dev_loss_tmo",      "fabric_name",      "fc_host",       "port_id",
	"port_name",         "port_state",       "port_type",     "speed",
	"supported_classes", "supported_speeds", "symbolic_name",
};
#define N_INFO      (sizeof fc_info / sizeof fc_info[0])
#define FC_TEXT_MAX 256

struct fc_state {
	char root[PATH_MAX];
	struct dirents hosts;
	struct valtable table;
	char text[N_INFO][FC_TEXT_MAX];
};

static int fc_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct fc_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/class/fc_host", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/fc_host is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->table, N_STATS);
	*state = s;
	return 0;
}

static void fc_fini(void *state)
{
	struct fc_state *s = state;
	if (!s)
		return;
	dirents_free(&s->hosts);
	valtable_free(&s->table);
	free(s);
}

/* "0x1a" -> 26; false for anything else. */
static bool fc_hex(const char *text, uint64_t *v)
{
	char *end;
	if (strncmp(text, "0x", 2) != 0 || text[2] == '\0')
		return false;
	errno = 0;
	unsigned long long u = strtoull(text + 2, &end, 16);
	if (*end != '\0' || errno == ERANGE)
		return false;
	*v = u;
	return true;
}

static void fc_read_stats(struct fc_state *s, const char *hostdir, size_t row)
{
	char path[PATH_MAX], text[64];
	for (size_t c = 0; c < N_STATS; c++) {
		uint64_t v;
		if (path_fmt(path, sizeof path, "%s/statistics/%s", hostdir, fc_stat_files[c]) !=
			0 ||
		    sysfile_text(path, text, sizeof text) <= 0 || !fc_hex(text, &v) ||
		    v == UINT64_MAX)
			continue;
		valtable_set(&s->table, row, c, (double)v);
	}
}

static int fc_emit_info(struct fc_state *s, const char *host, const char *hostdir,
			struct lazyfam *f, struct batch *b, char *err, size_t errlen)
{
	const char *values[N_INFO];
	char path[PATH_MAX];
	for (size_t i = 0; i < N_INFO; i++) {
		char *t = s->text[i];
		values[i] = t;
		if (strcmp(fc_info[i], "fc_host") == 0) {
			snprintf(t, FC_TEXT_MAX, "%s", host);
			continue;
		}
		if (path_fmt(path, sizeof path, "%s/%s", hostdir, fc_info[i]) != 0 ||
		    sysfile_text(path, t, FC_TEXT_MAX) < 0)
			t[0] = '\0';
		if (strncmp(t, "0x", 2) == 0)
			values[i] = t + 2;
	}
	return lazyfam_add(b, f, fc_info, values, N_INFO, 1.0, err, errlen);
}

static int fc_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "fc_host" };
	struct fc_state *s = state;
	struct lazyfam info = {
		"node_fibrechannel_info",
		"Non-numeric data from /sys/class/fc_host/<host>, value is always 1.", METRIC_GAUGE,
		false
	};
	char dir[PATH_MAX];

	valtable_reset(&s->table);
	int rc = dirents_read(&s->hosts, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->hosts.n; i++) {
		const char *host = dirents_name(&s->hosts, i);
		if (path_fmt(dir, sizeof dir, "%s/%s", s->root, host) != 0)
			continue;
		rc = fc_emit_info(s, host, dir, &info, b, err, errlen);
		const char *labels[] = { host };
		int row = rc ? -1 : valtable_row(&s->table, labels, 1);
		if (row == -ENOMEM) {
			snprintf(err, errlen, "out of memory for Fibre Channel hosts");
			return row;
		}
		if (row >= 0)
			fc_read_stats(s, dir, (size_t)row);
	}
	return rc ? rc : valtable_emit(&s->table, fc_cols, names, 1, b, err, errlen);
}

const struct collector_ops collector_fibrechannel_ops = {
	.init = fc_init,
	.collect = fc_collect,
	.fini = fc_fini,
};
