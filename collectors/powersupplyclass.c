/*
 * powersupplyclass - batteries, mains adapters and USB supplies from
 * SYSFS/class/power_supply/<supply>/, as node_exporter's powersupplyclass
 * collector reports them: one gauge per numeric attribute the supply has
 * (micro-units turned into amperes, volts, watts and watt-hours; tenths of a
 * degree into degrees), and node_power_supply_info labelled with its non-empty
 * text attributes.  Supplies whose name matches
 * --collector.powersupplyclass.ignored-supplies are skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "lazyfam.h"
#include "scan.h"
#include "valtable.h"

struct ps_number {
	const char *attr, *alt; /* the sysfs attribute (alt: another spelling, or NULL) */
	const char *metric;     /* node_power_supply_<metric> */
	double divisor;
};

static const struct ps_number ps_numbers[] = {
	{ "authentic", NULL, "authentic", 1 },
	{ "calibrate", NULL, "calibrate", 1 },
	{ "capacity", NULL, "capacity", 1 },
	{ "capacity_alert_max", NULL, "capacity_alert_max", 1 },
	{ "capacity_alert_min", NULL, "capacity_alert_min", 1 },
	{ "cycle_count", NULL, "cyclecount", 1 },
	{ "online", NULL, "online", 1 },
	{ "present", NULL, "present", 1 },
	{ "time_to_empty_now", NULL, "time_to_empty_seconds", 1 },
	{ "time_to_full_now", NULL, "time_to_full_seconds", 1 },
	{ "current_boot", NULL, "current_boot", 1e6 },
	{ "current_max", NULL, "current_max", 1e6 },
	{ "current_now", NULL, "current_ampere", 1e6 },
	{ "energy_empty", NULL, "energy_empty", 1e6 },
	{ "energy_empty_design", NULL, "energy_empty_design", 1e6 },
	{ "energy_full", NULL, "energy_full", 1e6 },
	{ "energy_full_design", NULL, "energy_full_design", 1e6 },
	{ "energy_now", NULL, "energy_watthour", 1e6 },
	{ "voltage_boot", NULL, "voltage_boot", 1e6 },
	{ "voltage_max", NULL, "voltage_max", 1e6 },
	{ "voltage_max_design", NULL, "voltage_max_design", 1e6 },
	{ "voltage_min", NULL, "voltage_min", 1e6 },
	{ "voltage_min_design", NULL, "voltage_min_design", 1e6 },
	{ "voltage_now", NULL, "voltage_volt", 1e6 },
	{ "voltage_ocv", NULL, "voltage_ocv", 1e6 },
	{ "charge_control_limit", NULL, "charge_control_limit", 1e6 },
	{ "charge_control_limit_max", NULL, "charge_control_limit_max", 1e6 },
	{ "charge_counter", NULL, "charge_counter", 1e6 },
	{ "charge_empty", NULL, "charge_empty", 1e6 },
	{ "charge_empty_design", NULL, "charge_empty_design", 1e6 },
	{ "charge_full", NULL, "charge_full", 1e6 },
	{ "charge_full_design", NULL, "charge_full_design", 1e6 },
	{ "charge_now", NULL, "charge_ampere", 1e6 },
	{ "charge_term_current", NULL, "charge_term_current", 1e6 },
	{ "constant_charge_current", NULL, "constant_charge_current", 1e6 },
	{ "constant_charge_current_max", NULL, "constant_charge_current_max", 1e6 },
	{ "constant_charge_voltage", NULL, "constant_charge_voltage", 1e6 },
	{ "constant_charge_voltage_max", NULL, "constant_charge_voltage_max", 1e6 },
	{ "precharge_current", NULL, "precharge_current", 1e6 },
	{ "input_current_limit", NULL, "input_current_limit", 1e6 },
	{ "power_now", NULL, "power_watt", 1e6 },
	{ "temp", NULL, "temp_celsius", 10 },
	{ "temp_alert_max", NULL, "temp_alert_max_celsius", 10 },
	{ "temp_alert_min", NULL, "temp_alert_min_celsius", 10 },
	{ "temp_ambient", NULL, "temp_ambient_celsius", 10 },
	{ "temp_ambient_max", "temp_ambient_alert_max", "temp_ambient_max_celsius", 10 },
	{ "temp_ambient_min", "temp_ambient_alert_min", "temp_ambient_min_celsius", 10 },
	{ "temp_max", NULL, "temp_max_celsius", 10 },
	{ "temp_min", NULL, "temp_min_celsius", 10 },
};
#define N_NUMBERS (sizeof ps_numbers / sizeof ps_numbers[0])

/* The text attributes that label node_power_supply_info, in label-name order
 * ("power_supply" is the supply's name, not an attribute). */
static const char *const ps_texts[] = {
	"capacity_level", "charge_type",   "health", "manufacturer", "model_name", "power_supply",
	"scope",          "serial_number", "status", "technology",   "type",       "usb_type",
};
#define N_TEXTS (sizeof ps_texts / sizeof ps_texts[0])

#define PS_TEXT_MAX 256

