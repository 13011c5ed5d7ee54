/*
 * flags.c - command-line overrides in node_exporter's spelling, applied one at a
 * time in command-line order (so --collector.disable-defaults goes first).
 */
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MSG_BUF  512
#define NAME_BUF 128

static int flag_error(char *err, size_t errlen, const char *name, const char *msg)
{
	return config_fail(err, errlen, "%s: %s", name, msg);
}

/* A setting's flag (settings.def): --flag=VALUE, or for a switch --flag and
 * --no-flag.  0 when name is no setting's flag. */
static int apply_setting_flag(struct shm_config *c, const char *name, const char *value, char *err,
			      size_t errlen)
{
	const struct setting_def *d = setting_by_flag(name, strlen(name));
	char msg[MSG_BUF] = "";
	bool negated = false;

	if (!d && strncmp(name, "--no-", 5) == 0) {
		char plain[NAME_BUF];
		snprintf(plain, sizeof plain, "--%s", name + 5);
		d = setting_by_flag(plain, strlen(plain));
		if (!d || d->type != VALUE_BOOL)
			return 0;
		if (value)
			return flag_error(err, errlen, name, "takes no value");
		negated = true;
	}
	if (!d)
		return 0;
	if (d->type == VALUE_BOOL && !value)
		value = negated ? "false" : "true";
	if (!value) {
		snprintf(msg, sizeof msg, "needs a value; write %s=%s", d->flag,
			 setting_example(d));
		return flag_error(err, errlen, d->flag, msg);
	}
	int rc = setting_set(&c->set, d, value, msg, sizeof msg);
	if (rc == -ENOMEM)
		return flag_error(err, errlen, d->flag, "out of memory");
	return rc ? flag_error(err, errlen, d->flag, msg) : 1;
}

/* The collector named name, or NULL with the reason (and a suggestion) in err. */
static struct collector_config *collector_for_flag(struct shm_config *c, const char *flag,
						   const char *name, char *err, size_t errlen)
{
	char msg[MSG_BUF] = "";
	struct collector_config *cc = config_find_collector(c, name);
	if (cc)
		return cc;
	config_unknown_collector(name, "", msg, sizeof msg);
	flag_error(err, errlen, flag, msg);
	return NULL;
}

static int set_collector_interval(struct shm_config *c, const char *flag, const char *name,
				  const char *value, char *err, size_t errlen)
{
	char msg[MSG_BUF] = "";
	struct collector_config *cc = collector_for_flag(c, flag, name, err, errlen);
	if (!cc)
		return -EINVAL;
	if (!value) {
		snprintf(msg, sizeof msg, "needs a value; write %s=5s", flag);
		return flag_error(err, errlen, flag, msg);
	}
	int rc = config_parse_duration_range(value, CONFIG_INTERVAL_MIN_MS, CONFIG_INTERVAL_MAX_MS,
					     &cc->interval_ms, msg, sizeof msg);
	return rc ? flag_error(err, errlen, flag, msg) : 1;
}

static int toggle_collector(struct shm_config *c, const char *flag, const char *name, bool on,
			    bool has_value, char *err, size_t errlen)
{
	char msg[MSG_BUF];
	if (has_value) {
		snprintf(msg, sizeof msg,
			 "takes no value; write --collector.%.60s or --no-collector.%.60s", name,
			 name);
		return flag_error(err, errlen, flag, msg);
	}
	struct collector_config *cc = collector_for_flag(c, flag, name, err, errlen);
	if (!cc)
		return -EINVAL;
	cc->enabled = on;
	return 1;
}

/* --collector.NAME.isolated / --no-collector.NAME.isolated: a switch, built-ins only
 * (a custom collector always has its own process). */
static int set_isolated(struct shm_config *c, const char *flag, const char *name, bool on,
			bool has_value, char *err, size_t errlen)
{
	char msg[MSG_BUF];
	if (has_value) {
		snprintf(msg, sizeof msg,
			 "takes no value; write --collector.%.60s.isolated or "
			 "--no-collector.%.60s.isolated",
			 name, name);
		return flag_error(err, errlen, flag, msg);
	}
	struct collector_config *cc = collector_for_flag(c, flag, name, err, errlen);
	if (!cc)
		return -EINVAL;
	if (!config_is_builtin_collector(name))
		return flag_error(err, errlen, flag,
				  "a custom collector always runs in its own process");
	cc->isolated = on;
	return 1;
}

