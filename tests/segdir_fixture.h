/*
 * segdir_fixture.h - a private segment directory for a test: BASE is a fresh
 * directory under /tmp (or a parent of the test's choosing), the instance "t".
 * Header-only, for the test binaries.
 */
#ifndef SHMETRICS_TESTS_SEGDIR_FIXTURE_H
#define SHMETRICS_TESTS_SEGDIR_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segdir.h"
#include "segment.h"

#define FIXTURE_INSTANCE "t"

struct segdir_fixture {
	char base[PATH_MAX];
	struct segdir dir;
};

/* 0, or -1 with the reason on stderr. */
static inline int segdir_fixture_make_under(struct segdir_fixture *f, const char *parent)
{
	char err[PATH_MAX + 400];

	snprintf(f->base, sizeof f->base, "%s/shmetrics-test-XXXXXX", parent);
	if (mkdtemp(f->base) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	if (segdir_create(&f->dir, f->base, FIXTURE_INSTANCE, 0751, (gid_t)-1, err, sizeof err) <
	    0) {
		fprintf(stderr, "segdir_create: %s\n", err);
		return -1;
	}
	return 0;
}

static inline int segdir_fixture_make(struct segdir_fixture *f)
{
	return segdir_fixture_make_under(f, "/tmp");
}

/* Removes every file of the instance directory, it and the base. */
static inline void segdir_fixture_free(struct segdir_fixture *f)
{
	char path[PATH_MAX + 300];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof path, "%s/" FIXTURE_INSTANCE, f->base);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	segdir_close(&f->dir);
	rmdir(path);
	rmdir(f->base);
}

/* Options of a test segment: default limits (max_series when not 0), mode 0600. */
static inline struct segment_options segdir_fixture_options(uint32_t max_series,
							    uint32_t interval_ms)
{
	struct segment_options o = { .interval_ms = interval_ms, .mode = 0600, .gid = (gid_t)-1 };
	segment_limits(max_series, &o.limits);
	return o;
}

static struct seg_read_limits segdir_fixture_lim;

static inline void segdir_fixture_limits_init(void)
{
	seg_read_limits_for(10000000u, &segdir_fixture_lim);
	seg_read_limits_workers(&segdir_fixture_lim, SEGMENT_WORKERS_MAX);
}

/* Reader limits that accept any test segment (computed once: the hammer tests
 * call this from several threads). */
static inline const struct seg_read_limits *segdir_fixture_limits(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, segdir_fixture_limits_init);
	return &segdir_fixture_lim;
}

#endif
