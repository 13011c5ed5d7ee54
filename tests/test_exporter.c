/*
 * The exporter end to end inside one process: real segments, real writers
 * (in-process, or a forked child that exits to leave a dead writer), the HTTP
 * server on 127.0.0.1 and an ephemeral port, and a tiny HTTP client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../exporter/http.h"
#include "../exporter/http_internal.h" /* the admission counts, to wait for them */
#include "../exporter/negotiate.h"
#include "../exporter/scrape.h"
#include "log.h"
#include "segdir_fixture.h"
#include "segment.h"

/* live: fresh; dups: repeats live's family and a self-metric name; stale: its
 * interval is 10ms; dead: its writer exited; ghost: no segment; bad: corrupted
 * by a test. */
static const char *const collectors[] = { "live", "dups", "stale", "dead", "ghost", "bad" };
#define N_COLLECTORS (sizeof collectors / sizeof collectors[0])

static struct segdir_fixture fx;
static const char *instance = FIXTURE_INSTANCE;
static struct seg_writer *writers[N_COLLECTORS];
static struct scrape *scrape;
static struct http_server *server;
static uint16_t port;

/* ---- segments and writers ---- */

/* A read-write descriptor of collector's segment file. */
static int segment_fd(const char *collector)
{
	char err[PATH_MAX + 200];
	int fd = segdir_open_segment(&fx.dir, collector, O_RDWR, NULL, err, sizeof err);
	if (fd < 0)
		fail_msg("%s", err);
	return fd;
}

static void make_segment(const char *collector)
{
	struct segment_options opt = segdir_fixture_options(0, 60000);
	char err[PATH_MAX + 200] = "";

	if (segment_create(&fx.dir, collector, &opt, err, sizeof err) != 0)
		fail_msg("segment_create(%s): %s", collector, err);
}

static void add_gauge(struct batch *b, const char *family, const char *label, double v)
{
	const char *names[] = { "k" }, *values[] = { label };
	char err[256] = "";

	if (batch_family(b, family, "A test gauge.", METRIC_GAUGE, err, sizeof err) != 0 ||
	    batch_add(b, names, values, 1, v, err, sizeof err) != 0)
		fail_msg("building %s: %s", family, err);
}

/* Attaches as the writer of collector and publishes one family named after it. */
static struct seg_writer *publish(const char *collector, const char *family, uint32_t interval)
{
	char err[PATH_MAX + 200] = "";
	struct seg_writer *w = NULL;

	if (seg_writer_attach(&w, &fx.dir, collector, err, sizeof err) != 0)
		fail_msg("seg_writer_attach(%s): %s", collector, err);
	struct batch *b = batch_new(seg_writer_limits(w));
	assert_non_null(b);
	add_gauge(b, family, collector, 42);
	if (strcmp(collector, "dups") == 0)
		add_gauge(b, "shmetrics_collector_up", "spoof", 1);
	batch_set_status(b, true, 1500000, NULL);
	if (interval)
		seg_writer_set_interval(w, interval);
	if (seg_writer_publish(w, b, err, sizeof err) != 0)
		fail_msg("seg_writer_publish(%s): %s", collector, err);
	batch_free(b);
	return w;
}

/* A writer that publishes and exits, leaving a segment with a dead writer. */
static void publish_from_child(const char *collector)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		seg_writer_detach(publish(collector, "dead_value", 0));
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void setup_segments(void)
{
	for (size_t i = 0; i < N_COLLECTORS; i++)
		if (strcmp(collectors[i], "ghost") != 0)
			make_segment(collectors[i]);
	writers[0] = publish("live", "live_value", 0);
	writers[1] = publish("dups", "live_value", 0);
	writers[2] = publish("stale", "stale_value", 10);
	publish_from_child("dead");
	writers[5] = publish("bad", "bad_value", 0);
	usleep(100 * 1000); /* stale's window is 3 x 10ms */
}

/* ---- the server ---- */

static int setup_server(void **state)
{
	/* a 1ms body cache: these tests look at counters that change per request */
	struct scrape_options so = { .segments_dir = fx.base,
				     .instance = instance,
				     .collectors = collectors,
				     .n_collectors = N_COLLECTORS,
				     .staleness_intervals = 3,
				     .cache_ms = 1 };
	struct http_options ho = { .host = "127.0.0.1",
				   .threads = 4,
				   .timeout_s = 5,
				   .max_connections = 64,
				   .max_connections_per_ip = 64 };
	char err[256] = "";

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	log_init("test_exporter", LOG_LEVEL_ERROR);
	if (segdir_fixture_make(&fx) < 0)
		fail_msg("cannot make a segment directory");
	setup_segments();
	if (scrape_new(&scrape, &so, err, sizeof err) != 0)
		fail_msg("scrape_new: %s", err);
	if (http_start(&server, &ho, scrape, err, sizeof err) != 0)
		fail_msg("http_start: %s", err);
	port = http_port(server);
	assert_true(port != 0);
	return 0;
}

