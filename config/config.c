/*
 * config.c - a configuration as a whole: the defaults, copying and comparing,
 * the collector options it sets.  Loading JSON is in load.c, command-line flags
 * in flags.c, the settings themselves in settings.c.
 */
#include "config_internal.h"

#include "array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collector_config *config_add_collector(struct shm_config *c, bool *full)
{
	*full = c->n_collectors >= CONFIG_MAX_COLLECTORS;
	if (*full || array_reserve(&c->collectors, &c->cap_collectors, c->n_collectors + 1,
				   sizeof *c->collectors) < 0)
		return NULL;
	struct collector_config *cc = &c->collectors[c->n_collectors++];
	memset(cc, 0, sizeof *cc);
	return cc;
}

struct custom_collector_config *config_add_custom(struct shm_config *c, bool *full)
{
	*full = c->n_custom >= CONFIG_MAX_CUSTOM;
	if (*full ||
	    array_reserve(&c->custom, &c->cap_custom, c->n_custom + 1, sizeof *c->custom) < 0)
		return NULL;
	struct custom_collector_config *cc = &c->custom[c->n_custom++];
	memset(cc, 0, sizeof *cc);
	return cc;
}

int config_set_source(struct shm_config *c, const char *source)
{
	char *copy = strdup(source);

	if (!copy)
		return -ENOMEM;
	free(c->source);
	c->source = copy;
	return 0;
}

int config_init(struct shm_config *c)
{
	bool full;

	memset(c, 0, sizeof *c);
	if (settings_init(&c->set) < 0 || config_set_source(c, "<embedded default>") < 0)
		goto nomem;
	for (size_t k = 0; config_builtin_collectors[k]; k++) {
		struct collector_config *cc = config_add_collector(c, &full);
		if (!cc)
			goto nomem;
		snprintf(cc->name, sizeof cc->name, "%s", config_builtin_collectors[k]);
		cc->enabled = config_builtin_default_enabled(cc->name);
		cc->interval_ms = c->set.interval_ms;
	}
	return 0;
nomem:
	config_free(c);
	return -ENOMEM;
}

static void custom_free(struct custom_collector_config *cc)
{
	free(cc->args);
	free(cc->env);
}

void config_free(struct shm_config *c)
{
	settings_free(&c->set);
	for (size_t i = 0; i < c->n_options; i++)
		free(c->options[i].value);
	for (size_t i = 0; i < c->n_custom; i++)
		custom_free(&c->custom[i]);
	free(c->options);
	free(c->custom);
	free(c->collectors);
	free(c->source);
	free(c->rw);
	memset(c, 0, sizeof *c);
}

static void *dup_mem(const void *p, size_t n, bool *failed)
{
	void *q = n ? malloc(n) : NULL;

	if (n && !q)
		*failed = true;
	else if (n)
		memcpy(q, p, n);
	return q;
}

/* The arrays of src into dst, each element's owned memory copied too. */
static bool copy_arrays(struct shm_config *dst, const struct shm_config *src)
{
	bool failed = false;

	dst->collectors = dup_mem(src->collectors, src->n_collectors * sizeof *src->collectors,
				  &failed);
	dst->options = dup_mem(src->options, src->n_options * sizeof *src->options, &failed);
	dst->custom = dup_mem(src->custom, src->n_custom * sizeof *src->custom, &failed);
	dst->cap_collectors = dst->collectors ? src->n_collectors : 0;
	dst->cap_options = dst->n_options = dst->options ? src->n_options : 0;
	dst->cap_custom = dst->n_custom = dst->custom ? src->n_custom : 0;
	for (size_t i = 0; i < dst->n_options; i++) {
		const char *v = src->options[i].value;
		dst->options[i].value = dup_mem(v, strlen(v) + 1, &failed);
	}
	for (size_t i = 0; i < dst->n_custom; i++) {
		const struct custom_collector_config *x = &src->custom[i];
		dst->custom[i].args = dup_mem(x->args, x->args_len, &failed);
		dst->custom[i].env = dup_mem(x->env, x->env_len, &failed);
	}
	return !failed;
}

