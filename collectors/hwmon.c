/*
 * hwmon - hardware sensors (lm-sensors' source) from SYSFS/class/hwmon/hwmonN/:
 * files named <type><number>_<property> (temp1_input, fan2_min, in0_alarm...),
 * plus those in hwmonN/device/ where older drivers put them.  Names, units and
 * label rules follow node_exporter 1.5's hwmon collector:
 *
 *  - chip label: "<bus>_<device>" from the real path of hwmonN/device
 *    (platform_coretemp_0), else the cleaned content of hwmonN/name, else hwmonN;
 *  - sensor label: type and number (temp1), whatever the driver's label says;
 *    node_hwmon_sensor_label{chip,label,sensor} carries <sensor>_label's text and
 *    node_hwmon_chip_names{chip,chip_name} the content of hwmonN/name;
 *  - temperatures, voltages and currents in milli-units become units, power in
 *    microwatts watts, energy in microjoules joules, humidity in milli-percent a
 *    ratio; a property with no unit rule is exported as read.
 *
 *  - freqN_input with a freqN_label (GPU clocks, in Hz): node_hwmon_freq_freq_mhz
 *    in MHz, its sensor label the cleaned label text, as node_exporter has it.
 *
 * --collector.hwmon.chip-include/-exclude filter chips by their chip label,
 * --collector.hwmon.sensor-include/-exclude sensors by "<chip>;<sensor>"
 * ("platform_coretemp_0;temp3").
 *
 * The files of a chip are listed once, when the chip appears; each cycle reads
 * the values only.  A value that is not a decimal number is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector.h"
#include "devtab.h"
#include "filter.h"
#include "hsort.h"
#include "lazyfam.h"
#include "scan.h"
#include "sysattr.h"

#define HW_FILE_MAX 128
#define HW_PART_MAX 64
#define HW_HELP_MAX 192
#define HW_CHIP_MAX 256
#define HW_TEXT_MAX 129 /* node_exporter reads 128 bytes of a value */

enum hw_kind { K_VALUE, K_LABEL, K_BEEP_ENABLE, K_FREQ };

/* A file name split as node_exporter's ^([^0-9]+)([0-9]*)?(_(.+))?$ splits it. */
struct hw_name {
	char type[HW_PART_MAX], sensor[HW_PART_MAX], prop[HW_PART_MAX];
};

struct hw_item {
	struct sysattr attr;
	char file[HW_FILE_MAX]; /* relative to the chip: "temp1_input", "device/fan1_input" */
	struct hw_name nm;
	char family[METRIC_NAME_MAX + 1];
	char help[HW_HELP_MAX];
	enum metric_type type;
	enum hw_kind kind;
	double mul, div; /* value * mul / div, in node_exporter's order of operations */
	bool ok;         /* this cycle */
	double value;
	char text[HW_TEXT_MAX];
	char freq_sensor[HW_TEXT_MAX]; /* K_FREQ: the sensor label, from freqN_label */
};

struct hw_chip {
	struct dev_entry e; /* first */
	char chip[HW_CHIP_MAX];
	char chip_name[HW_CHIP_MAX]; /* "" when the chip has no name file */
	struct hw_item *items;
	size_t n_items;
};

struct hw_sample {
	const char *family, *help;
	enum metric_type type;
	const char *const *names;
	const char *values[3];
	size_t n;
	double v;
};

/* node_exporter's deviceFilter: out when the exclusion matches or an inclusion
 * is set and does not. */
struct hw_filter {
	struct optregex include, exclude;
};

struct hw_state {
	struct devtab tab;
	struct fd_budget budget;
	struct hw_filter chips, sensors;
	char key[2 * HW_CHIP_MAX]; /* "<chip>;<sensor>", for the sensor filter */
	struct hw_sample *samples;
	size_t n_samples, cap_samples;
	char buf[SYSATTR_MAX];
};

static const char *const sensor_types[] = {
	"vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",       "pwm",
	"temp", "curr",        "power",           "energy", "humidity", "intrusion", "freq",
};

static const char *const chip_sensor_names[] = { "chip", "sensor" };
static const char *const label_names[] = { "chip", "label", "sensor" };
static const char *const chip_name_names[] = { "chip", "chip_name" };

