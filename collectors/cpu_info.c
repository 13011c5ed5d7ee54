/*
 * cpu_info.c - /proc/cpuinfo as info series and the online state of each CPU,
 * for the cpu collector (see cpu_info.h).
 *
 * A cpuinfo file is one block per processor, separated by blank lines, of
 * "key<tabs>: value" lines.  The keys read are x86's (the layout most hosts
 * have); on other architectures the keys that exist are used and the others
 * give empty labels, with "Features" standing for "flags" (arm64).
 */
#include "cpu_info.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "lazyfam.h"
#include "scan.h"

#define CPUINFO_VALUE_MAX 256 /* label values longer than this are cut */

/* The fields of one processor block that become labels or values. */
enum ci_field {
	CI_PROCESSOR,
	CI_VENDOR,
	CI_FAMILY,
	CI_MODEL,
	CI_MODEL_NAME,
	CI_STEPPING,
	CI_MICROCODE,
	CI_MHZ,
	CI_CACHE,
	CI_PACKAGE,
	CI_CORE,
	CI_FLAGS,
	CI_BUGS,
	N_CI_FIELDS
};

static const struct {
	const char *key;
	enum ci_field field;
} ci_keys[] = {
	{ "processor", CI_PROCESSOR }, { "vendor_id", CI_VENDOR },
	{ "vendor", CI_VENDOR },       { "cpu family", CI_FAMILY },
	{ "model", CI_MODEL },         { "model name", CI_MODEL_NAME },
	{ "stepping", CI_STEPPING },   { "microcode", CI_MICROCODE },
	{ "cpu MHz", CI_MHZ },         { "cache size", CI_CACHE },
	{ "physical id", CI_PACKAGE }, { "core id", CI_CORE },
	{ "flags", CI_FLAGS },         { "Features", CI_FLAGS },
	{ "bugs", CI_BUGS },
};

struct ci_block {
	struct scan v[N_CI_FIELDS]; /* p NULL when the block lacks the key */
};

static bool is_cpu_dir(const char *name);

/*
 * node_exporter reports node_cpu_frequency_hertz from cpuinfo only when its cpufreq
 * collector is off, so that the family (labelled {cpu} there, {core, cpu, package}
 * here) comes from one collector.  A collector here does not know which others run;
 * it tells instead whether the cpufreq collector can report the family: some CPU's
 * cpuinfo_cur_freq reads as a number (root only; intel_pstate has none).  Looked at
 * once: permissions and cpufreq drivers do not change while the host runs.
 */
static bool cpufreq_serves(const char *sysfs)
{
	char dir[PATH_MAX], path[PATH_MAX], text[32];
	struct dirents cpus = { 0 };
	bool serves = false;
	uint64_t khz;

	if (path_fmt(dir, sizeof dir, "%s/devices/system/cpu", sysfs) < 0 ||
	    dirents_read(&cpus, dir, is_cpu_dir) < 0)
		return false;
	for (size_t i = 0; !serves && i < cpus.n; i++) {
		long n;
		if (path_fmt(path, sizeof path, "%s/%s/cpufreq/cpuinfo_cur_freq", dir,
			     dirents_name(&cpus, i)) < 0 ||
		    (n = sysfile_text(path, text, sizeof text)) <= 0)
			continue;
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
			n--;
		serves = parse_u64(text, (size_t)n, &khz);
	}
	dirents_free(&cpus);
	return serves;
}

int cpu_info_init(struct cpu_info *ci, const struct collector_env *env, char *err, size_t errlen)
{
	const char *flags = collector_option(env, "info.flags-include");
	const char *bugs = collector_option(env, "info.bugs-include");

	memset(ci, 0, sizeof *ci);
	ci->file.fd = -1;
	/* As in node_exporter, asking for flags or bugs turns the info on. */
	ci->enabled = collector_option_bool(env, "info") || (flags && flags[0]) ||
		      (bugs && bugs[0]);
	if (!ci->enabled)
		return 0;
	ci->cpufreq_serves = cpufreq_serves(env->sysfs);
	int rc = procfile_init(&ci->file, env->procfs, "cpuinfo", err, errlen);
	if (rc == 0)
		rc = optregex_init(&ci->flags, env, "info.flags-include", err, errlen);
	if (rc == 0)
		rc = optregex_init(&ci->bugs, env, "info.bugs-include", err, errlen);
	return rc;
}

