/*
 * bonding - configured and active (MII status "up") slaves of each bonding
 * master, as node_exporter's bonding collector reports them, from
 * SYSFS/class/net/bonding_masters, <master>/bonding/slaves and
 * <master>/lower_<slave>/bonding_slave/mii_status (slave_<slave>/ on older
 * kernels).  A master that vanished between the reads is skipped; a slave whose
 * status cannot be read counts as configured but not active.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

enum { COL_SLAVES, COL_ACTIVE, N_COLS };

static const struct valtable_col bonding_cols[N_COLS] = {
	{ "node_bonding_slaves", "Number of configured slaves per bonding interface.", METRIC_GAUGE,
	  0 },
	{ "node_bonding_active", "Number of active slaves per bonding interface.", METRIC_GAUGE,
	  0 },
};

/* Interface names are at most 15 bytes (IFNAMSIZ); these files list a few. */
#define LIST_MAX 4096

struct bonding_state {
	struct procfile masters;
	char net[PATH_MAX];
	struct valtable table;
};

static int bonding_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct bonding_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->masters, env->sysfs, "class/net/bonding_masters", err, errlen);
	if (rc == 0 && path_fmt(s->net, sizeof s->net, "%s/class/net", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/net is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		free(s);
		return rc;
	}
	valtable_init(&s->table, N_COLS);
	*state = s;
	return 0;
}

static void bonding_fini(void *state)
{
	struct bonding_state *s = state;
	if (!s)
		return;
	procfile_close(&s->masters);
	valtable_free(&s->table);
	free(s);
}

/* The first line of buf: sysfs lists are one line, blank-separated. */
static void scan_line_of(const char *buf, size_t len, struct scan *line)
{
	struct scan text = scan_text(buf, len);
	if (!scan_line(&text, line))
		*line = (struct scan){ buf, buf };
}

static bool slave_is_up(const struct bonding_state *s, const char *master, const char *slave)
{
	static const char *const prefixes[] = { "lower_", "slave_" };
	char path[PATH_MAX], status[64];

	for (size_t i = 0; i < 2; i++) {
		if (path_fmt(path, sizeof path, "%s/%s/%s%s/bonding_slave/mii_status", s->net,
			     master, prefixes[i], slave) != 0)
			return false;
		long n = sysfile_text(path, status, sizeof status);
		if (n != -ENOENT)
			return n >= 0 && strcmp(status, "up") == 0;
	}
	return false;
}

static int bonding_read_master(struct bonding_state *s, const char *master)
{
	char path[PATH_MAX], list[LIST_MAX];
	if (path_fmt(path, sizeof path, "%s/%s/bonding/slaves", s->net, master) != 0)
		return 0;
	long len = sysfile_text(path, list, sizeof list);
	if (len < 0)
		return 0;
	const char *values[] = { master };
	int row = valtable_row(&s->table, values, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	unsigned slaves = 0, active = 0;
	struct scan words = scan_text(list, (size_t)len);
	const char *w;
	size_t n;
	char slave[256];
	while (scan_word(&words, &w, &n)) {
		if (n >= sizeof slave)
			continue;
		memcpy(slave, w, n);
		slave[n] = '\0';
		slaves++;
		active += slave_is_up(s, master, slave);
	}
	valtable_set(&s->table, (size_t)row, COL_SLAVES, slaves);
	valtable_set(&s->table, (size_t)row, COL_ACTIVE, active);
	return 0;
}

static int bonding_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "master" };
	struct bonding_state *s = state;
	char master[256];

	valtable_reset(&s->table);
	int rc = procfile_read(&s->masters, err, errlen);
	if (rc == -ENOENT)
		return 0;
	struct scan words = { NULL, NULL };
	scan_line_of(s->masters.buf, s->masters.len, &words);
	const char *w;
	size_t n;
	while (rc == 0 && scan_word(&words, &w, &n)) {
		if (n >= sizeof master || memchr(w, '/', n))
			continue;
		memcpy(master, w, n);
		master[n] = '\0';
		rc = bonding_read_master(s, master);
	}
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory for bonding masters");
		return rc;
	}
	return rc ? rc : valtable_emit(&s->table, bonding_cols, names, 1, b, err, errlen);
}

const struct collector_ops collector_bonding_ops = {
	.init = bonding_init,
	.collect = bonding_collect,
	.fini = bonding_fini,
};
