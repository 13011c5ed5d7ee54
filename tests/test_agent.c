/* Unit tests of the agent's pure parts: command line, backoff, child command
 * lines, the reload diff, and how exits are described. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../agent/backoff.h"
#include "../agent/child_argv.h"
#include "../agent/cli.h"
#include "../agent/process.h"
#include "../agent/reload.h"

#define ARGS(...) ((char *const[]){ "shmetrics-agent", __VA_ARGS__, NULL })
#define NARGS(...) \
	((int)(sizeof((char *const[]){ "shmetrics-agent", __VA_ARGS__ }) / sizeof(char *)))

/* ---- command line ---- */

struct parse_case {
	const char *what;
	int argc;
	char *const *argv;
	int rc;
	enum cli_action action;
	const char *config_path;
	const char *overrides[4]; /* expected, in order */
	const char *err_has;      /* substring of the error */
};

/* Frees a configuration from load() and the like. */
static void drop(struct shm_config *c)
{
	config_free(c);
	free(c);
}

static const struct parse_case parse_cases[] = {
	{ "value after =",
	  NARGS("--web.listen-address=127.0.0.1:9000"),
	  ARGS("--web.listen-address=127.0.0.1:9000"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--web.listen-address=127.0.0.1:9000" },
	  NULL },
	{ "value as the next argument",
	  NARGS("--web.listen-address", "127.0.0.1:9000"),
	  ARGS("--web.listen-address", "127.0.0.1:9000"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--web.listen-address=127.0.0.1:9000" },
	  NULL },
	{ "config file both ways",
	  NARGS("--config", "/a.json", "--config=/b.json"),
	  ARGS("--config", "/a.json", "--config=/b.json"),
	  0,
	  CLI_RUN,
	  "/b.json",
	  { NULL },
	  NULL },
	{ "check-config",
	  NARGS("--check-config", "--config=/c.json"),
	  ARGS("--check-config", "--config=/c.json"),
	  0,
	  CLI_CHECK_CONFIG,
	  "/c.json",
	  { NULL },
	  NULL },
	{ "overrides keep their order",
	  NARGS("--collector.disable-defaults", "--collector.cpu", "--no-collector.stat",
		"--path.procfs", "/host/proc"),
	  ARGS("--collector.disable-defaults", "--collector.cpu", "--no-collector.stat",
	       "--path.procfs", "/host/proc"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--collector.disable-defaults", "--collector.cpu", "--no-collector.stat",
	    "--path.procfs=/host/proc" },
	  NULL },
	{ "collector interval takes a value",
	  NARGS("--collector.cpu.interval", "2s"),
	  ARGS("--collector.cpu.interval", "2s"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--collector.cpu.interval=2s" },
	  NULL },
	{ "option aliases take a value like the option they stand for",
	  NARGS("--collector.powersupply.ignored-supplies", "^BAT",
		"--collector.filesystem.ignored-mount-points=^/x"),
	  ARGS("--collector.powersupply.ignored-supplies", "^BAT",
	       "--collector.filesystem.ignored-mount-points=^/x"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--collector.powersupply.ignored-supplies=^BAT",
	    "--collector.filesystem.ignored-mount-points=^/x" },
	  NULL },
	{ "help wins over a bad flag",
	  NARGS("--bogus", "--help"),
	  ARGS("--bogus", "--help"),
	  0,
	  CLI_HELP,
	  NULL,
	  { NULL },
	  NULL },
	{ "version", NARGS("--version"), ARGS("--version"), 0, CLI_VERSION, NULL, { NULL }, NULL },
	{ "misspelt flag suggests the nearest",
	  NARGS("--web.listen-adress=:9100"),
	  ARGS("--web.listen-adress=:9100"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "unknown flag --web.listen-adress=:9100 (did you mean --web.listen-address?)" },
	{ "part of a flag suggests the whole",
	  NARGS("--procfs=/p"),
	  ARGS("--procfs=/p"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "did you mean --path.procfs?" },
	{ "misspelt collector flag suggests it",
	  NARGS("--colector.cpu"),
	  ARGS("--colector.cpu"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "did you mean --collector.cpu?" },
	{ "missing value at the end",
	  NARGS("--path.procfs"),
	  ARGS("--path.procfs"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "flag --path.procfs needs a value" },
	{ "a flag is not a value",
	  NARGS("--path.procfs", "--path.sysfs=/s"),
	  ARGS("--path.procfs", "--path.sysfs=/s"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "flag --path.procfs needs a value" },
	{ "empty config path",
	  NARGS("--config="),
	  ARGS("--config="),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "needs a value" },
	{ "switch given a value",
	  NARGS("--check-config=yes"),
	  ARGS("--check-config=yes"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "flag --check-config takes no value" },
	{ "collector switch given a value",
	  NARGS("--collector.cpu=false"),
	  ARGS("--collector.cpu=false"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "takes no value" },
	{ "a setting that reaches only the exporter, with --check-config",
	  NARGS("--web.config.file=/etc/web.yml", "--check-config"),
	  ARGS("--web.config.file=/etc/web.yml", "--check-config"),
	  0,
	  CLI_CHECK_CONFIG,
	  NULL,
	  { "--web.config.file=/etc/web.yml" },
	  NULL },
	{ "switches of settings, both ways",
	  NARGS("--no-web.openmetrics", "--web.openmetrics=true"),
	  ARGS("--no-web.openmetrics", "--web.openmetrics=true"),
	  0,
	  CLI_RUN,
	  NULL,
	  { "--no-web.openmetrics", "--web.openmetrics=true" },
	  NULL },
	{ "positional argument",
	  NARGS("config.json"),
	  ARGS("config.json"),
	  -EINVAL,
	  CLI_RUN,
	  NULL,
	  { NULL },
	  "unexpected argument \"config.json\"" },
};

static void check_parse_case(const struct parse_case *pc)
{
	struct cli_args a;
	char err[512] = "";
	int rc = cli_parse(pc->argc, pc->argv, &a, err, sizeof err);

	print_message("case: %s\n", pc->what);
	assert_int_equal(rc, pc->rc);
	if (rc < 0) {
		assert_non_null(strstr(err, pc->err_has));
		return;
	}
	assert_int_equal(a.action, pc->action);
	if (pc->config_path)
		assert_string_equal(a.config_path, pc->config_path);
	else
		assert_null(a.config_path);
	size_t n = 0;
	while (n < 4 && pc->overrides[n])
		n++;
	assert_int_equal(a.n_overrides, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a.overrides[i], pc->overrides[i]);
	cli_free(&a);
}

static void test_command_line_parses_as_the_table_says(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++)
		check_parse_case(&parse_cases[i]);
}

static void test_help_lists_every_builtin_collector_with_its_default(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	cli_usage(f);
	fclose(f);
	assert_non_null(strstr(text, "--collector.disable-defaults"));
	for (size_t i = 0; i < SETTING_COUNT; i++)
		assert_true(!setting_defs[i].flag || strstr(text, setting_defs[i].flag));
	for (size_t i = 0; config_builtin_collectors[i]; i++) {
		char line[128];
		snprintf(line, sizeof line, "  %-36s %s", config_builtin_collectors[i],
			 config_builtin_default_enabled(config_builtin_collectors[i])
			     ? "enabled by default"
			     : "disabled by default");
		assert_non_null(strstr(text, line));
	}
	free(text);
}

/* Every setting of settings.def is an agent flag, parsed and applied: the
 * agent's flags and the configuration's come from the one table. */
static void test_every_setting_is_an_agent_flag_that_loads(void **state)
{
	(void)state;
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		char arg[256], err[512] = "";
		struct cli_args a;
		if (!d->flag)
			continue;
		struct shm_config *c = calloc(1, sizeof *c);
		const char *value = d->type == VALUE_FILE  ? "/etc/shmetrics/x.yml"
				    : d->type == VALUE_DIR ? "/var/lib/shmetrics/x"
				    : d->default_text[0]   ? d->default_text
							   : "root";
		snprintf(arg, sizeof arg, "%s=%s", d->flag, value);
		char *argv[] = { "shmetrics-agent", arg, "--check-config", NULL };
		if (cli_parse(3, argv, &a, err, sizeof err) != 0)
			fail_msg("%s: %s", arg, err);
		assert_int_equal(a.action, CLI_CHECK_CONFIG);
		if (cli_load_config(&a, c, err, sizeof err) != CLI_LOAD_OK)
			fail_msg("%s: %s", arg, err);
		char buf[SETTING_TEXT_MAX];
		struct settings want;
		assert_int_equal(settings_init(&want), 0);
		assert_int_equal(setting_set(&want, d, value, err, sizeof err), 0);
		assert_string_equal(setting_format(&c->set, d, buf, sizeof buf),
				    setting_format(&want, d, arg, sizeof arg));
		settings_free(&want);
		cli_free(&a);
		drop(c);
	}
}

/* ---- loading: file, then overrides in order ---- */

static char *write_temp(const char *text)
{
	static char path[] = "/tmp/test_agent_XXXXXX";
	char *p = strdup(path);
	int fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

static struct shm_config *load_with(const char *file_text, char **overrides, size_t n,
				    enum cli_load_result want, char *err, size_t errlen)
{
	struct cli_args a = { .action = CLI_RUN };
	struct shm_config *c = calloc(1, sizeof *c);

	a.config_path = file_text ? write_temp(file_text) : NULL;
	a.n_overrides = n;
	for (size_t i = 0; i < n; i++)
		a.overrides[i] = overrides[i];
	assert_int_equal(cli_load_config(&a, c, err, errlen), want);
	if (a.config_path)
		unlink(a.config_path);
	free(a.config_path);
	return c;
}

static void test_overrides_apply_after_the_file_in_the_order_given(void **state)
{
	char *ov[] = { "--collector.disable-defaults", "--collector.cpu",
		       "--path.procfs=/host/proc" };
	char err[512];
	struct shm_config *c = load_with("{\"collectors\": {\"cpu\": {\"enabled\": false}}}", ov, 3,
					 CLI_LOAD_OK, err, sizeof err);

	(void)state;
	assert_true(config_find_collector(c, "cpu")->enabled);
	assert_false(config_find_collector(c, "meminfo")->enabled);
	assert_string_equal(c->set.procfs, "/host/proc");
	drop(c);
}

static void test_a_bad_file_is_a_config_error_with_line_and_column(void **state)
{
	char err[512];
	struct shm_config *c = load_with("{\n  \"log_level\": 3\n}\n", NULL, 0,
					 CLI_LOAD_CONFIG_ERROR, err, sizeof err);

	(void)state;
	assert_non_null(strstr(err, ":2:"));
	drop(c);
}

static void test_a_bad_override_is_a_flag_error_naming_the_flag(void **state)
{
	char *ov[] = { "--collector.nosuch" };
	char err[512];
	struct shm_config *c = load_with(NULL, ov, 1, CLI_LOAD_FLAG_ERROR, err, sizeof err);

	(void)state;
	assert_non_null(strstr(err, "--collector.nosuch"));
	drop(c);
}

/* ---- backoff ---- */

static void test_backoff_doubles_from_one_second_up_to_a_minute(void **state)
{
	static const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
	uint32_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(backoff_after_failure(&failures, 500), want[i]);
	assert_int_equal(failures, 8);
	assert_int_equal(backoff_delay_ms(UINT32_MAX), BACKOFF_MAX_MS);
}

static void test_backoff_starts_over_after_a_child_ran_longer_than_a_minute(void **state)
{
	uint32_t failures = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		backoff_after_failure(&failures, 100);
	assert_int_equal(backoff_after_failure(&failures, BACKOFF_RESET_AFTER_MS), 32000);
	assert_int_equal(backoff_after_failure(&failures, BACKOFF_RESET_AFTER_MS + 1), 1000);
	assert_int_equal(failures, 1);
	assert_int_equal(backoff_after_failure(&failures, 10), 2000);
}

/* ---- child command lines ---- */

static const char argv_config[] =
    "{\"instance\": \"test\", \"log_level\": \"debug\","
    " \"paths\": {\"procfs\": \"/host/proc\"},"
    " \"web\": {\"listen_address\": \"127.0.0.1:9100\"},"
    " \"collectors\": {\"cpu\": {\"interval\": \"500ms\", \"guest\": false},"
    " \"stat\": {\"enabled\": false}}}";

/* These tests are about the first four collectors; the others are switched off so
 * that the lists stay short whatever else collectors/list.def declares. */
static void only_the_first_four_collectors(struct shm_config *c)
{
	static const char *const kept[] = { "cpu", "meminfo", "loadavg", "stat" };
	for (size_t i = 0; i < c->n_collectors; i++) {
		bool keep = false;
		for (size_t k = 0; k < 4; k++)
			keep = keep || strcmp(c->collectors[i].name, kept[k]) == 0;
		if (!keep)
			c->collectors[i].enabled = false;
	}
}

static void assert_argv(const struct child_argv *a, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < a->argc; i++)
		assert_string_equal(a->argv[i], want[i]);
	assert_int_equal(a->argc, n);
	assert_null(a->argv[n]);
}

static void test_group_command_line_runs_every_collector_that_is_not_isolated(void **state)
{
	static const char *const want[] = { "/x/shmetrics-collector",
					    "--run=cpu:500ms",
					    "--run=loadavg:5s",
					    "--collector.cpu.guest=false",
					    "--instance=test",
					    "--log.level=debug",
					    "--path.procfs=/host/proc",
					    "--path.sysfs=/sys",
					    "--path.rootfs=/",
					    "--path.udev.data=/run/udev/data",
					    "--segments.directory=/run/sm",
					    NULL };
	struct shm_config c = { 0 };
	struct child_argv a;
	char err[512];

	(void)state;
	assert_int_equal(config_load_string(&c, argv_config, "t", err, sizeof err), 0);
	assert_int_equal(setting_set(&c.set, setting_by_key("segments.directory"), "/run/sm", err,
				     sizeof err),
			 0);
	only_the_first_four_collectors(&c);
	config_find_collector(&c, "meminfo")->isolated = true;
	assert_int_equal(child_argv_group(&a, "/x/shmetrics-collector", &c, err, sizeof err), 0);
	assert_argv(&a, want);
	struct member_set m = child_group_members(&c);
	assert_true(member_set_has(&m, 0) && member_set_has(&m, 2)); /* cpu, loadavg */
	assert_int_equal(member_set_count(&m), 2);
	child_argv_free(&a);
	config_free(&c);
}

static void test_an_isolated_collector_has_the_group_command_line_with_itself_alone(void **state)
{
	static const char *const want[] = { "/x/shmetrics-collector",
					    "--run=cpu:500ms",
					    "--collector.cpu.guest=false",
					    "--instance=test",
					    "--log.level=debug",
					    "--path.procfs=/host/proc",
					    "--path.sysfs=/sys",
					    "--path.rootfs=/",
					    "--path.udev.data=/run/udev/data",
					    "--segments.directory=/run/sm",
					    NULL };
	struct shm_config c = { 0 };
	struct child_argv a;
	char err[512];

	(void)state;
	assert_int_equal(config_load_string(&c, argv_config, "t", err, sizeof err), 0);
	assert_int_equal(setting_set(&c.set, setting_by_key("segments.directory"), "/run/sm", err,
				     sizeof err),
			 0);
	config_find_collector(&c, "cpu")->isolated = true;
	assert_int_equal(child_argv_collector(&a, "/x/shmetrics-collector", &c,
					      config_find_collector(&c, "cpu"), err, sizeof err),
			 0);
	assert_argv(&a, want);
	child_argv_free(&a);
	config_free(&c);
}

static void test_isolated_is_a_config_key_and_a_flag_for_builtin_collectors_only(void **state)
{
	char *ov[] = { "--collector.meminfo.isolated", "--no-collector.cpu.isolated" };
	char *unknown[] = { "--collector.nosuch.isolated" };
	char err[512];
	struct shm_config *c = load_with("{\"collectors\": {\"cpu\": {\"isolated\": true}}}", ov, 2,
					 CLI_LOAD_OK, err, sizeof err);

	(void)state;
	assert_false(config_find_collector(c, "cpu")->isolated);
	assert_true(config_find_collector(c, "meminfo")->isolated);
	drop(c);
	c = load_with(NULL, unknown, 1, CLI_LOAD_FLAG_ERROR, err, sizeof err);
	assert_non_null(strstr(err, "--collector.nosuch.isolated"));
	drop(c);
	c = load_with("{\"collectors\": {\"cpu\": {\"isolated\": 1}}}", NULL, 0,
		      CLI_LOAD_CONFIG_ERROR, err, sizeof err);
	assert_non_null(strstr(err, "true or false"));
	drop(c);
}

static void test_exporter_command_line_lists_enabled_collectors_and_the_agent(void **state)
{
	static const char *const want[] = { "/x/shmetrics-exporter",
					    "--collector=cpu",
					    "--collector=meminfo",
					    "--collector=loadavg",
					    "--collector=agent",
					    "--instance=test",
					    "--log.level=debug",
					    "--staleness-intervals=3",
					    "--web.listen-address=127.0.0.1:9100",
					    "--web.config.file=",
					    "--web.openmetrics=true",
					    "--web.timeout=10s",
					    "--web.max-connections=64",
					    "--web.max-connections-per-ip=16",
					    "--web.threads=2",
					    "--web.cache=1s",
					    "--history.retention=15m",
					    "--history.memory-limit-mib=16",
					    "--segments.max-series=10000",
					    "--segments.directory=/run/sm",
					    NULL };
	struct shm_config c = { 0 };
	struct child_argv a;
	char err[512];

	(void)state;
	assert_int_equal(config_load_string(&c, argv_config, "t", err, sizeof err), 0);
	assert_int_equal(setting_set(&c.set, setting_by_key("segments.directory"), "/run/sm", err,
				     sizeof err),
			 0);
	only_the_first_four_collectors(&c);
	assert_int_equal(child_argv_exporter(&a, "/x/shmetrics-exporter", &c, err, sizeof err), 0);
	assert_argv(&a, want);
	child_argv_free(&a);
	config_free(&c);
}

static void test_exporter_gets_the_history_settings(void **state)
{
	static const char *const cfg[] = {
		"{\"web\": {\"history_retention\": \"0s\", \"history_memory_limit_mib\": 8}}",
		"{\"web\": {\"history_retention\": \"1h\"}}",
		"{}",
	};
	static const char *const want[][2] = {
		{ "--history.retention=0s", "--history.memory-limit-mib=8" },
		{ "--history.retention=1h", "--history.memory-limit-mib=16" },
		{ "--history.retention=15m", "--history.memory-limit-mib=16" },
	};
	struct shm_config c = { 0 };
	struct child_argv a;
	char err[512];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t found = 0;
		assert_int_equal(config_load_string(&c, cfg[i], "t", err, sizeof err), 0);
		assert_int_equal(child_argv_exporter(&a, "x", &c, err, sizeof err), 0);
		for (size_t k = 0; k < a.argc; k++) {
			if (strncmp(a.argv[k], "--history.", 10) != 0)
				continue;
			assert_string_equal(a.argv[k], want[i][found]);
			found++;
		}
		assert_int_equal(found, 2);
		child_argv_free(&a);
	}
	config_free(&c);
}

static void test_durations_are_written_the_way_the_children_read_them(void **state)
{
	static const struct {
		uint32_t ms;
		const char *text;
	} cases[] = { { 500, "500ms" },     { 1500, "1s500ms" }, { 5000, "5s" },
		      { 90000, "1m30s" },   { 120000, "2m" },    { 3600000, "1h" },
		      { 5400000, "1h30m" }, { 0, "0s" } };
	char buf[32], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t back = 0;
		config_format_duration_ms(cases[i].ms, buf, sizeof buf);
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(config_parse_duration_ms(buf, &back, err, sizeof err), 0);
		assert_int_equal(back, cases[i].ms);
	}
}

/* ---- reload diff ---- */

struct want_action {
	const char *name;
	enum reload_action action;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_items(const char *what, const struct reload_item *items, size_t n,
			const struct want_action *want, size_t n_want)
{
	for (size_t i = 0; i < n; i++)
		print_message("  %s %s: %s\n", what, items[i].name,
			      reload_action_name(items[i].action));
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(items[i].name, want[i].name);
		assert_string_equal(reload_action_name(items[i].action),
				    reload_action_name(want[i].action));
	}
}

/* The plan from old_json to new_json, both with only the first four collectors. */
static void check_plan(const char *old_json, const char *new_json,
		       const struct want_action *segments, size_t n_segments,
		       const struct want_action *processes, size_t n_processes)
{
	struct shm_config *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	struct reload_plan *p = calloc(1, sizeof *p);
	char err[512];

	assert_int_equal(config_load_string(a, old_json, "old", err, sizeof err), 0);
	assert_int_equal(config_load_string(b, new_json, "new", err, sizeof err), 0);
	only_the_first_four_collectors(a);
	only_the_first_four_collectors(b);
	assert_int_equal(reload_plan_make(a, b, p, err, sizeof err), 0);
	check_items("segment", p->segments, p->n_segments, segments, n_segments);
	check_items("process", p->processes, p->n_processes, processes, n_processes);
	drop(a);
	drop(b);
	free(p);
}

static const struct want_action every_segment_kept[] = {
	{ "cpu", RELOAD_KEEP },
	{ "meminfo", RELOAD_KEEP },
	{ "loadavg", RELOAD_KEEP },
	{ "stat", RELOAD_KEEP },
};

static void test_reload_of_the_same_config_keeps_every_segment_and_process(void **state)
{
	static const struct want_action processes[] = {
		{ "host", RELOAD_KEEP },
		{ "exporter", RELOAD_KEEP },
	};

	(void)state;
	check_plan("{}", "{\"interval\": \"5s\"}", every_segment_kept, N(every_segment_kept),
		   processes, N(processes));
}

static void test_reload_restarts_the_group_once_when_one_collector_changed_and_one_went(
    void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_RESTART },
		{ "meminfo", RELOAD_KEEP },
		{ "loadavg", RELOAD_KEEP },
		{ "stat", RELOAD_STOP },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_RESTART },
		{ "exporter", RELOAD_RESTART },
	};

	(void)state;
	check_plan("{}",
		   "{\"collectors\": {\"cpu\": {\"interval\": \"1s\"},"
		   " \"stat\": {\"enabled\": false}}}",
		   segments, N(segments), processes, N(processes));
}

static void test_reload_starts_a_newly_enabled_collector_in_the_group(void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_KEEP },
		{ "stat", RELOAD_START },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_RESTART },
		{ "exporter", RELOAD_RESTART },
	};

	(void)state;
	check_plan("{\"collectors\": {\"meminfo\": {\"enabled\": false},"
		   " \"loadavg\": {\"enabled\": false}, \"stat\": {\"enabled\": false}}}",
		   "{\"collectors\": {\"meminfo\": {\"enabled\": false},"
		   " \"loadavg\": {\"enabled\": false}}}",
		   segments, N(segments), processes, N(processes));
}

