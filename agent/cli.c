/* The agent's command line: parsing, suggestions, usage, and loading the config. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "segdir.h"

enum flag_kind { FLAG_CONFIG, FLAG_CHECK, FLAG_HELP, FLAG_VERSION, FLAG_OVERRIDE };

/* What the agent does (the settings are in settings.def). */
struct flag_spec {
	const char *name;
	const char *metavar; /* NULL: the flag takes no value */
	enum flag_kind kind;
	const char *help;
};

static const struct flag_spec flag_table[] = {
	{ "--config", "FILE", FLAG_CONFIG,
	  "JSON configuration file (default: the embedded configuration)" },
	{ "--check-config", NULL, FLAG_CHECK,
	  "validate the configuration, print \"config OK: SOURCE\" or the error, exit" },
	/* Repeatable, so not settings (docs/remote-write.md); the queue directory is one. */
	{ "--remote-write.url", "URL", FLAG_OVERRIDE,
	  "send every collector's samples there with Prometheus remote write (repeatable: one "
	  "queue per URL)" },
	{ "--remote-write.external-label", "NAME=VALUE", FLAG_OVERRIDE,
	  "a label every remote-write endpoint adds to every series, e.g. instance=host-1 "
	  "(repeatable; an endpoint's own external_labels win)" },
	{ "--version", NULL, FLAG_VERSION, "print the version and exit" },
	{ "--help", NULL, FLAG_HELP, "print this help and exit" },
};

#define N_FLAGS (sizeof flag_table / sizeof flag_table[0])

static const struct flag_spec *flag_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_FLAGS; i++)
		if (strlen(flag_table[i].name) == len &&
		    strncmp(flag_table[i].name, name, len) == 0)
			return &flag_table[i];
	return NULL;
}

#define INTERVAL_SUFFIX ".interval"

/* "--collector.NAME.interval", which takes a duration. */
static bool is_interval_flag(const char *name, size_t len)
{
	static const char prefix[] = "--collector.", suffix[] = INTERVAL_SUFFIX;
	size_t plen = sizeof prefix - 1, slen = sizeof suffix - 1;

	return len > plen + slen && strncmp(name, prefix, plen) == 0 &&
	       strncmp(name + len - slen, suffix, slen) == 0;
}

/* "--collector.NAME" or "--no-collector.NAME" with a non-empty NAME. */
static bool is_collector_flag(const char *name, size_t len)
{
	static const char *const prefixes[] = { "--collector.", "--no-collector." };

	for (size_t i = 0; i < 2; i++) {
		size_t plen = strlen(prefixes[i]);
		if (len > plen && strncmp(name, prefixes[i], plen) == 0)
			return true;
	}
	return false;
}

/* The collector option a "--collector.NAME.KEY" or "--no-collector.NAME.KEY" sets
 * (an alias of options.def included). */
static const struct collector_option_def *option_flag(const char *name, size_t len)
{
	static const char *const prefixes[] = { "--collector.", "--no-collector." };
	char rest[128];

	for (size_t i = 0; i < 2; i++) {
		size_t plen = strlen(prefixes[i]);
		if (len <= plen || len - plen >= sizeof rest ||
		    strncmp(name, prefixes[i], plen) != 0)
			continue;
		snprintf(rest, sizeof rest, "%.*s", (int)(len - plen), name + plen);
		char *dot = strchr(rest, '.');
		if (dot == NULL)
			return NULL;
		*dot = '\0';
		return config_option_def(rest, dot + 1);
	}
	return NULL;
}

/* ---- suggestions ---- */

#define SUGGEST_MAX_LEN 128

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	size_t prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN)
		la = SUGGEST_MAX_LEN;
	if (lb > SUGGEST_MAX_LEN)
		lb = SUGGEST_MAX_LEN;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t subst = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, subst);
		}
		memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
	}
	return prev[lb];
}

