/*
 * test_config.c - the config module: defaults, overrides, every error message
 * with its line and column, command-line flags, value parsers, the position index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "config.h"
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRLEN 1024
#define N(a)   (sizeof(a) / sizeof((a)[0]))

/* How many built-in collectors collectors/list.def declares. */
#define COLLECTOR(name, on) +1
enum {
	N_BUILTIN = 0
#include "list.def"
};
#undef COLLECTOR

static char fixture_buf[PATH_MAX];

/* Tests run from the repository root; SRCDIR points elsewhere when they do not. */
static const char *src_path(const char *rel)
{
	const char *dir = getenv("SRCDIR");
	snprintf(fixture_buf, sizeof fixture_buf, "%s/%s", dir ? dir : ".", rel);
	return fixture_buf;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\"\n     in \"%s\"", needle, haystack);
}

static struct shm_config *new_config(void)
{
	struct shm_config *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(config_init(c), 0);
	return c;
}

static void drop(struct shm_config *c)
{
	config_free(c);
	free(c);
}

/* Sets one setting of c, as a file or a flag would. */
static void set(struct shm_config *c, enum setting_id id, const char *text)
{
	char err[ERRLEN] = "";
	if (setting_set(&c->set, &setting_defs[id], text, err, sizeof err) != 0)
		fail_msg("setting %s to \"%s\": %s", setting_defs[id].key, text, err);
}

/* A setting of c as text ("5s", "/proc", "64"). */
static const char *text_of(const struct shm_config *c, enum setting_id id)
{
	static char buf[SETTING_TEXT_MAX];
	return setting_format(&c->set, &setting_defs[id], buf, sizeof buf);
}

static struct shm_config *load_ok(const char *json)
{
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	int rc = config_load_string(c, json, "t.json", err, sizeof err);
	if (rc)
		fail_msg("load of %s failed: %s", json, err);
	return c;
}

/* ---- defaults ---- */

static void test_embedded_default_loads_with_the_documented_values(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *c = calloc(1, sizeof *c);
	assert_non_null(c);
	assert_int_equal(config_load_default(c, err, sizeof err), 0);
	assert_string_equal(c->source, "<embedded default>");
	assert_string_equal(c->set.instance, "main");
	assert_string_equal(c->set.log_level, "info");
	assert_int_equal(c->set.interval_ms, 5000);
	assert_int_equal(c->set.staleness_intervals, 3);
	assert_string_equal(c->set.procfs, "/proc");
	assert_string_equal(c->set.sysfs, "/sys");
	assert_string_equal(c->set.rootfs, "/");
	assert_string_equal(c->set.listen_address, ":9469");
	assert_int_equal(c->set.connection_timeout_s, 10);
	assert_int_equal(c->set.max_connections, 64);
	assert_int_equal(c->set.max_connections_per_ip, 16);
	assert_int_equal(c->set.threads, 2);
	assert_int_equal(c->set.segment_mode, 0640);
	assert_string_equal(c->set.segment_group, "");
	assert_int_equal(c->set.max_series, 10000);
	assert_int_equal(c->n_collectors, N_BUILTIN);
	static const char *const names[] = { "cpu", "meminfo", "loadavg", "stat" };
	for (size_t k = 0; k < N(names); k++) {
		assert_string_equal(c->collectors[k].name, names[k]);
		assert_true(c->collectors[k].enabled);
		assert_int_equal(c->collectors[k].interval_ms, 5000);
	}
	drop(c);
}

static void test_embedded_default_equals_the_built_in_defaults_and_an_empty_object(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *from_json = new_config(), *builtin = new_config();
	struct shm_config *empty = load_ok("{}");
	assert_int_equal(config_load_default(from_json, err, sizeof err), 0);
	assert_true(config_equal(from_json, builtin));
	assert_true(config_equal(empty, builtin));
	drop(from_json);
	drop(builtin);
	drop(empty);
}

static void test_builtin_collectors_are_listed_in_table_order_and_on_by_default(void **state)
{
	(void)state;
	size_t n = 0;
	while (config_builtin_collectors[n])
		n++;
	assert_int_equal(n, N_BUILTIN);
	assert_true(config_is_builtin_collector("meminfo"));
	assert_false(config_is_builtin_collector("warpdrive"));
	assert_false(config_is_builtin_collector(NULL));
	assert_true(config_builtin_default_enabled("stat"));
	assert_false(config_builtin_default_enabled("warpdrive"));
	struct shm_config *c = new_config();
	assert_non_null(config_find_collector(c, "loadavg"));
	assert_null(config_find_collector(c, "loadav"));
	drop(c);
}

/* ---- good files ---- */

static void test_example_json_loads_and_sets_every_section(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	int rc = config_load_file(c, src_path("config/example.json"), err, sizeof err);
	if (rc)
		fail_msg("%s", err);
	assert_string_equal(c->set.instance, "edge-01");
	assert_string_equal(c->set.log_level, "warn");
	assert_string_equal(c->set.procfs, "/host/proc");
	assert_string_equal(c->set.listen_address, "127.0.0.1:9469");
	assert_int_equal(c->set.connection_timeout_s, 30);
	assert_string_equal(c->set.segment_group, "root");
	assert_int_equal(config_find_collector(c, "cpu")->interval_ms, 2000);
	assert_int_equal(config_find_collector(c, "loadavg")->interval_ms, 10000);
	assert_false(config_find_collector(c, "stat")->enabled);
	assert_int_equal(config_find_collector(c, "stat")->interval_ms, 90000);
	assert_non_null(strstr(c->source, "config/example.json"));
	assert_int_equal(config_rw_count(c), 1);
	assert_string_equal(config_rw_str(c->rw, c->rw->ep[0].server_name), "mimir.example");
	assert_string_equal(c->set.remote_write_queue_dir, "/var/lib/shmetrics/remote-write");
	drop(c);
}

static void test_good_fixture_files_load(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	int rc = config_load_file(c, src_path("tests/fixtures/config/good-container.json"), err,
				  sizeof err);
	if (rc)
		fail_msg("%s", err);
	assert_string_equal(c->set.rootfs, "/host");
	assert_string_equal(c->set.listen_address, "[::]:9469");
	assert_false(config_find_collector(c, "stat")->enabled);
	assert_true(config_find_collector(c, "cpu")->enabled);
	rc = config_load_file(c, src_path("tests/fixtures/config/good-unicode-escapes.json"), err,
			      sizeof err);
	if (rc)
		fail_msg("%s", err);
	assert_string_equal(c->set.instance, "edge-1");
	drop(c);
}

/* ---- every key overrides its default ---- */

struct override_case {
	const char *json;
	enum setting_id id; /* the setting that must change */
	const char *want;   /* its value, as setting_format writes it */
};

