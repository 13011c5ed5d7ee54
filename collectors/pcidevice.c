/*
 * pcidevice - PCI devices, from SYSFS/bus/pci/devices/<location>/, as
 * node_exporter's opt-in pcidevice collector reports them, labelled segment,
 * bus, device and function (hex, as the location spells them):
 *
 *   node_pcidevice_info{..., parent_segment..parent_function (or "*" under a
 *     host bridge), class_id, vendor_id, device_id, subsystem_vendor_id,
 *     subsystem_device_id, revision} 1; with --collector.pcidevice.names also
 *     vendor_name, device_name, subsystem_vendor_name, subsystem_device_name
 *     and class_name from pci.ids (--collector.pcidevice.idsfile, else
 *     /usr/share/misc/pci.ids or /usr/share/hwdata/pci.ids; an unknown id
 *     stands for itself, as in node_exporter)
 *   node_pcidevice_{max,current}_link_transfers_per_second and _width (-1
 *     when the device has no PCIe link), d3cold_allowed, sriov_drivers_autoprobe,
 *     sriov_numvfs, sriov_totalvfs, sriov_vf_total_msix (0 when absent)
 *   node_pcidevice_power_state{..., state} 1 for the current of D0, D1, D2,
 *     D3hot, D3cold, unknown, error, and 0 for the others
 *   node_pcidevice_numa_node, unless the kernel says -1
 *
 * A device lacking one of class, vendor, device, subsystem_vendor,
 * subsystem_device, revision or numa_node is skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "pciids.h"
#include "scan.h"
#include "sysattr.h"
#include "valtable.h"

enum { ID_CLASS, ID_VENDOR, ID_DEVICE, ID_SUBVENDOR, ID_SUBDEVICE, ID_REVISION, ID_NUMA, N_IDS };
static const char *const id_files[N_IDS] = {
	"class", "vendor", "device", "subsystem_vendor", "subsystem_device", "revision", "numa_node"
};

enum {
	COL_MAX_TS,
	COL_MAX_WIDTH,
	COL_CUR_TS,
	COL_CUR_WIDTH,
	COL_D3COLD,
	COL_AUTOPROBE,
	COL_NUMVFS,
	COL_TOTALVFS,
	COL_MSIX,
	COL_NUMA,
	N_COLS
};

#define G(n, h)                                         \
	{                                               \
		"node_pcidevice_" n, h, METRIC_GAUGE, 0 \
	}
static const struct valtable_col cols[N_COLS] = {
	G("max_link_transfers_per_second", "Value of maximum link's transfers per second (T/s)"),
	G("max_link_width", "Value of maximum link's width (number of lanes)"),
	G("current_link_transfers_per_second",
	  "Value of current link's transfers per second (T/s)"),
	G("current_link_width", "Value of current link's width (number of lanes)"),
	G("d3cold_allowed", "Whether the PCIe device supports D3cold power state (0/1)."),
	G("sriov_drivers_autoprobe",
	  "Whether SR-IOV drivers autoprobe is enabled for the device (0/1)."),
	G("sriov_numvfs", "Number of Virtual Functions (VFs) currently enabled for SR-IOV."),
	G("sriov_totalvfs", "Total number of Virtual Functions (VFs) supported by the device."),
	G("sriov_vf_total_msix", "Total number of MSI-X vectors for Virtual Functions."),
	G("numa_node",
	  "NUMA node number for the PCI device. -1 indicates unknown or not available."),
};
static const struct valtable_col power_col = G(
    "power_state", "PCIe device power state, one of: D0, D1, D2, D3hot, D3cold, unknown or error.");
#undef G

static const char *const power_states[] = {
	"D0", "D1", "D2", "D3hot", "D3cold", "unknown", "error"
};
#define N_POWER (sizeof power_states / sizeof power_states[0])

static const char *const loc_names[] = { "segment", "bus", "device", "function", "state" };

struct pci_state {
	char dir[PATH_MAX];
	struct dirents devices;
	struct valtable numbers, power;
	bool names;
	struct pciids ids;
	struct lazyfam info;
};

static void pci_fini(void *state)
{
	struct pci_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devices);
	valtable_free(&s->numbers);
	valtable_free(&s->power);
	pciids_free(&s->ids);
	free(s);
}

/* The ids file: the option, else the first of the usual places that exists. */
static void pci_load_names(struct pci_state *s, const struct collector_env *env)
{
	static const char *const defaults[] = { "/usr/share/misc/pci.ids",
						"/usr/share/hwdata/pci.ids" };
	const char *path = collector_option(env, "idsfile");
	char why[256];
	for (size_t i = 0; (!path || !path[0]) && i < sizeof defaults / sizeof defaults[0]; i++)
		if (access(defaults[i], R_OK) == 0)
			path = defaults[i];
	/* Without a readable file every id stands for itself, as in node_exporter. */
	if (path && path[0])
		(void)pciids_load(&s->ids, path, why, sizeof why);
}