struct suggestion {
	const char *flag, *best;
	size_t len, best_dist;
	char buf[SUGGEST_MAX_LEN];
};

static void suggest_consider(struct suggestion *s, const char *cand)
{
	size_t d = edit_distance(s->flag, s->len, cand);
	size_t bare = s->len;
	const char *word = s->flag;

	while (bare > 0 && *word == '-') { /* "--procfs" is a part of "--path.procfs" */
		word++;
		bare--;
	}
	if (bare >= 4 && bare < SUGGEST_MAX_LEN) {
		char needle[SUGGEST_MAX_LEN];
		memcpy(needle, word, bare);
		needle[bare] = '\0';
		if (strstr(cand, needle))
			d = d < 2 ? d : 2;
	}
	if (d < s->best_dist) {
		s->best_dist = d;
		snprintf(s->buf, sizeof s->buf, "%s", cand);
		s->best = s->buf;
	}
}

const char *cli_suggest(const char *flag)
{
	static struct suggestion s;
	char cand[SUGGEST_MAX_LEN];
	const char *eq = strchr(flag, '=');

	memset(&s, 0, sizeof s);
	s.flag = flag;
	s.len = eq ? (size_t)(eq - flag) : strlen(flag);
	s.best_dist = (size_t)-1;
	for (size_t i = 0; i < N_FLAGS; i++)
		suggest_consider(&s, flag_table[i].name);
	for (size_t i = 0; i < SETTING_COUNT; i++)
		if (setting_defs[i].flag)
			suggest_consider(&s, setting_defs[i].flag);
	suggest_consider(&s, "--collector.disable-defaults");
	for (size_t i = 0; config_builtin_collectors[i]; i++) {
		snprintf(cand, sizeof cand, "--collector.%s", config_builtin_collectors[i]);
		suggest_consider(&s, cand);
		snprintf(cand, sizeof cand, "--no-collector.%s", config_builtin_collectors[i]);
		suggest_consider(&s, cand);
		snprintf(cand, sizeof cand, "--collector.%s" INTERVAL_SUFFIX,
			 config_builtin_collectors[i]);
		suggest_consider(&s, cand);
	}
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++) {
		snprintf(cand, sizeof cand, "--collector.%s.%s", d->collector, d->key);
		suggest_consider(&s, cand);
	}
	size_t limit = s.len / 3 > 3 ? s.len / 3 : 3;
	return s.best && s.best_dist <= limit ? s.best : NULL;
}

/* ---- parsing ---- */

void cli_free(struct cli_args *a)
{
	for (size_t i = 0; i < a->n_overrides; i++)
		free(a->overrides[i]);
	free(a->config_path);
	memset(a, 0, sizeof *a);
}

static int unknown_flag(const char *arg, char *err, size_t errlen)
{
	const char *near = strncmp(arg, "--", 2) == 0 ? cli_suggest(arg) : NULL;

	if (strncmp(arg, "-", 1) != 0)
		snprintf(err, errlen, "unexpected argument \"%s\"", arg);
	else if (near)
		snprintf(err, errlen, "unknown flag %s (did you mean %s?)", arg, near);
	else
		snprintf(err, errlen, "unknown flag %s", arg);
	return -EINVAL;
}

