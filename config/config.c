/*
 * config.c - the built-in collectors, the defaults, and comparing two configs.
 * Loading JSON is in load.c, command-line flags in flags.c.
 */
#include "config_internal.h"

#include <stdio.h>
#include <string.h>

/* The built-in collectors come from the one list in collectors/list.def. */
#define COLLECTOR(name, on) #name,
const char *const config_builtin_collectors[] = {
#include "list.def"
	NULL
};
#undef COLLECTOR
#define COLLECTOR(name, on) on,
static const bool builtin_default_on[] = {
#include "list.def"
};
#undef COLLECTOR

#define N_BUILTIN (sizeof builtin_default_on / sizeof builtin_default_on[0])
_Static_assert(N_BUILTIN + 1 ==
		   sizeof config_builtin_collectors / sizeof config_builtin_collectors[0],
	       "every built-in collector needs a default");
_Static_assert(N_BUILTIN <= CONFIG_MAX_COLLECTORS, "too many built-in collectors");

int config_builtin_index(const char *name)
{
	for (size_t k = 0; k < N_BUILTIN; k++)
		if (strcmp(name, config_builtin_collectors[k]) == 0)
			return (int)k;
	return -1;
}

bool config_is_builtin_collector(const char *name)
{
	return name && config_builtin_index(name) >= 0;
}

bool config_builtin_default_enabled(const char *name)
{
	int k = name ? config_builtin_index(name) : -1;
	return k >= 0 && builtin_default_on[k];
}

void config_unknown_collector(const char *name, const char *where, char *err, size_t errlen)
{
	char q[200];
	const char *near = config_suggest(name, config_builtin_collectors, N_BUILTIN);
	config_quote(q, sizeof q, name);
	if (near) {
		config_appendf(err, errlen, "unknown collector %s%s; did you mean \"%s\"?", q,
			       where, near);
		return;
	}
	/* Too many to list in one message: point at the full list instead. */
	config_appendf(err, errlen,
		       "unknown collector %s%s; `shmetrics-agent --help` lists the %zu built-in "
		       "collectors",
		       q, where, (size_t)N_BUILTIN);
}

void config_set_defaults(struct shm_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->source, sizeof c->source, "<embedded default>");
	snprintf(c->instance, sizeof c->instance, "%s", CONFIG_DEFAULT_INSTANCE);
	snprintf(c->log_level, sizeof c->log_level, "info");
	snprintf(c->procfs, sizeof c->procfs, "/proc");
	snprintf(c->sysfs, sizeof c->sysfs, "/sys");
	snprintf(c->rootfs, sizeof c->rootfs, "/");
	snprintf(c->udev_data, sizeof c->udev_data, "/run/udev/data");
	c->staleness_intervals = 3;
	c->default_interval_ms = CONFIG_DEFAULT_INTERVAL_MS;
	snprintf(c->web.listen_address, sizeof c->web.listen_address, ":%d", CONFIG_DEFAULT_PORT);
	c->web.connection_timeout_s = 10;
	c->web.max_connections = 64;
	c->web.max_connections_per_ip = 16;
	c->web.threads = 2;
	c->web.openmetrics = true;
	c->web.history_retention_ms = CONFIG_DEFAULT_HISTORY_MS;
	c->web.history_memory_mib = CONFIG_DEFAULT_HISTORY_MIB;
	c->segments.mode = 0640;
	c->segments.max_series = 10000;
	c->n_collectors = N_BUILTIN;
	for (size_t k = 0; k < N_BUILTIN; k++) {
		struct collector_config *cc = &c->collectors[k];
		snprintf(cc->name, sizeof cc->name, "%s", config_builtin_collectors[k]);
		cc->enabled = builtin_default_on[k];
		cc->interval_ms = CONFIG_DEFAULT_INTERVAL_MS;
	}
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

static bool web_changed(const struct web_config *a, const struct web_config *b)
{
	return strcmp(a->listen_address, b->listen_address) != 0 ||
	       a->connection_timeout_s != b->connection_timeout_s ||
	       a->max_connections != b->max_connections ||
	       a->max_connections_per_ip != b->max_connections_per_ip || a->threads != b->threads ||
	       strcmp(a->config_file, b->config_file) != 0 || a->openmetrics != b->openmetrics ||
	       a->history_retention_ms != b->history_retention_ms ||
	       a->history_memory_mib != b->history_memory_mib;
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

static bool exporter_changed(const struct shm_config *a, const struct shm_config *b)
{
	return web_changed(&a->web, &b->web) || strcmp(a->instance, b->instance) != 0 ||
	       a->staleness_intervals != b->staleness_intervals ||
	       strcmp(a->log_level, b->log_level) != 0 || enabled_set_grew(a, b) ||
	       enabled_set_grew(b, a);
}

/* What every collector process depends on: where it reads, the segment it writes
 * (named by the instance, created with the segment settings) and its --log.level. */
static bool shared_changed(const struct shm_config *a, const struct shm_config *b)
{
	return strcmp(a->instance, b->instance) != 0 || strcmp(a->procfs, b->procfs) != 0 ||
	       strcmp(a->sysfs, b->sysfs) != 0 || strcmp(a->rootfs, b->rootfs) != 0 ||
	       strcmp(a->udev_data, b->udev_data) != 0 || strcmp(a->log_level, b->log_level) != 0 ||
	       a->segments.mode != b->segments.mode ||
	       strcmp(a->segments.group, b->segments.group) != 0 ||
	       a->segments.max_series != b->segments.max_series;
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
