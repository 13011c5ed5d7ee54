/*
 * shmetrics-exporter: maps the collectors' segments read-only and serves them
 * over HTTP.  Command line: docs/processes.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "args.h"
#include "history.h"
#include "history_sampler.h"
#include "http.h"
#include "log.h"
#include "scrape.h"
#include "webconfig.h"

#define MAX_COLLECTORS 128
#define HOST_MAX       256

struct exporter_args {
	const char *instance;
	char host[HOST_MAX];
	uint16_t port;
	bool have_listen;
	const char *collectors[MAX_COLLECTORS];
	size_t n_collectors;
	unsigned staleness;
	uint64_t timeout_ms;
	unsigned max_connections;
	unsigned max_per_ip;
	unsigned threads;
	int log_level;
	const char *web_config_file;
	bool no_openmetrics;
	uint64_t cache_ms;
	uint64_t history_ms; /* 0: no history, "/" is the page of links */
	uint64_t history_bytes;
};

static volatile sig_atomic_t stop_requested;

static const char usage[] =
    "usage: shmetrics-exporter --instance=INSTANCE --web.listen-address=HOST:PORT\n"
    "                          --collector=NAME [--collector=NAME ...]\n"
    "                          [--staleness-intervals=3] [--web.timeout=DURATION]\n"
    "                          [--web.max-connections=N] [--web.max-connections-per-ip=N]\n"
    "                          [--web.threads=N] [--web.config.file=FILE]\n"
    "                          [--web.openmetrics=true|false] [--web.cache=1s]\n"
    "                          [--history.retention=15m] [--history.memory-limit=64MiB]\n"
    "                          [--log.level=info]\n";

/* ---- flags ---- */

typedef int (*flag_fn)(struct exporter_args *a, const char *v, char *err, size_t errlen);

static int flag_instance(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	a->instance = v;
	return 0;
}

static int flag_listen(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	a->have_listen = true;
	return args_parse_listen_address(v, a->host, sizeof a->host, &a->port, err, errlen);
}

static int flag_collector(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	if (a->n_collectors == MAX_COLLECTORS) {
		snprintf(err, errlen, "more than %d collectors", MAX_COLLECTORS);
		return -EINVAL;
	}
	a->collectors[a->n_collectors++] = v;
	return 0;
}

static int flag_staleness(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	return args_parse_uint(v, 1, 1000, &a->staleness, err, errlen);
}

static int flag_timeout(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	int rc = args_parse_duration_ms(v, &a->timeout_ms, err, errlen);

	if (rc == 0 && (a->timeout_ms == 0 || a->timeout_ms > 86400000u)) {
		snprintf(err, errlen, "web.timeout %s is out of range (1ms to 24h)", v);
		return -EINVAL;
	}
	return rc;
}

static int flag_max_conn(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	return args_parse_uint(v, 1, 100000, &a->max_connections, err, errlen);
}

static int flag_max_per_ip(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	return args_parse_uint(v, 1, 100000, &a->max_per_ip, err, errlen);
}

static int flag_threads(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	return args_parse_uint(v, 1, 256, &a->threads, err, errlen);
}

static int flag_web_config(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	a->web_config_file = *v ? v : NULL;
	return 0;
}

static int flag_openmetrics(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		snprintf(err, errlen, "web.openmetrics must be true or false, not \"%s\"", v);
		return -EINVAL;
	}
	a->no_openmetrics = strcmp(v, "false") == 0;
	return 0;
}

static int flag_cache(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	int rc = args_parse_duration_ms(v, &a->cache_ms, err, errlen);

	if (rc == 0 && (a->cache_ms == 0 || a->cache_ms > 3600000u)) {
		snprintf(err, errlen, "web.cache %s is out of range (1ms to 1h)", v);
		return -EINVAL;
	}
	return rc;
}

static int flag_history(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	int rc = 0;

	a->history_ms = 0; /* "0": no history */
	if (strcmp(v, "0") != 0)
		rc = args_parse_duration_ms(v, &a->history_ms, err, errlen);

	if (rc == 0 && a->history_ms > 24u * 3600000u) {
		snprintf(err, errlen, "history.retention %s is out of range (0 to 24h)", v);
		return -EINVAL;
	}
	return rc;
}

