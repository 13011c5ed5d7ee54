#include "collector.h"

#include <string.h>

#include "settings.h"

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

const char *collector_option(const struct collector_env *env, const char *key)
{
	for (size_t i = 0; i < env->n_options; i++)
		if (strcmp(env->option_keys[i], key) == 0)
			return env->option_values[i];
	const struct collector_option_def *d = env->name ? config_option_def(env->name, key) : NULL;
	return d ? d->default_value : NULL;
}

bool collector_option_bool(const struct collector_env *env, const char *key)
{
	const char *v = collector_option(env, key);
	return v != NULL && strcmp(v, "true") == 0;
}