static int teardown_server(void **state)
{
	(void)state;
	http_stop(server);
	scrape_free(scrape);
	for (size_t i = 0; i < N_COLLECTORS; i++)
		seg_writer_detach(writers[i]);
	segdir_fixture_free(&fx);
	return 0;
}

/* ---- a tiny HTTP/1.1 client ---- */

struct response {
	int status;
	char *headers; /* the raw header block */
	char *body;
	size_t body_len;
};

static int connect_local(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096;
	char *data = malloc(cap);
	ssize_t n;

	*len = 0;
	while (data && (n = read(fd, data + *len, cap - *len - 1)) > 0) {
		*len += (size_t)n;
		if (cap - *len < 1024)
			data = realloc(data, cap *= 2);
	}
	assert_non_null(data);
	data[*len] = '\0';
	return data;
}

static struct response request(const char *method, const char *path, const char *extra)
{
	struct response r = { 0 };
	char req[512];
	size_t len;
	int fd = connect_local();

	snprintf(req, sizeof req,
		 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n", method, path,
		 extra ? extra : "");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	char *raw = read_all(fd, &len);
	close(fd);
	char *end = strstr(raw, "\r\n\r\n");
	assert_non_null(end);
	*end = '\0';
	assert_int_equal(sscanf(raw, "HTTP/1.%*d %d", &r.status), 1);
	r.headers = raw;
	r.body_len = len - (size_t)(end + 4 - raw);
	r.body = malloc(r.body_len + 1);
	memcpy(r.body, end + 4, r.body_len);
	r.body[r.body_len] = '\0';
	return r;
}

static void response_free(struct response *r)
{
	free(r->headers);
	free(r->body);
}

static void assert_header(const struct response *r, const char *line)
{
	if (!strcasestr(r->headers, line))
		fail_msg("header \"%s\" missing in\n%s", line, r->headers);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected \"%s\" in\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("did not expect \"%s\" in\n%s", needle, hay);
}

static char *get_metrics(void)
{
	struct response r = request("GET", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	free(r.headers);
	return r.body;
}

/* Scrapes until the body contains needle, for at most seconds; returns it. */
static char *wait_for_metrics(const char *needle, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		char *body = get_metrics();
		if (strstr(body, needle))
			return body;
		free(body);
		usleep(50 * 1000);
	}
	return get_metrics();
}

/* ---- tests ---- */

static void run_promtool(const char *body)
{
	char path[64], cmd[160];

	if (access("/usr/bin/promtool", X_OK) != 0)
		return;
	snprintf(path, sizeof path, "/tmp/shmetrics-test-%ld.prom", (long)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "/usr/bin/promtool check metrics < %s", path);
	int rc = system(cmd);
	unlink(path);
	if (rc != 0)
		fail_msg("promtool check metrics failed on\n%s", body);
}

static void test_metrics_serves_live_collectors_and_self_metrics(void **state)
{
	(void)state;
	struct response r = request("GET", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	assert_contains(r.body, "\nlive_value{k=\"live\"} 42\n");
	assert_contains(r.body, "shmetrics_collector_up{collector=\"live\"} 1\n");
	assert_contains(r.body, "node_scrape_collector_success{collector=\"live\"} 1\n");
	assert_contains(r.body,
			"node_scrape_collector_duration_seconds{collector=\"live\"} 0.0015\n");
	assert_contains(r.body, "shmetrics_collector_series{collector=\"live\"} 1\n");
	assert_contains(r.body, "# TYPE shmetrics_exporter_render_duration_seconds histogram\n");
	run_promtool(r.body);
	response_free(&r);
}

static void test_duplicate_families_are_skipped_and_cannot_shadow_self_metrics(void **state)
{
	(void)state;
	char *body = get_metrics();
	assert_lacks(body, "live_value{k=\"dups\"}");
	assert_lacks(body, "k=\"spoof\"");
	assert_contains(body, "shmetrics_collector_up{collector=\"dups\"} 1\n");
	assert_lacks(body, "shmetrics_exporter_duplicate_families_total 0\n");
	const char *p = strstr(body, "# TYPE live_value gauge");
	assert_non_null(p);
	assert_null(strstr(p + 1, "# TYPE live_value gauge")); /* one group only */
	free(body);
}

static void test_stale_collector_series_are_omitted_and_it_is_down(void **state)
{
	(void)state;
	char *body = get_metrics();
	assert_lacks(body, "stale_value");
	assert_contains(body, "shmetrics_collector_up{collector=\"stale\"} 0\n");
	assert_contains(body, "node_scrape_collector_success{collector=\"stale\"} 0\n");
	assert_contains(body,
			"shmetrics_collector_last_publish_timestamp_seconds{collector=\"stale\"}");
	assert_contains(body, "shmetrics_collector_series{collector=\"stale\"} 0\n");
	free(body);
}

static void test_dead_writer_and_missing_segment_are_down_not_fatal(void **state)
{
	(void)state;
	char *body = get_metrics();
	assert_lacks(body, "dead_value");
	assert_contains(body, "shmetrics_collector_up{collector=\"dead\"} 0\n");
	assert_contains(body, "shmetrics_collector_up{collector=\"ghost\"} 0\n");
	assert_lacks(body,
		     "shmetrics_collector_last_publish_timestamp_seconds{collector=\"ghost\"}");
	free(body);
}

static json_t *collector_json(json_t *doc, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(doc, "collectors"), i,
			   c) if (strcmp(json_string_value(json_object_get(c, "name")), name) ==
				  0) return c;
	fail_msg("collector %s missing from JSON", name);
	return NULL;
}

