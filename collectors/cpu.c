/*
 * cpu - per-CPU time from the cpuN lines of PROCFS/stat, plus what node_exporter's
 * cpu collector adds from sysfs when the host has it: isolated CPUs
 * (SYSFS/devices/system/cpu/isolated), thermal throttle counts
 * (SYSFS/devices/system/cpu/cpuN/thermal_throttle/) and whether each CPU is
 * online; and with --collector.cpu.info, PROCFS/cpuinfo (cpu_info.c).
 *
 * Like node_exporter, counters are kept from going backwards: a value lower than
 * the last one published is replaced by the last one, except when idle dropped by
 * JUMP_BACK_SECONDS or more, which means the CPU was unplugged and came back, and
 * its counters start afresh.  A CPU that leaves /proc/stat loses its series (and
 * its history) in the same cycle.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "cpu_info.h"
#include "emit.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define JUMP_BACK_SECONDS  3.0
#define ISOLATED_RANGE_MAX 65536 /* refuse "0-4000000000" rather than emit it */

/* Columns of a cpuN line, in the kernel's order. */
enum cpu_field {
	F_USER,
	F_NICE,
	F_SYSTEM,
	F_IDLE,
	F_IOWAIT,
	F_IRQ,
	F_SOFTIRQ,
	F_STEAL,
	F_GUEST,
	F_GUEST_NICE,
	N_CPU_FIELDS
};

static const char *const mode_names[F_GUEST] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
};

struct cpu_row {
	unsigned long long id;
	double sec[N_CPU_FIELDS];
};

struct throttle_pkg {
	unsigned long long pkg, count;
};

struct throttle_core {
	unsigned long long pkg, core, count;
};

struct cpu_state {
	struct procfile stat;
	struct procfile isolated;
	double hz;
	struct cpu_row *rows, *prev; /* this cycle's CPUs, and the last cycle's */
	size_t n_rows, n_prev, cap;
	bool throttle; /* a cpuN/thermal_throttle directory existed at init */
	bool guest;    /* --collector.cpu.guest */
	char sysfs_cpu[PATH_MAX];
	struct throttle_pkg *pkgs;
	struct throttle_core *cores;
	size_t n_pkgs, n_cores;
	struct cpu_info info;
	struct cpu_online online;
};

/* ---- init / fini ---- */

static bool has_throttle_dirs(const char *sysfs_cpu)
{
	char path[PATH_MAX];
	bool found = false;
	DIR *d = opendir(sysfs_cpu);
	if (!d)
		return false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		uint64_t id;
		if (strncmp(e->d_name, "cpu", 3) != 0 ||
		    !parse_u64(e->d_name + 3, strlen(e->d_name + 3), &id))
			continue;
		int n = snprintf(path, sizeof path, "%s/%s/thermal_throttle", sysfs_cpu, e->d_name);
		found = n > 0 && (size_t)n < sizeof path && access(path, F_OK) == 0;
	}
	closedir(d);
	return found;
}

static void cpu_fini(void *state)
{
	struct cpu_state *s = state;
	if (!s)
		return;
	procfile_close(&s->stat);
	procfile_close(&s->isolated);
	free(s->rows);
	free(s->prev);
	free(s->pkgs);
	free(s->cores);
	cpu_info_fini(&s->info);
	cpu_online_fini(&s->online);
	free(s);
}

