/* shmetrics-agent: the one program a user starts.  See docs/agent.md. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "supervisor.h"
#include "webcheck.h"

static int usage_error(const char *msg)
{
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", CLI_PROGRAM, msg,
		CLI_PROGRAM);
	return AGENT_EXIT_USAGE;
}

/* The configuration and, when it names one, the web configuration file, judged
 * by the exporter's own loader (webcheck.h). */
static enum cli_load_result load_all(const struct cli_args *args, struct shm_config *cfg, char *err,
				     size_t errlen)
{
	enum cli_load_result r = cli_load_config(args, cfg, err, errlen);

	if (r == CLI_LOAD_OK && cfg->set.web_config_file[0] &&
	    web_config_check_here(cfg->set.web_config_file, err, errlen) < 0)
		r = CLI_LOAD_CONFIG_ERROR;
	return r;
}

/* Loads the configuration; returns -1 when loaded, otherwise the exit status:
 * 78 for any configuration error, 2 for a bad flag, with --check-config too. */
static int load(const struct cli_args *args, struct shm_config *cfg)
{
	char err[2048];
	enum cli_load_result r = load_all(args, cfg, err, sizeof err);

	if (r == CLI_LOAD_FLAG_ERROR)
		return usage_error(err);
	if (r == CLI_LOAD_CONFIG_ERROR) {
		fprintf(stderr, "%s: %s\n", CLI_PROGRAM, err);
		return AGENT_EXIT_CONFIG;
	}
	if (args->action == CLI_CHECK_CONFIG) {
		printf("config OK: %s\n", cfg->source);
		return AGENT_EXIT_OK;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct cli_args args;
	struct shm_config *cfg;
	char err[1024];
	int rc;

	/* glibc raises its mmap threshold once a large block is freed (the loader's
	 * position index, a reload plan), after which big blocks come from the heap
	 * and stay there; a fixed threshold keeps them in mmaps that are given back
	 * whole and whose untouched pages cost nothing. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (cli_parse(argc, argv, &args, err, sizeof err) < 0)
		return usage_error(err);
	if (args.action == CLI_HELP || args.action == CLI_VERSION) {
		if (args.action == CLI_HELP)
			cli_usage(stdout);
		else
			printf("%s %s\n", CLI_PROGRAM, SHMETRICS_VERSION);
		cli_free(&args);
		return AGENT_EXIT_OK;
	}
	cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
		cli_free(&args);
		return AGENT_EXIT_FAILURE;
	}
	rc = load(&args, cfg);
	if (rc < 0) {
		log_init("agent", (enum log_level)log_level_parse(cfg->set.log_level));
		rc = supervisor_run(cfg, &args);
	}
	config_free(cfg);
	free(cfg);
	cli_free(&args);
	return rc;
}
