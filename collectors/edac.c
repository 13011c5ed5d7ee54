/*
 * edac - memory error counts of each EDAC memory controller, as node_exporter's
 * edac collector reports them, from SYSFS/devices/system/edac/mc/mc<N>/:
 * ce_count and ue_count for the controller, csrow<M>/ce_count and ue_count per
 * chip-select row, and ce_noinfo_count / ue_noinfo_count (errors the driver could
 * not place) as csrow="unknown"; and per channel of a row, csrow<M>/ch<K>_ce_count
 * and ch<K>_ue_count labelled with the DIMM's label (ch<K>_dimm_label, in
 * node_exporter's spelling: '#' dropped, "_" put before "csrow" and "channel";
 * "unknown" when there is none).  A count that cannot be read is left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "scan.h"
#include "valtable.h"

enum { COL_CE, COL_UE, N_COLS };

static const struct valtable_col controller_cols[N_COLS] = {
	{ "node_edac_correctable_errors_total", "Total correctable memory errors.", METRIC_COUNTER,
	  0 },
	{ "node_edac_uncorrectable_errors_total", "Total uncorrectable memory errors.",
	  METRIC_COUNTER, 0 },
};

static const struct valtable_col csrow_cols[N_COLS] = {
	{ "node_edac_csrow_correctable_errors_total",
	  "Total correctable memory errors for this csrow.", METRIC_COUNTER, 0 },
	{ "node_edac_csrow_uncorrectable_errors_total",
	  "Total uncorrectable memory errors for this csrow.", METRIC_COUNTER, 0 },
};

static const struct valtable_col channel_cols[N_COLS] = {
	{ "node_edac_channel_correctable_errors_total",
	  "Total correctable memory errors for this channel.", METRIC_COUNTER, 0 },
	{ "node_edac_channel_uncorrectable_errors_total",
	  "Total uncorrectable memory errors for this channel.", METRIC_COUNTER, 0 },
};

struct edac_state {
	char root[PATH_MAX];
	struct dirents mcs, rows, channels;
	struct valtable controllers, csrows, chans;
};

/* "prefix<digits>" */
static bool numbered(const char *name, const char *prefix)
{
	size_t p = strlen(prefix);
	uint64_t id;
	return strncmp(name, prefix, p) == 0 && parse_u64(name + p, strlen(name + p), &id);
}

static bool is_mc(const char *name)
{
	return numbered(name, "mc");
}

static bool is_csrow(const char *name)
{
	return numbered(name, "csrow");
}

/* "ch<digits>_ce_count" */
static bool is_channel_count(const char *name)
{
	size_t n = strlen(name), digits = n > 11 ? n - 11 : 0;
	uint64_t id;
	return digits > 0 && strncmp(name, "ch", 2) == 0 &&
	       strcmp(name + 2 + digits, "_ce_count") == 0 && parse_u64(name + 2, digits, &id);
}

static int edac_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct edac_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/devices/system/edac/mc", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/devices/system/edac/mc is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->controllers, N_COLS);
	valtable_init(&s->csrows, N_COLS);
	valtable_init(&s->chans, N_COLS);
	*state = s;
	return 0;
}

static void edac_fini(void *state)
{
	struct edac_state *s = state;
	if (!s)
		return;
	dirents_free(&s->mcs);
	dirents_free(&s->rows);
	dirents_free(&s->channels);
	valtable_free(&s->controllers);
	valtable_free(&s->csrows);
	valtable_free(&s->chans);
	free(s);
}

/* Sets cols COL_CE and COL_UE of a new row labelled values from dir/ce_file... */
static int edac_row(struct valtable *t, const char *const *values, size_t n, const char *dir,
		    const char *ce_file, const char *ue_file)
{
	char path[PATH_MAX];
	const char *files[N_COLS] = { ce_file, ue_file };
	int row = valtable_row(t, values, n);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t c = 0; c < N_COLS; c++) {
		uint64_t v;
		if (path_fmt(path, sizeof path, "%s/%s", dir, files[c]) == 0 &&
		    sysfile_u64(path, &v) == 0)
			valtable_set(t, (size_t)row, c, (double)v);
	}
	return 0;
}

