/*
 * perf - hardware, software and cache event counters of each CPU, counted by the
 * kernel for every process (perf_event_open with pid -1), as node_exporter's
 * opt-in perf collector reports them: node_perf_<event>_total{cpu} counters
 * (cpucycles, instructions, branch_instructions, branch_misses, cache_refs,
 * cache_misses, ref_cpucycles, stalled_cycles_backend/frontend; page_faults,
 * context_switches, cpu_migrations, minor_faults, major_faults; cache_l1d_read_hits,
 * cache_ll_write_misses, cache_tlb_data_read_hits, cache_bpu_read_misses, ...), and
 * node_perf_<subsystem>_<event>{cpu} for each --collector.perf.tracepoint.
 *
 * The counters are opened on the first cycle and kept; each cycle reads them
 * (the raw count, as node_exporter reports it, not scaled for multiplexing).
 *
 * Where the kernel refuses: a kind of event it does not have (hardware and cache
 * events in a virtual machine without a PMU: ENOENT) is left out and said in the
 * collection's warning, the other kinds are reported.  When nothing at all can be
 * opened (perf_event_paranoid above 0 without CAP_PERFMON: EACCES) the collection
 * fails with the reason (success 0) and the counters are asked for again on the
 * next cycle.  node_exporter reports such a collector as succeeding with no
 * series.
 *
 * Options, as node_exporter spells them:
 *   --collector.perf.cpus=LIST             "0-3,8,10-20:2" (default: every CPU)
 *   --collector.perf.tracepoint=SUBSYS:EVENT   (repeatable)
 *   --collector.perf.{hardware,software,cache}-profilers=NAME  (repeatable; the
 *     names as node_exporter's: CpuCycles, ContextSwitch, L1DataReadHit, ...)
 *   --collector.perf.disable-{hardware,software,cache}-profilers
 * A list option also takes commas.  Unlike node_exporter, a hardware or software
 * profiler list restricts the set (node_exporter's keeps all of them) and an
 * unknown name is refused.
 */
#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "scan.h"

#define MAX_CPUS        4096
#define MAX_TRACEPOINTS 32

enum kind { K_HARDWARE, K_SOFTWARE, K_CACHE, K_TRACEPOINT, N_KINDS };

struct event_def {
	enum kind kind;
	const char *flag; /* the profiler's name in the options */
	uint64_t config;
	const char *name, *help;
};