void cpu_info_fini(struct cpu_info *ci)
{
	procfile_close(&ci->file);
	optregex_fini(&ci->flags);
	optregex_fini(&ci->bugs);
}

/* "key\t\t: value" into the block; lines of another shape are skipped. */
static void ci_line(struct ci_block *blk, struct scan line)
{
	const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
	if (!colon)
		return;
	const char *kend = colon;
	while (kend > line.p && (kend[-1] == ' ' || kend[-1] == '\t'))
		kend--;
	const char *v = colon + 1;
	while (v < line.end && (*v == ' ' || *v == '\t'))
		v++;
	const char *vend = line.end;
	while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t' || vend[-1] == '\r'))
		vend--;
	for (size_t i = 0; i < sizeof ci_keys / sizeof ci_keys[0]; i++)
		if (word_is(line.p, (size_t)(kend - line.p), ci_keys[i].key)) {
			blk->v[ci_keys[i].field] = (struct scan){ v, vend };
			return;
		}
}

/* Copies a field into buf as a label value (cut at CPUINFO_VALUE_MAX - 1 bytes). */
static const char *ci_text(const struct ci_block *blk, enum ci_field f, char *buf)
{
	size_t n = (size_t)(blk->v[f].end - blk->v[f].p);
	if (!blk->v[f].p)
		n = 0;
	if (n >= CPUINFO_VALUE_MAX)
		n = CPUINFO_VALUE_MAX - 1;
	memcpy(buf, blk->v[f].p ? blk->v[f].p : "", n);
	buf[n] = '\0';
	return buf;
}

/* The next processor block of text into blk; false at the end. */
static bool ci_next_block(struct scan *text, struct ci_block *blk)
{
	struct scan line;

	memset(blk, 0, sizeof *blk);
	while (scan_line(text, &line)) {
		if (line.p != line.end)
			ci_line(blk, line);
		else if (blk->v[CI_PROCESSOR].p)
			return true;
		else
			memset(blk, 0, sizeof *blk);
	}
	return blk->v[CI_PROCESSOR].p != NULL;
}

static int ci_emit_info(const struct cpu_info *ci, struct batch *b, char *err, size_t errlen)
{
	/* Label names sorted, as node_exporter's output has them. */
	static const char *const names[] = { "cachesize", "core",  "cpu",        "family",
					     "microcode", "model", "model_name", "package",
					     "stepping",  "vendor" };
	static const enum ci_field fields[] = { CI_CACHE,     CI_CORE,  CI_PROCESSOR,  CI_FAMILY,
						CI_MICROCODE, CI_MODEL, CI_MODEL_NAME, CI_PACKAGE,
						CI_STEPPING,  CI_VENDOR };
	struct lazyfam fam = { "node_cpu_info", "CPU information from /proc/cpuinfo.", METRIC_GAUGE,
			       false };
	struct scan text = scan_text(ci->file.buf, ci->file.len);
	char bufs[10][CPUINFO_VALUE_MAX];
	const char *values[10];
	struct ci_block blk;
	int rc = 0;

	while (rc == 0 && ci_next_block(&text, &blk)) {
		for (size_t i = 0; i < 10; i++)
			values[i] = ci_text(&blk, fields[i], bufs[i]);
		rc = lazyfam_add(b, &fam, names, values, 10, 1.0, err, errlen);
	}
	return rc;
}

static int ci_emit_frequency(const struct cpu_info *ci, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "core", "cpu", "package" };
	static const enum ci_field fields[] = { CI_CORE, CI_PROCESSOR, CI_PACKAGE };
	struct lazyfam fam = { "node_cpu_frequency_hertz",
			       "CPU frequency in hertz from /proc/cpuinfo.", METRIC_GAUGE, false };
	struct scan text = scan_text(ci->file.buf, ci->file.len);
	char bufs[3][CPUINFO_VALUE_MAX];
	const char *values[3];
	struct ci_block blk;
	double mhz;
	int rc = 0;

	while (rc == 0 && ci_next_block(&text, &blk)) {
		const struct scan *m = &blk.v[CI_MHZ];
		if (!m->p || !parse_double(m->p, (size_t)(m->end - m->p), &mhz))
			continue;
		for (size_t i = 0; i < 3; i++)
			values[i] = ci_text(&blk, fields[i], bufs[i]);
		rc = lazyfam_add(b, &fam, names, values, 3, mhz * 1e6, err, errlen);
	}
	return rc;
}

