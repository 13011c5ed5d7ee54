/*
 * options.c - collector options: the table from collectors/options.def and the
 * check of a value by its type (settings.h).  The values a configuration sets
 * are in config.c.
 */
#include "settings.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#define COLLECTOR_OPTION(col, key, type, def, help) { #col, key, OPTION_##type, def, help },
#define COLLECTOR_OPTION_ALIAS(col, key, target_col, target_key)
const struct collector_option_def config_option_defs[] = {
#include "options.def"
	{ NULL, NULL, OPTION_STRING, NULL, NULL },
};
#undef COLLECTOR_OPTION
#undef COLLECTOR_OPTION_ALIAS

#define COLLECTOR_OPTION(col, key, type, def, help)
#define COLLECTOR_OPTION_ALIAS(col, key, target_col, target_key) \
	{ #col, key, #target_col, target_key },
const struct collector_option_alias config_option_aliases[] = {
#include "options.def"
	{ NULL, NULL, NULL, NULL },
};
#undef COLLECTOR_OPTION
#undef COLLECTOR_OPTION_ALIAS

static const struct collector_option_def *find_def(const char *collector, const char *key)
{
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++)
		if (strcmp(d->collector, collector) == 0 && strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

const struct collector_option_def *config_option_def(const char *collector, const char *key)
{
	const struct collector_option_def *d = find_def(collector, key);
	if (d != NULL)
		return d;
	for (const struct collector_option_alias *a = config_option_aliases; a->collector; a++)
		if (strcmp(a->collector, collector) == 0 && strcmp(a->key, key) == 0)
			return find_def(a->target_collector, a->target_key);
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
	return config_fail(err, errlen,
			   "\"%.200s\" is not a valid POSIX extended regular expression: %s", value,
			   why);
}

/* Decimal digits only, at most CONFIG_OPTION_UINT_MAX. */
static int check_uint(const char *value, char *err, size_t errlen)
{
	unsigned long n = 0;
	const char *p = value;

	for (; *p >= '0' && *p <= '9' && n <= CONFIG_OPTION_UINT_MAX; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (p != value && *p == '\0' && n <= CONFIG_OPTION_UINT_MAX)
		return 0;
	return config_fail(err, errlen, "expected a whole number from 0 to %d, found \"%.100s\"",
			   CONFIG_OPTION_UINT_MAX, value);
}

int config_check_option_value(const struct collector_option_def *d, const char *value, char *err,
			      size_t errlen)
{
	uint32_t ms;
	bool b;

	if (strlen(value) >= CONFIG_OPTION_VALUE_MAX)
		return config_fail(err, errlen, "value is longer than %d bytes",
				   CONFIG_OPTION_VALUE_MAX - 1);
	switch (d->type) {
	case OPTION_BOOL:
		return config_parse_bool(value, &b, err, errlen);
	case OPTION_REGEX:
		return check_regex(value, err, errlen);
	case OPTION_DURATION:
		return config_parse_duration_ms(value, &ms, err, errlen);
	case OPTION_PATH:
		if (value[0] == '\0' || value[0] == '/')
			return 0;
		return config_fail(err, errlen, "\"%.200s\" is not an absolute path", value);
	case OPTION_UINT:
		return check_uint(value, err, errlen);
	case OPTION_STRING:
	case OPTION_LIST:
		break;
	}
	return 0;
}

size_t config_option_keys(const char *collector, const char **keys, size_t max)
{
	size_t n = 0;
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++)
		if (strcmp(d->collector, collector) == 0 && n < max)
			keys[n++] = d->key;
	return n;
}