#define CACHE(id, op, res)                                               \
	(PERF_COUNT_HW_CACHE_##id | (PERF_COUNT_HW_CACHE_OP_##op << 8) | \
	 (PERF_COUNT_HW_CACHE_RESULT_##res << 16))

/* In node_exporter's order of families. */
static const struct event_def events[] = {
	{ K_HARDWARE, "CpuCycles", PERF_COUNT_HW_CPU_CYCLES, "cpucycles_total",
	  "Number of CPU cycles (frequency scaled)" },
	{ K_HARDWARE, "CpuInstr", PERF_COUNT_HW_INSTRUCTIONS, "instructions_total",
	  "Number of CPU instructions" },
	{ K_HARDWARE, "BranchInstr", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, "branch_instructions_total",
	  "Number of CPU branch instructions" },
	{ K_HARDWARE, "BranchMisses", PERF_COUNT_HW_BRANCH_MISSES, "branch_misses_total",
	  "Number of CPU branch misses" },
	{ K_HARDWARE, "CacheRef", PERF_COUNT_HW_CACHE_REFERENCES, "cache_refs_total",
	  "Number of cache references (non frequency scaled)" },
	{ K_HARDWARE, "CacheMisses", PERF_COUNT_HW_CACHE_MISSES, "cache_misses_total",
	  "Number of cache misses" },
	{ K_HARDWARE, "RefCpuCycles", PERF_COUNT_HW_REF_CPU_CYCLES, "ref_cpucycles_total",
	  "Number of CPU cycles" },
	{ K_HARDWARE, "StalledCyclesBackend", PERF_COUNT_HW_STALLED_CYCLES_BACKEND,
	  "stalled_cycles_backend_total", "Number of stalled backend CPU cycles" },
	{ K_HARDWARE, "StalledCyclesFrontend", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
	  "stalled_cycles_frontend_total", "Number of stalled frontend CPU cycles" },
	{ K_SOFTWARE, "PageFault", PERF_COUNT_SW_PAGE_FAULTS, "page_faults_total",
	  "Number of page faults" },
	{ K_SOFTWARE, "ContextSwitch", PERF_COUNT_SW_CONTEXT_SWITCHES, "context_switches_total",
	  "Number of context switches" },
	{ K_SOFTWARE, "CpuMigration", PERF_COUNT_SW_CPU_MIGRATIONS, "cpu_migrations_total",
	  "Number of CPU process migrations" },
	{ K_SOFTWARE, "MinorFault", PERF_COUNT_SW_PAGE_FAULTS_MIN, "minor_faults_total",
	  "Number of minor page faults" },
	{ K_SOFTWARE, "MajorFault", PERF_COUNT_SW_PAGE_FAULTS_MAJ, "major_faults_total",
	  "Number of major page faults" },
	{ K_CACHE, "L1DataReadHit", CACHE(L1D, READ, ACCESS), "cache_l1d_read_hits_total",
	  "Number L1 data cache read hits" },
	{ K_CACHE, "L1DataReadMiss", CACHE(L1D, READ, MISS), "cache_l1d_read_misses_total",
	  "Number L1 data cache read misses" },
	{ K_CACHE, "L1DataWriteHit", CACHE(L1D, WRITE, ACCESS), "cache_l1d_write_hits_total",
	  "Number L1 data cache write hits" },
	{ K_CACHE, "L1InstrReadMiss", CACHE(L1I, READ, MISS), "cache_l1_instr_read_misses_total",
	  "Number instruction L1 instruction read misses" },
	{ K_CACHE, "InstrTLBReadHit", CACHE(ITLB, READ, ACCESS), "cache_tlb_instr_read_hits_total",
	  "Number instruction TLB read hits" },
	{ K_CACHE, "InstrTLBReadMiss", CACHE(ITLB, READ, MISS), "cache_tlb_instr_read_misses_total",
	  "Number instruction TLB read misses" },
	{ K_CACHE, "DataTLBReadHit", CACHE(DTLB, READ, ACCESS), "cache_tlb_data_read_hits_total",
	  "Number of data TLB read hits" },
	{ K_CACHE, "DataTLBReadMiss", CACHE(DTLB, READ, MISS), "cache_tlb_data_read_misses_total",
	  "Number of data TLB read misses" },
	{ K_CACHE, "DataTLBWriteHit", CACHE(DTLB, WRITE, ACCESS), "cache_tlb_data_write_hits_total",
	  "Number of data TLB write hits" },
	{ K_CACHE, "DataTLBWriteMiss", CACHE(DTLB, WRITE, MISS),
	  "cache_tlb_data_write_misses_total", "Number of data TLB write misses" },
	{ K_CACHE, "LLReadHit", CACHE(LL, READ, ACCESS), "cache_ll_read_hits_total",
	  "Number last level read hits" },
	{ K_CACHE, "LLReadMiss", CACHE(LL, READ, MISS), "cache_ll_read_misses_total",
	  "Number last level read misses" },
	{ K_CACHE, "LLWriteHit", CACHE(LL, WRITE, ACCESS), "cache_ll_write_hits_total",
	  "Number last level write hits" },
	{ K_CACHE, "LLWriteMiss", CACHE(LL, WRITE, MISS), "cache_ll_write_misses_total",
	  "Number last level write misses" },
	{ K_CACHE, "BPUReadHit", CACHE(BPU, READ, ACCESS), "cache_bpu_read_hits_total",
	  "Number BPU read hits" },
	{ K_CACHE, "BPUReadMiss", CACHE(BPU, READ, MISS), "cache_bpu_read_misses_total",
	  "Number BPU read misses" },
};
#define N_EVENTS (sizeof events / sizeof events[0])

static const char *const kind_names[N_KINDS] = { "hardware", "software", "cache", "tracepoint" };
static const uint32_t kind_types[N_KINDS] = { PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE,
					      PERF_TYPE_HW_CACHE, PERF_TYPE_TRACEPOINT };
static const char *const kind_options[N_KINDS] = { "hardware-profilers", "software-profilers",
						   "cache-profilers", NULL };
static const char *const kind_disable[N_KINDS] = { "disable-hardware-profilers",
						   "disable-software-profilers",
						   "disable-cache-profilers", NULL };

struct tracepoint {
	uint64_t id;
	char label[128]; /* subsystem_event: the family is node_perf_<label> */
	char help[160];
};

/* One counter: an event (index into events, or N_EVENTS + tracepoint) on a CPU. */
struct counter {
	size_t event;
	int cpu;
	int fd;
	bool ok;        /* read this cycle */
	uint64_t value; /* read this cycle */
};

struct perf_state {
	int cpus[MAX_CPUS];
	size_t n_cpus;
	bool wanted[N_EVENTS];
	struct tracepoint tps[MAX_TRACEPOINTS];
	size_t n_tps;
	struct counter *counters;
	size_t n_counters;
	bool opened;        /* some counter is open: the set is kept */
	const char *procfs; /* for perf_event_paranoid in messages */
	char warning[512];
	char families[N_EVENTS + MAX_TRACEPOINTS][METRIC_NAME_MAX + 1];
};

static void perf_fini(void *state)
{
	struct perf_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < s->n_counters; i++)
		if (s->counters[i].fd >= 0)
			close(s->counters[i].fd);
	free(s->counters);
	free(s);
}

/* ---- options ---- */

/* The next entry of a list option (entries separated by newlines, as repeated
 * flags give them, or commas), without surrounding blanks. */
static bool list_next(struct scan *sc, const char **w, size_t *n)
{
	while (sc->p < sc->end) {
		const char *start = sc->p;
		while (sc->p < sc->end && *sc->p != '\n' && *sc->p != ',')
			sc->p++;
		const char *end = sc->p;
		if (sc->p < sc->end)
			sc->p++;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start) {
			*w = start;
			*n = (size_t)(end - start);
			return true;
		}
	}
	return false;
}

