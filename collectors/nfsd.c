/*
 * nfsd - the NFS server's statistics from PROCFS/net/rpc/nfsd, as
 * node_exporter's nfsd collector reports them:
 *
 *   rc <hits> <misses> <nocache>          reply cache
 *   fh <stale> ...                        file handles
 *   io <bytes read> <bytes written>
 *   th <threads> ...
 *   ra <cache size> <10 depth counts> <not found>   (gone in newer kernels)
 *   net <packets> <udp> <tcp> <tcp connections>
 *   rpc <calls> <bad> <bad format> <bad auth> <bad client>
 *   proc2|proc3 <count> <calls of each procedure>
 *   proc4ops <count> <calls of each NFSv4 operation, by operation number>
 *   wdeleg_getattr <GETATTRs answered from a write delegation> (Linux 6.9+)
 *
 * The NULL procedure of NFSv2 and v3 is not reported (node_exporter does not).
 * A missing line leaves its families out; other lines are ignored.
 */
#include <errno.h>

#include "collector.h"
#include "lazyfam.h"
#include "nfs_procs.h"
#include "procfile.h"

/*
 * The server's NFSv4 operations by number (RFC 7530 / 5661 op codes), as far as
 * node_exporter names them; NULL where it has no name.  node_exporter 1.5 read
 * Verify, Write and RelLockOwner two places early (at SETCLIENTID and
 * SETCLIENTID_CONFIRM) and did not report those two; today it reports all five
 * at the kernel's positions, as here.
 */
static const char *const nfsd_v4_ops[] = {
	NULL,
	NULL,
	NULL,
	"Access",
	"Close",
	"Commit",
	"Create",
	"DelegPurge",
	"DelegReturn",
	"GetAttr",
	"GetFH",
	"Link",
	"Lock",
	"Lockt",
	"Locku",
	"Lookup",
	"LookupRoot",
	"Nverify",
	"Open",
	"OpenAttr",
	"OpenConfirm",
	"OpenDgrd",
	"PutFH",
	NULL,
	NULL,
	"Read",
	"ReadDir",
	"ReadLink",
	"Remove",
	"Rename",
	"Renew",
	"RestoreFH",
	"SaveFH",
	"SecInfo",
	"SetAttr",
	"SetClientID",
	"SetClientIDConfirm",
	"Verify",
	"Write",
	"RelLockOwner",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One single-series family: the field-th number of the line starting with key. */
struct nfsd_scalar {
	const char *key;
	size_t field;
	const char *name, *help;
	enum metric_type type;
};

static const struct nfsd_scalar nfsd_scalars[] = {
	{ "rc", 0, "node_nfsd_reply_cache_hits_total",
	  "Total number of NFSd Reply Cache hits (client lost server response).", METRIC_COUNTER },
	{ "rc", 1, "node_nfsd_reply_cache_misses_total",
	  "Total number of NFSd Reply Cache an operation that requires caching (idempotent).",
	  METRIC_COUNTER },
	{ "rc", 2, "node_nfsd_reply_cache_nocache_total",
	  "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/…).",
	  METRIC_COUNTER },
	{ "fh", 0, "node_nfsd_file_handles_stale_total", "Total number of NFSd stale file handles",
	  METRIC_COUNTER },
	{ "io", 0, "node_nfsd_disk_bytes_read_total", "Total NFSd bytes read.", METRIC_COUNTER },
	{ "io", 1, "node_nfsd_disk_bytes_written_total", "Total NFSd bytes written.",
	  METRIC_COUNTER },
	{ "th", 0, "node_nfsd_server_threads",
	  "Total number of NFSd kernel threads that are running.", METRIC_GAUGE },
	{ "ra", 0, "node_nfsd_read_ahead_cache_size_blocks",
	  "How large the read ahead cache is in blocks.", METRIC_GAUGE },
	{ "ra", 11, "node_nfsd_read_ahead_cache_not_found_total",
	  "Total number of NFSd read ahead cache not found.", METRIC_COUNTER },
	{ "net", 3, "node_nfsd_connections_total", "Total number of NFSd TCP connections.",
	  METRIC_COUNTER },
	{ "rpc", 0, "node_nfsd_server_rpcs_total", "Total number of NFSd RPCs.", METRIC_COUNTER },
};

static int nfsd_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "net/rpc/nfsd", err, errlen);
}