static const struct override_case override_cases[] = {
	{ "{\"instance\": \"blue_2-x\"}", SETTING_instance, "blue_2-x" },
	{ "{\"log_level\": \"debug\"}", SETTING_log_level, "debug" },
	{ "{\"interval\": \"250ms\"}", SETTING_interval_ms, "250ms" },
	{ "{\"staleness_intervals\": 100}", SETTING_staleness_intervals, "100" },
	{ "{\"paths\": {\"procfs\": \"/h/proc\"}}", SETTING_procfs, "/h/proc" },
	{ "{\"paths\": {\"sysfs\": \"/h/sys\"}}", SETTING_sysfs, "/h/sys" },
	{ "{\"paths\": {\"rootfs\": \"/h\"}}", SETTING_rootfs, "/h" },
	{ "{\"paths\": {\"udev_data\": \"/h/udev\"}}", SETTING_udev_data, "/h/udev" },
	{ "{\"web\": {\"listen_address\": \"[::1]:1\"}}", SETTING_listen_address, "[::1]:1" },
	{ "{\"web\": {\"connection_timeout\": \"10m\"}}", SETTING_connection_timeout_s, "10m" },
	{ "{\"web\": {\"max_connections\": 1}}", SETTING_max_connections, "1" },
	{ "{\"web\": {\"max_connections_per_ip\": 7}}", SETTING_max_connections_per_ip, "7" },
	{ "{\"web\": {\"threads\": 1}}", SETTING_threads, "1" },
	{ "{\"web\": {\"config_file\": \"/w.yml\"}}", SETTING_web_config_file, "/w.yml" },
	{ "{\"web\": {\"openmetrics\": false}}", SETTING_openmetrics, "false" },
	{ "{\"web\": {\"cache\": \"250ms\"}}", SETTING_cache_ms, "250ms" },
	{ "{\"web\": {\"history_retention\": \"0s\"}}", SETTING_history_ms, "0s" },
	{ "{\"web\": {\"history_memory_limit_mib\": 8}}", SETTING_history_memory_mib, "8" },
	{ "{\"segments\": {\"mode\": \"600\"}}", SETTING_segment_mode, "0600" },
	{ "{\"segments\": {\"group\": \"root\"}}", SETTING_segment_group, "root" },
	{ "{\"segments\": {\"max_series\": 200000}}", SETTING_max_series, "200000" },
	{ "{\"segments\": {\"directory\": \"/srv/seg\"}}", SETTING_segments_directory, "/srv/seg" },
	{ "{\"remote_write_queue_dir\": \"/q\"}", SETTING_remote_write_queue_dir, "/q" },
};

static void test_every_key_overrides_its_default(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(override_cases); k++) {
		const struct override_case *tc = &override_cases[k];
		struct shm_config *c = load_ok(tc->json);
		assert_string_equal(text_of(c, tc->id), tc->want);
		drop(c);
	}
	assert_int_equal(N(override_cases), SETTING_COUNT); /* a case for every setting */
	struct shm_config *c = load_ok(
	    "{\"collectors\": {\"meminfo\": {\"interval\": \"5000ms\"}}}");
	assert_int_equal(config_find_collector(c, "meminfo")->interval_ms, 5000);
	drop(c);
}

static void test_collector_enabled_flag_and_interval_override_and_inherit(void **state)
{
	(void)state;
	struct shm_config *c = load_ok("{\"collectors\": {\"stat\": {\"enabled\": false},"
				       " \"cpu\": {\"interval\": \"1s\"}}, \"interval\": \"30s\"}");
	assert_false(config_find_collector(c, "stat")->enabled);
	assert_true(config_find_collector(c, "meminfo")->enabled);
	assert_int_equal(config_find_collector(c, "cpu")->interval_ms, 1000);
	/* "interval" came after "collectors" and still applies to the others */
	assert_int_equal(config_find_collector(c, "stat")->interval_ms, 30000);
	assert_int_equal(config_find_collector(c, "loadavg")->interval_ms, 30000);
	assert_string_equal(c->collectors[0].name, "cpu");
	drop(c);
}

static void test_per_ip_limit_follows_a_smaller_total_when_not_set(void **state)
{
	(void)state;
	struct shm_config *c = load_ok("{\"web\": {\"max_connections\": 4}}");
	assert_int_equal(c->set.max_connections_per_ip, 4);
	drop(c);
}

/* ---- bad configs ---- */

