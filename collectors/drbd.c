/*
 * drbd - DRBD 8 replicated block devices, from PROCFS/drbd, as node_exporter's
 * opt-in drbd collector reports them.  The file is read as blank-separated
 * "key:value" words; "<minor>:" starts device drbd<minor>, and of each device:
 *
 *   ns, nr, dw, dr, al, bm   counters (node_drbd_network_sent_bytes_total, ...)
 *   lo, pe, ua, ap, ep, oos  gauges (node_drbd_local_pending, ...)
 *   ro, ds                   node_drbd_node_role_is_primary and
 *                            node_drbd_disk_state_is_up_to_date{node="local"|"remote"}
 *   cs                       node_drbd_connected (1 when Connected)
 *
 * ns, dw, dr and oos are KiB in the file and bytes here.  nr is KiB too, but
 * node_exporter passes it on unscaled, and so does this collector so that the
 * two agree (docs/collectors.md).  Other words are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "procfile.h"
#include "scan.h"
#include "seriesbuf.h"

struct drbd_number {
	const char *key, *name, *help;
	enum metric_type type;
	double scale;
};

static const struct drbd_number drbd_numbers[] = {
	{ "ns", "node_drbd_network_sent_bytes_total", "Total number of bytes sent via the network.",
	  METRIC_COUNTER, 1024 },
	{ "nr", "node_drbd_network_received_bytes_total",
	  "Total number of bytes received via the network.", METRIC_COUNTER, 1 },
	{ "dw", "node_drbd_disk_written_bytes_total",
	  "Net data written on local hard disk; in bytes.", METRIC_COUNTER, 1024 },
	{ "dr", "node_drbd_disk_read_bytes_total", "Net data read from local hard disk; in bytes.",
	  METRIC_COUNTER, 1024 },
	{ "al", "node_drbd_activitylog_writes_total",
	  "Number of updates of the activity log area of the meta data.", METRIC_COUNTER, 1 },
	{ "bm", "node_drbd_bitmap_writes_total",
	  "Number of updates of the bitmap area of the meta data.", METRIC_COUNTER, 1 },
	{ "lo", "node_drbd_local_pending", "Number of open requests to the local I/O sub-system.",
	  METRIC_GAUGE, 1 },
	{ "pe", "node_drbd_remote_pending",
	  "Number of requests sent to the peer, but that have not yet been answered by the latter.",
	  METRIC_GAUGE, 1 },
	{ "ua", "node_drbd_remote_unacknowledged",
	  "Number of requests received by the peer via the network connection, but that have not "
	  "yet been answered.",
	  METRIC_GAUGE, 1 },
	{ "ap", "node_drbd_application_pending",
	  "Number of block I/O requests forwarded to DRBD, but not yet answered by DRBD.",
	  METRIC_GAUGE, 1 },
	{ "ep", "node_drbd_epochs", "Number of Epochs currently on the fly.", METRIC_GAUGE, 1 },
	{ "oos", "node_drbd_out_of_sync_bytes", "Amount of data known to be out of sync; in bytes.",
	  METRIC_GAUGE, 1024 },
};

struct drbd_pair {
	const char *key, *name, *help, *ok;
};

static const struct drbd_pair drbd_pairs[] = {
	{ "ro", "node_drbd_node_role_is_primary",
	  "Whether the role of the node is in the primary state.", "Primary" },
	{ "ds", "node_drbd_disk_state_is_up_to_date", "Whether the disk of the node is up to date.",
	  "UpToDate" },
};

struct drbd_state {
	struct procfile file;
	struct seriesbuf series;
};

static void drbd_fini(void *state)
{
	struct drbd_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	seriesbuf_free(&s->series);
	free(s);
}

static int drbd_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct drbd_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "drbd", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	seriesbuf_init(&s->series);
	*state = s;
	return 0;
}

static int drbd_number(struct seriesbuf *sb, const char *device, const char *key, size_t keylen,
		       const char *val, size_t vallen)
{
	static const char *const names[] = { "device" };
	const char *values[] = { device };
	double v;
	for (size_t i = 0; i < sizeof drbd_numbers / sizeof drbd_numbers[0]; i++) {
		const struct drbd_number *m = &drbd_numbers[i];
		if (!word_is(key, keylen, m->key))
			continue;
		if (!parse_double(val, vallen, &v))
			return 0;
		return seriesbuf_add(sb, m->name, m->help, m->type, names, values, 1, v * m->scale);
	}
	return 1; /* not a number key */
}

/* "ro:Primary/Secondary": whether each side is in the good state. */
static int drbd_pair(struct seriesbuf *sb, const char *device, const char *key, size_t keylen,
		     const char *val, size_t vallen)
{
	static const char *const names[] = { "device", "node" };
	const char *slash = memchr(val, '/', vallen);
	for (size_t i = 0; i < sizeof drbd_pairs / sizeof drbd_pairs[0]; i++) {
		const struct drbd_pair *m = &drbd_pairs[i];
		if (!word_is(key, keylen, m->key))
			continue;
		if (!slash)
			return 0;
		const char *local[] = { device, "local" }, *remote[] = { device, "remote" };
		size_t ln = (size_t)(slash - val);
		int rc = seriesbuf_add(sb, m->name, m->help, METRIC_GAUGE, names, local, 2,
				       word_is(val, ln, m->ok));
		return rc ? rc
			  : seriesbuf_add(sb, m->name, m->help, METRIC_GAUGE, names, remote, 2,
					  word_is(slash + 1, vallen - ln - 1, m->ok));
	}
	if (!word_is(key, keylen, "cs"))
		return 0;
	const char *values[] = { device };
	return seriesbuf_add(sb, "node_drbd_connected", "Whether DRBD is connected to the peer.",
			     METRIC_GAUGE, names, values, 1, word_is(val, vallen, "Connected"));
}

static int drbd_word(struct seriesbuf *sb, char *device, size_t devlen, const char *w, size_t n)
{
	const char *colon = memchr(w, ':', n);
	uint64_t minor;
	if (!colon || memchr(colon + 1, ':', n - (size_t)(colon - w) - 1))
		return 0; /* not exactly one ':' */
	size_t keylen = (size_t)(colon - w), vallen = n - keylen - 1;
	if (vallen == 0) {
		if (parse_u64(w, keylen, &minor))
			snprintf(device, devlen, "drbd%llu", (unsigned long long)minor);
		return 0;
	}
	int rc = drbd_number(sb, device, w, keylen, colon + 1, vallen);
	return rc == 1 ? drbd_pair(sb, device, w, keylen, colon + 1, vallen) : rc;
}

static int drbd_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct drbd_state *s = state;
	char device[32] = "unknown";
	int rc = procfile_read(&s->file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	seriesbuf_reset(&s->series);
	struct scan text = scan_text(s->file.buf, s->file.len), line;
	const char *w;
	size_t n;
	while (rc == 0 && scan_line(&text, &line))
		while (rc == 0 && scan_word(&line, &w, &n))
			rc = drbd_word(&s->series, device, sizeof device, w, n);
	if (rc) {
		snprintf(err, errlen, "out of memory reading %s", s->file.path);
		return rc;
	}
	return seriesbuf_emit(&s->series, b, err, errlen);
}

const struct collector_ops collector_drbd_ops = {
	.init = drbd_init,
	.collect = drbd_collect,
	.fini = drbd_fini,
};
