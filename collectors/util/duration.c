#include "duration.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *unit;
	uint64_t ms;
} units[] = {
	/* "ms" before "m" so that the longer unit wins. */
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

static int take_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

static int take_unit(const char **p, uint64_t *ms)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].unit);
		if (strncmp(*p, units[i].unit, n) == 0) {
			*p += n;
			*ms = units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int duration_parse_ms(const char *s, uint64_t *out_ms)
{
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t n, unit;
		if (take_number(&s, &n) || take_unit(&s, &unit))
			return -EINVAL;
		if (n > (UINT64_MAX - total) / unit)
			return -EINVAL;
		total += n * unit;
	}
	*out_ms = total;
	return 0;
}
