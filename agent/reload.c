/* The reload diff. */
#include "reload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "child_argv.h"

const char *reload_action_name(enum reload_action a)
{
	switch (a) {
	case RELOAD_KEEP:
		return "keep";
	case RELOAD_START:
		return "start";
	case RELOAD_STOP:
		return "stop";
	case RELOAD_RESTART:
		return "restart";
	}
	return "?";
}

static const struct collector_config *find_enabled(const struct shm_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].enabled && strcmp(c->collectors[i].name, name) == 0)
			return &c->collectors[i];
	return NULL;
}

static bool segments_differ(const struct shm_config *a, const struct shm_config *b)
{
	return a->set.segment_mode != b->set.segment_mode ||
	       strcmp(a->set.segment_group, b->set.segment_group) != 0 ||
	       a->set.max_series != b->set.max_series;
}

/* The program name does not matter for comparing two command lines. */
static bool collector_argv_differs(const struct shm_config *a, const struct collector_config *ca,
				   const struct shm_config *b, const struct collector_config *cb)
{
	struct child_argv x, y;
	char err[256];
	bool differ = true;

	if (child_argv_collector(&x, "collector", a, ca, err, sizeof err) < 0)
		return true;
	if (child_argv_collector(&y, "collector", b, cb, err, sizeof err) == 0) {
		differ = !child_argv_equal(&x, &y);
		child_argv_free(&y);
	}
	child_argv_free(&x);
	return differ;
}

static bool exporter_argv_differs(const struct shm_config *a, const struct shm_config *b)
{
	struct child_argv x, y;
	char err[256];
	bool differ = true;

	if (child_argv_exporter(&x, "exporter", a, err, sizeof err) < 0)
		return true;
	if (child_argv_exporter(&y, "exporter", b, err, sizeof err) == 0) {
		differ = !child_argv_equal(&x, &y);
		child_argv_free(&y);
	}
	child_argv_free(&x);
	return differ;
}

static bool shipper_argv_differs(const struct shm_config *a, const struct shm_config *b)
{
	struct child_argv x, y;
	char err[256];
	bool differ = true;

	if (child_argv_shipper(&x, "shipper", a, err, sizeof err) < 0)
		return true;
	if (child_argv_shipper(&y, "shipper", b, err, sizeof err) == 0) {
		differ = !child_argv_equal(&x, &y);
		child_argv_free(&y);
	}
	child_argv_free(&x);
	return differ;
}

static void plan_add(struct reload_item *items, size_t *n, const char *name, enum reload_action a)
{
	struct reload_item *it = &items[(*n)++];

	snprintf(it->name, sizeof it->name, "%s", name);
	it->action = a;
}

static enum reload_action collector_action(const struct shm_config *old,
					   const struct collector_config *co,
					   const struct shm_config *new_cfg,
					   const struct collector_config *cn)
{
	if (!cn)
		return RELOAD_STOP;
	if (!co)
		return RELOAD_START;
	if (config_collector_changed(old, new_cfg, co->name) || segments_differ(old, new_cfg) ||
	    collector_argv_differs(old, co, new_cfg, cn))
		return RELOAD_RESTART;
	return RELOAD_KEEP;
}

static void plan_segments(const struct shm_config *old, const struct shm_config *new_cfg,
			  struct reload_plan *p)
{
	for (size_t i = 0; i < old->n_collectors; i++) {
		const struct collector_config *co = &old->collectors[i];
		if (co->enabled)
			plan_add(p->segments, &p->n_segments, co->name,
				 collector_action(old, co, new_cfg,
						  find_enabled(new_cfg, co->name)));
	}
	for (size_t i = 0; i < new_cfg->n_collectors; i++) {
		const struct collector_config *cn = &new_cfg->collectors[i];
		if (cn->enabled && !find_enabled(old, cn->name))
			plan_add(p->segments, &p->n_segments, cn->name, RELOAD_START);
	}
}

static enum reload_action segment_action(const struct reload_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_segments; i++)
		if (strcmp(p->segments[i].name, name) == 0)
			return p->segments[i].action;
	return RELOAD_KEEP;
}

static bool in_group(const struct shm_config *c, const char *name)
{
	const struct collector_config *col = find_enabled(c, name);

	return col && child_in_group(col);
}

