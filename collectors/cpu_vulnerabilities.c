/*
 * cpu_vulnerabilities - the kernel's verdict on each CPU vulnerability, from
 * SYSFS/devices/system/cpu/vulnerabilities/<codename>, as node_exporter's
 * opt-in cpu_vulnerabilities collector reports it:
 * node_cpu_vulnerabilities_info{codename, state, mitigation} 1, where state is
 * "not affected", "vulnerable" or "mitigation" and mitigation the text after
 * "Vulnerable" or "Mitigation" (without its ": ").  A verdict in none of these
 * forms ("Unknown: ...") gets state "unknown" and the whole text as mitigation.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"

struct vuln_state {
	char dir[PATH_MAX];
	struct dirents files;
};

static void vuln_fini(void *state)
{
	struct vuln_state *s = state;
	if (!s)
		return;
	dirents_free(&s->files);
	free(s);
}

static int vuln_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct vuln_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/devices/system/cpu/vulnerabilities", env->sysfs) !=
	    0) {
		snprintf(err, errlen, "path %s/devices/system/cpu/vulnerabilities is too long",
			 env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	*state = s;
	return 0;
}

/* The state label of a verdict, and where its mitigation text starts. */
static const char *vuln_verdict(const char *text, const char **mitigation)
{
	static const struct {
		const char *prefix, *state;
	} forms[] = { { "Vulnerable", "vulnerable" }, { "Mitigation", "mitigation" } };
	*mitigation = "";
	if (strcmp(text, "Not affected") == 0)
		return "not affected";
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		size_t n = strlen(forms[i].prefix);
		if (strncmp(text, forms[i].prefix, n) == 0) {
			*mitigation = text + n + (strncmp(text + n, ": ", 2) == 0 ? 2 : 0);
			return forms[i].state;
		}
	}
	*mitigation = text;
	return "unknown";
}

static int vuln_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "codename", "state", "mitigation" };
	struct vuln_state *s = state;
	struct lazyfam fam = { "node_cpu_vulnerabilities_info",
			       "Details of each CPU vulnerability reported by sysfs. The value of "
			       "the series is always 1; the state is in the label.",
			       METRIC_GAUGE, false };
	char path[PATH_MAX], text[1024];
	int rc = dirents_read(&s->files, s->dir, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "listing %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->files.n; i++) {
		const char *codename = dirents_name(&s->files, i), *mitigation;
		if (path_fmt(path, sizeof path, "%s/%s", s->dir, codename) != 0 ||
		    sysfile_text(path, text, sizeof text) < 0)
			continue;
		const char *values[] = { codename, vuln_verdict(text, &mitigation), NULL };
		values[2] = mitigation;
		rc = lazyfam_add(b, &fam, names, values, 3, 1, err, errlen);
	}
	return rc;
}

const struct collector_ops collector_cpu_vulnerabilities_ops = {
	.init = vuln_init,
	.collect = vuln_collect,
	.fini = vuln_fini,
};