/* ---- names ---- */

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] -> '_', '_' trimmed. */
static void hw_clean(const char *in, size_t n, char *out, size_t outlen)
{
	size_t w = 0;
	for (size_t i = 0; i < n && w + 1 < outlen; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_'))
			c = '_';
		out[w++] = c;
	}
	out[w] = '\0';
	size_t lead = strspn(out, "_");
	memmove(out, out + lead, w - lead + 1);
	w -= lead;
	while (w > 0 && out[w - 1] == '_')
		out[--w] = '\0';
}

static bool hw_copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

/* The regular expression's split, including its backtracking when the greedy
 * split fails ("fan_speed1x": type "fan", no number, property "speed1x"). */
static bool hw_explode(const char *name, struct hw_name *out)
{
	size_t len = strlen(name), i = strcspn(name, "0123456789"), j = i;
	uint64_t num = 0;

	while (j < len && name[j] >= '0' && name[j] <= '9')
		j++;
	if (i == 0 || (j > i && (!parse_u64(name + i, j - i, &num) || num > INT64_MAX)))
		return false;
	const char *rest = name + j;
	if (*rest != '\0' && !(rest[0] == '_' && rest[1] != '\0')) {
		/* The last '_' of the prefix that leaves a type and a property. */
		size_t p = i - 1;
		while (p >= 1 && (name[p] != '_' || p + 1 >= len))
			p--;
		if (p < 1)
			return false;
		i = p;
		num = 0;
		rest = name + p;
	}
	const char *prop = *rest ? rest + 1 : rest;
	if (!hw_copy(out->type, sizeof out->type, name, i) ||
	    !hw_copy(out->prop, sizeof out->prop, prop, strlen(prop)))
		return false;
	int n = snprintf(out->sensor, sizeof out->sensor, "%s%llu", out->type,
			 (unsigned long long)num);
	return n > 0 && (size_t)n < sizeof out->sensor;
}

static bool hw_known_type(const char *type)
{
	for (size_t i = 0; i < sizeof sensor_types / sizeof sensor_types[0]; i++)
		if (strcmp(type, sensor_types[i]) == 0)
			return true;
	return false;
}

/* ---- chip names ---- */

/* The last path component of p (which has no trailing '/'), cleaned. */
static void hw_clean_last(const char *p, size_t n, char *out, size_t outlen)
{
	size_t start = n;
	while (start > 0 && p[start - 1] != '/')
		start--;
	hw_clean(p + start, n - start, out, outlen);
}

/* From the real path of hwmonN/device: "/sys/devices/platform/coretemp.0" ->
 * "platform_coretemp_0".  False when there is no device link. */
static bool hw_name_from_device(const char *chipdir, char *out, size_t outlen)
{
	char path[PATH_MAX], real[PATH_MAX], dev[HW_CHIP_MAX], bus[HW_CHIP_MAX];
	int n = snprintf(path, sizeof path, "%s/device", chipdir);
	if (n < 0 || (size_t)n >= sizeof path || !realpath(path, real))
		return false;
	size_t len = strlen(real), cut = len;
	while (cut > 0 && real[cut - 1] != '/')
		cut--;
	hw_clean_last(real, len, dev, sizeof dev);
	while (cut > 0 && real[cut - 1] == '/')
		cut--;
	hw_clean_last(real, cut, bus, sizeof bus);
	if (dev[0] == '\0')
		return false;
	n = bus[0] != '\0' ? snprintf(out, outlen, "%s_%s", bus, dev)
			   : snprintf(out, outlen, "%s", dev);
	return n > 0 && (size_t)n < outlen;
}

static bool hw_name_file(struct hw_state *s, struct hw_chip *c, char *out, size_t outlen)
{
	struct sysattr a;
	size_t n;
	sysattr_init(&a);
	int rc = sysattr_read(&a, c->e.dirfd, "name", s->buf, sizeof s->buf, &n, &s->budget);
	sysattr_close(&a, &s->budget);
	if (rc != 0)
		return false;
	hw_clean(s->buf, n, out, outlen);
	return out[0] != '\0';
}

