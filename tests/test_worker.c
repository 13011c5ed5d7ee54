/*
 * test_worker.c - collectors/util/worker.h: a job on a thread of its own,
 * waited for with a deadline.  The jobs here block on a gate the test opens, so
 * the outcomes do not depend on how fast the machine is.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "worker.h"

struct gated {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
	atomic_int runs;
	atomic_int *freed; /* set by gated_free: outlives the context */
};

static void gated_fn(void *ctx)
{
	struct gated *g = ctx;
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	atomic_fetch_add_explicit(&g->runs, 1, memory_order_relaxed);
}

static void gated_free(void *ctx)
{
	struct gated *g = ctx;
	atomic_store_explicit(g->freed, 1, memory_order_release);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static struct gated *gated_new(bool open, atomic_int *freed)
{
	struct gated *g = calloc(1, sizeof *g);
	assert_non_null(g);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->open = open;
	g->freed = freed;
	return g;
}

static void gate_open(struct gated *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Waits (up to 10 s) for the worker to have freed its context: after that the
 * worker no longer touches anything of the test's. */
static void wait_freed(atomic_int *freed)
{
	for (int i = 0; i < 1000 && !atomic_load_explicit(freed, memory_order_acquire); i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	assert_int_equal(atomic_load_explicit(freed, memory_order_acquire), 1);
}

/* Once the earlier run has returned (waited for up to 10 s), a new run and its
 * outcome (waited for up to 10 s). */
static int run_when_idle(struct worker *w)
{
	int rc = -EBUSY;
	for (int i = 0; i < 1000 && rc == -EBUSY; i++) {
		rc = worker_run(w, 10000);
		if (rc == -EBUSY)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return rc;
}

static void test_a_run_that_returns_gives_0_and_its_results(void **u)
{
	atomic_int freed = 0;
	struct gated *g = gated_new(true, &freed);
	struct worker *w;
	char err[128];
	(void)u;
	assert_int_equal(worker_start(&w, gated_fn, g, gated_free, err, sizeof err), 0);
	assert_int_equal(worker_run(w, 10000), 0);
	assert_int_equal(worker_run(w, 10000), 0);
	assert_int_equal(atomic_load(&g->runs), 2);
	worker_stop(w);
	wait_freed(&freed);
}

static void test_a_run_that_hangs_times_out_then_says_busy_until_it_returns(void **u)
{
	atomic_int freed = 0;
	struct gated *g = gated_new(false, &freed);
	struct worker *w;
	char err[128];
	(void)u;
	assert_int_equal(worker_start(&w, gated_fn, g, gated_free, err, sizeof err), 0);
	assert_int_equal(worker_run(w, 20), -ETIMEDOUT);
	/* The run goes on: a new one is refused at once rather than waited for. */
	assert_int_equal(worker_run(w, 10000), -EBUSY);
	assert_int_equal(atomic_load(&g->runs), 0);
	gate_open(g);
	assert_int_equal(run_when_idle(w), 0);
	assert_true(atomic_load(&g->runs) >= 1);
	worker_stop(w);
	wait_freed(&freed);
}

static void test_stopping_a_busy_worker_frees_its_context_when_the_run_returns(void **u)
{
	atomic_int freed = 0;
	struct gated *g = gated_new(false, &freed);
	struct worker *w;
	char err[128];
	(void)u;
	assert_int_equal(worker_start(&w, gated_fn, g, gated_free, err, sizeof err), 0);
	assert_int_equal(worker_run(w, 20), -ETIMEDOUT);
	worker_stop(w); /* the collector is gone; the worker still holds g */
	assert_int_equal(atomic_load_explicit(&freed, memory_order_acquire), 0);
	gate_open(g);
	wait_freed(&freed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_run_that_returns_gives_0_and_its_results),
		cmocka_unit_test(test_a_run_that_hangs_times_out_then_says_busy_until_it_returns),
		cmocka_unit_test(
		    test_stopping_a_busy_worker_frees_its_context_when_the_run_returns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
