/*
 * timex - the kernel's NTP state from adjtimex(2) with modes 0 (a read, allowed
 * to any user): offsets, errors, frequency and the PPS counters, scaled as
 * node_exporter scales them.  A kernel that refuses the call (EPERM under some
 * seccomp profiles) gives no metrics and no error, as in node_exporter.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include "collector.h"
#include "emit.h"

/* adjtimex(2), NOTES: freq, ppsfreq and stabil are ppm with a 16-bit fraction. */
#define PPM16FRAC (1000000.0 * 65536.0)
#define MICRO     1e6
#define NANO      1e9

enum timex_metric {
	T_SYNC,
	T_OFFSET,
	T_FREQ,
	T_MAXERROR,
	T_ESTERROR,
	T_STATUS,
	T_CONSTANT,
	T_TICK,
	T_PPSFREQ,
	T_JITTER,
	T_SHIFT,
	T_STABIL,
	T_JITCNT,
	T_CALCNT,
	T_ERRCNT,
	T_STBCNT,
	T_TAI,
	N_TIMEX
};

static const struct {
	const char *name, *help;
	enum metric_type type;
} metrics[N_TIMEX] = {
	[T_SYNC] = { "node_timex_sync_status",
		     "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
		     METRIC_GAUGE },
	[T_OFFSET] = { "node_timex_offset_seconds",
		       "Time offset in between local system and reference clock.", METRIC_GAUGE },
	[T_FREQ] = { "node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.",
		     METRIC_GAUGE },
	[T_MAXERROR] = { "node_timex_maxerror_seconds", "Maximum error in seconds.", METRIC_GAUGE },
	[T_ESTERROR] = { "node_timex_estimated_error_seconds", "Estimated error in seconds.",
			 METRIC_GAUGE },
	[T_STATUS] = { "node_timex_status", "Value of the status array bits.", METRIC_GAUGE },
	[T_CONSTANT] = { "node_timex_loop_time_constant", "Phase-locked loop time constant.",
			 METRIC_GAUGE },
	[T_TICK] = { "node_timex_tick_seconds", "Seconds between clock ticks.", METRIC_GAUGE },
	[T_PPSFREQ] = { "node_timex_pps_frequency_hertz", "Pulse per second frequency.",
			METRIC_GAUGE },
	[T_JITTER] = { "node_timex_pps_jitter_seconds", "Pulse per second jitter.", METRIC_GAUGE },
	[T_SHIFT] = { "node_timex_pps_shift_seconds", "Pulse per second interval duration.",
		      METRIC_GAUGE },
	[T_STABIL] = { "node_timex_pps_stability_hertz",
		       "Pulse per second stability, average of recent frequency changes.",
		       METRIC_GAUGE },
	[T_JITCNT] = { "node_timex_pps_jitter_total",
		       "Pulse per second count of jitter limit exceeded events.", METRIC_COUNTER },
	[T_CALCNT] = { "node_timex_pps_calibration_total",
		       "Pulse per second count of calibration intervals.", METRIC_COUNTER },
	[T_ERRCNT] = { "node_timex_pps_error_total",
		       "Pulse per second count of calibration errors.", METRIC_COUNTER },
	[T_STBCNT] = { "node_timex_pps_stability_exceeded_total",
		       "Pulse per second count of stability limit exceeded events.",
		       METRIC_COUNTER },
	[T_TAI] = { "node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.",
		    METRIC_GAUGE },
};

static int timex_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	(void)env;
	(void)err;
	(void)errlen;
	*state = NULL;
	return 0;
}

/* The values of every metric from one adjtimex() result.  offset and jitter are
 * in nanoseconds when STA_NANO is set, else microseconds; the errors and tick
 * are always microseconds.  shift is the log2 of the PPS interval, reported
 * unconverted under a _seconds name as node_exporter does. */
static void timex_values(const struct timex *t, int clock_state, double *v)
{
	double unit = (t->status & STA_NANO) ? NANO : MICRO;

	v[T_SYNC] = clock_state == TIME_ERROR ? 0.0 : 1.0;
	v[T_OFFSET] = (double)t->offset / unit;
	v[T_FREQ] = 1.0 + (double)t->freq / PPM16FRAC;
	v[T_MAXERROR] = (double)t->maxerror / MICRO;
	v[T_ESTERROR] = (double)t->esterror / MICRO;
	v[T_STATUS] = (double)t->status;
	v[T_CONSTANT] = (double)t->constant;
	v[T_TICK] = (double)t->tick / MICRO;
	v[T_PPSFREQ] = (double)t->ppsfreq / PPM16FRAC;
	v[T_JITTER] = (double)t->jitter / unit;
	v[T_SHIFT] = (double)t->shift;
	v[T_STABIL] = (double)t->stabil / PPM16FRAC;
	v[T_JITCNT] = (double)t->jitcnt;
	v[T_CALCNT] = (double)t->calcnt;
	v[T_ERRCNT] = (double)t->errcnt;
	v[T_STBCNT] = (double)t->stbcnt;
	v[T_TAI] = (double)t->tai;
}

static int timex_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct timex t;
	double v[N_TIMEX];

	(void)state;
	memset(&t, 0, sizeof t); /* modes 0: read only */
	int clock_state = adjtimex(&t);
	if (clock_state < 0) {
		int e = errno;
		if (e == EPERM)
			return 0;
		snprintf(err, errlen, "adjtimex() failed: %s", strerror(e));
		return -e;
	}
	timex_values(&t, clock_state, v);
	int rc = 0;
	for (int i = 0; rc == 0 && i < N_TIMEX; i++)
		rc = emit_single(b, metrics[i].name, metrics[i].help, metrics[i].type, v[i], err,
				 errlen);
	return rc;
}

static void timex_fini(void *state)
{
	(void)state;
}

const struct collector_ops collector_timex_ops = {
	.init = timex_init,
	.collect = timex_collect,
	.fini = timex_fini,
};
