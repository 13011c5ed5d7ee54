/*
 * time - the system clock and time zone (node_time_seconds,
 * node_time_zone_offset_seconds{time_zone}) and, from
 * SYSFS/devices/system/clocksource/clocksourceN/, the available and current
 * clocksources.  The device label is the position of the clocksourceN directory
 * in name order, as node_exporter numbers them.
 *
 * The time zone is this process's, from TZ or /etc/localtime, read once at init:
 * node_exporter also uses its own process's zone, not the one under --path.rootfs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

#define MAX_CLOCKSOURCES 16
#define CS_NAME_MAX      32 /* "clocksource" and a number */

struct clocksource {
	struct procfile available, current;
};

struct time_state {
	char dir[PATH_MAX];
	struct clocksource cs[MAX_CLOCKSOURCES];
	size_t n_cs;
};

static void time_close_clocksources(struct time_state *s)
{
	for (size_t i = 0; i < s->n_cs; i++) {
		procfile_close(&s->cs[i].available);
		procfile_close(&s->cs[i].current);
	}
	s->n_cs = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* True for "clocksource" followed by at least one digit. */
static bool is_clocksource_dir(const char *name)
{
	const char *p = name + strlen("clocksource");
	uint64_t id;
	return strncmp(name, "clocksource", strlen("clocksource")) == 0 &&
	       parse_u64(p, strlen(p), &id);
}

/* Finds the clocksourceN directories.  Clocksource devices are registered at boot
 * and never go away, so this runs at init and again only while none was found. */
static void time_scan_clocksources(struct time_state *s)
{
	char names[MAX_CLOCKSOURCES][CS_NAME_MAX];
	size_t n = 0;
	char ebuf[256];
	DIR *d = opendir(s->dir);
	if (!d)
		return;
	struct dirent *e;
	while (n < MAX_CLOCKSOURCES && (e = readdir(d)) != NULL)
		if (is_clocksource_dir(e->d_name) && strlen(e->d_name) < CS_NAME_MAX)
			memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
	closedir(d);
	qsort(names, n, sizeof names[0], name_cmp);
	for (size_t i = 0; i < n; i++) {
		char rel[CS_NAME_MAX + 32];
		struct clocksource *cs = &s->cs[s->n_cs];
		snprintf(rel, sizeof rel, "%.31s/available_clocksource", names[i]);
		if (procfile_init(&cs->available, s->dir, rel, ebuf, sizeof ebuf) != 0)
			continue;
		snprintf(rel, sizeof rel, "%.31s/current_clocksource", names[i]);
		if (procfile_init(&cs->current, s->dir, rel, ebuf, sizeof ebuf) != 0)
			continue;
		s->n_cs++;
	}
}

static void time_fini(void *state)
{
	struct time_state *s = state;
	if (!s)
		return;
	time_close_clocksources(s);
	free(s);
}

static int time_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct time_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int n = snprintf(s->dir, sizeof s->dir, "%s/devices/system/clocksource", env->sysfs);
	if (n < 0 || (size_t)n >= sizeof s->dir) {
		snprintf(err, errlen, "path %s/devices/system/clocksource is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	tzset();
	time_scan_clocksources(s);
	*state = s;
	return 0;
}

static int time_emit_clock(struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "time_zone" };
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		int e = errno;
		snprintf(err, errlen, "clock_gettime(CLOCK_REALTIME) failed: %s", strerror(e));
		return -e;
	}
	int rc = emit_single(b, "node_time_seconds", "System time in seconds since epoch (1970).",
			     METRIC_GAUGE, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, err,
			     errlen);
	if (rc || localtime_r(&ts.tv_sec, &tm) == NULL)
		return rc;
	const char *values[] = { tm.tm_zone ? tm.tm_zone : "" };
	rc = batch_family(b, "node_time_zone_offset_seconds", "System time zone offset in seconds.",
			  METRIC_GAUGE, err, errlen);
	if (rc == 0)
		rc = batch_add(b, names, values, 1, (double)tm.tm_gmtoff, err, errlen);
	return rc;
}

/* Starts a family on its first series, so a host without clocksources shows none. */
static int cs_add(struct batch *b, const char *family, const char *help, bool *started,
		  const char *clocksource, size_t device, char *err, size_t errlen)
{
	static const char *const names[] = { "clocksource", "device" };
	char dev[24];
	const char *values[] = { clocksource, fmt_uint(dev, sizeof dev, device) };

	if (!*started) {
		int rc = batch_family(b, family, help, METRIC_GAUGE, err, errlen);
		if (rc)
			return rc;
		*started = true;
	}
	int rc = batch_add(b, names, values, 2, 1.0, err, errlen);
	/* A name listed twice, or one the metric rules refuse, is skipped. */
	return rc == -EEXIST || rc == -EINVAL ? 0 : rc;
}

/* Copies word w[0..n) into buf (NUL-terminated); false when it does not fit. */
static bool word_copy(char *buf, size_t len, const char *w, size_t n)
{
	if (n >= len)
		return false;
	memcpy(buf, w, n);
	buf[n] = '\0';
	return true;
}

static int time_emit_available(struct time_state *s, struct batch *b, char *err, size_t errlen)
{
	bool started = false;
	char ebuf[256], name[256];

	for (size_t i = 0; i < s->n_cs; i++) {
		struct procfile *f = &s->cs[i].available;
		if (procfile_read(f, ebuf, sizeof ebuf) != 0)
			continue;
		struct scan text = scan_text(f->buf, f->len), line;
		if (!scan_line(&text, &line))
			continue;
		const char *w;
		size_t n;
		while (scan_word(&line, &w, &n)) {
			if (!word_copy(name, sizeof name, w, n))
				continue;
			int rc = cs_add(b, "node_time_clocksource_available_info",
					"Available clocksources read from "
					"'/sys/devices/system/clocksource'.",
					&started, name, i, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int time_emit_current(struct time_state *s, struct batch *b, char *err, size_t errlen)
{
	bool started = false;
	char ebuf[256], name[256];

	for (size_t i = 0; i < s->n_cs; i++) {
		struct procfile *f = &s->cs[i].current;
		if (procfile_read(f, ebuf, sizeof ebuf) != 0)
			continue;
		struct scan text = scan_text(f->buf, f->len), line;
		const char *w;
		size_t n;
		if (!scan_line(&text, &line) || !scan_word(&line, &w, &n) ||
		    !word_copy(name, sizeof name, w, n))
			continue;
		int rc = cs_add(b, "node_time_clocksource_current_info",
				"Current clocksource read from '/sys/devices/system/clocksource'.",
				&started, name, i, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int time_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct time_state *s = state;

	if (s->n_cs == 0)
		time_scan_clocksources(s);
	int rc = time_emit_clock(b, err, errlen);
	if (rc == 0)
		rc = time_emit_available(s, b, err, errlen);
	if (rc == 0)
		rc = time_emit_current(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_time_ops = {
	.init = time_init,
	.collect = time_collect,
	.fini = time_fini,
};