static bool hw_chip_names(struct hw_state *s, struct hw_chip *c)
{
	char chipdir[PATH_MAX], real[PATH_MAX];
	int n = snprintf(chipdir, sizeof chipdir, "%s/%s", s->tab.path, c->e.name);
	if (n < 0 || (size_t)n >= sizeof chipdir)
		return false;
	if (!hw_name_file(s, c, c->chip_name, sizeof c->chip_name))
		c->chip_name[0] = '\0';
	if (hw_name_from_device(chipdir, c->chip, sizeof c->chip))
		return true;
	if (c->chip_name[0] != '\0') {
		snprintf(c->chip, sizeof c->chip, "%s", c->chip_name);
		return true;
	}
	if (!realpath(chipdir, real))
		return false;
	hw_clean_last(real, strlen(real), c->chip, sizeof c->chip);
	return c->chip[0] != '\0';
}

/* ---- the items of a chip ---- */

static bool hw_has_plain(const struct hw_chip *c, const char *sensor)
{
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].kind == K_VALUE && strcmp(c->items[i].nm.sensor, sensor) == 0 &&
		    c->items[i].nm.prop[0] == '\0')
			return true;
	return false;
}

static void hw_unit(struct hw_item *it, const char *t, const char *e, const char *base)
{
	const char *suffix = "";
	it->mul = it->div = 1;
	it->type = METRIC_GAUGE;
	if (strcmp(e, "fault") == 0 || strcmp(e, "alarm") == 0) {
		snprintf(it->help, sizeof it->help, "Hardware sensor %s status (%s)", e, t);
	} else if (strcmp(e, "beep") == 0) {
		suffix = "_enabled";
		snprintf(it->help, sizeof it->help, "Hardware monitor sensor has beeping enabled");
	} else if (strcmp(t, "in") == 0 || strcmp(t, "cpu") == 0) {
		suffix = "_volts";
		it->mul = 0.001;
		snprintf(it->help, sizeof it->help, "Hardware monitor for voltage (%s)", e);
	} else if (strcmp(t, "temp") == 0 && strcmp(e, "type") != 0) {
		suffix = "_celsius";
		it->mul = 0.001;
		snprintf(it->help, sizeof it->help, "Hardware monitor for temperature (%s)",
			 *e ? e : "input");
	} else if (strcmp(t, "curr") == 0) {
		suffix = "_amps";
		it->mul = 0.001;
		snprintf(it->help, sizeof it->help, "Hardware monitor for current (%s)", e);
	} else if (strcmp(t, "energy") == 0) {
		suffix = "_joule_total";
		it->type = METRIC_COUNTER;
		it->div = 1000000.0;
		snprintf(it->help, sizeof it->help, "Hardware monitor for joules used so far (%s)",
			 e);
	} else if (strcmp(t, "power") == 0 && strcmp(e, "accuracy") == 0) {
		it->div = 1000000.0;
		snprintf(it->help, sizeof it->help,
			 "Hardware monitor power meter accuracy, as a ratio");
	} else if (strcmp(t, "power") == 0 && strncmp(e, "average_interval", 16) == 0 &&
		   (e[16] == '\0' || strcmp(e + 16, "_min") == 0 || strcmp(e + 16, "_max") == 0)) {
		suffix = "_seconds";
		it->mul = 0.001;
		snprintf(it->help, sizeof it->help,
			 "Hardware monitor power usage update interval (%s)", e);
	} else if (strcmp(t, "power") == 0) {
		suffix = "_watt";
		it->div = 1000000.0;
		snprintf(it->help, sizeof it->help,
			 "Hardware monitor for power usage in watts (%s)", e);
	} else if (strcmp(t, "humidity") == 0) {
		it->div = 1000000.0;
		snprintf(
		    it->help, sizeof it->help,
		    "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
		    "humidity as a percentage) (%s)",
		    e);
	} else if (strcmp(t, "fan") == 0 && (strcmp(e, "input") == 0 || strcmp(e, "min") == 0 ||
					     strcmp(e, "max") == 0 || strcmp(e, "target") == 0)) {
		suffix = "_rpm";
		snprintf(it->help, sizeof it->help,
			 "Hardware monitor for fan revolutions per minute (%s)", e);
	} else if (strcmp(t, "freq") == 0 && strcmp(e, "input") == 0) {
		/* Labelled with the sensor's label instead: see hw_read_freq. */
		suffix = "_freq_mhz";
		it->kind = K_FREQ;
		it->div = 1000000.0;
		snprintf(it->help, sizeof it->help, "Hardware monitor for GPU frequency in MHz");
	} else {
		snprintf(it->help, sizeof it->help, "Hardware monitor %s element %s", t, e);
	}
	int n = snprintf(it->family, sizeof it->family, "%s%s", base, suffix);
	if (n < 0 || (size_t)n >= sizeof it->family)
		it->family[0] = '\0'; /* refused by batch_family, so skipped */
}

