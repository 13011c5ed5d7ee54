/*
 * sysctl - chosen kernel parameters from PROCFS/sys/, as node_exporter's opt-in
 * sysctl collector reports them.  Nothing is collected unless asked for:
 *
 *   --collector.sysctl.include=vm.swappiness        node_sysctl_vm_swappiness
 *   --collector.sysctl.include=kernel.sched_domain.x (several values)
 *                                                   node_sysctl_..._x{index="0"}, ...
 *   --collector.sysctl.include=net.ipv4.ip_local_port_range:low,high
 *                                                   node_sysctl_net_ipv4_ip_local_port_range_low
 *   --collector.sysctl.include-info=kernel.core_pattern
 *                                                   node_sysctl_info{name,value,index} 1
 *
 * Both flags repeat (JSON: arrays).  include values must be integers (untyped
 * families, as node_exporter exposes them).  A sysctl that does not exist is a
 * warning; one whose values do not fit what was asked (a non-integer, a key
 * list of the wrong length) fails the collection after the others are
 * reported, with the sysctl named.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "emit.h"
#include "lazyfam.h"
#include "scan.h"
#include "metricname.h"
#include "sysattr.h"

#define SYSCTL_MAX      64
#define SYSCTL_KEYS_MAX 32
#define SYSCTL_NAME_MAX 200

struct sysctl_entry {
	char name[SYSCTL_NAME_MAX];
	char metric[SYSCTL_NAME_MAX + 16];
	char keys[SYSCTL_KEYS_MAX][64];
	size_t n_keys;
	bool numeric;
};

struct sysctl_state {
	char root[PATH_MAX];
	struct sysctl_entry *e;
	size_t n;
	char *buf;
	size_t cap;
};

static void sysctl_fini(void *state)
{
	struct sysctl_state *s = state;
	if (!s)
		return;
	free(s->e);
	free(s->buf);
	free(s);
}

/* "name" or "name:key1,key2". */
static int sysctl_parse(struct sysctl_entry *e, const char *spec, size_t len, bool numeric,
			char *err, size_t errlen)
{
	const char *colon = memchr(spec, ':', len);
	size_t nlen = colon ? (size_t)(colon - spec) : len;
	memset(e, 0, sizeof *e);
	e->numeric = numeric;
	if (nlen == 0 || nlen >= sizeof e->name) {
		snprintf(err, errlen, "sysctl entry %zu bytes long: a name of 1 to %zu bytes", nlen,
			 sizeof e->name - 1);
		return -EINVAL;
	}
	memcpy(e->name, spec, nlen);
	strcpy(e->metric, "node_sysctl_");
	metric_name_sanitize(e->metric + 12, sizeof e->metric - 12, spec, nlen);
	for (const char *k = colon ? colon + 1 : NULL; k && k <= spec + len;) {
		const char *end = memchr(k, ',', (size_t)(spec + len - k));
		size_t klen = end ? (size_t)(end - k) : (size_t)(spec + len - k);
		if (e->n_keys == SYSCTL_KEYS_MAX || klen == 0 || klen >= sizeof e->keys[0]) {
			snprintf(err, errlen, "sysctl %s: keys must be 1 to 63 bytes, at most %d",
				 e->name, SYSCTL_KEYS_MAX);
			return -EINVAL;
		}
		memcpy(e->keys[e->n_keys++], k, klen);
		k = end ? end + 1 : NULL;
	}
	return 0;
}

static int sysctl_option(struct sysctl_state *s, const struct collector_env *env, const char *key,
			 bool numeric, char *err, size_t errlen)
{
	const char *v = collector_option(env, key);
	for (const char *p = v ? v : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0) {
			if (s->n == SYSCTL_MAX) {
				snprintf(err, errlen, "more than %d sysctls", SYSCTL_MAX);
				return -EINVAL;
			}
			int rc = sysctl_parse(&s->e[s->n], p, len, numeric, err, errlen);
			if (rc)
				return rc;
			s->n++;
		}
		p += len + (nl != NULL);
	}
	return 0;
}

static int sysctl_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct sysctl_state *s = calloc(1, sizeof *s);
	if (!s || !(s->e = calloc(SYSCTL_MAX, sizeof *s->e))) {
		free(s);
		return -ENOMEM;
	}
	int rc = 0;
	if (path_fmt(s->root, sizeof s->root, "%s/sys", env->procfs) != 0) {
		snprintf(err, errlen, "path %s/sys is too long", env->procfs);
		rc = -ENAMETOOLONG;
	}
	if (rc == 0)
		rc = sysctl_option(s, env, "include", true, err, errlen);
	if (rc == 0)
		rc = sysctl_option(s, env, "include-info", false, err, errlen);
	if (rc) {
		sysctl_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* Reads the sysctl's values into s->buf; -ENOENT, or the length. */
static long sysctl_read(struct sysctl_state *s, const struct sysctl_entry *e)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", s->root, e->name) != 0)
		return -ENAMETOOLONG;
	for (char *p = path + strlen(s->root) + 1; *p; p++)
		if (*p == '.')
			*p = '/';
	return sysfile_slurp(path, &s->buf, &s->cap);
}