struct bad_case {
	const char *json;
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ "{\"web\": {\"max_connections\": \"5\"}}",
	  "t.json:1:29: web.max_connections: expected an integer, found a string" },
	{ "{\"web\": {\"max_connections\": 0}}",
	  "t.json:1:29: web.max_connections: 0 is out of range; expected an integer from 1 to 10000" },
	{ "{\"web\": {\"max_connections\": 1.5}}",
	  "t.json:1:29: web.max_connections: expected an integer, found a real number" },
	{ "{\"web\": {\"threads\": 65}}",
	  "t.json:1:21: web.threads: 65 is out of range; expected an integer from 1 to 64" },
	{ "{\"web\": {\"threads\": -1}}",
	  "t.json:1:21: web.threads: -1 is out of range; expected an integer from 1 to 64" },
	{ "{\"web\": {\"connection_timeout\": \"11m\"}}",
	  "t.json:1:32: web.connection_timeout: duration \"11m\" is out of range; expected 1s to 10m" },
	{ "{\"web\": {\"connection_timeout\": \"1500ms\"}}",
	  "t.json:1:32: web.connection_timeout: duration \"1500ms\" is not a whole number of seconds; write e.g. \"2s\"" },
	{ "{\"web\": {\"connection_timeout\": 10}}",
	  "t.json:1:32: web.connection_timeout: expected a duration string, found a bare number; write e.g. \"10s\"" },
	{ "{\"web\": {\"max_connections\": 8, \"max_connections_per_ip\": 9}}",
	  "t.json:1:58: web.max_connections_per_ip: 9 is out of range; expected an integer from 1 to web.max_connections (8)" },
	{ "{\"web\": {\"listen_address\": \"localhost\"}}",
	  "t.json:1:28: web.listen_address: listen address \"localhost\" has no port; write HOST:PORT, e.g. \"localhost:9469\"" },
	{ "{\"web\": {\"listen_address\": \"::1:9469\"}}",
	  "t.json:1:28: web.listen_address: listen address \"::1:9469\": an IPv6 address needs brackets; write e.g. \"[::1]:9469\"" },
	{ "{\"web\": {\"listen_address\": \":70000\"}}",
	  "t.json:1:28: web.listen_address: listen address \":70000\": port \"70000\" is not a number from 0 to 65535" },
	{ "{\"web\": {\"port\": 9469}}",
	  "t.json:1:10: unknown key \"port\" in web; valid keys are listen_address, config_file, openmetrics, connection_timeout, max_connections, max_connections_per_ip, threads" },
	{ "{\"web\": {\"listen-address\": \":1\"}}",
	  "t.json:1:10: unknown key \"listen-address\" in web; did you mean \"listen_address\"?" },
	{ "{\"web\": null}", "t.json:1:9: web: expected an object, found null" },
	{ "{\"collectors\": {\"cpu\": {\"guest\": \"no\"}}}",
	  "t.json:1:34: collectors.cpu.guest: expected true or false, found a string" },
	{ "{\"collectors\": {\"cpu\": {\"gust\": false}}}",
	  "t.json:1:25: unknown key \"gust\" in collectors.cpu; did you mean \"guest\"?" },
	{ "{\"collectors\": {\"cpu\": {\"colour\": 1}}}",
	  "t.json:1:25: unknown key \"colour\" in collectors.cpu; valid keys are enabled, interval, isolated, guest" },
	{ "{\"staleness_intervals\": 0}",
	  "t.json:1:25: staleness_intervals: 0 is out of range; expected an integer from 1 to 100" },
	{ "{\"staleness_intervals\": 101}",
	  "t.json:1:25: staleness_intervals: 101 is out of range; expected an integer from 1 to 100" },
	{ "{\"staleness_intervals\": true}",
	  "t.json:1:25: staleness_intervals: expected an integer, found a boolean" },
	{ "{\"instance\": \"\"}",
	  "t.json:1:14: instance: \"\" is not a valid instance name; use 1 to 63 of a-z, A-Z, 0-9, '_' and '-'" },
	{ "{\"instance\": \"a.b\"}",
	  "t.json:1:14: instance: \"a.b\" is not a valid instance name" },
	{ "{\"instance\": \"a\\nb\"}",
	  "t.json:1:14: instance: \"a\\x0ab\" is not a valid instance name" },
	{ "{\"instance\": "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  "t.json:1:14: instance: \"aaaaaaaaaaaa" },
	{ "{\"instance\": 7}", "t.json:1:14: instance: expected a string, found an integer" },
	{ "{\"log_level\": \"verbose\"}",
	  "t.json:1:15: log_level: \"verbose\" is not a log level; expected one of error, warn, info, debug" },
	{ "{\"log_level\": \"infoo\"}",
	  "t.json:1:15: log_level: \"infoo\" is not a log level; did you mean \"info\"?" },
	{ "{\"interval\": 5}",
	  "t.json:1:14: interval: expected a duration string, found a bare number; write e.g. \"5s\"" },
	{ "{\"interval\": \"5\"}",
	  "t.json:1:14: interval: duration \"5\" has no unit; write e.g. \"5s\"" },
	{ "{\"interval\": \"50ms\"}",
	  "t.json:1:14: interval: duration \"50ms\" is out of range; expected 100ms to 1h" },
	{ "{\"interval\": \"1h1s\"}",
	  "t.json:1:14: interval: duration \"1h1s\" is out of range; expected 100ms to 1h" },
	{ "{\"interval\": \"1.5s\"}",
	  "t.json:1:14: interval: duration \"1.5s\" has a fraction; use a smaller unit instead" },
	{ "{\"interval\": \"5 s\"}",
	  "t.json:1:14: interval: duration \"5 s\" contains an unexpected character" },
	{ "{\"interval\": \"30s1m\"}",
	  "t.json:1:14: interval: duration \"30s1m\": units must go from largest to smallest, each at most once, e.g. \"1m30s\"" },
	{ "{\"interval\": \"5sec\"}",
	  "t.json:1:14: interval: duration \"5sec\" has unknown unit \"sec\"; use ms, s, m, h, d or w" },
	{ "{\"interval\": [\"5s\"]}",
	  "t.json:1:14: interval: expected a duration string such as \"5s\", found an array" },
	{ "{\"paths\": {\"procfs\": \"\"}}",
	  "t.json:1:22: paths.procfs: empty path; write an absolute path such as \"/proc\"" },
	{ "{\"paths\": {\"sysfs\": \"sys\"}}",
	  "t.json:1:21: paths.sysfs: \"sys\" is not an absolute path; write one starting with '/', such as \"/sys\"" },
	{ "{\"paths\": {\"rootfs\": 1}}",
	  "t.json:1:22: paths.rootfs: expected a string, found an integer" },
	{ "{\"paths\": \"/proc\"}", "t.json:1:11: paths: expected an object, found a string" },
	{ "{\"paths\": {\"proc\": \"/proc\"}}",
	  "t.json:1:12: unknown key \"proc\" in paths; did you mean \"procfs\"?" },
	{ "{\"segments\": {\"mode\": 416}}",
	  "t.json:1:23: segments.mode: expected an octal string such as \"0640\", found an integer" },
	{ "{\"segments\": {\"mode\": \"0648\"}}",
	  "t.json:1:23: segments.mode: \"0648\" is not an octal mode; write 3 or 4 octal digits such as \"0640\"" },
	{ "{\"segments\": {\"mode\": \"4750\"}}",
	  "t.json:1:23: segments.mode: mode \"4750\" sets bits other than permissions" },
	{ "{\"segments\": {\"mode\": \"0440\"}}",
	  "t.json:1:23: segments.mode: mode \"0440\" does not let the owner read and write" },
	{ "{\"segments\": {\"group\": \"no-such-group-shmetrics\"}}",
	  "t.json:1:24: segments.group: no group named \"no-such-group-shmetrics\" on this system" },
	{ "{\"segments\": {\"max_series\": 0}}",
	  "t.json:1:29: segments.max_series: 0 is out of range; expected an integer from 1 to 1000000" },
	{ "{\"segments\": {\"max_sereis\": 5}}",
	  "t.json:1:15: unknown key \"max_sereis\" in segments; did you mean \"max_series\"?" },
	{ "{\"collectors\": {\"cpuu\": {}}}",
	  "t.json:1:17: unknown collector \"cpuu\" in collectors; did you mean \"cpu\"?" },
	{ "{\"collectors\": {\"warpdrive\": {}}}",
	  "t.json:1:17: unknown collector \"warpdrive\" in collectors; `shmetrics-agent --help` lists the " },
	{ "{\"collectors\": {\"cpu\": true}}",
	  "t.json:1:24: collectors.cpu: expected an object such as {\"enabled\": true, \"interval\": \"5s\"}, found a boolean" },
	{ "{\"collectors\": {\"cpu\": {\"enabled\": \"yes\"}}}",
	  "t.json:1:36: collectors.cpu.enabled: expected true or false, found a string" },
	{ "{\"collectors\": {\"cpu\": {\"intervall\": \"5s\"}}}",
	  "t.json:1:25: unknown key \"intervall\" in collectors.cpu; did you mean \"interval\"?" },
	{ "{\"collectors\": {\"cpu\": {\"interval\": \"0s\"}}}",
	  "t.json:1:37: collectors.cpu.interval: duration \"0s\" is out of range; expected 100ms to 1h" },
	{ "{\"webb\": {}}",
	  "t.json:1:2: unknown key \"webb\" at the top level; did you mean \"web\"?" },
	{ "{\"foo\": 1}",
	  "t.json:1:2: unknown key \"foo\" at the top level; valid keys are instance, log_level, interval, staleness_intervals, paths, web, segments, remote_write_queue_dir, collectors, custom_collectors, remote_write" },
	{ "{\"a\": 1, \"a\": 2}", "t.json:1:" },
	{ "{\"a\": 1, \"a\": 2}",
	  "invalid JSON: duplicate object key near '\"a\"'; each key may appear only once in an object" },
	{ "{\"collectors\": {\"cpu\": {}, \"cpu\": {}}}", "duplicate object key" },
	{ "{\"log_level\": \"info\",}", "t.json:1:22: invalid JSON: string or '}' expected" },
	{ "{\n  \"web\": {\n    \"threads\": \"2\"\n  }\n}",
	  "t.json:3:16: web.threads: expected an integer, found a string" },
	{ "[]", "t.json:1:1: expected a JSON object at the top level, found an array" },
	{ "", "t.json:1:1: invalid JSON: '[' or '{' expected near end of file" },
	/* columns count characters: the two-byte 'ü' is one column */
	{ "{\"paths\": {\"rootfs\": \"/\xc3\xbc\"}, \"web\": 1}",
	  "t.json:1:36: web: expected an object, found an integer" },
	/* an escaped key is the key it spells, at the position it was written */
	{ "{\"\\u0077eb\": {\"threads\": 0}}", "t.json:1:26: web.threads: 0 is out of range" },
};

