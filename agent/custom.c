/* Custom collectors: environment, user and segment permissions. */
#include "custom.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child_argv.h"

extern char **environ;

#define ENV_OURS 4 /* SHMETRICS_SEGMENT_FD, _COLLECTOR, _INSTANCE, _INTERVAL */

/* True when the "K=V" string e sets a variable that the packed "K=V" list
 * (n strings) also sets. */
static bool overridden(const char *e, const char *list, uint32_t n)
{
	size_t klen = strcspn(e, "=");

	for (uint32_t i = 0; i < n; i++, list += strlen(list) + 1)
		if (strncmp(e, list, klen) == 0 && list[klen] == '=')
			return true;
	return false;
}

static int env_push(char **envp, size_t *n, const char *fmt, const char *a, const char *b)
{
	if (asprintf(&envp[*n], fmt, a, b) < 0) {
		envp[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

static int build_env(struct child_exec *x, const struct shm_config *c,
		     const struct custom_collector_config *cc, uint32_t interval_ms)
{
	size_t inherited = 0, n = 0;
	char iv[32];
	int rc = 0;

	for (char **e = environ; e && *e; e++)
		inherited++;
	x->envp = calloc(inherited + cc->envc + ENV_OURS + 1, sizeof *x->envp);
	if (x->envp == NULL)
		return -ENOMEM;
	for (char **e = environ; e && *e && rc == 0; e++)
		if (strncmp(*e, "SHMETRICS_", 10) != 0 && !overridden(*e, cc->env, cc->envc))
			rc = env_push(x->envp, &n, "%s%s", *e, "");
	const char *p = cc->env;
	for (uint32_t i = 0; i < cc->envc && rc == 0; i++, p += strlen(p) + 1)
		rc = env_push(x->envp, &n, "%s%s", p, "");
	config_format_duration_ms(interval_ms, iv, sizeof iv);
	/* The sandbox hands the plugin its segment as descriptor 3 (sandbox.h). */
	if (rc == 0)
		rc = env_push(x->envp, &n, "SHMETRICS_SEGMENT_FD=%s%s", "3", "");
	if (rc == 0)
		rc = env_push(x->envp, &n, "SHMETRICS_COLLECTOR=%s%s", cc->name, "");
	if (rc == 0)
		rc = env_push(x->envp, &n, "SHMETRICS_INSTANCE=%s%s", c->set.instance, "");
	if (rc == 0)
		rc = env_push(x->envp, &n, "SHMETRICS_INTERVAL=%s%s", iv, "");
	return rc;
}

/* Looks up name: 0, -ENOENT when there is no such user, or -errno. */
static int user_ids(const char *name, uid_t *uid, gid_t *gid)
{
	int rc = config_lookup_user(name, uid, gid);

	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

static int resolve_user(struct child_exec *x, const char *user, char *err, size_t errlen)
{
	int n = 16;
	int rc = user_ids(user, &x->uid, &x->gid);

	if (rc < 0) {
		snprintf(err, errlen, "user \"%s\": %s", user,
			 rc == -ENOENT ? "no such user" : strerror(-rc));
		return rc;
	}
	for (;;) {
		gid_t *g = realloc(x->groups, (size_t)n * sizeof *g);
		if (g == NULL)
			return -ENOMEM;
		x->groups = g;
		int want = n;
		if (getgrouplist(user, x->gid, x->groups, &want) >= 0) {
			x->ngroups = (size_t)want;
			break;
		}
		if (want <= n || want > 65536) {
			snprintf(err, errlen, "user \"%s\": cannot list its groups", user);
			return -EINVAL;
		}
		n = want;
	}
	x->set_ids = true;
	return 0;
}

int custom_exec_prepare(struct child_exec *x, const struct shm_config *c,
			const struct custom_collector_config *cc, uint32_t interval_ms, char *err,
			size_t errlen)
{
	memset(x, 0, sizeof *x);
	x->plugin = cc->kind == CUSTOM_COMMAND;
	x->isolate = cc->sandbox;
	int rc = build_env(x, c, cc, interval_ms);
	if (rc < 0)
		snprintf(err, errlen, "building the environment: %s", strerror(-rc));
	else if (cc->user[0])
		rc = resolve_user(x, cc->user, err, errlen);
	if (rc < 0)
		child_exec_free(x);
	return rc;
}

static int group_id(const char *name, gid_t *gid, char *err, size_t errlen)
{
	int rc = config_lookup_group(name, gid);

	if (rc <= 0) {
		snprintf(err, errlen, "group \"%s\": %s", name,
			 rc == 0 ? "no such group" : strerror(-rc));
		return rc == 0 ? -ENOENT : rc;
	}
	return 0;
}

int custom_segment_options(const struct shm_config *c, const char *name, struct segment_options *o,
			   char *err, size_t errlen)
{
	const struct custom_collector_config *cc = config_find_custom(c, name);
	uid_t uid;
	gid_t gid;

	if (cc == NULL)
		return 0;
	if (cc->max_series)
		segment_limits(cc->max_series, &o->limits);

	if (cc->group[0]) {
		int rc = group_id(cc->group, &o->gid, err, errlen);
		if (rc < 0)
			return rc;
	} else if (cc->user[0]) {
		int rc = user_ids(cc->user, &uid, &gid);
		if (rc < 0) {
			snprintf(err, errlen, "user \"%s\": %s", cc->user,
				 rc == -ENOENT ? "no such user" : strerror(-rc));
			return rc;
		}
		o->gid = gid;
	}
	if (cc->mode)
		o->mode = cc->mode;
	else if (cc->user[0])
		o->mode = 0660;
	return 0;
}