struct ps_state {
	char root[PATH_MAX];
	struct optregex ignored;
	struct dirents supplies;
	struct valtable table;
	struct valtable_col cols[N_NUMBERS];
	char names[N_NUMBERS][64], helps[N_NUMBERS][96];
	char text[N_TEXTS][PS_TEXT_MAX];
};

static void ps_fini(void *state)
{
	struct ps_state *s = state;
	if (!s)
		return;
	optregex_fini(&s->ignored);
	dirents_free(&s->supplies);
	valtable_free(&s->table);
	free(s);
}

static void ps_init_cols(struct ps_state *s)
{
	for (size_t i = 0; i < N_NUMBERS; i++) {
		snprintf(s->names[i], sizeof s->names[i], "node_power_supply_%s",
			 ps_numbers[i].metric);
		snprintf(s->helps[i], sizeof s->helps[i],
			 "%s value of /sys/class/power_supply/<power_supply>.",
			 ps_numbers[i].metric);
		s->cols[i] = (struct valtable_col){ s->names[i], s->helps[i], METRIC_GAUGE,
						    1.0 / ps_numbers[i].divisor };
	}
}

static int ps_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct ps_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = optregex_init(&s->ignored, env, "ignored-supplies", err, errlen);
	if (rc == 0 && path_fmt(s->root, sizeof s->root, "%s/class/power_supply", env->sysfs)) {
		snprintf(err, errlen, "path %s/class/power_supply is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		ps_fini(s);
		return rc;
	}
	valtable_init(&s->table, N_NUMBERS);
	ps_init_cols(s);
	*state = s;
	return 0;
}

/* Reads dir/attr (or dir/alt) as a signed decimal number. */
static bool ps_read_number(const char *dir, const char *attr, const char *alt, double *v)
{
	char path[PATH_MAX], buf[64];
	for (int i = 0; i < 2; i++) {
		const char *name = i == 0 ? attr : alt;
		if (!name || path_fmt(path, sizeof path, "%s/%s", dir, name) != 0)
			continue;
		long n = sysfile_text(path, buf, sizeof buf);
		if (n < 0)
			continue;
		bool neg = n > 0 && buf[0] == '-';
		uint64_t u;
		if (!parse_u64(buf + neg, (size_t)n - neg, &u))
			return false;
		*v = neg ? -(double)u : (double)u;
		return true;
	}
	return false;
}

/* The text attribute, without surrounding blanks; "" when missing. */
static void ps_read_text(const char *dir, const char *attr, char *out)
{
	char path[PATH_MAX];
	out[0] = '\0';
	if (path_fmt(path, sizeof path, "%s/%s", dir, attr) != 0 ||
	    sysfile_text(path, out, PS_TEXT_MAX) < 0) {
		out[0] = '\0';
		return;
	}
	size_t lead = strspn(out, " \t");
	memmove(out, out + lead, strlen(out + lead) + 1);
}

static int ps_read_supply(struct ps_state *s, const char *name)
{
	char dir[PATH_MAX];
	if (optregex_match(&s->ignored, name, strlen(name)) ||
	    path_fmt(dir, sizeof dir, "%s/%s", s->root, name) != 0)
		return 0;
	const char *values[] = { name };
	int row = valtable_row(&s->table, values, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t i = 0; i < N_NUMBERS; i++) {
		double v;
		if (ps_read_number(dir, ps_numbers[i].attr, ps_numbers[i].alt, &v))
			valtable_set(&s->table, (size_t)row, i, v);
	}
	return 0;
}

/* node_power_supply_info for one supply: its non-empty text attributes. */
static int ps_emit_info(struct ps_state *s, struct lazyfam *f, const char *name, struct batch *b,
			char *err, size_t errlen)
{
	const char *keys[N_TEXTS], *values[N_TEXTS];
	size_t n = 0;
	char dir[PATH_MAX];

	if (optregex_match(&s->ignored, name, strlen(name)) ||
	    path_fmt(dir, sizeof dir, "%s/%s", s->root, name) != 0)
		return 0;
	for (size_t i = 0; i < N_TEXTS; i++) {
		if (strcmp(ps_texts[i], "power_supply") == 0)
			snprintf(s->text[i], PS_TEXT_MAX, "%s", name);
		else
			ps_read_text(dir, ps_texts[i], s->text[i]);
		if (s->text[i][0] == '\0')
			continue;
		keys[n] = ps_texts[i];
		values[n++] = s->text[i];
	}
	return lazyfam_add(b, f, keys, values, n, 1.0, err, errlen);
}

static int ps_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "power_supply" };
	struct ps_state *s = state;
	struct lazyfam info = { "node_power_supply_info",
				"info of /sys/class/power_supply/<power_supply>.", METRIC_GAUGE,
				false };

	valtable_reset(&s->table);
	int rc = dirents_read(&s->supplies, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->supplies.n; i++)
		rc = ps_read_supply(s, dirents_name(&s->supplies, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->table, s->cols, names, 1, b, err, errlen);
	for (size_t i = 0; rc == 0 && i < s->supplies.n; i++)
		rc = ps_emit_info(s, &info, dirents_name(&s->supplies, i), b, err, errlen);
	return rc;
}

const struct collector_ops collector_powersupplyclass_ops = {
	.init = ps_init,
	.collect = ps_collect,
	.fini = ps_fini,
};
