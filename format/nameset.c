#include "nameset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void nameset_init(struct nameset *ns)
{
	memset(ns, 0, sizeof *ns);
}

void nameset_free(struct nameset *ns)
{
	free(ns->slots);
	nameset_init(ns);
}

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The slot holding s, or the empty slot where it belongs. */
static struct nameset_slot *nameset_find(struct nameset_slot *slots, size_t cap, const char *s,
					 size_t len)
{
	size_t i = (size_t)name_hash(s, len) & (cap - 1);
	for (;;) {
		struct nameset_slot *sl = &slots[i];
		if (!sl->s || (sl->len == len && memcmp(sl->s, s, len) == 0))
			return sl;
		i = (i + 1) & (cap - 1);
	}
}

static int nameset_grow(struct nameset *ns)
{
	size_t cap = ns->cap ? ns->cap * 2 : 64;
	struct nameset_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ns->cap; i++) {
		struct nameset_slot *old = &ns->slots[i];
		if (old->s)
			*nameset_find(slots, cap, old->s, old->len) = *old;
	}
	free(ns->slots);
	ns->slots = slots;
	ns->cap = cap;
	return 0;
}

int nameset_add(struct nameset *ns, const char *s, size_t len)
{
	/* Kept at most half full so probing stays short and always ends. */
	if ((ns->used + 1) * 2 > ns->cap) {
		int rc = nameset_grow(ns);
		if (rc < 0)
			return rc;
	}
	struct nameset_slot *sl = nameset_find(ns->slots, ns->cap, s, len);
	if (sl->s)
		return 0;
	sl->s = s ? s : "";
	sl->len = len;
	ns->used++;
	return 1;
}

bool nameset_contains(const struct nameset *ns, const char *s, size_t len)
{
	return ns->cap > 0 && nameset_find(ns->slots, ns->cap, s, len)->s != NULL;
}
