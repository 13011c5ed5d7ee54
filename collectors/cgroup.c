/*
 * cgroup - resource use per control group: CPU, memory, IO, tasks, pressure and
 * state of each service, slice, scope and container, as shmetrics_cgroup_*
 * (docs/collectors.md lists the families).
 *
 * Hierarchies: the unified one (cgroup v2) at SYSFS/fs/cgroup, or at
 * SYSFS/fs/cgroup/unified on a hybrid host, and the v1 hierarchies of the
 * controllers v2 does not have (cpu, cpuacct, memory, blkio, pids under
 * SYSFS/fs/cgroup/<controller>).  A controller's numbers come from the hierarchy
 * it is attached to, so each family means the same whichever one it is; the
 * same path in several hierarchies is one cgroup (systemd and the container
 * runtimes keep their paths parallel).  Pressure and cgroup.events exist in v2
 * only; a cgroup that is in no v1 cpuacct hierarchy (a v2-only path on a hybrid
 * host) gets its CPU usage from v2's own cpu.stat, which every cgroup has.
 *
 * Bounds, each cycle:
 *   - the walk goes max-depth levels down ("/" is 0, "/system.slice" 1) and
 *     visits at most WALK_FACTOR x max-cgroups directories, shallow ones first;
 *   - path-include / path-exclude (regular expressions on the path) choose;
 *   - at most max-cgroups are read, shallow ones first, then by path;
 *   - those whose series would not fit what is left of the batch are left out
 *     too, whole, before anything is added;
 *   - everything left out is counted in shmetrics_cgroup_dropped_total and
 *     reported as a warning.
 * The walk is redone every cycle, so a cgroup that is gone has no series.
 * A cgroup that vanishes between the walk and the reading of its files is
 * skipped quietly.
 *
 * The cgroup tree may be written by other users (delegated subtrees): files are
 * opened O_NOFOLLOW|O_NONBLOCK (no mknod in cgroupfs, but a fixture or a
 * --path.sysfs tree could hold a FIFO), read to a bounded size, and names that
 * are not UTF-8 are skipped with their subtree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "array.h"
#include "cgname.h"
#include "collector.h"
#include "settings.h"
#include "dirents.h"
#include "emit.h"
#include "filter.h"
#include "hsort.h"
#include "lazyfam.h"
#include "psi.h"
#include "scan.h"

#define WALK_FACTOR   8
#define WALK_MIN      1024
#define FILE_MAX      (1u << 20) /* io.stat of a host with many devices stays far below */
#define DIRBUF_BYTES  32768
#define V1_UNLIMITED  (1ull << 62) /* v1 writes "no limit" as a page-rounded LLONG_MAX */
#define DEV_CACHE_MAX 64

/* ---- hierarchies ---- */

enum cg_hier { H_V2, H_CPUACCT, H_CPU, H_MEMORY, H_BLKIO, H_PIDS, N_HIER };

static const struct {
	const char *controller; /* the v2 controller that takes its place */
	const char *dirs[2];    /* where v1 mounts it under fs/cgroup */
	const char *probe;      /* a file its root has */
} hier_defs[N_HIER] = {
	[H_V2] = { NULL, { NULL, NULL }, "cgroup.controllers" },
	[H_CPUACCT] = { "cpu", { "cpuacct", "cpu,cpuacct" }, "cpuacct.usage" },
	[H_CPU] = { "cpu", { "cpu", "cpu,cpuacct" }, "cpu.shares" },
	[H_MEMORY] = { "memory", { "memory", NULL }, "memory.usage_in_bytes" },
	[H_BLKIO] = { "io", { "blkio", NULL }, "blkio.reset_stats" },
	[H_PIDS] = { "pids", { "pids", NULL }, "tasks" },
};

struct hier_root {
	int fd;       /* O_PATH directory; -1 when not mounted or not used */
	uint8_t bits; /* this hierarchy's bit, and those of others mounted with it */
	bool walk;    /* false when an alias of an earlier one (cpu,cpuacct) */
	dev_t dev;
	ino_t ino;
};

/* ---- values ---- */

enum cg_val {
	V_CPU_USAGE,
	V_CPU_USER,
	V_CPU_SYSTEM,
	V_CPU_PERIODS,
	V_CPU_THROTTLED,
	V_CPU_THROTTLED_TIME,
	V_MEM_USAGE,
	V_MEM_PEAK,
	V_MEM_LIMIT,
	V_MEM_HIGH,
	V_MS_ANON,
	V_MS_FILE,
	V_MS_KERNEL,
	V_MS_SOCK,
	V_MS_SHMEM,
	V_EV_OOM,
	V_EV_OOM_KILL,
	V_EV_HIGH,
	V_EV_MAX,
	V_PIDS,
	V_PIDS_MAX,
	V_PSI_CPU_SOME,
	V_PSI_CPU_FULL,
	V_PSI_MEM_SOME,
	V_PSI_MEM_FULL,
	V_PSI_IO_SOME,
	V_PSI_IO_FULL,
	V_POPULATED,
	V_FROZEN,
	N_VALS
};

enum io_val { IO_RBYTES, IO_WBYTES, IO_RIOS, IO_WIOS, N_IO };

struct cg_io {
	uint32_t major, minor;
	uint8_t set; /* bit per io_val */
	double v[N_IO];
};

/* ---- families ---- */

struct member {
	enum cg_val val;
	const char *label_value; /* of the family's label; NULL when it has none */
};

struct cg_family {
	const char *name, *help;
	enum metric_type type;
	const char *label; /* the family's own label, or NULL */
	struct member m[6];
	size_t n;
};

#define ONE(v) { { v, NULL } }, 1
#define FAM(name, help, type, ONEV)          \
	{                                    \
		name, help, type, NULL, ONEV \
	}