static void test_reload_of_a_web_setting_restarts_only_the_exporter(void **state)
{
	static const struct want_action processes[] = {
		{ "host", RELOAD_KEEP },
		{ "exporter", RELOAD_RESTART },
	};

	(void)state;
	check_plan("{}", "{\"web\": {\"listen_address\": \"127.0.0.1:9999\"}}", every_segment_kept,
		   N(every_segment_kept), processes, N(processes));
}

static void test_reload_of_a_shared_path_restarts_every_collector_but_not_the_exporter(void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_RESTART },
		{ "meminfo", RELOAD_RESTART },
		{ "loadavg", RELOAD_RESTART },
		{ "stat", RELOAD_RESTART },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_RESTART },
		{ "loadavg", RELOAD_RESTART },
		{ "exporter", RELOAD_KEEP },
	};

	(void)state;
	check_plan("{\"collectors\": {\"loadavg\": {\"isolated\": true}}}",
		   "{\"paths\": {\"procfs\": \"/host/proc\"},"
		   " \"collectors\": {\"loadavg\": {\"isolated\": true}}}",
		   segments, N(segments), processes, N(processes));
}

static void test_reload_of_a_grouped_collector_leaves_an_isolated_one_running(void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_RESTART },
		{ "meminfo", RELOAD_KEEP },
		{ "loadavg", RELOAD_KEEP },
		{ "stat", RELOAD_KEEP },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_RESTART },
		{ "loadavg", RELOAD_KEEP },
		{ "exporter", RELOAD_KEEP },
	};

	(void)state;
	check_plan("{\"collectors\": {\"loadavg\": {\"isolated\": true}}}",
		   "{\"collectors\": {\"loadavg\": {\"isolated\": true},"
		   " \"cpu\": {\"guest\": false}}}",
		   segments, N(segments), processes, N(processes));
}

