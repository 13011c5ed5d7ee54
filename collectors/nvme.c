/*
 * nvme - node_nvme_info for each NVMe controller in SYSFS/class/nvme/, as
 * node_exporter's nvme collector reports it: labels device, firmware_revision
 * (firmware_rev), model, serial and state, without the blank padding the kernel
 * leaves in model and serial.  An attribute that cannot be read gives an empty
 * label (which Prometheus treats as absent).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"

#define NVME_TEXT_MAX 256

/* Label names in order; attrs[i] is the file of labels[i + 1]. */
static const char *const nvme_labels[] = { "device", "firmware_revision", "model", "serial",
					   "state" };
static const char *const nvme_attrs[] = { "firmware_rev", "model", "serial", "state" };
#define N_ATTRS (sizeof nvme_attrs / sizeof nvme_attrs[0])

struct nvme_state {
	char root[PATH_MAX];
	struct dirents devs;
	char text[N_ATTRS][NVME_TEXT_MAX];
};

static int nvme_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct nvme_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/class/nvme", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/nvme is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	*state = s;
	return 0;
}

static void nvme_fini(void *state)
{
	struct nvme_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devs);
	free(s);
}

/* dir/attr into out without surrounding blanks; "" when it cannot be read. */
static void read_trimmed(const char *dir, const char *attr, char *out, size_t cap)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", dir, attr) != 0 ||
	    sysfile_text(path, out, cap) < 0) {
		out[0] = '\0';
		return;
	}
	size_t lead = strspn(out, " \t");
	memmove(out, out + lead, strlen(out + lead) + 1);
}

static int nvme_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct nvme_state *s = state;
	struct lazyfam f = { "node_nvme_info",
			     "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
			     METRIC_GAUGE, false };
	char dir[PATH_MAX];

	int rc = dirents_read(&s->devs, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->devs.n; i++) {
		const char *dev = dirents_name(&s->devs, i);
		if (path_fmt(dir, sizeof dir, "%s/%s", s->root, dev) != 0)
			continue;
		const char *values[N_ATTRS + 1] = { dev };
		for (size_t a = 0; a < N_ATTRS; a++) {
			read_trimmed(dir, nvme_attrs[a], s->text[a], NVME_TEXT_MAX);
			values[a + 1] = s->text[a];
		}
		rc = lazyfam_add(b, &f, nvme_labels, values, N_ATTRS + 1, 1.0, err, errlen);
	}
	return rc;
}

const struct collector_ops collector_nvme_ops = {
	.init = nvme_init,
	.collect = nvme_collect,
	.fini = nvme_fini,
};
