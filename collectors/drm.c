/*
 * drm - AMD GPUs (the amdgpu driver), from SYSFS/class/drm/card<N>/device/, as
 * node_exporter's opt-in drm collector reports them, labelled card:
 * node_drm_gpu_busy_percent, node_drm_memory_{gtt,vram,vis_vram}_{size,used}_bytes
 * (0 when the driver lacks the attribute, as node_exporter reports it) and
 * node_drm_card_info{card, memory_vendor, power_performance_level, unique_id,
 * [chip,] vendor="amd"} 1.  chip names the PCI device, "<parent>_<device>"
 * cleaned like a hwmon chip name; a card whose device cannot be resolved gets
 * no chip label.  Cards of other drivers, and connectors (card0-DP-1), are
 * skipped; as in node_exporter only card0 to card9 are looked at.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "metricname.h"
#include "scan.h"
#include "valtable.h"

static const char *const number_files[] = { "gpu_busy_percent",       "mem_info_gtt_total",
					    "mem_info_gtt_used",      "mem_info_vis_vram_total",
					    "mem_info_vis_vram_used", "mem_info_vram_total",
					    "mem_info_vram_used" };
#define N_NUMBERS (sizeof number_files / sizeof number_files[0])

static const struct valtable_col number_cols[N_NUMBERS] = {
	{ "node_drm_gpu_busy_percent", "How busy the GPU is as a percentage.", METRIC_GAUGE, 0 },
	{ "node_drm_memory_gtt_size_bytes",
	  "The size of the graphics translation table (GTT) block in bytes.", METRIC_GAUGE, 0 },
	{ "node_drm_memory_gtt_used_bytes",
	  "The used amount of the graphics translation table (GTT) block in bytes.", METRIC_GAUGE,
	  0 },
	{ "node_drm_memory_vis_vram_size_bytes", "The size of visible VRAM in bytes.", METRIC_GAUGE,
	  0 },
	{ "node_drm_memory_vis_vram_used_bytes", "The used amount of visible VRAM in bytes.",
	  METRIC_GAUGE, 0 },
	{ "node_drm_memory_vram_size_bytes", "The size of VRAM in bytes.", METRIC_GAUGE, 0 },
	{ "node_drm_memory_vram_used_bytes", "The used amount of VRAM in bytes.", METRIC_GAUGE, 0 },
};

static const struct valtable_col info_col = { "node_drm_card_info", "Card information",
					      METRIC_GAUGE, 0 };

struct drm_state {
	char dir[PATH_MAX];
	struct dirents cards;
	struct valtable numbers, info, info_chip;
};

static void drm_fini(void *state)
{
	struct drm_state *s = state;
	if (!s)
		return;
	dirents_free(&s->cards);
	valtable_free(&s->numbers);
	valtable_free(&s->info);
	valtable_free(&s->info_chip);
	free(s);
}

static int drm_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct drm_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/class/drm", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/drm is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->numbers, N_NUMBERS);
	valtable_init(&s->info, 1);
	valtable_init(&s->info_chip, 1);
	*state = s;
	return 0;
}

/* "card" and one digit, as node_exporter's glob card[0-9]. */
static bool is_card(const char *name)
{
	return strncmp(name, "card", 4) == 0 && name[4] >= '0' && name[4] <= '9' && !name[5];
}

static bool read_attr(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s", dir, file) == 0 &&
	       sysfile_text(path, buf, len) >= 0;
}

/* The uevent names the amdgpu driver. */
static bool is_amdgpu(const char *dev)
{
	char uevent[4096];
	return read_attr(dev, "uevent", uevent, sizeof uevent) &&
	       strstr(uevent, "DRIVER=amdgpu") != NULL;
}

