#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum log_level log_threshold = LOG_LEVEL_INFO;
static char log_tag[80] = "shmetrics";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *tag, enum log_level threshold)
{
	snprintf(log_tag, sizeof log_tag, "%s", tag);
	log_threshold = threshold;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void log_write(enum log_level level, int with_errno, const char *fmt, ...)
{
	int saved_errno = errno;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* The whole line goes out in one write so that lines from the agent and its
	 * children, which share stderr, never interleave. */
	char out[1400];
	if (with_errno)
		snprintf(out, sizeof out, "%s: %s: %s: %s\n", log_tag, level_names[level], line,
			 strerror(saved_errno));
	else
		snprintf(out, sizeof out, "%s: %s: %s\n", log_tag, level_names[level], line);
	fputs(out, stderr);
	errno = saved_errno;
}