static const char *error_of(json_t *doc, const char *name)
{
	const char *e = json_string_value(json_object_get(collector_json(doc, name), "error"));
	return e ? e : "";
}

static void test_json_reports_every_collector_and_why_it_is_down(void **state)
{
	json_error_t jerr;

	(void)state;
	struct response r = request("GET", "/metrics.json", NULL);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type: application/json");
	json_t *doc = json_loads(r.body, 0, &jerr);
	if (!doc)
		fail_msg("bad JSON (%s): %s", jerr.text, r.body);
	assert_int_equal(json_array_size(json_object_get(doc, "collectors")), N_COLLECTORS);
	assert_true(json_is_true(json_object_get(collector_json(doc, "live"), "up")));
	assert_true(json_is_false(json_object_get(collector_json(doc, "stale"), "up")));
	assert_contains(error_of(doc, "stale"), "stale");
	assert_contains(error_of(doc, "dead"), "not running");
	assert_contains(error_of(doc, "ghost"), "missing");
	assert_true(json_array_size(json_object_get(doc, "families")) > 5);
	json_decref(doc);
	response_free(&r);
}

static void test_other_routes_methods_and_head(void **state)
{
	(void)state;
	struct response r = request("GET", "/", NULL);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type: text/html");
	assert_contains(r.body, "href=\"metrics\"");
	assert_contains(r.body, "href=\"metrics.json\"");
	response_free(&r);
	r = request("GET", "/healthz", NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	response_free(&r);
	r = request("GET", "/nope", NULL);
	assert_int_equal(r.status, 404);
	response_free(&r);
	r = request("POST", "/metrics", "Content-Length: 5\r\n\r\nhello");
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow: GET, HEAD");
	response_free(&r);
	r = request("HEAD", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	response_free(&r);
	char *body = get_metrics();
	assert_contains(body, "shmetrics_exporter_requests_total{code=\"404\"} ");
	/* the one POST of this suite's server, counted although the body may be cached */
	assert_contains(body, "shmetrics_exporter_requests_total{code=\"405\"} 1\n");
	free(body);
}

/* The body of a gzip response, inflated; one gzip member, nothing after it. */
static char *gunzip(const struct response *r)
{
	z_stream zs = { 0 };
	size_t cap = 1 << 20;
	char *plain = malloc(cap);

	assert_non_null(plain);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)r->body;
	zs.avail_in = (uInt)r->body_len;
	zs.next_out = (Bytef *)plain;
	zs.avail_out = (uInt)cap - 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);
	plain[zs.total_out] = '\0';
	inflateEnd(&zs);
	return plain;
}

static void test_gzip_is_used_when_the_client_accepts_it(void **state)
{
	(void)state;
	struct response r = request("GET", "/metrics", "Accept-Encoding: deflate, gzip\r\n");
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Encoding: gzip");
	assert_header(&r, "Vary: Accept-Encoding");
	char *plain = gunzip(&r);
	assert_contains(plain, "live_value{k=\"live\"} 42\n");
	assert_contains(plain, "\nshmetrics_exporter_requests_total{code=\"200\"} ");
	free(plain);
	response_free(&r);
	r = request("GET", "/metrics", "Accept-Encoding: gzip;q=0\r\n");
	assert_lacks(r.headers, "Content-Encoding");
	response_free(&r);
}