static const struct cg_family families[] = {
	FAM("shmetrics_cgroup_cpu_usage_seconds_total",
	    "CPU time consumed by the cgroup's tasks, in seconds.", METRIC_COUNTER,
	    ONE(V_CPU_USAGE)),
	FAM("shmetrics_cgroup_cpu_user_seconds_total",
	    "CPU time the cgroup's tasks spent in user mode, in seconds.", METRIC_COUNTER,
	    ONE(V_CPU_USER)),
	FAM("shmetrics_cgroup_cpu_system_seconds_total",
	    "CPU time the cgroup's tasks spent in kernel mode, in seconds.", METRIC_COUNTER,
	    ONE(V_CPU_SYSTEM)),
	FAM("shmetrics_cgroup_cpu_periods_total",
	    "Enforcement periods of the cgroup's CPU bandwidth limit that have elapsed.",
	    METRIC_COUNTER, ONE(V_CPU_PERIODS)),
	FAM("shmetrics_cgroup_cpu_throttled_periods_total",
	    "Enforcement periods in which the cgroup was throttled by its CPU limit.",
	    METRIC_COUNTER, ONE(V_CPU_THROTTLED)),
	FAM("shmetrics_cgroup_cpu_throttled_seconds_total",
	    "Time the cgroup's tasks were throttled by its CPU limit, in seconds.", METRIC_COUNTER,
	    ONE(V_CPU_THROTTLED_TIME)),
	FAM("shmetrics_cgroup_memory_usage_bytes",
	    "Memory charged to the cgroup (memory.current, v1 memory.usage_in_bytes).",
	    METRIC_GAUGE, ONE(V_MEM_USAGE)),
	FAM("shmetrics_cgroup_memory_peak_bytes",
	    "Highest memory usage recorded for the cgroup (memory.peak, v1 memory.max_usage_in_bytes).",
	    METRIC_GAUGE, ONE(V_MEM_PEAK)),
	FAM("shmetrics_cgroup_memory_limit_bytes",
	    "Hard memory limit of the cgroup (memory.max, v1 memory.limit_in_bytes); no series when unlimited.",
	    METRIC_GAUGE, ONE(V_MEM_LIMIT)),
	FAM("shmetrics_cgroup_memory_high_bytes",
	    "Memory throttling threshold of the cgroup (memory.high); no series when unlimited.",
	    METRIC_GAUGE, ONE(V_MEM_HIGH)),
	{ "shmetrics_cgroup_memory_stat_bytes",
	  "Memory of the cgroup by type: anon, file (page cache), kernel, sock (network buffers), shmem.",
	  METRIC_GAUGE,
	  "type",
	  { { V_MS_ANON, "anon" },
	    { V_MS_FILE, "file" },
	    { V_MS_KERNEL, "kernel" },
	    { V_MS_SOCK, "sock" },
	    { V_MS_SHMEM, "shmem" } },
	  5 },
	{ "shmetrics_cgroup_memory_events_total",
	  "Memory events of the cgroup: max (the limit was hit), high (throttled over memory.high), oom (allocation failed at the limit), oom_kill (a task was killed).",
	  METRIC_COUNTER,
	  "event",
	  { { V_EV_MAX, "max" },
	    { V_EV_HIGH, "high" },
	    { V_EV_OOM, "oom" },
	    { V_EV_OOM_KILL, "oom_kill" } },
	  4 },
	FAM("shmetrics_cgroup_pids", "Tasks (processes and threads) in the cgroup.", METRIC_GAUGE,
	    ONE(V_PIDS)),
	FAM("shmetrics_cgroup_pids_limit",
	    "Maximum number of tasks in the cgroup (pids.max); no series when unlimited.",
	    METRIC_GAUGE, ONE(V_PIDS_MAX)),
	{ "shmetrics_cgroup_pressure_waiting_seconds_total",
	  "Time in which some of the cgroup's tasks were stalled on the resource (PSI some), in seconds.",
	  METRIC_COUNTER,
	  "resource",
	  { { V_PSI_CPU_SOME, "cpu" }, { V_PSI_MEM_SOME, "memory" }, { V_PSI_IO_SOME, "io" } },
	  3 },
	{ "shmetrics_cgroup_pressure_stalled_seconds_total",
	  "Time in which all of the cgroup's non-idle tasks were stalled on the resource (PSI full), in seconds.",
	  METRIC_COUNTER,
	  "resource",
	  { { V_PSI_CPU_FULL, "cpu" }, { V_PSI_MEM_FULL, "memory" }, { V_PSI_IO_FULL, "io" } },
	  3 },
	FAM("shmetrics_cgroup_populated",
	    "Whether the cgroup or one below it has live tasks (cgroup.events).", METRIC_GAUGE,
	    ONE(V_POPULATED)),
	FAM("shmetrics_cgroup_frozen", "Whether the cgroup is frozen (cgroup.events).",
	    METRIC_GAUGE, ONE(V_FROZEN)),
};

#define N_FAMILIES (sizeof families / sizeof families[0])

static const struct {
	const char *name, *help;
	enum io_val read, write;
} io_families[] = {
	{ "shmetrics_cgroup_io_bytes_total",
	  "Bytes the cgroup read from and wrote to each block device.", IO_RBYTES, IO_WBYTES },
	{ "shmetrics_cgroup_io_operations_total",
	  "Read and write operations the cgroup issued to each block device.", IO_RIOS, IO_WIOS },
};

static const char info_name[] = "shmetrics_cgroup_info";
static const char info_help[] =
    "Labels of a reported cgroup: its path (id), systemd unit, container id, name and runtime, Kubernetes pod uid. Always 1.";
static const char count_name[] = "shmetrics_cgroup_cgroups";
static const char count_help[] = "Cgroups reported in this collection.";
static const char dropped_name[] = "shmetrics_cgroup_dropped_total";
static const char dropped_help[] =
    "Cgroups left out by the max-cgroups limit, the walk limit or the segment's limits, summed over collections.";

/* ---- state ---- */

struct cg_node {
	uint32_t path_off; /* "/a/b" in the arena; "/" for the root */
	uint32_t path_len;
	uint16_t depth;
	uint8_t hiers; /* bit per hierarchy the path exists in */
};

/* A cgroup the filters let through, before the limits. */
struct cg_cand {
	const char *path;
	uint32_t path_len;
	uint16_t depth;
	uint8_t hiers;
};

/* A cgroup chosen to be read: its values, then whether it fits. */
struct cg_data {
	const char *path;
	uint32_t path_len;
	uint16_t depth;
	uint8_t hiers;
	uint64_t set; /* bit per cg_val */
	double v[N_VALS];
	uint32_t io_first, io_n;
	struct cg_names names;
};

struct dev_name {
	uint32_t major, minor;
	char name[32];
};

struct cg_state {
	char sysfs[PATH_MAX]; /* env's strings outlive the state, env itself does not */
	char base[PATH_MAX];  /* SYSFS/fs/cgroup */
	unsigned max_depth, max_cgroups, walk_max;
	struct optregex include, exclude;
	long clk_tck;
	struct hier_root roots[N_HIER];
	/* the walk: nodes, their paths, a hash on the paths, a queue */
	struct cg_node *nodes;
	size_t n_nodes, cap_nodes;
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *hash; /* node index + 1; 0 empty */
	size_t hash_cap;
	uint32_t *queue;
	bool walk_truncated;
	/* the cgroups read */
	struct cg_data *data;
	size_t n_data, cap_data;
	struct cg_cand *cands;
	size_t n_cands, cap_cands;
	struct cg_data **order; /* the accepted ones, by path */
	size_t n_order, cap_order;
	struct cg_io *io;
	size_t n_io, cap_io;
	struct dev_name devs[DEV_CACHE_MAX];
	size_t n_devs;
	char *buf; /* the file being parsed */
	size_t buf_cap;
	char dirbuf[DIRBUF_BYTES];
	double dropped_total;
	size_t fixed_bytes; /* the names and help texts of every family */
};