static int add_override(struct cli_args *a, const char *name, size_t len, const char *value,
			char *err, size_t errlen)
{
	char *s;
	int n = value ? asprintf(&s, "%.*s=%s", (int)len, name, value)
		      : asprintf(&s, "%.*s", (int)len, name);

	if (n < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (a->n_overrides == CLI_MAX_OVERRIDES) {
		free(s);
		snprintf(err, errlen, "too many flags (at most %d)", CLI_MAX_OVERRIDES);
		return -E2BIG;
	}
	a->overrides[a->n_overrides++] = s;
	return 0;
}

/* Finds the value of a flag that takes one, from "=value" or the next argument. */
static int flag_value(int argc, char *const argv[], int *i, const char *eq, const char *metavar,
		      bool allow_empty, const char **value, char *err, size_t errlen)
{
	if (eq)
		*value = eq + 1;
	else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
		*value = argv[++*i];
	else
		*value = NULL;
	if (!*value || (!allow_empty && !**value)) {
		int len = (int)strcspn(argv[*i], "=");
		snprintf(err, errlen, "flag %.*s needs a value: %.*s=%s", len, argv[*i], len,
			 argv[*i], metavar);
		return -EINVAL;
	}
	return 0;
}

/* A setting's flag (settings.def); a switch (BOOL) also as --no-flag. */
static const struct setting_def *setting_flag(const char *arg, size_t len, bool *negated)
{
	const struct setting_def *d = setting_by_flag(arg, len);
	char plain[128];

	*negated = false;
	if (d || len < 6 || strncmp(arg, "--no-", 5) != 0 || len - 3 >= sizeof plain)
		return d;
	snprintf(plain, sizeof plain, "--%.*s", (int)(len - 5), arg + 5);
	d = setting_by_flag(plain, len - 3);
	*negated = d != NULL;
	return d && d->type == VALUE_BOOL ? d : NULL;
}

/* --flag=VALUE (or --flag VALUE) of a setting; a switch needs no value. */
static int parse_setting(struct cli_args *a, const struct setting_def *d, bool negated, int argc,
			 char *const argv[], int *i, const char *eq, char *err, size_t errlen)
{
	const char *value = NULL;
	size_t len = strlen(d->flag);

	if (d->type == VALUE_BOOL || negated)
		return add_override(a, argv[*i], eq ? (size_t)(eq - argv[*i]) : strlen(argv[*i]),
				    eq ? eq + 1 : NULL, err, errlen);
	if (flag_value(argc, argv, i, eq, setting_example(d), true, &value, err, errlen) < 0)
		return -EINVAL;
	return add_override(a, d->flag, len, value, err, errlen);
}

/* --collector.NAME..., --no-collector.NAME... and their options. */
static int parse_collector_flag(struct cli_args *a, int argc, char *const argv[], int *i,
				const char *eq, size_t len, char *err, size_t errlen)
{
	const char *arg = argv[*i], *value = NULL;
	const struct collector_option_def *od = option_flag(arg, len);

	if (od && od->type != OPTION_BOOL) {
		if (flag_value(argc, argv, i, eq, "VALUE", false, &value, err, errlen) < 0)
			return -EINVAL;
		return add_override(a, arg, len, value, err, errlen);
	}
	if (od) /* a switch; "=true"/"=false" is accepted too */
		return add_override(a, arg, len, eq ? eq + 1 : NULL, err, errlen);
	if (is_interval_flag(arg, len)) {
		if (flag_value(argc, argv, i, eq, "DURATION", false, &value, err, errlen) < 0)
			return -EINVAL;
		return add_override(a, arg, len, value, err, errlen);
	}
	if (eq) {
		snprintf(err, errlen, "flag %.*s takes no value", (int)len, arg);
		return -EINVAL;
	}
	return add_override(a, arg, len, NULL, err, errlen);
}

static int parse_one(struct cli_args *a, int argc, char *const argv[], int *i, char *err,
		     size_t errlen)
{
	const char *arg = argv[*i], *eq = strchr(arg, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	bool negated;

	if (strncmp(arg, "--", 2) != 0)
		return unknown_flag(arg, err, errlen);
	const struct setting_def *d = setting_flag(arg, len, &negated);
	if (d)
		return parse_setting(a, d, negated, argc, argv, i, eq, err, errlen);
	if (is_collector_flag(arg, len))
		return parse_collector_flag(a, argc, argv, i, eq, len, err, errlen);
	const struct flag_spec *f = flag_find(arg, len);
	if (!f)
		return unknown_flag(arg, err, errlen);
	if (!f->metavar && eq) {
		snprintf(err, errlen, "flag %s takes no value", f->name);
		return -EINVAL;
	}
	if (f->metavar && flag_value(argc, argv, i, eq, f->metavar, false, &value, err, errlen) < 0)
		return -EINVAL;
	if (f->kind == FLAG_OVERRIDE)
		return add_override(a, f->name, len, value, err, errlen);
	if (f->kind == FLAG_CONFIG) {
		free(a->config_path);
		a->config_path = strdup(value);
		return a->config_path ? 0 : -ENOMEM;
	}
	if (f->kind == FLAG_CHECK)
		a->action = CLI_CHECK_CONFIG;
	return 0; /* --help and --version were handled before */
}

int cli_parse(int argc, char *const argv[], struct cli_args *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->action = CLI_RUN;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			out->action = CLI_HELP;
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0)
			out->action = CLI_VERSION;
	}
	if (out->action == CLI_VERSION)
		return 0;
	for (int i = 1; i < argc; i++) {
		int rc = parse_one(out, argc, argv, &i, err, errlen);
		if (rc < 0) {
			cli_free(out);
			return rc;
		}
	}
	return 0;
}