int config_copy(struct shm_config *dst, const struct shm_config *src)
{
	struct shm_config tmp;

	memset(&tmp, 0, sizeof tmp);
	tmp.n_collectors = src->n_collectors;
	bool failed = false;
	tmp.rw = src->rw ? dup_mem(src->rw, sizeof *src->rw, &failed) : NULL;
	bool ok = !failed && settings_copy(&tmp.set, &src->set) == 0 &&
		  config_set_source(&tmp, src->source ? src->source : "") == 0 &&
		  copy_arrays(&tmp, src);
	if (!ok) {
		config_free(&tmp);
		return -ENOMEM;
	}
	config_free(dst);
	*dst = tmp;
	return 0;
}

static bool same_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool custom_equal(const struct custom_collector_config *x,
			 const struct custom_collector_config *y)
{
	return strcmp(x->name, y->name) == 0 && x->kind == y->kind &&
	       x->interval_ms == y->interval_ms && x->timeout_ms == y->timeout_ms &&
	       x->max_series == y->max_series && strcmp(x->user, y->user) == 0 &&
	       strcmp(x->group, y->group) == 0 && x->mode == y->mode && x->argc == y->argc &&
	       x->envc == y->envc && same_bytes(x->args, x->args_len, y->args, y->args_len) &&
	       same_bytes(x->env, x->env_len, y->env, y->env_len);
}

static bool option_equal(const struct collector_option *x, const struct collector_option *y)
{
	return strcmp(x->collector, y->collector) == 0 && strcmp(x->key, y->key) == 0 &&
	       strcmp(x->value, y->value) == 0;
}

bool config_equal(const struct shm_config *a, const struct shm_config *b)
{
	if (!settings_equal(&a->set, &b->set, SETTINGS_ALL) || a->n_collectors != b->n_collectors ||
	    a->n_options != b->n_options || a->n_custom != b->n_custom)
		return false;
	for (size_t i = 0; i < a->n_collectors; i++) {
		const struct collector_config *x = &a->collectors[i], *y = &b->collectors[i];
		if (strcmp(x->name, y->name) != 0 || x->enabled != y->enabled ||
		    x->interval_ms != y->interval_ms || x->isolated != y->isolated)
			return false;
	}
	for (size_t i = 0; i < a->n_options; i++)
		if (!option_equal(&a->options[i], &b->options[i]))
			return false;
	for (size_t i = 0; i < a->n_custom; i++)
		if (!custom_equal(&a->custom[i], &b->custom[i]))
			return false;
	return !config_remote_write_changed(a, b);
}

static const struct collector_config *find_const(const struct shm_config *c, const char *name)
{
	for (size_t k = 0; k < c->n_collectors; k++)
		if (strcmp(c->collectors[k].name, name) == 0)
			return &c->collectors[k];
	return NULL;
}

struct collector_config *config_find_collector(struct shm_config *c, const char *name)
{
	return (struct collector_config *)find_const(c, name);
}

static bool collector_enabled(const struct shm_config *c, const char *name)
{
	const struct collector_config *cc = find_const(c, name);
	return cc && cc->enabled;
}

/* True when some collector is enabled in a but not in b. */
static bool enabled_set_grew(const struct shm_config *a, const struct shm_config *b)
{
	for (size_t k = 0; k < a->n_collectors; k++)
		if (a->collectors[k].enabled && !collector_enabled(b, a->collectors[k].name))
			return true;
	return false;
}

/* Everything the exporter's command line says: its settings and which
 * collectors it serves. */
static bool exporter_changed(const struct shm_config *a, const struct shm_config *b)
{
	return !settings_equal(&a->set, &b->set, R_EXPORTER) || enabled_set_grew(a, b) ||
	       enabled_set_grew(b, a);
}

/* What every collector process depends on: its settings (where it reads, its
 * log level), the segment it writes (named by the instance, created with the
 * segment settings). */
static bool shared_changed(const struct shm_config *a, const struct shm_config *b)
{
	static const enum setting_id segment_settings[] = { SETTING_instance, SETTING_segment_mode,
							    SETTING_segment_group,
							    SETTING_max_series };

	if (!settings_equal(&a->set, &b->set, R_COLLECTOR))
		return true;
	for (size_t i = 0; i < sizeof segment_settings / sizeof segment_settings[0]; i++)
		if (!setting_equal(&a->set, &b->set, &setting_defs[segment_settings[i]]))
			return true;
	return false;
}