static bool parse_int(const char *w, size_t n, int *out)
{
	uint64_t v;
	if (!parse_u64(w, n, &v) || v >= MAX_CPUS)
		return false;
	*out = (int)v;
	return true;
}

/* One entry of --collector.perf.cpus: "N", "A-B" or "A-B:STRIDE". */
static bool cpu_range(const char *w, size_t n, int *a, int *b, int *stride)
{
	const char *dash = memchr(w, '-', n), *colon = memchr(w, ':', n);
	*stride = 1;
	if (!dash) {
		*b = *a = 0;
		return !colon && parse_int(w, n, a) && (*b = *a, true);
	}
	const char *end = colon ? colon : w + n;
	if (colon && (!parse_int(colon + 1, (size_t)(w + n - colon - 1), stride) || *stride == 0))
		return false;
	return dash < end && parse_int(w, (size_t)(dash - w), a) &&
	       parse_int(dash + 1, (size_t)(end - dash - 1), b);
}

static int parse_cpus(struct perf_state *s, const char *spec, char *err, size_t errlen)
{
	struct scan sc = scan_text(spec, strlen(spec));
	const char *w;
	size_t n;
	int a, b, stride;

	while (list_next(&sc, &w, &n)) {
		if (!cpu_range(w, n, &a, &b, &stride)) {
			snprintf(err, errlen,
				 "--collector.perf.cpus: \"%.*s\" is not a CPU, a range A-B or "
				 "A-B:STRIDE (CPUs below %d)",
				 (int)n, w, MAX_CPUS);
			return -EINVAL;
		}
		for (int c = a; c <= b && s->n_cpus < MAX_CPUS; c += stride)
			s->cpus[s->n_cpus++] = c;
	}
	return 0;
}

