/*
 * The "remote_write" configuration: every key read, errors with the file's
 * line and column and what to write instead, secrets never echoed, the flags,
 * and the shipper's command line built from it.
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

#include "../agent/child_argv.h"
#include "config.h"
#include "../agent/reload.h"

#define ERRLEN 1024
#define N(a)   (sizeof(a) / sizeof((a)[0]))

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

static struct shm_config *load(const char *json)
{
	struct shm_config *c = new_config();
	char err[ERRLEN] = "";

	if (config_load_string(c, json, "t.json", err, sizeof err) != 0)
		fail_msg("loading %s: %s", json, err);
	return c;
}

static const char full[] =
    "{\n"
    "  \"remote_write\": [\n"
    "    {\n"
    "      \"url\": \"https://mimir.example:9009/api/v1/push\",\n"
    "      \"basic_auth\": {\"username\": \"me\", \"password_file\": "
    "\"/etc/shmetrics/rw.pass\"},\n"
    "      \"tls\": {\"ca_file\": \"/etc/ca.pem\", \"cert_file\": \"/etc/c.pem\", "
    "\"key_file\": \"/etc/k.pem\", \"server_name\": \"mimir.example\", "
    "\"insecure_skip_verify\": false},\n"
    "      \"headers\": {\"X-Scope-OrgID\": \"team-a\"},\n"
    "      \"external_labels\": {\"cluster\": \"eu-1\", \"instance\": \"h1\"},\n"
    "      \"write_relabel\": [{\"action\": \"drop\", \"regex\": \"go_.*\"},\n"
    "                          {\"action\": \"keep\", \"regex\": \"node_.*|shmetrics_.*\"}],\n"
    "      \"queue\": {\"max_bytes\": \"64MiB\", \"max_age\": \"2h\", "
    "\"batch_max_samples\": 500, \"batch_deadline\": \"1s\", "
    "\"min_backoff\": \"100ms\", \"max_backoff\": \"10s\"},\n"
    "      \"remote_timeout\": \"20s\"\n"
    "    },\n"
    "    {\"url\": \"http://127.0.0.1:9090/api/v1/write\", "
    "\"bearer_token_file\": \"/run/secrets/token\"}\n"
    "  ],\n"
    "  \"remote_write_queue_dir\": \"/var/lib/shmetrics/rw\"\n"
    "}\n";

static void test_every_remote_write_key_is_read(void **state)
{
	struct shm_config *c = load(full);
	const struct remote_write_set *s = c->rw;
	const struct remote_write_config *e = &s->ep[0];

	(void)state;
	assert_int_equal(config_rw_count(c), 2);
	assert_string_equal(c->set.remote_write_queue_dir, "/var/lib/shmetrics/rw");
	assert_string_equal(config_rw_str(s, e->url), "https://mimir.example:9009/api/v1/push");
	assert_string_equal(config_rw_str(s, e->username), "me");
	assert_string_equal(config_rw_str(s, e->password_file), "/etc/shmetrics/rw.pass");
	assert_string_equal(config_rw_str(s, e->server_name), "mimir.example");
	assert_string_equal(config_rw_str(s, e->key_file), "/etc/k.pem");
	assert_int_equal(e->n_headers, 1);
	assert_string_equal(config_rw_str(s, e->header_value[0]), "team-a");
	assert_int_equal(e->n_ext, 2);
	assert_int_equal(e->n_relabel, 2);
	assert_false(e->relabel_keep[0]);
	assert_true(e->relabel_keep[1]);
	assert_int_equal(e->max_bytes, 64u << 20);
	assert_int_equal(e->max_age_ms, 2 * 3600 * 1000);
	assert_int_equal(e->batch_max_samples, 500);
	assert_int_equal(e->batch_deadline_ms, 1000);
	assert_int_equal(e->min_backoff_ms, 100);
	assert_int_equal(e->max_backoff_ms, 10000);
	assert_int_equal(e->timeout_ms, 20000);
	/* the second one has the defaults */
	assert_string_equal(config_rw_str(s, s->ep[1].bearer_token_file), "/run/secrets/token");
	assert_int_equal(s->ep[1].max_bytes, CONFIG_RW_DEFAULT_MAX_BYTES);
	assert_int_equal(s->ep[1].batch_max_samples, CONFIG_RW_DEFAULT_BATCH_MAX_SAMPLES);
	drop(c);
}

