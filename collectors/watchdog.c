/*
 * watchdog - hardware and software watchdog timers, from
 * SYSFS/class/watchdog/<name>/, as node_exporter's watchdog collector reports
 * them (on by default there since 1.9, and here), labelled name:
 * node_watchdog_bootstatus, _fw_version, _nowayout, _timeleft_seconds,
 * _timeout_seconds, _pretimeout_seconds and _access_cs0 for the attributes a
 * driver has, and node_watchdog_info{name, options, identity, state, status,
 * pretimeout_governor} 1 (an attribute the driver lacks is "").  An attribute
 * that cannot be read or parsed is left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "sysattr.h"
#include "valtable.h"

static const char *const number_files[] = { "bootstatus", "fw_version", "nowayout",  "timeleft",
					    "timeout",    "pretimeout", "access_cs0" };
#define N_NUMBERS (sizeof number_files / sizeof number_files[0])

#define V(f, n)                                                                                   \
	{                                                                                         \
		"node_watchdog_" n, "Value of /sys/class/watchdog/<watchdog>/" f, METRIC_GAUGE, 0 \
	}
static const struct valtable_col number_cols[N_NUMBERS] = {
	V("bootstatus", "bootstatus"),   V("fw_version", "fw_version"),
	V("nowayout", "nowayout"),       V("timeleft", "timeleft_seconds"),
	V("timeout", "timeout_seconds"), V("pretimeout", "pretimeout_seconds"),
	V("access_cs0", "access_cs0"),
};
#undef V

static const char *const info_files[] = { "options", "identity", "state", "status",
					  "pretimeout_governor" };
#define N_INFO (sizeof info_files / sizeof info_files[0])

static const struct valtable_col info_col = { "node_watchdog_info",
					      "Info of /sys/class/watchdog/<watchdog>",
					      METRIC_GAUGE, 0 };

struct watchdog_state {
	char dir[PATH_MAX];
	struct dirents devices;
	struct valtable numbers, info;
};

static void watchdog_fini(void *state)
{
	struct watchdog_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devices);
	valtable_free(&s->numbers);
	valtable_free(&s->info);
	free(s);
}

static int watchdog_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct watchdog_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/class/watchdog", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/watchdog is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->numbers, N_NUMBERS);
	valtable_init(&s->info, 1);
	*state = s;
	return 0;
}

/* Reads dir/file into buf; false when it is missing or unreadable. */
static bool read_attr(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s", dir, file) == 0 &&
	       sysfile_text(path, buf, len) >= 0;
}

static int watchdog_device(struct watchdog_state *s, const char *name)
{
	char dir[PATH_MAX], text[VALTABLE_LABEL_MAX], info[N_INFO][VALTABLE_LABEL_MAX];
	const char *labels[1 + N_INFO] = { name };
	int64_t v;
	if (path_fmt(dir, sizeof dir, "%s/%s", s->dir, name) != 0)
		return 0;
	int row = valtable_row(&s->numbers, labels, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t i = 0; i < N_NUMBERS; i++)
		if (read_attr(dir, number_files[i], text, sizeof text) &&
		    sysattr_parse_i64(text, strlen(text), &v))
			valtable_set(&s->numbers, (size_t)row, i, (double)v);
	for (size_t i = 0; i < N_INFO; i++) {
		if (!read_attr(dir, info_files[i], info[i], sizeof info[i]))
			info[i][0] = '\0';
		labels[1 + i] = info[i];
	}
	row = valtable_row(&s->info, labels, 1 + N_INFO);
	if (row >= 0)
		valtable_set(&s->info, (size_t)row, 0, 1);
	return row == -ENOMEM ? row : 0;
}

static int watchdog_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "name",  "options", "identity",
					     "state", "status",  "pretimeout_governor" };
	struct watchdog_state *s = state;
	valtable_reset(&s->numbers);
	valtable_reset(&s->info);
	int rc = dirents_read(&s->devices, s->dir, NULL);
	if (rc == -ENOENT || rc == -EACCES)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->devices.n; i++)
		rc = watchdog_device(s, dirents_name(&s->devices, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->numbers, number_cols, names, 1, b, err, errlen);
	return rc ? rc : valtable_emit(&s->info, &info_col, names, 1 + N_INFO, b, err, errlen);
}

const struct collector_ops collector_watchdog_ops = {
	.init = watchdog_init,
	.collect = watchdog_collect,
	.fini = watchdog_fini,
};