/* ---- small helpers ---- */

/* Opens name under dirfd without following a last symlink and without waiting
 * on a FIFO, and reads it whole into s->buf.  The length, or -errno. */
static long read_at(struct cg_state *s, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (off + 1 >= s->buf_cap) {
			size_t cap = s->buf_cap ? s->buf_cap * 2 : 4096;
			char *nb = cap <= FILE_MAX ? realloc(s->buf, cap) : NULL;
			if (!nb) {
				close(fd);
				return cap <= FILE_MAX ? -ENOMEM : -EFBIG;
			}
			s->buf = nb;
			s->buf_cap = cap;
		}
		ssize_t n = read(fd, s->buf + off, s->buf_cap - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;
			close(fd);
			if (e)
				return -e;
			break;
		}
		off += (size_t)n;
	}
	s->buf[off] = '\0';
	return (long)off;
}

static bool first_word_u64(const char *text, size_t len, uint64_t *out)
{
	struct scan s = scan_text(text, len), line;
	const char *w;
	size_t n;
	return scan_line(&s, &line) && scan_word(&line, &w, &n) && parse_u64(w, n, out);
}

static void set_val(struct cg_data *d, enum cg_val v, double x)
{
	d->v[v] = x;
	d->set |= 1ull << v;
}

/* A file holding one number; "max" (no limit) leaves v unset, as does a
 * missing or unreadable file. */
static void read_number(struct cg_state *s, int dirfd, const char *name, struct cg_data *d,
			enum cg_val v)
{
	long len = read_at(s, dirfd, name);
	uint64_t x;

	if (len > 0 && first_word_u64(s->buf, (size_t)len, &x))
		set_val(d, v, (double)x);
}

/* v1 writes "no limit" as a huge number rather than "max". */
static void read_v1_limit(struct cg_state *s, int dirfd, const char *name, struct cg_data *d,
			  enum cg_val v)
{
	long len = read_at(s, dirfd, name);
	uint64_t x;

	if (len > 0 && first_word_u64(s->buf, (size_t)len, &x) && x < V1_UNLIMITED)
		set_val(d, v, (double)x);
}

/* "key value" lines: calls fn for each key that parses. */
typedef void (*keyval_fn)(struct cg_data *d, const char *k, size_t kn, uint64_t v, void *ctx);

static void read_keyvals(struct cg_state *s, int dirfd, const char *name, struct cg_data *d,
			 keyval_fn fn, void *ctx)
{
	long len = read_at(s, dirfd, name);
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line)) {
		const char *k, *w;
		size_t kn, n;
		uint64_t v;
		if (scan_word(&line, &k, &kn) && scan_word(&line, &w, &n) && parse_u64(w, n, &v))
			fn(d, k, kn, v, ctx);
	}
}

/* A table from keys to values, with a scale; the row whose key matches is set. */
struct key_map {
	const char *key;
	enum cg_val val;
	double scale;
};

struct key_maps {
	const struct key_map *m;
	size_t n;
};

static void map_key(struct cg_data *d, const char *k, size_t kn, uint64_t v, void *ctx)
{
	const struct key_maps *km = ctx;
	for (size_t i = 0; i < km->n; i++)
		if (word_is(k, kn, km->m[i].key)) {
			set_val(d, km->m[i].val, (double)v * km->m[i].scale);
			return;
		}
}

#define KEYMAPS(table) (&(struct key_maps){ table, sizeof table / sizeof table[0] })

/* ---- cgroup v2 files ---- */

static const struct key_map v2_cpu_stat[] = {
	{ "usage_usec", V_CPU_USAGE, 1e-6 },    { "user_usec", V_CPU_USER, 1e-6 },
	{ "system_usec", V_CPU_SYSTEM, 1e-6 },  { "nr_periods", V_CPU_PERIODS, 1 },
	{ "nr_throttled", V_CPU_THROTTLED, 1 }, { "throttled_usec", V_CPU_THROTTLED_TIME, 1e-6 },
};

static const struct key_map v2_memory_events[] = {
	{ "max", V_EV_MAX, 1 },
	{ "high", V_EV_HIGH, 1 },
	{ "oom", V_EV_OOM, 1 },
	{ "oom_kill", V_EV_OOM_KILL, 1 },
};

static const struct key_map v2_events[] = {
	{ "populated", V_POPULATED, 1 },
	{ "frozen", V_FROZEN, 1 },
};

/* memory.stat: "kernel" exists since Linux 5.18; before, it is the sum of the
 * parts it replaced. */
struct v2_memstat {
	uint64_t kernel_parts;
	bool have_parts;
};

static void v2_memstat_key(struct cg_data *d, const char *k, size_t kn, uint64_t v, void *ctx)
{
	static const struct key_map direct[] = {
		{ "anon", V_MS_ANON, 1 }, { "file", V_MS_FILE, 1 },   { "kernel", V_MS_KERNEL, 1 },
		{ "sock", V_MS_SOCK, 1 }, { "shmem", V_MS_SHMEM, 1 },
	};
	static const char *const parts[] = { "kernel_stack", "pagetables", "percpu", "slab" };
	struct v2_memstat *m = ctx;

	map_key(d, k, kn, v, KEYMAPS(direct));
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (word_is(k, kn, parts[i])) {
			m->kernel_parts += v;
			m->have_parts = true;
		}
}

static void read_v2_memory(struct cg_state *s, int dirfd, struct cg_data *d)
{
	struct v2_memstat m = { 0, false };

	read_number(s, dirfd, "memory.current", d, V_MEM_USAGE);
	read_number(s, dirfd, "memory.peak", d, V_MEM_PEAK);
	read_number(s, dirfd, "memory.max", d, V_MEM_LIMIT);
	read_number(s, dirfd, "memory.high", d, V_MEM_HIGH);
	read_keyvals(s, dirfd, "memory.stat", d, v2_memstat_key, &m);
	if (!(d->set & (1ull << V_MS_KERNEL)) && m.have_parts)
		set_val(d, V_MS_KERNEL, (double)m.kernel_parts);
	read_keyvals(s, dirfd, "memory.events", d, map_key, KEYMAPS(v2_memory_events));
}

