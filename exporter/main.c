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
#include "http.h"
#include "log.h"
#include "scrape.h"
#include "segment.h"
#include "webconfig.h"

#define MAX_COLLECTORS 128
#define HOST_MAX       256

struct exporter_args {
	const char *instance;
	const char *segments_dir;
	struct seg_read_limits limits; /* --segments.max-series */
	unsigned max_workers;          /* --segments.max-workers */

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
};

static volatile sig_atomic_t stop_requested;

static const char usage[] =
    "usage: shmetrics-exporter --segments.directory=DIR --instance=INSTANCE\n"
    "                          --web.listen-address=HOST:PORT\n"
    "                          --collector=NAME [--collector=NAME ...]\n"
    "                          [--segments.max-series=10000] [--segments.max-workers=0]\n"

    "                          [--staleness-intervals=3] [--web.timeout=DURATION]\n"
    "                          [--web.max-connections=N] [--web.max-connections-per-ip=N]\n"
    "                          [--web.threads=N] [--web.config.file=FILE]\n"
    "                          [--web.openmetrics=true|false] [--web.cache=1s]\n"
    "                          [--log.level=info]\n"
    "       shmetrics-exporter --check-web-config=FILE\n";

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

static int flag_segments_dir(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	if (v[0] != '/') {
		snprintf(err, errlen, "--segments.directory=%s: expected an absolute path", v);
		return -EINVAL;
	}
	a->segments_dir = v;
	return 0;
}

/* The exporter's own limit on a segment: what the agent creates for a collector of
 * this many series, never what a segment's header says. */
static int flag_max_series(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	unsigned n;
	int rc = args_parse_uint(v, 1, 100000000, &n, err, errlen);

	if (rc == 0)
		seg_read_limits_for(n, &a->limits);
	return rc;
}

/* Collectors with workers: at most this many slots, each of max-series (0: a
 * segment with workers is refused). */
static int flag_max_workers(struct exporter_args *a, const char *v, char *err, size_t errlen)
{
	return args_parse_uint(v, 0, SEGMENT_WORKERS_MAX, &a->max_workers, err, errlen);
}

static const struct {
	const char *prefix;
	flag_fn fn;
} flags[] = {
	{ "--instance=", flag_instance },
	{ "--segments.directory=", flag_segments_dir },
	{ "--segments.max-series=", flag_max_series },
	{ "--segments.max-workers=", flag_max_workers },
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
			      : !a->segments_dir ? "--segments.directory"
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
	};
	seg_read_limits_for(0, &a->limits);
	for (int i = 1; i < argc; i++) {
		int rc = parse_flag(a, argv[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	seg_read_limits_workers(&a->limits, a->max_workers);
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
	struct http_server *h;
	char err[512], addr[128];
	sigset_t old;

	setup_signals(&old);
	if (http_start(&h, &ho, s, err, sizeof err) < 0) {
		log_error("%s", err);
		return 1;
	}
	http_listen_address(h, addr, sizeof addr);
	log_info("listening on %s%s", addr, web && web->tls ? " (TLS)" : "");
	while (!stop_requested)
		sigsuspend(&old);
	log_info("stopping");
	http_stop(h);
	return 0;
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
	struct scrape *s;
	char err[512];

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && strncmp(argv[1], CHECK_WEB_CONFIG, strlen(CHECK_WEB_CONFIG)) == 0)
		return check_web_config(argv[1] + strlen(CHECK_WEB_CONFIG));
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
	struct scrape_options so = {
		.segments_dir = a.segments_dir,
		.instance = a.instance,
		.limits = &a.limits,
		.collectors = a.collectors,
		.n_collectors = a.n_collectors,
		.staleness_intervals = a.staleness,
		.cache_ms = (uint32_t)a.cache_ms,
		.probe_ms = SCRAPE_DEFAULT_PROBE_MS,
	};

	int rc = scrape_new(&s, &so, err, sizeof err);
	if (rc < 0) {
		log_error("%s", err);
		web_config_free(web);
		return rc == -EINVAL ? EX_CONFIG : 1;
	}
	rc = serve(&a, s, web);
	scrape_free(s);
	web_config_free(web);
	return rc;
}