/* Names the family of item it, once all the chip's files are known. */
static void hw_describe(const struct hw_chip *c, struct hw_item *it)
{
	const char *t = it->nm.type, *e = it->nm.prop;
	char clean[HW_PART_MAX], base[METRIC_NAME_MAX + 1];

	if (strcmp(t, "beep_enable") == 0) {
		it->kind = K_BEEP_ENABLE;
		it->type = METRIC_GAUGE;
		snprintf(it->family, sizeof it->family, "node_hwmon_beep_enabled");
		snprintf(it->help, sizeof it->help, "Hardware beep enabled");
		return;
	}
	if (strcmp(t, "vrm") == 0 || strcmp(t, "update_interval") == 0) {
		bool vrm = t[0] == 'v';
		it->type = METRIC_GAUGE;
		it->mul = vrm ? 1 : 0.001;
		it->div = 1;
		snprintf(it->family, sizeof it->family, "%s",
			 vrm ? "node_hwmon_voltage_regulator_version"
			     : "node_hwmon_update_interval_seconds");
		snprintf(it->help, sizeof it->help, "%s",
			 vrm ? "Hardware voltage regulator" : "Hardware monitor update interval");
		return;
	}
	hw_clean(e, strlen(e), clean, sizeof clean);
	if (strcmp(e, "input") == 0)
		snprintf(base, sizeof base, "node_hwmon_%s%s", t,
			 hw_has_plain(c, it->nm.sensor) ? "_input" : "");
	else if (*e)
		snprintf(base, sizeof base, "node_hwmon_%s_%s", t, clean);
	else
		snprintf(base, sizeof base, "node_hwmon_%s", t);
	hw_unit(it, t, e, base);
}

/* Adds file (from the chip's directory, or its device/ directory) as an item,
 * named later by hw_describe. */
static int hw_add_file(struct hw_chip *c, size_t *cap, const char *file, bool in_device,
		       struct hw_name *nm)
{
	if (!hw_explode(file, nm) || !hw_known_type(nm->type))
		return 0;
	bool special = strcmp(nm->type, "beep_enable") == 0 || strcmp(nm->type, "vrm") == 0 ||
		       strcmp(nm->type, "update_interval") == 0;
	if (special && nm->prop[0] != '\0')
		return 0; /* only their value file counts */
	for (size_t i = 0; in_device && i < c->n_items; i++) {
		struct hw_item *it = &c->items[i];
		if (strcmp(it->nm.sensor, nm->sensor) == 0 && strcmp(it->nm.prop, nm->prop) == 0) {
			/* in both directories: device/'s, as node_exporter reads it last */
			snprintf(it->file, sizeof it->file, "device/%s", file);
			return 0;
		}
	}
	if (c->n_items == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct hw_item *v = realloc(c->items, ncap * sizeof *v);
		if (!v)
			return -ENOMEM;
		c->items = v;
		*cap = ncap;
	}
	struct hw_item *it = &c->items[c->n_items];
	memset(it, 0, sizeof *it);
	sysattr_init(&it->attr);
	snprintf(it->file, sizeof it->file, "%s%s", in_device ? "device/" : "", file);
	it->nm = *nm;
	it->kind = strcmp(nm->prop, "label") == 0 ? K_LABEL : K_VALUE;
	c->n_items++;
	return 0;
}

static int hw_list_dir(struct hw_chip *c, size_t *cap, const char *dir, bool in_device)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct hw_name nm;
	int rc = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_type != DT_DIR && de->d_type != DT_LNK &&
		    strlen(de->d_name) < HW_PART_MAX)
			rc = hw_add_file(c, cap, de->d_name, in_device, &nm);
	closedir(d);
	return rc;
}

static void hw_name_items(struct hw_chip *c)
{
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].kind == K_VALUE)
			hw_describe(c, &c->items[i]);
}

/* ---- filters ---- */

static int hw_filter_init(struct hw_filter *f, const struct collector_env *env, const char *inc,
			  const char *exc, char *err, size_t errlen)
{
	int rc = optregex_init(&f->include, env, inc, err, errlen);
	return rc ? rc : optregex_init(&f->exclude, env, exc, err, errlen);
}

