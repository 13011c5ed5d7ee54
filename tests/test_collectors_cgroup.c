/*
 * test_collectors_cgroup.c - the cgroup collector against fixture trees shaped
 * like cgroupfs (tests/fixtures/cgroup/): a cgroup v2 systemd host with Docker,
 * containerd and CRI-O (Kubernetes, systemd driver), podman, nspawn and a
 * libvirt machine, and a hybrid host with v1 controllers (cpu,cpuacct mounted
 * together) beside an empty v2 hierarchy, holding Docker and Kubernetes with the
 * cgroupfs driver and LXC.  Golden files in tests/fixtures/cgroup/golden/.
 * The live test on this machine's own cgroups is tests/e2e_cgroup.sh.
 */
#include "collector_harness.h"

#include <fcntl.h>

#include "cgname.h"
#include "config.h"

#define CG_V2     FIXTURES "/cgroup/v2-systemd/sysfs"
#define CG_V1     FIXTURES "/cgroup/v1-hybrid/sysfs"
#define CG_GOLDEN "../cgroup/golden/" /* relative to tests/fixtures/golden */

static void open_cgroup(struct run *r, const char *sysfs, const char *const *keys,
			const char *const *values, size_t n, const struct batch_limits *lim)
{
	const struct collector_env env = { .procfs = NO_SUCH_DIR,
					   .sysfs = sysfs,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	run_open_env(r, "cgroup", &env, lim);
}

/* How many lines of text start with prefix. */
static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

/* ---- fixtures ---- */

static void test_cgroup_v2_systemd_host_with_containers_matches_golden(void **unused)
{
	(void)unused;
	expect_golden("cgroup", NO_SUCH_DIR, CG_V2, CG_GOLDEN "v2-systemd.txt");
}

static void test_cgroup_v1_hybrid_host_merges_hierarchies_into_the_same_families(void **unused)
{
	(void)unused;
	struct run r;
	open_cgroup(&r, CG_V1, NULL, NULL, 0, NULL);
	expect_golden_run(&r, CG_GOLDEN "v1-hybrid.txt");
}

static void test_cgroup_without_cgroupfs_reports_zero_cgroups(void **unused)
{
	(void)unused;
	struct run r;
	open_cgroup(&r, NO_SUCH_DIR, NULL, NULL, 0, NULL);
	expect_cycle(&r, "shmetrics_cgroup_cgroups 0\nshmetrics_cgroup_dropped_total 0\n");
	run_close(&r);
}

/* ---- bounds ---- */

static void test_cgroup_max_cgroups_keeps_the_shallowest_and_counts_the_rest(void **unused)
{
	(void)unused;
	const char *const k[] = { "max-cgroups" }, *const v[] = { "5" };
	struct run r;
	char *dump;

	open_cgroup(&r, CG_V2, k, v, 1, NULL);
	for (int cycle = 1; cycle <= 2; cycle++) {
		assert_int_equal(run_cycle(&r, &dump), 0);
		assert_non_null(strstr(r.err, "max-cgroups=5"));
		assert_int_equal(count_lines(dump, "shmetrics_cgroup_info{"), 5);
		assert_non_null(strstr(dump, "shmetrics_cgroup_info{id=\"/\"} 1\n"));
		assert_non_null(strstr(dump, "id=\"/system.slice\",unit=\"system.slice\"} 1\n"));
		assert_null(strstr(dump, "ssh.service"));
		assert_non_null(strstr(dump, "shmetrics_cgroup_cgroups 5\n"));
		/* 26 cgroups within max-depth: 21 left out on every cycle. */
		char want[64];
		snprintf(want, sizeof want, "shmetrics_cgroup_dropped_total %d\n", 21 * cycle);
		assert_non_null(strstr(dump, want));
		free(dump);
	}
	run_close(&r);
}

static void test_cgroup_max_depth_stops_the_walk(void **unused)
{
	(void)unused;
	const char *const k[] = { "max-depth" }, *const v[] = { "1" };
	struct run r;
	char *dump;

	open_cgroup(&r, CG_V2, k, v, 1, NULL);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(r.err, "");
	assert_int_equal(count_lines(dump, "shmetrics_cgroup_info{"), 6);
	assert_null(strstr(dump, "ssh.service"));
	free(dump);
	run_close(&r);
}

static void test_cgroup_path_include_and_exclude_choose_by_path(void **unused)
{
	(void)unused;
	const char *const k[] = { "path-include", "path-exclude" }, *const v[] = {
		"^/system\\.slice/", "docker"
	};
	struct run r;

	open_cgroup(&r, CG_V2, k, v, 2, NULL);
	char *dump;
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_int_equal(count_lines(dump, "shmetrics_cgroup_info{"), 3);
	assert_non_null(strstr(dump, "shmetrics_cgroup_info{id=\"/system.slice/cron.service\""));
	assert_non_null(strstr(dump, "shmetrics_cgroup_info{id=\"/system.slice/ssh.service\""));
	assert_non_null(strstr(dump, "shmetrics_cgroup_info{id=\"/system.slice/systemd-fsck@"));
	free(dump);
	run_close(&r);
}

/* Whole cgroups are left out before the batch would refuse a series, and what
 * is left out is counted: nothing is lost half-way through a family. */
static void test_cgroup_leaves_out_whole_cgroups_that_would_not_fit_the_batch(void **unused)
{
	(void)unused;
	struct batch_limits lim;
	struct run r;
	char *dump;

	batch_limits_default(&lim);
	lim.max_series = 200;
	lim.max_values = 200;
	open_cgroup(&r, CG_V2, NULL, NULL, 0, &lim);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "segment's limits"));
	assert_int_equal(batch_dropped(r.b), 0);
	size_t reported = count_lines(dump, "shmetrics_cgroup_info{");
	assert_true(reported >= 3 && reported < 26);
	char want[64];
	snprintf(want, sizeof want, "shmetrics_cgroup_dropped_total %zu\n", 26 - reported);
	assert_non_null(strstr(dump, want));
	/* Every reported cgroup has all of its series. */
	assert_int_equal(count_lines(dump, "shmetrics_cgroup_cpu_usage_seconds_total{"), reported);
	free(dump);
	run_close(&r);
}

