/*
 * metricname.h - turning names found in kernel files into parts of metric and
 * label names, the two ways node_exporter does it.
 */
#ifndef SHMETRICS_METRICNAME_H
#define SHMETRICS_METRICNAME_H

#include <stddef.h>

/*
 * node_exporter's SanitizeMetricName (sysctl names, bcachefs counters): every
 * run of characters outside [A-Za-z0-9_], with the underscores around it,
 * becomes one '_'.  Writes name[0..n) so cleaned into out; -ENAMETOOLONG when
 * it does not fit.
 */
int metric_name_sanitize(char *out, size_t len, const char *name, size_t n);

/*
 * node_exporter's cleanMetricName (hwmon chips, drm chips): lower case, each
 * character outside [a-z0-9:_] becomes '_', and '_' are trimmed from both
 * ends.  Truncates to fit out.
 */
void metric_name_clean(char *out, size_t len, const char *name, size_t n);

#endif
