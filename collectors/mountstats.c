/*
 * mountstats - NFS client statistics per mount, from PROCFS/self/mountstats
 * (with each mount's server address from the same position in
 * PROCFS/self/mountinfo), as node_exporter's opt-in mountstats collector
 * reports them: node_mountstats_nfs_* labelled export, protocol and mountaddr,
 * per transport (label transport, the xprt line's position) and per operation
 * (label operation), and node_mountstats_nfs_mountpoint_info{...,mountpoint}.
 *
 * As in node_exporter a mount is reported once per export, protocol and
 * address (a second mount of the same export adds only its mountpoint_info),
 * a mount without an xprt line is not reported, and event, byte and
 * operation counts missing from a short line read as 0.  Only nfs and nfs4
 * mounts carry statistics; other mounts are skipped, and so is an xprt line of
 * a protocol other than tcp and udp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"
#include "seriesbuf.h"

#define NFS_BYTES  8
#define NFS_EVENTS 27
#define NFS_XPRT \
	13 /* port bind connect connect_time idle sends recvs bad_xids req
			     backlog max_slots sending pending */
#define NFS_XPRT_MAX 16
#define NFS_OP_MIN   8
#define NFS_OP       9
#define NFS_TEXT_MAX 512
#define MANTISSA     9007199254740992ull /* 2^53: node_exporter wraps big values there */

#define P "node_mountstats_nfs_"

struct nfs_field {
	unsigned idx;
	const char *name, *help;
	enum metric_type type;
};

static const struct nfs_field byte_fields[] = {
	{ 0, P "read_bytes_total", "Number of bytes read using the read() syscall.",
	  METRIC_COUNTER },
	{ 1, P "write_bytes_total", "Number of bytes written using the write() syscall.",
	  METRIC_COUNTER },
	{ 2, P "direct_read_bytes_total",
	  "Number of bytes read using the read() syscall in O_DIRECT mode.", METRIC_COUNTER },
	{ 3, P "direct_write_bytes_total",
	  "Number of bytes written using the write() syscall in O_DIRECT mode.", METRIC_COUNTER },
	{ 4, P "total_read_bytes_total", "Number of bytes read from the NFS server, in total.",
	  METRIC_COUNTER },
	{ 5, P "total_write_bytes_total", "Number of bytes written to the NFS server, in total.",
	  METRIC_COUNTER },
	{ 6, P "read_pages_total", "Number of pages read directly via mmap()'d files.",
	  METRIC_COUNTER },
	{ 7, P "write_pages_total", "Number of pages written directly via mmap()'d files.",
	  METRIC_COUNTER },
};

#define EV(i, n, h)                                         \
	{                                                   \
		i, P "event_" n "_total", h, METRIC_COUNTER \
	}
static const struct nfs_field event_fields[] = {
	EV(0, "inode_revalidate",
	   "Number of times cached inode attributes are re-validated from the server."),
	EV(1, "dnode_revalidate",
	   "Number of times cached dentry nodes are re-validated from the server."),
	EV(2, "data_invalidate", "Number of times an inode cache is cleared."),
	EV(3, "attribute_invalidate", "Number of times cached inode attributes are invalidated."),
	EV(4, "vfs_open", "Number of times files or directories have been open()'d."),
	EV(5, "vfs_lookup", "Number of times a directory lookup has occurred."),
	EV(6, "vfs_access", "Number of times permissions have been checked."),
	EV(7, "vfs_update_page", "Number of updates (and potential writes) to pages."),
	EV(8, "vfs_read_page", "Number of pages read directly via mmap()'d files."),
	EV(9, "vfs_read_pages", "Number of times a group of pages have been read."),
	EV(10, "vfs_write_page", "Number of pages written directly via mmap()'d files."),
	EV(11, "vfs_write_pages", "Number of times a group of pages have been written."),
	EV(12, "vfs_getdents", "Number of times directory entries have been read with getdents()."),
	EV(13, "vfs_setattr", "Number of times attributes have been set on inodes."),
	EV(14, "vfs_flush",
	   "Number of pending writes that have been forcefully flushed to the server."),
	EV(15, "vfs_fsync", "Number of times fsync() has been called on directories and files."),
	EV(16, "vfs_lock", "Number of times locking has been attempted on a file."),
	EV(17, "vfs_file_release", "Number of times files have been closed and released."),
	EV(19, "truncation", "Number of times files have been truncated."),
	EV(20, "write_extension",
	   "Number of times a file has been grown due to writes beyond its existing end."),
	EV(21, "silly_rename",
	   "Number of times a file was removed while still open by another process."),
	EV(22, "short_read",
	   "Number of times the NFS server gave less data than expected while reading."),
	EV(23, "short_write",
	   "Number of times the NFS server wrote less data than expected while writing."),
	EV(24, "jukebox_delay",
	   "Number of times the NFS server indicated EJUKEBOX; retrieving data from offline "
	   "storage."),
	EV(25, "pnfs_read", "Number of NFS v4.1+ pNFS reads."),
	EV(26, "pnfs_write", "Number of NFS v4.1+ pNFS writes."),
};
#undef EV

