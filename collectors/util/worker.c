#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	int refs;          /* the collector's and the thread's */
	bool busy, quit;
	worker_fn fn;
	void *ctx;
	void (*ctx_free)(void *ctx);
};

/* Drops a reference with mu held; the last one frees everything. */
static void unref_unlock(struct worker *w)
{
	bool last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (!last)
		return;
	if (w->ctx_free)
		w->ctx_free(w->ctx);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		/* ctx is the worker's while busy: the collector does not touch it. */
		pthread_mutex_unlock(&w->mu);
		w->fn(w->ctx);
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
		if (w->quit)
			break;
	}
	unref_unlock(w);
	return NULL;
}

int worker_start(struct worker **out, worker_fn fn, void *ctx, void (*ctx_free)(void *ctx),
		 char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof *w);
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t thread;
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->refs = 2;
	w->fn = fn;
	w->ctx = ctx;
	w->ctx_free = ctx_free;
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &ta, worker_main, w);
	pthread_attr_destroy(&ta);
	if (rc) {
		snprintf(err, errlen, "pthread_create failed: %s", strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -rc;
	}
	*out = w;
	return 0;
}

int worker_run(struct worker *w, uint64_t timeout_ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + (timeout_ms % 1000u) * 1000000u;
	until.tv_sec += (time_t)(timeout_ms / 1000u + ns / 1000000000u);
	until.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&w->mu);
	if (w->busy) {
		pthread_mutex_unlock(&w->mu);
		return -EBUSY;
	}
	w->busy = true;
	pthread_cond_broadcast(&w->cv);
	while (w->busy && rc == 0)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
	rc = w->busy ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void worker_stop(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	unref_unlock(w);
}