static void test_reload_moving_a_collector_out_of_the_group_starts_its_own_process(void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_KEEP },
		{ "meminfo", RELOAD_RESTART },
		{ "loadavg", RELOAD_KEEP },
		{ "stat", RELOAD_KEEP },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_RESTART },
		{ "meminfo", RELOAD_START },
		{ "exporter", RELOAD_KEEP },
	};

	(void)state;
	check_plan("{}", "{\"collectors\": {\"meminfo\": {\"isolated\": true}}}", segments,
		   N(segments), processes, N(processes));
}

static void test_reload_moving_the_last_collectors_out_of_the_group_stops_it(void **state)
{
	static const struct want_action segments[] = {
		{ "cpu", RELOAD_RESTART },
		{ "meminfo", RELOAD_STOP },
		{ "loadavg", RELOAD_STOP },
		{ "stat", RELOAD_STOP },
	};
	static const struct want_action processes[] = {
		{ "host", RELOAD_STOP },
		{ "cpu", RELOAD_START },
		{ "exporter", RELOAD_RESTART },
	};

	(void)state;
	check_plan("{}",
		   "{\"collectors\": {\"cpu\": {\"isolated\": true},"
		   " \"meminfo\": {\"enabled\": false}, \"loadavg\": {\"enabled\": false},"
		   " \"stat\": {\"enabled\": false}}}",
		   segments, N(segments), processes, N(processes));
}

