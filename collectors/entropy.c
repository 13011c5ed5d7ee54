/*
 * entropy - node_entropy_available_bits and node_entropy_pool_size_bits from
 * PROCFS/sys/kernel/random/{entropy_avail,poolsize}.  Since Linux 5.18 both are
 * fixed at 256, but dashboards still chart them.
 */
#include <errno.h>
#include <stdlib.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

static const struct {
	const char *file, *name, *help;
} entropy_files[] = {
	{ "sys/kernel/random/entropy_avail", "node_entropy_available_bits",
	  "Bits of available entropy." },
	{ "sys/kernel/random/poolsize", "node_entropy_pool_size_bits", "Bits of entropy pool." },
};

#define N_ENTROPY (sizeof entropy_files / sizeof entropy_files[0])

struct entropy_state {
	struct procfile files[N_ENTROPY];
};

static void entropy_fini(void *state)
{
	struct entropy_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < N_ENTROPY; i++)
		procfile_close(&s->files[i]);
	free(s);
}

static int entropy_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct entropy_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < N_ENTROPY; i++) {
		int rc = procfile_init(&s->files[i], env->procfs, entropy_files[i].file, err,
				       errlen);
		if (rc) {
			entropy_fini(s);
			return rc;
		}
	}
	*state = s;
	return 0;
}

/* Each file is one number; a missing or garbled one leaves its metric out. */
static int entropy_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct entropy_state *s = state;

	for (size_t i = 0; i < N_ENTROPY; i++) {
		struct procfile *f = &s->files[i];
		int rc = procfile_read(f, err, errlen);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		struct scan text = scan_text(f->buf, f->len), line;
		const char *w;
		size_t n;
		uint64_t v;
		if (!scan_line(&text, &line) || !scan_word(&line, &w, &n) || !parse_u64(w, n, &v) ||
		    scan_word(&line, &w, &n))
			continue;
		rc = emit_single(b, entropy_files[i].name, entropy_files[i].help, METRIC_GAUGE,
				 (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

const struct collector_ops collector_entropy_ops = {
	.init = entropy_init,
	.collect = entropy_collect,
	.fini = entropy_fini,
};
