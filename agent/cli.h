/*
 * cli.h - the agent's command line: node_exporter's flags where the concept
 * exists, plus --config, --check-config, --version and --help.
 *
 * Parsing is pure: it records what was asked and keeps every configuration
 * override, normalised to "--flag=value" (or "--flag"), in the order given.
 * The overrides are applied by cli_load_config after the file (or the embedded
 * default) is loaded, and again on every reload.
 */
#ifndef SHMETRICS_AGENT_CLI_H
#define SHMETRICS_AGENT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

#ifndef SHMETRICS_VERSION
#define SHMETRICS_VERSION "0.1.0"
#endif

#define CLI_PROGRAM       "shmetrics-agent"
#define CLI_MAX_OVERRIDES 256

/* Exit codes of the agent. */
#define AGENT_EXIT_OK      0
#define AGENT_EXIT_FAILURE 1  /* startup failed (segments, child programs) */
#define AGENT_EXIT_USAGE   2  /* bad command line */
#define AGENT_EXIT_CONFIG  78 /* EX_CONFIG: the configuration is invalid */

enum cli_action { CLI_RUN, CLI_CHECK_CONFIG, CLI_HELP, CLI_VERSION };

struct cli_args {
	enum cli_action action;
	char *config_path; /* NULL: the embedded default */
	size_t n_overrides;
	char *overrides[CLI_MAX_OVERRIDES]; /* "--flag=value", owned */
};

/*
 * Parses argv[1..argc).  Both "--flag=value" and "--flag value" are accepted.
 * Returns 0, or -EINVAL with a one-line reason in err (an unknown flag names the
 * nearest known one).  --help and --version win over everything else.  On error
 * *out holds nothing that needs freeing.
 */
int cli_parse(int argc, char *const argv[], struct cli_args *out, char *err, size_t errlen);

void cli_free(struct cli_args *a);

/* The known flag nearest to flag (compared without any "=value"), or NULL when
 * nothing is close. */
const char *cli_suggest(const char *flag);

/* Prints the full --help text: flags and every built-in collector with its default. */
void cli_usage(FILE *f);

enum cli_load_result { CLI_LOAD_OK = 0, CLI_LOAD_CONFIG_ERROR, CLI_LOAD_FLAG_ERROR };

/*
 * Loads a's config file (or the embedded default), applies a's overrides in
 * order, then the agent's own checks.  out is initialised or zeroed; on success
 * what it held is freed and replaced.  On error out is untouched and err holds
 * the message: "FILE:LINE:COL: ..." for the file, "--flag: ..." for an override.
 */
enum cli_load_result cli_load_config(const struct cli_args *a, struct shm_config *out, char *err,
				     size_t errlen);

/* Checks what the agent needs beyond config.c's validation (reserved collector
 * names).  Returns 0 or -EINVAL with the reason. */
int agent_config_check(const struct shm_config *c, char *err, size_t errlen);

#endif
