/*
 * options.c - collector options: the table from collectors/options.def, value
 * checks by type, and the set values a configuration carries.
 */
#include "config_internal.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#define COLLECTOR_OPTION(col, key, type, def, help) { #col, key, OPTION_##type, def, help },
const struct collector_option_def config_option_defs[] = {
#include "options.def"
	{ NULL, NULL, OPTION_STRING, NULL, NULL },
};
#undef COLLECTOR_OPTION

const struct collector_option_def *config_option_def(const char *collector, const char *key)
{
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++)
		if (strcmp(d->collector, collector) == 0 && strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

static int check_regex(const char *value, char *err, size_t errlen)
{
	regex_t re;
	char why[200];
	int rc = regcomp(&re, value, REG_EXTENDED | REG_NOSUB);
	if (rc == 0) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, why, sizeof why);
	snprintf(err, errlen, "\"%.200s\" is not a valid POSIX extended regular expression: %s",
		 value, why);
	return -EINVAL;
}

int config_check_option_value(const struct collector_option_def *d, const char *value, char *err,
			      size_t errlen)
{
	uint32_t ms;

	if (strlen(value) >= CONFIG_OPTION_VALUE_MAX) {
		snprintf(err, errlen, "value is longer than %d bytes", CONFIG_OPTION_VALUE_MAX - 1);
		return -EINVAL;
	}
	switch (d->type) {
	case OPTION_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
			return 0;
		snprintf(err, errlen, "expected true or false, found \"%.100s\"", value);
		return -EINVAL;
	case OPTION_REGEX:
		return check_regex(value, err, errlen);
	case OPTION_DURATION:
		return config_parse_duration_ms(value, &ms, err, errlen);
	case OPTION_PATH:
		if (value[0] == '\0' || value[0] == '/')
			return 0;
		snprintf(err, errlen, "\"%.200s\" is not an absolute path", value);
		return -EINVAL;
	case OPTION_STRING:
	case OPTION_LIST:
		break;
	}
	return 0;
}

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

size_t config_option_keys(const char *collector, const char **keys, size_t max)
{
	size_t n = 0;
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++)
		if (strcmp(d->collector, collector) == 0 && n < max)
			keys[n++] = d->key;
	return n;
}
