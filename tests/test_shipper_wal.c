/*
 * The remote-write queue on disk: replay after a restart, acknowledgements,
 * torn and corrupt records cut back, the byte bound, and the batching and
 * eviction rules of the queue on top of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue.h"
#include "wal.h"

struct fixture {
	char dir[64];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_shipper_wal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dirfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->dirfd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct wal *open_wal(struct fixture *f, uint64_t max_bytes, uint64_t file_bytes,
			    struct wal_repair *rep)
{
	struct wal_limits lim = { max_bytes, file_bytes };
	struct wal *w;
	char err[400] = "";

	if (wal_open(&w, f->dirfd, &lim, rep, err, sizeof err) != 0)
		fail_msg("wal_open: %s", err);
	return w;
}

/* Record i: a payload of len bytes, all equal to i, stamped 1000 + i. */
static void append(struct wal *w, int i, size_t len, uint32_t samples, struct wal_drop *drop)
{
	unsigned char payload[8192];
	struct wal_drop ignored;
	char err[400] = "";

	assert_true(len <= sizeof payload);
	memset(payload, i & 0xff, len);
	if (wal_append(w, "cpu", 1000 + i, 1000 + i, samples, payload, len, drop ? drop : &ignored,
		       err, sizeof err) != 0)
		fail_msg("wal_append: %s", err);
}

/* The stamps of every record from the acknowledged position on. */
static size_t read_all(struct wal *w, int64_t *ts, size_t max)
{
	struct wal_record_info info;
	unsigned char buf[8192];
	uint64_t pos = wal_acked(w);
	char err[400];
	size_t n = 0;

	while (n < max && wal_peek(w, pos, &info, err, sizeof err) == 0) {
		assert_true(info.payload_len <= sizeof buf);
		assert_int_equal(wal_read(w, &info, buf, err, sizeof err), 0);
		assert_int_equal(buf[0], (unsigned char)((info.min_ts - 1000) & 0xff));
		assert_string_equal(info.source, "cpu");
		ts[n++] = info.min_ts;
		pos = info.next;
	}
	return n;
}

/* The one queue file with records, whole path into out. */
static void first_file(struct fixture *f, char *out, size_t n)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	char best[64] = "";

	while ((de = readdir(d)))
		if (strstr(de->d_name, ".q") && (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof best, "%.60s", de->d_name);
	closedir(d);
	assert_true(best[0]);
	snprintf(out, n, "%s/%s", f->dir, best);
}

static void test_records_are_replayed_in_order_after_a_restart(void **state)
{
	struct fixture *f = *state;
	struct wal_repair rep;
	int64_t ts[16];
	size_t n;

	struct wal *w = open_wal(f, 1 << 20, 0, &rep);
	for (int i = 0; i < 5; i++)
		append(w, i, 100, 10, NULL);
	assert_int_equal(wal_pending_samples(w), 50);
	wal_close(w); /* as if killed: nothing more was written */
	w = open_wal(f, 1 << 20, 0, &rep);
	assert_int_equal(rep.files, 0);
	assert_false(rep.ack_reset);
	assert_int_equal(wal_pending_samples(w), 50);
	append(w, 5, 100, 10, NULL); /* new data goes after the old */
	n = read_all(w, ts, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ts[i], 1000 + (int64_t)i);
	size_t ns;
	const struct wal_source *src = wal_sources(w, &ns);
	assert_int_equal(ns, 1);
	assert_string_equal(src[0].name, "cpu");
	assert_int_equal(src[0].max_ts, 1004);
	wal_close(w);
}

