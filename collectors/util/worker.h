/*
 * worker.h - a job run on a thread of its own and waited for with a deadline,
 * for collectors whose calls can hang (a D-Bus peer that never answers): the
 * collector process runs the other collectors too, and they must not wait.
 *
 * The job's context is shared: the collector may read or change it only while
 * the worker is idle, that is after worker_run() returned 0, and before the
 * next worker_run().  After -ETIMEDOUT the worker keeps the context until its
 * run returns; a later worker_run() says -EBUSY until then, and does not wait
 * again.  worker_stop() may be called at any time: when the worker is in a run,
 * the context is freed by the worker when that run returns.
 *
 *   collector                          worker
 *   ---------                          ------
 *   lock; busy = 1; signal             wait until busy or quit
 *   timedwait until !busy or deadline  unlock; fn(ctx); lock
 *   on deadline: -ETIMEDOUT            busy = 0; signal
 *
 * Nothing here logs.
 */
#ifndef SHMETRICS_WORKER_H
#define SHMETRICS_WORKER_H

#include <stddef.h>
#include <stdint.h>

struct worker;

typedef void (*worker_fn)(void *ctx);

/*
 * Starts a thread that will run fn(ctx) each time worker_run() asks; ctx_free
 * releases ctx when the worker is stopped (may be NULL).  0, or -errno with the
 * reason (and ctx untouched: the caller still owns it).
 */
int worker_start(struct worker **w, worker_fn fn, void *ctx, void (*ctx_free)(void *ctx), char *err,
		 size_t errlen);

/* Runs fn once and waits for it at most timeout_ms: 0 when it returned,
 * -ETIMEDOUT when not, -EBUSY when an earlier run has not returned yet. */
int worker_run(struct worker *w, uint64_t timeout_ms);

/* Stops the worker (NULL is fine); ctx is freed now or when the current run ends. */
void worker_stop(struct worker *w);

#endif