static void read_psi(struct cg_state *s, int dirfd, const char *name, struct cg_data *d,
		     enum cg_val some, enum cg_val full)
{
	bool found[N_PSI_LINES];
	uint64_t total[N_PSI_LINES];
	long len = read_at(s, dirfd, name);

	if (len <= 0)
		return;
	psi_parse_text(s->buf, (size_t)len, found, total);
	if (found[PSI_SOME])
		set_val(d, some, (double)total[PSI_SOME] / 1e6);
	if (found[PSI_FULL])
		set_val(d, full, (double)total[PSI_FULL] / 1e6);
}

static struct cg_io *io_entry(struct cg_state *s, struct cg_data *d, uint32_t major, uint32_t minor)
{
	for (uint32_t i = d->io_first; i < d->io_first + d->io_n; i++)
		if (s->io[i].major == major && s->io[i].minor == minor)
			return &s->io[i];
	/* Entries of one cgroup are contiguous: it is read whole before the next. */
	if (array_reserve(&s->io, &s->cap_io, s->n_io + 1, sizeof *s->io) < 0)
		return NULL;
	if (d->io_n == 0)
		d->io_first = (uint32_t)s->n_io;
	d->io_n++;
	struct cg_io *e = &s->io[s->n_io++];
	memset(e, 0, sizeof *e);
	e->major = major;
	e->minor = minor;
	return e;
}

/* "8:0" into major and minor. */
static bool parse_devno(const char *w, size_t n, uint32_t *major, uint32_t *minor)
{
	const char *colon = memchr(w, ':', n);
	uint64_t a, b;

	if (!colon || !parse_u64(w, (size_t)(colon - w), &a) ||
	    !parse_u64(colon + 1, (size_t)(w + n - colon - 1), &b) || a > UINT32_MAX ||
	    b > UINT32_MAX)
		return false;
	*major = (uint32_t)a;
	*minor = (uint32_t)b;
	return true;
}

static void io_set(struct cg_io *e, enum io_val k, uint64_t v)
{
	e->v[k] = (double)v;
	e->set |= (uint8_t)(1u << k);
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
static void read_v2_io(struct cg_state *s, int dirfd, struct cg_data *d)
{
	static const char *const keys[N_IO] = { "rbytes=", "wbytes=", "rios=", "wios=" };
	long len = read_at(s, dirfd, "io.stat");
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line)) {
		const char *w;
		size_t n;
		uint32_t major, minor;
		if (!scan_word(&line, &w, &n) || !parse_devno(w, n, &major, &minor))
			continue;
		struct cg_io *e = io_entry(s, d, major, minor);
		while (e && scan_word(&line, &w, &n))
			for (int k = 0; k < N_IO; k++) {
				size_t kl = strlen(keys[k]);
				uint64_t v;
				if (n > kl && memcmp(w, keys[k], kl) == 0 &&
				    parse_u64(w + kl, n - kl, &v))
					io_set(e, (enum io_val)k, v);
			}
	}
}

static void read_v2(struct cg_state *s, int dirfd, struct cg_data *d)
{
	read_keyvals(s, dirfd, "cpu.stat", d, map_key, KEYMAPS(v2_cpu_stat));
	read_v2_memory(s, dirfd, d);
	read_v2_io(s, dirfd, d);
	read_number(s, dirfd, "pids.current", d, V_PIDS);
	read_number(s, dirfd, "pids.max", d, V_PIDS_MAX);
	read_psi(s, dirfd, "cpu.pressure", d, V_PSI_CPU_SOME, V_PSI_CPU_FULL);
	read_psi(s, dirfd, "memory.pressure", d, V_PSI_MEM_SOME, V_PSI_MEM_FULL);
	read_psi(s, dirfd, "io.pressure", d, V_PSI_IO_SOME, V_PSI_IO_FULL);
	read_keyvals(s, dirfd, "cgroup.events", d, map_key, KEYMAPS(v2_events));
}

/* ---- cgroup v1 files ---- */

static void read_v1_cpuacct(struct cg_state *s, int dirfd, struct cg_data *d)
{
	uint64_t x;
	long len = read_at(s, dirfd, "cpuacct.usage");

	if (len > 0 && first_word_u64(s->buf, (size_t)len, &x))
		set_val(d, V_CPU_USAGE, (double)x / 1e9);
	/* Nanoseconds since Linux 4.7; before, only cpuacct.stat in USER_HZ ticks. */
	len = read_at(s, dirfd, "cpuacct.usage_user");
	if (len > 0 && first_word_u64(s->buf, (size_t)len, &x)) {
		set_val(d, V_CPU_USER, (double)x / 1e9);
		len = read_at(s, dirfd, "cpuacct.usage_sys");
		if (len > 0 && first_word_u64(s->buf, (size_t)len, &x))
			set_val(d, V_CPU_SYSTEM, (double)x / 1e9);
		return;
	}
	const struct key_map ticks[] = {
		{ "user", V_CPU_USER, 1.0 / (double)s->clk_tck },
		{ "system", V_CPU_SYSTEM, 1.0 / (double)s->clk_tck },
	};
	read_keyvals(s, dirfd, "cpuacct.stat", d, map_key, KEYMAPS(ticks));
}

static const struct key_map v1_cpu_stat[] = {
	{ "nr_periods", V_CPU_PERIODS, 1 },
	{ "nr_throttled", V_CPU_THROTTLED, 1 },
	{ "throttled_time", V_CPU_THROTTLED_TIME, 1e-9 },
};

/* The hierarchical ("total_") counters, like v2's memory.stat. */
static const struct key_map v1_memory_stat[] = {
	{ "total_rss", V_MS_ANON, 1 },
	{ "total_cache", V_MS_FILE, 1 },
	{ "total_shmem", V_MS_SHMEM, 1 },
};

static const struct key_map v1_oom_control[] = {
	{ "oom_kill", V_EV_OOM_KILL, 1 },
};

static void read_v1_memory(struct cg_state *s, int dirfd, struct cg_data *d)
{
	read_number(s, dirfd, "memory.usage_in_bytes", d, V_MEM_USAGE);
	read_number(s, dirfd, "memory.max_usage_in_bytes", d, V_MEM_PEAK);
	read_v1_limit(s, dirfd, "memory.limit_in_bytes", d, V_MEM_LIMIT);
	read_keyvals(s, dirfd, "memory.stat", d, map_key, KEYMAPS(v1_memory_stat));
	read_number(s, dirfd, "memory.kmem.usage_in_bytes", d, V_MS_KERNEL);
	read_number(s, dirfd, "memory.kmem.tcp.usage_in_bytes", d, V_MS_SOCK);
	/* failcnt counts the charges refused at the limit: v2's "max" event. */
	read_number(s, dirfd, "memory.failcnt", d, V_EV_MAX);
	read_keyvals(s, dirfd, "memory.oom_control", d, map_key, KEYMAPS(v1_oom_control));
}

