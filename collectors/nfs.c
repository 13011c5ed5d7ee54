/*
 * nfs - the NFS client's RPC statistics from PROCFS/net/rpc/nfs, as
 * node_exporter's nfs collector reports them:
 *
 *   net <packets> <udp packets> <tcp packets> <tcp connections>
 *   rpc <calls> <retransmissions> <authentication refreshes>
 *   proc2|proc3|proc4 <count> <calls of each procedure, in the kernel's order>
 *
 * Missing lines leave their families out; other lines are ignored.
 */
#include <errno.h>

#include "collector.h"
#include "lazyfam.h"
#include "nfs_procs.h"
#include "procfile.h"

/* The client's NFSv4 operations (NFSPROC4_CLNT_*), as far as node_exporter
 * names them. */
static const char *const nfs_v4_procs[] = {
	"Null",
	"Read",
	"Write",
	"Commit",
	"Open",
	"OpenConfirm",
	"OpenNoattr",
	"OpenDowngrade",
	"Close",
	"Setattr",
	"FsInfo",
	"Renew",
	"SetClientID",
	"SetClientIDConfirm",
	"Lock",
	"Lockt",
	"Locku",
	"Access",
	"Getattr",
	"Lookup",
	"LookupRoot",
	"Remove",
	"Rename",
	"Link",
	"Symlink",
	"Create",
	"Pathconf",
	"StatFs",
	"ReadLink",
	"ReadDir",
	"ServerCaps",
	"DelegReturn",
	"GetACL",
	"SetACL",
	"FsLocations",
	"ReleaseLockowner",
	"Secinfo",
	"FsidPresent",
	"ExchangeID",
	"CreateSession",
	"DestroySession",
	"Sequence",
	"GetLeaseTime",
	"ReclaimComplete",
	"LayoutGet",
	"GetDeviceInfo",
	"LayoutCommit",
	"LayoutReturn",
	"SecinfoNoName",
	"TestStateID",
	"FreeStateID",
	"GetDeviceList",
	"BindConnToSession",
	"DestroyClientID",
	"Seek",
	"Allocate",
	"DeAllocate",
	"LayoutStats",
	"Clone",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int nfs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "net/rpc/nfs", err, errlen);
}

static int nfs_emit_net(const struct procfile *file, struct batch *b, char *err, size_t errlen)
{
	static const char *const keys[] = { "protocol" };
	static const char *const protos[] = { "udp", "tcp" };
	struct lazyfam f = { "node_nfs_packets_total",
			     "Total NFSd network packets (sent+received) by protocol type.",
			     METRIC_COUNTER, false };
	struct scan line;
	uint64_t v;

	if (!nfs_find(file->buf, file->len, "net", &line))
		return 0;
	int rc = nfs_emit_field(b, line, 3, "node_nfs_connections_total",
				"Total number of NFSd TCP connections.", METRIC_COUNTER, err,
				errlen);
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		const char *values[] = { protos[i] };
		if (nfs_field(line, i + 1, &v))
			rc = lazyfam_add(b, &f, keys, values, 1, (double)v, err, errlen);
	}
	return rc;
}

static int nfs_emit_rpc(const struct procfile *file, struct batch *b, char *err, size_t errlen)
{
	struct scan line;
	if (!nfs_find(file->buf, file->len, "rpc", &line))
		return 0;
	int rc = nfs_emit_field(b, line, 0, "node_nfs_rpcs_total",
				"Total number of RPCs performed.", METRIC_COUNTER, err, errlen);
	if (rc == 0)
		rc = nfs_emit_field(b, line, 1, "node_nfs_rpc_retransmissions_total",
				    "Number of RPC transmissions performed.", METRIC_COUNTER, err,
				    errlen);
	if (rc == 0)
		rc = nfs_emit_field(b, line, 2, "node_nfs_rpc_authentication_refreshes_total",
				    "Number of RPC authentication refreshes performed.",
				    METRIC_COUNTER, err, errlen);
	return rc;
}

static int nfs_emit_requests(const struct procfile *file, struct batch *b, char *err, size_t errlen)
{
	struct lazyfam f = { "node_nfs_requests_total", "Number of NFS procedures invoked.",
			     METRIC_COUNTER, false };
	struct scan line;
	int rc = 0;

	if (nfs_find(file->buf, file->len, "proc2", &line))
		rc = nfs_emit_procs(b, &f, line, "2", nfs_v2_procs, N_OF(nfs_v2_procs), 0, err,
				    errlen);
	if (rc == 0 && nfs_find(file->buf, file->len, "proc3", &line))
		rc = nfs_emit_procs(b, &f, line, "3", nfs_v3_procs, N_OF(nfs_v3_procs), 0, err,
				    errlen);
	if (rc == 0 && nfs_find(file->buf, file->len, "proc4", &line))
		rc = nfs_emit_procs(b, &f, line, "4", nfs_v4_procs, N_OF(nfs_v4_procs), 0, err,
				    errlen);
	return rc;
}

static int nfs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	int rc = procfile_read(file, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = nfs_emit_net(file, b, err, errlen);
	if (rc == 0)
		rc = nfs_emit_rpc(file, b, err, errlen);
	if (rc == 0)
		rc = nfs_emit_requests(file, b, err, errlen);
	return rc;
}

const struct collector_ops collector_nfs_ops = {
	.init = nfs_init,
	.collect = nfs_collect,
	.fini = procfile_free,
};