static void test_acknowledged_records_stay_acknowledged_after_a_restart(void **state)
{
	struct fixture *f = *state;
	struct wal_record_info info;
	struct wal_repair rep;
	char err[400];
	int64_t ts[16];

	struct wal *w = open_wal(f, 1 << 20, 0, &rep);
	for (int i = 0; i < 4; i++)
		append(w, i, 100, 10, NULL);
	assert_int_equal(wal_peek(w, wal_acked(w), &info, err, sizeof err), 0);
	assert_int_equal(wal_peek(w, info.next, &info, err, sizeof err), 0);
	assert_int_equal(wal_ack(w, info.next, 20, err, sizeof err), 0); /* the first two */
	assert_int_equal(wal_pending_samples(w), 20);
	int64_t oldest;
	assert_true(wal_oldest_ts(w, &oldest));
	assert_int_equal(oldest, 1002);
	wal_close(w);
	w = open_wal(f, 1 << 20, 0, &rep);
	assert_int_equal(wal_pending_samples(w), 20);
	assert_int_equal(read_all(w, ts, 16), 2);
	assert_int_equal(ts[0], 1002);
	wal_close(w);
}

static void test_a_torn_last_record_is_cut_and_reported(void **state)
{
	struct fixture *f = *state;
	struct wal_repair rep;
	char path[256];
	int64_t ts[16];
	struct stat st;

	struct wal *w = open_wal(f, 1 << 20, 0, &rep);
	for (int i = 0; i < 3; i++)
		append(w, i, 200, 10, NULL);
	wal_close(w);
	first_file(f, path, sizeof path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 50), 0); /* a crash mid-write */
	w = open_wal(f, 1 << 20, 0, &rep);
	assert_int_equal(rep.files, 1);
	assert_true(rep.bytes > 0);
	assert_non_null(strstr(rep.first, "torn last record"));
	assert_int_equal(read_all(w, ts, 16), 2);
	assert_int_equal(wal_pending_samples(w), 20);
	append(w, 3, 200, 10, NULL); /* shipping goes on */
	assert_int_equal(read_all(w, ts, 16), 3);
	assert_int_equal(ts[2], 1003);
	wal_close(w);
}

static void test_a_bad_crc_cuts_the_file_back_to_its_last_good_record(void **state)
{
	struct fixture *f = *state;
	struct wal_repair rep;
	char path[256];
	int64_t ts[16];

	struct wal *w = open_wal(f, 1 << 20, 0, &rep);
	for (int i = 0; i < 4; i++)
		append(w, i, 100, 10, NULL);
	wal_close(w);
	first_file(f, path, sizeof path);
	int fd = open(path, O_RDWR);
	/* file header 32, records of 32 + "cpu" + 100: flip a byte of record 1 (from 0) */
	assert_int_equal(pwrite(fd, "X", 1, 32 + 135 + 32 + 3 + 50), 1);
	close(fd);
	w = open_wal(f, 1 << 20, 0, &rep);
	assert_int_equal(rep.files, 1);
	assert_int_equal(rep.bytes, 3 * 135); /* records 1 to 3 */
	assert_non_null(strstr(rep.first, "CRC"));
	assert_int_equal(read_all(w, ts, 16), 1);
	assert_int_equal(ts[0], 1000);
	wal_close(w);
}

static void test_garbage_in_the_ack_file_means_everything_is_sent_again(void **state)
{
	struct fixture *f = *state;
	struct wal_record_info info;
	struct wal_repair rep;
	char err[400], path[256];
	int64_t ts[16];

	struct wal *w = open_wal(f, 1 << 20, 0, &rep);
	for (int i = 0; i < 3; i++)
		append(w, i, 100, 10, NULL);
	assert_int_equal(wal_peek(w, wal_acked(w), &info, err, sizeof err), 0);
	assert_int_equal(wal_ack(w, info.next, 10, err, sizeof err), 0);
	wal_close(w);
	snprintf(path, sizeof path, "%s/ack", f->dir);
	FILE *a = fopen(path, "w");
	fputs("not an ack file at all", a);
	fclose(a);
	w = open_wal(f, 1 << 20, 0, &rep);
	assert_true(rep.ack_reset);
	assert_int_equal(read_all(w, ts, 16), 3);
	wal_close(w);
}