/* One series per word of the first processor's flags (or bugs) that f matches. */
static int ci_emit_words(struct lazyfam *fam, const char *label, const struct optregex *f,
			 struct scan words, struct batch *b, char *err, size_t errlen)
{
	const char *w;
	size_t n;
	char buf[CPUINFO_VALUE_MAX];

	if (!f->set || !words.p)
		return 0;
	while (scan_word(&words, &w, &n)) {
		if (n >= sizeof buf || !optregex_match(f, w, n))
			continue;
		memcpy(buf, w, n);
		buf[n] = '\0';
		const char *values[] = { buf };
		int rc = lazyfam_add(b, fam, &label, values, 1, 1.0, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int cpu_info_emit(struct cpu_info *ci, struct batch *b, char *err, size_t errlen)
{
	struct lazyfam flag = {
		"node_cpu_flag_info",
		"The `flags` field of CPU information from /proc/cpuinfo taken from "
		"the first core.",
		METRIC_GAUGE, false
	};
	struct lazyfam bug = { "node_cpu_bug_info",
			       "The `bugs` field of CPU information from /proc/cpuinfo taken from "
			       "the first core.",
			       METRIC_GAUGE, false };
	struct ci_block first;

	if (!ci->enabled)
		return 0;
	int rc = procfile_read(&ci->file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = ci_emit_info(ci, b, err, errlen);
	if (rc == 0 && !ci->cpufreq_serves)
		rc = ci_emit_frequency(ci, b, err, errlen);
	struct scan text = scan_text(ci->file.buf, ci->file.len);
	if (rc || !ci_next_block(&text, &first))
		return rc;
	rc = ci_emit_words(&flag, "flag", &ci->flags, first.v[CI_FLAGS], b, err, errlen);
	if (rc == 0)
		rc = ci_emit_words(&bug, "bug", &ci->bugs, first.v[CI_BUGS], b, err, errlen);
	return rc;
}

/* ---- online ---- */

static bool is_cpu_dir(const char *name)
{
	uint64_t id;
	return strncmp(name, "cpu", 3) == 0 && name[3] &&
	       parse_u64(name + 3, strlen(name + 3), &id);
}

int cpu_online_init(struct cpu_online *co, const char *sysfs, char *err, size_t errlen)
{
	char path[PATH_MAX];

	memset(co, 0, sizeof *co);
	if (path_fmt(co->dir, sizeof co->dir, "%s/devices/system/cpu", sysfs) < 0 ||
	    path_fmt(path, sizeof path, "%s/cpu0/online", co->dir) < 0) {
		snprintf(err, errlen, "path %s/devices/system/cpu is too long", sysfs);
		return -ENAMETOOLONG;
	}
	/* node_exporter reports nothing when cpu0 has no online file (cpu0 cannot be
	 * taken offline on most hosts, and then the kernel gives it none).  CPUs do
	 * not gain that file later, so it is looked for once. */
	co->supported = access(path, F_OK) == 0;
	return 0;
}

void cpu_online_fini(struct cpu_online *co)
{
	dirents_free(&co->cpus);
}

int cpu_online_emit(struct cpu_online *co, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = { "node_cpu_online", "CPUs that are online and being scheduled.",
			       METRIC_GAUGE, false };
	char path[PATH_MAX], text[8];
	int rc = 0;

	if (!co->supported || dirents_read(&co->cpus, co->dir, is_cpu_dir) < 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < co->cpus.n; i++) {
		const char *name = dirents_name(&co->cpus, i);
		if (path_fmt(path, sizeof path, "%s/%s/online", co->dir, name) < 0)
			continue;
		long n = sysfile_text(path, text, sizeof text);
		const char *values[] = { name + 3 };
		rc = lazyfam_add(b, &fam, names, values, 1, n == 1 && text[0] == '1' ? 1.0 : 0.0,
				 err, errlen);
	}
	return rc;
}
