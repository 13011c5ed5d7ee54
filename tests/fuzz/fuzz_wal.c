/*
 * fuzz_wal - libFuzzer harness: opening a remote-write queue directory whose
 * files are anything (a crash mid-write, a full disk, a file edited by hand).
 *
 * The input is one queue directory: its first byte says how many of the next
 * bytes are the ack file (0: no ack file, as after a crash before the first
 * acknowledgement), the rest is the first segment file, 0000000000000000.q.
 * wal_open must repair or refuse it without any out-of-bounds access; what it
 * keeps is then read record by record as the sender does, acknowledged, and
 * appended to, so that the state a repair leaves behind is used as well.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

/* A directory of our own (removed at exit), emptied before every input. */
static int fresh_dir(void)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "%s/fuzz-wal-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(remove_dir);
	}
	empty_dir();
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void put(int dfd, const char *name, const uint8_t *p, size_t n)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

/* Every record from the acknowledged position on, as the sender reads them. */
static void read_all(struct wal *w)
{
	char err[300];
	struct wal_record_info info;
	uint64_t pos = wal_acked(w), samples = 0;
	int rc;

	while ((rc = wal_peek(w, pos, &info, err, sizeof err)) == 0) {
		void *buf = malloc(info.payload_len ? info.payload_len : 1);
		if (buf == NULL)
			abort();
		rc = wal_read(w, &info, buf, err, sizeof err);
		free(buf);
		if (rc < 0)
			break;
		samples += info.n_samples;
		pos = info.next;
	}
	if (rc == -EPROTO)
		pos = wal_acked(w);
	wal_ack(w, pos, samples, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wal_limits lim = { .max_bytes = 4 * WAL_MIN_MAX_BYTES };
	struct wal_repair rep;
	struct wal_drop drop;
	struct wal *w;
	char err[300];
	int dfd = fresh_dir();

	if (dfd < 0)
		abort();
	size_t ack = size > 0 ? data[0] % 64 : 0;
	if (ack > 0 && 1 + ack <= size)
		put(dfd, "ack", data + 1, ack);
	size_t skip = size > 0 ? (1 + ack <= size ? 1 + ack : size) : 0;
	put(dfd, "0000000000000000.q", data + skip, size - skip);
	if (wal_open(&w, dfd, &lim, &rep, err, sizeof err) == 0) {
		wal_take_resend(w);
		read_all(w);
		wal_append(w, "fuzz", 1, 2, 1, "x", 1, &drop, err, sizeof err);
		read_all(w);
		wal_take_repairs(w, &rep);
		wal_close(w);
	}
	close(dfd);
	return 0;
}