/* Every CPU this process may run on, as node_exporter's default. */
static int all_cpus(struct perf_state *s, char *err, size_t errlen)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof set, &set) != 0) {
		snprintf(err, errlen, "sched_getaffinity failed: %s", strerror(errno));
		return -errno;
	}
	for (int c = 0; c < CPU_SETSIZE && s->n_cpus < MAX_CPUS; c++)
		if (CPU_ISSET(c, &set))
			s->cpus[s->n_cpus++] = c;
	return 0;
}

static int pick_events(struct perf_state *s, const struct collector_env *env, char *err,
		       size_t errlen)
{
	for (int k = 0; k < K_TRACEPOINT; k++) {
		const char *list = collector_option(env, kind_options[k]);
		bool off = collector_option_bool(env, kind_disable[k]);
		bool all = !list || !list[0];
		struct scan sc = scan_text(list ? list : "", list ? strlen(list) : 0);
		const char *w;
		size_t n;
		for (size_t e = 0; e < N_EVENTS; e++)
			s->wanted[e] = events[e].kind == (enum kind)k ? !off && all : s->wanted[e];
		while (!off && list_next(&sc, &w, &n)) {
			size_t e = 0;
			while (e < N_EVENTS &&
			       !(events[e].kind == (enum kind)k && word_is(w, n, events[e].flag)))
				e++;
			if (e == N_EVENTS) {
				snprintf(err, errlen,
					 "--collector.perf.%s: no %s profiler \"%.*s\"",
					 kind_options[k], kind_names[k], (int)n, w);
				return -EINVAL;
			}
			s->wanted[e] = true;
		}
	}
	return 0;
}

/* The id of tracepoint sub:event in tracefs, under SYSFS/kernel/tracing or the
 * older SYSFS/kernel/debug/tracing. */
static int tracepoint_id(const char *sysfs, const char *sub, const char *event, uint64_t *id)
{
	static const char *const roots[] = { "kernel/tracing", "kernel/debug/tracing" };
	char path[PATH_MAX];
	int rc = -ENOENT;

	for (size_t i = 0; i < 2 && rc == -ENOENT; i++)
		if (path_fmt(path, sizeof path, "%s/%s/events/%s/%s/id", sysfs, roots[i], sub,
			     event) == 0)
			rc = sysfile_u64(path, id);
	return rc;
}

static bool safe_name(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') ||
		      (w[i] >= '0' && w[i] <= '9') || w[i] == '_' || w[i] == '-'))
			return false;
	return n > 0;
}

static int add_tracepoint(struct perf_state *s, const struct collector_env *env, const char *w,
			  size_t n, char *err, size_t errlen)
{
	const char *colon = memchr(w, ':', n);
	char sub[64], event[64];

	if (!colon || memchr(colon + 1, ':', (size_t)(w + n - colon - 1)) ||
	    !safe_name(w, (size_t)(colon - w)) ||
	    !safe_name(colon + 1, (size_t)(w + n - colon - 1)) ||
	    (size_t)(colon - w) >= sizeof sub || (size_t)(w + n - colon - 1) >= sizeof event) {
		snprintf(err, errlen,
			 "--collector.perf.tracepoint: invalid tracepoint \"%.*s\" "
			 "(SUBSYSTEM:EVENT)",
			 (int)n, w);
		return -EINVAL;
	}
	if (s->n_tps == MAX_TRACEPOINTS) {
		snprintf(err, errlen, "--collector.perf.tracepoint: more than %d tracepoints",
			 MAX_TRACEPOINTS);
		return -EINVAL;
	}
	snprintf(sub, sizeof sub, "%.*s", (int)(colon - w), w);
	snprintf(event, sizeof event, "%.*s", (int)(w + n - colon - 1), colon + 1);
	struct tracepoint *tp = &s->tps[s->n_tps];
	int rc = tracepoint_id(env->sysfs, sub, event, &tp->id);
	if (rc) {
		snprintf(err, errlen, "tracepoint %s:%s: no id under %s/kernel/tracing/events (%s)",
			 sub, event, env->sysfs, strerror(-rc));
		return rc;
	}
	snprintf(tp->label, sizeof tp->label, "%s_%s", sub, event);
	snprintf(tp->help, sizeof tp->help, "Perf tracepoint %s:%s", sub, event);
	s->n_tps++;
	return 0;
}

