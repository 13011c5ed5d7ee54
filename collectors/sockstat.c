/*
 * sockstat - socket counts from PROCFS/net/sockstat and PROCFS/net/sockstat6, as
 * node_exporter names them: "TCP: inuse 4 orphan 0 tw 5 alloc 6 mem 7" gives
 * node_sockstat_TCP_inuse ... node_sockstat_TCP_mem, and node_sockstat_TCP_mem_bytes
 * (mem is in pages).  The "sockets: used N" line is node_sockstat_sockets_used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

#define PROTO_MAX 32

/* The states node_exporter knows, in its order; others are skipped. */
enum sock_key { K_INUSE, K_ORPHAN, K_TW, K_ALLOC, K_MEM, K_MEMORY, N_KEYS };
static const char *const key_names[N_KEYS] = { "inuse", "orphan", "tw", "alloc", "mem", "memory" };

struct sockstat_state {
	struct procfile v4, v6;
	double page_size;
	char name[METRIC_NAME_MAX + 1];
	char help[METRIC_HELP_MAX + 1];
};

static void sockstat_fini(void *state)
{
	struct sockstat_state *s = state;
	if (!s)
		return;
	procfile_close(&s->v4);
	procfile_close(&s->v6);
	free(s);
}

static int sockstat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct sockstat_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->v4, env->procfs, "net/sockstat", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->v6, env->procfs, "net/sockstat6", err, errlen);
	if (rc) {
		sockstat_fini(s);
		return rc;
	}
	long ps = sysconf(_SC_PAGESIZE);
	s->page_size = ps > 0 ? (double)ps : 4096.0;
	*state = s;
	return 0;
}

static int sock_emit(struct sockstat_state *s, struct batch *b, const char *proto, const char *key,
		     double v, char *err, size_t errlen)
{
	int n = snprintf(s->name, sizeof s->name, "node_sockstat_%s_%s", proto, key);
	if (n < 0 || (size_t)n >= sizeof s->name)
		return 0;
	snprintf(s->help, sizeof s->help, "Number of %s sockets in state %s.", proto, key);
	int rc = emit_single(b, s->name, s->help, METRIC_GAUGE, v, err, errlen);
	/* A protocol name that makes no valid metric name, or a repeated line. */
	return rc == -EINVAL || rc == -EEXIST ? 0 : rc;
}

/* One "PROTO: key value key value ..." line. */
static int sock_line(struct sockstat_state *s, struct batch *b, struct scan line, char *err,
		     size_t errlen)
{
	const char *w, *k, *v;
	size_t n, kn, vn;
	char proto[PROTO_MAX];
	uint64_t val[N_KEYS];
	bool has[N_KEYS] = { false };

	if (!scan_word(&line, &w, &n) || n < 2 || n > PROTO_MAX || w[n - 1] != ':')
		return 0;
	memcpy(proto, w, n - 1);
	proto[n - 1] = '\0';
	while (scan_word(&line, &k, &kn) && scan_word(&line, &v, &vn)) {
		uint64_t x;
		if (strcmp(proto, "sockets") == 0 && word_is(k, kn, "used") &&
		    parse_u64(v, vn, &x)) {
			int rc = emit_single(b, "node_sockstat_sockets_used",
					     "Number of IPv4 sockets in use.", METRIC_GAUGE,
					     (double)x, err, errlen);
			return rc == -EINVAL ? 0 : rc;
		}
		for (int i = 0; i < N_KEYS; i++)
			if (word_is(k, kn, key_names[i]) && parse_u64(v, vn, &x)) {
				val[i] = x;
				has[i] = true;
			}
	}
	if (strcmp(proto, "sockets") == 0)
		return 0;
	/* node_exporter always reports inuse, as 0 when the line lacks it. */
	if (!has[K_INUSE]) {
		val[K_INUSE] = 0;
		has[K_INUSE] = true;
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < N_KEYS; i++)
		if (has[i])
			rc = sock_emit(s, b, proto, key_names[i], (double)val[i], err, errlen);
	if (rc == 0 && has[K_MEM])
		rc = sock_emit(s, b, proto, "mem_bytes", (double)val[K_MEM] * s->page_size, err,
			       errlen);
	return rc;
}

static int sock_file(struct sockstat_state *s, struct procfile *f, struct batch *b, char *err,
		     size_t errlen)
{
	int rc = procfile_read(f, err, errlen);
	if (rc == -ENOENT)
		return 0;
	struct scan text = scan_text(f->buf, f->len), line;
	while (rc == 0 && scan_line(&text, &line))
		rc = sock_line(s, b, line, err, errlen);
	return rc;
}

static int sockstat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct sockstat_state *s = state;
	int rc = sock_file(s, &s->v4, b, err, errlen);
	if (rc == 0)
		rc = sock_file(s, &s->v6, b, err, errlen);
	return rc;
}

const struct collector_ops collector_sockstat_ops = {
	.init = sockstat_init,
	.collect = sockstat_collect,
	.fini = sockstat_fini,
};
