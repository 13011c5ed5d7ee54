#include "filter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

int optregex_init(struct optregex *r, const struct collector_env *env, const char *key,
		  char *err, size_t errlen)
{
	const char *v = collector_option(env, key);
	r->set = false;
	if (v == NULL || v[0] == '\0')
		return 0;
	int rc = regcomp(&r->re, v, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];
		regerror(rc, &r->re, why, sizeof why);
		snprintf(err, errlen, "--collector.%s.%s=\"%.200s\": %s", env->name, key, v, why);
		return -EINVAL;
	}
	r->set = true;
	return 0;
}

bool optregex_match(const struct optregex *r, const char *s, size_t n)
{
	if (!r->set)
		return false;
	/* REG_STARTEND bounds the subject without copying it. */
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)n };
	return regexec(&r->re, s, 1, &m, REG_STARTEND) == 0;
}

void optregex_fini(struct optregex *r)
{
	if (r->set)
		regfree(&r->re);
	r->set = false;
}

static bool option_is_default(const struct collector_env *env, const char *key)
{
	const struct collector_option_def *d = config_option_def(env->name, key);
	const char *v = collector_option(env, key);
	return d && v && strcmp(v, d->default_value) == 0;
}

int devfilter_init(struct devfilter *f, const struct collector_env *env, char *err,
		   size_t errlen)
{
	const char *inc = collector_option(env, "device-include");
	bool has_inc = inc && inc[0] != '\0';

	memset(f, 0, sizeof *f);
	if (has_inc && !option_is_default(env, "device-exclude")) {
		const char *exc = collector_option(env, "device-exclude");
		if (exc && exc[0] != '\0') {
			snprintf(err, errlen,
				 "--collector.%s.device-exclude and --collector.%s.device-include "
				 "are mutually exclusive",
				 env->name, env->name);
			return -EINVAL;
		}
	}
	int rc = optregex_init(&f->include, env, "device-include", err, errlen);
	if (rc == 0 && !has_inc)
		rc = optregex_init(&f->exclude, env, "device-exclude", err, errlen);
	if (rc)
		devfilter_fini(f);
	return rc;
}

bool devfilter_ignored(const struct devfilter *f, const char *name, size_t n)
{
	if (optregex_match(&f->exclude, name, n))
		return true;
	return f->include.set && !optregex_match(&f->include, name, n);
}

void devfilter_fini(struct devfilter *f)
{
	optregex_fini(&f->include);
	optregex_fini(&f->exclude);
}