static void test_cgroup_refuses_zero_max_cgroups(void **unused)
{
	(void)unused;
	const char *const k[] = { "max-cgroups" }, *const v[] = { "0" };
	const struct collector_env env = { .procfs = NO_SUCH_DIR,
					   .sysfs = CG_V2,
					   .n_options = 1,
					   .option_keys = k,
					   .option_values = v };
	struct run r;
	assert_int_equal(run_start(&r, "cgroup", &env, NULL), -EINVAL);
	assert_non_null(strstr(r.err, "max-cgroups"));
}

/* Whole-number options: a JSON number or a string; anything else is refused
 * with the key's position when the config loads. */
static void test_cgroup_whole_number_options_load_from_numbers_and_strings(void **unused)
{
	(void)unused;
	static struct shm_config c; /* large: kept off the stack */
	char err[512];

	assert_int_equal(config_load_string(&c,
					    "{\"collectors\": {\"cgroup\": {\"max-cgroups\": 50, "
					    "\"max-depth\": \"3\"}}}",
					    NULL, err, sizeof err),
			 0);
	assert_string_equal(config_collector_option(&c, "cgroup", "max-cgroups"), "50");
	assert_string_equal(config_collector_option(&c, "cgroup", "max-depth"), "3");
	static const char *const bad[] = { "-1", "1.5", "\"x\"", "2000000", "true" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[128];
		snprintf(text, sizeof text, "{\"collectors\": {\"cgroup\": {\"max-cgroups\": %s}}}",
			 bad[i]);
		if (config_load_string(&c, text, NULL, err, sizeof err) == 0)
			fail_msg("max-cgroups %s was accepted", bad[i]);
		assert_non_null(strstr(err, "max-cgroups"));
	}
	config_free(&c);
}

/* ---- changes and hostile trees ---- */

static void v2_leaf(const char *dir, const char *cg, const char *usage_usec)
{
	char rel[512], text[128];
	snprintf(rel, sizeof rel, "fs/cgroup/%s/cpu.stat", cg);
	snprintf(text, sizeof text, "usage_usec %s\nuser_usec 1\nsystem_usec 2\n", usage_usec);
	write_file(dir, rel, text);
}