/* blkio.throttle.*: "8:0 Read 123" ... "8:0 Total 456", then "Total 456". */
static void read_v1_blkio_file(struct cg_state *s, int dirfd, const char *name, struct cg_data *d,
			       enum io_val rd, enum io_val wr)
{
	long len = read_at(s, dirfd, name);
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line)) {
		const char *w, *op, *num;
		size_t n, opn, numn;
		uint32_t major, minor;
		uint64_t v;
		if (!scan_word(&line, &w, &n) || !parse_devno(w, n, &major, &minor) ||
		    !scan_word(&line, &op, &opn) || !scan_word(&line, &num, &numn) ||
		    !parse_u64(num, numn, &v))
			continue;
		bool is_read = word_is(op, opn, "Read"), is_write = word_is(op, opn, "Write");
		struct cg_io *e = is_read || is_write ? io_entry(s, d, major, minor) : NULL;
		if (e)
			io_set(e, is_read ? rd : wr, v);
	}
}

static void read_v1_blkio(struct cg_state *s, int dirfd, struct cg_data *d)
{
	/* Both policies count every bio; the _recursive files include the
	 * cgroups below, as v2's io.stat does. */
	bool recursive = faccessat(dirfd, "blkio.throttle.io_serviced_recursive", F_OK, 0) == 0;

	if (d->io_n > 0)
		return; /* v2 io.stat had them: the io controller is there */
	read_v1_blkio_file(s, dirfd,
			   recursive ? "blkio.throttle.io_service_bytes_recursive"
				     : "blkio.throttle.io_service_bytes",
			   d, IO_RBYTES, IO_WBYTES);
	read_v1_blkio_file(s, dirfd,
			   recursive ? "blkio.throttle.io_serviced_recursive"
				     : "blkio.throttle.io_serviced",
			   d, IO_RIOS, IO_WIOS);
}

static void read_hierarchy(struct cg_state *s, enum cg_hier h, int dirfd, struct cg_data *d)
{
	switch (h) {
	case H_V2:
		read_v2(s, dirfd, d);
		break;
	case H_CPUACCT:
		read_v1_cpuacct(s, dirfd, d);
		break;
	case H_CPU:
		read_keyvals(s, dirfd, "cpu.stat", d, map_key, KEYMAPS(v1_cpu_stat));
		break;
	case H_MEMORY:
		read_v1_memory(s, dirfd, d);
		break;
	case H_BLKIO:
		read_v1_blkio(s, dirfd, d);
		break;
	case H_PIDS:
		read_number(s, dirfd, "pids.current", d, V_PIDS);
		read_number(s, dirfd, "pids.max", d, V_PIDS_MAX);
		break;
	case N_HIER:
		break;
	}
}

/* Reads every file of d from each hierarchy it is in, v2 first: a v1
 * controller's numbers replace v2's fallback CPU usage. */
static void read_cgroup(struct cg_state *s, struct cg_data *d)
{
	const char *rel = d->path_len > 1 ? d->path + 1 : ".";

	for (int h = 0; h < N_HIER; h++) {
		if (s->roots[h].fd < 0 || !(d->hiers & (1u << h)))
			continue;
		int dirfd = openat(s->roots[h].fd, rel,
				   O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dirfd < 0)
			continue; /* removed since the walk */
		read_hierarchy(s, (enum cg_hier)h, dirfd, d);
		close(dirfd);
	}
}

/* ---- finding the hierarchies ---- */

static void close_roots(struct cg_state *s)
{
	for (int h = 0; h < N_HIER; h++) {
		if (s->roots[h].fd >= 0)
			close(s->roots[h].fd);
		s->roots[h] = (struct hier_root){ .fd = -1 };
	}
}