static int parse_tracepoints(struct perf_state *s, const struct collector_env *env, char *err,
			     size_t errlen)
{
	const char *list = collector_option(env, "tracepoint");
	struct scan sc = scan_text(list ? list : "", list ? strlen(list) : 0);
	const char *w;
	size_t n;
	int rc = 0;

	while (rc == 0 && list_next(&sc, &w, &n))
		rc = add_tracepoint(s, env, w, n, err, errlen);
	return rc;
}

/* ---- opening the counters ---- */

static int perf_open(uint32_t type, uint64_t config, int cpu)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = type;
	attr.config = config;
	attr.disabled = 1;
	attr.exclude_hv = 1;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl((int)fd, PERF_EVENT_IOC_RESET, 0) != 0 ||
	    ioctl((int)fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
		int e = errno;
		close((int)fd);
		return -e;
	}
	return (int)fd;
}

/* Why the kernel refused, in words an operator can act on. */
static void explain(char *out, size_t cap, const char *procfs, enum kind k, const char *what,
		    int cpu, int e)
{
	char path[PATH_MAX], paranoid[16] = "?";
	const char *hint = "";

	if (e == EACCES || e == EPERM) {
		if (path_fmt(path, sizeof path, "%s/sys/kernel/perf_event_paranoid", procfs) < 0 ||
		    sysfile_text(path, paranoid, sizeof paranoid) < 0)
			snprintf(paranoid, sizeof paranoid, "?");
		hint = "; counting every process of a CPU needs CAP_PERFMON, or "
		       "kernel.perf_event_paranoid 0 or less, and it is ";
	} else if ((e == ENOENT || e == EOPNOTSUPP) && (k == K_HARDWARE || k == K_CACHE)) {
		hint = "; the kernel has no hardware PMU for this CPU (usual in virtual machines)";
	} else if (e == ENODEV || e == EINVAL) {
		hint = "; is that CPU present and online?";
	} else if (e == EMFILE) {
		hint = "; too many open files: raise the collector's RLIMIT_NOFILE";
	}
	snprintf(out, cap, "perf_event_open(%s %s, cpu %d) failed: %s%s%s", kind_names[k], what,
		 cpu, strerror(e), hint, hint[0] && (e == EACCES || e == EPERM) ? paranoid : "");
}

/* Room in RLIMIT_NOFILE for n more descriptors, raising the soft limit if need be. */
static void fd_room(size_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= n + 256)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > n + 256 ? n + 256 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

struct open_tally {
	size_t wanted[N_KINDS], opened[N_KINDS];
	int first_errno[N_KINDS];
	char first_error[N_KINDS][400];
};

static void open_one(struct perf_state *s, size_t e, int cpu, struct open_tally *t)
{
	bool tp = e >= N_EVENTS;
	enum kind k = tp ? K_TRACEPOINT : events[e].kind;
	const char *what = tp ? s->tps[e - N_EVENTS].label : events[e].flag;
	uint64_t config = tp ? s->tps[e - N_EVENTS].id : events[e].config;
	int fd = perf_open(kind_types[k], config, cpu);

	t->wanted[k]++;
	if (fd < 0) {
		if (!t->first_errno[k]) {
			t->first_errno[k] = -fd;
			explain(t->first_error[k], sizeof t->first_error[k], s->procfs, k, what,
				cpu, -fd);
		}
		return;
	}
	t->opened[k]++;
	s->counters[s->n_counters++] = (struct counter){ .event = e, .cpu = cpu, .fd = fd };
}

/* Opens every wanted counter on every CPU.  Fails when none could be opened;
 * otherwise what could not be opened becomes the warning. */
