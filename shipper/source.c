/* Reading one collector's segment (source.h). */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct source {
	char shm_name[SEGMENT_NAME_MAX + 1];
	struct seg_reader *reader;
	uint64_t opens;
};

int source_new(struct source **out, const char *instance, const char *collector, char *err,
	       size_t errlen)
{
	struct source *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = segment_name(s->shm_name, sizeof s->shm_name, instance, collector, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
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
	if (!s->reader) {
		int rc = seg_reader_open(&s->reader, s->shm_name, err, errlen);
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

uint64_t source_opens(const struct source *s)
{
	return s->opens;
}