static void *scrape_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		struct response r = request("GET", i % 2 ? "/metrics" : "/metrics.json", NULL);
		if (r.status != 200)
			return (void *)1;
		response_free(&r);
	}
	return NULL;
}

static void test_concurrent_scrapes_all_succeed(void **state)
{
	pthread_t t[4];
	void *rc;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, scrape_loop, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
}

/* Overwrites len bytes at off of collector's segment through a second mapping. */
static void scribble(const char *collector, size_t off, size_t len)
{
	struct stat st;
	int fd = segment_fd(collector);

	assert_int_equal(fstat(fd, &st), 0);
	assert_true((size_t)st.st_size >= off + len);
	unsigned char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				0);
	assert_true(p != MAP_FAILED);
	for (size_t i = 0; i < len; i++)
		p[off + i] = (unsigned char)(0xa5 ^ i);
	munmap(p, (size_t)st.st_size);
	close(fd);
}

static void test_corrupt_segment_is_reported_down_and_not_fatal(void **state)
{
	struct stat st;

	(void)state;
	char *body = get_metrics();
	assert_contains(body, "bad_value{k=\"bad\"} 42\n");
	free(body);
	int fd = segment_fd("bad");
	assert_true(fstat(fd, &st) == 0);
	close(fd);
	/* everything after the 256-byte header (both batch copies), then everything.
	 * The sequence word did not move, so the exporter keeps its validated copy
	 * until its next full read, at most a second later. */
	scribble("bad", 256, (size_t)st.st_size - 256);
	body = wait_for_metrics("shmetrics_collector_up{collector=\"bad\"} 0\n", 5);
	assert_lacks(body, "bad_value");
	assert_contains(body, "shmetrics_collector_up{collector=\"bad\"} 0\n");
	assert_contains(body, "shmetrics_collector_up{collector=\"live\"} 1\n");
	free(body);
	scribble("bad", 0, (size_t)st.st_size);
	body = get_metrics();
	assert_contains(body, "shmetrics_collector_up{collector=\"bad\"} 0\n");
	assert_contains(body, "live_value{k=\"live\"} 42\n");
	run_promtool(body);
	free(body);
}

/* ---- formats, filters, cache, limits ---- */

static void test_accept_headers_choose_the_format(void **state)
{
	static const char *const om = "application/openmetrics-text";
	static const struct {
		const char *accept;
		bool allowed;
		enum scrape_format want;
	} cases[] = {
		{ NULL, true, SCRAPE_FORMAT_TEXT },
		{ "*/*", true, SCRAPE_FORMAT_TEXT },
		{ "text/plain;version=0.0.4", true, SCRAPE_FORMAT_TEXT },
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
		  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  true, SCRAPE_FORMAT_OPENMETRICS }, /* what Prometheus 2.42 sends */
		{ "application/openmetrics-text;version=1.0.0", false, SCRAPE_FORMAT_TEXT },
		{ "text/plain;q=0.9, application/openmetrics-text", true,
		  SCRAPE_FORMAT_OPENMETRICS },
		{ "application/openmetrics-text;q=0.5, text/plain", true, SCRAPE_FORMAT_TEXT },
		{ "application/openmetrics-text, text/plain", true, SCRAPE_FORMAT_OPENMETRICS },
		{ "text/plain, application/openmetrics-text", true, SCRAPE_FORMAT_TEXT },
		{ "application/openmetrics-text;version=2.0.0", true, SCRAPE_FORMAT_TEXT },
		{ "application/openmetrics-text;q=0", true, SCRAPE_FORMAT_TEXT },
		{ "application/xml", true, SCRAPE_FORMAT_TEXT },
		{ " APPLICATION/OpenMetrics-Text ; q=1 ", true, SCRAPE_FORMAT_OPENMETRICS },
	};

	(void)state;
	(void)om;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (negotiate_format(cases[i].accept, cases[i].allowed) != cases[i].want)
			fail_msg("Accept: %s", cases[i].accept ? cases[i].accept : "(none)");
	assert_true(negotiate_gzip("gzip"));
	assert_true(negotiate_gzip("deflate, gzip;q=0.5"));
	assert_true(negotiate_gzip("x-gzip"));
	assert_false(negotiate_gzip("gzip;q=0"));
	assert_false(negotiate_gzip("identity, br"));
	assert_false(negotiate_gzip(NULL));
}

