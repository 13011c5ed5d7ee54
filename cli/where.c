/*
 * Where the CLI finds a collector's segment: in the agent's private directory
 * (segdir.h), or, inside a "command" collector's sandbox, through the
 * descriptor the agent handed the plugin ($SHMETRICS_SEGMENT_FD).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "segment.h"

/* The plugin's own segment: asked for by its name, or with no --collector. */
static int plugin_fd(const char *collector)
{
	const char *fd = getenv("SHMETRICS_SEGMENT_FD"), *own = getenv("SHMETRICS_COLLECTOR");
	char *end;

	if (fd == NULL || *fd == '\0' || (collector && (!own || strcmp(collector, own) != 0)))
		return -1;
	long n = strtol(fd, &end, 10);
	return *end == '\0' && n >= 0 && n < 65536 && fcntl((int)n, F_GETFD) >= 0 ? (int)n : -1;
}

int cli_where_find(struct cli_where *w, const char *instance, const char *collector,
		   const char *base)
{
	char found[PATH_MAX], err[PATH_MAX + 400];

	memset(w, 0, sizeof *w);
	w->dir.fd = -1;
	w->fd = plugin_fd(collector);
	w->collector = collector ? collector : getenv("SHMETRICS_COLLECTOR");
	if (w->fd >= 0) {
		snprintf(w->what, sizeof w->what, "the segment of collector %s (descriptor %d)",
			 w->collector ? w->collector : "?", w->fd);
		return CLI_OK;
	}
	if (collector == NULL) {
		cli_error("--collector is required (outside a \"command\" collector's sandbox)");
		return CLI_USAGE;
	}
	if (base == NULL && segdir_find_base(instance, found, sizeof found, err, sizeof err) < 0) {
		cli_error("%s", err);
		return CLI_NO_COLLECTOR;
	}
	if (segdir_open(&w->dir, base ? base : found, instance, (uid_t)-1, err, sizeof err) < 0) {
		cli_error("%s", err);
		return errno == EACCES ? CLI_NO_PERMISSION : CLI_NO_COLLECTOR;
	}
	snprintf(w->what, sizeof w->what, "segment %s/%s" SEGDIR_SUFFIX, w->dir.path, collector);
	return CLI_OK;
}

void cli_where_close(struct cli_where *w)
{
	segdir_close(&w->dir);
}

int cli_open_reader(struct seg_reader **r, const struct cli_where *w)
{
	struct seg_read_limits lim;
	char err[PATH_MAX + 400];

	seg_read_limits_for(CLI_READ_MAX_SERIES, &lim);
	int rc = w->fd >= 0 ? seg_reader_open_fd(r, w->fd, w->what, &lim, err, sizeof err)
			    : seg_reader_open(r, &w->dir, w->collector, &lim, err, sizeof err);
	if (rc == -ENOENT) {
		cli_error("collector %s does not exist in %s; declare it in custom_collectors "
			  "(is the agent running?)",
			  w->collector, w->dir.path);
		return CLI_NO_COLLECTOR;
	}
	if (rc == -EACCES) {
		cli_error("%s: segments are readable by their owner and group; ask for the "
			  "collector's \"group\" in custom_collectors, or join it",
			  err);
		return CLI_NO_PERMISSION;
	}
	if (rc < 0) {
		cli_error("%s", err);
		return CLI_FAILED;
	}
	return CLI_OK;
}

/* A descriptor of the segment of its own (flock belongs to an open file
 * description: an inherited one is shared with every process that inherited
 * it, so it is reopened through /proc). */
static int open_own(const struct cli_where *w, int flags)
{
	char self[64], err[PATH_MAX + 400];

	if (w->fd < 0)
		return segdir_open_segment(&w->dir, w->collector, flags, NULL, err, sizeof err);
	snprintf(self, sizeof self, "/proc/self/fd/%d", w->fd);
	int fd = open(self, flags | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int cli_lock_segment(const struct cli_where *w)
{
	int fd = open_own(w, O_RDWR);

	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	return fd;
}
