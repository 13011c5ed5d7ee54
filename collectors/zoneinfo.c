/*
 * zoneinfo - page counts of each memory zone, from PROCFS/zoneinfo, as
 * node_exporter's opt-in zoneinfo collector reports them: node_zoneinfo_*
 * labelled node and zone, gauges for the page counts and watermarks, counters
 * (_total) for nr_dirtied, nr_written and the numa_* allocation counts, and
 * node_zoneinfo_protection_<i> for the zone's lowmem protection array.
 *
 * A zone's block runs from its "Node N, zone NAME" line to the next one, so the
 * "per-node stats" the kernel prints under a node's first zone are reported for
 * that zone, as node_exporter reports them.  Keys not listed below are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

struct zone_key {
	const char *key;
	struct valtable_col col;
};

#define G(k, n, h)                                             \
	{                                                      \
		k,                                             \
		{                                              \
			"node_zoneinfo_" n, h, METRIC_GAUGE, 0 \
		}                                              \
	}
#define C(k, n, h)                                               \
	{                                                        \
		k,                                               \
		{                                                \
			"node_zoneinfo_" n, h, METRIC_COUNTER, 0 \
		}                                                \
	}
static const struct zone_key zone_keys[] = {
	G("nr_free_pages", "nr_free_pages", "Total number of free pages in the zone"),
	G("min", "min_pages", "Zone watermark pages_min"),
	G("low", "low_pages", "Zone watermark pages_low"),
	G("high", "high_pages", "Zone watermark pages_high"),
	G("scanned", "scanned_pages", "Pages scanned since last reclaim"),
	G("spanned", "spanned_pages", "Total pages spanned by the zone, including holes"),
	G("present", "present_pages", "Physical pages existing within the zone"),
	G("managed", "managed_pages", "Present pages managed by the buddy system"),
	G("nr_active_anon", "nr_active_anon_pages", "Number of anonymous pages recently more used"),
	G("nr_inactive_anon", "nr_inactive_anon_pages",
	  "Number of anonymous pages recently less used"),
	G("nr_isolated_anon", "nr_isolated_anon_pages", "Temporary isolated pages from anon lru"),
	G("nr_anon_pages", "nr_anon_pages",
	  "Number of anonymous pages currently used by the system"),
	G("nr_anon_transparent_hugepages", "nr_anon_transparent_hugepages",
	  "Number of anonymous transparent huge pages currently used by the system"),
	G("nr_active_file", "nr_active_file_pages", "Number of active pages with file-backing"),
	G("nr_inactive_file", "nr_inactive_file_pages",
	  "Number of inactive pages with file-backing"),
	G("nr_isolated_file", "nr_isolated_file_pages", "Temporary isolated pages from file lru"),
	G("nr_file_pages", "nr_file_pages", "Number of file pages"),
	G("nr_slab_reclaimable", "nr_slab_reclaimable_pages", "Number of reclaimable slab pages"),
	G("nr_slab_unreclaimable", "nr_slab_unreclaimable_pages",
	  "Number of unreclaimable slab pages"),
	G("nr_mlock_stack", "nr_mlock_stack_pages", "mlock()ed pages found and moved off LRU"),
	G("nr_kernel_stack", "nr_kernel_stacks", "Number of kernel stacks"),
	G("nr_mapped", "nr_mapped_pages", "Number of mapped pages"),
	G("nr_dirty", "nr_dirty_pages", "Number of dirty pages"),
	G("nr_writeback", "nr_writeback_pages", "Number of writeback pages"),
	G("nr_unevictable", "nr_unevictable_pages", "Number of unevictable pages"),
	G("nr_shmem", "nr_shmem_pages", "Number of shmem pages (included tmpfs/GEM pages)"),
	C("nr_dirtied", "nr_dirtied_total", "Page dirtyings since bootup"),
	C("nr_written", "nr_written_total", "Page writings since bootup"),
	C("numa_hit", "numa_hit_total", "Allocated in intended node"),
	C("numa_miss", "numa_miss_total", "Allocated in non intended node"),
	C("numa_foreign", "numa_foreign_total", "Was intended here, hit elsewhere"),
	C("numa_interleave", "numa_interleave_total", "Interleaver preferred this zone"),
	C("numa_local", "numa_local_total", "Allocation from local node"),
	C("numa_other", "numa_other_total", "Allocation from other node"),
};
#undef G
#undef C
#define N_KEYS       (sizeof zone_keys / sizeof zone_keys[0])
#define N_PROTECTION 8 /* entries of the protection array kept (one per zone type) */
#define N_COLS       (N_KEYS + N_PROTECTION)

