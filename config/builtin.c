/*
 * builtin.c - the built-in collectors, from the one list in collectors/list.def
 * (settings.h).
 */
#include "settings.h"

#include <string.h>

/* The built-in collectors come from the one list in collectors/list.def. */
#define COLLECTOR(name, on) #name,
const char *const config_builtin_collectors[] = {
#include "list.def"
	NULL
};
#undef COLLECTOR
#define COLLECTOR(name, on) on,
static const bool builtin_default_on[] = {
#include "list.def"
};
#undef COLLECTOR

#define N_BUILTIN (sizeof builtin_default_on / sizeof builtin_default_on[0])
_Static_assert(N_BUILTIN + 1 ==
		   sizeof config_builtin_collectors / sizeof config_builtin_collectors[0],
	       "every built-in collector needs a default");
_Static_assert(N_BUILTIN <= CONFIG_MAX_BUILTIN, "too many built-in collectors");

int config_builtin_index(const char *name)
{
	for (size_t k = 0; k < N_BUILTIN; k++)
		if (strcmp(name, config_builtin_collectors[k]) == 0)
			return (int)k;
	return -1;
}

bool config_is_builtin_collector(const char *name)
{
	return name && config_builtin_index(name) >= 0;
}

bool config_builtin_default_enabled(const char *name)
{
	int k = name ? config_builtin_index(name) : -1;
	return k >= 0 && builtin_default_on[k];
}

void config_unknown_collector(const char *name, const char *where, char *err, size_t errlen)
{
	char q[200];
	const char *near = config_suggest(name, config_builtin_collectors, N_BUILTIN);
	config_quote(q, sizeof q, name);
	if (near) {
		config_appendf(err, errlen, "unknown collector %s%s; did you mean \"%s\"?", q,
			       where, near);
		return;
	}
	/* Too many to list in one message: point at the full list instead. */
	config_appendf(err, errlen,
		       "unknown collector %s%s; `shmetrics-agent --help` lists the %zu built-in "
		       "collectors",
		       q, where, (size_t)N_BUILTIN);
}
