/*
 * ipvs - IP Virtual Server totals from PROCFS/net/ip_vs_stats and per-backend
 * connection counts and weights from PROCFS/net/ip_vs, as node_exporter's ipvs
 * collector reports them.
 *
 *   TCP  C0A80016:0CEA wlc                       a virtual service (hex address:port)
 *     -> C0A82016:0CEA      Tunnel  100    248        2
 *   FWM  10001000 wlc                            a service by firewall mark
 *   UDP  [2620:0000:...:0001]:0035 rr            IPv6 in brackets
 *
 * Each backend is labelled with the labels chosen by
 * --collector.ipvs.backend-labels (by default local_address, local_port,
 * remote_address, remote_port, proto, local_mark); backends that become
 * indistinguishable with fewer labels are summed, as node_exporter does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

/* The backend labels in name order; bit i of the selection is label i. */
enum {
	L_LOCAL_ADDRESS,
	L_LOCAL_MARK,
	L_LOCAL_PORT,
	L_PROTO,
	L_REMOTE_ADDRESS,
	L_REMOTE_PORT,
	N_LABELS
};
static const char *const ipvs_labels[N_LABELS] = {
	"local_address", "local_mark", "local_port", "proto", "remote_address", "remote_port",
};

enum { COL_ACTIVE, COL_INACTIVE, COL_WEIGHT, N_COLS };
static const struct valtable_col backend_cols[N_COLS] = {
	{ "node_ipvs_backend_connections_active",
	  "The current active connections by local and remote address.", METRIC_GAUGE, 0 },
	{ "node_ipvs_backend_connections_inactive",
	  "The current inactive connections by local and remote address.", METRIC_GAUGE, 0 },
	{ "node_ipvs_backend_weight", "The current backend weight by local and remote address.",
	  METRIC_GAUGE, 0 },
};

static const struct {
	const char *name, *help;
} ipvs_totals[] = {
	{ "node_ipvs_connections_total", "The total number of connections made." },
	{ "node_ipvs_incoming_packets_total", "The total number of incoming packets." },
	{ "node_ipvs_outgoing_packets_total", "The total number of outgoing packets." },
	{ "node_ipvs_incoming_bytes_total", "The total amount of incoming data." },
	{ "node_ipvs_outgoing_bytes_total", "The total amount of outgoing data." },
};
#define N_TOTALS (sizeof ipvs_totals / sizeof ipvs_totals[0])

#define ADDR_MAX INET6_ADDRSTRLEN

/* The service the following "->" lines belong to. */
struct ipvs_service {
	bool valid;
	char proto[8], address[ADDR_MAX], port[8], mark[24];
};

struct ipvs_state {
	struct procfile stats, services;
	unsigned selected; /* bit per label */
	const char *names[N_LABELS];
	size_t n_names;
	struct valtable table;
};

static void ipvs_fini(void *state)
{
	struct ipvs_state *s = state;
	if (!s)
		return;
	procfile_close(&s->stats);
	procfile_close(&s->services);
	valtable_free(&s->table);
	free(s);
}

/* "local_address,remote_port,..." into s->selected; -EINVAL for an unknown label. */
static int ipvs_select(struct ipvs_state *s, const char *list, char *err, size_t errlen)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		while (i < N_LABELS && !word_is(p, n, ipvs_labels[i]))
			i++;
		if (n > 0 && i == N_LABELS) {
			snprintf(err, errlen,
				 "--collector.ipvs.backend-labels: unknown label \"%.*s\"", (int)n,
				 p);
			return -EINVAL;
		}
		if (n > 0)
			s->selected |= 1u << i;
		p += n + (p[n] == ',');
	}
	for (size_t i = 0; i < N_LABELS; i++)
		if (s->selected & (1u << i))
			s->names[s->n_names++] = ipvs_labels[i];
	return 0;
}

static int ipvs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct ipvs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	const char *labels = collector_option(env, "backend-labels");
	int rc = ipvs_select(s, labels ? labels : "", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->stats, env->procfs, "net/ip_vs_stats", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->services, env->procfs, "net/ip_vs", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	valtable_init(&s->table, N_COLS);
	*state = s;
	return 0;
}

/* ---- totals ---- */

static bool parse_hex(const char *w, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return true;
}