static int nfsd_emit_scalars(const struct procfile *file, struct batch *b, char *err, size_t errlen)
{
	struct scan line;
	for (size_t i = 0; i < N_OF(nfsd_scalars); i++) {
		const struct nfsd_scalar *d = &nfsd_scalars[i];
		if (!nfs_find(file->buf, file->len, d->key, &line))
			continue;
		int rc = nfs_emit_field(b, line, d->field, d->name, d->help, d->type, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* A family of one label whose values are fields of the line starting with key. */
static int nfsd_emit_labelled(const struct procfile *file, struct batch *b, const char *key,
			      struct lazyfam *f, const char *label, const char *const *values,
			      const size_t *fields, size_t n, char *err, size_t errlen)
{
	const char *const keys[] = { label };
	struct scan line;
	uint64_t v;

	if (!nfs_find(file->buf, file->len, key, &line))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!nfs_field(line, fields[i], &v))
			continue;
		int rc = lazyfam_add(b, f, keys, &values[i], 1, (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int nfsd_emit_net_and_errors(const struct procfile *file, struct batch *b, char *err,
				    size_t errlen)
{
	static const char *const protos[] = { "udp", "tcp" };
	static const size_t proto_fields[] = { 1, 2 };
	static const char *const errors[] = { "fmt", "auth", "cInt" };
	static const size_t error_fields[] = { 2, 3, 4 };
	struct lazyfam packets = { "node_nfsd_packets_total",
				   "Total NFSd network packets (sent+received) by protocol type.",
				   METRIC_COUNTER, false };
	struct lazyfam rpc_errors = { "node_nfsd_rpc_errors_total",
				      "Total number of NFSd RPC errors by error type.",
				      METRIC_COUNTER, false };
	int rc = nfsd_emit_labelled(file, b, "net", &packets, "proto", protos, proto_fields, 2, err,
				    errlen);
	if (rc == 0)
		rc = nfsd_emit_labelled(file, b, "rpc", &rpc_errors, "error", errors, error_fields,
					3, err, errlen);
	return rc;
}

static int nfsd_emit_requests(const struct procfile *file, struct batch *b, char *err,
			      size_t errlen)
{
	struct lazyfam f = { "node_nfsd_requests_total",
			     "Total number NFSd Requests by method and protocol.", METRIC_COUNTER,
			     false };
	struct scan line;
	int rc = 0;

	if (nfs_find(file->buf, file->len, "proc2", &line))
		rc = nfs_emit_procs(b, &f, line, "2", nfs_v2_procs, N_OF(nfs_v2_procs), 1, err,
				    errlen);
	if (rc == 0 && nfs_find(file->buf, file->len, "proc3", &line))
		rc = nfs_emit_procs(b, &f, line, "3", nfs_v3_procs, N_OF(nfs_v3_procs), 1, err,
				    errlen);
	bool v4 = nfs_find(file->buf, file->len, "proc4ops", &line);
	if (rc == 0 && v4)
		rc = nfs_emit_procs(b, &f, line, "4", nfsd_v4_ops, N_OF(nfsd_v4_ops), 0, err,
				    errlen);
	/* A counter of its own line; node_exporter reports it (as 0 when the kernel
	 * has no such line) with the NFSv4 operations. */
	uint64_t wdeleg = 0;
	bool has_wdeleg = nfs_find(file->buf, file->len, "wdeleg_getattr", &line) &&
			  nfs_field(line, 0, &wdeleg);
	if (rc == 0 && (v4 || has_wdeleg)) {
		static const char *const keys[] = { "method", "proto" };
		static const char *const values[] = { "WdelegGetattr", "4" };
		rc = lazyfam_add(b, &f, keys, values, 2, (double)wdeleg, err, errlen);
	}
	return rc;
}

static int nfsd_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	int rc = procfile_read(file, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = nfsd_emit_scalars(file, b, err, errlen);
	if (rc == 0)
		rc = nfsd_emit_net_and_errors(file, b, err, errlen);
	if (rc == 0)
		rc = nfsd_emit_requests(file, b, err, errlen);
	return rc;
}

const struct collector_ops collector_nfsd_ops = {
	.init = nfsd_init,
	.collect = nfsd_collect,
	.fini = procfile_free,
};