static const struct nfs_field xprt_fields[] = {
	{ 1, P "transport_bind_total",
	  "Number of times the client has had to establish a connection from scratch to the NFS "
	  "server.",
	  METRIC_COUNTER },
	{ 2, P "transport_connect_total",
	  "Number of times the client has made a TCP connection to the NFS server.",
	  METRIC_COUNTER },
	{ 4, P "transport_idle_time_seconds",
	  "Duration since the NFS mount last saw any RPC traffic, in seconds.", METRIC_GAUGE },
	{ 5, P "transport_sends_total",
	  "Number of RPC requests for this mount sent to the NFS server.", METRIC_COUNTER },
	{ 6, P "transport_receives_total",
	  "Number of RPC responses for this mount received from the NFS server.", METRIC_COUNTER },
	{ 7, P "transport_bad_transaction_ids_total",
	  "Number of times the NFS server sent a response with a transaction ID unknown to this "
	  "client.",
	  METRIC_COUNTER },
	{ 9, P "transport_backlog_queue_total",
	  "Total number of items added to the RPC backlog queue.", METRIC_COUNTER },
	{ 10, P "transport_maximum_rpc_slots",
	  "Maximum number of simultaneously active RPC requests ever used.", METRIC_GAUGE },
	{ 11, P "transport_sending_queue_total",
	  "Total number of items added to the RPC transmission sending queue.", METRIC_COUNTER },
	{ 12, P "transport_pending_queue_total",
	  "Total number of items added to the RPC transmission pending queue.", METRIC_COUNTER },
};

static const struct nfs_field op_fields[] = {
	{ 0, P "operations_requests_total", "Number of requests performed for a given operation.",
	  METRIC_COUNTER },
	{ 1, P "operations_transmissions_total",
	  "Number of times an actual RPC request has been transmitted for a given operation.",
	  METRIC_COUNTER },
	{ 2, P "operations_major_timeouts_total",
	  "Number of times a request has had a major timeout for a given operation.",
	  METRIC_COUNTER },
	{ 3, P "operations_sent_bytes_total",
	  "Number of bytes sent for a given operation, including RPC headers and payload.",
	  METRIC_COUNTER },
	{ 4, P "operations_received_bytes_total",
	  "Number of bytes received for a given operation, including RPC headers and payload.",
	  METRIC_COUNTER },
	{ 5, P "operations_queue_time_seconds_total",
	  "Duration all requests spent queued for transmission for a given operation before they "
	  "were sent, in seconds.",
	  METRIC_COUNTER },
	{ 6, P "operations_response_time_seconds_total",
	  "Duration all requests took to get a reply back after a request for a given operation "
	  "was transmitted, in seconds.",
	  METRIC_COUNTER },
	{ 7, P "operations_request_time_seconds_total",
	  "Duration all requests took from when a request was enqueued to when it was completely "
	  "handled for a given operation, in seconds.",
	  METRIC_COUNTER },
	{ 8, P "operations_errors_total", "Number of errors for a given operation",
	  METRIC_COUNTER },
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct nfs_xprt {
	char proto[16];
	uint64_t v[NFS_XPRT];
};

struct nfs_mount {
	char device[NFS_TEXT_MAX], mountpoint[NFS_TEXT_MAX], addr[NFS_TEXT_MAX];
	bool nfs;
	uint64_t age, bytes[NFS_BYTES], events[NFS_EVENTS];
	struct nfs_xprt xprt[NFS_XPRT_MAX];
	size_t n_xprt;
	struct scan ops;   /* the per-op lines */
	bool in_ops, done; /* done: the blank line after them was seen */
};

struct mountstats_state {
	struct procfile stats, info;
	struct seriesbuf series;
	char *seen; /* "device\tprotocol\taddr[\tmountpoint]\n" keys reported this cycle */
	size_t seen_len, seen_cap;
	struct nfs_mount m;
};

static void mountstats_fini(void *state)
{
	struct mountstats_state *s = state;
	if (!s)
		return;
	procfile_close(&s->stats);
	procfile_close(&s->info);
	seriesbuf_free(&s->series);
	free(s->seen);
	free(s);
}

static int mountstats_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct mountstats_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->stats, env->procfs, "self/mountstats", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->info, env->procfs, "self/mountinfo", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	seriesbuf_init(&s->series);
	*state = s;
	return 0;
}