static void test_openmetrics_is_served_when_the_client_prefers_it(void **state)
{
	(void)state;
	struct response r = request("GET", "/metrics",
				    "Accept: application/openmetrics-text;version=1.0.0,"
				    "text/plain;version=0.0.4;q=0.5\r\n");
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type: application/openmetrics-text; version=1.0.0; "
			  "charset=utf-8");
	assert_header(&r, "Vary: Accept-Encoding");
	assert_contains(r.body, "# TYPE shmetrics_exporter_requests counter\n");
	assert_contains(r.body, "\nshmetrics_exporter_requests_total{code=\"200\"} ");
	assert_contains(r.body, "shmetrics_exporter_render_duration_seconds_bucket{le=\"1.0\"} ");
	assert_int_equal(strcmp(r.body + r.body_len - 6, "# EOF\n"), 0);
	response_free(&r);
	r = request("GET", "/metrics", "Accept: text/plain\r\n");
	assert_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	assert_lacks(r.body, "# EOF");
	response_free(&r);
}

static void test_collect_and_exclude_filter_collectors(void **state)
{
	(void)state;
	struct response r = request("GET", "/metrics?collect[]=live&collect[]=bad", NULL);
	assert_int_equal(r.status, 200);
	assert_contains(r.body, "live_value{k=\"live\"} 42\n");
	assert_contains(r.body, "shmetrics_collector_up{collector=\"live\"} 1\n");
	assert_lacks(r.body, "collector=\"dups\"");
	assert_lacks(r.body, "collector=\"ghost\"");
	response_free(&r);
	r = request("GET", "/metrics?exclude[]=live", NULL);
	assert_int_equal(r.status, 200);
	assert_lacks(r.body, "collector=\"live\"");
	assert_contains(r.body, "live_value{k=\"dups\"} 42\n"); /* no longer shadowed */
	response_free(&r);
	r = request("GET", "/metrics?collect[]=live&collect[]=nosuch", NULL);
	assert_int_equal(r.status, 400);
	assert_contains(r.body, "unknown collector \"nosuch\"");
	response_free(&r);
	r = request("GET", "/metrics.json?collect[]=stale", NULL);
	assert_int_equal(r.status, 200);
	assert_contains(r.body, "\"name\":\"stale\"");
	assert_lacks(r.body, "\"name\":\"live\"");
	response_free(&r);
	r = request("GET", "/metrics.json?exclude[]=%3Cscript%3E", NULL);
	assert_int_equal(r.status, 400);
	assert_lacks(r.body, "<script>\"\n"); /* echoed, but as plain text */
	response_free(&r);
}

/* A server of its own on the same collectors, with other limits. */
struct side_server {
	struct scrape *scrape;
	struct http_server *http;
	uint16_t saved_port;
};

static void side_start_threads(struct side_server *ss, unsigned threads, uint32_t cache_ms,
			       unsigned max_conn, unsigned per_ip)
{
	struct scrape_options so = { .segments_dir = fx.base,
				     .instance = instance,
				     .collectors = collectors,
				     .n_collectors = N_COLLECTORS,
				     .staleness_intervals = 3,
				     .cache_ms = cache_ms };
	struct http_options ho = { .host = "127.0.0.1",
				   .threads = threads,
				   .timeout_s = 30, /* longer than any wait on a busy machine */
				   .max_connections = max_conn,
				   .max_connections_per_ip = per_ip };
	char err[256] = "";

	if (scrape_new(&ss->scrape, &so, err, sizeof err) != 0 ||
	    http_start(&ss->http, &ho, ss->scrape, err, sizeof err) != 0)
		fail_msg("side server: %s", err);
	ss->saved_port = port;
	port = http_port(ss->http);
}

static void side_start(struct side_server *ss, uint32_t cache_ms, unsigned max_conn,
		       unsigned per_ip)
{
	side_start_threads(ss, 2, cache_ms, max_conn, per_ip);
}

static void side_stop(struct side_server *ss)
{
	port = ss->saved_port;
	http_stop(ss->http);
	scrape_free(ss->scrape);
}

static void republish_live(double v)
{
	struct batch *b = batch_new(seg_writer_limits(writers[0]));
	char err[256] = "";

	assert_non_null(b);
	add_gauge(b, "live_value", "live", v);
	batch_set_status(b, true, 1500000, NULL);
	if (seg_writer_publish(writers[0], b, err, sizeof err) != 0)
		fail_msg("republish: %s", err);
	batch_free(b);
}

/* The value of the sample line that starts with series (name and labels). */
static double sample_value(const char *body, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = body; (p = strstr(p, series)) != NULL; p += n)
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	fail_msg("no sample %s in\n%s", series, body);
	return 0;
}

/* The body up to the exporter's own counters: the part a cache may reuse. */
static char *head_of(const char *body)
{
	const char *end = strstr(body, "# HELP shmetrics_exporter_");
	assert_non_null(end);
	return strndup(body, (size_t)(end - body));
}

