/*
 * log.h - one tagged line per event, to stderr (journald adds the timestamps).
 *
 * Only process-level code logs; library code fills error buffers instead.
 * The tag is set once per process: "agent", "exporter", "collector/cpu".
 */
#ifndef SHMETRICS_LOG_H
#define SHMETRICS_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

extern enum log_level log_threshold;

void log_init(const char *tag, enum log_level threshold);

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *s);

void log_write(enum log_level level, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The level is checked before the arguments are evaluated. */
#define log_error(...) log_emit(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warnx(...) log_emit(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, 1, __VA_ARGS__) /* appends strerror(errno) */
#define log_info(...)  log_emit(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_emit(level, with_errno, ...)                               \
	do {                                                           \
		if ((level) <= log_threshold)                          \
			log_write((level), (with_errno), __VA_ARGS__); \
	} while (0)

#endif