static void test_bad_configs_fail_with_position_and_a_message_that_says_how_to_fix(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(bad_cases); k++) {
		char err[ERRLEN] = "";
		struct shm_config *c = new_config();
		int rc = config_load_string(c, bad_cases[k].json, "t.json", err, sizeof err);
		if (rc != -EINVAL)
			fail_msg("case %zu (%s): rc %d, want -EINVAL", k, bad_cases[k].json, rc);
		assert_contains(err, bad_cases[k].want);
		drop(c);
	}
}

/* A file that is not JSON at all (a secret given as --config by mistake) is
 * refused by line and column, without the text jansson stopped at. */
static void test_a_file_that_is_not_json_is_not_echoed(void **state)
{
	static const char *const texts[] = { "db_password Sup3rS3cret\n",
					     "{\"instance\": Sup3rS3cret}",
					     "{\"a\": 1,\n \"Sup3rS3cret\" 2}" };
	(void)state;
	for (size_t k = 0; k < N(texts); k++) {
		char err[ERRLEN] = "";
		struct shm_config *c = new_config();
		assert_int_equal(config_load_string(c, texts[k], "t.json", err, sizeof err),
				 -EINVAL);
		assert_contains(err, "t.json:");
		assert_contains(err, ": invalid JSON: ");
		if (strstr(err, "Sup3r") != NULL)
			fail_msg("case %zu: \"%s\" echoes the file", k, err);
		drop(c);
	}
}

static const struct bad_case bad_files[] = {
	{ "bad-trailing-comma.json",
	  "bad-trailing-comma.json:3:1: invalid JSON: string or '}' expected" },
	{ "bad-duplicate-key.json", "bad-duplicate-key.json:4:13: invalid JSON: " },
	{ "bad-duplicate-key.json", "duplicate object key near '\"threads\"'" },
	{ "bad-nested-unknown-key.json",
	  "bad-nested-unknown-key.json:6:7: unknown key \"intervall\" in collectors.meminfo; did you mean \"interval\"?" },
	{ "bad-unicode-before-value.json",
	  "bad-unicode-before-value.json:3:39: paths.sysfs: \"sys\" is not an absolute path" },
	{ "bad-wrong-type.json",
	  "bad-wrong-type.json:4:24: web.max_connections: expected an integer, found a string" },
	{ "bad-top-level-array.json",
	  "bad-top-level-array.json:2:3: expected a JSON object at the top level, found an array" },
	{ "bad-empty.json", "bad-empty.json:1:1: invalid JSON:" },
	{ "bad-collectors-array.json",
	  "bad-collectors-array.json:2:17: collectors: expected an object, found an array" },
	{ "bad-duration-number.json",
	  "bad-duration-number.json:3:28: collectors.loadavg.interval: expected a duration string, found a bare number; write e.g. \"5s\"" },
};

static void test_bad_fixture_files_fail_with_path_line_and_column(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(bad_files); k++) {
		char rel[256], err[ERRLEN] = "";
		snprintf(rel, sizeof rel, "tests/fixtures/config/%s", bad_files[k].json);
		struct shm_config *c = new_config();
		int rc = config_load_file(c, src_path(rel), err, sizeof err);
		if (rc != -EINVAL)
			fail_msg("%s: rc %d, want -EINVAL (%s)", rel, rc, err);
		assert_contains(err, bad_files[k].want);
		drop(c);
	}
}

static void test_a_failed_load_changes_nothing_in_the_output(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"{\"instance\": \"changed\", \"web\": {\"threads\": 0}}",
		"{\"collectors\": {\"cpu\": {\"enabled\": false}, \"warpdrive\": {}}}",
		"{\"log_level\": \"debug\", \"interval\": \"1s\", \"x\": 1}",
		"{\"instance\": \"changed\",",
	};
	for (size_t k = 0; k < N(texts); k++) {
		char err[ERRLEN] = "";
		struct shm_config *c = malloc(sizeof *c), *copy = malloc(sizeof *c);
		assert_non_null(c);
		assert_non_null(copy);
		memset(c, 0xA5, sizeof *c);
		memcpy(copy, c, sizeof *c);
		assert_int_equal(config_load_string(c, texts[k], "t.json", err, sizeof err),
				 -EINVAL);
		assert_memory_equal(c, copy, sizeof *c);
		free(c);
		free(copy);
	}
}

static void test_missing_file_reports_the_call_and_errno(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	assert_int_equal(config_load_file(c, "/nonexistent/shmetrics.json", err, sizeof err),
			 -ENOENT);
	assert_string_equal(
	    err, "open(\"/nonexistent/shmetrics.json\") failed: No such file or directory");
	assert_int_equal(config_load_file(c, src_path("tests/fixtures/config"), err, sizeof err),
			 -EISDIR);
	drop(c);
}

static void test_tiny_error_buffers_are_never_overrun(void **state)
{
	(void)state;
	char err[8];
	struct shm_config *c = new_config();
	memset(err, 'x', sizeof err);
	assert_int_equal(config_load_string(c, "{\"foo\": 1}", "t.json", err, 5), -EINVAL);
	assert_string_equal(err, "t.js");
	assert_int_equal(err[5], 'x');
	assert_int_equal(config_load_string(c, "{\"foo\": 1}", "t.json", NULL, 0), -EINVAL);
	drop(c);
}

/* ---- flags ---- */

struct flag_case {
	const char *flag;
	int rc;
	const char *want; /* error substring, or NULL */
};

