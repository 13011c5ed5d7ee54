/*
 * selinux - whether SELinux is on and in which mode, as node_exporter 1.5's
 * selinux collector reports it:
 *
 *   node_selinux_enabled       1 when selinuxfs is mounted at SYSFS/fs/selinux
 *                              (its enforce file exists), else 0 and nothing more;
 *   node_selinux_current_mode  SYSFS/fs/selinux/enforce: 1 enforcing, 0 permissive;
 *   node_selinux_config_mode   SELINUX= in ROOTFS/etc/selinux/config: 1 enforcing,
 *                              0 permissive, -1 disabled or unset.
 *
 * node_exporter asks libselinux, which finds selinuxfs through the process's own
 * mounts and so ignores --path.sysfs; reading under the configured roots gives the
 * host's answer from a container too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

struct selinux_state {
	char enforce[PATH_MAX];
	struct procfile config;
};

static int selinux_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct selinux_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->config, env->rootfs, "etc/selinux/config", err, errlen);
	if (rc == 0 &&
	    path_fmt(s->enforce, sizeof s->enforce, "%s/fs/selinux/enforce", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/fs/selinux/enforce is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void selinux_fini(void *state)
{
	struct selinux_state *s = state;
	if (!s)
		return;
	procfile_close(&s->config);
	free(s);
}

/* The SELINUX= setting of the config file as a mode; -1 when absent. */
static double selinux_config_mode(struct selinux_state *s)
{
	char ebuf[128];
	if (procfile_read(&s->config, ebuf, sizeof ebuf) != 0)
		return -1;
	struct scan text = scan_text(s->config.buf, s->config.len), line;
	double mode = -1;
	while (scan_line(&text, &line)) {
		const char *w;
		size_t n;
		if (!scan_word(&line, &w, &n) || n < 8 || memcmp(w, "SELINUX=", 8) != 0)
			continue;
		w += 8;
		n -= 8;
		if (n >= 2 && (w[0] == '"' || w[0] == '\'') && w[n - 1] == w[0]) {
			w++;
			n -= 2;
		}
		mode = word_is(w, n, "enforcing") ? 1 : word_is(w, n, "permissive") ? 0 : -1;
	}
	return mode;
}

static int selinux_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct selinux_state *s = state;
	uint64_t enforce;

	int rc = sysfile_u64(s->enforce, &enforce);
	bool enabled = rc == 0;
	rc = emit_single(b, "node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false",
			 METRIC_GAUGE, enabled ? 1 : 0, err, errlen);
	if (rc || !enabled)
		return rc;
	rc = emit_single(b, "node_selinux_config_mode", "Configured SELinux enforcement mode",
			 METRIC_GAUGE, selinux_config_mode(s), err, errlen);
	if (rc == 0)
		rc = emit_single(b, "node_selinux_current_mode", "Current SELinux enforcement mode",
				 METRIC_GAUGE, enforce ? 1 : 0, err, errlen);
	return rc;
}

const struct collector_ops collector_selinux_ops = {
	.init = selinux_init,
	.collect = selinux_collect,
	.fini = selinux_fini,
};
