/*
 * shmetrics-collector - runs one or more built-in collectors (or one exec
 * collector), each publishing its batches into the segment the agent created for
 * it.  Command line: docs/processes.md.  This file reads the command line; the
 * loop is in runner.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "collector.h"
#include "exec.h"
#include "log.h"
#include "runner.h"
#include "segment.h"
#include "settings.h"

#define ERR_MAX     512
#define MAX_OPTIONS 128
#define MAX_RUNS    CONFIG_MAX_BUILTIN

/* The command line: the R_COLLECTOR settings of settings.def, and the job. */
struct options {
	struct settings set;
	const char *collector; /* the single-collector form */
	const char *interval;
	size_t n_runs; /* --run=NAME:INTERVAL */
	const char *runs[MAX_RUNS];
	size_t n_options; /* --collector.NAME.KEY=VALUE, sorted out in assign_options */
	const char *option_keys[MAX_OPTIONS];
	const char *option_values[MAX_OPTIONS];
	/* exec collectors (docs/processes.md): --exec.command, --exec.arg..., --exec.timeout */
	const char *exec_command;
	const char *exec_timeout;
	const char *exec_sandbox;
	size_t n_exec_args;
	const char *exec_args[EXEC_ARGS_MAX];
};

/* The options again, grouped by collector: each run_spec points at its slice. */
struct spec_options {
	const char *keys[MAX_OPTIONS];
	const char *values[MAX_OPTIONS];
};

static const char usage_text[] =
    "usage: shmetrics-collector --run=NAME:INTERVAL [--run=...] "
    "[--collector.NAME.OPTION=VALUE ...] [SETTINGS]\n"
    "       shmetrics-collector --collector=NAME --interval=DURATION [the same]\n"
    "       shmetrics-collector --collector=NAME --interval=DURATION --exec.command=PATH "
    "[--exec.arg=ARG ...] [--exec.timeout=DURATION] [--exec.sandbox=true|false] "
    "[SETTINGS]\n"
    "Its settings are the agent's that reach the collectors (docs/processes.md):\n";

/* ---- command line: the job's arguments (the settings are settings.def's) ---- */

static bool is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncmp(name, want, len) == 0;
}

/* The slot of a single-valued job argument, or NULL. */
static const char **single_slot(struct options *o, const char *name, size_t len)
{
	return is(name, len, "--collector")      ? &o->collector
	       : is(name, len, "--interval")     ? &o->interval
	       : is(name, len, "--exec.command") ? &o->exec_command
	       : is(name, len, "--exec.timeout") ? &o->exec_timeout
	       : is(name, len, "--exec.sandbox") ? &o->exec_sandbox
						 : NULL;
}

/* The slot of a repeatable one (--run, --exec.arg, --collector.NAME.KEY), or
 * NULL with err filled when there are too many; *known false when unknown. */
static const char **list_slot(struct options *o, const char *name, size_t len, bool *known,
			      char *err, size_t errlen)
{
	*known = true;
	if (is(name, len, "--run")) {
		if (o->n_runs < MAX_RUNS)
			return &o->runs[o->n_runs++];
		snprintf(err, errlen, "more than %d --run flags", MAX_RUNS);
	} else if (is(name, len, "--exec.arg")) {
		if (o->n_exec_args < EXEC_ARGS_MAX)
			return &o->exec_args[o->n_exec_args++];
		snprintf(err, errlen, "more than %d --exec.arg flags", EXEC_ARGS_MAX);
	} else if (len > 12 && strncmp(name, "--collector.", 12) == 0) {
		if (o->n_options < MAX_OPTIONS) {
			/* "collector.NAME.KEY[=VALUE]"; assign_options validates it. */
			o->option_keys[o->n_options] = name + 2;
			return &o->option_values[o->n_options++];
		}
		snprintf(err, errlen, "more than %d --collector.NAME.OPTION flags", MAX_OPTIONS);
	} else {
		*known = false;
	}
	return NULL;
}

static int take_job(void *ctx, const char *name, size_t len, const char *value, char *err,
		    size_t errlen)
{
	struct options *o = ctx;
	bool known = true;
	const char **slot = single_slot(o, name, len);

	if (!slot)
		slot = list_slot(o, name, len, &known, err, errlen);
	if (!known)
		return 0;
	if (!slot)
		return -EINVAL;
	if (!value)
		return config_fail(err, errlen, "flag \"%.*s\" needs a value", (int)len, name);
	*slot = value;
	return 1;
}

static bool job_takes_value(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	(void)name;
	(void)len;
	return true; /* every job argument has a value */
}