/* Whether key was reported already this cycle; if not, it is remembered. */
static int seen_before(struct mountstats_state *s, const char *key, bool *seen)
{
	size_t n = strlen(key);
	for (const char *p = s->seen; p && p < s->seen + s->seen_len;) {
		const char *nl = memchr(p, '\n', (size_t)(s->seen + s->seen_len - p));
		if ((size_t)(nl - p) == n && memcmp(p, key, n) == 0) {
			*seen = true;
			return 0;
		}
		p = nl + 1;
	}
	*seen = false;
	if (s->seen_len + n + 1 > s->seen_cap) {
		size_t cap = s->seen_cap ? s->seen_cap * 2 : 1024;
		while (cap < s->seen_len + n + 1)
			cap *= 2;
		char *p = realloc(s->seen, cap);
		if (!p)
			return -ENOMEM;
		s->seen = p;
		s->seen_cap = cap;
	}
	memcpy(s->seen + s->seen_len, key, n);
	s->seen[s->seen_len + n] = '\n';
	s->seen_len += n + 1;
	return 0;
}

/* Up to max unsigned numbers from the words of line, into out (the rest left). */
static size_t read_numbers(struct scan line, uint64_t *out, size_t max)
{
	const char *w;
	size_t n, count = 0;
	while (count < max && scan_word(&line, &w, &n) && parse_u64(w, n, &out[count]))
		count++;
	return count;
}

static void copy_word(char *out, size_t len, const char *w, size_t n)
{
	snprintf(out, len, "%.*s", (int)n, w);
}

/* "xprt: tcp 832 0 1 0 11 6428 6428 0 12154 0 24 26 5726"; udp lacks connect,
 * connect_time and idle, which read as 0. */
static void parse_xprt(struct nfs_mount *m, struct scan line)
{
	const char *w;
	size_t n;
	uint64_t v[NFS_XPRT] = { 0 };
	if (m->n_xprt == NFS_XPRT_MAX || !scan_word(&line, &w, &n))
		return;
	struct nfs_xprt *x = &m->xprt[m->n_xprt];
	bool udp = word_is(w, n, "udp");
	if (!udp && !word_is(w, n, "tcp"))
		return;
	copy_word(x->proto, sizeof x->proto, w, n);
	size_t got = read_numbers(line, v, udp ? NFS_XPRT - 3 : NFS_XPRT);
	if (got < (udp ? 7u : 10u))
		return; /* shorter than statvers 1.0 has it */
	memset(x->v, 0, sizeof x->v);
	for (size_t i = 0, j = 0; i < got; i++, j++) {
		if (udp && j == 2)
			j = 5;
		x->v[j] = v[i];
	}
	m->n_xprt++;
}

