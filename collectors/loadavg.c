/*
 * loadavg - node_load1, node_load5, node_load15 from PROCFS/loadavg.
 */
#include <errno.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

static const struct {
	const char *name;
	const char *help;
} loads[3] = {
	{ "node_load1", "1m load average." },
	{ "node_load5", "5m load average." },
	{ "node_load15", "15m load average." },
};

static int loadavg_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "loadavg", err, errlen);
}

/* "0.71 0.26 0.11 1/87 4610": a field that does not parse is left out. */
static int loadavg_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	int rc = procfile_read(file, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	struct scan text = scan_text(file->buf, file->len), line;
	if (!scan_line(&text, &line))
		return 0;
	for (int i = 0; i < 3; i++) {
		const char *w;
		size_t n;
		double v;
		if (!scan_word(&line, &w, &n))
			break;
		if (!parse_double(w, n, &v))
			continue;
		rc = emit_single(b, loads[i].name, loads[i].help, METRIC_GAUGE, v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

const struct collector_ops collector_loadavg_ops = {
	.init = loadavg_init,
	.collect = loadavg_collect,
	.fini = procfile_free,
};