struct zoneinfo_state {
	struct procfile file;
	struct valtable zones;
	struct valtable_col cols[N_COLS];
	char protection_names[N_PROTECTION][40], protection_helps[N_PROTECTION][40];
};

static void zoneinfo_fini(void *state)
{
	struct zoneinfo_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	valtable_free(&s->zones);
	free(s);
}

static int zoneinfo_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct zoneinfo_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "zoneinfo", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	for (size_t i = 0; i < N_KEYS; i++)
		s->cols[i] = zone_keys[i].col;
	for (size_t i = 0; i < N_PROTECTION; i++) {
		snprintf(s->protection_names[i], sizeof s->protection_names[i],
			 "node_zoneinfo_protection_%zu", i);
		snprintf(s->protection_helps[i], sizeof s->protection_helps[i],
			 "Protection array %zu. field", i);
		s->cols[N_KEYS + i] = (struct valtable_col){ s->protection_names[i],
							     s->protection_helps[i], METRIC_GAUGE,
							     0 };
	}
	valtable_init(&s->zones, N_COLS);
	*state = s;
	return 0;
}

/* "Node 0, zone   Normal": a new row; -1 when the line is something else. */
static int zone_start(struct valtable *t, struct scan line)
{
	const char *w;
	size_t n;
	uint64_t node;
	char nodebuf[24], zone[64];
	if (!scan_word(&line, &w, &n) || !word_is(w, n, "Node") || !scan_word(&line, &w, &n) ||
	    n < 2 || w[n - 1] != ',' || !parse_u64(w, n - 1, &node) || !scan_word(&line, &w, &n) ||
	    !word_is(w, n, "zone") || !scan_word(&line, &w, &n) || n >= sizeof zone)
		return -1;
	memcpy(zone, w, n);
	zone[n] = '\0';
	const char *values[] = { fmt_uint(nodebuf, sizeof nodebuf, node), zone };
	int row = valtable_row(t, values, 2);
	return row == -ENOMEM ? -ENOMEM : row < 0 ? -1 : row;
}

/* "protection: (0, 2815, 15732, 15732)" */
static void zone_protection(struct valtable *t, size_t row, struct scan line)
{
	const char *p = memchr(line.p, '(', (size_t)(line.end - line.p));
	size_t i = 0;
	while (p && p < line.end && i < N_PROTECTION) {
		const char *start = p + 1, *q = start;
		while (q < line.end && *q != ',' && *q != ')')
			q++;
		while (start < q && *start == ' ')
			start++;
		int64_t v;
		uint64_t u;
		bool neg = start < q && *start == '-';
		if (!parse_u64(start + neg, (size_t)(q - start - neg), &u))
			return;
		v = neg ? -(int64_t)u : (int64_t)u;
		valtable_set(t, row, N_KEYS + i++, (double)v);
		p = q < line.end && *q == ',' ? q : NULL;
	}
}

static void zone_line(struct valtable *t, size_t row, struct scan line)
{
	const char *w, *vw;
	size_t n, vn;
	uint64_t v;
	struct scan whole = line;
	if (!scan_word(&line, &w, &n))
		return;
	if (word_is(w, n, "protection:")) {
		zone_protection(t, row, whole);
		return;
	}
	if (!scan_word(&line, &vw, &vn) || !parse_u64(vw, vn, &v))
		return;
	for (size_t i = 0; i < N_KEYS; i++)
		if (word_is(w, n, zone_keys[i].key)) {
			valtable_set(t, row, i, (double)v);
			return;
		}
}

static int zoneinfo_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "node", "zone" };
	struct zoneinfo_state *s = state;
	int rc = procfile_read(&s->file, err, errlen), row = -1;
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	valtable_reset(&s->zones);
	struct scan text = scan_text(s->file.buf, s->file.len), line;
	while (scan_line(&text, &line)) {
		int start = zone_start(&s->zones, line);
		if (start == -ENOMEM) {
			snprintf(err, errlen, "out of memory reading %s", s->file.path);
			return start;
		}
		if (start >= 0)
			row = start;
		else if (row >= 0)
			zone_line(&s->zones, (size_t)row, line);
	}
	return valtable_emit(&s->zones, s->cols, names, 2, b, err, errlen);
}

const struct collector_ops collector_zoneinfo_ops = {
	.init = zoneinfo_init,
	.collect = zoneinfo_collect,
	.fini = zoneinfo_fini,
};