static int pci_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct pci_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/bus/pci/devices", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/bus/pci/devices is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->numbers, N_COLS);
	valtable_init(&s->power, 1);
	s->names = collector_option_bool(env, "names");
	if (s->names)
		pci_load_names(s, env);
	*state = s;
	return 0;
}

/* "0000:04:00.0" as segment, bus, device, function. */
static bool parse_location(const char *s, unsigned *loc)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *dot = c2 ? strchr(c2 + 1, '.') : NULL;
	const char *start[4] = { s, c1 + 1, c2 + 1, dot + 1 };
	size_t len[4];
	if (!dot)
		return false;
	len[0] = (size_t)(c1 - s);
	len[1] = (size_t)(c2 - c1 - 1);
	len[2] = (size_t)(dot - c2 - 1);
	len[3] = strlen(dot + 1);
	for (int i = 0; i < 4; i++) {
		uint64_t v;
		if (len[i] == 0 || len[i] > 8 || !parse_hex_u64(start[i], len[i], &v))
			return false;
		loc[i] = (unsigned)v;
	}
	return true;
}

static void location_labels(const unsigned *loc, char (*out)[16])
{
	snprintf(out[0], 16, "%04x", loc[0]);
	snprintf(out[1], 16, "%02x", loc[1]);
	snprintf(out[2], 16, "%02x", loc[2]);
	snprintf(out[3], 16, "%x", loc[3]);
}

struct pci_dev {
	const char *name;
	char dir[PATH_MAX];
	char loc[4][16], parent[4][16];
	int64_t id[N_IDS];
};

static bool read_attr(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s", dir, file) == 0 &&
	       sysfile_text(path, buf, len) >= 0;
}

