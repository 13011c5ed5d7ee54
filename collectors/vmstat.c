/*
 * vmstat - the fields of PROCFS/vmstat selected by --collector.vmstat.fields, one
 * untyped family each (node_vmstat_<field>), as node_exporter has them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "filter.h"
#include "procfile.h"
#include "scan.h"

struct vmstat_state {
	struct procfile file;
	struct optregex fields;
	char name[METRIC_NAME_MAX + 1];
	char help[METRIC_HELP_MAX + 1];
};

static void vmstat_fini(void *state)
{
	struct vmstat_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	optregex_fini(&s->fields);
	free(s);
}

static int vmstat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct vmstat_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "vmstat", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->fields, env, "fields", err, errlen);
	if (rc) {
		vmstat_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* "pgfault 123" -> name, help and value when the field is selected. */
static bool vmstat_parse(struct vmstat_state *s, struct scan line, double *v)
{
	const char *key, *num, *extra;
	size_t klen, nlen, elen;

	if (!scan_word(&line, &key, &klen) || !scan_word(&line, &num, &nlen) ||
	    scan_word(&line, &extra, &elen) || !parse_double(num, nlen, v))
		return false;
	if (!optregex_match(&s->fields, key, klen))
		return false;
	int n = snprintf(s->name, sizeof s->name, "node_vmstat_%.*s", (int)klen, key);
	if (n < 0 || (size_t)n >= sizeof s->name)
		return false;
	snprintf(s->help, sizeof s->help, "/proc/vmstat information field %.*s.", (int)klen, key);
	return true;
}

static bool vmstat_line(void *ctx, struct scan line, const char **name, const char **help,
			double *value)
{
	struct vmstat_state *s = ctx;
	*name = s->name;
	*help = s->help;
	return vmstat_parse(s, line, value);
}

static int vmstat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct vmstat_state *s = state;
	return emit_line_families(&s->file, vmstat_line, s, METRIC_UNTYPED, b, err, errlen);
}

const struct collector_ops collector_vmstat_ops = {
	.init = vmstat_init,
	.collect = vmstat_collect,
	.fini = vmstat_fini,
};