static void test_repeated_scrapes_reuse_one_body_until_a_collector_publishes(void **state)
{
	struct side_server ss;
	const char *ok = "shmetrics_exporter_requests_total{code=\"200\"}";

	(void)state;
	side_start(&ss, 60000, 64, 64);
	char *first = get_metrics(), *second = get_metrics();
	char *h1 = head_of(first), *h2 = head_of(second);
	/* the collectors' part is reused, the exporter's counters are not */
	assert_string_equal(h1, h2);
	assert_contains(second, "shmetrics_exporter_renders_total 1\n");
	assert_true(sample_value(second, ok) == sample_value(first, ok) + 1);
	republish_live(43);
	char *third = get_metrics();
	assert_contains(third, "live_value{k=\"live\"} 43\n");
	assert_contains(third, "shmetrics_exporter_renders_total 2\n");
	struct response r = request("GET", "/metrics", "Accept-Encoding: gzip\r\n");
	assert_header(&r, "Content-Encoding: gzip");
	response_free(&r);
	republish_live(42);
	free(h1);
	free(h2);
	free(first);
	free(second);
	free(third);
	side_stop(&ss);
}

/* Waits until the server has admitted want connections from src (NULL: in
 * all): connections are taken in by the server's threads, in their own time. */
static void wait_admitted(struct http_server *h, const char *src, unsigned want)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned open = 0, admitted = 0;

	if (src)
		inet_pton(AF_INET, src, &sa.sin_addr);
	for (int i = 0; i < 2000 && admitted != want; i++) { /* 20 s at most */
		admission_counts(h->admission, src ? (struct sockaddr *)&sa : NULL, &open,
				 &admitted);
		if (admitted != want)
			usleep(10 * 1000);
	}
	if (admitted != want)
		fail_msg("%u connections admitted from %s (%u open), expected %u", admitted,
			 src ? src : "all", open, want);
}

static void post_metrics(int times)
{
	for (int i = 0; i < times; i++) {
		struct response r = request("POST", "/metrics", "Content-Length: 5\r\n\r\nhello");
		assert_int_equal(r.status, 405);
		response_free(&r);
	}
}

/* shmetrics_exporter_requests_total{code="405"} in a /metrics.json document. */
static double json_405(const char *body)
{
	json_error_t jerr;
	json_t *doc = json_loads(body, 0, &jerr), *f, *s;
	size_t i, j;
	double v = -1;

	if (!doc)
		fail_msg("bad JSON (%s): %s", jerr.text, body);
	json_array_foreach(json_object_get(doc, "families"), i, f)
	{
		if (strcmp(json_string_value(json_object_get(f, "name")),
			   "shmetrics_exporter_requests_total") != 0)
			continue;
		json_array_foreach(json_object_get(f, "series"), j, s)
		{
			const char *code = json_string_value(
			    json_object_get(json_object_get(s, "labels"), "code"));
			if (code && strcmp(code, "405") == 0)
				v = json_number_value(json_object_get(s, "value"));
		}
	}
	json_decref(doc);
	return v;
}

/*
 * A body cached for a minute still carries the exporter's counters of the
 * moment it is served, in every format: POSTs answered 405 between two
 * scrapes show in the second.
 */
static void test_exporter_counters_are_current_at_every_scrape_of_a_cached_body(void **state)
{
	const char *c405 = "shmetrics_exporter_requests_total{code=\"405\"}";
	const char *om = "Accept: application/openmetrics-text;version=1.0.0\r\n";
	struct side_server ss;

	(void)state;
	side_start(&ss, 60000, 64, 64);
	char *body = get_metrics();
	double before = sample_value(body, c405);
	free(body);
	post_metrics(3);
	body = get_metrics();
	assert_true(sample_value(body, c405) == before + 3);
	free(body);

	post_metrics(1); /* OpenMetrics: before the one "# EOF" that ends the body */
	struct response r = request("GET", "/metrics", om);
	assert_true(sample_value(r.body, c405) == before + 4);
	assert_true(strstr(r.body, "# EOF\n") == r.body + r.body_len - 6);
	response_free(&r);

	post_metrics(1);
	r = request("GET", "/metrics", "Accept-Encoding: gzip\r\n");
	assert_header(&r, "Content-Encoding: gzip");
	body = gunzip(&r);
	assert_true(sample_value(body, c405) == before + 5);
	free(body);
	response_free(&r);

	post_metrics(1);
	r = request("GET", "/metrics.json", NULL);
	assert_true(json_405(r.body) == before + 6);
	response_free(&r);
	post_metrics(1);
	r = request("GET", "/metrics.json", "Accept-Encoding: gzip\r\n");
	body = gunzip(&r);
	assert_true(json_405(body) == before + 7);
	free(body);
	response_free(&r);

	/* process_*: this process is the exporter here; five more open files show */
	body = get_metrics();
	double fds = sample_value(body, "process_open_fds");
	assert_true(sample_value(body, "process_max_fds") > 0);
	assert_true(sample_value(body, "process_start_time_seconds") > 1e9);
	assert_contains(body, "# TYPE process_cpu_seconds_total counter\n");
	free(body);
	int extra[5];
	for (int i = 0; i < 5; i++)
		extra[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	body = get_metrics();
	assert_true(sample_value(body, "process_open_fds") >= fds + 5);
	free(body);
	for (int i = 0; i < 5; i++)
		close(extra[i]);
	side_stop(&ss);
}

/* A connection from src (any 127.x.y.z) that sends half a request and idles. */
static int idle_connection(const char *src)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &me.sin_addr);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		(void)!write(fd, partial, sizeof partial - 1);
	return fd;
}

