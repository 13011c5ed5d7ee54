/*
 * nvme - node_nvme_info for each NVMe controller in SYSFS/class/nvme/, as
 * node_exporter's nvme collector reports it: labels cntlid, device,
 * firmware_revision (firmware_rev), model, serial and state, without the blank
 * padding the kernel leaves in model and serial.  An attribute that cannot be
 * read gives an empty label (which Prometheus treats as absent).
 *
 * And per namespace, from the controller's nvme<C>c<K>n<N> directories (the
 * paths of a multipath namespace): node_nvme_namespace_info{ana_state, device,
 * nsid} ("unknown" without ana_state) and the sizes in bytes:
 * namespace_size_bytes and namespace_capacity_bytes (size, in 512-byte sectors
 * as for every block device), namespace_used_bytes (nuse, in logical blocks) and
 * namespace_logical_block_size_bytes (queue/logical_block_size).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "scan.h"
#include "valtable.h"

#define NVME_TEXT_MAX 256
#define SECTOR_BYTES  512.0

/* Label names in order; attrs[i] is the file of labels[i + 1] (device is 1). */
static const char *const nvme_labels[] = { "cntlid", "device", "firmware_revision",
					   "model",  "serial", "state" };
static const char *const nvme_attrs[] = {
	"cntlid", NULL, "firmware_rev", "model", "serial", "state"
};
#define N_LABELS (sizeof nvme_labels / sizeof nvme_labels[0])

enum ns_col { NS_CAPACITY, NS_SIZE, NS_USED, NS_LBA, N_NS_COLS };

static const struct valtable_col ns_cols[N_NS_COLS] = {
	{ "node_nvme_namespace_capacity_bytes",
	  "Capacity of the NVMe namespace in bytes, from /sys/class/nvme/<device>/<namespace>/size",
	  METRIC_GAUGE, 0 },
	{ "node_nvme_namespace_size_bytes",
	  "Size of the NVMe namespace in bytes. Available in "
	  "/sys/class/nvme/<device>/<namespace>/size",
	  METRIC_GAUGE, 0 },
	{ "node_nvme_namespace_used_bytes",
	  "Used space of the NVMe namespace in bytes. Available in "
	  "/sys/class/nvme/<device>/<namespace>/nuse",
	  METRIC_GAUGE, 0 },
	{ "node_nvme_namespace_logical_block_size_bytes",
	  "Logical block size of the NVMe namespace in bytes. Usually 4Kb. Available in "
	  "/sys/class/nvme/<device>/<namespace>/queue/logical_block_size",
	  METRIC_GAUGE, 0 },
};

static const struct valtable_col ns_info_col[1] = {
	{ "node_nvme_namespace_info", "Information about NVMe namespaces. Value is always 1",
	  METRIC_GAUGE, 0 },
};

struct nvme_state {
	char root[PATH_MAX];
	struct dirents devs, namespaces;
	struct valtable ns_info, ns_values;
	char text[N_LABELS][NVME_TEXT_MAX];
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
	valtable_init(&s->ns_info, 1);
	valtable_init(&s->ns_values, N_NS_COLS);
	*state = s;
	return 0;
}

static void nvme_fini(void *state)
{
	struct nvme_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devs);
	dirents_free(&s->namespaces);
	valtable_free(&s->ns_info);
	valtable_free(&s->ns_values);
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

/* The namespace number of "nvme<C>c<K>n<N>" (multipath paths), or NULL. */
static const char *ns_id(const char *name)
{
	const char *p = name;
	uint64_t v;
	if (strncmp(p, "nvme", 4) != 0)
		return NULL;
	p += 4;
	size_t d = strspn(p, "0123456789");
	if (d == 0 || p[d] != 'c')
		return NULL;
	p += d + 1;
	d = strspn(p, "0123456789");
	if (d == 0 || p[d] != 'n')
		return NULL;
	p += d + 1;
	return parse_u64(p, strlen(p), &v) ? p : NULL;
}

static bool is_namespace(const char *name)
{
	return ns_id(name) != NULL;
}

static bool ns_u64(const char *dir, const char *ns, const char *attr, uint64_t *v)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s/%s", dir, ns, attr) == 0 &&
	       sysfile_u64(path, v) == 0;
}

static int nvme_read_namespaces(struct nvme_state *s, const char *dev, const char *dir)
{
	char path[PATH_MAX], ana[64];
	int rc = 0;

	if (dirents_read(&s->namespaces, dir, is_namespace) != 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->namespaces.n; i++) {
		const char *ns = dirents_name(&s->namespaces, i);
		uint64_t size = 0, used = 0, lba = 0;
		bool has_size = ns_u64(dir, ns, "size", &size),
		     has_used = ns_u64(dir, ns, "nuse", &used);
		bool has_lba = ns_u64(dir, ns, "queue/logical_block_size", &lba);
		if (path_fmt(path, sizeof path, "%s/%s/ana_state", dir, ns) != 0 ||
		    sysfile_text(path, ana, sizeof ana) <= 0)
			snprintf(ana, sizeof ana, "unknown");
		const char *info[] = { ana, dev, ns_id(ns) }, *key[] = { dev, ns_id(ns) };
		int row = valtable_row(&s->ns_info, info, 3);
		if (row >= 0)
			valtable_set(&s->ns_info, (size_t)row, 0, 1.0);
		row = valtable_row(&s->ns_values, key, 2);
		if (row < 0) {
			rc = row == -ENOMEM ? row : 0;
			continue;
		}
		if (has_size) {
			valtable_set(&s->ns_values, (size_t)row, NS_CAPACITY,
				     (double)size * SECTOR_BYTES);
			valtable_set(&s->ns_values, (size_t)row, NS_SIZE,
				     (double)size * SECTOR_BYTES);
		}
		if (has_used && has_lba)
			valtable_set(&s->ns_values, (size_t)row, NS_USED,
				     (double)used * (double)lba);
		if (has_lba)
			valtable_set(&s->ns_values, (size_t)row, NS_LBA, (double)lba);
	}
	return rc;
}

static int nvme_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const ns_info_names[] = { "ana_state", "device", "nsid" };
	static const char *const ns_names[] = { "device", "nsid" };
	struct nvme_state *s = state;
	struct lazyfam f = { "node_nvme_info",
			     "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
			     METRIC_GAUGE, false };
	char dir[PATH_MAX];

	valtable_reset(&s->ns_info);
	valtable_reset(&s->ns_values);
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
		const char *values[N_LABELS];
		for (size_t a = 0; a < N_LABELS; a++) {
			if (nvme_attrs[a])
				read_trimmed(dir, nvme_attrs[a], s->text[a], NVME_TEXT_MAX);
			values[a] = nvme_attrs[a] ? s->text[a] : dev;
		}
		rc = lazyfam_add(b, &f, nvme_labels, values, N_LABELS, 1.0, err, errlen);
		if (rc == 0)
			rc = nvme_read_namespaces(s, dev, dir);
	}
	if (rc == 0)
		rc = valtable_emit(&s->ns_info, ns_info_col, ns_info_names, 3, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->ns_values, ns_cols, ns_names, 2, b, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory for NVMe namespaces");
	return rc;
}

const struct collector_ops collector_nvme_ops = {
	.init = nvme_init,
	.collect = nvme_collect,
	.fini = nvme_fini,
};
