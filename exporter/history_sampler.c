#include "history_sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERIOD_MIN_MS 50u
#define PERIOD_MAX_MS 1000u

struct history_sampler {
	struct scrape *scrape;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

static uint32_t period_ms(struct scrape *s)
{
	uint32_t p = scrape_min_interval_ms(s) / 4;

	if (p == 0 || p > PERIOD_MAX_MS)
		return PERIOD_MAX_MS;
	return p < PERIOD_MIN_MS ? PERIOD_MIN_MS : p;
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *sampler_main(void *arg)
{
	struct history_sampler *hs = arg;
	struct timespec until;

	pthread_mutex_lock(&hs->lock);
	while (!hs->stop) {
		pthread_mutex_unlock(&hs->lock);
		scrape_refresh(hs->scrape);
		deadline_after(&until, period_ms(hs->scrape));
		pthread_mutex_lock(&hs->lock);
		while (!hs->stop &&
		       pthread_cond_timedwait(&hs->wake, &hs->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&hs->lock);
	return NULL;
}

int history_sampler_start(struct history_sampler **out, struct scrape *s, char *err, size_t errlen)
{
	struct history_sampler *hs = calloc(1, sizeof *hs);
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (!hs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hs->scrape = s;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hs->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&hs->thread, NULL, sampler_main, hs);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_create (history sampler) failed: %s", strerror(rc));
		pthread_cond_destroy(&hs->wake);
		pthread_mutex_destroy(&hs->lock);
		free(hs);
		return -rc;
	}
	*out = hs;
	return 0;
}

void history_sampler_stop(struct history_sampler *hs)
{
	if (!hs)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stop = true;
	pthread_cond_signal(&hs->wake);
	pthread_mutex_unlock(&hs->lock);
	pthread_join(hs->thread, NULL);
	pthread_cond_destroy(&hs->wake);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}
