/*
 * array.h - growing a heap array by doubling.  Header-only.
 */
#ifndef SHMETRICS_ARRAY_H
#define SHMETRICS_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Makes the array at *(void **)pp, of *cap elements of elem bytes, hold at
 * least need elements: the capacity doubles from 16.  0, or -ENOMEM (the array
 * is then unchanged), also when the size would overflow.
 */
static inline int array_reserve(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;

	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (elem != 0 && n > SIZE_MAX / elem)
		return -ENOMEM;
	void *np = realloc(*p, n * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = n;
	return 0;
}

#endif
