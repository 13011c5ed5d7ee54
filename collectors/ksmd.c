/*
 * ksmd - kernel same-page merging, from SYSFS/kernel/mm/ksm/, as node_exporter's
 * opt-in ksmd collector reports it: one unlabelled family per file
 * (node_ksmd_pages_shared, node_ksmd_run, ...), node_ksmd_full_scans_total as a
 * counter, sleep_millisecs as node_ksmd_sleep_seconds and general_profit (which
 * may be negative) as node_ksmd_general_profit_bytes.  A file the kernel does
 * not have is left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "collector.h"
#include "dirents.h"
#include "emit.h"
#include "sysattr.h"

struct ksmd_file {
	const char *file, *name, *help;
	enum metric_type type;
	double scale;
};

static const struct ksmd_file ksmd_files[] = {
	{ "full_scans", "node_ksmd_full_scans_total",
	  "How many times all mergeable areas have been scanned.", METRIC_COUNTER, 1 },
	{ "general_profit", "node_ksmd_general_profit_bytes",
	  "How effective KSM is: bytes saved by merging, less the cost of its rmap items.",
	  METRIC_GAUGE, 1 },
	{ "merge_across_nodes", "node_ksmd_merge_across_nodes",
	  "Whether pages from different NUMA nodes can be merged.", METRIC_GAUGE, 1 },
	{ "pages_shared", "node_ksmd_pages_shared", "How many shared pages are being used.",
	  METRIC_GAUGE, 1 },
	{ "pages_sharing", "node_ksmd_pages_sharing",
	  "How many more sites are sharing them, i.e. how much is saved.", METRIC_GAUGE, 1 },
	{ "pages_to_scan", "node_ksmd_pages_to_scan",
	  "How many pages to scan before ksmd goes to sleep.", METRIC_GAUGE, 1 },
	{ "pages_unshared", "node_ksmd_pages_unshared",
	  "How many pages are unique but repeatedly checked for merging.", METRIC_GAUGE, 1 },
	{ "pages_volatile", "node_ksmd_pages_volatile",
	  "How many pages are changing too fast to be placed in a tree.", METRIC_GAUGE, 1 },
	{ "run", "node_ksmd_run", "The status of ksmd: stopped = 0, running = 1.", METRIC_GAUGE,
	  1 },
	{ "sleep_millisecs", "node_ksmd_sleep_seconds",
	  "How many seconds ksmd sleeps before the next scan.", METRIC_GAUGE, 0.001 },
};
#define N_KSMD_FILES (sizeof ksmd_files / sizeof ksmd_files[0])

static int ksmd_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	char *dir = malloc(PATH_MAX);
	if (!dir)
		return -ENOMEM;
	if (path_fmt(dir, PATH_MAX, "%s/kernel/mm/ksm", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/kernel/mm/ksm is too long", env->sysfs);
		free(dir);
		return -ENAMETOOLONG;
	}
	*state = dir;
	return 0;
}

static int ksmd_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	const char *dir = state;
	char path[PATH_MAX], text[64];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < N_KSMD_FILES; i++) {
		const struct ksmd_file *k = &ksmd_files[i];
		int64_t v;
		if (path_fmt(path, sizeof path, "%s/%s", dir, k->file) != 0)
			continue;
		long n = sysfile_text(path, text, sizeof text);
		if (n < 0 || !sysattr_parse_i64(text, (size_t)n, &v))
			continue;
		rc = emit_single(b, k->name, k->help, k->type, (double)v * k->scale, err, errlen);
	}
	return rc;
}

const struct collector_ops collector_ksmd_ops = {
	.init = ksmd_init,
	.collect = ksmd_collect,
	.fini = free,
};