/* The DIMM label as node_exporter writes it: '#' dropped, '_' before "csrow"
 * and "channel" ("mc#0csrow#1channel#0" -> "mc0_csrow1_channel0"). */
static void edac_dimm_label(const char *rowdir, const char *ch, char *out, size_t cap)
{
	char path[PATH_MAX], raw[VALTABLE_LABEL_MAX];
	size_t w = 0;

	if (path_fmt(path, sizeof path, "%s/ch%s_dimm_label", rowdir, ch) != 0 ||
	    sysfile_text(path, raw, sizeof raw) < 0) {
		snprintf(out, cap, "unknown");
		return;
	}
	for (const char *r = raw; *r && w + 1 < cap; r++) {
		if (*r == '#')
			continue;
		if ((strncmp(r, "csrow", 5) == 0 || strncmp(r, "channel", 7) == 0) && w + 2 < cap)
			out[w++] = '_';
		out[w++] = *r;
	}
	out[w] = '\0';
}

/* The channels of one row: csrow<M>/ch<K>_{ce,ue}_count. */
static int edac_read_channels(struct edac_state *s, const char *id, const char *row,
			      const char *rowdir)
{
	char ce[32], ue[32], label[VALTABLE_LABEL_MAX];
	int rc = 0;

	if (dirents_read(&s->channels, rowdir, is_channel_count) != 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->channels.n; i++) {
		const char *name = dirents_name(&s->channels, i);
		char ch[16];
		size_t digits = strlen(name) - 11;
		if (digits >= sizeof ch)
			continue;
		memcpy(ch, name + 2, digits);
		ch[digits] = '\0';
		snprintf(ce, sizeof ce, "ch%s_ce_count", ch);
		snprintf(ue, sizeof ue, "ch%s_ue_count", ch);
		edac_dimm_label(rowdir, ch, label, sizeof label);
		const char *values[] = { ch, id, row + 5, label };
		rc = edac_row(&s->chans, values, 4, rowdir, ce, ue);
	}
	return rc;
}

static int edac_read_mc(struct edac_state *s, const char *mc)
{
	char dir[PATH_MAX], rowdir[PATH_MAX];
	const char *id = mc + 2;
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, mc) != 0)
		return 0;
	const char *ctl[] = { id };
	int rc = edac_row(&s->controllers, ctl, 1, dir, "ce_count", "ue_count");
	if (rc)
		return rc;
	if (dirents_read(&s->rows, dir, is_csrow) != 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->rows.n; i++) {
		const char *row = dirents_name(&s->rows, i);
		const char *values[] = { id, row + 5 };
		if (path_fmt(rowdir, sizeof rowdir, "%s/%s", dir, row) != 0)
			continue;
		rc = edac_row(&s->csrows, values, 2, rowdir, "ce_count", "ue_count");
		if (rc == 0)
			rc = edac_read_channels(s, id, row, rowdir);
	}
	const char *unknown[] = { id, "unknown" };
	return rc ? rc
		  : edac_row(&s->csrows, unknown, 2, dir, "ce_noinfo_count", "ue_noinfo_count");
}

static int edac_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const ctl_names[] = { "controller" };
	static const char *const row_names[] = { "controller", "csrow" };
	static const char *const chan_names[] = { "channel", "controller", "csrow", "dimm_label" };
	struct edac_state *s = state;

	valtable_reset(&s->controllers);
	valtable_reset(&s->csrows);
	valtable_reset(&s->chans);
	int rc = dirents_read(&s->mcs, s->root, is_mc);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->mcs.n; i++)
		rc = edac_read_mc(s, dirents_name(&s->mcs, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->controllers, controller_cols, ctl_names, 1, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->csrows, csrow_cols, row_names, 2, b, err, errlen);
	return rc ? rc : valtable_emit(&s->chans, channel_cols, chan_names, 4, b, err, errlen);
}

const struct collector_ops collector_edac_ops = {
	.init = edac_init,
	.collect = edac_collect,
	.fini = edac_fini,
};
