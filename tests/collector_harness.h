/*
 * collector_harness.h - running a host collector against a fixture tree in a
 * test, and comparing its output with a golden file.  Shared by the
 * tests/test_collectors*.c files (static functions: include it once per test).
 *
 * Fixture trees live under tests/fixtures/ and golden files under
 * tests/fixtures/golden/; tests run from the repository root.
 * SHMETRICS_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing
 * (check the diff before committing it).
 */
#ifndef SHMETRICS_TESTS_COLLECTOR_HARNESS_H
#define SHMETRICS_TESTS_COLLECTOR_HARNESS_H

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../collectors/collector.h"
#include "buf.h"
#include "render.h"
#include "metrics.h"

#define FIXTURES    "tests/fixtures"
#define GOLDEN      FIXTURES "/golden"
#define NO_SUCH_DIR "/nonexistent-shmetrics-fixture"

/* ---- the dumper ---- */

/*
 * The batch rendered as the exporter renders it (Prometheus text 0.0.4), so the
 * golden files show exactly what a scrape would; without headers, only the
 * sample lines.  The caller frees the text.
 */
static char *dump_batch(struct batch *b, bool headers)
{
	struct metrics_view v;
	struct buf out;
	struct render_source src = { .collector = "test", .view = &v };
	struct render_result res;

	batch_view(b, &v);
	buf_init(&out);
	assert_int_equal(render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res), 0);
	size_t len = out.len;
	const char *text = out.data ? out.data : "";
	char *dump = malloc(len + 1), *w = dump;
	assert_non_null(dump);
	for (const char *line = text; line < text + len;) {
		const char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(text + len - line);
		if (headers || line[0] != '#') {
			memcpy(w, line, n);
			w += n;
		}
		line += n;
	}
	*w = '\0';
	buf_free(&out);
	return dump;
}

/* ---- running a collector ---- */

struct run {
	const struct collector_def *def;
	void *state;
	struct batch *b;
	struct collector_env env;
	char err[512];
};

/*
 * Starts collector name with a copy of env (its name set here, rootfs "/" when
 * NULL) and a batch with limits lim (NULL: the defaults).  Returns init's result;
 * after a failure there is nothing to close.
 */
static int run_start(struct run *r, const char *name, const struct collector_env *env,
		     const struct batch_limits *lim)
{
	struct batch_limits defaults;
	memset(r, 0, sizeof *r);
	r->def = collector_find(name);
	assert_non_null(r->def);
	r->env = *env;
	r->env.name = name;
	if (!r->env.rootfs)
		r->env.rootfs = "/";
	int rc = r->def->ops->init(&r->state, &r->env, r->err, sizeof r->err);
	if (rc)
		return rc;
	if (!lim) {
		batch_limits_default(&defaults);
		lim = &defaults;
	}
	r->b = batch_new(lim);
	assert_non_null(r->b);
	return 0;
}

/* run_start, which must succeed. */
static void run_open_env(struct run *r, const char *name, const struct collector_env *env,
			 const struct batch_limits *lim)
{
	int rc = run_start(r, name, env, lim);
	if (rc)
		fail_msg("%s init: %d %s", name, rc, r->err);
}

/*
 * run_open's options: a collector that reads a kernel table over netlink by
 * default is told to read the /proc file, which a fixture can stand in for.
 */
static const char *const fixture_keys[] = { "netlink" };
static const char *const fixture_values[] = { "false" };

static void run_open(struct run *r, const char *name, const char *procfs, const char *sysfs)
{
	struct collector_env env = { .procfs = procfs, .sysfs = sysfs };
	if (strcmp(name, "arp") == 0) {
		env.n_options = 1;
		env.option_keys = fixture_keys;
		env.option_values = fixture_values;
	}
	run_open_env(r, name, &env, NULL);
}

/* One cycle; returns collect's result and the dump (caller frees). */
static int run_cycle_dump(struct run *r, char **dump, bool headers)
{
	batch_reset(r->b);
	r->err[0] = '\0';
	int rc = r->def->ops->collect(r->state, r->b, r->err, sizeof r->err);
	*dump = dump_batch(r->b, headers);
	return rc;
}

/* The same with the series only, for short expectations written inline. */
static int run_cycle(struct run *r, char **dump)
{
	return run_cycle_dump(r, dump, false);
}

static void run_close(struct run *r)
{
	r->def->ops->fini(r->state);
	batch_free(r->b);
}

/* One cycle that must succeed, compared with text.  (Not every test file uses
 * each helper.) */
__attribute__((unused)) static void expect_cycle(struct run *r, const char *text)
{
	char *dump;
	assert_int_equal(run_cycle(r, &dump), 0);
	assert_string_equal(dump, text);
	free(dump);
}

/* ---- golden files ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	char *text = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

static void compare_golden(const char *dump, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, GOLDEN "/%s", name);
	if (getenv("SHMETRICS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(dump, f);
		fclose(f);
		return;
	}
	char *want = slurp(path);
	assert_string_equal(dump, want);
	free(want);
}

/* One cycle of an open run, with headers, compared with a golden file; closes r. */
static void expect_golden_run(struct run *r, const char *golden)
{
	char *dump;
	assert_int_equal(run_cycle_dump(r, &dump, true), 0);
	compare_golden(dump, golden);
	free(dump);
	run_close(r);
}

__attribute__((unused)) static void expect_golden(const char *collector, const char *procfs,
						  const char *sysfs, const char *golden)
{
	struct run r;
	run_open(&r, collector, procfs, sysfs);
	expect_golden_run(&r, golden);
}

/* ---- temporary fixture trees ---- */

static void write_file(const char *dir, const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	for (char *p = strchr(path + strlen(dir) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	/* Truncate and rewrite the same inode, as the kernel's files change under an
	 * open descriptor. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *make_tree(void)
{
	char *dir = strdup("/tmp/shmetrics-collectors-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* ---- one file, one cycle ---- */

/* How a test file opens collector on a temporary tree dir (NULL: run_open with dir
 * as procfs and sysfs). */
typedef void run_opener(struct run *r, const char *collector, const char *dir);

/* A file written into an empty tree and the series a cycle must give for it. */
struct edge_case {
	const char *collector, *file, *content, *expect;
};

/* Runs each case on a tree of its own; a mismatch names the case. */
static void expect_edge_cases(const struct edge_case *cases, size_t n, run_opener *open)
{
	for (size_t i = 0; i < n; i++) {
		const struct edge_case *c = &cases[i];
		char *dir = make_tree(), *dump;
		struct run r;
		write_file(dir, c->file, c->content);
		if (open)
			open(&r, c->collector, dir);
		else
			run_open(&r, c->collector, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), 0);
		if (strcmp(dump, c->expect) != 0)
			fail_msg("case %zu (%s):\n--- got\n%s--- want\n%s", i, c->collector, dump,
				 c->expect);
		free(dump);
		run_close(&r);
		remove_tree(dir);
	}
}

/* One cycle of collector on a temporary tree holding the single file rel.  (Not
 * every test file has such a case.) */
__attribute__((unused)) static void expect_on_file(const char *collector, const char *rel,
						   const char *content, const char *want)
{
	const struct edge_case c = { collector, rel, content, want };
	expect_edge_cases(&c, 1, NULL);
}

#endif