/* "<parent>_<device>" of the device the card's device link resolves to. */
static void drm_chip(const char *dev, char *chip, size_t len)
{
	char real[PATH_MAX], name[128], parent[128];
	chip[0] = '\0';
	if (!realpath(dev, real))
		return;
	char *slash = strrchr(real, '/');
	if (!slash || slash == real)
		return;
	metric_name_clean(name, sizeof name, slash + 1, strlen(slash + 1));
	*slash = '\0';
	char *up = strrchr(real, '/');
	metric_name_clean(parent, sizeof parent, up ? up + 1 : real, strlen(up ? up + 1 : real));
	if (parent[0] && name[0])
		snprintf(chip, len, "%s_%s", parent, name);
	else
		snprintf(chip, len, "%s", name);
}

static int drm_card(struct drm_state *s, const char *card)
{
	char dev[PATH_MAX], text[64], chip[256], vendor[VALTABLE_LABEL_MAX],
	    level[VALTABLE_LABEL_MAX], uid[VALTABLE_LABEL_MAX];
	uint64_t v;
	if (path_fmt(dev, sizeof dev, "%s/%s/device", s->dir, card) != 0 || !is_amdgpu(dev))
		return 0;
	const char *labels[] = { card };
	int row = valtable_row(&s->numbers, labels, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t i = 0; i < N_NUMBERS; i++) {
		long n = read_attr(dev, number_files[i], text, sizeof text) ? (long)strlen(text)
									    : -1;
		valtable_set(&s->numbers, (size_t)row, i,
			     n >= 0 && parse_u64(text, (size_t)n, &v) ? (double)v : 0);
	}
	if (!read_attr(dev, "mem_info_vram_vendor", vendor, sizeof vendor))
		vendor[0] = '\0';
	if (!read_attr(dev, "power_dpm_force_performance_level", level, sizeof level))
		level[0] = '\0';
	if (!read_attr(dev, "unique_id", uid, sizeof uid))
		uid[0] = '\0';
	drm_chip(dev, chip, sizeof chip);
	const char *info[] = { card, vendor, level, uid, chip, "amd" };
	const char *plain[] = { card, vendor, level, uid, "amd" };
	struct valtable *t = chip[0] ? &s->info_chip : &s->info;
	row = chip[0] ? valtable_row(t, info, 6) : valtable_row(t, plain, 5);
	if (row >= 0)
		valtable_set(t, (size_t)row, 0, 1);
	return row == -ENOMEM ? row : 0;
}

/* Adds the rows of t (n labels each) to the current family. */
static int add_info_rows(const struct valtable *t, const char *const *names, size_t n,
			 struct batch *b, char *err, size_t errlen)
{
	const char *values[VALTABLE_LABELS];
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t i = 0; i < n; i++)
			values[i] = t->labels[r][i];
		int rc = batch_add(b, names, values, n, 1, err, errlen);
		if (rc && rc != -EEXIST && rc != -EINVAL)
			return rc;
	}
	return 0;
}

/* node_drm_card_info is one family whose series have the chip label or not. */
static int drm_emit(const struct drm_state *s, struct batch *b, const char *const *names,
		    const char *const *plain, char *err, size_t errlen)
{
	int rc = valtable_emit(&s->numbers, number_cols, names, 1, b, err, errlen);
	if (rc || s->info.n_rows + s->info_chip.n_rows == 0)
		return rc;
	rc = batch_family(b, info_col.name, info_col.help, info_col.type, err, errlen);
	if (rc == 0)
		rc = add_info_rows(&s->info_chip, names, 6, b, err, errlen);
	return rc ? rc : add_info_rows(&s->info, plain, 5, b, err, errlen);
}

static int drm_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = {
		"card", "memory_vendor", "power_performance_level", "unique_id", "chip", "vendor"
	};
	static const char *const plain[] = { "card", "memory_vendor", "power_performance_level",
					     "unique_id", "vendor" };
	struct drm_state *s = state;
	valtable_reset(&s->numbers);
	valtable_reset(&s->info);
	valtable_reset(&s->info_chip);
	int rc = dirents_read(&s->cards, s->dir, is_card);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->cards.n; i++)
		rc = drm_card(s, dirents_name(&s->cards, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	return drm_emit(s, b, names, plain, err, errlen);
}

const struct collector_ops collector_drm_ops = {
	.init = drm_init,
	.collect = drm_collect,
	.fini = drm_fini,
};