static void test_idle_connections_do_not_starve_a_real_scrape(void **state)
{
	struct side_server ss;
	int fds[48];
	char src[32];

	(void)state;
	side_start(&ss, 1, 16, 4);
	for (int i = 0; i < 40; i++) /* one host: only 4 get past the per-IP limit */
		fds[i] = idle_connection("127.0.0.2");
	wait_admitted(ss.http, "127.0.0.2", 4);
	struct response r = request("GET", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	assert_contains(r.body, "live_value{k=\"live\"} 42\n");
	response_free(&r);
	wait_admitted(ss.http, NULL, 4); /* that request's connection is gone */
	for (int i = 40; i < 48; i++) {  /* many hosts: past max_connections, 503 */
		snprintf(src, sizeof src, "127.0.1.%d", i);
		fds[i] = idle_connection(src);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(src, sizeof src, "127.0.2.%d", i);
		(void)idle_connection(src); /* closed by the server's timeout or at exit */
	}
	wait_admitted(ss.http, NULL, 16); /* the server has taken them all in */
	r = request("GET", "/metrics", NULL);
	for (int i = 0; i < 100 && r.status != 503; i++) {
		response_free(&r);
		usleep(100 * 1000);
		r = request("GET", "/metrics", NULL);
	}
	assert_int_equal(r.status, 503);
	assert_header(&r, "Retry-After: 1");
	response_free(&r);
	for (int i = 0; i < 48; i++)
		close(fds[i]);
	side_stop(&ss);
}

/* ---- connection limits ---- */

/* A connection from src (any 127.x.y.z), nothing sent yet. */
static int connect_from(const char *src)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &me.sin_addr);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* Reads from fd until the buffer holds a whole response (headers and
 * Content-Length bytes of body); status 0 when the server closed first. */
static struct response read_response(int fd)
{
	struct response r = { 0 };
	size_t cap = 1 << 16, len = 0, want = SIZE_MAX;
	char *raw = malloc(cap);

	assert_non_null(raw);
	while (len < want) {
		if (len + 1 >= cap)
			assert_non_null(raw = realloc(raw, cap *= 2));
		ssize_t n = read(fd, raw + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		raw[len] = '\0';
		char *end = strstr(raw, "\r\n\r\n"), *cl = strcasestr(raw, "Content-Length:");
		if (end && cl && cl < end)
			want = (size_t)(end + 4 - raw) + strtoul(cl + 15, NULL, 10);
	}
	raw[len] = '\0';
	char *end = strstr(raw, "\r\n\r\n");
	if (len == 0 || !end || len < want) {
		free(raw);
		return (struct response){ .headers = strdup(""), .body = strdup("") };
	}
	*end = '\0';
	assert_int_equal(sscanf(raw, "HTTP/1.%*d %d", &r.status), 1);
	r.headers = raw;
	r.body_len = len - (size_t)(end + 4 - raw);
	r.body = strndup(end + 4, r.body_len);
	return r;
}

/* One request on an open keep-alive connection, and its response. */
static struct response keep_alive_request(int fd, const char *path)
{
	char req[256];

	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	return read_response(fd);
}

static void expect_served(int fd, const char *path)
{
	struct response r = keep_alive_request(fd, path);
	assert_int_equal(r.status, 200);
	assert_lacks(r.headers, "Connection: close");
	response_free(&r);
}

/* The server closed fd (at once, or after its answer): read sees the end. */
static void expect_closed_by_server(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);
	if (n != 0 && !(n < 0 && errno == ECONNRESET))
		fail_msg("the connection is still open (read returned %zd, %s)", n,
			 strerror(errno));
}

