/* Custom collectors on the agent's side: config keys, command lines, environment, reload. */
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

#include "../agent/child_argv.h"
#include "config.h"
#include "../agent/custom.h"
#include "../agent/reload.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Frees a configuration from load() and the like. */
static void drop(struct shm_config *c)
{
	config_free(c);
	free(c);
}

static char err[1024];

static struct shm_config *load(const char *text)
{
	struct shm_config *c = calloc(1, sizeof *c);

	assert_non_null(c);
	if (config_load_string(c, text, "t.json", err, sizeof err) != 0)
		fail_msg("load failed: %s", err);
	return c;
}

static const char good[] =
    "{\"interval\": \"2s\", \"custom_collectors\": {\n"
    "  \"app\": {\"command\": [\"/usr/bin/app\", \"--x\", \"\"], \"env\": {\"A\": \"1\"},\n"
    "           \"interval\": \"10s\", \"max_series\": 50},\n"
    "  \"check\": {\"exec\": [\"/bin/check.sh\", \"a b\"], \"timeout\": \"3s\", \"interval\": \"5s\"},\n"
    "  \"ext\": {\"external\": true, \"mode\": \"0660\", \"enabled\": false}\n"
    "}}";

static void test_custom_collectors_load_with_their_kind_and_settings(void **state)
{
	(void)state;
	struct shm_config *c = load(good);
	const struct custom_collector_config *app = config_find_custom(c, "app");
	const struct custom_collector_config *chk = config_find_custom(c, "check");
	const struct custom_collector_config *ext = config_find_custom(c, "ext");

	assert_int_equal(c->n_custom, 3);
	assert_non_null(app);
	assert_int_equal(app->kind, CUSTOM_COMMAND);
	assert_int_equal(app->argc, 3);
	assert_string_equal(app->args, "/usr/bin/app");
	assert_int_equal(app->envc, 1);
	assert_string_equal(app->env, "A=1");
	assert_int_equal(app->max_series, 50);
	assert_int_equal(config_find_collector(c, "app")->interval_ms, 10000);
	assert_true(config_find_collector(c, "app")->enabled);
	assert_int_equal(chk->kind, CUSTOM_EXEC);
	assert_int_equal(chk->timeout_ms, 3000);
	assert_int_equal(config_find_collector(c, "check")->interval_ms, 5000);
	assert_int_equal(config_find_collector(c, "ext")->interval_ms, 2000);
	assert_int_equal(ext->kind, CUSTOM_EXTERNAL);
	assert_int_equal(ext->mode, 0660);
	assert_false(config_find_collector(c, "ext")->enabled);
	drop(c);
}

struct bad {
	const char *text, *want;
};

static void test_bad_custom_collectors_fail_with_position_and_reason(void **state)
{
	(void)state;
	static const struct bad cases[] = {
		{ "{\"custom_collectors\": []}",
		  "t.json:1:23: custom_collectors: expected an object" },
		{ "{\"custom_collectors\": {\"cpu\": {\"external\": true}}}",
		  "t.json:1:24: \"cpu\" is the name of a built-in collector" },
		{ "{\"custom_collectors\": {\"agent\": {\"external\": true}}}",
		  "built-in collector or process" },
		{ "{\"custom_collectors\": {\"a.b\": {\"external\": true}}}",
		  "not a valid collector name" },
		{ "{\"custom_collectors\": {\"x\": {}}}", "say how the collector runs" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"external\": true}}}",
		  "exactly one of \"command\", \"exec\" and \"external\"" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"app\"]}}}",
		  "command[0]: \"app\" is not an absolute path" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": []}}}",
		  "a non-empty array of strings" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\", 1]}}}",
		  "custom_collectors.x.command[1]: expected a string" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"timeout\": \"1s\"}}}",
		  "only \"exec\" collectors have a timeout" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": true, \"env\": {}}}}",
		  "cannot set its environment" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": false}}}", "expected true" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"env\": {\"SHMETRICS_SEGMENT_FD\": \"4\"}}}}",
		  "SHMETRICS_SEGMENT_FD is set by the agent" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"env\": {\"1A\": \"x\"}}}}",
		  "is not a variable name" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"user\": \"no-such-user-xyz\"}}}",
		  "no user named \"no-such-user-xyz\"" },
		{ "{\"custom_collectors\": {\"x\": {\"command\": [\"/a\"], \"user\": \"root\", \"mode\": \"0640\"}}}",
		  "the mode needs group read and write" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": true, \"mode\": 416}}}",
		  "octal string" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": true, \"group\": \"no-such-group-xyz\"}}}",
		  "no group named" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": true, \"max_series\": 0}}}",
		  "out of range" },
		{ "{\"custom_collectors\": {\"x\": {\"external\": true, \"intervall\": \"1s\"}}}",
		  "unknown key \"intervall\" in custom_collectors.x; did you mean \"interval\"?" },
		{ "{\"interval\": \"5s\", \"custom_collectors\": {\"x\": {\"exec\": [\"/a\"], \"timeout\": \"6s\"}}}",
		  "custom_collectors.x.timeout: 6000ms is longer than the collector's interval" },
		{ "{\"collectors\": {\"app\": {}}, \"custom_collectors\": {\"app\": {\"external\": true}}}",
		  "unknown collector \"app\" in collectors" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct shm_config *c = calloc(1, sizeof *c);
		assert_non_null(c);
		err[0] = '\0';
		assert_int_equal(config_load_string(c, cases[i].text, "t.json", err, sizeof err),
				 -EINVAL);
		if (strstr(err, cases[i].want) == NULL || strncmp(err, "t.json:", 7) != 0)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].want);
		drop(c);
	}
}