static const struct flag_case flag_cases[] = {
	{ "--web.listen-address=127.0.0.1:9100", 1, NULL },
	{ "--web.listen-address", -EINVAL,
	  "--web.listen-address: needs a value; write --web.listen-address=:9469" },
	{ "--web.listen-address=9100", -EINVAL,
	  "--web.listen-address: listen address \"9100\" has no port" },
	{ "--path.procfs=/host/proc", 1, NULL },
	{ "--path.procfs=host/proc", -EINVAL,
	  "--path.procfs: \"host/proc\" is not an absolute path" },
	{ "--path.sysfs=/host/sys", 1, NULL },
	{ "--path.rootfs=/host", 1, NULL },
	{ "--path.rootfs=", -EINVAL, "--path.rootfs: empty path" },
	{ "--collector.cpu", 1, NULL },
	{ "--no-collector.cpu", 1, NULL },
	{ "--no-collector.cpuu", -EINVAL,
	  "--no-collector.cpuu: unknown collector \"cpuu\"; did you mean \"cpu\"?" },
	{ "--collector.warpdrive", -EINVAL,
	  "--collector.warpdrive: unknown collector \"warpdrive\"; `shmetrics-agent --help` lists the " },
	{ "--collector.cpu=true", -EINVAL,
	  "--collector.cpu: takes no value; write --collector.cpu or --no-collector.cpu" },
	{ "--collector.cpu.interval=1s", 1, NULL },
	{ "--collector.cpu.interval=1", -EINVAL,
	  "--collector.cpu.interval: duration \"1\" has no unit; write e.g. \"5s\"" },
	{ "--collector.cpu.interval=2h", -EINVAL, "expected 100ms to 1h" },
	{ "--collector.cpu.interval", -EINVAL, "--collector.cpu.interval: needs a value" },
	{ "--collector.memnfo.interval=1s", -EINVAL,
	  "unknown collector \"memnfo\"; did you mean \"meminfo\"?" },
	{ "--collector.disable-defaults", 1, NULL },
	{ "--collector.disable-defaults=1", -EINVAL, "takes no value" },
	{ "--log.level=debug", 1, NULL },
	{ "--log.level=loud", -EINVAL, "--log.level: \"loud\" is not a log level" },
	{ "--instance=blue", 1, NULL },
	{ "--instance=a/b", -EINVAL, "--instance: \"a/b\" is not a valid instance name" },
	{ "--staleness-intervals=5", 1, NULL },
	{ "--staleness-intervals=five", -EINVAL, "\"five\" is not an integer from 1 to 100" },
	{ "--web.timeout=30s", 1, NULL },
	{ "--web.max-connections=10", 1, NULL },
	{ "--web.max-connections-per-ip=65", 1, NULL }, /* settings_check judges it */
	{ "--web.max-connections-per-ip=10001", -EINVAL,
	  "10001 is out of range; expected an integer from 1 to 10000" },
	{ "--web.openmetrics", 1, NULL },
	{ "--no-web.openmetrics", 1, NULL },
	{ "--web.openmetrics=maybe", -EINVAL,
	  "--web.openmetrics: expected true or false, found \"maybe\"" },
	{ "--no-web.openmetrics=true", -EINVAL, "--no-web.openmetrics: takes no value" },
	{ "--no-web.threads", 0, NULL },
	{ "--web.config.file=/etc/shmetrics/web.yml", 1, NULL },
	{ "--segments.max-series=500", 1, NULL },
	{ "--interval=1s", 0, NULL }, /* no flag: a collector's own argument */
	{ "--web.threads=0", -EINVAL, "--web.threads: 0 is out of range" },
	{ "--config=/etc/shmetrics.json", 0, NULL },
	{ "--help", 0, NULL },
	{ "--collector=cpu", 0, NULL },
	{ "-v", 0, NULL },
	{ "config.json", 0, NULL },
};

static void test_apply_flag_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(flag_cases); k++) {
		char err[ERRLEN] = "";
		struct shm_config *c = new_config(), *before = new_config();
		int rc = config_apply_flag(c, flag_cases[k].flag, err, sizeof err);
		if (rc != flag_cases[k].rc)
			fail_msg("%s: rc %d, want %d (%s)", flag_cases[k].flag, rc,
				 flag_cases[k].rc, err);
		if (flag_cases[k].want)
			assert_contains(err, flag_cases[k].want);
		if (rc <= 0)
			assert_true(config_equal(c, before));
		drop(c);
		drop(before);
	}
}

static void test_apply_flag_sets_the_values(void **state)
{
	(void)state;
	static const char *const flags[] = {
		"--web.listen-address=[::1]:9100",
		"--path.procfs=/host/proc",
		"--path.sysfs=/host/sys",
		"--path.rootfs=/host",
		"--no-collector.stat",
		"--log.level=warn",
		"--instance=blue",
		"--collector.loadavg.interval=1m30s",
		"--web.timeout=1m",
		"--web.max-connections=8",
	};
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	for (size_t k = 0; k < N(flags); k++)
		assert_int_equal(config_apply_flag(c, flags[k], err, sizeof err), 1);
	assert_string_equal(c->set.listen_address, "[::1]:9100");
	assert_string_equal(c->set.procfs, "/host/proc");
	assert_string_equal(c->set.sysfs, "/host/sys");
	assert_string_equal(c->set.rootfs, "/host");
	assert_false(config_find_collector(c, "stat")->enabled);
	assert_string_equal(c->set.log_level, "warn");
	assert_string_equal(c->set.instance, "blue");
	assert_int_equal(config_find_collector(c, "loadavg")->interval_ms, 90000);
	assert_int_equal(c->set.connection_timeout_s, 60);
	assert_int_equal(c->set.max_connections, 8);
	drop(c);
}

/* Flags are one layer: the per-IP limit is judged against the total once all
 * are applied, whatever their order. */
static void test_settings_that_bound_one_another_are_checked_after_a_layer(void **state)
{
	const struct setting_def *bad = NULL;
	char err[ERRLEN] = "";
	(void)state;
	struct shm_config *c = new_config();
	c->set.given = 0;
	assert_int_equal(config_apply_flag(c, "--web.max-connections-per-ip=100", err, sizeof err),
			 1);
	assert_int_equal(config_apply_flag(c, "--web.max-connections=200", err, sizeof err), 1);
	assert_int_equal(settings_check(&c->set, &bad, err, sizeof err), 0);
	assert_int_equal(c->set.max_connections_per_ip, 100);
	c->set.given = 0; /* a lower total drags an ungiven per-IP limit down */
	assert_int_equal(config_apply_flag(c, "--web.max-connections=8", err, sizeof err), 1);
	assert_int_equal(settings_check(&c->set, &bad, err, sizeof err), 0);
	assert_int_equal(c->set.max_connections_per_ip, 8);
	c->set.given = 0; /* and one given above it is an error */
	assert_int_equal(config_apply_flag(c, "--web.max-connections-per-ip=9", err, sizeof err),
			 1);
	assert_int_equal(settings_check(&c->set, &bad, err, sizeof err), -EINVAL);
	assert_ptr_equal(bad, &setting_defs[SETTING_max_connections_per_ip]);
	assert_string_equal(err, "9 is out of range; expected an integer from 1 to "
				 "web.max_connections (8)");
	drop(c);
}

static void test_disable_defaults_then_collector_flags_enable_only_those(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct shm_config *c = new_config();
	assert_int_equal(config_apply_flag(c, "--collector.disable-defaults", err, sizeof err), 1);
	assert_int_equal(config_apply_flag(c, "--collector.meminfo", err, sizeof err), 1);
	for (size_t k = 0; k < c->n_collectors; k++)
		assert_int_equal(c->collectors[k].enabled,
				 strcmp(c->collectors[k].name, "meminfo") == 0);
	drop(c);
}

/* ---- durations ---- */

struct duration_case {
	const char *s;
	int rc;
	uint32_t ms;
	const char *want;
};

