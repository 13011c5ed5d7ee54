#include "render_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nameset.h"
#include "numfmt.h"

static void note_duplicate(struct render_result *res, const struct render_source *src,
			   const char *name, size_t len)
{
	if (!res)
		return;
	if (res->duplicate_families++ == 0) {
		snprintf(res->dup_family, sizeof res->dup_family, "%.*s", (int)len, name);
		snprintf(res->dup_collector, sizeof res->dup_collector, "%s", src->collector);
	}
}

/*
 * A family takes every name metric_exposed_names gives it; two families whose
 * names meet would give duplicate samples, so the later one is skipped as a
 * duplicate, in both dialects alike.
 */

/* Derived names, owned for the length of one walk (the name set keeps pointers). */
struct name_arena {
	char **blocks;
	size_t n, cap;
};

static const char *arena_copy(struct name_arena *a, const char *s, size_t len)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **grown = realloc(a->blocks, cap * sizeof *grown);
		if (!grown)
			return NULL;
		a->blocks = grown;
		a->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	a->blocks[a->n++] = copy;
	return copy;
}

static void arena_free(struct name_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

/* Claims every name of the family, or none when one is taken: 1, 0, or -ENOMEM. */
static int claim_names(struct nameset *seen, struct name_arena *arena, const char *name,
		       const struct metric_exposed *fn)
{
	for (size_t k = 0; k < fn->n; k++)
		if (nameset_contains(seen, fn->name[k], fn->len[k]))
			return 0;
	for (size_t k = 0; k < fn->n; k++) {
		/* The family's own name points into the view; the others need a copy. */
		const char *s = k == 0 ? name : arena_copy(arena, fn->name[k], fn->len[k]);
		if (!s || nameset_add(seen, s, fn->len[k]) < 0)
			return -ENOMEM;
	}
	return 1;
}

static int walk_source(struct nameset *seen, struct name_arena *arena,
		       const struct render_source *src, struct render_result *res,
		       render_family_fn fn, void *ctx)
{
	const struct metrics_view *v = src->view;

	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		struct blob_family fam;
		struct metric_exposed names;
		view_family(v, i, &fam);
		const char *name = view_string(v, fam.name_off);
		metric_exposed_names(name, fam.name_len, fam.type, &names);
		int added = claim_names(seen, arena, name, &names);
		if (added < 0)
			return added;
		if (added == 0) {
			note_duplicate(res, src, name, fam.name_len);
			continue;
		}
		if (src->reserve)
			continue;
		if (res) {
			res->series += fam.n_series;
			res->families++;
		}
		int rc = fn ? fn(ctx, src, i, &fam) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

int render_each_family(const struct render_source *src, size_t n, struct render_result *res,
		       render_family_fn fn, void *ctx)
{
	struct nameset seen;
	struct name_arena arena = { NULL, 0, 0 };
	int rc = 0;

	nameset_init(&seen);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = walk_source(&seen, &arena, &src[i], res, fn, ctx);
	nameset_free(&seen);
	arena_free(&arena);
	return rc;
}

void render_format_value(char *out, double v)
{
	numfmt_value(out, v);
}
