/*
 * config.c - a configuration as a whole: the defaults, copying and comparing,
 * the collector options it sets.  Loading JSON is in load.c, command-line flags
 * in flags.c, the settings themselves in settings.c.
 */
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int config_init(struct shm_config *c)
{
	memset(c, 0, sizeof *c);
	int rc = settings_init(&c->set);
	if (rc < 0)
		return rc;
	snprintf(c->source, sizeof c->source, "<embedded default>");
	for (size_t k = 0; config_builtin_collectors[k]; k++) {
		struct collector_config *cc = &c->collectors[k];
		snprintf(cc->name, sizeof cc->name, "%s", config_builtin_collectors[k]);
		cc->enabled = config_builtin_default_enabled(cc->name);
		cc->interval_ms = c->set.interval_ms;
		c->n_collectors++;
	}
	return 0;
}

void config_free(struct shm_config *c)
{
	settings_free(&c->set);
	memset(c, 0, sizeof *c);
}

int config_copy(struct shm_config *dst, const struct shm_config *src)
{
	struct settings set = { 0 };
	int rc = settings_copy(&set, &src->set);

	if (rc < 0)
		return rc;
	settings_free(&dst->set);
	memcpy(dst, src, sizeof *dst);
	dst->set = set;
	return 0;
}

bool config_equal(const struct shm_config *a, const struct shm_config *b)
{
	return settings_equal(&a->set, &b->set, SETTINGS_ALL) &&
	       a->n_collectors == b->n_collectors &&
	       memcmp(a->collectors, b->collectors, a->n_collectors * sizeof *a->collectors) == 0 &&
	       a->n_options == b->n_options &&
	       memcmp(a->options, b->options, a->n_options * sizeof *a->options) == 0 &&
	       a->n_custom == b->n_custom &&
	       memcmp(a->custom, b->custom, a->n_custom * sizeof *a->custom) == 0;
}

static const struct collector_config *find_const(const struct shm_config *c, const char *name)
{
	for (size_t k = 0; k < c->n_collectors && k < CONFIG_MAX_COLLECTORS; k++)
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
	for (size_t k = 0; k < a->n_collectors && k < CONFIG_MAX_COLLECTORS; k++)
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
	struct collector_option *o = find_set(c, collector, key);
	/* Only values that differ from the default are kept (and passed on). */
	if (strcmp(value, d->default_value) == 0) {
		if (o != NULL)
			unset(c, o);
		return 0;
	}
	if (o == NULL) {
		if (c->n_options == CONFIG_MAX_OPTIONS) {
			snprintf(err, errlen, "more than %d collector options are set",
				 CONFIG_MAX_OPTIONS);
			return -ENOSPC;
		}
		o = &c->options[c->n_options++];
		snprintf(o->collector, sizeof o->collector, "%s", collector);
		snprintf(o->key, sizeof o->key, "%s", key);
		o->from_flag = false;
	}
	snprintf(o->value, sizeof o->value, "%s", value);
	return 0;
}

int config_set_collector_option_flag(struct shm_config *c, const char *collector, const char *key,
				     const char *value, char *err, size_t errlen)
{
	const struct collector_option_def *d = config_option_def(collector, key);
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
	const struct collector_option *o = find_set(c, collector, key);
	if (o != NULL)
		return o->value;
	const struct collector_option_def *d = config_option_def(collector, key);
	return d ? d->default_value : NULL;
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
