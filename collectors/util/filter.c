#include "filter.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define MEMO_SLOTS   512 /* a power of two; /proc/net/{netstat,snmp,snmp6} have ~350 fields */
#define MEMO_KEY_MAX 39  /* longer subjects are not remembered */

struct memo_slot {
	uint8_t state; /* 0 empty, 1 no match, 2 match */
	uint8_t len;
	char key[MEMO_KEY_MAX];
};

struct optregex_memo {
	uint32_t used;
	struct memo_slot slot[MEMO_SLOTS];
};

static uint32_t memo_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The slot holding s, or the empty one where it belongs; NULL when neither. */
static struct memo_slot *memo_find(struct optregex_memo *m, const char *s, size_t n)
{
	uint32_t i = memo_hash(s, n) & (MEMO_SLOTS - 1);
	for (uint32_t probes = 0; probes < MEMO_SLOTS; probes++, i = (i + 1) & (MEMO_SLOTS - 1)) {
		struct memo_slot *slot = &m->slot[i];
		if (slot->state == 0 || (slot->len == n && memcmp(slot->key, s, n) == 0))
			return slot;
	}
	return NULL;
}

static bool regex_match(const struct optregex *r, const char *s, size_t n)
{
	/* REG_STARTEND bounds the subject without copying it. */
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)n };
	return regexec(&r->re, s, 1, &m, REG_STARTEND) == 0;
}

int optregex_init(struct optregex *r, const struct collector_env *env, const char *key, char *err,
		  size_t errlen)
{
	const char *v = collector_option(env, key);
	r->set = false;
	r->memo = NULL;
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
	r->memo = calloc(1, sizeof *r->memo);
	return 0;
}

bool optregex_match(const struct optregex *r, const char *s, size_t n)
{
	if (!r->set)
		return false;
	struct memo_slot *slot = r->memo && n <= MEMO_KEY_MAX ? memo_find(r->memo, s, n) : NULL;
	if (slot && slot->state != 0)
		return slot->state == 2;
	bool match = regex_match(r, s, n);
	/* Three quarters full at most, so that lookups stay short. */
	if (slot && r->memo->used < MEMO_SLOTS * 3 / 4) {
		slot->state = match ? 2 : 1;
		slot->len = (uint8_t)n;
		memcpy(slot->key, s, n);
		r->memo->used++;
	}
	return match;
}

void optregex_fini(struct optregex *r)
{
	if (r->set)
		regfree(&r->re);
	free(r->memo);
	r->memo = NULL;
	r->set = false;
}

static bool option_is_default(const struct collector_env *env, const char *key)
{
	const struct collector_option_def *d = config_option_def(env->name, key);
	const char *v = collector_option(env, key);
	return d && v && strcmp(v, d->default_value) == 0;
}

int devfilter_init_keys(struct devfilter *f, const struct collector_env *env, const char *inc_key,
			const char *exc_key, char *err, size_t errlen)
{
	const char *inc = collector_option(env, inc_key);
	bool has_inc = inc && inc[0] != '\0';

	memset(f, 0, sizeof *f);
	if (has_inc && !option_is_default(env, exc_key)) {
		const char *exc = collector_option(env, exc_key);
		if (exc && exc[0] != '\0') {
			snprintf(err, errlen,
				 "--collector.%s.%s and --collector.%s.%s are mutually exclusive",
				 env->name, exc_key, env->name, inc_key);
			return -EINVAL;
		}
	}
	int rc = optregex_init(&f->include, env, inc_key, err, errlen);
	if (rc == 0 && !has_inc)
		rc = optregex_init(&f->exclude, env, exc_key, err, errlen);
	if (rc)
		devfilter_fini(f);
	return rc;
}

int devfilter_init(struct devfilter *f, const struct collector_env *env, char *err, size_t errlen)
{
	return devfilter_init_keys(f, env, "device-include", "device-exclude", err, errlen);
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
