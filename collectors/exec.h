/*
 * exec.h - the exec collector: runs a command once per collection and reads
 * Prometheus text from its standard output (docs/processes.md, "exec").
 *
 * Each collect() runs the command directly (no shell) in a sandbox (sandbox.h:
 * its own PID, mount and user namespaces, the segment directory hidden; with
 * sandbox false, a process group under a subreaper) with stdin on /dev/null,
 * stderr inherited, and reads its stdout through a pipe with poll, at most
 * EXEC_OUTPUT_MAX bytes.  At the timeout the sandbox is killed with SIGKILL and
 * reaped; when the command exits, whatever it left running is killed too.  The
 * output is parsed with the strict parser (format/promtext.h).  A timeout, a
 * non-zero exit, a signal, oversized output or a parse error fails the
 * collection with the reason, and the batch is left empty: nothing half-read
 * is ever served.
 */
#ifndef SHMETRICS_EXEC_H
#define SHMETRICS_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"

#define EXEC_OUTPUT_MAX (4u << 20)
#define EXEC_ARGS_MAX   64

struct exec_options {
	const char *command;     /* a path, or a name looked up in PATH at init */
	const char *const *args; /* n_args arguments after the command */
	size_t n_args;
	uint64_t timeout_ms; /* > 0 */
	bool sandbox;        /* namespaces; false: process group and subreaper only */
	const char *hide;    /* the directory the command must not see (the segments') */
};

/*
 * Prepares the state for exec_collector_ops (which has no init of its own: this
 * is it).  The strings must outlive the state.  Returns 0, or -EINVAL / -ENOENT
 * (command not found or not executable) / -ENOMEM with the reason in err.
 */
int exec_init(void **state, const struct exec_options *o, char *err, size_t errlen);

extern const struct collector_ops exec_collector_ops;

#endif