static const struct duration_case duration_cases[] = {
	{ "500ms", 0, 500, NULL },
	{ "5s", 0, 5000, NULL },
	{ "1m", 0, 60000, NULL },
	{ "1h", 0, 3600000, NULL },
	{ "1m30s", 0, 90000, NULL },
	{ "1h2m3s4ms", 0, 3723004, NULL },
	{ "0s", 0, 0, NULL },
	{ "2d", 0, 172800000, NULL },
	{ "1w", 0, 604800000, NULL },
	{ "007s", 0, 7000, NULL },
	{ "", -EINVAL, 0, "empty duration; write e.g. \"5s\"" },
	{ "5", -EINVAL, 0, "duration \"5\" has no unit; write e.g. \"5s\"" },
	{ "s", -EINVAL, 0, "\"s\" is not a duration; write a number and a unit" },
	{ "-5s", -EINVAL, 0, "\"-5s\" is not a duration" },
	{ "1.5s", -EINVAL, 0, "has a fraction" },
	{ "5x", -EINVAL, 0, "unknown unit \"x\"" },
	{ "5S", -EINVAL, 0, "unknown unit \"S\"" },
	{ "30s1m", -EINVAL, 0, "units must go from largest to smallest" },
	{ "1s1s", -EINVAL, 0, "units must go from largest to smallest" },
	{ "5 s", -EINVAL, 0, "unexpected character" },
	{ "5s ", -EINVAL, 0, "\"5s \" is not a duration" },
	{ "8w", -EINVAL, 0, "is too long" },
	{ "99999999999999999999h", -EINVAL, 0, "is too long" },
};

static void test_duration_parsing_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(duration_cases); k++) {
		const struct duration_case *tc = &duration_cases[k];
		char err[ERRLEN] = "";
		uint32_t ms = 12345;
		int rc = config_parse_duration_ms(tc->s, &ms, err, sizeof err);
		if (rc != tc->rc)
			fail_msg("\"%s\": rc %d, want %d (%s)", tc->s, rc, tc->rc, err);
		if (rc == 0)
			assert_int_equal(ms, tc->ms);
		else
			assert_int_equal(ms, 12345);
		if (tc->want)
			assert_contains(err, tc->want);
	}
}

/* ---- listen addresses ---- */

struct listen_case {
	const char *addr;
	int rc;
	const char *host;
	uint16_t port;
	const char *want;
};

static const struct listen_case listen_cases[] = {
	{ ":9469", 0, "", 9469, NULL },
	{ "127.0.0.1:80", 0, "127.0.0.1", 80, NULL },
	{ "0.0.0.0:65535", 0, "0.0.0.0", 65535, NULL },
	{ "[::1]:9469", 0, "::1", 9469, NULL },
	{ "[::]:1", 0, "::", 1, NULL },
	{ "[fe80::1%eth0]:9100", 0, "fe80::1%eth0", 9100, NULL },
	{ "localhost:9100", 0, "localhost", 9100, NULL },
	{ "metrics-1.example.org:9100", 0, "metrics-1.example.org", 9100, NULL },
	{ "", -EINVAL, NULL, 0, "empty listen address; write e.g. \":9469\"" },
	{ ":0", 0, "", 0, NULL },
	{ ":65536", -EINVAL, NULL, 0, "port \"65536\" is not a number from 0 to 65535" },
	{ ":http", -EINVAL, NULL, 0, "port \"http\" is not a number" },
	{ ":-1", -EINVAL, NULL, 0, "port \"-1\" is not a number" },
	{ "127.0.0.1", -EINVAL, NULL, 0,
	  "listen address \"127.0.0.1\" has no port; write HOST:PORT, e.g. \"127.0.0.1:9469\"" },
	{ "127.0.0.1:", -EINVAL, NULL, 0, "has no port after ':'" },
	{ "::1:9469", -EINVAL, NULL, 0, "an IPv6 address needs brackets" },
	{ "[::1]9469", -EINVAL, NULL, 0, "expected ':PORT' after ']'" },
	{ "[::1:9469", -EINVAL, NULL, 0, "missing ']' after the IPv6 address" },
	{ "[zzz]:80", -EINVAL, NULL, 0, "not a valid IPv6 address" },
	{ "[1.2.3.4]:80", -EINVAL, NULL, 0, "not a valid IPv6 address" },
	{ "[]:80", -EINVAL, NULL, 0, "not a valid IPv6 address" },
	{ "256.1.1.1:80", -EINVAL, NULL, 0, "not a valid IPv4 address" },
	{ "my host:80", -EINVAL, NULL, 0, "host must be an IP address or a host name" },
	{ "*:80", -EINVAL, NULL, 0, "host must be an IP address or a host name" },
};

static void test_listen_address_parsing_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(listen_cases); k++) {
		const struct listen_case *tc = &listen_cases[k];
		char host[CONFIG_ADDR_MAX] = "unset", err[ERRLEN] = "";
		uint16_t port = 7;
		int rc = config_parse_listen_address(tc->addr, host, sizeof host, &port, err,
						     sizeof err);
		if (rc != tc->rc)
			fail_msg("\"%s\": rc %d, want %d (%s)", tc->addr, rc, tc->rc, err);
		if (rc == 0) {
			assert_string_equal(host, tc->host);
			assert_int_equal(port, tc->port);
		} else {
			assert_string_equal(host, "unset");
			assert_int_equal(port, 7);
		}
		if (tc->want)
			assert_contains(err, tc->want);
	}
}

static void test_listen_address_host_that_does_not_fit_is_an_error(void **state)
{
	(void)state;
	char host[3], err[ERRLEN] = "";
	uint16_t port;
	assert_int_equal(config_parse_listen_address("[::1]:80", host, sizeof host, &port, err,
						     sizeof err),
			 -EINVAL);
	assert_contains(err, "host does not fit in 3 bytes");
	assert_int_equal(config_parse_listen_address("[::]:80", host, sizeof host, &port, err,
						     sizeof err),
			 0);
	assert_string_equal(host, "::");
}

/* ---- position index ---- */

static void assert_pos(const struct config_pos_index *ix, const char *path, int kl, int kc, int vl,
		       int vc)
{
	const struct config_pos *p = config_pos_find(ix, path);
	if (!p)
		fail_msg("no position recorded for \"%s\"", path);
	if (p->key_line != kl || p->key_col != kc || p->val_line != vl || p->val_col != vc)
		fail_msg("\"%s\": key %d:%d value %d:%d, want key %d:%d value %d:%d", path,
			 p->key_line, p->key_col, p->val_line, p->val_col, kl, kc, vl, vc);
}

static void build(struct config_pos_index *ix, const char *text)
{
	assert_int_equal(config_pos_build(ix, text, strlen(text)), 0);
}

static void test_position_index_records_nested_objects_and_arrays(void **state)
{
	(void)state;
	struct config_pos_index ix;
	build(&ix, "{\n  \"a\": {\"b\": [1, {\"c\": true}]},\n  \"d\": \"x\"\n}");
	assert_pos(&ix, "", 0, 0, 1, 1);
	assert_pos(&ix, "a", 2, 3, 2, 8);
	assert_pos(&ix, "a.b", 2, 9, 2, 14);
	assert_pos(&ix, "a.b[0]", 0, 0, 2, 15);
	assert_pos(&ix, "a.b[1]", 0, 0, 2, 18);
	assert_pos(&ix, "a.b[1].c", 2, 19, 2, 24);
	assert_pos(&ix, "d", 3, 3, 3, 8);
	assert_null(config_pos_find(&ix, "a.c"));
	const struct config_pos *p = config_pos_find_nearest(&ix, "a.b[1].zzz.y");
	assert_non_null(p);
	assert_int_equal(p->val_col, 18);
	config_pos_free(&ix);
}