static void test_disable_defaults_leaves_custom_collectors_on(void **state)
{
	(void)state;
	struct shm_config *c = load(good);
	assert_int_equal(config_apply_flag(c, "--collector.disable-defaults", err, sizeof err), 1);
	assert_true(config_find_collector(c, "app")->enabled);
	assert_false(config_find_collector(c, "cpu")->enabled);
	assert_int_equal(config_apply_flag(c, "--no-collector.app", err, sizeof err), 1);
	assert_false(config_find_collector(c, "app")->enabled);
	drop(c);
}

static void expect_argv(const struct child_argv *a, const char *const *want, size_t n)
{
	assert_int_equal(a->argc, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a->argv[i], want[i]);
	assert_null(a->argv[n]);
}

static void test_command_lines_follow_the_documented_contract(void **state)
{
	(void)state;
	struct shm_config *c = load(good);
	char why[256];
	assert_int_equal(setting_set(&c->set, setting_by_key("segments.directory"), "/run/sm", why,
				     sizeof why),
			 0);

	struct child_argv a;
	static const char *const app[] = { "/usr/bin/app", "--x", "" };
	static const char *const chk[] = {
		"/libexec/shmetrics-collector",
		"--collector=check",
		"--interval=5s",
		"--exec.timeout=3s",
		"--exec.command=/bin/check.sh",
		"--exec.arg=a b",
		"--instance=main",
		"--log.level=info",
		"--path.procfs=/proc",
		"--path.sysfs=/sys",
		"--path.rootfs=/",
		"--path.udev.data=/run/udev/data",
		"--segments.directory=/run/sm",
	};


	assert_int_equal(child_argv_collector(&a, "/libexec/shmetrics-collector", c,
					      config_find_collector(c, "app"), err, sizeof err),
			 0);
	expect_argv(&a, app, N(app));
	child_argv_free(&a);
	assert_int_equal(child_argv_collector(&a, "/libexec/shmetrics-collector", c,
					      config_find_collector(c, "check"), err, sizeof err),
			 0);
	expect_argv(&a, chk, N(chk));
	child_argv_free(&a);
	assert_int_equal(child_argv_collector(&a, "/libexec/shmetrics-collector", c,
					      config_find_collector(c, "ext"), err, sizeof err),
			 0);
	assert_int_equal(a.argc, 0);
	child_argv_free(&a);

	assert_int_equal(child_argv_exporter(&a, "exporter", c, err, sizeof err), 0);
	bool app_listed = false, ext_listed = false;
	for (size_t i = 0; i < a.argc; i++) {
		app_listed |= strcmp(a.argv[i], "--collector=app") == 0;
		ext_listed |= strcmp(a.argv[i], "--collector=ext") == 0;
	}
	assert_true(app_listed);
	assert_false(ext_listed); /* disabled */
	child_argv_free(&a);
	drop(c);
}

static bool env_has(char **envp, const char *want)
{
	for (; *envp; envp++)
		if (strcmp(*envp, want) == 0)
			return true;
	return false;
}