static void hw_filter_fini(struct hw_filter *f)
{
	optregex_fini(&f->include);
	optregex_fini(&f->exclude);
}

static bool hw_filter_out(const struct hw_filter *f, const char *s)
{
	size_t n = strlen(s);
	return optregex_match(&f->exclude, s, n) ||
	       (f->include.set && !optregex_match(&f->include, s, n));
}

static bool hw_sensor_out(struct hw_state *s, const struct hw_chip *c, const struct hw_item *it)
{
	snprintf(s->key, sizeof s->key, "%s;%s", c->chip, it->nm.sensor);
	return hw_filter_out(&s->sensors, s->key);
}

static int hw_list_items(struct hw_state *s, struct hw_chip *c)
{
	char dir[PATH_MAX];
	size_t cap = 0;
	int n = snprintf(dir, sizeof dir, "%s/%s", s->tab.path, c->e.name);
	if (n < 0 || (size_t)n + sizeof "/device" > sizeof dir)
		return -ENAMETOOLONG;
	int rc = hw_list_dir(c, &cap, dir, false);
	strcat(dir, "/device");
	if (rc == 0)
		rc = hw_list_dir(c, &cap, dir, true);
	if (rc == 0)
		hw_name_items(c);
	return rc;
}

/* ---- the table of chips ---- */

static bool hw_want(const char *name, unsigned char d_type, void *ctx)
{
	(void)name;
	(void)ctx;
	return d_type != DT_REG;
}

static void hw_teardown(struct dev_entry *e, void *ctx)
{
	struct hw_chip *c = (struct hw_chip *)e;
	struct hw_state *s = ctx;
	for (size_t i = 0; i < c->n_items; i++)
		sysattr_close(&c->items[i].attr, &s->budget);
	free(c->items);
	c->items = NULL;
	c->n_items = 0;
}

static int hw_setup(struct dev_entry *e, void *ctx)
{
	struct hw_chip *c = (struct hw_chip *)e;
	struct hw_state *s = ctx;
	if (!hw_chip_names(s, c))
		return -ENOENT;
	/* A chip the filter leaves out keeps no files: it costs nothing per cycle. */
	if (hw_filter_out(&s->chips, c->chip))
		return 0;
	int rc = hw_list_items(s, c);
	if (rc) {
		hw_teardown(e, ctx);
		return rc;
	}
	/* Neither do the sensors left out. */
	size_t kept = 0;
	for (size_t i = 0; i < c->n_items; i++) {
		if (hw_sensor_out(s, c, &c->items[i]))
			sysattr_close(&c->items[i].attr, &s->budget);
		else
			c->items[kept++] = c->items[i];
	}
	c->n_items = kept;
	return 0;
}

static const struct devtab_ops hw_ops = {
	.want = hw_want,
	.setup = hw_setup,
	.teardown = hw_teardown,
};

static void hw_fini(void *state)
{
	struct hw_state *s = state;
	if (!s)
		return;
	devtab_fini(&s->tab);
	hw_filter_fini(&s->chips);
	hw_filter_fini(&s->sensors);
	free(s->samples);
	free(s);
}

