/* Building the children's command lines. */
#include "child_argv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

void child_argv_free(struct child_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof *a);
}

__attribute__((format(printf, 2, 3))) static int push(struct child_argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->argc == CHILD_ARGV_MAX)
		return -E2BIG;
	if (a->argc + 1 >= a->cap) { /* room for one more and the NULL */
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **grown = realloc(a->argv, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		a->argv = grown;
		a->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

static int push_arg(void *ctx, const char *arg)
{
	return push(ctx, "%s", arg);
}

/* The settings of role (settings.def), after the job's own arguments. */
static int push_settings(struct child_argv *a, const struct shm_config *c, unsigned role)
{
	return settings_argv(&c->set, role, push_arg, a);
}

/* push() results are OR-ed: any failure leaves a negative value, and the argv is
 * freed as a whole, so which one failed does not matter beyond the message. */
static int finish(struct child_argv *a, int rc, char *err, size_t errlen)
{
	if (rc == 0)
		return 0;
	child_argv_free(a);
	snprintf(err, errlen, "building a command line: %s",
		 rc == -E2BIG ? "too many arguments" : "out of memory");
	return rc == -E2BIG ? -E2BIG : -ENOMEM;
}

/* "command": the configured words as they are (no shell). */
static int push_words(struct child_argv *a, const struct custom_collector_config *cc)
{
	const char *w = cc->args;
	int rc = 0;

	for (uint32_t i = 0; i < cc->argc; i++, w += strlen(w) + 1)
		rc |= push(a, "%s", w);
	return rc;
}

/* "exec": a collector process that runs the words each interval (docs/processes.md). */
static int push_exec(struct child_argv *a, const char *program, const struct shm_config *c,
		     const struct collector_config *col, const struct custom_collector_config *cc)
{
	char interval[32], timeout[32];
	const char *w = cc->args;
	int rc = 0;

	config_format_duration_ms(col->interval_ms, interval, sizeof interval);
	config_format_duration_ms(cc->timeout_ms < col->interval_ms ? cc->timeout_ms
								    : col->interval_ms,
				  timeout, sizeof timeout);
	rc |= push(a, "%s", program);
	rc |= push(a, "--collector=%s", col->name);
	rc |= push(a, "--interval=%s", interval);
	rc |= push(a, "--exec.timeout=%s", timeout);
	if (!cc->sandbox)
		rc |= push(a, "--exec.sandbox=false");
	for (uint32_t i = 0; i < cc->argc; i++, w += strlen(w) + 1)
		rc |= push(a, i == 0 ? "--exec.command=%s" : "--exec.arg=%s", w);
	rc |= push_settings(a, c, R_COLLECTOR);
	return rc;
}

/* A custom collector; an "external" one has no process (argc 0). */
static int custom_argv(struct child_argv *a, const char *program, const struct shm_config *c,
		       const struct collector_config *col, const struct custom_collector_config *cc,
		       char *err, size_t errlen)
{
	int rc = 0;

	if (cc->kind == CUSTOM_COMMAND)
		rc = push_words(a, cc);
	else if (cc->kind == CUSTOM_EXEC)
		rc = push_exec(a, program, c, col, cc);
	return finish(a, rc, err, errlen);
}

bool member_set_has(const struct member_set *m, size_t i)
{
	return i < 64 * (sizeof m->w / sizeof m->w[0]) && (m->w[i / 64] >> (i % 64)) & 1;
}

bool member_set_empty(const struct member_set *m)
{
	for (size_t k = 0; k < sizeof m->w / sizeof m->w[0]; k++)
		if (m->w[k])
			return false;
	return true;
}

unsigned member_set_count(const struct member_set *m)
{
	unsigned n = 0;
	for (size_t k = 0; k < sizeof m->w / sizeof m->w[0]; k++)
		for (uint64_t w = m->w[k]; w; w &= w - 1)
			n++;
	return n;
}

bool child_in_group(const struct collector_config *col)
{
	return col->enabled && !col->isolated && config_is_builtin_collector(col->name);
}

struct member_set child_group_members(const struct shm_config *c)
{
	struct member_set members = { { 0 } };

	for (size_t i = 0; config_builtin_collectors[i]; i++) {
		const struct collector_config *col =
		    config_find_collector((struct shm_config *)c, config_builtin_collectors[i]);
		if (col && child_in_group(col))
			members.w[i / 64] |= UINT64_C(1) << (i % 64);
	}
	return members;
}

static int push_run(struct child_argv *a, const struct collector_config *col)
{
	char interval[32];

	config_format_duration_ms(col->interval_ms, interval, sizeof interval);
	return push(a, "--run=%s:%s", col->name, interval);
}

static int push_options(struct child_argv *a, const struct shm_config *c, const char *name)
{
	int rc = 0;

	for (size_t i = 0; i < c->n_options; i++)
		if (strcmp(c->options[i].collector, name) == 0)
			rc |= push(a, "--collector.%s.%s=%s", name, c->options[i].key,
				   c->options[i].value);
	return rc;
}

/* The built-in collectors cols[0..n) in one process. */
static int builtin_argv(struct child_argv *a, const char *program, const struct shm_config *c,
			const struct collector_config *const *cols, size_t n, char *err,
			size_t errlen)
{
	int rc = push(a, "%s", program);

	for (size_t i = 0; i < n; i++)
		rc |= push_run(a, cols[i]);
	for (size_t i = 0; i < n; i++)
		rc |= push_options(a, c, cols[i]->name);
	rc |= push_settings(a, c, R_COLLECTOR);
	return finish(a, rc, err, errlen);
}

int child_argv_group(struct child_argv *a, const char *program, const struct shm_config *c,
		     char *err, size_t errlen)
{
	const struct collector_config *cols[CONFIG_MAX_COLLECTORS];
	size_t n = 0;

	memset(a, 0, sizeof *a);
	for (size_t i = 0; i < c->n_collectors; i++)
		if (child_in_group(&c->collectors[i]))
			cols[n++] = &c->collectors[i];
	return builtin_argv(a, program, c, cols, n, err, errlen);
}

int child_argv_collector(struct child_argv *a, const char *program, const struct shm_config *c,
			 const struct collector_config *col, char *err, size_t errlen)
{
	const struct custom_collector_config *cc = config_find_custom(c, col->name);

	memset(a, 0, sizeof *a);
	if (cc != NULL)
		return custom_argv(a, program, c, col, cc, err, errlen);
	return builtin_argv(a, program, c, &col, 1, err, errlen);
}

/* The exporter's segments.max_series: the largest segment the agent creates is
 * what it accepts (a custom collector may have a larger max_series of its own);
 * its limits follow from this, never from a segment (docs/security.md). */
static uint32_t reader_max_series(const struct shm_config *c)
{
	uint32_t max = c->set.max_series;

	for (size_t i = 0; i < c->n_custom; i++)
		if (c->custom[i].max_series > max)
			max = c->custom[i].max_series;
	return max;
}

int child_argv_exporter(struct child_argv *a, const char *program, const struct shm_config *c,
			char *err, size_t errlen)
{
	struct settings set = c->set; /* a shallow copy, to change a number */
	int rc = 0;

	memset(a, 0, sizeof *a);
	set.max_series = reader_max_series(c);
	rc |= push(a, "%s", program);
	for (size_t i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].enabled)
			rc |= push(a, "--collector=%s", c->collectors[i].name);
	rc |= push(a, "--collector=%s", AGENT_SEGMENT_COLLECTOR);
	if (config_rw_count(c))
		rc |= push(a, "--collector=%s", SHIPPER_NAME);
	rc |= settings_argv(&set, R_EXPORTER, push_arg, a);
	return finish(a, rc, err, errlen);
}

bool child_argv_equal(const struct child_argv *a, const struct child_argv *b)
{
	if (a->argc != b->argc)
		return false;
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return false;
	return true;
}

/* ---- the shipper ---- */

/* "--remote-write.NAME=VALUE" when the value is not empty. */
static int push_rw(struct child_argv *a, const struct remote_write_set *s, const char *name,
		   uint32_t off)
{
	const char *v = config_rw_str(s, off);

	return *v ? push(a, "--remote-write.%s=%s", name, v) : 0;
}

static int push_rw_duration(struct child_argv *a, const char *name, uint32_t ms)
{
	char d[32];

	config_format_duration_ms(ms, d, sizeof d);
	return push(a, "--remote-write.%s=%s", name, d);
}

static bool has_own_label(const struct remote_write_set *s, const struct remote_write_config *ep,
			  const char *name)
{
	for (uint32_t i = 0; i < ep->n_ext; i++)
		if (strcmp(config_rw_str(s, ep->ext_name[i]), name) == 0)
			return true;
	return false;
}

static int push_rw_lists(struct child_argv *a, const struct remote_write_set *s,
			 const struct remote_write_config *ep)
{
	int rc = 0;

	for (uint32_t i = 0; i < ep->n_headers; i++)
		rc |= push(a, "--remote-write.header=%s: %s", config_rw_str(s, ep->header_name[i]),
			   config_rw_str(s, ep->header_value[i]));
	for (uint32_t i = 0; i < ep->n_ext; i++)
		rc |= push(a, "--remote-write.external-label=%s=%s",
			   config_rw_str(s, ep->ext_name[i]), config_rw_str(s, ep->ext_value[i]));
	for (uint32_t i = 0; i < s->n_ext_all; i++)
		if (!has_own_label(s, ep, config_rw_str(s, s->ext_all_name[i])))
			rc |= push(a, "--remote-write.external-label=%s=%s",
				   config_rw_str(s, s->ext_all_name[i]),
				   config_rw_str(s, s->ext_all_value[i]));
	for (uint32_t i = 0; i < ep->n_relabel; i++)
		rc |= push(a, "--remote-write.write-relabel=%s:%s",
			   ep->relabel_keep[i] ? "keep" : "drop",
			   config_rw_str(s, ep->relabel_regex[i]));
	return rc;
}

/* One endpoint: its URL, then everything that applies to it. */
static int push_endpoint(struct child_argv *a, const struct remote_write_set *s,
			 const struct remote_write_config *ep)
{
	int rc = push_rw(a, s, "url", ep->url);

	rc |= push_rw(a, s, "basic-auth.username", ep->username);
	rc |= push_rw(a, s, "basic-auth.password-file", ep->password_file);
	rc |= push_rw(a, s, "bearer-token-file", ep->bearer_token_file);
	rc |= push_rw(a, s, "tls.ca-file", ep->ca_file);
	rc |= push_rw(a, s, "tls.cert-file", ep->cert_file);
	rc |= push_rw(a, s, "tls.key-file", ep->key_file);
	rc |= push_rw(a, s, "tls.server-name", ep->server_name);
	if (ep->insecure_skip_verify)
		rc |= push(a, "--remote-write.tls.insecure-skip-verify");
	rc |= push_rw_lists(a, s, ep);
	rc |= push(a, "--remote-write.queue.max-bytes=%" PRIu64, ep->max_bytes);
	rc |= push_rw_duration(a, "queue.max-age", ep->max_age_ms);
	rc |= push(a, "--remote-write.queue.batch-max-samples=%" PRIu32, ep->batch_max_samples);
	rc |= push_rw_duration(a, "queue.batch-deadline", ep->batch_deadline_ms);
	rc |= push_rw_duration(a, "queue.min-backoff", ep->min_backoff_ms);
	rc |= push_rw_duration(a, "queue.max-backoff", ep->max_backoff_ms);
	rc |= push_rw_duration(a, "timeout", ep->timeout_ms);
	return rc;
}

int child_argv_shipper(struct child_argv *a, const char *program, const struct shm_config *c,
		       char *err, size_t errlen)
{
	struct settings set = c->set; /* a shallow copy, to change a number */
	int rc = 0;

	(void)err, (void)errlen;
	memset(a, 0, sizeof *a);
	set.max_series = reader_max_series(c); /* it reads what the exporter reads */
	rc |= push(a, "%s", program);
	for (size_t i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].enabled)
			rc |= push(a, "--collector=%s", c->collectors[i].name);
	rc |= push(a, "--collector=%s", AGENT_SEGMENT_COLLECTOR);
	rc |= push(a, "--collector=%s", SHIPPER_NAME);
	rc |= push(a, "--self-segment=%s", SHIPPER_NAME);
	for (size_t i = 0; i < config_rw_count(c); i++)
		rc |= push_endpoint(a, c->rw, &c->rw->ep[i]);
	rc |= settings_argv(&set, R_SHIPPER, push_arg, a);
	return finish(a, rc, err, errlen);
}