static const struct {
	const char *json;
	const char *want;
} bad[] = {
	{ "{\"remote_write\": {\"url\": \"http://x/\"}}",
	  "t.json:1:18: remote_write: expected an array of endpoints" },
	{ "{\"remote_write\": [{}]}", "t.json:1:19: remote_write[0]: \"url\" is missing" },
	{ "{\"remote_write\": [{\"url\": \"ftp://x/\"}]}",
	  "t.json:1:27: remote_write[0].url: expected an http:// or https:// URL" },
	{ "{\"remote_write\": [{\"url\": \"https://me:Sup3rS3cret@x/\"}]}",
	  "t.json:1:27: remote_write[0].url: the URL holds a user name or password" },
	{ "{\"remote_write\": [{\"url\": \"http://a/w\"}, {\"url\": \"http://a/w?x=1\"}]}",
	  "t.json:1:50: remote_write[1].url: the same endpoint as remote_write[0]" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"urll\": 1}]}",
	  "t.json:1:40: unknown key \"urll\" in remote_write[0]; did you mean \"url\"?" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\",\n \"queue\": {\"max_bytes\": \"12XB\"}}]}",
	  "t.json:2:25: remote_write[0].queue.max_bytes: expected a size" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"queue\": {\"max_bytes\": 1000}}]}",
	  "remote_write[0].queue.max_bytes: expected a size from 262144 bytes" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"queue\": {\"max_age\": 5}}]}",
	  "remote_write[0].queue.max_age: expected a duration string" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"queue\": {\"min_backoff\": \"10s\", "
	  "\"max_backoff\": \"1s\"}}]}",
	  "remote_write[0].queue: min_backoff is longer than max_backoff" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"queue\": {\"batch_max_samples\": 0}}]}",
	  "remote_write[0].queue.batch_max_samples: 0 is out of range" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"basic_auth\": {\"password_file\": "
	  "\"/p\"}}]}",
	  "remote_write[0].basic_auth: \"username\" is missing" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"basic_auth\": {\"username\": \"u\", "
	  "\"password\": \"hunter2\"}}]}",
	  "t.json:1:72: unknown key \"password\" in remote_write[0].basic_auth; valid keys are "
	  "username, password_file" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"basic_auth\": {\"username\": \"u\"}, "
	  "\"bearer_token_file\": \"/t\"}]}",
	  "\"basic_auth\" and \"bearer_token_file\" both set; use one" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"bearer_token_file\": \"token\"}]}",
	  "remote_write[0].bearer_token_file: \"token\" is not an absolute path" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"tls\": {\"cert_file\": \"/c\"}}]}",
	  "remote_write[0].tls: a client certificate needs both \"cert_file\" and \"key_file\"" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"headers\": {\"Authorization\": "
	  "\"Bearer abc\"}}]}",
	  "header \"Authorization\" is set by the shipper itself" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"headers\": {\"X-A\": \"a\\nb\"}}]}",
	  "header \"X-A\" has a value with a control character" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"external_labels\": {\"__name__\": "
	  "\"x\"}}]}",
	  "remote_write[0].external_labels:" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"write_relabel\": [{\"action\": "
	  "\"replace\", \"regex\": \"x\"}]}]}",
	  "remote_write[0].write_relabel[0].action: expected \"keep\" or \"drop\"" },
	{ "{\"remote_write\": [{\"url\": \"http://a/\", \"write_relabel\": [{\"action\": "
	  "\"drop\", \"regex\": \"(x\"}]}]}",
	  "remote_write[0].write_relabel[0].regex: not a valid (POSIX extended) regex" },
	{ "{\"remote_write_queue_dir\": \"relative/dir\"}",
	  "t.json:1:28: remote_write_queue_dir: \"relative/dir\" is not an absolute path" },
};

static void test_bad_remote_write_configs_name_line_column_and_the_fix(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(bad); k++) {
		struct shm_config *c = new_config();
		char err[ERRLEN] = "";
		int rc = config_load_string(c, bad[k].json, "t.json", err, sizeof err);
		if (rc != -EINVAL || !strstr(err, bad[k].want))
			fail_msg("case %zu: rc %d, message \"%s\"; want \"%s\"", k, rc, err,
				 bad[k].want);
		drop(c);
	}
}

static void test_a_password_in_the_url_is_not_repeated(void **state)
{
	struct shm_config *c = new_config();
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(config_load_string(c,
					    "{\"remote_write\": [{\"url\": "
					    "\"https://me:Sup3rS3cret@x/\"}]}",
					    "t.json", err, sizeof err),
			 -EINVAL);
	assert_null(strstr(err, "Sup3rS3cret"));
	assert_int_equal(config_apply_flag(c, "--remote-write.url=https://u:Sup3rS3cret@x/", err,
					   sizeof err),
			 -EINVAL);
	assert_null(strstr(err, "Sup3rS3cret"));
	drop(c);
}

static void test_flags_add_endpoints_and_set_the_queue_directory(void **state)
{
	struct shm_config *c = load("{\"remote_write\": [{\"url\": \"http://a/w\"}]}");
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(config_apply_flag(c, "--remote-write.url=http://b/w", err, sizeof err), 1);
	assert_int_equal(config_apply_flag(c, "--remote-write.url=http://a/w", err, sizeof err), 1);
	assert_int_equal(config_rw_count(c), 2); /* the same URL twice is one endpoint */
	assert_int_equal(config_apply_flag(c, "--remote-write.queue-dir=/srv/q", err, sizeof err),
			 1);
	assert_string_equal(c->set.remote_write_queue_dir, "/srv/q");
	assert_int_equal(config_apply_flag(c, "--remote-write.queue-dir=q", err, sizeof err),
			 -EINVAL);
	assert_int_equal(config_apply_flag(c, "--remote-write.external-label=instance=h9", err,
					   sizeof err),
			 1);
	assert_int_equal(config_apply_flag(c, "--remote-write.external-label=__x=1", err,
					   sizeof err),
			 -EINVAL);
	assert_int_equal(config_apply_flag(c, "--remote-write.url=gopher://x", err, sizeof err),
			 -EINVAL);
	assert_true(strstr(err, "--remote-write.url: expected an http:// or https:// URL") != NULL);
	drop(c);
}

