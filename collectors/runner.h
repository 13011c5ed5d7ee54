/*
 * runner.h - the loop of a collector process: one or more collectors, each on its
 * own interval and publishing into its own segment, scheduled from one thread.
 *
 * Each collector is started on its own: its segment attached, its batch found, its
 * init run.  One that cannot start publishes success 0 with the reason into its
 * segment (when it has one) on every one of its intervals, and is logged once; the
 * others run.  A configuration failure (a refused option, an unknown collector, a
 * segment the agent never created) is final; any other is retried at the
 * collector's next deadline.  Only when no collector could start does the process
 * give up: EX_CONFIG when every one failed for configuration reasons, 1 otherwise.
 *
 * Process-level code: it logs (each collector's lines tagged "collector/NAME", as
 * when every collector had a process of its own) and blocks the stop signals.
 */
#ifndef SHMETRICS_RUNNER_H
#define SHMETRICS_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "settings.h"
#include "exec.h"
#include "segment.h"

/* One collector to run, as the command line gave it. */
struct run_spec {
	char name[CONFIG_NAME_MAX]; /* also names its segment */
	uint64_t interval_ms;
	size_t n_options; /* its options, keys without "collector.NAME." */
	const char *const *option_keys;
	const char *const *option_values;
	char option_error[256]; /* "" unless one of its options was refused */
};

/* What every collector of the process shares. */
struct run_context {
	const char *procfs, *sysfs, *rootfs, *udev_data;
	const struct exec_options *exec;     /* an exec collector (then n == 1), else NULL */
	const char *segments_dir, *instance; /* where the segments are (segdir.h) */
};

/*
 * Runs specs[0..n) until SIGTERM or SIGINT (exit status 0), or returns at once
 * with EX_CONFIG or 1 when none of them could start.  The strings of specs and
 * ctx must stay alive until it returns.
 */
int runner_run(const struct run_spec *specs, size_t n, const struct run_context *ctx);

#endif
