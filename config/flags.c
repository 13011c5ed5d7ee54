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

typedef int (*flag_fn)(struct shm_config *c, const char *value, char *msg, size_t msglen);

struct value_flag {
	const char *name;
	const char *example;
	flag_fn fn;
};

static int copy_value(char *dst, size_t n, const char *s, char *msg, size_t msglen)
{
	size_t len = strlen(s);
	if (len >= n) {
		snprintf(msg, msglen, "value is longer than %zu bytes", n - 1);
		return -EINVAL;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int set_listen(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	int rc = config_check_listen_address(v, msg, msglen);
	return rc ? rc : copy_value(c->web.listen_address, CONFIG_ADDR_MAX, v, msg, msglen);
}

static int set_web_config_file(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return copy_value(c->web.config_file, PATH_MAX, v, msg, msglen);
}

static int set_path(char *dst, const char *v, const char *example, char *msg, size_t msglen)
{
	int rc = config_check_abs_path(v, example, msg, msglen);
	return rc ? rc : copy_value(dst, PATH_MAX, v, msg, msglen);
}

static int set_procfs(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return set_path(c->procfs, v, "/proc", msg, msglen);
}

static int set_sysfs(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return set_path(c->sysfs, v, "/sys", msg, msglen);
}

static int set_rootfs(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return set_path(c->rootfs, v, "/", msg, msglen);
}

static int set_udev_data(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return set_path(c->udev_data, v, "/run/udev/data", msg, msglen);
}

static int set_log_level(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	int rc = config_check_log_level(v, msg, msglen);
	return rc ? rc : copy_value(c->log_level, sizeof c->log_level, v, msg, msglen);
}

static int set_instance(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	int rc = config_check_instance(v, msg, msglen);
	return rc ? rc : copy_value(c->instance, sizeof c->instance, v, msg, msglen);
}

static int set_staleness(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return config_parse_uint_range(v, CONFIG_STALENESS_MIN, CONFIG_STALENESS_MAX,
				       &c->staleness_intervals, msg, msglen);
}

static int set_timeout(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return config_parse_timeout_s(v, &c->web.connection_timeout_s, msg, msglen);
}

/* Lowers the per-IP limit along with the total, so flag order does not matter. */
static int set_max_connections(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	int rc = config_parse_uint_range(v, 1, CONFIG_MAX_CONNECTIONS_MAX, &c->web.max_connections,
					 msg, msglen);
	if (!rc && c->web.max_connections_per_ip > c->web.max_connections)
		c->web.max_connections_per_ip = c->web.max_connections;
	return rc;
}

static int set_per_ip(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return config_parse_uint_range(v, 1, c->web.max_connections, &c->web.max_connections_per_ip,
				       msg, msglen);
}

static int set_threads(struct shm_config *c, const char *v, char *msg, size_t msglen)
{
	return config_parse_uint_range(v, 1, CONFIG_THREADS_MAX, &c->web.threads, msg, msglen);
}

static const struct value_flag value_flags[] = {
	{ "--web.listen-address", ":9469", set_listen },
	{ "--path.procfs", "/host/proc", set_procfs },
	{ "--path.sysfs", "/host/sys", set_sysfs },
	{ "--path.rootfs", "/host", set_rootfs },
	{ "--path.udev.data", "/run/udev/data", set_udev_data },
	{ "--log.level", "info", set_log_level },
	{ "--instance", "main", set_instance },
	{ "--staleness-intervals", "3", set_staleness },
	{ "--web.timeout", "10s", set_timeout },
	{ "--web.max-connections", "64", set_max_connections },
	{ "--web.max-connections-per-ip", "16", set_per_ip },
	{ "--web.threads", "2", set_threads },
	{ "--web.config.file", "/etc/shmetrics/web.yml", set_web_config_file },
};

static int flag_error(char *err, size_t errlen, const char *name, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, msg);
	return -EINVAL;
}

static int apply_value_flag(struct shm_config *c, const struct value_flag *f, const char *value,
			    char *err, size_t errlen)
{
	char msg[MSG_BUF] = "";
	if (!value) {
		snprintf(msg, sizeof msg, "needs a value; write %s=%s", f->name, f->example);
		return flag_error(err, errlen, f->name, msg);
	}
	int rc = f->fn(c, value, msg, sizeof msg);
	return rc ? flag_error(err, errlen, f->name, msg) : 1;
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
	for (size_t k = 0; k < sizeof value_flags / sizeof value_flags[0]; k++)
		if (strcmp(name, value_flags[k].name) == 0)
			return apply_value_flag(c, &value_flags[k], value, err, errlen);
	return apply_collector_flag(c, name, value, err, errlen);
}
