/*
 * test_settings.c - the contract between the agent and its children
 * (config/settings.def): every setting's default parses, every value written
 * reads back the same, and each child reads exactly the settings of its role
 * from the command line the agent writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define ERRLEN 512

/* A value for each setting other than its default (and valid for it). */
static const char *other_value(const struct setting_def *d)
{
	switch (d->type) {
	case VALUE_NAME:
		return "blue_2-x";
	case VALUE_LOGLEVEL:
		return "debug";
	case VALUE_DURATION:
	case VALUE_SECONDS:
		return d->hi >= 90 * (d->type == VALUE_DURATION ? 1000u : 1u) ? "1m30s" : "1s";
	case VALUE_UINT:
		return "7";
	case VALUE_BOOL:
		return strcmp(d->default_text, "true") == 0 ? "false" : "true";
	case VALUE_PATH:
	case VALUE_FILE:
	case VALUE_DIR:
		return "/h/some where/x";
	case VALUE_LISTEN:
		return "[::1]:9100";
	case VALUE_MODE:
		return "0600";
	case VALUE_GROUP:
		return "root";
	}
	return NULL;
}

static void set_all_to_other_values(struct settings *s)
{
	char err[ERRLEN];

	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		if (setting_set(s, d, other_value(d), err, sizeof err) != 0)
			fail_msg("%s=%s: %s", d->key, other_value(d), err);
	}
}

static void test_every_setting_has_a_key_a_flag_help_and_a_default_that_parses(void **state)
{
	struct settings s;

	(void)state;
	assert_int_equal(settings_init(&s), 0);
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		char buf[SETTING_TEXT_MAX];
		assert_int_equal(d->id, i);
		assert_non_null(d->key);
		assert_true(d->flag || d->roles == R_AGENT); /* a child reads flags */
		assert_true(!d->flag || strncmp(d->flag, "--", 2) == 0);
		assert_true(d->help && *d->help);
		assert_ptr_equal(setting_by_key(d->key), d);
		if (d->flag)
			assert_ptr_equal(setting_by_flag(d->flag, strlen(d->flag)), d);
		/* the default as written reads back as what was parsed */
		setting_format(&s, d, buf, sizeof buf);
		struct settings t;
		assert_int_equal(settings_init(&t), 0);
		char err[ERRLEN];
		if (setting_set(&t, d, buf, err, sizeof err) != 0)
			fail_msg("%s: its own text \"%s\" does not parse: %s", d->key, buf, err);
		assert_true(setting_equal(&s, &t, d));
		settings_free(&t);
	}
	settings_free(&s);
}

static void test_every_value_written_reads_back_the_same(void **state)
{
	struct settings s, t;
	char buf[SETTING_TEXT_MAX], err[ERRLEN];

	(void)state;
	assert_int_equal(settings_init(&s), 0);
	assert_int_equal(settings_init(&t), 0);
	set_all_to_other_values(&s);
	assert_false(settings_equal(&s, &t, SETTINGS_ALL));
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		assert_false(setting_equal(&s, &t, d)); /* other_value is not the default */
		assert_int_equal(setting_set(&t, d, setting_format(&s, d, buf, sizeof buf), err,
					     sizeof err),
				 0);
	}
	assert_true(settings_equal(&s, &t, SETTINGS_ALL));
	settings_free(&s);
	settings_free(&t);
}

static void test_copies_are_deep_and_free_is_idempotent(void **state)
{
	struct settings a, b = { 0 };
	char err[ERRLEN];

	(void)state;
	assert_int_equal(settings_init(&a), 0);
	assert_int_equal(settings_copy(&b, &a), 0);
	assert_ptr_not_equal(a.instance, b.instance);
	assert_int_equal(setting_set(&b, &setting_defs[SETTING_instance], "x", err, sizeof err), 0);
	assert_string_equal(a.instance, "main");
	settings_free(&a);
	settings_free(&a);
	settings_free(&b);
}

/* ---- command lines ---- */

struct argv_buf {
	int argc;
	char *argv[SETTING_COUNT + 8];
};

static int push(void *ctx, const char *arg)
{
	struct argv_buf *a = ctx;
	a->argv[a->argc++] = strdup(arg);
	return 0;
}

static void argv_free(struct argv_buf *a)
{
	for (int i = 1; i < a->argc; i++)
		free(a->argv[i]);
}

/* What the agent writes for role, read back by a child of that role. */
static void check_role(unsigned role)
{
	struct settings agent, child;
	struct argv_buf a = { 1, { "child" } };
	char err[ERRLEN] = "";

	assert_int_equal(settings_init(&agent), 0);
	assert_int_equal(settings_init(&child), 0);
	set_all_to_other_values(&agent);
	agent.max_connections = 100; /* other_value gives both limits 7 */
	assert_int_equal(settings_argv(&agent, role, push, &a), 0);
	if (settings_parse_argv(&child, role, a.argc, a.argv, NULL, err, sizeof err) != 0)
		fail_msg("%s: %s", role_name(role), err);
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		bool carried = (d->roles & role) != 0;
		bool flag_seen = false;
		for (int k = 1; d->flag && k < a.argc; k++)
			flag_seen |= strncmp(a.argv[k], d->flag, strlen(d->flag)) == 0 &&
				     a.argv[k][strlen(d->flag)] == '=';
		assert_int_equal(flag_seen, carried);
		/* carried: the agent's value; not carried: still the default */
		assert_int_equal(setting_equal(&agent, &child, d), carried);
	}
	argv_free(&a);
	settings_free(&agent);
	settings_free(&child);
}