/* ---- usage ---- */

void cli_usage(FILE *f)
{
	char left[64];

	fprintf(f,
		"Usage: %s [FLAGS]\n\n"
		"Creates the shared-memory segments, starts the collectors and the exporter,\n"
		"and supervises them (restart with backoff, reload on SIGHUP).\n\nFlags:\n",
		CLI_PROGRAM);
	for (size_t i = 0; i < N_FLAGS; i++) {
		const struct flag_spec *s = &flag_table[i];
		snprintf(left, sizeof left, "%s%s%s", s->name, s->metavar ? "=" : "",
			 s->metavar ? s->metavar : "");
		fprintf(f, "  %-36s %s\n", left, s->help);
	}
	fprintf(f, "\nSettings (also the config keys of docs/config.md):\n");
	settings_usage(f, 36, SETTINGS_ALL);
	fprintf(f, "\nCollectors:\n");
	fprintf(f, "  %-36s %s\n", "--collector.NAME", "enable collector NAME");
	fprintf(f, "  %-36s %s\n", "--no-collector.NAME", "disable collector NAME");
	fprintf(f, "  %-36s %s\n", "--collector.disable-defaults",
		"disable every collector not enabled explicitly by a later --collector.NAME");
	fprintf(f, "  %-36s %s\n", "--collector.NAME.interval=DURATION",
		"collection interval of collector NAME (\"500ms\", \"5s\", \"1m\")");
	fprintf(f, "  %-36s %s\n", "--collector.NAME.isolated",
		"run built-in collector NAME in a process of its own");
	fprintf(f, "\nFlags that take a value accept \"--flag=value\" and \"--flag value\".\n"
		   "Overrides apply after the configuration, in the order given.\n\n"
		   "Built-in collectors:\n");
	for (size_t i = 0; config_builtin_collectors[i]; i++) {
		const char *name = config_builtin_collectors[i];
		fprintf(f, "  %-36s %s\n", name,
			config_builtin_default_enabled(name) ? "enabled by default"
							     : "disabled by default");
	}
	fprintf(f, "\nCollector options (also the config keys collectors.NAME.OPTION):\n");
	for (const struct collector_option_def *d = config_option_defs; d->collector; d++) {
		snprintf(left, sizeof left, "--collector.%s.%s", d->collector, d->key);
		fprintf(f, "  %-36s %s (default \"%s\")\n", left, d->help, d->default_value);
	}
	fprintf(f, "\nOther spellings node_exporter accepts (set the option named):\n");
	for (const struct collector_option_alias *a = config_option_aliases; a->collector; a++) {
		snprintf(left, sizeof left, "--collector.%s.%s", a->collector, a->key);
		fprintf(f, "  %-36s --collector.%s.%s\n", left, a->target_collector, a->target_key);
	}
	fprintf(f, "\nExit status: 0 success, 1 startup failure, 2 usage error, "
		   "78 configuration error.\n");
}

