#include "collector.h"

#include <string.h>

static const struct collector_def collectors[] = {
	{ "cpu", true, &collector_cpu_ops },
	{ "meminfo", true, &collector_meminfo_ops },
	{ "loadavg", true, &collector_loadavg_ops },
	{ "stat", true, &collector_stat_ops },
};

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