static void test_environment_carries_the_segment_and_the_configured_variables(void **state)
{
	(void)state;
	struct shm_config *c = load(good);
	struct child_exec x;

	setenv("SHMETRICS_SEGMENT_FD", "7", 1);
	setenv("A", "overridden", 1);
	assert_int_equal(custom_exec_prepare(&x, c, config_find_custom(c, "app"), 10000, err,
					     sizeof err),
			 0);
	assert_true(env_has(x.envp, "SHMETRICS_SEGMENT_FD=3")); /* sandbox.h: descriptor 3 */
	assert_true(x.plugin && x.isolate);
	assert_true(env_has(x.envp, "SHMETRICS_COLLECTOR=app"));
	assert_true(env_has(x.envp, "SHMETRICS_INSTANCE=main"));
	assert_true(env_has(x.envp, "SHMETRICS_INTERVAL=10s"));
	assert_true(env_has(x.envp, "A=1"));
	assert_false(env_has(x.envp, "A=overridden"));
	assert_false(env_has(x.envp, "SHMETRICS_SEGMENT_FD=7"));
	assert_false(x.set_ids);
	child_exec_free(&x);
	unsetenv("SHMETRICS_SEGMENT_FD");
	unsetenv("A");
	drop(c);
}

static void test_a_user_is_resolved_before_fork_and_owns_the_segment_through_its_group(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	struct shm_config *c = load(
	    "{\"custom_collectors\": {\"u\": {\"command\": [\"/bin/true\"], "
	    "\"user\": \"nobody\"}}}");
	struct child_exec x;
	struct segment_options o = { .mode = 0640, .gid = (gid_t)-1 };

	assert_int_equal(custom_exec_prepare(&x, c, config_find_custom(c, "u"), 5000, err,
					     sizeof err),
			 0);
	assert_true(x.set_ids);
	assert_true(x.uid != 0);
	child_exec_free(&x);
	assert_int_equal(custom_segment_options(c, "u", &o, err, sizeof err), 0);
	assert_int_equal(o.mode, 0660);
	assert_true(o.gid != (gid_t)-1);
	o.mode = 0640;
	assert_int_equal(custom_segment_options(c, "cpu", &o, err, sizeof err), 0);
	assert_int_equal(o.mode, 0640); /* built-in collectors are left alone */
	drop(c);
}

/* What happens to the process of name (custom collectors always have their own). */
static enum reload_action action_of(const struct reload_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_processes; i++)
		if (strcmp(p->processes[i].name, name) == 0)
			return p->processes[i].action;
	fail_msg("%s is not in the plan", name);
	return RELOAD_KEEP;
}

static void test_reload_restarts_only_the_custom_collector_that_changed(void **state)
{
	(void)state;
	static const char changed[] =
	    "{\"interval\": \"2s\", \"custom_collectors\": {\n"
	    "  \"app\": {\"command\": [\"/usr/bin/app\", \"--x\", \"\"], \"env\": {\"A\": \"2\"},\n"
	    "           \"interval\": \"10s\", \"max_series\": 50},\n"
	    "  \"check\": {\"exec\": [\"/bin/check.sh\", \"a b\"], \"timeout\": \"3s\", \"interval\": \"5s\"},\n"
	    "  \"new\": {\"external\": true}\n"
	    "}}";
	struct shm_config *a = load(good), *b = load(good), *d = load(changed);
	struct reload_plan *p = malloc(sizeof *p);

	assert_non_null(p);
	assert_int_equal(reload_plan_make(a, b, p, err, sizeof err), 0);
	assert_int_equal(action_of(p, "app"), RELOAD_KEEP);
	assert_int_equal(action_of(p, "check"), RELOAD_KEEP);
	assert_int_equal(action_of(p, RELOAD_EXPORTER), RELOAD_KEEP);
	assert_int_equal(reload_plan_make(a, d, p, err, sizeof err), 0);
	assert_int_equal(action_of(p, "app"), RELOAD_RESTART);
	assert_int_equal(action_of(p, "check"), RELOAD_KEEP);
	assert_int_equal(action_of(p, "new"), RELOAD_START);
	assert_int_equal(action_of(p, RELOAD_EXPORTER), RELOAD_RESTART);
	assert_int_equal(reload_plan_make(d, a, p, err, sizeof err), 0);
	assert_int_equal(action_of(p, "new"), RELOAD_STOP);
	free(p);
	drop(a);
	drop(b);
	drop(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_custom_collectors_load_with_their_kind_and_settings),
		cmocka_unit_test(test_bad_custom_collectors_fail_with_position_and_reason),
		cmocka_unit_test(test_disable_defaults_leaves_custom_collectors_on),
		cmocka_unit_test(test_command_lines_follow_the_documented_contract),
		cmocka_unit_test(test_environment_carries_the_segment_and_the_configured_variables),
		cmocka_unit_test(
		    test_a_user_is_resolved_before_fork_and_owns_the_segment_through_its_group),
		cmocka_unit_test(test_reload_restarts_only_the_custom_collector_that_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