/* A line inside an NFS mount's block. */
static void nfs_line(struct nfs_mount *m, struct scan line)
{
	struct scan rest = line;
	const char *w;
	size_t n;
	bool blank = !scan_word(&rest, &w, &n);
	if (m->done || (blank && m->in_ops)) {
		m->in_ops = false;
		m->done = true;
		return;
	}
	if (m->in_ops) {
		m->ops.end = line.end;
		return;
	}
	if (blank)
		return;
	if (word_is(w, n, "age:"))
		read_numbers(rest, &m->age, 1);
	else if (word_is(w, n, "bytes:"))
		read_numbers(rest, m->bytes, NFS_BYTES);
	else if (word_is(w, n, "events:"))
		read_numbers(rest, m->events, NFS_EVENTS);
	else if (word_is(w, n, "xprt:"))
		parse_xprt(m, rest);
	else if (word_is(w, n, "per-op")) {
		m->in_ops = true;
		m->ops.p = m->ops.end = line.end;
	}
}

/* "device SRV:/path mounted on /mnt with fstype nfs4 statvers=1.1" */
static void start_mount(struct nfs_mount *m, struct scan line)
{
	const char *w[9];
	size_t n[9], count = 0;
	memset(m, 0, sizeof *m);
	while (count < 9 && scan_word(&line, &w[count], &n[count]))
		count++;
	if (count < 9 || !word_is(w[2], n[2], "mounted") || !word_is(w[3], n[3], "on") ||
	    !word_is(w[5], n[5], "with") || !word_is(w[6], n[6], "fstype") ||
	    !(word_is(w[7], n[7], "nfs") || word_is(w[7], n[7], "nfs4")))
		return;
	copy_word(m->device, sizeof m->device, w[1], n[1]);
	copy_word(m->mountpoint, sizeof m->mountpoint, w[4], n[4]);
	m->nfs = true;
}

/* The addr= of the super options (the last word) of a mountinfo line. */
static void mountinfo_addr(struct scan line, char *out, size_t len)
{
	const char *w, *last = NULL;
	size_t n, lastn = 0;
	out[0] = '\0';
	while (scan_word(&line, &w, &n)) {
		last = w;
		lastn = n;
	}
	for (const char *p = last; p && p < last + lastn;) {
		const char *comma = memchr(p, ',', (size_t)(last + lastn - p));
		size_t optlen = comma ? (size_t)(comma - p) : (size_t)(last + lastn - p);
		if (optlen > 5 && memcmp(p, "addr=", 5) == 0) {
			copy_word(out, len, p + 5, optlen - 5);
			return;
		}
		p = comma ? comma + 1 : NULL;
	}
}

static int add_fields(struct seriesbuf *sb, const struct nfs_field *f, size_t nf, const uint64_t *v,
		      const char *const *names, const char *const *values, size_t nl, double scale)
{
	for (size_t i = 0; i < nf; i++) {
		int rc = seriesbuf_add(sb, f[i].name, f[i].help, f[i].type, names, values, nl,
				       (double)v[f[i].idx] * scale);
		if (rc)
			return rc;
	}
	return 0;
}

/* "        READ: 1298 1298 0 207680 1210292152 6 79386 79407 0" */
static int add_ops(struct seriesbuf *sb, const struct nfs_mount *m, const char **values)
{
	static const char *const names[] = { "export", "protocol", "mountaddr", "operation" };
	struct scan text = m->ops, line;
	char op[128];
	int rc = 0;
	while (rc == 0 && scan_line(&text, &line)) {
		const char *w;
		size_t n;
		uint64_t v[NFS_OP] = { 0 };
		if (!scan_word(&line, &w, &n) || n < 2 || w[n - 1] != ':' ||
		    read_numbers(line, v, NFS_OP) < NFS_OP_MIN)
			continue;
		copy_word(op, sizeof op, w, n - 1);
		for (size_t i = 5; i < NFS_OP; i++)
			v[i] %= MANTISSA;
		values[3] = op;
		rc = add_fields(sb, op_fields, 5, v, names, values, 4, 1);
		if (rc == 0)
			rc = add_fields(sb, op_fields + 5, 3, v, names, values, 4, 0.001);
		if (rc == 0)
			rc = add_fields(sb, op_fields + 8, 1, v, names, values, 4, 1);
	}
	return rc;
}