static int open_counters(struct perf_state *s, char *err, size_t errlen)
{
	struct open_tally t;
	size_t n_events = N_EVENTS + s->n_tps, total = 0, wanted = 0;

	memset(&t, 0, sizeof t);
	s->n_counters = 0;
	s->warning[0] = '\0';
	fd_room(n_events * s->n_cpus);
	for (size_t c = 0; c < s->n_cpus; c++)
		for (size_t e = 0; e < n_events; e++)
			if (e >= N_EVENTS || s->wanted[e])
				open_one(s, e, s->cpus[c], &t);
	for (int k = 0; k < N_KINDS; k++) {
		total += t.opened[k];
		wanted += t.wanted[k];
		if (t.opened[k] < t.wanted[k] && !s->warning[0])
			snprintf(s->warning, sizeof s->warning,
				 "%s profilers: %zu of %zu counters: %s", kind_names[k],
				 t.opened[k], t.wanted[k], t.first_error[k]);
	}
	if (total > 0 || wanted == 0)
		return 0;
	for (int k = 0; k < N_KINDS; k++)
		if (t.first_errno[k]) {
			snprintf(err, errlen, "no perf counter could be opened: %s",
				 t.first_error[k]);
			return -t.first_errno[k];
		}
	return -EACCES;
}

static int perf_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct perf_state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	const char *cpus = collector_option(env, "cpus");
	int rc = cpus && cpus[0] ? parse_cpus(s, cpus, err, errlen) : all_cpus(s, err, errlen);
	if (rc == 0)
		rc = pick_events(s, env, err, errlen);
	if (rc == 0)
		rc = parse_tracepoints(s, env, err, errlen);
	for (size_t e = 0; rc == 0 && e < N_EVENTS + s->n_tps; e++) {
		snprintf(s->families[e], sizeof s->families[e], "node_perf_%s",
			 e < N_EVENTS ? events[e].name : s->tps[e - N_EVENTS].label);
		rc = metric_name_check(s->families[e], strlen(s->families[e]), err, errlen);
	}
	if (rc == 0 &&
	    !(s->counters = calloc((N_EVENTS + s->n_tps) * s->n_cpus + 1, sizeof *s->counters))) {
		snprintf(err, errlen, "out of memory for the perf counters");
		rc = -ENOMEM;
	}
	if (rc) {
		perf_fini(s);
		return rc;
	}
	s->procfs = env->procfs;
	*state = s;
	return 0;
}

/* ---- collecting ---- */

static int perf_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct perf_state *s = state;
	uint64_t v[3];
	size_t read_ok = 0;
	char cpu[16];
	int rc = 0;

	if (!s->opened) {
		/* Opened on the first cycle, and tried again each cycle while the kernel
		 * refuses every counter: the refusal is this collection's error. */
		int orc = open_counters(s, err, errlen);
		if (orc)
			return orc;
		s->opened = true;
	}
	for (size_t i = 0; i < s->n_counters; i++) {
		struct counter *c = &s->counters[i];
		c->ok = read(c->fd, v, sizeof v) == (ssize_t)sizeof v;
		c->value = v[0];
		read_ok += c->ok;
	}
	if (read_ok == 0 && s->n_counters > 0) {
		snprintf(err, errlen, "reading the perf counters failed: %s", strerror(errno));
		return -EIO;
	}
	/* Counters are in CPU-major order; each family takes its own in CPU order. */
	for (size_t e = 0; rc == 0 && e < N_EVENTS + s->n_tps; e++) {
		struct lazyfam fam = { s->families[e],
				       e < N_EVENTS ? events[e].help : s->tps[e - N_EVENTS].help,
				       METRIC_COUNTER, false };
		for (size_t i = 0; rc == 0 && i < s->n_counters; i++) {
			const struct counter *c = &s->counters[i];
			if (c->event != e || !c->ok)
				continue;
			snprintf(cpu, sizeof cpu, "%d", c->cpu);
			const char *values[] = { cpu };
			rc = lazyfam_add(b, &fam, names, values, 1, (double)c->value, err, errlen);
		}
	}
	if (rc == 0 && s->warning[0])
		snprintf(err, errlen, "%s", s->warning);
	return rc;
}

const struct collector_ops collector_perf_ops = {
	.init = perf_init,
	.collect = perf_collect,
	.fini = perf_fini,
};
