/*
 * cgroups - the cgroup controllers the kernel knows, from PROCFS/cgroups, as
 * node_exporter's opt-in cgroups collector reports them: node_cgroups_cgroups
 * (the number of cgroups using the controller) and node_cgroups_enabled, each
 * labelled subsys_name.  Columns: subsys_name hierarchy num_cgroups enabled; the
 * '#' header line and short lines are skipped.  (The per-cgroup resource
 * collector is another one, "cgroup".)
 */
#include <errno.h>
#include <string.h>

#include "collector.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

static int cgroups_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "cgroups", err, errlen);
}

/* Column col (2: num_cgroups, 3: enabled) of a controller line. */
static bool cgroups_line(struct scan line, unsigned col, char *name, size_t namelen, uint64_t *out)
{
	const char *w[4];
	size_t n[4];
	for (unsigned i = 0; i < 4; i++)
		if (!scan_word(&line, &w[i], &n[i]))
			return false;
	if (w[0][0] == '#' || n[0] >= namelen || !parse_u64(w[col], n[col], out))
		return false;
	memcpy(name, w[0], n[0]);
	name[n[0]] = '\0';
	return true;
}

static int cgroups_emit(const struct procfile *f, struct lazyfam *fam, unsigned col,
			struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "subsys_name" };
	char name[64];
	const char *values[] = { name };
	struct scan text = scan_text(f->buf, f->len), line;
	int rc = 0;
	uint64_t v;
	while (rc == 0 && scan_line(&text, &line))
		if (cgroups_line(line, col, name, sizeof name, &v))
			rc = lazyfam_add(b, fam, names, values, 1, (double)v, err, errlen);
	return rc;
}

static int cgroups_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *f = state;
	struct lazyfam count = { "node_cgroups_cgroups", "Current cgroup number of the subsystem.",
				 METRIC_GAUGE, false };
	struct lazyfam enabled = { "node_cgroups_enabled",
				   "Whether the cgroup subsystem is enabled (1) or not (0).",
				   METRIC_GAUGE, false };
	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = cgroups_emit(f, &count, 2, b, err, errlen);
	return rc ? rc : cgroups_emit(f, &enabled, 3, b, err, errlen);
}

const struct collector_ops collector_cgroups_ops = {
	.init = cgroups_init,
	.collect = cgroups_collect,
	.fini = procfile_free,
};