static size_t count_words(struct scan text)
{
	struct scan line;
	const char *w;
	size_t n, count = 0;
	while (scan_line(&text, &line))
		while (scan_word(&line, &w, &n))
			count++;
	return count;
}

/* The i-th word of the values (all lines, in order). */
static bool nth_word(struct scan text, size_t i, const char **w, size_t *n)
{
	struct scan line;
	while (scan_line(&text, &line))
		while (scan_word(&line, w, n))
			if (i-- == 0)
				return true;
	return false;
}

static int sysctl_numeric(const struct sysctl_entry *e, struct scan text, size_t count,
			  struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "index" };
	char help[SYSCTL_NAME_MAX + 64], name[sizeof e->metric + 64], idx[24];
	const char *w;
	size_t n;
	int64_t v;
	if (e->n_keys && count != e->n_keys) {
		snprintf(err, errlen, "sysctl %s has %zu values but %zu keys were given", e->name,
			 count, e->n_keys);
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++)
		if (!nth_word(text, i, &w, &n) || !sysattr_parse_i64(w, n, &v)) {
			snprintf(err, errlen, "sysctl %s: value %zu is not an integer", e->name, i);
			return -EINVAL;
		}
	snprintf(help, sizeof help, "sysctl %s", e->name);
	if (count == 1 || e->n_keys == 0) {
		int rc = batch_family(b, e->metric, help, METRIC_UNTYPED, err, errlen);
		for (size_t i = 0; rc == 0 && i < count; i++) {
			const char *values[] = { fmt_uint(idx, sizeof idx, i) };
			nth_word(text, i, &w, &n);
			sysattr_parse_i64(w, n, &v);
			rc = batch_add(b, names, values, count == 1 ? 0 : 1, (double)v, err,
				       errlen);
		}
		return rc == -EINVAL || rc == -EEXIST ? 0 : rc;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(name, sizeof name, "%s_%s", e->metric, e->keys[i]);
		snprintf(help, sizeof help, "sysctl %s, field %zu", e->name, i);
		nth_word(text, i, &w, &n);
		sysattr_parse_i64(w, n, &v);
		int rc = emit_single(b, name, help, METRIC_UNTYPED, (double)v, err, errlen);
		if (rc && rc != -EINVAL)
			return rc;
	}
	return 0;
}

static int sysctl_info(const struct sysctl_entry *e, struct scan text, size_t count,
		       struct lazyfam *fam, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "name", "value", "index" };
	char value[LABEL_VALUE_MAX], idx[24];
	const char *w;
	size_t n;
	if (e->n_keys) {
		snprintf(err, errlen, "sysctl %s: keys are for include, not include-info", e->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < count && nth_word(text, i, &w, &n); i++) {
		snprintf(value, sizeof value, "%.*s", (int)n, w);
		const char *values[] = { e->name, value, fmt_uint(idx, sizeof idx, i) };
		int rc = lazyfam_add(b, fam, names, values, 3, 1, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reports one sysctl into b; a problem with it is described in msg.  Returns 0,
 * -ENOENT (a warning), or another -errno. */
static int sysctl_one(struct sysctl_state *s, const struct sysctl_entry *e, struct lazyfam *info,
		      struct batch *b, char *msg, size_t msglen)
{
	long len = sysctl_read(s, e);
	if (len == -ENOENT) {
		snprintf(msg, msglen, "sysctl %s does not exist", e->name);
		return -ENOENT;
	}
	if (len < 0) {
		snprintf(msg, msglen, "reading sysctl %s: %s", e->name, strerror((int)-len));
		return (int)len;
	}
	struct scan text = scan_text(s->buf, (size_t)len);
	size_t count = count_words(text);
	if (count == 0) {
		snprintf(msg, msglen, "sysctl %s has no values", e->name);
		return -EINVAL;
	}
	return e->numeric ? sysctl_numeric(e, text, count, b, msg, msglen)
			  : sysctl_info(e, text, count, info, b, msg, msglen);
}

static int sysctl_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct sysctl_state *s = state;
	struct lazyfam info = { "node_sysctl_info", "sysctl info", METRIC_GAUGE, false };
	int result = 0;
	char msg[512];
	/* The numeric ones first, so that node_sysctl_info's series stay together. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < s->n; i++) {
			if (s->e[i].numeric != (pass == 0))
				continue;
			msg[0] = '\0';
			int rc = sysctl_one(s, &s->e[i], &info, b, msg, sizeof msg);
			if (rc == -ENOSPC) { /* the batch is full */
				snprintf(err, errlen, "%s", msg);
				return rc;
			}
			/* Keep the first failure, else the first warning. */
			if (rc && (err[0] == '\0' || (result == 0 && rc != -ENOENT))) {
				snprintf(err, errlen, "%s", msg);
				result = rc == -ENOENT ? 0 : rc;
			}
		}
	return result;
}

const struct collector_ops collector_sysctl_ops = {
	.init = sysctl_init,
	.collect = sysctl_collect,
	.fini = sysctl_fini,
};