/* Every family of one export/protocol/address, from mount m. */
static int add_mount(struct seriesbuf *sb, const struct nfs_mount *m, const char *proto)
{
	static const char *const names[] = { "export", "protocol", "mountaddr", "transport" };
	const char *values[] = { m->device, proto, m->addr, NULL };
	uint64_t age = m->age;
	char idx[24];
	int rc = add_fields(sb,
			    (const struct nfs_field[]){ { 0, P "age_seconds_total",
							  "The age of the NFS mount in seconds.",
							  METRIC_COUNTER } },
			    1, &age, names, values, 3, 1);
	if (rc == 0)
		rc = add_fields(sb, byte_fields, N(byte_fields), m->bytes, names, values, 3, 1);
	for (size_t t = 0; rc == 0 && t < m->n_xprt; t++) {
		uint64_t v[NFS_XPRT];
		memcpy(v, m->xprt[t].v, sizeof v);
		v[4] %= MANTISSA;
		values[3] = fmt_uint(idx, sizeof idx, t);
		rc = add_fields(sb, xprt_fields, N(xprt_fields), v, names, values, 4, 1);
	}
	if (rc == 0)
		rc = add_ops(sb, m, values);
	return rc ? rc
		  : add_fields(sb, event_fields, N(event_fields), m->events, names, values, 3, 1);
}

/* Reports mount m once per transport protocol not reported before, as node_exporter. */
static int report_mount(struct mountstats_state *s)
{
	static const char *const names[] = { "export", "protocol", "mountaddr", "mountpoint" };
	const struct nfs_mount *m = &s->m;
	char key[4 * NFS_TEXT_MAX + 8];
	bool seen;
	for (size_t t = 0; m->nfs && t < m->n_xprt; t++) {
		const char *proto = m->xprt[t].proto;
		const char *values[] = { m->device, proto, m->addr, m->mountpoint };
		snprintf(key, sizeof key, "%s\t%s\t%s\t%s", m->device, proto, m->addr,
			 m->mountpoint);
		int rc = seen_before(s, key, &seen);
		if (rc == 0 && !seen)
			rc = seriesbuf_add(&s->series, P "mountpoint_info",
					   "Info metric for an NFS mountpoint.", METRIC_GAUGE,
					   names, values, 4, 1);
		snprintf(key, sizeof key, "%s\t%s\t%s", m->device, proto, m->addr);
		if (rc == 0)
			rc = seen_before(s, key, &seen);
		if (rc || seen)
			return rc;
		rc = add_mount(&s->series, m, proto);
		if (rc)
			return rc;
	}
	return 0;
}

static int mountstats_walk(struct mountstats_state *s)
{
	struct scan text = scan_text(s->stats.buf, s->stats.len), line;
	struct scan info = scan_text(s->info.buf, s->info.len), info_line;
	const char *w;
	size_t n;
	int rc = 0;
	bool open = false;
	while (rc == 0 && scan_line(&text, &line)) {
		struct scan first = line;
		if (!scan_word(&first, &w, &n) || !word_is(w, n, "device")) {
			if (open && s->m.nfs)
				nfs_line(&s->m, line);
			continue;
		}
		if (open)
			rc = report_mount(s);
		start_mount(&s->m, line);
		open = true;
		if (scan_line(&info, &info_line)) /* the same mount, in the same order */
			mountinfo_addr(info_line, s->m.addr, sizeof s->m.addr);
	}
	return rc == 0 && open ? report_mount(s) : rc;
}

static int mountstats_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct mountstats_state *s = state;
	int rc = procfile_read(&s->stats, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = procfile_read(&s->info, err, errlen);
	if (rc == -ENOENT)
		s->info.len = 0;
	else if (rc)
		return rc;
	seriesbuf_reset(&s->series);
	s->seen_len = 0;
	rc = mountstats_walk(s);
	if (rc) {
		snprintf(err, errlen, "out of memory reading %s", s->stats.path);
		return rc;
	}
	return seriesbuf_emit(&s->series, b, err, errlen);
}

const struct collector_ops collector_mountstats_ops = {
	.init = mountstats_init,
	.collect = mountstats_collect,
	.fini = mountstats_fini,
};
