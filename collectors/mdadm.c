/*
 * mdadm - the state of Linux software RAID arrays, from PROCFS/mdstat, as
 * node_exporter's mdadm collector reports them:
 *
 *   md1 : active raid1 sdb2[1] sda2[0](F) sdc2[2](S)
 *         488253440 blocks super 1.2 [2/1] [_U]
 *         [=====>.......]  recovery = 27.5% (134289408/488253440) finish=58.2min ...
 *         bitmap: 2/4 pages [8KB], 65536KB chunk
 *
 * The first line gives the name, active/inactive, and the member disks ((F)
 * failed, (S) spare); the second the size in 1 KiB blocks and [required/active]
 * (raid0 and linear have no such pair: every listed disk is required and active);
 * a recovery, resync or check line, if any, the blocks done so far.  An array
 * whose lines do not have that shape is skipped.
 *
 * From sysfs, as node_exporter added later: node_md_raid_disks (the devices of a
 * fully working array, SYSFS/block/mdN/md/raid_disks) and node_md_degraded (the
 * members missing, md/degraded, which only redundant levels have; 0 for the
 * others, as node_exporter reports them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

enum md_state { MD_ACTIVE, MD_INACTIVE, MD_RECOVERING, MD_RESYNC, MD_CHECK, N_MD_STATES };

static const char *const md_state_names[N_MD_STATES] = {
	"active", "inactive", "recovering", "resync", "check",
};

struct md_array {
	char name[64];
	enum md_state state;
	uint64_t blocks, synced, required, active, failed, spare;
};

struct mdadm_state {
	struct procfile mdstat;
	struct md_array *arrays;
	size_t n, cap;
	char block[PATH_MAX]; /* SYSFS/block */
	struct dirents devs;
};

static int mdadm_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct mdadm_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->mdstat, env->procfs, "mdstat", err, errlen);
	if (rc == 0 && path_fmt(s->block, sizeof s->block, "%s/block", env->sysfs) < 0) {
		snprintf(err, errlen, "path %s/block is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		procfile_close(&s->mdstat);
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void mdadm_fini(void *state)
{
	struct mdadm_state *s = state;
	if (!s)
		return;
	procfile_close(&s->mdstat);
	dirents_free(&s->devs);
	free(s->arrays);
	free(s);
}

/* ---- parsing ---- */

static size_t count_in(struct scan line, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = line.p; p + len <= line.end; p++)
		if (memcmp(p, needle, len) == 0)
			n++;
	return n;
}

static bool line_has(struct scan line, const char *needle)
{
	return count_in(line, needle) > 0;
}

/* "md1 : active raid1 sdb2[1] ..." into a's name and first-line counts. */
static bool md_parse_head(struct scan line, struct md_array *a, bool *striped)
{
	struct scan words = line;
	const char *w;
	size_t n;

	if (!scan_word(&words, &w, &n) || n >= sizeof a->name || n < 3 || memcmp(w, "md", 2) != 0)
		return false;
	memcpy(a->name, w, n);
	a->name[n] = '\0';
	if (!scan_word(&words, &w, &n) || !word_is(w, n, ":") || !scan_word(&words, &w, &n))
		return false;
	if (word_is(w, n, "active"))
		a->state = MD_ACTIVE;
	else if (word_is(w, n, "inactive"))
		a->state = MD_INACTIVE;
	else
		return false;
	a->failed = count_in(line, "(F)");
	a->spare = count_in(line, "(S)");
	*striped = line_has(line, "raid0") || line_has(line, "linear");
	if (*striped)
		a->required = a->active = count_in(line, "[");
	return true;
}

/* "[2/1]" anywhere among the words of the status line. */
static bool md_find_pair(struct scan line, uint64_t *required, uint64_t *active)
{
	const char *w;
	size_t n;
	while (scan_word(&line, &w, &n)) {
		const char *slash = memchr(w, '/', n);
		if (n < 5 || w[0] != '[' || w[n - 1] != ']' || !slash)
			continue;
		if (parse_u64(w + 1, (size_t)(slash - w - 1), required) &&
		    parse_u64(slash + 1, (size_t)(w + n - 1 - slash - 1), active))
			return true;
	}
	return false;
}

/* "488253440 blocks super 1.2 [2/1] [_U]". */
static bool md_parse_status(struct scan line, struct md_array *a, bool striped)
{
	struct scan words = line;
	const char *w;
	size_t n;

	if (!scan_word(&words, &w, &n) || !parse_u64(w, n, &a->blocks))
		return false;
	if (!scan_word(&words, &w, &n) || !word_is(w, n, "blocks"))
		return false;
	a->synced = a->blocks;
	if (striped || a->state == MD_INACTIVE) {
		if (!striped)
			a->required = a->active = 0;
		return true;
	}
	return md_find_pair(words, &a->required, &a->active);
}

/* "... recovery = 27.5% (134289408/488253440) ..." or "resync=DELAYED". */
static void md_parse_progress(struct scan line, struct md_array *a)
{
	if (line_has(line, "recovery"))
		a->state = MD_RECOVERING;
	else if (line_has(line, "resync"))
		a->state = MD_RESYNC;
	else if (line_has(line, "check"))
		a->state = MD_CHECK;
	else
		return;
	a->synced = 0;
	const char *open = memchr(line.p, '(', (size_t)(line.end - line.p));
	if (!open)
		return;
	const char *slash = memchr(open, '/', (size_t)(line.end - open));
	uint64_t done;
	if (slash && parse_u64(open + 1, (size_t)(slash - open - 1), &done))
		a->synced = done;
}

static int md_grow(struct mdadm_state *s)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	struct md_array *p = realloc(s->arrays, cap * sizeof *p);
	if (!p)
		return -ENOMEM;
	s->arrays = p;
	s->cap = cap;
	return 0;
}

