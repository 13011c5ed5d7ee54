/*
 * rapl - energy counters of the RAPL power zones in SYSFS/class/powercap/
 * (intel-rapl:0, intel-rapl:0:1, intel-rapl-mmio:0...), as node_exporter's rapl
 * collector reports them: node_rapl_<zone>_joules_total{index, path}, or with
 * --collector.rapl.enable-zone-label one node_rapl_joules_total{index, path,
 * rapl_zone}.
 *
 * The zone is the name file without a "-N" suffix ("package-0" is zone package,
 * index 0); a name without one (core, dram) gets the number of times that name
 * was seen before in directory order, as node_exporter counts them.  path is the
 * zone's directory under --path.sysfs.  energy_uj is readable by root only on
 * most kernels: a zone whose counter cannot be read is left out.
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

enum { L_ZONE, L_INDEX, L_PATH };

struct rapl_state {
	char root[PATH_MAX];
	bool zone_label;
	struct dirents dirs;
	struct valtable zones; /* labels zone, index, path; one column: joules */
};

static int rapl_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct rapl_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/class/powercap", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/powercap is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	s->zone_label = collector_option_bool(env, "enable-zone-label");
	valtable_init(&s->zones, 1);
	*state = s;
	return 0;
}

static void rapl_fini(void *state)
{
	struct rapl_state *s = state;
	if (!s)
		return;
	dirents_free(&s->dirs);
	valtable_free(&s->zones);
	free(s);
}

/* Splits "package-0" into zone "package" and index 0; false without a suffix. */
static bool rapl_split(char *name, unsigned long long *index)
{
	char *dash = strchr(name, '-');
	uint64_t v;
	if (!dash || strchr(dash + 1, '-') || !parse_u64(dash + 1, strlen(dash + 1), &v))
		return false;
	*dash = '\0';
	*index = v;
	return true;
}

/* One more than the index of the last zone so far with this name, or 0. */
static unsigned long long rapl_next_index(const struct rapl_state *s, const char *zone)
{
	for (size_t r = s->zones.n_rows; r-- > 0;)
		if (strcmp(s->zones.labels[r][L_ZONE], zone) == 0)
			return strtoull(s->zones.labels[r][L_INDEX], NULL, 10) + 1;
	return 0;
}

static int rapl_read_zone(struct rapl_state *s, const char *dir)
{
	char path[PATH_MAX], zone[128], index[24];
	unsigned long long idx;
	uint64_t uj;

	if (path_fmt(path, sizeof path, "%s/%s/name", s->root, dir) != 0 ||
	    sysfile_text(path, zone, sizeof zone) <= 0)
		return 0;
	if (!rapl_split(zone, &idx))
		idx = rapl_next_index(s, zone);
	snprintf(index, sizeof index, "%llu", idx);
	if (path_fmt(path, sizeof path, "%s/%s/energy_uj", s->root, dir) != 0 ||
	    sysfile_u64(path, &uj) != 0)
		return 0;
	path[strlen(path) - strlen("/energy_uj")] = '\0';
	const char *values[] = { zone, index, path };
	int row = valtable_row(&s->zones, values, 3);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	valtable_set(&s->zones, (size_t)row, 0, (double)uj / 1e6);
	return 0;
}

static int rapl_emit_labelled(const struct rapl_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "index", "path", "rapl_zone" };
	struct lazyfam f = { "node_rapl_joules_total", "Current RAPL value in joules",
			     METRIC_COUNTER, false };
	for (size_t r = 0; r < s->zones.n_rows; r++) {
		const char *values[] = { s->zones.labels[r][L_INDEX], s->zones.labels[r][L_PATH],
					 s->zones.labels[r][L_ZONE] };
		int rc = lazyfam_add(b, &f, names, values, 3, s->zones.v[r], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static bool rapl_zone_seen_before(const struct rapl_state *s, size_t r)
{
	for (size_t k = 0; k < r; k++)
		if (strcmp(s->zones.labels[k][L_ZONE], s->zones.labels[r][L_ZONE]) == 0)
			return true;
	return false;
}

/* node_rapl_<zone>_joules_total for the zone of row first and the rows after. */
static int rapl_emit_zone(const struct rapl_state *s, size_t first, struct batch *b, char *err,
			  size_t errlen)
{
	static const char *const names[] = { "index", "path" };
	const char *zone = s->zones.labels[first][L_ZONE];
	char name[METRIC_NAME_MAX + 1], help[METRIC_HELP_MAX + 1];
	if (path_fmt(name, sizeof name, "node_rapl_%s_joules_total", zone) != 0 ||
	    path_fmt(help, sizeof help, "Current RAPL %s value in joules", zone) != 0)
		return 0;
	struct lazyfam f = { name, help, METRIC_COUNTER, false };
	for (size_t r = first; r < s->zones.n_rows; r++) {
		if (strcmp(s->zones.labels[r][L_ZONE], zone) != 0)
			continue;
		const char *values[] = { s->zones.labels[r][L_INDEX], s->zones.labels[r][L_PATH] };
		int rc = lazyfam_add(b, &f, names, values, 2, s->zones.v[r], err, errlen);
		if (rc == -EINVAL && !f.started)
			return 0; /* a zone name that makes no valid metric name */
		if (rc)
			return rc;
	}
	return 0;
}

static int rapl_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct rapl_state *s = state;

	valtable_reset(&s->zones);
	int rc = dirents_read(&s->dirs, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->dirs.n; i++)
		rc = rapl_read_zone(s, dirents_name(&s->dirs, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	if (s->zone_label)
		return rapl_emit_labelled(s, b, err, errlen);
	for (size_t r = 0; rc == 0 && r < s->zones.n_rows; r++)
		if (!rapl_zone_seen_before(s, r))
			rc = rapl_emit_zone(s, r, b, err, errlen);
	return rc;
}

const struct collector_ops collector_rapl_ops = {
	.init = rapl_init,
	.collect = rapl_collect,
	.fini = rapl_fini,
};
