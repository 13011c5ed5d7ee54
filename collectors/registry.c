#include "collector.h"

#include <string.h>

#define COLLECTOR(name, on) { #name, on, &collector_##name##_ops },
static const struct collector_def collectors[] = {
#include "list.def"
};
#undef COLLECTOR

#define N_COLLECTORS (sizeof collectors / sizeof collectors[0])

const struct collector_def *collector_find(const char *name)
{
	for (size_t i = 0; i < N_COLLECTORS; i++)
		if (strcmp(collectors[i].name, name) == 0)
			return &collectors[i];
	return NULL;
}

const struct collector_def *collector_list(size_t *n)
{
	*n = N_COLLECTORS;
	return collectors;
}