static void test_reload_refuses_to_change_the_instance(void **state)
{
	struct shm_config *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	struct reload_plan *p = calloc(1, sizeof *p);
	char err[512];

	(void)state;
	assert_int_equal(config_load_string(a, "{}", "old", err, sizeof err), 0);
	assert_int_equal(config_load_string(b, "{\"instance\": \"other\"}", "new", err, sizeof err),
			 0);
	assert_int_equal(reload_plan_make(a, b, p, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "instance"));
	drop(a);
	drop(b);
	free(p);
}

/* ---- exits ---- */

static void test_exits_are_described_as_the_log_says(void **state)
{
	struct child c = { .kind = CHILD_COLLECTOR, .name = "cpu", .pid = 1234 };
	struct child e = { .kind = CHILD_EXPORTER, .name = "exporter", .pid = 77 };
	struct child g = { .kind = CHILD_GROUP, .name = "host", .pid = 1230 };
	char buf[128];

	(void)state;
	exit_status_describe(11 | 0x80, buf, sizeof buf); /* Linux: signal 11, core dumped */
	assert_string_equal(buf, "exited on signal 11 (core dumped)");
	exit_status_describe(9, buf, sizeof buf);
	assert_string_equal(buf, "exited on signal 9");
	exit_status_describe(1 << 8, buf, sizeof buf);
	assert_string_equal(buf, "exited with status 1");
	exit_status_describe(78 << 8, buf, sizeof buf);
	assert_string_equal(buf, "exited with status 78 (configuration error)");
	assert_true(exit_status_is_config_error(78 << 8));
	assert_false(exit_status_is_config_error(1 << 8));
	child_label(&c, buf, sizeof buf);
	assert_string_equal(buf, "collector cpu[1234]");
	child_label(&e, buf, sizeof buf);
	assert_string_equal(buf, "exporter[77]");
	child_label(&g, buf, sizeof buf);
	assert_string_equal(buf, "collectors host[1230]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_line_parses_as_the_table_says),
		cmocka_unit_test(test_help_lists_every_builtin_collector_with_its_default),
		cmocka_unit_test(test_every_setting_is_an_agent_flag_that_loads),
		cmocka_unit_test(test_overrides_apply_after_the_file_in_the_order_given),
		cmocka_unit_test(test_a_bad_file_is_a_config_error_with_line_and_column),
		cmocka_unit_test(test_a_bad_override_is_a_flag_error_naming_the_flag),
		cmocka_unit_test(test_backoff_doubles_from_one_second_up_to_a_minute),
		cmocka_unit_test(test_backoff_starts_over_after_a_child_ran_longer_than_a_minute),
		cmocka_unit_test(test_group_command_line_runs_every_collector_that_is_not_isolated),
		cmocka_unit_test(
		    test_an_isolated_collector_has_the_group_command_line_with_itself_alone),
		cmocka_unit_test(
		    test_isolated_is_a_config_key_and_a_flag_for_builtin_collectors_only),
		cmocka_unit_test(test_exporter_command_line_lists_enabled_collectors_and_the_agent),
		cmocka_unit_test(test_exporter_gets_the_history_settings),
		cmocka_unit_test(test_durations_are_written_the_way_the_children_read_them),
		cmocka_unit_test(test_reload_of_the_same_config_keeps_every_segment_and_process),
		cmocka_unit_test(
		    test_reload_restarts_the_group_once_when_one_collector_changed_and_one_went),
		cmocka_unit_test(test_reload_starts_a_newly_enabled_collector_in_the_group),
		cmocka_unit_test(test_reload_of_a_web_setting_restarts_only_the_exporter),
		cmocka_unit_test(
		    test_reload_of_a_shared_path_restarts_every_collector_but_not_the_exporter),
		cmocka_unit_test(test_reload_of_a_grouped_collector_leaves_an_isolated_one_running),
		cmocka_unit_test(
		    test_reload_moving_a_collector_out_of_the_group_starts_its_own_process),
		cmocka_unit_test(test_reload_moving_the_last_collectors_out_of_the_group_stops_it),
		cmocka_unit_test(test_reload_refuses_to_change_the_instance),
		cmocka_unit_test(test_exits_are_described_as_the_log_says),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