static void test_the_bound_drops_the_oldest_files_and_counts_their_samples(void **state)
{
	struct fixture *f = *state;
	struct wal_repair rep;
	struct wal_drop drop;
	uint64_t dropped = 0;
	int64_t ts[512];

	struct wal *w = open_wal(f, 256 << 10, 64 << 10, &rep);
	for (int i = 0; i < 200; i++) {
		append(w, i, 4000, 7, &drop);
		dropped += drop.samples;
		assert_true(wal_bytes(w) <= 256 << 10);
	}
	assert_true(dropped > 0);
	size_t n = read_all(w, ts, 512);
	assert_int_equal(ts[n - 1], 1199);            /* the newest are kept */
	assert_int_equal(ts[0], 1000 + 200 - (int)n); /* the oldest went */
	assert_int_equal(dropped + n * 7, 200 * 7);   /* every sample is somewhere */
	assert_int_equal(wal_pending_samples(w), n * 7);
	wal_close(w);
}

static void test_a_record_larger_than_the_bound_is_refused(void **state)
{
	struct fixture *f = *state;
	struct wal_repair rep;
	struct wal_drop drop;
	char err[400];
	unsigned char *big = calloc(1, 300 << 10);

	struct wal *w = open_wal(f, 256 << 10, 0, &rep);
	assert_int_equal(wal_append(w, "cpu", 1, 1, 1, big, 300 << 10, &drop, err, sizeof err),
			 -E2BIG);
	free(big);
	wal_close(w);
}

/* ---- the queue ---- */

static void queue_append_n(struct queue *q, int first, int n, uint32_t samples, size_t len,
			   int64_t ts)
{
	unsigned char raw[4096], z[8192];
	char err[400];
	uint64_t evicted;

	for (int i = first; i < first + n; i++) {
		size_t zlen = sizeof z;
		memset(raw, i, len);
		assert_int_equal(snappy_compress((char *)raw, len, (char *)z, &zlen), SNAPPY_OK);
		assert_int_equal(queue_append(q, "cpu", ts + i, ts + i, samples, z, zlen, &evicted,
					      err, sizeof err),
				 0);
	}
}

static struct queue *open_queue(struct fixture *f, uint64_t max_bytes, uint32_t max_samples,
				uint64_t max_age_ms)
{
	struct wal_limits lim = { max_bytes, 64 << 10 };
	struct queue_batching b = { max_samples, 60000, max_age_ms };
	struct wal_repair rep;
	struct queue *q;
	char err[400];

	if (queue_open(&q, f->dirfd, &lim, &b, &rep, err, sizeof err) != 0)
		fail_msg("queue_open: %s", err);
	return q;
}

static uint64_t stat_of(_Atomic uint64_t *c)
{
	return atomic_load(c);
}

static void test_a_batch_joins_whole_records_up_to_max_samples(void **state)
{
	struct fixture *f = *state;
	struct queue *q = open_queue(f, 1 << 20, 25, 0);
	struct queue_batch b = { 0 };
	char err[400], rep[300];
	size_t len;

	queue_append_n(q, 0, 5, 10, 500, queue_now_ms() - 100000); /* old: due at once */
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 2);
	assert_int_equal(b.samples, 20);
	assert_int_equal(queue_batch_body(&b, err, sizeof err), 0);
	/* two payloads joined: one body of both, compressed once more */
	assert_int_equal(snappy_uncompressed_length((char *)b.data, b.len, &len), SNAPPY_OK);
	assert_int_equal(len, 1000);
	assert_false(queue_finish(q, &b, QUEUE_SENT));
	assert_int_equal(stat_of(&queue_stats(q)->samples_sent), 20);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.samples, 20);
	assert_true(queue_finish(q, &b, QUEUE_RETRY)); /* to be sent again */
	assert_int_equal(stat_of(&queue_stats(q)->samples_retried), 20);
	assert_false(queue_finish(q, &b, QUEUE_REJECTED));
	assert_int_equal(stat_of(&queue_stats(q)->samples_dropped[DROP_REJECTED]), 20);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 1);
	assert_int_equal(queue_batch_body(&b, err, sizeof err), 0);
	assert_ptr_equal(b.data, b.raw); /* one record goes as stored */
	assert_false(queue_finish(q, &b, QUEUE_SENT));
	struct queue_state st;
	queue_state(q, &st);
	assert_int_equal(st.pending_samples, 0);
	assert_false(st.have_oldest);
	queue_batch_free(&b);
	queue_close(q);
}