static bool has_word(const struct child_argv *a, const char *w)
{
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], w) == 0)
			return true;
	return false;
}

static void test_the_shipper_command_line_carries_every_setting(void **state)
{
	struct shm_config *c = load(full);
	struct child_argv a;
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(child_argv_shipper(&a, "/x/shmetrics-shipper", c, err, sizeof err), 0);
	static const char *const want[] = {
		"/x/shmetrics-shipper",
		"--instance=main",
		"--collector=cpu",
		"--collector=agent",
		"--collector=shipper",
		"--self-segment=shipper",
		"--segments.max-series=10000",
		"--remote-write.queue-dir=/var/lib/shmetrics/rw",
		"--remote-write.url=https://mimir.example:9009/api/v1/push",
		"--remote-write.basic-auth.username=me",
		"--remote-write.basic-auth.password-file=/etc/shmetrics/rw.pass",
		"--remote-write.tls.server-name=mimir.example",
		"--remote-write.header=X-Scope-OrgID: team-a",
		"--remote-write.external-label=cluster=eu-1",
		"--remote-write.write-relabel=drop:go_.*",
		"--remote-write.write-relabel=keep:node_.*|shmetrics_.*",
		"--remote-write.queue.max-bytes=67108864",
		"--remote-write.queue.max-age=2h",
		"--remote-write.queue.batch-max-samples=500",
		"--remote-write.queue.batch-deadline=1s",
		"--remote-write.queue.min-backoff=100ms",
		"--remote-write.timeout=20s",
		"--remote-write.url=http://127.0.0.1:9090/api/v1/write",
		"--remote-write.bearer-token-file=/run/secrets/token",
	};
	for (size_t i = 0; i < N(want); i++)
		if (!has_word(&a, want[i]))
			fail_msg("the shipper's command line lacks %s", want[i]);
	assert_false(has_word(&a, "--remote-write.tls.insecure-skip-verify"));
	assert_null(a.argv[a.argc]);
	child_argv_free(&a);
	/* a flag's label goes to every endpoint, unless the endpoint sets it itself */
	assert_int_equal(config_apply_flag(c, "--remote-write.external-label=instance=flag", err,
					   sizeof err),
			 1);
	assert_int_equal(child_argv_shipper(&a, "/x/shmetrics-shipper", c, err, sizeof err), 0);
	size_t flagged = 0, own = 0;
	for (size_t i = 0; i < a.argc; i++) {
		flagged += strcmp(a.argv[i], "--remote-write.external-label=instance=flag") == 0;
		own += strcmp(a.argv[i], "--remote-write.external-label=instance=h1") == 0;
	}
	assert_int_equal(flagged, 1); /* the second endpoint only */
	assert_int_equal(own, 1);
	child_argv_free(&a);
	drop(c);
}

static void test_a_reload_restarts_the_shipper_only_when_its_settings_change(void **state)
{
	struct shm_config *a = load(full), *b = load(full);
	struct shm_config *none = load("{}");
	struct reload_plan *p = malloc(sizeof *p);
	char err[ERRLEN];

	(void)state;
	enum reload_action act[3];
	assert_int_equal(reload_plan_make(a, b, p, err, sizeof err), 0);
	act[0] = p->processes[p->n_processes - 1].action;
	assert_string_equal(p->processes[p->n_processes - 1].name, "shipper");
	b->rw->ep[1].batch_max_samples = 7;
	assert_int_equal(reload_plan_make(a, b, p, err, sizeof err), 0);
	act[1] = p->processes[p->n_processes - 1].action;
	assert_int_equal(reload_plan_make(a, none, p, err, sizeof err), 0);
	act[2] = p->processes[p->n_processes - 1].action;
	assert_int_equal(act[0], RELOAD_KEEP);
	assert_int_equal(act[1], RELOAD_RESTART);
	assert_int_equal(act[2], RELOAD_STOP);
	assert_true(config_remote_write_changed(a, b));
	assert_false(config_remote_write_changed(a, a));
	free(p);
	drop(a);
	drop(b);
	drop(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_remote_write_key_is_read),
		cmocka_unit_test(test_bad_remote_write_configs_name_line_column_and_the_fix),
		cmocka_unit_test(test_a_password_in_the_url_is_not_repeated),
		cmocka_unit_test(test_flags_add_endpoints_and_set_the_queue_directory),
		cmocka_unit_test(test_the_shipper_command_line_carries_every_setting),
		cmocka_unit_test(test_a_reload_restarts_the_shipper_only_when_its_settings_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
