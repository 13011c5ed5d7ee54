/*
 * meminfo - one gauge per field of PROCFS/meminfo, named as node_exporter names
 * them: "Active(anon):  123 kB" becomes node_memory_Active_anon_bytes = 123*1024,
 * and a field without a unit ("HugePages_Total:  0") keeps its value and gets no
 * _bytes suffix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

#define MEMINFO_PREFIX "node_memory_"

struct meminfo_state {
	struct procfile file;
	char name[METRIC_NAME_MAX + 1];
	char help[METRIC_HELP_MAX + 1];
};

static int meminfo_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct meminfo_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "meminfo", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

/*
 * Writes key into out with everything from the first '(' to the last ')' turned
 * into '_' + what was inside ("Active(anon)" -> "Active_anon").  False if it does
 * not fit.
 */
static bool meminfo_key(const char *key, size_t n, char *out, size_t outlen)
{
	const char *open = memchr(key, '(', n);
	const char *close = NULL;
	for (const char *p = key + n; open && p > open; p--)
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	int len;
	if (open && close)
		len = snprintf(out, outlen, "%.*s_%.*s%.*s", (int)(open - key), key,
			       (int)(close - open - 1), open + 1, (int)(key + n - close - 1),
			       close + 1);
	else
		len = snprintf(out, outlen, "%.*s", (int)n, key);
	return len >= 0 && (size_t)len < outlen;
}

/*
 * Parses "Key:  value [kB]" into the metric name, help and value.  False for a
 * line that is not of that shape: it is skipped.
 */
static bool meminfo_parse(struct meminfo_state *s, struct scan line, double *value)
{
	const char *key, *num, *unit;
	size_t keylen, numlen, unitlen;
	uint64_t v;
	char field[METRIC_NAME_MAX + 1];

	if (!scan_word(&line, &key, &keylen) || keylen < 2 || key[keylen - 1] != ':')
		return false;
	if (!scan_word(&line, &num, &numlen) || !parse_u64(num, numlen, &v))
		return false;
	bool has_unit = scan_word(&line, &unit, &unitlen);
	if (has_unit && !word_is(unit, unitlen, "kB"))
		return false;
	if (!meminfo_key(key, keylen - 1, field, sizeof field))
		return false;
	int n = snprintf(s->name, sizeof s->name, MEMINFO_PREFIX "%s%s", field,
			 has_unit ? "_bytes" : "");
	if (n < 0 || (size_t)n >= sizeof s->name)
		return false;
	snprintf(s->help, sizeof s->help, "Memory information field %s.",
		 s->name + strlen(MEMINFO_PREFIX));
	*value = has_unit ? (double)v * 1024.0 : (double)v;
	return true;
}

static bool meminfo_line(void *ctx, struct scan line, const char **name, const char **help,
			 double *value)
{
	struct meminfo_state *s = ctx;
	*name = s->name;
	*help = s->help;
	return meminfo_parse(s, line, value);
}

static int meminfo_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct meminfo_state *s = state;
	return emit_line_families(&s->file, meminfo_line, s, METRIC_GAUGE, b, err, errlen);
}

static void meminfo_fini(void *state)
{
	struct meminfo_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	free(s);
}

const struct collector_ops collector_meminfo_ops = {
	.init = meminfo_init,
	.collect = meminfo_collect,
	.fini = meminfo_fini,
};
