/*
 * filefd - node_filefd_allocated and node_filefd_maximum from
 * PROCFS/sys/fs/file-nr ("allocated  unused  maximum", tab-separated).
 */
#include <errno.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

static int filefd_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "sys/fs/file-nr", err, errlen);
}

/* The second column (free handles, always 0 since Linux 2.6) is not reported,
 * as in node_exporter.  A column that does not parse is left out. */
static int filefd_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const struct {
		int column;
		const char *name, *help;
	} cols[] = {
		{ 0, "node_filefd_allocated", "File descriptor statistics: allocated." },
		{ 2, "node_filefd_maximum", "File descriptor statistics: maximum." },
	};
	struct procfile *file = state;
	uint64_t v[3];
	bool ok[3] = { false, false, false };

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
		if (!scan_word(&line, &w, &n))
			break;
		ok[i] = parse_u64(w, n, &v[i]);
	}
	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++)
		if (ok[cols[i].column])
			rc = emit_single(b, cols[i].name, cols[i].help, METRIC_GAUGE,
					 (double)v[cols[i].column], err, errlen);
	return rc;
}

const struct collector_ops collector_filefd_ops = {
	.init = filefd_init,
	.collect = filefd_collect,
	.fini = procfile_free,
};