/* The device's location, its parent's (or "*"), and the id files. */
static bool pci_identify(struct pci_state *s, struct pci_dev *d)
{
	char target[PATH_MAX], text[64];
	unsigned loc[4], parent[4];
	if (path_fmt(d->dir, sizeof d->dir, "%s/%s", s->dir, d->name) != 0)
		return false;
	ssize_t n = readlink(d->dir, target, sizeof target - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	char *base = strrchr(target, '/');
	if (!parse_location(base ? base + 1 : target, loc))
		return false;
	location_labels(loc, d->loc);
	if (base)
		*base = '\0';
	char *up = base ? strrchr(target, '/') : NULL;
	const char *pname = up ? up + 1 : target;
	if (base && strncmp(pname, "pci", 3) != 0 && parse_location(pname, parent))
		location_labels(parent, d->parent);
	else
		for (int i = 0; i < 4; i++)
			strcpy(d->parent[i], "*");
	for (int i = 0; i < N_IDS; i++)
		if (!read_attr(d->dir, id_files[i], text, sizeof text) ||
		    !sysattr_parse_i64(text, strlen(text), &d->id[i]))
			return false;
	return true;
}

/* max_link_speed "8.0 GT/s PCIe" in transfers per second; -1 without a link. */
static double link_speed(const char *dir, const char *file)
{
	char text[64];
	double v;
	const char *sp;
	if (!read_attr(dir, file, text, sizeof text) || !(sp = strchr(text, ' ')) ||
	    strcmp(sp + 1, "GT/s PCIe") != 0 || !parse_double(text, (size_t)(sp - text), &v))
		return -1;
	return v * 1e9;
}

/* A whole-number attribute, or fallback when absent or unreadable. */
static double number_attr(const char *dir, const char *file, double fallback)
{
	char text[64];
	int64_t v;
	if (!read_attr(dir, file, text, sizeof text) || !sysattr_parse_i64(text, strlen(text), &v))
		return fallback;
	return (double)v;
}

/* A name from pci.ids, else the id without its "0x" (node_exporter's fallback). */
static const char *name_or_id(const char *name, const char *id)
{
	return name ? name : id + 2;
}

static int pci_info(struct pci_state *s, const struct pci_dev *d, struct batch *b, char *err,
		    size_t errlen)
{
	static const char *const names[] = {
		"segment",
		"bus",
		"device",
		"function",
		"parent_segment",
		"parent_bus",
		"parent_device",
		"parent_function",
		"class_id",
		"vendor_id",
		"device_id",
		"subsystem_vendor_id",
		"subsystem_device_id",
		"revision",
		"vendor_name",
		"device_name",
		"subsystem_vendor_name",
		"subsystem_device_name",
		"class_name",
	};
	char ids[6][16], unknown_class[40];
	uint16_t vendor = (uint16_t)d->id[ID_VENDOR], device = (uint16_t)d->id[ID_DEVICE];
	uint16_t subvendor = (uint16_t)d->id[ID_SUBVENDOR],
		 subdevice = (uint16_t)d->id[ID_SUBDEVICE];
	uint32_t class_code = (uint32_t)d->id[ID_CLASS];
	snprintf(ids[0], 16, "0x%06x", class_code);
	snprintf(ids[1], 16, "0x%04x", vendor);
	snprintf(ids[2], 16, "0x%04x", device);
	snprintf(ids[3], 16, "0x%04x", subvendor);
	snprintf(ids[4], 16, "0x%04x", subdevice);
	snprintf(ids[5], 16, "0x%02x", (unsigned)d->id[ID_REVISION] & 0xff);
	snprintf(unknown_class, sizeof unknown_class, "Unknown class (%06x)", class_code);
	const char *class_name = pciids_class(&s->ids, class_code);
	const char *values[] = {
		d->loc[0],
		d->loc[1],
		d->loc[2],
		d->loc[3],
		d->parent[0],
		d->parent[1],
		d->parent[2],
		d->parent[3],
		ids[0],
		ids[1],
		ids[2],
		ids[3],
		ids[4],
		ids[5],
		name_or_id(pciids_vendor(&s->ids, vendor), ids[1]),
		name_or_id(pciids_device(&s->ids, vendor, device), ids[2]),
		name_or_id(pciids_vendor(&s->ids, subvendor), ids[3]),
		name_or_id(pciids_subsystem(&s->ids, vendor, device, subvendor, subdevice), ids[4]),
		class_name ? class_name : unknown_class,
	};
	return lazyfam_add(b, &s->info, names, values, s->names ? 19 : 14, 1, err, errlen);
}

static int pci_numbers(struct pci_state *s, const struct pci_dev *d)
{
	const char *loc[] = { d->loc[0], d->loc[1], d->loc[2], d->loc[3], NULL };
	char power[32];
	int row = valtable_row(&s->numbers, loc, 4);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	size_t r = (size_t)row;
	valtable_set(&s->numbers, r, COL_MAX_TS, link_speed(d->dir, "max_link_speed"));
	valtable_set(&s->numbers, r, COL_MAX_WIDTH, number_attr(d->dir, "max_link_width", -1));
	valtable_set(&s->numbers, r, COL_CUR_TS, link_speed(d->dir, "current_link_speed"));
	valtable_set(&s->numbers, r, COL_CUR_WIDTH, number_attr(d->dir, "current_link_width", -1));
	valtable_set(&s->numbers, r, COL_D3COLD, number_attr(d->dir, "d3cold_allowed", 0) != 0);
	valtable_set(&s->numbers, r, COL_AUTOPROBE,
		     number_attr(d->dir, "sriov_drivers_autoprobe", 0) != 0);
	valtable_set(&s->numbers, r, COL_NUMVFS, number_attr(d->dir, "sriov_numvfs", 0));
	valtable_set(&s->numbers, r, COL_TOTALVFS, number_attr(d->dir, "sriov_totalvfs", 0));
	valtable_set(&s->numbers, r, COL_MSIX, number_attr(d->dir, "sriov_vf_total_msix", 0));
	if (d->id[ID_NUMA] != -1)
		valtable_set(&s->numbers, r, COL_NUMA, (double)d->id[ID_NUMA]);
	if (!read_attr(d->dir, "power_state", power, sizeof power) || !power[0])
		return 0;
	for (size_t i = 0; i < N_POWER; i++) {
		loc[4] = power_states[i];
		row = valtable_row(&s->power, loc, 5);
		if (row == -ENOMEM)
			return row;
		if (row >= 0)
			valtable_set(&s->power, (size_t)row, 0,
				     strcmp(power, power_states[i]) == 0);
	}
	return 0;
}

static int pci_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct pci_state *s = state;
	struct pci_dev d;
	s->info = (struct lazyfam){ "node_pcidevice_info",
				    "Non-numeric data from /sys/bus/pci/devices/<location>, value "
				    "is always 1.",
				    METRIC_GAUGE, false };
	valtable_reset(&s->numbers);
	valtable_reset(&s->power);
	int rc = dirents_read(&s->devices, s->dir, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "listing %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->devices.n; i++) {
		d.name = dirents_name(&s->devices, i);
		if (!pci_identify(s, &d))
			continue;
		rc = pci_info(s, &d, b, err, errlen);
		if (rc == 0 && (rc = pci_numbers(s, &d)) != 0)
			snprintf(err, errlen, "out of memory reading %s", s->dir);
	}
	if (rc == 0)
		rc = valtable_emit(&s->numbers, cols, loc_names, 4, b, err, errlen);
	return rc ? rc : valtable_emit(&s->power, &power_col, loc_names, 5, b, err, errlen);
}

const struct collector_ops collector_pcidevice_ops = {
	.init = pci_init,
	.collect = pci_collect,
	.fini = pci_fini,
};