static int hw_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct hw_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	fd_budget_init(&s->budget);
	int rc = devtab_init(&s->tab, env->sysfs, "class/hwmon", sizeof(struct hw_chip), &hw_ops, s,
			     err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	rc = hw_filter_init(&s->chips, env, "chip-include", "chip-exclude", err, errlen);
	if (rc == 0)
		rc = hw_filter_init(&s->sensors, env, "sensor-include", "sensor-exclude", err,
				    errlen);
	if (rc) {
		hw_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* ---- each cycle ---- */

/* Label values must be UTF-8; a driver's label need not be. */
static void hw_text_clean(char *t)
{
	if (utf8_valid(t, strlen(t)))
		return;
	for (; *t; t++)
		if ((unsigned char)*t >= 0x80)
			*t = '?';
}

static void hw_read_item(struct hw_state *s, struct hw_chip *c, struct hw_item *it)
{
	size_t n;
	double v;

	it->ok = sysattr_read(&it->attr, c->e.dirfd, it->file, it->text, sizeof it->text, &n,
			      &s->budget) == 0;
	if (!it->ok)
		return;
	if (it->kind == K_LABEL) {
		hw_text_clean(it->text);
		it->ok = n > 0;
	} else if (it->kind == K_BEEP_ENABLE) {
		it->value = strcmp(it->text, "1") == 0 ? 1.0 : 0.0;
	} else {
		it->ok = parse_double(it->text, n, &v);
		it->value = v * it->mul / it->div;
	}
}

/* The cleaned text of the sensor's label, read this cycle; false without one. */
static bool hw_read_freq(const struct hw_chip *c, struct hw_item *it)
{
	for (size_t i = 0; i < c->n_items; i++) {
		const struct hw_item *l = &c->items[i];
		if (l->kind == K_LABEL && l->ok && strcmp(l->nm.sensor, it->nm.sensor) == 0) {
			hw_clean(l->text, strlen(l->text), it->freq_sensor, sizeof it->freq_sensor);
			return true;
		}
	}
	return false;
}

static int hw_push(struct hw_state *s, const struct hw_sample *smp)
{
	if (s->n_samples == s->cap_samples) {
		size_t cap = s->cap_samples ? s->cap_samples * 2 : 64;
		struct hw_sample *v = realloc(s->samples, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->samples = v;
		s->cap_samples = cap;
	}
	s->samples[s->n_samples++] = *smp;
	return 0;
}

static int hw_push_item(struct hw_state *s, const struct hw_chip *c, const struct hw_item *it)
{
	struct hw_sample smp = {
		it->family, it->help, it->type, chip_sensor_names, { c->chip, it->nm.sensor, NULL },
		2,          it->value
	};
	if (it->kind == K_FREQ)
		smp.values[1] = it->freq_sensor;
	if (it->kind == K_LABEL)
		smp = (struct hw_sample){ "node_hwmon_sensor_label",
					  "Label for given chip and sensor",
					  METRIC_GAUGE,
					  label_names,
					  { c->chip, it->text, it->nm.sensor },
					  3,
					  1.0 };
	return hw_push(s, &smp);
}

static int hw_gather(struct hw_state *s)
{
	int rc = 0;

	s->n_samples = 0;
	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct hw_chip *c = (struct hw_chip *)s->tab.entries[i];
		struct hw_sample smp = { "node_hwmon_chip_names",
					 "Annotation metric for human-readable chip names",
					 METRIC_GAUGE,
					 chip_name_names,
					 { c->chip, c->chip_name, NULL },
					 2,
					 1.0 };
		if (hw_filter_out(&s->chips, c->chip))
			continue;
		if (c->chip_name[0] != '\0')
			rc = hw_push(s, &smp);
		for (size_t j = 0; j < c->n_items; j++)
			hw_read_item(s, c, &c->items[j]);
		for (size_t j = 0; rc == 0 && j < c->n_items; j++) {
			struct hw_item *it = &c->items[j];
			if (!it->ok || (it->kind == K_FREQ && !hw_read_freq(c, it)))
				continue;
			rc = hw_push_item(s, c, it);
		}
	}
	return rc;
}

static int hw_sample_cmp(const void *pa, const void *pb)
{
	const struct hw_sample *a = pa, *b = pb;
	int c = strcmp(a->family, b->family);
	for (size_t i = 0; c == 0 && i < a->n && i < b->n; i++)
		c = strcmp(a->values[i], b->values[i]);
	return c;
}

static int hw_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct hw_state *s = state;
	struct lazyfam fam = { NULL, NULL, METRIC_GAUGE, false };

	int rc = devtab_scan(&s->tab, err, errlen);
	if (rc)
		return rc;
	if (hw_gather(s) != 0) {
		snprintf(err, errlen, "out of memory for %zu hwmon samples", s->n_samples + 1);
		return -ENOMEM;
	}
	hsort(s->samples, s->n_samples, sizeof *s->samples, hw_sample_cmp);
	for (size_t i = 0; rc == 0 && i < s->n_samples; i++) {
		const struct hw_sample *smp = &s->samples[i];
		if (!fam.name || strcmp(fam.name, smp->family) != 0)
			fam = (struct lazyfam){ smp->family, smp->help, smp->type, false };
		rc = lazyfam_add(b, &fam, smp->names, smp->values, smp->n, smp->v, err, errlen);
		/* A name the metric rules refuse (from an odd file name): skip it. */
		if (rc == -EINVAL && !fam.started)
			rc = 0;
	}
	return rc;
}

const struct collector_ops collector_hwmon_ops = {
	.init = hw_init,
	.collect = hw_collect,
	.fini = hw_fini,
};
