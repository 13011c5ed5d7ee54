/*
 * conntrack - the netfilter connection tracking table: its size and limit from
 * PROCFS/sys/net/netfilter/nf_conntrack_{count,max}, and the per-CPU statistics
 * of PROCFS/net/stat/nf_conntrack summed over the CPUs.  That file's first line
 * names its hexadecimal columns; columns are found by name, since kernels have
 * renamed some of them (searched -> clashres, delete_list -> chainlength).
 */
#include <errno.h>
#include <stdlib.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

#define STAT_COLUMNS_MAX 64

struct conntrack_stat {
	const char *column, *name, *help;
};

static const struct conntrack_stat stats[] = {
	{ "found", "node_nf_conntrack_stat_found",
	  "Number of searched entries which were successful." },
	{ "invalid", "node_nf_conntrack_stat_invalid",
	  "Number of packets seen which can not be tracked." },
	{ "ignore", "node_nf_conntrack_stat_ignore",
	  "Number of packets seen which are already connected to a conntrack entry." },
	{ "insert", "node_nf_conntrack_stat_insert", "Number of entries inserted into the list." },
	{ "insert_failed", "node_nf_conntrack_stat_insert_failed",
	  "Number of entries for which list insertion was attempted but failed." },
	{ "drop", "node_nf_conntrack_stat_drop",
	  "Number of packets dropped due to conntrack failure." },
	{ "early_drop", "node_nf_conntrack_stat_early_drop",
	  "Number of dropped conntrack entries to make room for new ones, if maximum table "
	  "size was reached." },
	{ "search_restart", "node_nf_conntrack_stat_search_restart",
	  "Number of conntrack table lookups which had to be restarted due to hashtable "
	  "resizes." },
};
#define N_STATS (sizeof stats / sizeof stats[0])

struct conntrack_state {
	struct procfile count, max, stat;
};

static void conntrack_fini(void *state)
{
	struct conntrack_state *s = state;
	if (!s)
		return;
	procfile_close(&s->count);
	procfile_close(&s->max);
	procfile_close(&s->stat);
	free(s);
}

static int conntrack_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct conntrack_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->count, env->procfs, "sys/net/netfilter/nf_conntrack_count", err,
			       errlen);
	if (rc == 0)
		rc = procfile_init(&s->max, env->procfs, "sys/net/netfilter/nf_conntrack_max", err,
				   errlen);
	if (rc == 0)
		rc = procfile_init(&s->stat, env->procfs, "net/stat/nf_conntrack", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* A file holding one decimal number becomes a gauge; missing or garbled: none. */
static int conntrack_single(struct procfile *f, const char *name, const char *help, struct batch *b,
			    char *err, size_t errlen)
{
	const char *w;
	size_t n;
	uint64_t v;

	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(f->buf, f->len), line;
	if (!scan_line(&text, &line) || !scan_word(&line, &w, &n) || !parse_u64(w, n, &v))
		return 0;
	return emit_single(b, name, help, METRIC_GAUGE, (double)v, err, errlen);
}

/* col[i] receives the column of stats[i] in the header, or -1. */
static void conntrack_header(struct scan line, int *col)
{
	const char *w;
	size_t n;

	for (size_t i = 0; i < N_STATS; i++)
		col[i] = -1;
	for (int c = 0; c < STAT_COLUMNS_MAX && scan_word(&line, &w, &n); c++)
		for (size_t i = 0; i < N_STATS; i++)
			if (word_is(w, n, stats[i].column))
				col[i] = c;
}

/* Adds one CPU's line to sum; a line with a word that is not hex is skipped. */
static void conntrack_add_line(struct scan line, const int *col, double *sum)
{
	uint64_t v[STAT_COLUMNS_MAX];
	const char *w;
	size_t n;
	int c = 0;

	while (c < STAT_COLUMNS_MAX && scan_word(&line, &w, &n))
		if (!parse_hex_u64(w, n, &v[c++]))
			return;
	for (size_t i = 0; i < N_STATS; i++)
		if (col[i] >= 0 && col[i] < c)
			sum[i] += (double)v[col[i]];
}

static int conntrack_stats(struct conntrack_state *s, struct batch *b, char *err, size_t errlen)
{
	int col[N_STATS];
	double sum[N_STATS] = { 0 };
	struct scan text, line;

	int rc = procfile_read(&s->stat, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	text = scan_text(s->stat.buf, s->stat.len);
	if (!scan_line(&text, &line))
		return 0;
	conntrack_header(line, col);
	while (scan_line(&text, &line))
		conntrack_add_line(line, col, sum);
	for (size_t i = 0; rc == 0 && i < N_STATS; i++)
		if (col[i] >= 0)
			rc = emit_single(b, stats[i].name, stats[i].help, METRIC_GAUGE, sum[i], err,
					 errlen);
	return rc;
}

static int conntrack_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct conntrack_state *s = state;
	int rc = conntrack_single(&s->count, "node_nf_conntrack_entries",
				  "Number of currently allocated flow entries for connection "
				  "tracking.",
				  b, err, errlen);
	if (rc == 0)
		rc = conntrack_single(&s->max, "node_nf_conntrack_entries_limit",
				      "Maximum size of connection tracking table.", b, err, errlen);
	if (rc == 0)
		rc = conntrack_stats(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_conntrack_ops = {
	.init = conntrack_init,
	.collect = conntrack_collect,
	.fini = conntrack_fini,
};