static int parse_interval(const char *flag, const char *text, uint64_t *ms, char *err,
			  size_t errlen)
{
	uint32_t v;
	char why[256];

	if (config_parse_duration_range(text, 1, UINT32_MAX, &v, why, sizeof why) < 0)
		return config_fail(err, errlen, "%s%s: %s", flag, text, why);
	*ms = v;
	return 0;
}

/* "NAME:INTERVAL" (a collector name has no colon). */
static int parse_run(const char *text, struct run_spec *sp, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	size_t name_len = colon ? (size_t)(colon - text) : 0;

	if (!colon || name_len == 0 || name_len >= sizeof sp->name) {
		snprintf(err, errlen, "--run=%s: expected NAME:INTERVAL, such as cpu:5s", text);
		return -EINVAL;
	}
	memcpy(sp->name, text, name_len);
	return parse_interval("--run=...:", colon + 1, &sp->interval_ms, err, errlen);
}

static int single_spec(const struct options *o, struct run_spec *sp, char *err, size_t errlen)
{
	if (!o->collector || !o->interval) {
		snprintf(err, errlen, "--run, or --collector and --interval, are required");
		return -EINVAL;
	}
	if (strlen(o->collector) >= sizeof sp->name) {
		snprintf(err, errlen, "--collector is too long");
		return -EINVAL;
	}
	snprintf(sp->name, sizeof sp->name, "%s", o->collector);
	return parse_interval("--interval=", o->interval, &sp->interval_ms, err, errlen);
}

/* specs from --run flags or from the single-collector form, never both. */
static int build_specs(const struct options *o, struct run_spec *specs, size_t *n, char *err,
		       size_t errlen)
{
	if (o->n_runs == 0) {
		*n = 1;
		return single_spec(o, &specs[0], err, errlen);
	}
	if (o->collector || o->interval || o->exec_command || o->exec_timeout || o->n_exec_args ||
	    o->exec_sandbox) {
		snprintf(err, errlen,
			 "--run cannot be combined with --collector, --interval or --exec.*");
		return -EINVAL;
	}
	*n = o->n_runs;
	for (size_t i = 0; i < o->n_runs; i++) {
		int rc = parse_run(o->runs[i], &specs[i], err, errlen);
		for (size_t k = 0; rc == 0 && k < i; k++)
			if (strcmp(specs[k].name, specs[i].name) == 0) {
				snprintf(err, errlen, "--run=%.200s: collector %.64s is run twice",
					 o->runs[i], specs[i].name);
				rc = -EINVAL;
			}
		if (rc)
			return rc;
	}
	return 0;
}

/* The spec that "collector.NAME.KEY" belongs to, or NULL; *key receives KEY. */
static struct run_spec *option_owner(const char *flag, struct run_spec *specs, size_t n,
				     const char **key)
{
	const char *name = flag + strlen("collector.");
	size_t len = strcspn(name, ".=");

	for (size_t i = 0; i < n; i++)
		if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0 &&
		    name[len] == '.') {
			*key = name + len + 1;
			return &specs[i];
		}
	return NULL;
}

/* Checks one option of sp; a refused one fails sp alone (its option_error).
 * Returns the option's definition, NULL for an option sp does not have. */
static const struct collector_option_def *check_option(struct run_spec *sp, const char *flag,
						       const char *key, const char *value)
{
	char name[64], why[200];
	const struct collector_option_def *d;

	snprintf(name, sizeof name, "%.*s", (int)strcspn(key, "="), key);
	d = config_option_def(sp->name, name);
	if (sp->option_error[0])
		return d; /* the first refusal is the one reported */
	if (d == NULL)
		snprintf(sp->option_error, sizeof sp->option_error, "unknown flag \"--%.*s\"",
			 (int)strcspn(flag, "="), flag);
	else if (config_check_option_value(d, value, why, sizeof why) < 0)
		snprintf(sp->option_error, sizeof sp->option_error,
			 "--collector.%.64s.%.64s: %.110s", sp->name, d->key, why);
	return d;
}

/*
 * Gives each spec its own options (keys without "collector.NAME."), grouped in
 * so.  An option of a collector this process does not run is a usage error.
 */
static int assign_options(const struct options *o, struct run_spec *specs, size_t n,
			  struct spec_options *so, char *err, size_t errlen)
{
	size_t used = 0;
	const char *key;