/* ---- loading ---- */

int agent_config_check(const struct shm_config *c, char *err, size_t errlen)
{
	static const char *const reserved[] = { "agent", "exporter", "shipper" };

	for (size_t i = 0; i < c->n_collectors; i++)
		for (size_t j = 0; j < sizeof reserved / sizeof reserved[0]; j++)
			if (strcmp(c->collectors[i].name, reserved[j]) == 0) {
				snprintf(
				    err, errlen,
				    "%s: collector name \"%s\" is reserved (the agent uses "
				    "it for its own processes and metrics); choose another name",
				    c->source, reserved[j]);
				return -EINVAL;
			}
	if (log_level_parse(c->set.log_level) < 0) {
		snprintf(err, errlen, "%s: log level \"%s\" is not one of error, warn, info, debug",
			 c->source, c->set.log_level);
		return -EINVAL;
	}
	return 0;
}

/* The flags are one layer over the file: settings that bound one another are
 * checked once they are all applied, so their order does not matter. */
static enum cli_load_result apply_overrides(const struct cli_args *a, struct shm_config *c,
					    char *err, size_t errlen)
{
	const struct setting_def *bad;
	char why[512];

	c->set.given = 0;
	for (size_t i = 0; i < a->n_overrides; i++) {
		int rc = config_apply_flag(c, a->overrides[i], why, sizeof why);
		if (rc < 0) { /* config.c names the flag */
			snprintf(err, errlen, "%s", why);
			return CLI_LOAD_FLAG_ERROR;
		}
		if (rc == 0) {
			snprintf(err, errlen, "%s: not a configuration flag", a->overrides[i]);
			return CLI_LOAD_FLAG_ERROR;
		}
	}
	if (settings_check(&c->set, &bad, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", bad->flag, why);
		return CLI_LOAD_FLAG_ERROR;
	}
	return CLI_LOAD_OK;
}

/* segments.directory: absolute when given; else the default (segdir.h), written
 * into the settings so that every child is given the same directory. */
static int resolve_segments_directory(struct shm_config *c, char *err, size_t errlen)
{
	const struct setting_def *d = setting_by_key("segments.directory");
	char base[PATH_MAX], why[PATH_MAX + 200];

	if (c->set.segments_directory[0] && c->set.segments_directory[0] != '/') {
		snprintf(err, errlen,
			 "%s: segments.directory \"%.200s\" is not an absolute path; write one "
			 "starting with '/', such as \"/run/shmetrics\"",
			 c->source, c->set.segments_directory);
		return -EINVAL;
	}
	if (c->set.segments_directory[0])
		return 0;
	if (segdir_default_base(base, sizeof base, why, sizeof why) < 0 ||
	    setting_set(&c->set, d, base, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: segments.directory: %s", c->source, why);
		return -EINVAL;
	}
	return 0;
}

enum cli_load_result cli_load_config(const struct cli_args *a, struct shm_config *out, char *err,
				     size_t errlen)
{
	struct shm_config *c = calloc(1, sizeof *c);
	enum cli_load_result res = CLI_LOAD_CONFIG_ERROR;
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return CLI_LOAD_CONFIG_ERROR;
	}
	rc = a->config_path ? config_load_file(c, a->config_path, err, errlen)
			    : config_load_default(c, err, errlen);
	if (rc < 0)
		goto out;
	res = apply_overrides(a, c, err, errlen);
	if (res != CLI_LOAD_OK)
		goto out;
	if (agent_config_check(c, err, errlen) < 0 ||
	    resolve_segments_directory(c, err, errlen) < 0) {
		res = CLI_LOAD_CONFIG_ERROR;
		goto out;
	}
	config_free(out);
	memcpy(out, c, sizeof *c); /* out takes what c holds */
	memset(c, 0, sizeof *c);
out:
	config_free(c);
	free(c);
	return res;
}