static int cpu_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct cpu_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->info.file.fd = -1;
	long hz = sysconf(_SC_CLK_TCK);
	s->hz = hz > 0 ? (double)hz : 100.0;
	int rc = procfile_init(&s->stat, env->procfs, "stat", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->isolated, env->sysfs, "devices/system/cpu/isolated", err,
				   errlen);
	int n = snprintf(s->sysfs_cpu, sizeof s->sysfs_cpu, "%s/devices/system/cpu", env->sysfs);
	if (rc == 0 && (n < 0 || (size_t)n >= sizeof s->sysfs_cpu)) {
		snprintf(err, errlen, "path %s/devices/system/cpu is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc == 0)
		rc = cpu_info_init(&s->info, env, err, errlen);
	if (rc == 0)
		rc = cpu_online_init(&s->online, env->sysfs, err, errlen);
	if (rc) {
		cpu_fini(s);
		return rc;
	}
	s->throttle = has_throttle_dirs(s->sysfs_cpu);
	s->guest = collector_option_bool(env, "guest");
	*state = s;
	return 0;
}

/* ---- /proc/stat ---- */

/* Makes room for one more CPU in every per-CPU array. */
static int cpu_grow(struct cpu_state *s, char *err, size_t errlen)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	struct cpu_row *rows = realloc(s->rows, cap * sizeof *rows);
	if (rows)
		s->rows = rows;
	struct cpu_row *prev = rows ? realloc(s->prev, cap * sizeof *prev) : NULL;
	if (prev)
		s->prev = prev;
	struct throttle_pkg *pkgs = prev ? realloc(s->pkgs, cap * sizeof *pkgs) : NULL;
	if (pkgs)
		s->pkgs = pkgs;
	struct throttle_core *cores = pkgs ? realloc(s->cores, cap * sizeof *cores) : NULL;
	if (!cores) {
		snprintf(err, errlen, "out of memory for %zu CPUs", cap);
		return -ENOMEM;
	}
	s->cores = cores;
	s->cap = cap;
	return 0;
}

/* "cpu3 4705 356 584 3699 23 23 0 0 0 0" into row; false for the aggregate "cpu"
 * line, other lines, and garbled ones.  Columns an older kernel lacks stay 0. */
static bool cpu_parse_line(struct scan line, double hz, struct cpu_row *row)
{
	const char *w;
	size_t n;

	if (!scan_word(&line, &w, &n) || n < 4 || memcmp(w, "cpu", 3) != 0)
		return false;
	uint64_t id;
	if (!parse_u64(w + 3, n - 3, &id))
		return false;
	row->id = id;
	for (int f = 0; f < N_CPU_FIELDS; f++) {
		uint64_t ticks = 0;
		if (scan_word(&line, &w, &n) && !parse_u64(w, n, &ticks))
			return false;
		row->sec[f] = (double)ticks / hz;
	}
	return true;
}

static const struct cpu_row *cpu_find_prev(const struct cpu_state *s, size_t hint,
					   unsigned long long id)
{
	if (hint < s->n_prev && s->prev[hint].id == id)
		return &s->prev[hint];
	for (size_t i = 0; i < s->n_prev; i++)
		if (s->prev[i].id == id)
			return &s->prev[i];
	return NULL;
}

static void cpu_keep_monotonic(struct cpu_row *cur, const struct cpu_row *old)
{
	if (!old || old->sec[F_IDLE] - cur->sec[F_IDLE] >= JUMP_BACK_SECONDS)
		return;
	for (int f = 0; f < N_CPU_FIELDS; f++)
		if (cur->sec[f] < old->sec[f])
			cur->sec[f] = old->sec[f];
}

static int cpu_parse_stat(struct cpu_state *s, char *err, size_t errlen)
{
	struct scan text = scan_text(s->stat.buf, s->stat.len), line;

	s->n_rows = 0;
	while (scan_line(&text, &line)) {
		if (s->n_rows == s->cap) {
			int rc = cpu_grow(s, err, errlen);
			if (rc)
				return rc;
		}
		struct cpu_row *row = &s->rows[s->n_rows];
		if (!cpu_parse_line(line, s->hz, row))
			continue;
		cpu_keep_monotonic(row, cpu_find_prev(s, s->n_rows, row->id));
		s->n_rows++;
	}
	return 0;
}

/* This cycle's rows become the history the next cycle is compared with. */
static void cpu_rotate(struct cpu_state *s)
{
	struct cpu_row *t = s->prev;
	s->prev = s->rows;
	s->rows = t;
	s->n_prev = s->n_rows;
	s->n_rows = 0;
}