/* The array whose first line is head, with the lines after it in text. */
static bool md_parse_array(struct scan head, struct scan *text, struct md_array *a)
{
	struct scan status, next = { NULL, NULL };
	bool striped;

	memset(a, 0, sizeof *a);
	if (!md_parse_head(head, a, &striped) || !scan_line(text, &status) ||
	    !md_parse_status(status, a, striped))
		return false;
	struct scan peek = *text;
	if (scan_line(&peek, &next) && line_has(next, "bitmap"))
		scan_line(&peek, &next);
	if (a->state == MD_ACTIVE && next.p != NULL && next.p < next.end && next.p[0] == ' ')
		md_parse_progress(next, a);
	return true;
}

static int mdadm_parse(struct mdadm_state *s, char *err, size_t errlen)
{
	struct scan text = scan_text(s->mdstat.buf, s->mdstat.len), line;

	s->n = 0;
	while (scan_line(&text, &line)) {
		if (line.p == line.end || line.p[0] == ' ' || line.p[0] == '\t')
			continue;
		if (s->n == s->cap && md_grow(s) != 0) {
			snprintf(err, errlen, "out of memory for %zu md arrays", s->n + 1);
			return -ENOMEM;
		}
		if (md_parse_array(line, &text, &s->arrays[s->n]))
			s->n++;
	}
	return 0;
}

/* ---- emitting ---- */

typedef uint64_t md_field(const struct md_array *a);

static uint64_t md_blocks(const struct md_array *a)
{
	return a->blocks;
}
static uint64_t md_synced(const struct md_array *a)
{
	return a->synced;
}
static uint64_t md_required(const struct md_array *a)
{
	return a->required;
}