static int open_dir(int atfd, const char *rel)
{
	/* The mount points themselves may be symlinks (cpu -> cpu,cpuacct). */
	return openat(atfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static bool has_file(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

/* The controllers v2 has ("cpu io memory pids"), from its root. */
static void v2_controllers(struct cg_state *s, bool has[N_HIER])
{
	memset(has, 0, N_HIER * sizeof has[0]);
	long len = read_at(s, s->roots[H_V2].fd, "cgroup.controllers");
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	const char *w;
	size_t n;
	if (!scan_line(&text, &line))
		return;
	while (scan_word(&line, &w, &n))
		for (int h = H_CPUACCT; h < N_HIER; h++)
			if (word_is(w, n, hier_defs[h].controller))
				has[h] = true;
}

static void find_v2(struct cg_state *s, int base)
{
	static const char *const where[] = { ".", "unified" };
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		int fd = open_dir(base, where[i]);
		if (fd >= 0 && has_file(fd, "cgroup.controllers") && !has_file(fd, "tasks")) {
			s->roots[H_V2].fd = fd;
			return;
		}
		if (fd >= 0)
			close(fd);
	}
}

/* v1 hierarchy h, unless v2 has its controller. */
static void find_v1(struct cg_state *s, int base, enum cg_hier h)
{
	for (int i = 0; i < 2 && hier_defs[h].dirs[i]; i++) {
		int fd = open_dir(base, hier_defs[h].dirs[i]);
		if (fd >= 0 && has_file(fd, "tasks") && has_file(fd, hier_defs[h].probe)) {
			s->roots[h].fd = fd;
			return;
		}
		if (fd >= 0)
			close(fd);
	}
}

/* Hierarchies mounted together (cpu,cpuacct) are walked once. */
static void mark_aliases(struct cg_state *s)
{
	for (int h = 0; h < N_HIER; h++) {
		struct hier_root *r = &s->roots[h];
		struct stat st;
		if (r->fd < 0 || fstat(r->fd, &st) != 0) {
			r->walk = false;
			continue;
		}
		r->dev = st.st_dev;
		r->ino = st.st_ino;
		r->bits = (uint8_t)(1u << h);
		r->walk = true;
		for (int k = 0; k < h; k++) {
			struct hier_root *o = &s->roots[k];
			if (o->fd >= 0 && o->walk && o->dev == r->dev && o->ino == r->ino) {
				o->bits |= r->bits;
				r->walk = false;
				break;
			}
		}
	}
}

static void find_roots(struct cg_state *s)
{
	bool in_v2[N_HIER] = { false };
	int base = open_dir(AT_FDCWD, s->base);

	close_roots(s);
	if (base < 0)
		return;
	find_v2(s, base);
	if (s->roots[H_V2].fd >= 0)
		v2_controllers(s, in_v2);
	for (int h = H_CPUACCT; h < N_HIER; h++)
		if (!in_v2[h])
			find_v1(s, base, (enum cg_hier)h);
	close(base);
	mark_aliases(s);
}

/* ---- the walk ---- */

static uint32_t hash_path(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static const char *node_path(const struct cg_state *s, const struct cg_node *n)
{
	return s->arena + n->path_off;
}

/*
 * The node for the path at arena[arena_len ...] (len bytes, written there by the
 * caller and not yet kept): the existing one, or a new one keeping the path.
 * -ENOSPC when the walk limit is reached, -ENOMEM.
 */
static int64_t node_take(struct cg_state *s, size_t len, uint16_t depth)
{
	const char *p = s->arena + s->arena_len;
	size_t mask = s->hash_cap - 1, i = hash_path(p, len) & mask;

	for (; s->hash[i]; i = (i + 1) & mask) {
		struct cg_node *n = &s->nodes[s->hash[i] - 1];
		if (n->path_len == len && memcmp(node_path(s, n), p, len) == 0)
			return (int64_t)s->hash[i] - 1;
	}
	if (s->n_nodes >= s->walk_max) {
		s->walk_truncated = true;
		return -ENOSPC;
	}
	if (array_reserve(&s->nodes, &s->cap_nodes, s->n_nodes + 1, sizeof *s->nodes) < 0)
		return -ENOMEM;
	s->nodes[s->n_nodes] = (struct cg_node){ (uint32_t)s->arena_len, (uint32_t)len, depth, 0 };
	s->arena_len += len + 1;
	s->hash[i] = (uint32_t)++s->n_nodes;
	return (int64_t)s->n_nodes - 1;
}

/* Writes parent + "/" + name (or "/" for the root) at the end of the arena. */
static int path_put(struct cg_state *s, const struct cg_node *parent, const char *name, size_t *len)
{
	size_t plen = parent ? parent->path_len : 0;
	size_t nlen = parent ? strlen(name) : 0;

	*len = !parent ? 1 : (plen == 1 ? 0 : plen) + 1 + nlen;
	if (*len > LABEL_VALUE_MAX)
		return -ENAMETOOLONG;
	size_t need = s->arena_len + *len + 1;
	if (need > s->arena_cap) {
		size_t cap = s->arena_cap ? s->arena_cap : 16384;
		while (cap < need)
			cap *= 2;
		char *na = realloc(s->arena, cap);
		if (!na)
			return -ENOMEM;
		s->arena = na;
		s->arena_cap = cap;
	}
	char *w = s->arena + s->arena_len;
	if (!parent) {
		memcpy(w, "/", 2);
		return 0;
	}
	if (plen > 1)
		memcpy(w, node_path(s, parent), plen);
	w += plen > 1 ? plen : 0;
	*w++ = '/';
	memcpy(w, name, nlen + 1);
	return 0;
}

static bool is_subdir(int dirfd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type == DT_DIR;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

struct walk {
	int rootfd;
	uint8_t bits;
	uint32_t tail; /* of s->queue */
};

static void add_child(struct cg_state *s, struct walk *w, uint32_t parent, const char *name)
{
	size_t len;
	struct cg_node p = s->nodes[parent]; /* nodes may move while adding */

	if (!utf8_valid(name, strlen(name)) || path_put(s, &p, name, &len) < 0)
		return;
	int64_t idx = node_take(s, len, (uint16_t)(p.depth + 1));
	if (idx < 0)
		return;
	if (!(s->nodes[idx].hiers & w->bits))
		s->queue[w->tail++] = (uint32_t)idx;
	s->nodes[idx].hiers |= w->bits;
}

/* Queues the subdirectories of node idx. */
static void list_children(struct cg_state *s, struct walk *w, uint32_t idx)
{
	const struct cg_node *n = &s->nodes[idx];
	const char *rel = n->path_len > 1 ? node_path(s, n) + 1 : ".";
	int fd = openat(w->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long got;

	if (fd < 0)
		return;
	while ((got = syscall(SYS_getdents64, fd, s->dirbuf, sizeof s->dirbuf)) > 0) {
		for (long off = 0; off < got;) {
			const struct dirent64 *e = (const void *)(s->dirbuf + off);
			off += e->d_reclen;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
			    !is_subdir(fd, e->d_name, e->d_type))
				continue;
			add_child(s, w, idx, e->d_name);
		}
	}
	close(fd);
}

/* Breadth first, so that the walk limit leaves out the deepest cgroups. */
static void walk_hierarchy(struct cg_state *s, const struct hier_root *r)
{
	struct walk w = { r->fd, r->bits, 0 };
	size_t len;

	if (path_put(s, NULL, NULL, &len) < 0)
		return;
	int64_t root = node_take(s, len, 0);
	if (root < 0)
		return;
	s->nodes[root].hiers |= w.bits;
	s->queue[w.tail++] = (uint32_t)root;
	for (uint32_t head = 0; head < w.tail; head++)
		if (s->nodes[s->queue[head]].depth < s->max_depth)
			list_children(s, &w, s->queue[head]);
}

static void walk_all(struct cg_state *s)
{
	s->n_nodes = 0;
	s->arena_len = 0;
	s->walk_truncated = false;
	memset(s->hash, 0, s->hash_cap * sizeof *s->hash);
	for (int h = 0; h < N_HIER; h++)
		if (s->roots[h].fd >= 0 && s->roots[h].walk)
			walk_hierarchy(s, &s->roots[h]);
}

/* ---- choosing ---- */

static int cand_cmp(const void *a, const void *b)
{
	const struct cg_cand *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* The cgroups the filters let through, shallow ones first. */
static int choose(struct cg_state *s)
{
	s->n_cands = 0;
	if (array_reserve(&s->cands, &s->cap_cands, s->n_nodes, sizeof *s->cands) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct cg_node *n = &s->nodes[i];
		const char *p = node_path(s, n);
		if ((s->include.set && !optregex_match(&s->include, p, n->path_len)) ||
		    optregex_match(&s->exclude, p, n->path_len))
			continue;
		s->cands[s->n_cands++] = (struct cg_cand){ p, n->path_len, n->depth, n->hiers };
	}
	hsort(s->cands, s->n_cands, sizeof *s->cands, cand_cmp);
	return 0;
}

/* Reads the first max-cgroups candidates. */
static int read_chosen(struct cg_state *s)
{
	size_t n = s->n_cands < s->max_cgroups ? s->n_cands : s->max_cgroups;

	s->n_data = 0;
	s->n_io = 0;
	s->n_devs = 0;
	if (array_reserve(&s->data, &s->cap_data, n, sizeof *s->data) < 0 ||
	    array_reserve(&s->order, &s->cap_order, n, sizeof *s->order) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct cg_cand *c = &s->cands[i];
		struct cg_data *d = &s->data[s->n_data++];
		d->path = c->path;
		d->path_len = c->path_len;
		d->depth = c->depth;
		d->hiers = c->hiers;
		d->set = 0;
		d->io_first = d->io_n = 0;
		read_cgroup(s, d);
		cgname_parse(d->path, d->path_len, &d->names);
	}
	return 0;
}

/* ---- series: counted first, then added ---- */

#define LABELS_MAX 8

struct labels {
	const char *names[LABELS_MAX], *values[LABELS_MAX];
	size_t n;
};

static void label(struct labels *l, const char *name, const char *value)
{
	if (value && value[0] && l->n < LABELS_MAX) {
		l->names[l->n] = name;
		l->values[l->n++] = value;
	}
}

/* The labels every series of d has: its path, and what runs in it. */
static void base_labels(const struct cg_data *d, struct labels *l)
{
	const struct cg_names *c = &d->names;

	l->n = 0;
	label(l, "id", d->path);
	label(l, "container_id", c->container_id);
	label(l, "container_name", c->container_name);
	if (!c->container_id[0] && !c->container_name[0])
		label(l, "unit", c->unit);
}

/* Where series go: counted (b NULL), or added to the batch. */
struct sink {
	struct batch *b;
	uint64_t series, labels, bytes;
	char *err;
	size_t errlen;
};

static int sink_add(struct sink *k, struct lazyfam *f, const struct labels *l, double v)
{
	if (k->b)
		return lazyfam_add(k->b, f, l->names, l->values, l->n, v, k->err, k->errlen);
	k->series++;
	k->labels += l->n;
	for (size_t i = 0; i < l->n; i++)
		k->bytes += strlen(l->names[i]) + strlen(l->values[i]);
	return 0;
}

static int family_series(struct sink *k, struct lazyfam *lf, const struct cg_family *f,
			 const struct cg_data *d)
{
	struct labels l;
	int rc = 0;

	base_labels(d, &l);
	size_t base = l.n;
	for (size_t m = 0; rc == 0 && m < f->n; m++) {
		if (!(d->set & (1ull << f->m[m].val)))
			continue;
		l.n = base;
		if (f->label)
			label(&l, f->label, f->m[m].label_value);
		rc = sink_add(k, lf, &l, d->v[f->m[m].val]);
	}
	return rc;
}

static const char *dev_name(struct cg_state *s, uint32_t major, uint32_t minor)
{
	char path[PATH_MAX], target[PATH_MAX];

	for (size_t i = 0; i < s->n_devs; i++)
		if (s->devs[i].major == major && s->devs[i].minor == minor)
			return s->devs[i].name;
	struct dev_name *e = &s->devs[s->n_devs < DEV_CACHE_MAX ? s->n_devs++ : 0];
	e->major = major;
	e->minor = minor;
	snprintf(e->name, sizeof e->name, "%u:%u", major, minor);
	if (snprintf(path, sizeof path, "%s/dev/block/%u:%u", s->sysfs, major, minor) <
	    (int)sizeof path) {
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = '\0';
			const char *base = strrchr(target, '/');
			base = base ? base + 1 : target;
			if (strlen(base) < sizeof e->name && utf8_valid(base, strlen(base)))
				snprintf(e->name, sizeof e->name, "%s", base);
		}
	}
	return e->name;
}

static int io_series(struct cg_state *s, struct sink *k, struct lazyfam *lf, size_t fam,
		     const struct cg_data *d)
{
	const enum io_val ops[2] = { io_families[fam].read, io_families[fam].write };
	static const char *const op_names[2] = { "read", "write" };
	struct labels l;
	int rc = 0;

	base_labels(d, &l);
	size_t base = l.n;
	for (uint32_t i = d->io_first; rc == 0 && i < d->io_first + d->io_n; i++) {
		const struct cg_io *e = &s->io[i];
		for (int o = 0; rc == 0 && o < 2; o++) {
			if (!(e->set & (1u << ops[o])))
				continue;
			l.n = base;
			label(&l, "device", dev_name(s, e->major, e->minor));
			label(&l, "operation", op_names[o]);
			rc = sink_add(k, lf, &l, e->v[ops[o]]);
		}
	}
	return rc;
}

static int info_series(struct sink *k, struct lazyfam *lf, const struct cg_data *d)
{
	const struct cg_names *c = &d->names;
	struct labels l = { .n = 0 };

	label(&l, "id", d->path);
	label(&l, "unit", c->unit);
	label(&l, "container_id", c->container_id);
	label(&l, "container_name", c->container_name);
	label(&l, "container_runtime", c->runtime);
	label(&l, "pod_uid", c->pod_uid);
	return sink_add(k, lf, &l, 1);
}

/* Every series of d, into k (the per-cgroup cost when k counts). */
static int cgroup_series(struct cg_state *s, struct sink *k, const struct cg_data *d)
{
	struct lazyfam lf = { info_name, info_help, METRIC_GAUGE, false };
	int rc = info_series(k, &lf, d);

	for (size_t f = 0; rc == 0 && f < N_FAMILIES; f++)
		rc = family_series(k, &lf, &families[f], d);
	for (size_t f = 0; rc == 0 && f < 2; f++)
		rc = io_series(s, k, &lf, f, d);
	return rc;
}

/* ---- fitting and publishing ---- */

#define N_OWN_FAMILIES (N_FAMILIES + 2 /* io */ + 3 /* info, count, dropped */)
#define N_OWN_SERIES   2 /* count and dropped */

static size_t families_bytes(void)
{
	size_t n = strlen(info_name) + strlen(info_help) + strlen(count_name) + strlen(count_help) +
		   strlen(dropped_name) + strlen(dropped_help);
	for (size_t f = 0; f < N_FAMILIES; f++)
		n += strlen(families[f].name) + strlen(families[f].help);
	for (size_t f = 0; f < 2; f++)
		n += strlen(io_families[f].name) + strlen(io_families[f].help);
	return n;
}

static int order_cmp(const void *a, const void *b)
{
	const struct cg_data *const *x = a, *const *y = b;
	return strcmp((*x)->path, (*y)->path);
}

/* Keeps, in order, the cgroups whose series fit what the batch has left;
 * returns how many did not. */
static size_t fit(struct cg_state *s, struct batch *b)
{
	struct batch_limits room;
	size_t left_out = 0;

	batch_room(b, &room);
	s->n_order = 0;
	if (room.max_families < N_OWN_FAMILIES || room.max_series < N_OWN_SERIES ||
	    room.max_values < N_OWN_SERIES || room.string_bytes < s->fixed_bytes)
		return s->n_data;
	uint64_t series = room.max_series - N_OWN_SERIES, labels = room.max_labels;
	uint64_t values = room.max_values - N_OWN_SERIES,
		 bytes = room.string_bytes - s->fixed_bytes;
	for (size_t i = 0; i < s->n_data; i++) {
		struct sink k = { .b = NULL };
		cgroup_series(s, &k, &s->data[i]);
		if (k.series > series || k.series > values || k.labels > labels ||
		    k.bytes > bytes) {
			left_out++;
			continue;
		}
		series -= k.series;
		values -= k.series;
		labels -= k.labels;
		bytes -= k.bytes;
		s->order[s->n_order++] = &s->data[i];
	}
	hsort(s->order, s->n_order, sizeof *s->order, order_cmp);
	return left_out;
}

static int publish(struct cg_state *s, struct batch *b, char *err, size_t errlen)
{
	struct sink k = { .b = b, .err = err, .errlen = errlen };
	struct lazyfam info = { info_name, info_help, METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_order; i++)
		rc = info_series(&k, &info, s->order[i]);
	for (size_t f = 0; rc == 0 && f < N_FAMILIES; f++) {
		struct lazyfam lf = { families[f].name, families[f].help, families[f].type, false };
		for (size_t i = 0; rc == 0 && i < s->n_order; i++)
			rc = family_series(&k, &lf, &families[f], s->order[i]);
	}
	for (size_t f = 0; rc == 0 && f < 2; f++) {
		struct lazyfam lf = { io_families[f].name, io_families[f].help, METRIC_COUNTER,
				      false };
		for (size_t i = 0; rc == 0 && i < s->n_order; i++)
			rc = io_series(s, &k, &lf, f, s->order[i]);
	}
	if (rc == 0)
		rc = emit_single(b, count_name, count_help, METRIC_GAUGE, (double)s->n_order, err,
				 errlen);
	if (rc == 0)
		rc = emit_single(b, dropped_name, dropped_help, METRIC_COUNTER, s->dropped_total,
				 err, errlen);
	return rc;
}

/* A warning that stays the same while the cause does (it is logged on change). */
static void warn_dropped(const struct cg_state *s, size_t over_max, size_t over_room, char *err,
			 size_t errlen)
{
	if (s->walk_truncated)
		snprintf(
		    err, errlen,
		    "more than %u cgroups found: the walk stopped there and the deeper ones are "
		    "left out (narrow collectors.cgroup.max-depth or raise max-cgroups)",
		    s->walk_max);
	else if (over_max)
		snprintf(err, errlen,
			 "more cgroups match than max-cgroups=%u: the deepest are left out "
			 "(see shmetrics_cgroup_dropped_total; raise max-cgroups or narrow "
			 "path-include)",
			 s->max_cgroups);
	else if (over_room)
		snprintf(err, errlen,
			 "the series of some cgroups do not fit the segment's limits and are left "
			 "out (see shmetrics_cgroup_dropped_total; raise segments.max_series or "
			 "lower max-cgroups)");
}

static int cgroup_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct cg_state *s = state;

	find_roots(s);
	walk_all(s);
	if (choose(s) < 0 || read_chosen(s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t over_max = s->n_cands - s->n_data;
	size_t over_room = fit(s, b);
	s->dropped_total += (double)(over_max + over_room);
	int rc = publish(s, b, err, errlen);
	if (rc == 0)
		warn_dropped(s, over_max, over_room, err, errlen);
	return rc;
}

/* ---- setting up ---- */

/* A UINT option (collectors/options.def checked its form) that must be >= 1. */
static int positive_option(const struct collector_env *env, const char *key, unsigned *out,
			   char *err, size_t errlen)
{
	const char *v = collector_option(env, key);
	unsigned long n = v ? strtoul(v, NULL, 10) : 0;

	if (n == 0 || n > CONFIG_OPTION_UINT_MAX) {
		snprintf(err, errlen,
			 "--collector.cgroup.%s=%s: expected a whole number from 1 to %d", key,
			 v ? v : "", CONFIG_OPTION_UINT_MAX);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static void cgroup_fini(void *state)
{
	struct cg_state *s = state;
	if (!s)
		return;
	close_roots(s);
	optregex_fini(&s->include);
	optregex_fini(&s->exclude);
	free(s->nodes);
	free(s->arena);
	free(s->hash);
	free(s->queue);
	free(s->cands);
	free(s->data);
	free(s->order);
	free(s->io);
	free(s->buf);
	free(s);
}

static int cgroup_options(struct cg_state *s, const struct collector_env *env, char *err,
			  size_t errlen)
{
	int rc = positive_option(env, "max-cgroups", &s->max_cgroups, err, errlen);
	if (rc == 0) {
		const char *depth = collector_option(env, "max-depth");
		s->max_depth = depth ? (unsigned)strtoul(depth, NULL, 10) : 0;
		rc = optregex_init(&s->include, env, "path-include", err, errlen);
	}
	if (rc == 0)
		rc = optregex_init(&s->exclude, env, "path-exclude", err, errlen);
	return rc;
}

static int cgroup_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct cg_state *s = calloc(1, sizeof *s);

	if (!s)
		return -ENOMEM;
	for (int h = 0; h < N_HIER; h++)
		s->roots[h].fd = -1;
	s->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	s->fixed_bytes = families_bytes();
	int rc = path_fmt(s->base, sizeof s->base, "%s/fs/cgroup", env->sysfs);
	if (rc == 0)
		rc = path_fmt(s->sysfs, sizeof s->sysfs, "%s", env->sysfs);
	if (rc == 0)
		rc = cgroup_options(s, env, err, errlen);
	if (rc == 0) {
		s->walk_max = s->max_cgroups * WALK_FACTOR;
		if (s->walk_max < WALK_MIN)
			s->walk_max = WALK_MIN;
		for (s->hash_cap = 1; s->hash_cap < 2u * s->walk_max; s->hash_cap *= 2)
			;
		s->hash = calloc(s->hash_cap, sizeof *s->hash);
		s->queue = calloc(s->walk_max, sizeof *s->queue);
		if (!s->hash || !s->queue)
			rc = -ENOMEM;
	}
	if (rc) {
		if (rc == -ENAMETOOLONG)
			snprintf(err, errlen, "--path.sysfs=%s is too long", env->sysfs);
		cgroup_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

const struct collector_ops collector_cgroup_ops = {
	.init = cgroup_init,
	.collect = cgroup_collect,
	.fini = cgroup_fini,
};
