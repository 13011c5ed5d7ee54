/*
 * thermal_zone - the kernel's thermal zones and cooling devices, from
 * SYSFS/class/thermal/thermal_zoneN/{type,temp} (millidegrees Celsius) and
 * SYSFS/class/thermal/cooling_deviceN/{type,cur_state,max_state}.  A zone or
 * device whose files cannot be read this cycle (some ACPI zones answer ENODATA)
 * is left out of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "devtab.h"
#include "lazyfam.h"
#include "scan.h"
#include "sysattr.h"

#define ZONE_PREFIX    "thermal_zone"
#define COOLING_PREFIX "cooling_device"
#define TYPE_MAX       256

enum thermal_attr { A_TYPE, A_TEMP, A_CUR, A_MAX, N_ATTRS };

struct thermal_dev {
	struct dev_entry e; /* first */
	bool zone;          /* a thermal zone, else a cooling device */
	struct sysattr attr[N_ATTRS];
	bool ok; /* this cycle's values were read */
	char type[TYPE_MAX];
	int64_t v[N_ATTRS];
};

struct thermal_state {
	struct devtab tab;
	struct fd_budget budget;
	char buf[SYSATTR_MAX];
};

static const char *const attr_names[N_ATTRS] = { "type", "temp", "cur_state", "max_state" };

/* "thermal_zone12" with prefix "thermal_zone" -> true. */
static bool numbered(const char *name, const char *prefix)
{
	size_t p = strlen(prefix), n = strlen(name);
	uint64_t id;
	return n > p && memcmp(name, prefix, p) == 0 && parse_u64(name + p, n - p, &id);
}

static bool thermal_want(const char *name, unsigned char d_type, void *ctx)
{
	(void)d_type;
	(void)ctx;
	return numbered(name, ZONE_PREFIX) || numbered(name, COOLING_PREFIX);
}

static int thermal_setup(struct dev_entry *e, void *ctx)
{
	struct thermal_dev *d = (struct thermal_dev *)e;
	(void)ctx;
	d->zone = numbered(e->name, ZONE_PREFIX);
	for (int i = 0; i < N_ATTRS; i++)
		sysattr_init(&d->attr[i]);
	return 0;
}

static void thermal_teardown(struct dev_entry *e, void *ctx)
{
	struct thermal_dev *d = (struct thermal_dev *)e;
	struct thermal_state *s = ctx;
	for (int i = 0; i < N_ATTRS; i++)
		sysattr_close(&d->attr[i], &s->budget);
}

static const struct devtab_ops thermal_ops = {
	.want = thermal_want,
	.setup = thermal_setup,
	.teardown = thermal_teardown,
};

static void thermal_fini(void *state)
{
	struct thermal_state *s = state;
	if (!s)
		return;
	devtab_fini(&s->tab);
	free(s);
}

static int thermal_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct thermal_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	fd_budget_init(&s->budget);
	int rc = devtab_init(&s->tab, env->sysfs, "class/thermal", sizeof(struct thermal_dev),
			     &thermal_ops, s, err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static bool thermal_read_int(struct thermal_state *s, struct thermal_dev *d, int a)
{
	size_t n;
	return sysattr_read(&d->attr[a], d->e.dirfd, attr_names[a], s->buf, sizeof s->buf, &n,
			    &s->budget) == 0 &&
	       sysattr_parse_i64(s->buf, n, &d->v[a]);
}

static void thermal_read(struct thermal_state *s, struct thermal_dev *d)
{
	size_t n;

	d->ok = sysattr_read(&d->attr[A_TYPE], d->e.dirfd, "type", d->type, sizeof d->type, &n,
			     &s->budget) == 0;
	if (d->zone)
		d->ok = d->ok && thermal_read_int(s, d, A_TEMP);
	else
		d->ok = d->ok && thermal_read_int(s, d, A_CUR) && thermal_read_int(s, d, A_MAX);
}

/* Adds the family's series for every zone (zone) or cooling device (!zone). */
static int thermal_emit(struct thermal_state *s, struct lazyfam *fam, bool zone, int a,
			struct batch *b, char *err, size_t errlen)
{
	static const char *const zone_names[] = { "type", "zone" };
	static const char *const cool_names[] = { "name", "type" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->tab.n; i++) {
		struct thermal_dev *d = (struct thermal_dev *)s->tab.entries[i];
		if (!d->ok || d->zone != zone)
			continue;
		const char *id = d->e.name + strlen(zone ? ZONE_PREFIX : COOLING_PREFIX);
		const char *zv[] = { d->type, id }, *cv[] = { id, d->type };
		double v = zone ? (double)d->v[a] / 1000.0 : (double)d->v[a];
		rc = lazyfam_add(b, fam, zone ? zone_names : cool_names, zone ? zv : cv, 2, v, err,
				 errlen);
	}
	return rc;
}

static int thermal_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct thermal_state *s = state;
	struct lazyfam temp = { "node_thermal_zone_temp", "Zone temperature in Celsius",
				METRIC_GAUGE, false };
	struct lazyfam cur = { "node_cooling_device_cur_state",
			       "Current throttle state of the cooling device", METRIC_GAUGE,
			       false };
	struct lazyfam max = { "node_cooling_device_max_state",
			       "Maximum throttle state of the cooling device", METRIC_GAUGE,
			       false };

	int rc = devtab_scan(&s->tab, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < s->tab.n; i++)
		thermal_read(s, (struct thermal_dev *)s->tab.entries[i]);
	rc = thermal_emit(s, &temp, true, A_TEMP, b, err, errlen);
	if (rc == 0)
		rc = thermal_emit(s, &cur, false, A_CUR, b, err, errlen);
	if (rc == 0)
		rc = thermal_emit(s, &max, false, A_MAX, b, err, errlen);
	return rc;
}

const struct collector_ops collector_thermal_zone_ops = {
	.init = thermal_init,
	.collect = thermal_collect,
	.fini = thermal_fini,
};