static int disable_all(struct shm_config *c, bool has_value, char *err, size_t errlen)
{
	if (has_value)
		return flag_error(err, errlen, "--collector.disable-defaults", "takes no value");
	for (size_t k = 0; k < c->n_collectors && k < CONFIG_MAX_COLLECTORS; k++)
		if (config_is_builtin_collector(c->collectors[k].name)) /* not custom ones */
			c->collectors[k].enabled = false;
	return 1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * --collector.NAME.KEY=VALUE, and for bool options --collector.NAME.KEY (true)
 * and --no-collector.NAME.KEY (false).  rest is "NAME.KEY".  Returns 0 when
 * rest names no option, so the caller can treat it as a collector name.
 */
static int set_option_flag(struct shm_config *c, const char *flag, const char *rest,
			   const char *value, bool negated, char *err, size_t errlen)
{
	char cname[NAME_BUF], msg[MSG_BUF] = "";
	const char *dot = strchr(rest, '.');
	if (dot == NULL || (size_t)(dot - rest) >= sizeof cname)
		return 0;
	snprintf(cname, sizeof cname, "%.*s", (int)(dot - rest), rest);
	const struct collector_option_def *d = config_option_def(cname, dot + 1);
	if (d == NULL)
		return 0;
	bool is_switch = d->type == OPTION_BOOL && value == NULL;
	if (is_switch)
		value = negated ? "false" : "true";
	if (value == NULL || (negated && !is_switch)) {
		snprintf(msg, sizeof msg, "%s; write --collector.%s=%s",
			 negated ? "only switches take the --no- form" : "needs a value", rest,
			 d->default_value[0] ? d->default_value : "VALUE");
		return flag_error(err, errlen, flag, msg);
	}
	int rc = config_set_collector_option_flag(c, cname, dot + 1, value, msg, sizeof msg);
	return rc ? flag_error(err, errlen, flag, msg) : 1;
}

/* rest is "NAME" (a collector on or off) or "NAME.isolated" (which process runs it). */
static int switch_collector(struct shm_config *c, const char *flag, const char *rest, bool on,
			    const char *value, char *err, size_t errlen)
{
	static const char iso[] = ".isolated";
	char cname[NAME_BUF];
	if (!ends_with(rest, iso))
		return toggle_collector(c, flag, rest, on, value != NULL, err, errlen);
	snprintf(cname, sizeof cname, "%.*s", (int)(strlen(rest) - (sizeof iso - 1)), rest);
	return set_isolated(c, flag, cname, on, value != NULL, err, errlen);
}

static int apply_collector_flag(struct shm_config *c, const char *name, const char *value,
				char *err, size_t errlen)
{
	static const char on[] = "--collector.", off[] = "--no-collector.", iv[] = ".interval";
	char cname[NAME_BUF];
	int rc;
	if (strcmp(name, "--collector.disable-defaults") == 0)
		return disable_all(c, value != NULL, err, errlen);
	if (strncmp(name, off, sizeof off - 1) == 0) {
		rc = set_option_flag(c, name, name + sizeof off - 1, value, true, err, errlen);
		return rc ? rc
			  : switch_collector(c, name, name + sizeof off - 1, false, value, err,
					     errlen);
	}
	if (strncmp(name, on, sizeof on - 1) != 0)
		return 0;
	const char *rest = name + sizeof on - 1;
	rc = set_option_flag(c, name, rest, value, false, err, errlen);
	if (rc)
		return rc;
	if (!ends_with(rest, iv))
		return switch_collector(c, name, rest, true, value, err, errlen);
	snprintf(cname, sizeof cname, "%.*s", (int)(strlen(rest) - (sizeof iv - 1)), rest);
	return set_collector_interval(c, name, cname, value, err, errlen);
}

/* --remote-write.url=URL and --remote-write.external-label=NAME=VALUE, each
 * repeatable (docs/remote-write.md).  0 when name is neither. */
static int apply_rw_flag(struct shm_config *c, const char *name, const char *value, char *err,
			 size_t errlen)
{
	char msg[MSG_BUF] = "";
	bool url = strcmp(name, "--remote-write.url") == 0;
	int rc;

	if (!url && strcmp(name, "--remote-write.external-label") != 0)
		return 0;
	if (!value)
		return flag_error(
		    err, errlen, name,
		    url ? "needs a value; write --remote-write.url=https://HOST/PATH"
			: "needs a value; write --remote-write.external-label=instance=h1");
	rc = url ? config_rw_add_url(c, value, msg, sizeof msg)
		 : config_rw_add_external_label(c, value, msg, sizeof msg);
	return rc ? flag_error(err, errlen, name, msg) : 1;
}

int config_apply_flag(struct shm_config *c, const char *flag, char *err, size_t errlen)
{
	char name[NAME_BUF];
	if (!flag || strncmp(flag, "--", 2) != 0)
		return 0;
	const char *eq = strchr(flag, '=');
	size_t n = eq ? (size_t)(eq - flag) : strlen(flag);
	if (n >= sizeof name) {
		bool ours = strncmp(flag, "--collector.", 12) == 0 ||
			    strncmp(flag, "--no-collector.", 15) == 0;
		return ours ? flag_error(err, errlen, "--collector", "collector name is too long")
			    : 0;
	}
	memcpy(name, flag, n);
	name[n] = '\0';
	const char *value = eq ? eq + 1 : NULL;
	int rc = apply_setting_flag(c, name, value, err, errlen);
	if (rc == 0)
		rc = apply_rw_flag(c, name, value, err, errlen);
	return rc ? rc : apply_collector_flag(c, name, value, err, errlen);
}
