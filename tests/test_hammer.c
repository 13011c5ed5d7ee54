/*
 * Hammer tests of the latch: readers must only ever see whole batches.
 *
 *  - threads: one writer thread and reader threads in one process, so that
 *    ThreadSanitizer sees every access (run in the SANITIZE=thread build);
 *  - processes: a writer process and reader processes on a real segment;
 *  - kill: a writer SIGKILLed at random moments while readers read.
 *
 * HAMMER_SECONDS (default 2) bounds each test's running time.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hammer.h"
#include "segdir_fixture.h"
#include "segment.h"

static struct segdir_fixture fx;
#define SEG &fx.dir, "h"

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double budget(void)
{
	const char *s = getenv("HAMMER_SECONDS");
	double v = s ? atof(s) : 2.0;
	return v > 0 ? v : 2.0;
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	if (segdir_fixture_make(&fx) < 0)
		return -1;
	struct segment_options opt = segdir_fixture_options(0, 1000);
	if (segment_create(SEG, &opt, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	segdir_fixture_free(&fx);
	return 0;
}

/* Publishes batches 1, 2, 3 ... until *stop (or forever when stop is NULL). */
static uint64_t write_batches(const atomic_bool *stop, uint64_t first)
{
	char err[256];
	struct seg_writer *w;
	if (seg_writer_attach(&w, SEG, err, sizeof err) < 0)
		return 0;
	struct batch *b = batch_new(seg_writer_limits(w));
	uint64_t v = first;
	while (stop == NULL || !atomic_load_explicit(stop, memory_order_relaxed)) {
		if (hammer_fill(b, v, err, sizeof err) < 0 ||
		    seg_writer_publish(w, b, err, sizeof err) < 0)
			break;
		v++;
	}
	batch_free(b);
	seg_writer_detach(w);
	return v;
}

struct read_stats {
	uint64_t reads, busy, torn, backwards;
	uint64_t last;
};

/* Reads until the deadline; counts whole, busy and torn snapshots. */
static void read_batches(struct read_stats *st, double deadline)
{
	char err[256];
	struct seg_reader *r;
	struct metrics_view view;
	if (seg_reader_open(&r, SEG, segdir_fixture_limits(), err, sizeof err) < 0) {
		st->torn++;
		return;
	}
	while (seconds_now() < deadline) {
		uint64_t v;
		int rc = seg_reader_snapshot(r, &view, NULL, err, sizeof err);
		if (rc == -EAGAIN) {
			st->busy++;
			continue;
		}
		if (rc < 0 || hammer_check(&view, &v) < 0) {
			st->torn++;
			continue;
		}
		if (v < st->last)
			st->backwards++;
		st->last = v;
		st->reads++;
	}
	seg_reader_close(r);
}

/* ---- threads ---- */

static atomic_bool stop_writer;

static void *writer_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)write_batches(&stop_writer, 1);
}

struct reader_arg {
	struct read_stats st;
	double deadline;
};

static void *reader_thread(void *arg)
{
	struct reader_arg *ra = arg;
	read_batches(&ra->st, ra->deadline);
	return NULL;
}

static void test_reader_threads_see_old_or_new_batch_never_a_mix(void **state)
{
	(void)state;
	pthread_t wt, rt[3];
	struct reader_arg ra[3];
	void *published;
	double deadline = seconds_now() + budget();

	atomic_store(&stop_writer, false);
	assert_int_equal(pthread_create(&wt, NULL, writer_thread, NULL), 0);
	for (int i = 0; i < 3; i++) {
		memset(&ra[i], 0, sizeof ra[i]);
		ra[i].deadline = deadline;
		assert_int_equal(pthread_create(&rt[i], NULL, reader_thread, &ra[i]), 0);
	}
	uint64_t reads = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(rt[i], NULL);
		assert_int_equal(ra[i].st.torn, 0);
		assert_int_equal(ra[i].st.backwards, 0);
		reads += ra[i].st.reads;
	}
	atomic_store(&stop_writer, true);
	pthread_join(wt, &published);
	printf("threads: %llu whole reads, 0 torn, %llu batches published\n",
	       (unsigned long long)reads, (unsigned long long)(uintptr_t)published);
	assert_true(reads > 0);
	assert_true((uintptr_t)published > 1);
}

/* ---- processes ---- */

static pid_t spawn_writer(uint64_t first)
{
	pid_t pid = fork();
	if (pid == 0) {
		write_batches(NULL, first);
		_exit(1);
	}
	return pid;
}

/* Reader processes report their stats through a shared anonymous mapping. */
static void run_reader_processes(struct read_stats *shared, int n, double deadline)
{
	pid_t pids[8];
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			read_batches(&shared[i], deadline);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

static void test_reader_processes_see_old_or_new_batch_never_a_mix(void **state)
{
	(void)state;
	struct read_stats *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	memset(shared, 0, 4096);

	pid_t writer = spawn_writer(1);
	run_reader_processes(shared, 2, seconds_now() + budget());
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);

	uint64_t reads = shared[0].reads + shared[1].reads;
	printf("processes: %llu whole reads, %llu busy, %llu torn\n", (unsigned long long)reads,
	       (unsigned long long)(shared[0].busy + shared[1].busy),
	       (unsigned long long)(shared[0].torn + shared[1].torn));
	assert_int_equal(shared[0].torn + shared[1].torn, 0);
	assert_int_equal(shared[0].backwards + shared[1].backwards, 0);
	assert_true(reads > 1000);
	munmap(shared, 4096);
}

/* ---- kill ---- */

static void test_writer_killed_mid_publish_leaves_a_whole_batch(void **state)
{
	(void)state;
	char err[256];
	struct seg_reader *r;
	struct metrics_view view;
	struct seg_info info;
	unsigned kills = 0;
	double deadline = seconds_now() + budget();
	uint64_t first = 1;

	srand((unsigned)getpid());
	assert_int_equal(seg_reader_open(&r, SEG, segdir_fixture_limits(), err, sizeof err), 0);
	while (seconds_now() < deadline) {
		pid_t writer = spawn_writer(first);
		usleep((useconds_t)(rand() % 3000));
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
		kills++;

		/* With the writer dead, a read succeeds at once (no retry storm), is
		 * whole, and the writer is reported gone. */
		uint64_t v;
		double t0 = seconds_now();
		assert_int_equal(seg_reader_snapshot(r, &view, &info, err, sizeof err), 0);
		double took = seconds_now() - t0;
		assert_int_equal(hammer_check(&view, &v), 0);
		assert_false(info.writer_alive);
		if (took > 0.1)
			fail_msg("a read after a writer's death took %.3fs", took);
		first = v + 1000;
	}
	seg_reader_close(r);
	printf("kill: %u writers killed mid-stream, every read after each kill whole\n", kills);
	assert_true(kills > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_reader_threads_see_old_or_new_batch_never_a_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reader_processes_see_old_or_new_batch_never_a_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_killed_mid_publish_leaves_a_whole_batch,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("hammer", tests, NULL, NULL);
}
