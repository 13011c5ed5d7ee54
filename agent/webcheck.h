/*
 * webcheck.h - the web configuration file (--web.config.file) judged before the
 * exporter is started with it: by `--check-config` and on every reload, with
 * the exporter's own loader, so that the errors are exactly those the exporter
 * would give at start (exporter/webconfig.h).
 */
#ifndef SHMETRICS_AGENT_WEBCHECK_H
#define SHMETRICS_AGENT_WEBCHECK_H

#include <stddef.h>

/*
 * Runs EXPORTER --check-web-config=FILE.  Returns 0 when it accepts the file;
 * -EINVAL with its message ("FILE:LINE:COLUMN: what") in err when it refuses
 * it; another negative errno, with the reason, when it could not be run or did
 * not answer within 10 seconds.
 */
int web_config_check(const char *exporter, const char *file, char *err, size_t errlen);

/* The same with the exporter found beside the running agent (process.h). */
int web_config_check_here(const char *file, char *err, size_t errlen);

#endif