/* A limit of N per address admits N keep-alive connections from it, each
 * served request after request; the N+1th is answered 503 and closed, and the
 * N admitted ones are never touched. */
static void test_per_ip_limit_admits_exactly_that_many_keep_alive_connections(void **state)
{
	enum { N = 4 };
	struct side_server ss;
	int fd[N + 2];

	(void)state;
	side_start(&ss, 1, 64, N);
	for (int i = 0; i < N; i++)
		fd[i] = connect_from("127.0.0.3");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++)
			expect_served(fd[i], "/healthz");
	fd[N] = connect_from("127.0.0.3");
	struct response r = keep_alive_request(fd[N], "/healthz");
	assert_int_equal(r.status, 503);
	assert_header(&r, "Connection: close");
	assert_header(&r, "Retry-After: 1");
	assert_contains(r.body, "too many connections from your address (at most 4)");
	response_free(&r);
	expect_closed_by_server(fd[N]);
	for (int i = 0; i < N; i++)
		expect_served(fd[i], "/healthz");
	fd[N + 1] = connect_from("127.0.0.4"); /* another address has its own limit */
	expect_served(fd[N + 1], "/healthz");
	r = keep_alive_request(fd[0], "/metrics");
	assert_int_equal(r.status, 200);
	assert_contains(r.body, "shmetrics_exporter_connections_refused_total{reason=\"per_ip\","
				"answer=\"503\"} 1\n");
	assert_contains(r.body, "shmetrics_exporter_connections_refused_total{reason=\"per_ip\","
				"answer=\"closed\"} 0\n");
	response_free(&r);
	for (int i = 0; i < N + 2; i++)
		close(fd[i]);
	side_stop(&ss);
}

/* Past the limit plus its reserve of 4, a connection is closed at accept and
 * counted; one within the reserve is answered 503.  One server thread, so that
 * connections are accepted in the order they were made. */
static void test_beyond_the_reserve_a_connection_is_closed_at_accept(void **state)
{
	enum { N = 2, RESERVE = 4 };
	struct side_server ss;
	int fd[N + RESERVE + 1];

	(void)state;
	side_start_threads(&ss, 1, 1, 64, N);
	for (int i = 0; i < N + RESERVE + 1; i++) {
		fd[i] = connect_from("127.0.0.5");
		if (i < N)
			expect_served(fd[i], "/healthz");
	}
	expect_closed_by_server(fd[N + RESERVE]);
	struct response r = keep_alive_request(fd[N], "/healthz");
	assert_int_equal(r.status, 503);
	response_free(&r);
	for (int i = 0; i < N; i++)
		expect_served(fd[i], "/healthz");
	r = keep_alive_request(fd[0], "/metrics");
	assert_contains(r.body, "shmetrics_exporter_connections_refused_total{reason=\"per_ip\","
				"answer=\"closed\"} 1\n");
	assert_contains(r.body, "shmetrics_exporter_connections_refused_total{reason=\"per_ip\","
				"answer=\"503\"} 1\n");
	response_free(&r);
	for (int i = 0; i < N + RESERVE + 1; i++)
		close(fd[i]);
	side_stop(&ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_serves_live_collectors_and_self_metrics),
		cmocka_unit_test(
		    test_duplicate_families_are_skipped_and_cannot_shadow_self_metrics),
		cmocka_unit_test(test_stale_collector_series_are_omitted_and_it_is_down),
		cmocka_unit_test(test_dead_writer_and_missing_segment_are_down_not_fatal),
		cmocka_unit_test(test_json_reports_every_collector_and_why_it_is_down),
		cmocka_unit_test(test_other_routes_methods_and_head),
		cmocka_unit_test(test_gzip_is_used_when_the_client_accepts_it),
		cmocka_unit_test(test_concurrent_scrapes_all_succeed),
		cmocka_unit_test(test_corrupt_segment_is_reported_down_and_not_fatal),
		cmocka_unit_test(test_accept_headers_choose_the_format),
		cmocka_unit_test(test_openmetrics_is_served_when_the_client_prefers_it),
		cmocka_unit_test(test_collect_and_exclude_filter_collectors),
		cmocka_unit_test(test_repeated_scrapes_reuse_one_body_until_a_collector_publishes),
		cmocka_unit_test(
		    test_exporter_counters_are_current_at_every_scrape_of_a_cached_body),
		cmocka_unit_test(test_idle_connections_do_not_starve_a_real_scrape),
		cmocka_unit_test(test_per_ip_limit_admits_exactly_that_many_keep_alive_connections),
		cmocka_unit_test(test_beyond_the_reserve_a_connection_is_closed_at_accept),
	};
	return cmocka_run_group_tests(tests, setup_server, teardown_server);
}
