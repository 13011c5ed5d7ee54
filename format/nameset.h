/*
 * nameset.h - a set of byte strings (family names) for the renderers' "first
 * family of a name wins" rule.  The set does not copy the strings: they must
 * outlive it (they point into the views being rendered).
 */
#ifndef SHMETRICS_EXPORTER_NAMESET_H
#define SHMETRICS_EXPORTER_NAMESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nameset_slot {
	const char *s;
	size_t len;
};

struct nameset {
	struct nameset_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t used;
};

void nameset_init(struct nameset *ns);
void nameset_free(struct nameset *ns);

/* Adds s[0..len): 1 if added, 0 if it was already there, -ENOMEM. */
int nameset_add(struct nameset *ns, const char *s, size_t len);

/* True when s[0..len) is in the set. */
bool nameset_contains(const struct nameset *ns, const char *s, size_t len);

#endif
