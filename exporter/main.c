/*
 * shmetrics-exporter: maps the collectors' segments read-only and serves them
 * over HTTP.  Command line: docs/processes.md.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "history.h"
#include "history_sampler.h"
#include "http.h"
#include "log.h"
#include "scrape.h"
#include "segment.h"
#include "settings.h"
#include "webconfig.h"

#define MAX_COLLECTORS SCRAPE_MAX_COLLECTORS

/* What the command line says: the R_EXPORTER settings of settings.def, and the
 * job, the collectors to serve. */
struct exporter_args {
	struct settings set;
	char host[CONFIG_ADDR_MAX];
	uint16_t port;
	const char *collectors[MAX_COLLECTORS];
	size_t n_collectors;
};

static volatile sig_atomic_t stop_requested;

static const char usage[] =
    "usage: shmetrics-exporter --collector=NAME [--collector=NAME ...] [SETTINGS]\n"
    "       shmetrics-exporter --check-web-config=FILE\n"
    "Serves the segments of the collectors named.  Its settings are the agent's\n"
    "that reach the exporter (docs/processes.md):\n";

/* ---- command line ---- */

static bool is_collector(const char *name, size_t len)
{
	return len == 11 && strncmp(name, "--collector", len) == 0;
}

static int take_job(void *ctx, const char *name, size_t len, const char *value, char *err,
		    size_t errlen)
{
	struct exporter_args *a = ctx;

	if (!is_collector(name, len))
		return 0;
	if (!value || !*value)
		return config_fail(err, errlen, "--collector needs a value: --collector=NAME");
	if (a->n_collectors == MAX_COLLECTORS)
		return config_fail(err, errlen, "more than %d collectors", MAX_COLLECTORS);
	a->collectors[a->n_collectors++] = value;
	return 1;
}

static bool job_takes_value(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	return is_collector(name, len);
}

static int parse_args(struct exporter_args *a, int argc, char **argv, char *err, size_t errlen)
{
	const struct settings_job job = { take_job, job_takes_value, a };

	memset(a, 0, sizeof *a);
	if (settings_init(&a->set) < 0)
		return config_fail(err, errlen, "out of memory");
	int rc = settings_parse_argv(&a->set, R_EXPORTER, argc, argv, &job, err, errlen);
	if (rc == 0)
		rc = config_parse_listen_address(a->set.listen_address, a->host, sizeof a->host,
						 &a->port, err, errlen);
	if (rc == 0 && a->n_collectors == 0)
		rc = config_fail(err, errlen, "--collector is required");
	return rc;
}

/* ---- running ---- */

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Blocks SIGTERM/SIGINT (the HTTP threads inherit that, so only the main thread
 * takes them) and returns the previous mask for sigsuspend. */
static void setup_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, old);
}

static int serve(const struct exporter_args *a, struct scrape *s, const struct web_config *web)
{
	struct http_options ho = {
		.host = a->host,
		.port = a->port,
		.threads = a->set.threads,
		.timeout_s = a->set.connection_timeout_s,
		.max_connections = a->set.max_connections,
		.max_connections_per_ip = a->set.max_connections_per_ip,
		.web = web,
		.no_openmetrics = !a->set.openmetrics,
	};
	struct history_sampler *sampler = NULL;
	struct http_server *h;
	char err[512], addr[128];
	sigset_t old;

	setup_signals(&old);
	if (scrape_history(s) && history_sampler_start(&sampler, s, err, sizeof err) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (http_start(&h, &ho, s, err, sizeof err) < 0) {
		log_error("%s", err);
		history_sampler_stop(sampler);
		return 1;
	}
	http_listen_address(h, addr, sizeof addr);
	log_info("listening on %s%s", addr, web && web->tls ? " (TLS)" : "");
	while (!stop_requested)
		sigsuspend(&old);
	log_info("stopping");
	http_stop(h);
	history_sampler_stop(sampler);
	return 0;
}

/* Serves until SIGTERM; the exit status. */
static int run(const struct exporter_args *a)
{
	struct web_config *web = NULL;
	struct scrape *s;
	char err[512];

	if (a->set.web_config_file[0] &&
	    web_config_load(&web, a->set.web_config_file, err, sizeof err) < 0) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	/* The exporter's own limit on a segment: what the agent creates for a
	 * collector of max_series series, never what a segment's header says. */
	struct seg_read_limits limits;
	seg_read_limits_for(a->set.max_series, &limits);
	struct scrape_options so = {
		.segments_dir = a->set.segments_directory,
		.instance = a->set.instance,
		.limits = &limits,
		.collectors = a->collectors,
		.n_collectors = a->n_collectors,
		.staleness_intervals = a->set.staleness_intervals,
		.cache_ms = a->set.cache_ms,
		.probe_ms = SCRAPE_DEFAULT_PROBE_MS,
	};
	int rc = scrape_new(&s, &so, err, sizeof err);
	if (rc < 0) {
		log_error("%s", err);
		web_config_free(web);
		return rc == -EINVAL ? EX_CONFIG : 1;
	}
	/* "0s": no history, and "/" is the page of links. */
	struct history_options ho = { a->set.history_ms, (size_t)a->set.history_memory_mib << 20 };
	if (ho.retention_ms && (rc = scrape_history_new(s, &ho, err, sizeof err)) < 0) {
		log_error("%s", err);
		scrape_free(s);
		web_config_free(web);
		return 1;
	}
	rc = serve(a, s, web);
	scrape_free(s);
	web_config_free(web);
	return rc;
}

/* --check-web-config=FILE: what the agent's --check-config and reload run, so
 * that the file is judged by the same code, with the same errors, as at start. */
#define CHECK_WEB_CONFIG "--check-web-config="

static int check_web_config(const char *path)
{
	struct web_config *web = NULL;
	char err[1024];

	if (web_config_load(&web, path, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	web_config_free(web);
	return 0;
}

int main(int argc, char **argv)
{
	struct exporter_args a;
	char err[512];

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		settings_usage(stdout, 36, R_EXPORTER);
		return 0;
	}
	if (argc == 2 && strncmp(argv[1], CHECK_WEB_CONFIG, strlen(CHECK_WEB_CONFIG)) == 0)
		return check_web_config(argv[1] + strlen(CHECK_WEB_CONFIG));
	/* One malloc arena for the HTTP threads too: they render under one lock
	 * anyway, and an arena per thread costs its own pages for nothing. */
	mallopt(M_ARENA_MAX, 1);
	log_init("exporter", LOG_LEVEL_INFO);
	if (parse_args(&a, argc, argv, err, sizeof err) < 0) {
		log_error("%s (try --help)", err);
		settings_free(&a.set);
		return EX_CONFIG;
	}
	log_init("exporter", (enum log_level)log_level_parse(a.set.log_level));
	int rc = run(&a);
	settings_free(&a.set);
	return rc;
}
