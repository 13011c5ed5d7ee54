/*
 * lnstat - the per-CPU statistics of the kernel's network caches, from the
 * files in PROCFS/net/stat/ (arp_cache, ndisc_cache, nf_conntrack, rt_cache,
 * ...), as node_exporter's opt-in lnstat collector reports them: one counter
 * family node_lnstat_<column>_total per column name of the files' header
 * lines, labelled subsystem (the file) and cpu (the row's position).  Values
 * are hexadecimal.  A column name that is not a valid metric name, or a row
 * with a value that is not hexadecimal, is skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "emit.h"
#include "scan.h"
#include "seriesbuf.h"

#define LNSTAT_COLUMNS_MAX 64
#define LNSTAT_NAME_MAX    128

static int lnstat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return seriesbuf_dir_new(state, env->procfs, "net/stat", err, errlen);
}

/* One row of values: the series of cpu for each column. */
static int lnstat_row(struct seriesbuf *sb, const char *file, char (*metric)[LNSTAT_NAME_MAX],
		      size_t columns, unsigned long long cpu, struct scan line)
{
	static const char *const names[] = { "subsystem", "cpu" };
	char cpubuf[24];
	const char *values[] = { file, fmt_uint(cpubuf, sizeof cpubuf, cpu) }, *w;
	size_t n;
	uint64_t v;
	for (size_t c = 0; c < columns && scan_word(&line, &w, &n); c++) {
		if (!parse_hex_u64(w, n, &v))
			return 0;
		int rc = seriesbuf_add(sb, metric[c], "linux network cache stats", METRIC_COUNTER,
				       names, values, 2, (double)v);
		if (rc)
			return rc;
	}
	return 0;
}

static int lnstat_file(struct seriesbuf_dir *s, const char *file)
{
	char path[PATH_MAX], metric[LNSTAT_COLUMNS_MAX][LNSTAT_NAME_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", s->dir, file) != 0)
		return 0;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len < 0)
		return len == -ENOMEM ? -ENOMEM : 0;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	const char *w;
	size_t n, columns = 0;
	if (!scan_line(&text, &line))
		return 0;
	while (columns < LNSTAT_COLUMNS_MAX && scan_word(&line, &w, &n))
		snprintf(metric[columns++], LNSTAT_NAME_MAX, "node_lnstat_%.*s_total", (int)n, w);
	int rc = 0;
	for (unsigned long long cpu = 0; rc == 0 && scan_line(&text, &line); cpu++)
		rc = lnstat_row(&s->series, file, metric, columns, cpu, line);
	return rc;
}

static int lnstat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	return seriesbuf_dir_collect(state, NULL, lnstat_file, b, err, errlen);
}

const struct collector_ops collector_lnstat_ops = {
	.init = lnstat_init,
	.collect = lnstat_collect,
	.fini = seriesbuf_dir_free,
};
