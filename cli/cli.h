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

#include "metrics.h"

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
	const char *metric; /* NAME or NAME{label="v",...} */
	const char *value;  /* NULL for inc without a value */
	const char *collector;
	const char *instance;
	const char *type;    /* "gauge", "counter" or NULL */
	const char *help;    /* NULL: keep, or "" for a new family */
	const char *buckets; /* observe: "0.1,0.5,1" for a new histogram, or NULL */
};

int cli_write_run(const struct cli_write *w);

/* Prints "shmetrics: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the segment of collector in instance for reading, explaining a missing
 * segment or a permission problem.  Returns CLI_OK or an exit status. */
struct seg_reader;
int cli_open_reader(struct seg_reader **r, const char *instance, const char *collector,
		    char *shm_name, size_t shm_len);

#endif