/* Adds one series labelled cpu=id, mode=mode; a duplicated cpuN line is dropped. */
static int cpu_add(struct batch *b, unsigned long long id, const char *mode, double v, char *err,
		   size_t errlen)
{
	static const char *const names[] = { "cpu", "mode" };
	char idbuf[24];
	const char *values[] = { fmt_uint(idbuf, sizeof idbuf, id), mode };
	int rc = batch_add(b, names, values, 2, v, err, errlen);
	return rc == -EEXIST ? 0 : rc;
}

static int cpu_emit_times(const struct cpu_state *s, struct batch *b, char *err, size_t errlen)
{
	int rc = batch_family(b, "node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
			      METRIC_COUNTER, err, errlen);
	for (size_t i = 0; rc == 0 && i < s->n_rows; i++)
		for (int m = 0; rc == 0 && m < F_GUEST; m++)
			rc = cpu_add(b, s->rows[i].id, mode_names[m], s->rows[i].sec[m], err,
				     errlen);
	if (rc || !s->guest)
		return rc;
	/* Guest time is also counted in user and nice; node_exporter shows it apart. */
	rc = batch_family(b, "node_cpu_guest_seconds_total",
			  "Seconds the CPUs spent in guests (VMs) for each mode.", METRIC_COUNTER,
			  err, errlen);
	for (size_t i = 0; rc == 0 && i < s->n_rows; i++) {
		rc = cpu_add(b, s->rows[i].id, "user", s->rows[i].sec[F_GUEST], err, errlen);
		if (rc == 0)
			rc = cpu_add(b, s->rows[i].id, "nice", s->rows[i].sec[F_GUEST_NICE], err,
				     errlen);
	}
	return rc;
}

/* ---- sysfs: isolated CPUs ---- */

/* One item of a CPU list: "4" or "2-7". */
static bool cpulist_item(const char *w, size_t n, uint64_t *lo, uint64_t *hi)
{
	const char *dash = memchr(w, '-', n);
	if (!dash)
		return parse_u64(w, n, lo) && (*hi = *lo, true);
	return parse_u64(w, (size_t)(dash - w), lo) &&
	       parse_u64(dash + 1, (size_t)(w + n - dash - 1), hi) && *lo <= *hi &&
	       *hi - *lo < ISOLATED_RANGE_MAX;
}

static int cpu_emit_isolated(struct cpu_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = {
		"node_cpu_isolated",
		"Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
		METRIC_GAUGE,
		false,
	};
	char ebuf[256];

	/* Optional file: any failure to read it only leaves the family out. */
	if (procfile_read(&s->isolated, ebuf, sizeof ebuf) != 0)
		return 0;
	struct scan text = scan_text(s->isolated.buf, s->isolated.len), line;
	if (!scan_line(&text, &line))
		return 0;
	for (const char *p = line.p; p < line.end;) {
		const char *comma = memchr(p, ',', (size_t)(line.end - p));
		const char *stop = comma ? comma : line.end;
		uint64_t lo, hi;
		if (cpulist_item(p, (size_t)(stop - p), &lo, &hi)) {
			for (uint64_t c = lo; c <= hi; c++) {
				char idbuf[24];
				const char *values[] = { fmt_uint(idbuf, sizeof idbuf, c) };
				int rc = lazyfam_add(b, &fam, names, values, 1, 1.0, err, errlen);
				if (rc)
					return rc;
			}
		}
		p = stop + 1;
	}
	return 0;
}

/* ---- sysfs: thermal throttling ---- */

static int cpu_sysfs_u64(const struct cpu_state *s, unsigned long long cpu, const char *rel,
			 unsigned long long *out)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/cpu%llu/%s", s->sysfs_cpu, cpu, rel);
	if (n < 0 || (size_t)n >= sizeof path)
		return -ENAMETOOLONG;
	return read_u64_file(path, out);
}

static bool pkg_seen(const struct cpu_state *s, unsigned long long pkg)
{
	for (size_t i = 0; i < s->n_pkgs; i++)
		if (s->pkgs[i].pkg == pkg)
			return true;
	return false;
}

