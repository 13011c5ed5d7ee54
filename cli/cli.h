/*
 * cli.h - the parts of the shmetrics command-line tool (docs/cli.md).
 *
 * main.c parses the command line and runs list, dump and check; write.c runs
 * set, inc, add and observe.  Every command returns its exit status and prints its own
 * errors, prefixed "shmetrics: ".
 */
#ifndef SHMETRICS_CLI_H
#define SHMETRICS_CLI_H

#include <stdbool.h>

#include <limits.h>

#include "metrics.h"
#include "segdir.h"

/* Exit statuses (sysexits.h values where one fits). */
#define CLI_OK            0
#define CLI_FAILED        1  /* a publish or read failed */
#define CLI_USAGE         64 /* EX_USAGE */
#define CLI_BAD_INPUT     65 /* EX_DATAERR: invalid metric, value or file */
#define CLI_NO_COLLECTOR  69 /* EX_UNAVAILABLE: no such segment */
#define CLI_BUSY          75 /* EX_TEMPFAIL: a resident writer owns the segment, or it is busy */
#define CLI_NO_PERMISSION 77 /* EX_NOPERM */

#define CLI_STALENESS_INTERVALS 3 /* as the exporter's default */

enum cli_op { CLI_SET, CLI_INC, CLI_ADD, CLI_OBSERVE };

struct cli_write {
	enum cli_op op;
	const char *metric;    /* NAME or NAME{label="v",...} */
	const char *value;     /* NULL for inc without a value */
	const char *collector; /* NULL: the sandbox's own (see cli_where_find) */
	const char *instance;
	const char *segments_dir; /* --segments.directory, or NULL */

	const char *type;    /* "gauge", "counter" or NULL */
	const char *help;    /* NULL: keep, or "" for a new family */
	const char *buckets; /* observe: "0.1,0.5,1" for a new histogram, or NULL */
};

int cli_write_run(const struct cli_write *w);

/* Prints "shmetrics: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Readers accept segments of collectors up to this many series (the largest
 * max_series the configuration allows). */
#define CLI_READ_MAX_SERIES 10000000u

/* Where a collector's segment is (where.c). */
struct cli_where {
	struct segdir dir; /* the instance's directory; fd -1 when fd is used */
	int fd;            /* a "command" collector's own segment ($SHMETRICS_SEGMENT_FD), or -1 */
	const char *collector; /* its name */
	char what[PATH_MAX + 80];
};

/*
 * Finds collector's segment: inside a "command" collector's sandbox, its own
 * descriptor (collector NULL or the sandbox's own name); else in base/instance,
 * base being --segments.directory, $SHMETRICS_SEGMENTS_DIR or the agent's
 * default.  Returns CLI_OK or an exit status (the error printed).
 */
int cli_where_find(struct cli_where *w, const char *instance, const char *collector,
		   const char *base);
void cli_where_close(struct cli_where *w);

/* Opens w's segment for reading, explaining a missing segment or a permission
 * problem.  Returns CLI_OK or an exit status. */
struct seg_reader;
int cli_open_reader(struct seg_reader **r, const struct cli_where *w);

/* A read-write descriptor of w's segment holding its flock, or -errno. */
int cli_lock_segment(const struct cli_where *w);

#endif
