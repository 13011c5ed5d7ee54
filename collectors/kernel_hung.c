/*
 * kernel_hung - node_kernel_hung_task_detect_count, the number of tasks the
 * kernel's hung-task detector has reported since boot, from
 * PROCFS/sys/kernel/hung_task_detect_count (kernels with
 * CONFIG_DETECT_HUNG_TASK, 6.13 and later), as node_exporter's opt-in
 * kernel_hung collector reports it.  Without the file there is no series.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

static int kernel_hung_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "sys/kernel/hung_task_detect_count", err, errlen);
}

static int kernel_hung_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *f = state;
	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(f->buf, f->len), line;
	const char *w;
	size_t n;
	uint64_t v;
	if (!scan_line(&text, &line) || !scan_word(&line, &w, &n) || !parse_u64(w, n, &v)) {
		snprintf(err, errlen, "%s: expected one unsigned number", f->path);
		return -EPROTO;
	}
	return emit_single(b, "node_kernel_hung_task_detect_count",
			   "Total number of tasks detected as hung since boot.", METRIC_COUNTER,
			   (double)v, err, errlen);
}

const struct collector_ops collector_kernel_hung_ops = {
	.init = kernel_hung_init,
	.collect = kernel_hung_collect,
	.fini = procfile_free,
};