static int md_emit_plain(const struct mdadm_state *s, struct batch *b, const char *name,
			 const char *help, md_field *get, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct lazyfam f = { name, help, METRIC_GAUGE, false };
	for (size_t i = 0; i < s->n; i++) {
		const char *values[] = { s->arrays[i].name };
		int rc = lazyfam_add(b, &f, names, values, 1, (double)get(&s->arrays[i]), err,
				     errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int md_emit_disks(const struct mdadm_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "state" };
	struct lazyfam f = { "node_md_disks", "Number of active/failed/spare disks of device.",
			     METRIC_GAUGE, false };
	for (size_t i = 0; i < s->n; i++) {
		const struct md_array *a = &s->arrays[i];
		const char *const kinds[] = { "active", "failed", "spare" };
		const uint64_t counts[] = { a->active, a->failed, a->spare };
		for (size_t k = 0; k < 3; k++) {
			const char *values[] = { a->name, kinds[k] };
			int rc = lazyfam_add(b, &f, names, values, 2, (double)counts[k], err,
					     errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int md_emit_state(const struct mdadm_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "state" };
	struct lazyfam f = { "node_md_state", "Indicates the state of md-device.", METRIC_GAUGE,
			     false };
	for (size_t i = 0; i < s->n; i++) {
		for (int k = 0; k < N_MD_STATES; k++) {
			const char *values[] = { s->arrays[i].name, md_state_names[k] };
			int rc = lazyfam_add(b, &f, names, values, 2,
					     s->arrays[i].state == (enum md_state)k ? 1.0 : 0.0,
					     err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- sysfs ---- */

static bool is_md(const char *name)
{
	return strncmp(name, "md", 2) == 0;
}

/* Levels with redundancy, the ones whose md directory has a degraded file. */
static bool md_redundant(const char *level)
{
	static const char *const levels[] = { "raid1", "raid4", "raid5", "raid6", "raid10" };
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(level, levels[i]) == 0)
			return true;
	return false;
}

/* One md attribute as a number; false when absent or not a number. */
static bool md_attr(const struct mdadm_state *s, const char *dev, const char *attr, uint64_t *v)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s/md/%s", s->block, dev, attr) == 0 &&
	       sysfile_u64(path, v) == 0;
}

static int md_emit_sysfs(struct mdadm_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct lazyfam raid = { "node_md_raid_disks", "Number of raid disks on device.",
				METRIC_GAUGE, false };
	struct lazyfam degraded = { "node_md_degraded", "Number of degraded disks on device.",
				    METRIC_GAUGE, false };
	char path[PATH_MAX], level[32];
	uint64_t v;
	int rc = 0;

	if (dirents_read(&s->devs, s->block, is_md) < 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->devs.n; i++) {
		const char *dev = dirents_name(&s->devs, i);
		const char *values[] = { dev };
		if (md_attr(s, dev, "raid_disks", &v))
			rc = lazyfam_add(b, &raid, names, values, 1, (double)v, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < s->devs.n; i++) {
		const char *dev = dirents_name(&s->devs, i);
		const char *values[] = { dev };
		if (path_fmt(path, sizeof path, "%s/%s/md/level", s->block, dev) < 0 ||
		    sysfile_text(path, level, sizeof level) < 0)
			continue; /* not an md array (an md partition, say) */
		if (!md_redundant(level))
			v = 0;
		else if (!md_attr(s, dev, "degraded", &v))
			continue;
		rc = lazyfam_add(b, &degraded, names, values, 1, (double)v, err, errlen);
	}
	return rc;
}

static int mdadm_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct mdadm_state *s = state;
	int rc = procfile_read(&s->mdstat, err, errlen);
	/* No mdstat: no md driver, so no md device in sysfs either. */
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = mdadm_parse(s, err, errlen);
	if (rc == 0)
		rc = md_emit_state(s, b, err, errlen);
	if (rc == 0)
		rc = md_emit_disks(s, b, err, errlen);
	if (rc == 0)
		rc = md_emit_plain(s, b, "node_md_disks_required",
				   "Total number of disks of device.", md_required, err, errlen);
	if (rc == 0)
		rc = md_emit_plain(s, b, "node_md_blocks", "Total number of blocks on device.",
				   md_blocks, err, errlen);
	if (rc == 0)
		rc = md_emit_plain(s, b, "node_md_blocks_synced",
				   "Number of blocks synced on device.", md_synced, err, errlen);
	if (rc == 0)
		rc = md_emit_sysfs(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_mdadm_ops = {
	.init = mdadm_init,
	.collect = mdadm_collect,
	.fini = mdadm_fini,
};
