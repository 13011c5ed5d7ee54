/*
 * buddyinfo - free blocks of each order per memory zone, from PROCFS/buddyinfo,
 * as node_exporter's opt-in buddyinfo collector reports them:
 * node_buddyinfo_blocks{node, zone, size}, where size is the order (a block of
 * 2^size pages).  Lines look like "Node 0, zone   Normal   14   9 ...".
 */
#include <errno.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define BUDDY_ORDERS_MAX 64 /* MAX_ORDER is 11 on most kernels */

static int buddyinfo_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "buddyinfo", err, errlen);
}

/* "Node <n>," then "zone <name>": the node number and the zone name. */
static bool buddy_head(struct scan *line, char *node, size_t nodelen, char *zone, size_t zonelen)
{
	const char *w;
	size_t n;
	uint64_t id;
	if (!scan_word(line, &w, &n) || !word_is(w, n, "Node") || !scan_word(line, &w, &n) ||
	    n < 2 || w[n - 1] != ',' || !parse_u64(w, n - 1, &id))
		return false;
	fmt_uint(node, nodelen, id);
	if (!scan_word(line, &w, &n) || !word_is(w, n, "zone") || !scan_word(line, &w, &n) ||
	    n >= zonelen)
		return false;
	memcpy(zone, w, n);
	zone[n] = '\0';
	return true;
}

static int buddy_line(struct scan line, struct lazyfam *fam, struct batch *b, char *err,
		      size_t errlen)
{
	static const char *const names[] = { "node", "zone", "size" };
	char node[24], zone[64], size[24];
	const char *values[] = { node, zone, size }, *w;
	size_t n;
	uint64_t v;
	if (!buddy_head(&line, node, sizeof node, zone, sizeof zone))
		return 0;
	for (unsigned order = 0; order < BUDDY_ORDERS_MAX && scan_word(&line, &w, &n); order++) {
		if (!parse_u64(w, n, &v))
			return 0;
		fmt_uint(size, sizeof size, order);
		int rc = lazyfam_add(b, fam, names, values, 3, (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int buddyinfo_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *f = state;
	struct lazyfam fam = { "node_buddyinfo_blocks", "Count of free blocks according to size.",
			       METRIC_GAUGE, false };
	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(f->buf, f->len), line;
	while (rc == 0 && scan_line(&text, &line))
		rc = buddy_line(line, &fam, b, err, errlen);
	return rc;
}

const struct collector_ops collector_buddyinfo_ops = {
	.init = buddyinfo_init,
	.collect = buddyinfo_collect,
	.fini = procfile_free,
};