static int flag_history_memory(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	int rc = args_parse_bytes(v, &a->history_bytes, err, errlen);

	if (rc == 0 && (a->history_bytes < 65536 || a->history_bytes > (64ull << 30))) {
		snprintf(err, errlen, "history.memory-limit %s is out of range (64KiB to 64GiB)",
			 v);
		return -EINVAL;
	}
	return rc;
}

static int flag_log_level(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	a->log_level = log_level_parse(v);
	if (a->log_level < 0) {
		snprintf(err, errlen, "bad log level \"%s\": expected error, warn, info or debug",
			 v);
		return -EINVAL;
	}
	return 0;
}

static const struct {
	const char *prefix;
	flag_fn fn;
} flags[] = {
	{ "--instance=", flag_instance },
	{ "--web.listen-address=", flag_listen },
	{ "--collector=", flag_collector },
	{ "--staleness-intervals=", flag_staleness },
	{ "--web.timeout=", flag_timeout },
	{ "--web.max-connections=", flag_max_conn },
	{ "--web.max-connections-per-ip=", flag_max_per_ip },
	{ "--web.threads=", flag_threads },
	{ "--web.config.file=", flag_web_config },
	{ "--web.openmetrics=", flag_openmetrics },
	{ "--web.cache=", flag_cache },
	{ "--history.retention=", flag_history },
	{ "--history.memory-limit=", flag_history_memory },
	{ "--log.level=", flag_log_level },
};

static int parse_flag(struct exporter_args *a, const char *arg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		size_t n = strlen(flags[i].prefix);
		if (strncmp(arg, flags[i].prefix, n) == 0)
			return flags[i].fn(a, arg + n, err, errlen);
	}
	snprintf(err, errlen, "unknown argument \"%s\"", arg);
	return -EINVAL;
}

static int check_required(const struct exporter_args *a, char *err, size_t errlen)
{
	const char *missing = !a->instance       ? "--instance"
			      : !a->have_listen  ? "--web.listen-address"
			      : !a->n_collectors ? "--collector"
						 : NULL;
	if (!missing)
		return 0;
	snprintf(err, errlen, "%s is required", missing);
	return -EINVAL;
}

static int parse_args(struct exporter_args *a, int argc, char **argv, char *err, size_t errlen)
{
	*a = (struct exporter_args){
		.staleness = 3,
		.timeout_ms = 10000,
		.max_connections = 64,
		.max_per_ip = 16,
		.threads = 2,
		.log_level = LOG_LEVEL_INFO,
		.cache_ms = SCRAPE_DEFAULT_CACHE_MS,
		.history_ms = HISTORY_DEFAULT_RETENTION_MS,
		.history_bytes = HISTORY_DEFAULT_MAX_BYTES,
	};
	for (int i = 1; i < argc; i++) {
		int rc = parse_flag(a, argv[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return check_required(a, err, errlen);
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
		.threads = a->threads,
		.timeout_s = (unsigned)((a->timeout_ms + 999) / 1000),
		.max_connections = a->max_connections,
		.max_connections_per_ip = a->max_per_ip,
		.web = web,
		.no_openmetrics = a->no_openmetrics,
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

int main(int argc, char **argv)
{
	struct exporter_args a;
	struct scrape *s;
	char err[512];

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	log_init("exporter", LOG_LEVEL_INFO);
	if (parse_args(&a, argc, argv, err, sizeof err) < 0) {
		log_error("%s", err);
		fputs(usage, stderr);
		return EX_CONFIG;
	}
	log_init("exporter", (enum log_level)a.log_level);
	struct web_config *web = NULL;
	if (a.web_config_file && web_config_load(&web, a.web_config_file, err, sizeof err) < 0) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	struct scrape_options so = { a.instance,  a.collectors,         a.n_collectors,
				     a.staleness, (uint32_t)a.cache_ms, SCRAPE_DEFAULT_PROBE_MS };
	int rc = scrape_new(&s, &so, err, sizeof err);
	if (rc < 0) {
		log_error("%s", err);
		web_config_free(web);
		return rc == -EINVAL ? EX_CONFIG : 1;
	}
	struct history_options ho = { (uint32_t)a.history_ms, (size_t)a.history_bytes };
	if (a.history_ms && (rc = scrape_history_new(s, &ho, err, sizeof err)) < 0) {
		log_error("%s", err);
		scrape_free(s);
		web_config_free(web);
		return 1;
	}
	rc = serve(&a, s, web);
	scrape_free(s);
	web_config_free(web);
	return rc;
}
