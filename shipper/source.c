/* Reading one collector's segment (source.h). */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct source {
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	const struct segdir *dir;
	const struct seg_read_limits *lim;
	struct seg_reader *reader;
	uint64_t opens;
};

int source_new(struct source **out, const struct segdir *dir, const struct seg_read_limits *lim,
	       const char *collector, char *err, size_t errlen)
{
	char file[SEGMENT_COLLECTOR_MAX + 16];
	struct source *s;

	/* the name is checked here, once, rather than on every open */
	int rc = segdir_file_name(file, sizeof file, collector, err, errlen);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->collector, sizeof s->collector, "%s", collector);
	s->dir = dir;
	s->lim = lim;
	*out = s;
	return 0;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	seg_reader_close(s->reader);
	free(s);
}

static int snapshot_once(struct source *s, struct metrics_view *view, struct seg_info *info,
			 char *err, size_t errlen)
{
	if (s->dir->fd < 0) {
		snprintf(err, errlen, "the segment directory is not there yet");
		return -ENOENT;
	}
	if (!s->reader) {
		int rc = seg_reader_open(&s->reader, s->dir, s->collector, s->lim, err, errlen);
		if (rc < 0) {
			s->reader = NULL;
			return rc;
		}
		s->opens++;
	}
	int rc = seg_reader_snapshot(s->reader, view, info, err, errlen);
	if (rc < 0 && rc != -EAGAIN) {
		seg_reader_close(s->reader);
		s->reader = NULL;
	}
	return rc;
}

int source_snapshot(struct source *s, struct metrics_view *view, struct seg_info *info, char *err,
		    size_t errlen)
{
	int rc = snapshot_once(s, view, info, err, errlen);

	if (rc == -ESTALE) /* replaced by a new segment of the same name */
		rc = snapshot_once(s, view, info, err, errlen);
	return rc;
}

bool source_unchanged(struct source *s)
{
	return s->reader && seg_reader_unchanged(s->reader);
}

uint64_t source_opens(const struct source *s)
{
	return s->opens;
}