static void test_cgroup_that_disappears_leaves_no_series(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump, path[512];
	struct run r;

	write_file(dir, "fs/cgroup/cgroup.controllers", "cpu\n");
	v2_leaf(dir, "a.service", "1000000");
	v2_leaf(dir, "b.service", "2000000");
	open_cgroup(&r, dir, NULL, NULL, 0, NULL);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "id=\"/b.service\""));
	free(dump);
	snprintf(path, sizeof path, "%s/fs/cgroup/b.service/cpu.stat", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/fs/cgroup/b.service", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "b.service"));
	assert_non_null(strstr(dump, "shmetrics_cgroup_cpu_usage_seconds_total{id=\"/a.service\","
				     "unit=\"a.service\"} 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_cgroup_skips_names_that_are_not_utf8_and_does_not_wait_on_a_fifo(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump, path[512];
	struct run r;

	write_file(dir, "fs/cgroup/cgroup.controllers", "cpu memory\n");
	v2_leaf(dir, "bad\xff.scope", "5");
	v2_leaf(dir, "bad\xff.scope/below.scope", "5");
	v2_leaf(dir, "fifo.service", "3000000");
	snprintf(path, sizeof path, "%s/fs/cgroup/fifo.service/memory.current", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	open_cgroup(&r, dir, NULL, NULL, 0, NULL);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "bad"));
	assert_null(strstr(dump, "below"));
	assert_non_null(strstr(dump, "{id=\"/fifo.service\",unit=\"fifo.service\"} 3\n"));
	assert_null(strstr(dump, "memory_usage_bytes{id=\"/fifo.service\""));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_cgroup_values_that_do_not_parse_are_left_out(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;

	write_file(dir, "fs/cgroup/cgroup.controllers", "cpu memory pids\n");
	write_file(dir, "fs/cgroup/x.service/cpu.stat",
		   "usage_usec -5\nuser_usec 1e3\nnew_key 7\n");
	write_file(dir, "fs/cgroup/x.service/memory.current", "lots\n");
	write_file(dir, "fs/cgroup/x.service/memory.max", "max\n");
	write_file(dir, "fs/cgroup/x.service/pids.current", "");
	write_file(dir, "fs/cgroup/x.service/io.stat",
		   "8:0\nnot-a-device rbytes=5\n8:1 rbytes=x\n");
	write_file(dir, "fs/cgroup/x.service/memory.events", "oom_kill\noom 2\n");
	open_cgroup(&r, dir, NULL, NULL, 0, NULL);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(dump, "shmetrics_cgroup_info{id=\"/\"} 1\n"
				  "shmetrics_cgroup_info{id=\"/x.service\",unit=\"x.service\"} 1\n"
				  "shmetrics_cgroup_memory_events_total{id=\"/x.service\","
				  "unit=\"x.service\",event=\"oom\"} 2\n"
				  "shmetrics_cgroup_cgroups 2\n"
				  "shmetrics_cgroup_dropped_total 0\n");
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* ---- what a path says ---- */

static void test_cgname_recognises_units_containers_and_pods(void **unused)
{
	(void)unused;
	static const char id[] = "3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
	static const struct {
		const char *path, *unit, *cid, *cname, *runtime, *pod;
	} cases[] = {
		{ "/", "", "", "", "", "" },
		{ "/system.slice/ssh.service", "ssh.service", "", "", "", "" },
		{ "/system.slice/docker-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.scope",
		  "docker-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.scope",
		  id, "", "docker", "" },
		{ "/docker/3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "",
		  id, "", "docker", "" },
		{ "/default/3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "",
		  id, "", "", "" },
		{ "/kubepods/besteffort/pod0f1e2d3c-4b5a-4968-8776-65544332a1b0/"
		  "3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
		  "", id, "", "", "0f1e2d3c-4b5a-4968-8776-65544332a1b0" },
		{ "/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_4968_8776_65544332a1b0.slice",
		  "kubepods-pod0f1e2d3c_4b5a_4968_8776_65544332a1b0.slice", "", "", "",
		  "0f1e2d3c-4b5a-4968-8776-65544332a1b0" },
		{ "/machine.slice/libpod-conmon-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.scope",
		  "libpod-conmon-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.scope",
		  "", "", "", "" },
		{ "/libpod_parent/libpod-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
		  "", id, "", "podman", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/"
		  "libpod-3f1a9c0d2b7e4f5a8c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.scope/container",
		  "", id, "", "podman", "" },
		{ "/lxc.payload.web", "", "", "web", "lxc", "" },
		{ "/lxc.monitor.web", "", "", "", "", "" },
		{ "/lxc/old1/init.scope", "init.scope", "", "old1", "lxc", "" },
		{ "/machine.slice/systemd-nspawn@db.service", "systemd-nspawn@db.service", "", "db",
		  "systemd-nspawn", "" },
		{ "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope",
		  "machine-qemu\\x2d1\\x2dvm.scope", "", "qemu-1-vm", "machined", "" },
		{ "/docker/3f1a9c0d", "", "", "", "", "" },
		{ "/.service", "", "", "", "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cg_names n;
		cgname_parse(cases[i].path, strlen(cases[i].path), &n);
		if (strcmp(n.unit, cases[i].unit) || strcmp(n.container_id, cases[i].cid) ||
		    strcmp(n.container_name, cases[i].cname) ||
		    strcmp(n.runtime, cases[i].runtime) || strcmp(n.pod_uid, cases[i].pod))
			fail_msg("%s: unit=%s id=%s name=%s runtime=%s pod=%s", cases[i].path,
				 n.unit, n.container_id, n.container_name, n.runtime, n.pod_uid);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_v2_systemd_host_with_containers_matches_golden),
		cmocka_unit_test(
		    test_cgroup_v1_hybrid_host_merges_hierarchies_into_the_same_families),
		cmocka_unit_test(test_cgroup_without_cgroupfs_reports_zero_cgroups),
		cmocka_unit_test(test_cgroup_max_cgroups_keeps_the_shallowest_and_counts_the_rest),
		cmocka_unit_test(test_cgroup_max_depth_stops_the_walk),
		cmocka_unit_test(test_cgroup_path_include_and_exclude_choose_by_path),
		cmocka_unit_test(test_cgroup_leaves_out_whole_cgroups_that_would_not_fit_the_batch),
		cmocka_unit_test(test_cgroup_refuses_zero_max_cgroups),
		cmocka_unit_test(test_cgroup_whole_number_options_load_from_numbers_and_strings),
		cmocka_unit_test(test_cgroup_that_disappears_leaves_no_series),
		cmocka_unit_test(
		    test_cgroup_skips_names_that_are_not_utf8_and_does_not_wait_on_a_fifo),
		cmocka_unit_test(test_cgroup_values_that_do_not_parse_are_left_out),
		cmocka_unit_test(test_cgname_recognises_units_containers_and_pods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