static void test_position_index_decodes_escaped_keys_and_skips_escaped_quotes(void **state)
{
	(void)state;
	struct config_pos_index ix;
	build(&ix, "{\"a\\\"b\": 1, \"c\\\\\": {\"d\": \"x\\\"}y\"}, \"e\\/\\n\": 2}");
	assert_pos(&ix, "a\"b", 1, 2, 1, 10);
	assert_pos(&ix, "c\\", 1, 13, 1, 20);
	assert_pos(&ix, "c\\.d", 1, 21, 1, 26);
	assert_pos(&ix, "e/\n", 1, 36, 1, 45);
	config_pos_free(&ix);
}

static void test_position_index_counts_unicode_characters_not_bytes(void **state)
{
	(void)state;
	struct config_pos_index ix;
	build(
	    &ix,
	    "{\"\xc3\xa9\": {\"\xc3\xbc\": 1}, \"\\u00e9x\": 2, \"\\ud83d\\ude00\": 3, \"k\": 4}");
	assert_pos(&ix, "\xc3\xa9", 1, 2, 1, 7);
	assert_pos(&ix, "\xc3\xa9.\xc3\xbc", 1, 8, 1, 13);
	assert_pos(&ix, "\xc3\xa9x", 1, 17, 1, 28);
	assert_pos(&ix, "\xf0\x9f\x98\x80", 1, 31, 1, 47);
	assert_pos(&ix, "k", 1, 50, 1, 55);
	config_pos_free(&ix);
	build(&ix, "{\"\xf0\x9f\x98\x80\": 1, \"z\": 2}");
	assert_pos(&ix, "z", 1, 10, 1, 15);
	config_pos_free(&ix);
}

static void test_position_index_skips_very_deep_values_and_keeps_going(void **state)
{
	(void)state;
	enum { DEPTH = 5000 };
	char *text = malloc(2 * DEPTH + 64);
	assert_non_null(text);
	size_t o = (size_t)sprintf(text, "{\"a\": ");
	for (int k = 0; k < DEPTH; k++)
		text[o++] = '[';
	for (int k = 0; k < DEPTH; k++)
		text[o++] = ']';
	sprintf(text + o, ", \"b\": 1}");
	struct config_pos_index ix;
	build(&ix, text);
	assert_pos(&ix, "b", 1, (int)o + 3, 1, (int)o + 8);
	config_pos_free(&ix);
	free(text);
}

/* The scan trusts nothing: every prefix and random bytes must be safe (ASan watches). */
static void test_position_index_survives_truncated_and_garbage_input(void **state)
{
	(void)state;
	static const char doc[] =
	    "{\"a\": [1, {\"b\\u00e9\\ud83d\": \"x\\\"\"}], \"c\": {\"d\": null}}";
	static const char alphabet[] = "{}[]\":,\\u0a \n\xc3\xa9";
	struct config_pos_index ix;
	for (size_t n = 0; n <= sizeof doc - 1; n++) {
		char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, doc, n);
		assert_int_equal(config_pos_build(&ix, copy, n), 0);
		config_pos_free(&ix);
		free(copy);
	}
	srand(42);
	for (int round = 0; round < 2000; round++) {
		char buf[48];
		size_t n = (size_t)(rand() % (int)sizeof buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = alphabet[rand() % (int)(sizeof alphabet - 1)];
		assert_int_equal(config_pos_build(&ix, buf, n), 0);
		config_pos_free(&ix);
	}
	assert_int_equal(config_pos_build(&ix, NULL, 10), 0);
	config_pos_free(&ix);
}

/* ---- suggestions ---- */