static bool core_seen(const struct cpu_state *s, unsigned long long pkg, unsigned long long core)
{
	for (size_t i = 0; i < s->n_cores; i++)
		if (s->cores[i].pkg == pkg && s->cores[i].core == core)
			return true;
	return false;
}

/* Counts are per core and per package, shared by the CPUs (threads) in them, so
 * each is read from the first CPU of its core or package that has it. */
static void throttle_read_cpu(struct cpu_state *s, unsigned long long cpu)
{
	unsigned long long pkg, core, count;

	if (cpu_sysfs_u64(s, cpu, "topology/physical_package_id", &pkg) != 0 ||
	    cpu_sysfs_u64(s, cpu, "topology/core_id", &core) != 0)
		return;
	if (!core_seen(s, pkg, core) &&
	    cpu_sysfs_u64(s, cpu, "thermal_throttle/core_throttle_count", &count) == 0)
		s->cores[s->n_cores++] = (struct throttle_core){ pkg, core, count };
	if (!pkg_seen(s, pkg) &&
	    cpu_sysfs_u64(s, cpu, "thermal_throttle/package_throttle_count", &count) == 0)
		s->pkgs[s->n_pkgs++] = (struct throttle_pkg){ pkg, count };
}

static int throttle_add(struct batch *b, const char *name, const char *help, bool *started,
			const char *const *names, const char *const *values, size_t n,
			unsigned long long count, char *err, size_t errlen)
{
	if (!*started) {
		int rc = batch_family(b, name, help, METRIC_COUNTER, err, errlen);
		if (rc)
			return rc;
		*started = true;
	}
	return batch_add(b, names, values, n, (double)count, err, errlen);
}

static int cpu_emit_throttles(struct cpu_state *s, struct batch *b, char *err, size_t errlen)
{
	/* Label names in sorted order, as node_exporter's output has them. */
	static const char *const pkg_names[] = { "package" };
	static const char *const core_names[] = { "core", "package" };
	char pbuf[24], cbuf[24];
	bool started = false;
	int rc = 0;

	if (!s->throttle)
		return 0;
	s->n_pkgs = s->n_cores = 0;
	for (size_t i = 0; i < s->n_rows; i++)
		throttle_read_cpu(s, s->rows[i].id);
	for (size_t i = 0; rc == 0 && i < s->n_pkgs; i++) {
		const char *values[] = { fmt_uint(pbuf, sizeof pbuf, s->pkgs[i].pkg) };
		rc = throttle_add(b, "node_cpu_package_throttles_total",
				  "Number of times this CPU package has been throttled.", &started,
				  pkg_names, values, 1, s->pkgs[i].count, err, errlen);
	}
	started = false;
	for (size_t i = 0; rc == 0 && i < s->n_cores; i++) {
		const char *values[] = { fmt_uint(cbuf, sizeof cbuf, s->cores[i].core),
					 fmt_uint(pbuf, sizeof pbuf, s->cores[i].pkg) };
		rc = throttle_add(b, "node_cpu_core_throttles_total",
				  "Number of times this CPU core has been throttled.", &started,
				  core_names, values, 2, s->cores[i].count, err, errlen);
	}
	return rc;
}

/* ---- collect ---- */

static int cpu_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct cpu_state *s = state;

	int rc = procfile_read(&s->stat, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	s->n_rows = 0;
	/* Without /proc/stat there are no CPU times, but sysfs may still tell. */
	rc = rc == 0 ? cpu_parse_stat(s, err, errlen) : 0;
	if (rc == 0)
		rc = cpu_info_emit(&s->info, b, err, errlen);
	if (rc == 0 && s->n_rows > 0)
		rc = cpu_emit_times(s, b, err, errlen);
	if (rc == 0)
		rc = cpu_emit_isolated(s, b, err, errlen);
	if (rc == 0)
		rc = cpu_emit_throttles(s, b, err, errlen);
	if (rc == 0)
		rc = cpu_online_emit(&s->online, b, err, errlen);
	cpu_rotate(s);
	return rc;
}

const struct collector_ops collector_cpu_ops = {
	.init = cpu_init,
	.collect = cpu_collect,
	.fini = cpu_fini,
};
