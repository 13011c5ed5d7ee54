/*
 * meminfo_numa - memory of each NUMA node, from SYSFS/devices/system/node/
 * node<N>/meminfo and numastat, as node_exporter's opt-in meminfo_numa
 * collector reports it, labelled node:
 *
 *   "Node 0 MemFree:  123 kB"  node_memory_numa_MemFree (gauge; kB become bytes;
 *                              "Active(anon)" becomes Active_anon)
 *   "numa_hit 4567"            node_memory_numa_numa_hit_total (counter)
 *
 * A line that does not have that shape is skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "scan.h"
#include "seriesbuf.h"

#define NUMA_NAME_MAX 160

static int numa_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return seriesbuf_dir_new(state, env->sysfs, "devices/system/node", err, errlen);
}

/* "node<digits>" */
static bool is_node(const char *name)
{
	uint64_t id;
	return strncmp(name, "node", 4) == 0 && parse_u64(name + 4, strlen(name + 4), &id);
}

/* "Active(anon):" as node_memory_numa_Active_anon; false when it does not fit. */
static bool meminfo_name(const char *w, size_t n, char *out, size_t len)
{
	if (n > 0 && w[n - 1] == ':')
		n--;
	const char *open = memchr(w, '(', n),
		   *close = open ? memchr(open, ')', n - (size_t)(open - w)) : NULL;
	int r;
	if (open && close)
		r = snprintf(out, len, "node_memory_numa_%.*s_%.*s%.*s", (int)(open - w), w,
			     (int)(close - open - 1), open + 1, (int)(n - (size_t)(close - w) - 1),
			     close + 1);
	else
		r = snprintf(out, len, "node_memory_numa_%.*s", (int)n, w);
	return r > 0 && (size_t)r < len;
}

/* "Node 0 MemTotal:       16314300 kB" */
static int meminfo_line(struct seriesbuf *sb, struct scan line)
{
	static const char *const names[] = { "node" };
	const char *w[5];
	size_t n[5], count = 0;
	char node[24], name[NUMA_NAME_MAX], help[NUMA_NAME_MAX + 32];
	double v;
	while (count < 5 && scan_word(&line, &w[count], &n[count]))
		count++;
	const char *extra;
	size_t extralen;
	if (count < 4 || scan_word(&line, &extra, &extralen) || n[1] >= sizeof node ||
	    !parse_double(w[3], n[3], &v) || (count == 5 && !word_is(w[4], n[4], "kB")) ||
	    !meminfo_name(w[2], n[2], name, sizeof name))
		return 0;
	memcpy(node, w[1], n[1]);
	node[n[1]] = '\0';
	snprintf(help, sizeof help, "Memory information field %s.", name + 17);
	const char *values[] = { node };
	return seriesbuf_add(sb, name, help, METRIC_GAUGE, names, values, 1,
			     count == 5 ? v * 1024 : v);
}

/* "numa_hit 4567" */
static int numastat_line(struct seriesbuf *sb, const char *node, struct scan line)
{
	static const char *const names[] = { "node" };
	const char *key, *val, *extra;
	size_t kn, vn, extralen;
	char name[NUMA_NAME_MAX], help[NUMA_NAME_MAX + 32];
	double v;
	if (!scan_word(&line, &key, &kn) || !scan_word(&line, &val, &vn) ||
	    scan_word(&line, &extra, &extralen) || !parse_double(val, vn, &v))
		return 0;
	int r = snprintf(name, sizeof name, "node_memory_numa_%.*s_total", (int)kn, key);
	if (r < 0 || (size_t)r >= sizeof name)
		return 0;
	snprintf(help, sizeof help, "Memory information field %s.", name + 17);
	const char *values[] = { node };
	return seriesbuf_add(sb, name, help, METRIC_COUNTER, names, values, 1, v);
}

static int numa_file(struct seriesbuf_dir *s, const char *node, const char *file)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s/%s", s->dir, node, file) != 0)
		return 0;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len < 0)
		return len == -ENOMEM ? -ENOMEM : 0;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	int rc = 0;
	while (rc == 0 && scan_line(&text, &line))
		rc = file[0] == 'm' ? meminfo_line(&s->series, line)
				    : numastat_line(&s->series, node + 4, line);
	return rc;
}

static int numa_node(struct seriesbuf_dir *s, const char *node)
{
	int rc = numa_file(s, node, "meminfo");

	return rc == 0 ? numa_file(s, node, "numastat") : rc;
}

static int numa_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	return seriesbuf_dir_collect(state, is_node, numa_node, b, err, errlen);
}

const struct collector_ops collector_meminfo_numa_ops = {
	.init = numa_init,
	.collect = numa_collect,
	.fini = seriesbuf_dir_free,
};
