/*
 * cpufreq - CPU frequencies from SYSFS/devices/system/cpu/cpuN/cpufreq/: the
 * hardware's current, minimum and maximum (cpuinfo_*_freq; cpuinfo_cur_freq is
 * readable by root only) and the governor's (scaling_*_freq), in kHz, exported in
 * hertz; and node_cpu_scaling_governor{cpu,governor}, 1 for the governor in use
 * and 0 for the other ones scaling_available_governors lists.  A CPU without a
 * cpufreq directory has no series; an attribute that is missing or unreadable
 * leaves only its own series out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "devtab.h"
#include "lazyfam.h"
#include "scan.h"
#include "sysattr.h"

struct freq_attr {
	const char *file, *name, *help;
};

static const struct freq_attr attrs[] = {
	{ "cpuinfo_cur_freq", "node_cpu_frequency_hertz",
	  "Current cpu thread frequency in hertz." },
	{ "cpuinfo_max_freq", "node_cpu_frequency_max_hertz",
	  "Maximum cpu thread frequency in hertz." },
	{ "cpuinfo_min_freq", "node_cpu_frequency_min_hertz",
	  "Minimum cpu thread frequency in hertz." },
	{ "scaling_cur_freq", "node_cpu_scaling_frequency_hertz",
	  "Current scaled CPU thread frequency in hertz." },
	{ "scaling_max_freq", "node_cpu_scaling_frequency_max_hertz",
	  "Maximum scaled CPU thread frequency in hertz." },
	{ "scaling_min_freq", "node_cpu_scaling_frequency_min_hertz",
	  "Minimum scaled CPU thread frequency in hertz." },
};
#define N_ATTRS (sizeof attrs / sizeof attrs[0])

#define GOVERNORS_MAX 256 /* bytes of scaling_available_governors kept */

struct freq_cpu {
	struct dev_entry e; /* first */
	int freqfd;         /* cpuN/cpufreq */
	struct sysattr attr[N_ATTRS];
	bool ok[N_ATTRS];
	double hz[N_ATTRS];
	struct sysattr governor_attr, available_attr;
	char governor[64], available[GOVERNORS_MAX]; /* "" when unreadable */
};

struct freq_state {
	struct devtab tab;
	struct fd_budget budget;
	char buf[SYSATTR_MAX];
};

static bool freq_want(const char *name, unsigned char d_type, void *ctx)
{
	uint64_t id;
	(void)d_type;
	(void)ctx;
	return strncmp(name, "cpu", 3) == 0 && parse_u64(name + 3, strlen(name + 3), &id);
}

static int freq_setup(struct dev_entry *e, void *ctx)
{
	struct freq_cpu *c = (struct freq_cpu *)e;
	(void)ctx;
	c->freqfd = -1; /* opened by freq_read, once the CPU has a cpufreq directory */
	for (size_t i = 0; i < N_ATTRS; i++)
		sysattr_init(&c->attr[i]);
	sysattr_init(&c->governor_attr);
	sysattr_init(&c->available_attr);
	return 0;
}

static void freq_teardown(struct dev_entry *e, void *ctx)
{
	struct freq_cpu *c = (struct freq_cpu *)e;
	struct freq_state *s = ctx;
	for (size_t i = 0; i < N_ATTRS; i++)
		sysattr_close(&c->attr[i], &s->budget);
	sysattr_close(&c->governor_attr, &s->budget);
	sysattr_close(&c->available_attr, &s->budget);
	if (c->freqfd >= 0)
		close(c->freqfd);
}

static const struct devtab_ops freq_ops = {
	.want = freq_want,
	.setup = freq_setup,
	.teardown = freq_teardown,
};

static void freq_fini(void *state)
{
	struct freq_state *s = state;
	if (!s)
		return;
	devtab_fini(&s->tab);
	free(s);
}

static int freq_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct freq_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	fd_budget_init(&s->budget);
	int rc = devtab_init(&s->tab, env->sysfs, "devices/system/cpu", sizeof(struct freq_cpu),
			     &freq_ops, s, err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* A text attribute into out (NUL-terminated, "" when unreadable or too long). */
static void freq_text(struct freq_state *s, struct freq_cpu *c, struct sysattr *a, const char *file,
		      char *out, size_t cap)
{
	size_t n;
	out[0] = '\0';
	if (c->freqfd < 0 ||
	    sysattr_read(a, c->freqfd, file, s->buf, sizeof s->buf, &n, &s->budget) != 0 ||
	    n >= cap)
		return;
	memcpy(out, s->buf, n);
	out[n] = '\0';
}

static void freq_read(struct freq_state *s, struct freq_cpu *c)
{
	if (c->freqfd < 0)
		c->freqfd = sysdir_open(c->e.dirfd, "cpufreq");
	for (size_t i = 0; i < N_ATTRS; i++) {
		size_t n;
		uint64_t khz;
		c->ok[i] = c->freqfd >= 0 &&
			   sysattr_read(&c->attr[i], c->freqfd, attrs[i].file, s->buf,
					sizeof s->buf, &n, &s->budget) == 0 &&
			   parse_u64(s->buf, n, &khz);
		c->hz[i] = c->ok[i] ? (double)khz * 1000.0 : 0;
	}
	freq_text(s, c, &c->governor_attr, "scaling_governor", c->governor, sizeof c->governor);
	freq_text(s, c, &c->available_attr, "scaling_available_governors", c->available,
		  sizeof c->available);
}

/* One series per governor the CPU offers: 1 for the one in use. */
static int freq_emit_governors(struct freq_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu", "governor" };
	struct lazyfam fam = { "node_cpu_scaling_governor",
			       "Current enabled CPU frequency governor.", METRIC_GAUGE, false };
	char gov[GOVERNORS_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct freq_cpu *c = (struct freq_cpu *)s->tab.entries[i];
		struct scan words = scan_text(c->available, strlen(c->available));
		const char *w;
		size_t n;
		if (!c->governor[0])
			continue;
		while (rc == 0 && scan_word(&words, &w, &n)) {
			memcpy(gov, w, n);
			gov[n] = '\0';
			const char *values[] = { c->e.name + 3, gov };
			rc = lazyfam_add(b, &fam, names, values, 2,
					 strcmp(gov, c->governor) == 0 ? 1.0 : 0.0, err, errlen);
		}
	}
	return rc;
}

static int freq_emit(struct freq_state *s, size_t a, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = { attrs[a].name, attrs[a].help, METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct freq_cpu *c = (struct freq_cpu *)s->tab.entries[i];
		const char *values[] = { c->e.name + 3 };
		if (c->ok[a])
			rc = lazyfam_add(b, &fam, names, values, 1, c->hz[a], err, errlen);
	}
	return rc;
}

static int freq_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct freq_state *s = state;

	int rc = devtab_scan(&s->tab, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < s->tab.n; i++)
		freq_read(s, (struct freq_cpu *)s->tab.entries[i]);
	for (size_t a = 0; rc == 0 && a < N_ATTRS; a++)
		rc = freq_emit(s, a, b, err, errlen);
	return rc == 0 ? freq_emit_governors(s, b, err, errlen) : rc;
}

const struct collector_ops collector_cpufreq_ops = {
	.init = freq_init,
	.collect = freq_collect,
	.fini = freq_fini,
};