static void test_after_a_crash_the_batch_in_flight_is_sent_again_exactly(void **state)
{
	struct fixture *f = *state;
	struct queue *q = open_queue(f, 1 << 20, 25, 0);
	struct queue_batch b = { 0 };
	char err[400], rep[300];
	int64_t old = queue_now_ms() - 100000;

	queue_append_n(q, 0, 3, 10, 200, old);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 2);
	uint64_t from = b.from, to = b.to;
	queue_close(q); /* killed while sending */
	q = open_queue(f, 1 << 20, 100, 0);
	queue_append_n(q, 3, 2, 10, 200, old);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.from, from); /* the same two records, though 100 samples fit */
	assert_int_equal(b.to, to);
	assert_int_equal(b.records, 2);
	assert_false(queue_finish(q, &b, QUEUE_REJECTED)); /* "old samples": they are there */
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 1); /* then batches as usual: the old file's last */
	assert_false(queue_finish(q, &b, QUEUE_SENT));
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 2); /* and the new file's two */
	assert_false(queue_finish(q, &b, QUEUE_SENT));
	queue_batch_free(&b);
	queue_close(q);
}

static void test_records_older_than_max_age_are_dropped_not_sent(void **state)
{
	struct fixture *f = *state;
	struct queue *q = open_queue(f, 1 << 20, 1000, 600000);
	struct queue_batch b = { 0 };
	char err[400], rep[300];
	int64_t now = queue_now_ms();

	queue_append_n(q, 0, 3, 5, 100, now - 3600000);
	queue_append_n(q, 10, 1, 5, 100, now - 120000);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	assert_int_equal(b.records, 1);
	assert_int_equal(b.min_ts, now - 120000 + 10);
	assert_int_equal(stat_of(&queue_stats(q)->samples_dropped[DROP_TOO_OLD]), 15);
	queue_finish(q, &b, QUEUE_SENT);
	queue_batch_free(&b);
	queue_close(q);
}

static void test_an_evicted_batch_in_flight_is_counted_once(void **state)
{
	struct fixture *f = *state;
	struct queue *q = open_queue(f, 256 << 10, 10, 0);
	struct queue_batch b = { 0 };
	char err[400], rep[300];
	int64_t old = queue_now_ms() - 100000;

	queue_append_n(q, 0, 1, 10, 4000, old);
	assert_int_equal(queue_take(q, &b, rep, sizeof rep, err, sizeof err), 1);
	/* while it is being sent, the bound removes its file (random data: no compression) */
	for (int i = 1; i < 200; i++) {
		unsigned char raw[3000], z[4000];
		size_t zlen = sizeof z;
		uint64_t ev;
		for (size_t k = 0; k < sizeof raw; k++)
			raw[k] = (unsigned char)(rand() & 0xff);
		snappy_compress((char *)raw, sizeof raw, (char *)z, &zlen);
		assert_int_equal(queue_append(q, "cpu", old + i, old + i, 10, z, zlen, &ev, err,
					      sizeof err),
				 0);
	}
	uint64_t full = stat_of(&queue_stats(q)->samples_dropped[DROP_QUEUE_FULL]);
	assert_true(full > 0);
	/* the failed send is not retried, and its samples count as dropped now */
	assert_false(queue_finish(q, &b, QUEUE_RETRY));
	assert_int_equal(stat_of(&queue_stats(q)->samples_dropped[DROP_QUEUE_FULL]), full + 10);
	struct queue_state st;
	queue_state(q, &st);
	assert_int_equal(st.pending_samples + full + 10, 200 * 10);
	queue_batch_free(&b);
	queue_close(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_are_replayed_in_order_after_a_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_acknowledged_records_stay_acknowledged_after_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_torn_last_record_is_cut_and_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_bad_crc_cuts_the_file_back_to_its_last_good_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_garbage_in_the_ack_file_means_everything_is_sent_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_bound_drops_the_oldest_files_and_counts_their_samples, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_record_larger_than_the_bound_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_batch_joins_whole_records_up_to_max_samples,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_after_a_crash_the_batch_in_flight_is_sent_again_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_records_older_than_max_age_are_dropped_not_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_evicted_batch_in_flight_is_counted_once,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
