/*
 * dmi - node_dmi_info, labelled with the firmware's DMI strings from
 * SYSFS/class/dmi/id/, as node_exporter's dmi collector reports it.  Only the
 * strings that exist, can be read and are not empty become labels: the serial
 * numbers and the UUID are readable by root only, so an unprivileged collector
 * reports fewer labels than one running as root (node_exporter behaves the same).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"

#define DMI_TEXT_MAX 256

struct dmi_field {
	const char *label, *file;
};

/* In label-name order. */
static const struct dmi_field dmi_fields[] = {
	{ "bios_date", "bios_date" },
	{ "bios_release", "bios_release" },
	{ "bios_vendor", "bios_vendor" },
	{ "bios_version", "bios_version" },
	{ "board_asset_tag", "board_asset_tag" },
	{ "board_name", "board_name" },
	{ "board_serial", "board_serial" },
	{ "board_vendor", "board_vendor" },
	{ "board_version", "board_version" },
	{ "chassis_asset_tag", "chassis_asset_tag" },
	{ "chassis_serial", "chassis_serial" },
	{ "chassis_vendor", "chassis_vendor" },
	{ "chassis_version", "chassis_version" },
	{ "product_family", "product_family" },
	{ "product_name", "product_name" },
	{ "product_serial", "product_serial" },
	{ "product_sku", "product_sku" },
	{ "product_uuid", "product_uuid" },
	{ "product_version", "product_version" },
	{ "system_vendor", "sys_vendor" },
};
#define N_FIELDS (sizeof dmi_fields / sizeof dmi_fields[0])

_Static_assert(N_FIELDS <= METRIC_LABELS_MAX, "node_dmi_info needs more labels per series");

struct dmi_state {
	char root[PATH_MAX];
	char text[N_FIELDS][DMI_TEXT_MAX];
};

static int dmi_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct dmi_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/class/dmi/id", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/class/dmi/id is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	*state = s;
	return 0;
}

static void dmi_fini(void *state)
{
	free(state);
}

static int dmi_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct dmi_state *s = state;
	struct lazyfam f = {
		"node_dmi_info",
		"A metric with a constant '1' value labeled by bios_date, bios_release, "
		"bios_vendor, bios_version, board_asset_tag, board_name, board_serial, "
		"board_vendor, board_version, chassis_asset_tag, chassis_serial, chassis_vendor, "
		"chassis_version, product_family, product_name, product_serial, product_sku, "
		"product_uuid, product_version, system_vendor if provided by DMI.",
		METRIC_GAUGE, false
	};
	const char *keys[N_FIELDS], *values[N_FIELDS];
	char path[PATH_MAX];
	size_t n = 0;

	for (size_t i = 0; i < N_FIELDS; i++) {
		if (path_fmt(path, sizeof path, "%s/%s", s->root, dmi_fields[i].file) != 0 ||
		    sysfile_text(path, s->text[i], DMI_TEXT_MAX) <= 0)
			continue;
		keys[n] = dmi_fields[i].label;
		values[n++] = s->text[i];
	}
	if (n == 0)
		return 0;
	return lazyfam_add(b, &f, keys, values, n, 1.0, err, errlen);
}

const struct collector_ops collector_dmi_ops = {
	.init = dmi_init,
	.collect = dmi_collect,
	.fini = dmi_fini,
};