static void test_edit_distance_counts_typos_including_transpositions(void **state)
{
	(void)state;
	assert_int_equal(config_edit_distance("interval", "intervall"), 1);
	assert_int_equal(config_edit_distance("cpu", "cpu"), 0);
	assert_int_equal(config_edit_distance("CPU", "cpu"), 0);
	assert_int_equal(config_edit_distance("ab", "ba"), 1);
	assert_int_equal(config_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(config_edit_distance("", "abc"), 3);
	static const char *const names[] = { "cpu", "meminfo", "loadavg", "stat" };
	assert_string_equal(config_suggest("memnifo", names, N(names)), "meminfo");
	assert_string_equal(config_suggest("stats", names, N(names)), "stat");
	assert_null(config_suggest("zfs", names, N(names)));
	assert_null(config_suggest("x", names, N(names)));
}

/* ---- comparing configs ---- */

static void test_collector_options_come_from_json_and_flags_with_defaults(void **state)
{
	struct shm_config c = { 0 };
	char err[512];
	(void)state;
	assert_int_equal(config_load_default(&c, err, sizeof err), 0);
	assert_string_equal(config_collector_option(&c, "cpu", "guest"), "true");
	assert_int_equal(c.n_options, 0);
	assert_int_equal(config_apply_flag(&c, "--no-collector.cpu.guest", err, sizeof err), 1);
	assert_string_equal(config_collector_option(&c, "cpu", "guest"), "false");
	assert_int_equal(c.n_options, 1);
	assert_int_equal(config_apply_flag(&c, "--collector.cpu.guest", err, sizeof err), 1);
	assert_int_equal(c.n_options, 0); /* back to the default: nothing to pass on */
	assert_int_equal(config_apply_flag(&c, "--collector.cpu.guest=maybe", err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "--collector.cpu.guest: expected true or false"));
	assert_null(config_collector_option(&c, "cpu", "nope"));
	assert_int_equal(config_load_string(&c, "{\"collectors\": {\"cpu\": {\"guest\": false}}}",
					    "t", err, sizeof err),
			 0);
	assert_string_equal(config_collector_option(&c, "cpu", "guest"), "false");
	assert_int_equal(config_apply_flag(&c, "--path.udev.data=/host/run/udev/data", err,
					   sizeof err),
			 1);
	assert_string_equal(c.set.udev_data, "/host/run/udev/data");
	config_free(&c);
}

/* node_exporter's deprecated and differently-prefixed spellings set the option
 * they stand for, from a flag and from the JSON config alike. */
static void test_option_aliases_set_the_option_they_stand_for(void **state)
{
	static const struct {
		const char *flag, *collector, *key, *value;
	} cases[] = {
		{ "--collector.powersupply.ignored-supplies=^BAT", "powersupplyclass",
		  "ignored-supplies", "^BAT" },
		{ "--collector.filesystem.ignored-mount-points=^/x", "filesystem",
		  "mount-points-exclude", "^/x" },
		{ "--collector.filesystem.ignored-fs-types=^tmpfs$", "filesystem",
		  "fs-types-exclude", "^tmpfs$" },
		{ "--collector.netdev.device-whitelist=^eth", "netdev", "device-include", "^eth" },
		{ "--collector.netdev.device-blacklist=^veth", "netdev", "device-exclude",
		  "^veth" },
		{ "--collector.diskstats.ignored-devices=^sd", "diskstats", "device-exclude",
		  "^sd" },
		{ "--collector.qdisk.device-include=^eth", "qdisc", "device-include", "^eth" },
		{ "--collector.qdisk.device-exclude=^lo$", "qdisc", "device-exclude", "^lo$" },
		{ "--collector.netclass_rtnl.with-stats=true", "netclass", "rtnl.with-stats",
		  "true" },
	};
	struct shm_config c = { 0 }; /* each load replaces what it holds */
	char err[512];
	(void)state;
	for (size_t k = 0; k < N(cases); k++) {
		assert_int_equal(config_load_default(&c, err, sizeof err), 0);
		assert_int_equal(config_apply_flag(&c, cases[k].flag, err, sizeof err), 1);
		assert_int_equal(c.n_options, 1);
		assert_string_equal(c.options[0].collector, cases[k].collector);
		assert_string_equal(c.options[0].key, cases[k].key);
		assert_string_equal(config_collector_option(&c, cases[k].collector, cases[k].key),
				    cases[k].value);
	}
	assert_int_equal(
	    config_load_string(&c,
			       "{\"collectors\": {\"netdev\": {\"device-blacklist\": "
			       "\"^lo$\"}, \"filesystem\": {\"ignored-fs-types\": \"^x$\"}}}",
			       "t.json", err, sizeof err),
	    0);
	assert_string_equal(config_collector_option(&c, "netdev", "device-exclude"), "^lo$");
	assert_string_equal(config_collector_option(&c, "filesystem", "fs-types-exclude"), "^x$");
	/* An alias is checked like the option: a bad regular expression is refused. */
	assert_int_equal(config_apply_flag(&c, "--collector.powersupply.ignored-supplies=(", err,
					   sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "--collector.powersupply.ignored-supplies"));
	/* An alias names no collector: it cannot switch one on. */
	assert_int_equal(config_apply_flag(&c, "--collector.powersupply", err, sizeof err),
			 -EINVAL);
	config_free(&c);
}

static void test_changed_option_restarts_only_its_collector(void **state)
{
	struct shm_config a = { 0 }, b = { 0 };
	char err[512];
	(void)state;
	assert_int_equal(config_load_default(&a, err, sizeof err), 0);
	assert_int_equal(config_copy(&b, &a), 0);
	assert_int_equal(config_apply_flag(&b, "--no-collector.cpu.guest", err, sizeof err), 1);
	assert_true(config_collector_changed(&a, &b, "cpu"));
	assert_false(config_collector_changed(&a, &b, "meminfo"));
	assert_false(config_collector_changed(&a, &b, "exporter"));
	config_free(&a);
	config_free(&b);
}

static void test_collector_changed_sees_only_what_concerns_each_process(void **state)
{
	(void)state;
	struct shm_config *a = new_config(), *b = new_config();
	assert_false(config_collector_changed(a, b, "cpu"));
	assert_false(config_collector_changed(a, b, "exporter"));

	config_find_collector(b, "cpu")->interval_ms = 1000;
	assert_true(config_collector_changed(a, b, "cpu"));
	assert_false(config_collector_changed(a, b, "meminfo"));
	assert_false(config_collector_changed(a, b, "exporter"));

	config_free(b);
	config_init(b);
	set(b, SETTING_procfs, "/host/proc");
	assert_true(config_collector_changed(a, b, "stat"));
	assert_false(config_collector_changed(a, b, "exporter"));

	config_free(b);
	config_init(b);
	config_find_collector(b, "stat")->enabled = false;
	assert_true(config_collector_changed(a, b, "stat"));
	assert_false(config_collector_changed(a, b, "cpu"));
	assert_true(config_collector_changed(a, b, "exporter"));

	config_free(b);
	config_init(b);
	set(b, SETTING_listen_address, ":1");
	assert_true(config_collector_changed(a, b, "exporter"));
	assert_false(config_collector_changed(a, b, "cpu"));

	config_free(b);
	config_init(b);
	b->set.staleness_intervals = 9;
	assert_true(config_collector_changed(a, b, "exporter"));
	assert_false(config_collector_changed(a, b, "cpu"));

	config_free(b);
	config_init(b);
	set(b, SETTING_instance, "other");
	assert_true(config_collector_changed(a, b, "exporter"));
	assert_true(config_collector_changed(a, b, "cpu"));
	drop(a);
	drop(b);
}

static void test_collector_disabled_in_both_never_counts_as_changed(void **state)
{
	(void)state;
	struct shm_config *a = new_config(), *b = new_config();
	config_find_collector(a, "stat")->enabled = false;
	config_find_collector(b, "stat")->enabled = false;
	config_find_collector(b, "stat")->interval_ms = 100;
	set(b, SETTING_procfs, "/elsewhere");
	assert_false(config_collector_changed(a, b, "stat"));
	assert_false(config_collector_changed(a, b, "no-such-collector"));
	drop(a);
	drop(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_default_loads_with_the_documented_values),
		cmocka_unit_test(
		    test_embedded_default_equals_the_built_in_defaults_and_an_empty_object),
		cmocka_unit_test(
		    test_builtin_collectors_are_listed_in_table_order_and_on_by_default),
		cmocka_unit_test(test_example_json_loads_and_sets_every_section),
		cmocka_unit_test(test_good_fixture_files_load),
		cmocka_unit_test(test_every_key_overrides_its_default),
		cmocka_unit_test(test_collector_enabled_flag_and_interval_override_and_inherit),
		cmocka_unit_test(test_per_ip_limit_follows_a_smaller_total_when_not_set),
		cmocka_unit_test(
		    test_bad_configs_fail_with_position_and_a_message_that_says_how_to_fix),
		cmocka_unit_test(test_a_file_that_is_not_json_is_not_echoed),
		cmocka_unit_test(test_bad_fixture_files_fail_with_path_line_and_column),
		cmocka_unit_test(test_a_failed_load_changes_nothing_in_the_output),
		cmocka_unit_test(test_missing_file_reports_the_call_and_errno),
		cmocka_unit_test(test_tiny_error_buffers_are_never_overrun),
		cmocka_unit_test(test_apply_flag_table),
		cmocka_unit_test(test_apply_flag_sets_the_values),
		cmocka_unit_test(test_settings_that_bound_one_another_are_checked_after_a_layer),
		cmocka_unit_test(test_disable_defaults_then_collector_flags_enable_only_those),
		cmocka_unit_test(test_duration_parsing_table),
		cmocka_unit_test(test_listen_address_parsing_table),
		cmocka_unit_test(test_listen_address_host_that_does_not_fit_is_an_error),
		cmocka_unit_test(test_position_index_records_nested_objects_and_arrays),
		cmocka_unit_test(test_position_index_decodes_escaped_keys_and_skips_escaped_quotes),
		cmocka_unit_test(test_position_index_counts_unicode_characters_not_bytes),
		cmocka_unit_test(test_position_index_skips_very_deep_values_and_keeps_going),
		cmocka_unit_test(test_position_index_survives_truncated_and_garbage_input),
		cmocka_unit_test(test_edit_distance_counts_typos_including_transpositions),
		cmocka_unit_test(test_collector_options_come_from_json_and_flags_with_defaults),
		cmocka_unit_test(test_option_aliases_set_the_option_they_stand_for),
		cmocka_unit_test(test_changed_option_restarts_only_its_collector),
		cmocka_unit_test(test_collector_changed_sees_only_what_concerns_each_process),
		cmocka_unit_test(test_collector_disabled_in_both_never_counts_as_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