bool config_collector_changed(const struct shm_config *a, const struct shm_config *b,
			      const char *name)
{
	if (strcmp(name, "exporter") == 0)
		return exporter_changed(a, b);
	const struct collector_config *ca = find_const(a, name), *cb = find_const(b, name);
	if (!ca || !cb)
		return ca != cb;
	if (!ca->enabled && !cb->enabled)
		return false;
	return ca->enabled != cb->enabled || ca->interval_ms != cb->interval_ms ||
	       ca->isolated != cb->isolated || config_options_differ(a, b, name) ||
	       shared_changed(a, b) || config_custom_differs(a, b, name);
}

/* ---- collector options set in a configuration ---- */

static struct collector_option *find_set(const struct shm_config *c, const char *collector,
					 const char *key)
{
	for (size_t i = 0; i < c->n_options; i++) {
		const struct collector_option *o = &c->options[i];
		if (strcmp(o->collector, collector) == 0 && strcmp(o->key, key) == 0)
			return (struct collector_option *)o;
	}
	return NULL;
}

static void unset(struct shm_config *c, struct collector_option *o)
{
	size_t i = (size_t)(o - c->options);
	free(o->value);
	memmove(o, o + 1, (c->n_options - i - 1) * sizeof *o);
	c->n_options--;
}

int config_set_collector_option(struct shm_config *c, const char *collector, const char *key,
				const char *value, char *err, size_t errlen)
{
	const struct collector_option_def *d = config_option_def(collector, key);
	if (d == NULL) {
		snprintf(err, errlen, "collector %.60s has no option \"%.60s\"", collector, key);
		return -EINVAL;
	}
	int rc = config_check_option_value(d, value, err, errlen);
	if (rc < 0)
		return rc;
	/* An alias sets the option it stands for: from here on, the canonical names. */
	collector = d->collector;
	key = d->key;
	struct collector_option *o = find_set(c, collector, key);
	/* Only values that differ from the default are kept (and passed on). */
	if (strcmp(value, d->default_value) == 0) {
		if (o != NULL)
			unset(c, o);
		return 0;
	}
	char *copy = strdup(value);
	if (!copy || (!o && array_reserve(&c->options, &c->cap_options, c->n_options + 1,
					  sizeof *c->options) < 0)) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (o == NULL) {
		if (c->n_options == CONFIG_MAX_OPTIONS) {
			free(copy);
			snprintf(err, errlen, "more than %d collector options are set",
				 CONFIG_MAX_OPTIONS);
			return -ENOSPC;
		}
		o = &c->options[c->n_options++];
		memset(o, 0, sizeof *o);
		snprintf(o->collector, sizeof o->collector, "%s", collector);
		snprintf(o->key, sizeof o->key, "%s", key);
	}
	free(o->value);
	o->value = copy;
	return 0;
}

int config_set_collector_option_flag(struct shm_config *c, const char *collector, const char *key,
				     const char *value, char *err, size_t errlen)
{
	const struct collector_option_def *d = config_option_def(collector, key);
	if (d != NULL) { /* an alias: the option it stands for */
		collector = d->collector;
		key = d->key;
	}
	struct collector_option *o = find_set(c, collector, key);
	char joined[CONFIG_OPTION_VALUE_MAX];
	if (d && d->type == OPTION_LIST && o && o->from_flag && value[0] != '\0') {
		int n = snprintf(joined, sizeof joined, "%s\n%s", o->value, value);
		if (n < 0 || (size_t)n >= sizeof joined) {
			snprintf(err, errlen, "the entries together are longer than %d bytes",
				 CONFIG_OPTION_VALUE_MAX - 1);
			return -EINVAL;
		}
		value = joined;
	}
	int rc = config_set_collector_option(c, collector, key, value, err, errlen);
	o = rc == 0 ? find_set(c, collector, key) : NULL;
	if (o)
		o->from_flag = true;
	return rc;
}

const char *config_collector_option(const struct shm_config *c, const char *collector,
				    const char *key)
{
	const struct collector_option_def *d = config_option_def(collector, key);
	if (d == NULL)
		return NULL;
	const struct collector_option *o = find_set(c, d->collector, d->key);
	return o != NULL ? o->value : d->default_value;
}

bool config_options_differ(const struct shm_config *a, const struct shm_config *b,
			   const char *collector)
{
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++)
		if (strcmp(d->collector, collector) == 0 &&
		    strcmp(config_collector_option(a, collector, d->key),
			   config_collector_option(b, collector, d->key)) != 0)
			return true;
	return false;
}