/* True when a collector of the group (before or after) has a segment that changes. */
static bool group_segments_change(const struct shm_config *old, const struct shm_config *new_cfg,
				  const struct reload_plan *p)
{
	for (size_t i = 0; i < p->n_segments; i++)
		if (p->segments[i].action != RELOAD_KEEP &&
		    (in_group(old, p->segments[i].name) || in_group(new_cfg, p->segments[i].name)))
			return true;
	return false;
}

static bool group_argv_differs(const struct shm_config *a, const struct shm_config *b)
{
	struct child_argv x, y;
	char err[256];
	bool differ = true;

	if (child_argv_group(&x, "collector", a, err, sizeof err) < 0)
		return true;
	if (child_argv_group(&y, "collector", b, err, sizeof err) == 0) {
		differ = !child_argv_equal(&x, &y);
		child_argv_free(&y);
	}
	child_argv_free(&x);
	return differ;
}

static void plan_group(const struct shm_config *old, const struct shm_config *new_cfg,
		       struct reload_plan *p)
{
	struct member_set was = child_group_members(old), is = child_group_members(new_cfg);
	bool before = !member_set_empty(&was), after = !member_set_empty(&is);
	enum reload_action a = RELOAD_KEEP;

	if (!before && !after)
		return;
	if (before != after)
		a = after ? RELOAD_START : RELOAD_STOP;
	else if (group_segments_change(old, new_cfg, p) || group_argv_differs(old, new_cfg))
		a = RELOAD_RESTART;
	plan_add(p->processes, &p->n_processes, CHILD_GROUP_NAME, a);
}

/* True when name runs in a process of its own in c. */
static bool own_process(const struct shm_config *c, const char *name)
{
	const struct collector_config *col = find_enabled(c, name);

	return col && !child_in_group(col);
}

static void plan_own_processes(const struct shm_config *old, const struct shm_config *new_cfg,
			       struct reload_plan *p)
{
	for (size_t i = 0; i < old->n_collectors; i++) {
		const char *name = old->collectors[i].name;
		if (own_process(old, name))
			plan_add(p->processes, &p->n_processes, name,
				 own_process(new_cfg, name) ? segment_action(p, name)
							    : RELOAD_STOP);
	}
	for (size_t i = 0; i < new_cfg->n_collectors; i++) {
		const char *name = new_cfg->collectors[i].name;
		if (own_process(new_cfg, name) && !own_process(old, name))
			plan_add(p->processes, &p->n_processes, name, RELOAD_START);
	}
}

static void plan_shipper(const struct shm_config *old, const struct shm_config *new_cfg,
			 struct reload_plan *p)
{
	bool before = config_rw_count(old) > 0, after = config_rw_count(new_cfg) > 0;
	enum reload_action a = RELOAD_KEEP;

	if (!before && !after)
		return;
	if (before != after)
		a = after ? RELOAD_START : RELOAD_STOP;
	else if (shipper_argv_differs(old, new_cfg))
		a = RELOAD_RESTART;
	plan_add(p->processes, &p->n_processes, SHIPPER_NAME, a);
}

int reload_plan_make(const struct shm_config *old, const struct shm_config *new_cfg,
		     struct reload_plan *plan, char *err, size_t errlen)
{
	memset(plan, 0, sizeof *plan);
	if (strcmp(old->set.instance, new_cfg->set.instance) != 0) {
		snprintf(err, errlen,
			 "%s: the instance changed from \"%s\" to \"%s\"; that needs a restart "
			 "of the agent, not a reload",
			 new_cfg->source, old->set.instance, new_cfg->set.instance);
		return -EINVAL;
	}
	if (strcmp(old->set.segments_directory, new_cfg->set.segments_directory) != 0) {
		snprintf(err, errlen,
			 "%s: segments.directory changed from \"%s\" to \"%s\"; that needs a "
			 "restart of the agent, not a reload",
			 new_cfg->source, old->set.segments_directory,
			 new_cfg->set.segments_directory);
		return -EINVAL;
	}
	plan_segments(old, new_cfg, plan);
	plan_group(old, new_cfg, plan);
	plan_own_processes(old, new_cfg, plan);
	bool exp_changed = config_collector_changed(old, new_cfg, RELOAD_EXPORTER) ||
			   exporter_argv_differs(old, new_cfg);
	plan_add(plan->processes, &plan->n_processes, RELOAD_EXPORTER,
		 exp_changed ? RELOAD_RESTART : RELOAD_KEEP);
	plan_shipper(old, new_cfg, plan);
	return 0;
}