static void test_each_child_reads_exactly_the_settings_of_its_role(void **state)
{
	(void)state;
	for (unsigned r = 0; r < ROLE_COUNT; r++)
		check_role(1u << r);
}

static void test_a_child_refuses_settings_of_other_roles_and_unknown_flags(void **state)
{
	static const struct {
		unsigned role;
		const char *arg;
		const char *want;
	} cases[] = {
		{ R_EXPORTER, "--path.procfs=/proc",
		  "--path.procfs is not a setting of the exporter" },
		{ R_COLLECTOR, "--web.threads=2",
		  "--web.threads is not a setting of the collector" },
		{ R_COLLECTOR, "--segments.max-series=5", "is not a setting of the collector" },
		{ R_EXPORTER, "--web.threads=0", "--web.threads: 0 is out of range" },
		{ R_EXPORTER, "--web.threads", "--web.threads: needs a value" },
		{ R_EXPORTER, "--nope=1", "unknown flag --nope" },
		{ R_EXPORTER, "stray", "unexpected argument \"stray\"" },
		{ R_EXPORTER, "--no-web.threads", "unknown flag --no-web.threads" },
	};
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct settings s;
		char *argv[] = { "child", (char *)cases[i].arg };
		assert_int_equal(settings_init(&s), 0);
		err[0] = '\0';
		assert_int_equal(settings_parse_argv(&s, cases[i].role, 2, argv, NULL, err,
						     sizeof err),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].arg, err, cases[i].want);
		settings_free(&s);
	}
}

static void test_a_child_takes_both_spellings_and_switches(void **state)
{
	char *argv[] = { "child",
			 "--web.threads",
			 "3",
			 "--no-web.openmetrics",
			 "--web.max-connections=10",
			 "--web.max-connections-per-ip",
			 "10" };
	struct settings s;
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(settings_init(&s), 0);
	if (settings_parse_argv(&s, R_EXPORTER, 7, argv, NULL, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(s.threads, 3);
	assert_false(s.openmetrics);
	assert_int_equal(s.max_connections_per_ip, 10);
	settings_free(&s);
	/* the per-IP limit is judged once the whole command line is read */
	char *bad[] = { "child", "--web.max-connections-per-ip=20", "--web.max-connections=10" };
	assert_int_equal(settings_init(&s), 0);
	assert_int_equal(settings_parse_argv(&s, R_EXPORTER, 3, bad, NULL, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "--web.max-connections-per-ip: 20 is out of range"));
	settings_free(&s);
}

struct job_seen {
	const char *run;
	int taken;
};

static int take(void *ctx, const char *name, size_t len, const char *value, char *err,
		size_t errlen)
{
	struct job_seen *j = ctx;
	(void)err;
	(void)errlen;
	if (len != 5 || strncmp(name, "--run", 5) != 0)
		return 0;
	j->run = value;
	j->taken++;
	return 1;
}

static bool takes_value(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	return len == 5 && strncmp(name, "--run", 5) == 0;
}

static void test_job_arguments_go_to_the_child_and_unknown_ones_are_refused(void **state)
{
	struct job_seen seen = { NULL, 0 };
	const struct settings_job job = { take, takes_value, &seen };
	char *argv[] = { "child", "--run", "cpu:/s:5s", "--log.level=warn" };
	char *bad[] = { "child", "--walk=1" };
	struct settings s;
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(settings_init(&s), 0);
	assert_int_equal(settings_parse_argv(&s, R_COLLECTOR, 4, argv, &job, err, sizeof err), 0);
	assert_string_equal(seen.run, "cpu:/s:5s");
	assert_string_equal(s.log_level, "warn");
	assert_int_equal(settings_parse_argv(&s, R_COLLECTOR, 2, bad, &job, err, sizeof err),
			 -EINVAL);
	assert_string_equal(err, "unknown flag --walk");
	settings_free(&s);
}

static void test_help_lists_the_settings_of_the_roles_asked_for(void **state)
{
	char *text = NULL;
	size_t len = 0;

	(void)state;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	settings_usage(f, 30, R_EXPORTER);
	fclose(f);
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		char needle[128];
		if (!d->flag)
			continue;
		snprintf(needle, sizeof needle, "  %s", d->flag);
		assert_int_equal(strstr(text, needle) != NULL, (d->roles & R_EXPORTER) != 0);
	}
	assert_non_null(strstr(text, "--web.openmetrics, --no-web.openmetrics"));
	assert_non_null(strstr(text, "(default \"16\")"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_every_setting_has_a_key_a_flag_help_and_a_default_that_parses),
		cmocka_unit_test(test_every_value_written_reads_back_the_same),
		cmocka_unit_test(test_copies_are_deep_and_free_is_idempotent),
		cmocka_unit_test(test_each_child_reads_exactly_the_settings_of_its_role),
		cmocka_unit_test(test_a_child_refuses_settings_of_other_roles_and_unknown_flags),
		cmocka_unit_test(test_a_child_takes_both_spellings_and_switches),
		cmocka_unit_test(test_job_arguments_go_to_the_child_and_unknown_ones_are_refused),
		cmocka_unit_test(test_help_lists_the_settings_of_the_roles_asked_for),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