	for (size_t i = 0; i < o->n_options; i++)
		if (!option_owner(o->option_keys[i], specs, n, &key)) {
			snprintf(err, errlen, "unknown flag \"--%.*s\"",
				 (int)strcspn(o->option_keys[i], "="), o->option_keys[i]);
			return -EINVAL;
		}
	for (size_t s = 0; s < n; s++) {
		specs[s].option_keys = &so->keys[used];
		specs[s].option_values = &so->values[used];
		for (size_t i = 0; i < o->n_options; i++) {
			if (option_owner(o->option_keys[i], specs, n, &key) != &specs[s])
				continue;
			const struct collector_option_def *d = check_option(&specs[s],
									    o->option_keys[i], key,
									    o->option_values[i]);
			so->keys[used] = d ? d->key
					   : key; /* without d, the collector fails anyway */
			so->values[used++] = o->option_values[i];
			specs[s].n_options++;
		}
	}
	return 0;
}

/* An exec collector: a custom name, a command, no built-in collector options. */
static int check_exec_options(const struct options *o, char *err, size_t errlen)
{
	if (!o->exec_command) {
		snprintf(err, errlen, "--exec.arg and --exec.timeout need --exec.command");
		return -EINVAL;
	}
	if (o->n_options > 0) {
		snprintf(err, errlen, "an exec collector takes no --collector.NAME.OPTION flags");
		return -EINVAL;
	}
	if (o->exec_sandbox && strcmp(o->exec_sandbox, "true") != 0 &&
	    strcmp(o->exec_sandbox, "false") != 0) {
		snprintf(err, errlen, "--exec.sandbox=%s: expected true or false", o->exec_sandbox);
		return -EINVAL;
	}
	if (o->exec_timeout == NULL)
		return 0; /* the interval, set by the caller */
	uint64_t ms;
	return parse_interval("--exec.timeout=", o->exec_timeout, &ms, err, errlen);
}

static bool is_exec(const struct options *o)
{
	return o->exec_command || o->exec_timeout || o->n_exec_args || o->exec_sandbox;
}

static int check_options(struct options *o, struct run_spec *specs, size_t *n,
			 struct spec_options *so, char *err, size_t errlen)
{
	int rc = build_specs(o, specs, n, err, errlen);

	if (rc)
		return rc;
	if (is_exec(o))
		return check_exec_options(o, err, errlen);
	return assign_options(o, specs, *n, so, err, errlen);
}

/* ---- the process ---- */

static void set_log_tag(const struct options *o, const struct run_spec *specs, size_t n)
{
	char tag[80];

	if (n == 1)
		snprintf(tag, sizeof tag, "collector/%s", specs[0].name);
	else
		snprintf(tag, sizeof tag, "collectors");
	log_init(tag, (enum log_level)log_level_parse(o->set.log_level));
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Big enough for every collector of a configuration: kept off the stack. */
static struct run_spec specs[MAX_RUNS];
static struct spec_options spec_opts;

static int parse_args(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	const struct settings_job job = { take_job, job_takes_value, o };

	if (settings_init(&o->set) < 0)
		return config_fail(err, errlen, "out of memory");
	return settings_parse_argv(&o->set, R_COLLECTOR, argc, argv, &job, err, errlen);
}

int main(int argc, char **argv)
{
	static struct options o;
	struct run_context ctx;
	struct exec_options eo;
	char err[ERR_MAX];
	size_t n = 0;

	log_init("collector", LOG_LEVEL_INFO);
	if (wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		settings_usage(stdout, 36, R_COLLECTOR);
		return 0;
	}
	if (parse_args(argc, argv, &o, err, sizeof err) != 0 ||
	    check_options(&o, specs, &n, &spec_opts, err, sizeof err) != 0) {
		log_error("%s (try --help)", err);
		settings_free(&o.set);
		return EX_CONFIG;
	}
	set_log_tag(&o, specs, n);
	ctx = (struct run_context){ o.set.procfs,    o.set.sysfs, o.set.rootfs,
				    o.set.udev_data, NULL,        o.set.segments_directory,
				    o.set.instance };
	if (is_exec(&o)) {
		/* Validated in check_exec_options; without --exec.timeout, the interval. */
		eo = (struct exec_options){ o.exec_command,
					    o.exec_args,
					    o.n_exec_args,
					    specs[0].interval_ms,
					    !o.exec_sandbox || strcmp(o.exec_sandbox, "true") == 0,
					    o.set.segments_directory };
		if (o.exec_timeout)
			parse_interval("--exec.timeout=", o.exec_timeout, &eo.timeout_ms, err,
				       sizeof err);
		ctx.exec = &eo;
	}
	int rc = runner_run(specs, n, &ctx);
	settings_free(&o.set);
	return rc;
}
