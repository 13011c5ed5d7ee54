/*
 * One collector's segment, as seen by the exporter: open, probe, snapshot,
 * judge up or down.
 *
 * The probe is seg_reader_unchanged: a pread of the header that tells whether
 * the snapshot taken before is still the latest batch.  Only then is the
 * copy-and-validate skipped.  A full read is forced at least once per
 * FULL_CHECK_NS anyway, which bounds how long a replaced segment or a reused
 * writer pid can go unnoticed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "scrape_internal.h"

#define FALLBACK_INTERVAL_MS 5000 /* a segment that states no interval */
#define FULL_CHECK_NS        1000000000ull

uint64_t scrape_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keeps messages printable: they reach logs and JSON, and a corrupt segment's
 * bytes may have found their way into them. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

void collector_init(struct collector_state *c, struct segdir *dir, const char *dir_error,
		    const struct seg_read_limits *limits)
{
	c->dir = dir;
	c->dir_error = dir_error;
	c->limits = limits;
}

void collector_close(struct collector_state *c)
{
	seg_reader_close(c->reader);
	c->reader = NULL;
	c->view_ok = false;
	render_tmpl_free(c->tmpl);
	c->tmpl = NULL;
}

/* True when the snapshot in c is still the segment's latest batch. */
static bool probe_unchanged(const struct collector_state *c, uint64_t mono_now)
{
	return c->view_ok && c->reader && mono_now - c->checked_ns < FULL_CHECK_NS &&
	       seg_reader_unchanged(c->reader);
}

/* ---- the full read ---- */

static int open_and_snapshot(struct collector_state *c, char *err, size_t errlen)
{
	int rc;

	if (c->dir->fd < 0) {
		snprintf(err, errlen, "%s", c->dir_error);
		return -ENOENT;
	}
	if (!c->reader) {
		rc = seg_reader_open(&c->reader, c->dir, c->name, c->limits, err, errlen);
		if (rc < 0) {
			c->reader = NULL;
			return rc;
		}
		c->opens++;
	}
	rc = seg_reader_snapshot(c->reader, &c->view, &c->info, err, errlen);
	if (rc < 0 && rc != -EAGAIN) {
		seg_reader_close(c->reader);
		c->reader = NULL;
	}
	return rc;
}

static void set_down(struct collector_state *c, enum down_reason r, const char *fmt,
		     const char *arg)
{
	c->reason = r;
	snprintf(c->error, sizeof c->error, fmt, arg);
	sanitize(c->error);
}

/* Returns true when a snapshot was taken into c->view / c->info. */
static bool collector_read(struct collector_state *c)
{
	char err[400] = "";
	int rc = open_and_snapshot(c, err, sizeof err);

	if (rc == -ESTALE) /* replaced by a new segment of the same name */
		rc = open_and_snapshot(c, err, sizeof err);
	c->view_ok = rc == 0;
	if (rc == 0)
		return true;
	if (rc == -EAGAIN)
		set_down(c, REASON_BUSY, "busy: the writer kept publishing through every read%s",
			 "");
	else if (rc == -ENOENT)
		set_down(c, REASON_MISSING, "segment missing: %s", err);
	else
		set_down(c, REASON_UNREADABLE, "segment unreadable: %s", err);
	return false;
}

/* ---- the verdict ---- */

static void collector_copy_error(struct collector_state *c)
{
	size_t len;
	const char *e = view_error(&c->view, &len);

	if (len == 0)
		return;
	snprintf(c->error, sizeof c->error, "%.*s", (int)len, e);
	sanitize(c->error);
}

static void collector_judge(struct collector_state *c, uint64_t now, uint32_t staleness)
{
	const struct blob_header *h = &c->view.hdr;
	uint64_t interval_ms = c->info.interval_ms ? c->info.interval_ms : FALLBACK_INTERVAL_MS;
	uint64_t window_ns = staleness * interval_ms * 1000000u;
	char msg[160];

	if (h->publish_time_ns) {
		c->known = true;
		c->publish_ns = h->publish_time_ns;
		c->duration_ns = h->duration_ns;
	}
	/* Writer pid 0 after publishes: a writer that published and left (the CLI),
	 * "no resident writer" in docs/processes.md; judged by publish time alone. */
	bool resident = c->info.writer_pid != 0 || c->info.publishes == 0;
	if (resident && !c->info.writer_alive) {
		snprintf(msg, sizeof msg, "writer (pid %ld) is not running",
			 (long)c->info.writer_pid);
		set_down(c, REASON_NO_WRITER, "%s",
			 c->info.writer_pid ? msg : "no writer attached");
	} else if (h->publish_time_ns == 0) {
		set_down(c, REASON_NEVER_PUBLISHED, "no batch published yet%s", "");
	} else if (now > h->publish_time_ns && now - h->publish_time_ns > window_ns) {
		snprintf(msg, sizeof msg, "stale: last publish %.3fs ago, staleness window %.3fs",
			 (double)(now - h->publish_time_ns) / 1e9, (double)window_ns / 1e9);
		set_down(c, REASON_STALE, "%s", msg);
	} else {
		c->up = true;
		c->success = (h->flags & BLOB_FLAG_SUCCESS) != 0;
		c->series = h->n_series;
		collector_copy_error(c);
	}
}

static void collector_log_change(struct collector_state *c)
{
	if (c->reason == c->logged_reason)
		return;
	if (c->reason == REASON_NONE)
		log_info("collector %s is up", c->name);
	else
		log_warnx("collector %s is down: %s", c->name, c->error);
	c->logged_reason = c->reason;
}

bool collector_refresh(struct collector_state *c, uint64_t now, uint64_t mono_now,
		       uint32_t staleness)
{
	bool was_up = c->up, was_success = c->success;
	enum down_reason was_reason = c->reason;
	bool fresh = false;

	c->up = c->success = false;
	c->reason = REASON_NONE;
	c->error[0] = '\0';
	c->series = 0;
	if (!probe_unchanged(c, mono_now)) {
		c->checked_ns = mono_now;
		fresh = collector_read(c);
	}
	if (c->view_ok)
		collector_judge(c, now, staleness);
	collector_log_change(c);
	return fresh || c->up != was_up || c->success != was_success || c->reason != was_reason;
}