/* The third line holds the five totals in hexadecimal. */
static int ipvs_emit_totals(struct ipvs_state *s, struct batch *b, char *err, size_t errlen)
{
	uint64_t v[N_TOTALS];
	struct scan text = scan_text(s->stats.buf, s->stats.len), line;
	for (int i = 0; i < 3; i++)
		if (!scan_line(&text, &line))
			return 0;
	const char *w;
	size_t n;
	for (size_t i = 0; i < N_TOTALS; i++)
		if (!scan_word(&line, &w, &n) || !parse_hex(w, n, &v[i]))
			return 0;
	for (size_t i = 0; i < N_TOTALS; i++) {
		struct lazyfam f = { ipvs_totals[i].name, ipvs_totals[i].help, METRIC_COUNTER,
				     false };
		int rc = lazyfam_add(b, &f, NULL, NULL, 0, (double)v[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- backends ---- */

/* "C0A80016:0CEA" or "[2620:0000:...:0001]:0035" into text address and port. */
static bool ipvs_addr_port(const char *w, size_t n, char *addr, char *port, size_t portlen)
{
	const char *colon = NULL;
	for (const char *p = w + n; p > w; p--)
		if (p[-1] == ':') {
			colon = p - 1;
			break;
		}
	uint64_t pv;
	if (!colon || !parse_hex(colon + 1, (size_t)(w + n - colon - 1), &pv) || pv > 65535)
		return false;
	snprintf(port, portlen, "%u", (unsigned)pv);
	size_t alen = (size_t)(colon - w);
	if (alen == 8) {
		uint64_t a;
		struct in_addr in;
		if (!parse_hex(w, 8, &a))
			return false;
		in.s_addr = htonl((uint32_t)a);
		return inet_ntop(AF_INET, &in, addr, ADDR_MAX) != NULL;
	}
	char buf[ADDR_MAX];
	struct in6_addr in6;
	if (alen < 3 || w[0] != '[' || w[alen - 1] != ']' || alen - 2 >= sizeof buf)
		return false;
	memcpy(buf, w + 1, alen - 2);
	buf[alen - 2] = '\0';
	return inet_pton(AF_INET6, buf, &in6) == 1 && inet_ntop(AF_INET6, &in6, addr, ADDR_MAX);
}

/* "TCP  C0A80016:0CEA wlc" or "FWM  10001000 wlc" */
static void ipvs_parse_service(struct scan line, struct ipvs_service *svc)
{
	const char *proto, *w;
	size_t pn, n;
	svc->valid = false;
	if (!scan_word(&line, &proto, &pn) || pn >= sizeof svc->proto || !scan_word(&line, &w, &n))
		return;
	memcpy(svc->proto, proto, pn);
	svc->proto[pn] = '\0';
	svc->mark[0] = svc->address[0] = '\0';
	if (word_is(proto, pn, "FWM")) {
		if (n >= sizeof svc->mark)
			return;
		memcpy(svc->mark, w, n);
		svc->mark[n] = '\0';
		strcpy(svc->port, "0");
		svc->valid = true;
		return;
	}
	svc->valid = ipvs_addr_port(w, n, svc->address, svc->port, sizeof svc->port);
}

/* The row with these label values, added if new (values are summed into it). */
static int ipvs_row(struct valtable *t, const char *const *values, size_t n)
{
	for (size_t r = 0; r < t->n_rows; r++) {
		size_t i = 0;
		while (i < n && strcmp(t->labels[r][i], values[i]) == 0)
			i++;
		if (i == n)
			return (int)r;
	}
	int row = valtable_row(t, values, n);
	if (row >= 0)
		for (size_t c = 0; c < N_COLS; c++)
			valtable_set(t, (size_t)row, c, 0);
	return row;
}

/* "-> C0A82016:0CEA      Tunnel  100    248        2" */
static int ipvs_parse_backend(struct ipvs_state *s, struct scan line,
			      const struct ipvs_service *svc)
{
	char raddr[ADDR_MAX], rport[8];
	const char *w[6];
	size_t n[6];
	uint64_t weight, active, inactive;
	for (int i = 0; i < 6; i++)
		if (!scan_word(&line, &w[i], &n[i]))
			return 0;
	if (!svc->valid || !ipvs_addr_port(w[1], n[1], raddr, rport, sizeof rport) ||
	    !parse_u64(w[3], n[3], &weight) || !parse_u64(w[4], n[4], &active) ||
	    !parse_u64(w[5], n[5], &inactive))
		return 0;
	const char *all[N_LABELS] = {
		svc->address, svc->mark, svc->port, svc->proto, raddr, rport
	};
	const char *values[N_LABELS];
	size_t k = 0;
	for (size_t i = 0; i < N_LABELS; i++)
		if (s->selected & (1u << i))
			values[k++] = all[i];
	int row = ipvs_row(&s->table, values, k);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	double *v = &s->table.v[(size_t)row * N_COLS];
	valtable_set(&s->table, (size_t)row, COL_ACTIVE, v[COL_ACTIVE] + (double)active);
	valtable_set(&s->table, (size_t)row, COL_INACTIVE, v[COL_INACTIVE] + (double)inactive);
	valtable_set(&s->table, (size_t)row, COL_WEIGHT, v[COL_WEIGHT] + (double)weight);
	return 0;
}

static bool is_service_proto(const char *w, size_t n)
{
	return word_is(w, n, "TCP") || word_is(w, n, "UDP") || word_is(w, n, "SCTP") ||
	       word_is(w, n, "FWM");
}

static int ipvs_parse_services(struct ipvs_state *s)
{
	struct ipvs_service svc = { .valid = false };
	struct scan text = scan_text(s->services.buf, s->services.len), line;
	while (scan_line(&text, &line)) {
		struct scan words = line;
		const char *w;
		size_t n;
		if (!scan_word(&words, &w, &n))
			continue;
		if (is_service_proto(w, n)) {
			ipvs_parse_service(line, &svc);
		} else if (word_is(w, n, "->")) {
			int rc = ipvs_parse_backend(s, line, &svc);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int ipvs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct ipvs_state *s = state;

	valtable_reset(&s->table);
	int rc = procfile_read(&s->stats, err, errlen);
	if (rc == 0)
		rc = ipvs_emit_totals(s, b, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	rc = procfile_read(&s->services, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && (rc = ipvs_parse_services(s)) != 0)
		snprintf(err, errlen, "out of memory for IPVS backends");
	return rc ? rc
		  : valtable_emit(&s->table, backend_cols, s->names, s->n_names, b, err, errlen);
}

const struct collector_ops collector_ipvs_ops = {
	.init = ipvs_init,
	.collect = ipvs_collect,
	.fini = ipvs_fini,
};
