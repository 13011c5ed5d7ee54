/*
 * fuzz_http - libFuzzer harness: the exporter's request handling, end to end.
 *
 * The exporter's HTTP server (exporter/http.c on libmicrohttpd) runs inside the
 * fuzzer, bound to 127.0.0.1 on a free port, scraping one collector segment the
 * harness created.  Each input is sent as the raw bytes of a request (request
 * line, query string, headers, body), and the answer is read until the server
 * closes or a short timeout passes.  This reaches the routing, the method and
 * query-string handling and the Accept/Accept-Encoding negotiation exactly as a
 * client would; a crash, a hang or a leak in any of them fails the run.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"
#include "scrape.h"
#include "segdir.h"
#include "segment.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t port;
static struct segdir dir = { .fd = -1 };
static char base[64];
static struct seg_writer *writer; /* attached for the whole run, like a live collector */
static struct scrape *scrape;
static struct http_server *server;

static void remove_segment(void)
{
	char err[256], path[128];
	segment_remove(&dir, "c", err, sizeof err);
	segdir_close(&dir);
	snprintf(path, sizeof path, "%s/fuzz", base); /* the instance directory */
	rmdir(path);
	rmdir(base);
}

/* One collector with one batch, so that /metrics has something to render. */
static void make_segment(const char *instance)
{
	static const char *const names[] = { "path" };
	static const char *const values[] = { "a\"b\\c" };
	struct segment_options opt = { .interval_ms = 3600000, .mode = 0600, .gid = (gid_t)-1 };
	char err[PATH_MAX + 400];

	segment_limits(0, &opt.limits);
	if (segdir_create(&dir, base, instance, 0751, (gid_t)-1, err, sizeof err) < 0 ||
	    segment_create(&dir, "c", &opt, err, sizeof err) < 0 ||
	    seg_writer_attach(&writer, &dir, "c", err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		exit(1);
	}
	atexit(remove_segment);
	struct batch *b = batch_new(seg_writer_limits(writer));
	batch_family(b, "fuzz_total", "A counter.", METRIC_COUNTER, err, sizeof err);
	batch_add(b, names, values, 1, 42, err, sizeof err);
	batch_set_status(b, true, 1000, NULL);
	seg_writer_publish(writer, b, err, sizeof err);
	batch_free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char instance[32];
	static const char *const collectors[] = { "c" };
	struct scrape_options so = { .segments_dir = base,
				     .instance = instance,
				     .collectors = collectors,
				     .n_collectors = 1 };
	struct http_options ho = { .host = "127.0.0.1",
				   .threads = 2,
				   .timeout_s = 1,
				   .max_connections = 64,
				   .max_connections_per_ip = 64 };
	char err[256];

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	snprintf(instance, sizeof instance, "fuzz");
	snprintf(base, sizeof base, "/tmp/shmetrics-fuzz%d", (int)getpid());
	make_segment(instance);
	if (scrape_new(&scrape, &so, err, sizeof err) < 0 ||
	    http_start(&server, &ho, scrape, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		exit(1);
	}
	port = http_port(server);
	return 0;
}

static int connect_local(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	/* Short: an incomplete request gets no answer until the server's 1 s timeout,
	 * and a client that gives up early is a case the server must handle too. */
	struct timeval tv = { .tv_usec = 100 * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reply[65536];
	int fd = connect_local();

	if (fd < 0)
		return 0;
	for (size_t off = 0; off < size;) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	/* Half-close: a request the server is still waiting on ends here. */
	shutdown(fd, SHUT_WR);
	while (recv(fd, reply, sizeof reply, 0) > 0)
		;
	close(fd);
	return 0;
}
