#include "hsort.h"

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		unsigned char t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

/* Moves element i down the heap of n elements until both children are smaller. */
static void sift_down(unsigned char *v, size_t i, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && cmp(v + l * size, v + big * size) > 0)
			big = l;
		if (r < n && cmp(v + r * size, v + big * size) > 0)
			big = r;
		if (big == i)
			return;
		swap_bytes(v + i * size, v + big * size, size);
		i = big;
	}
}

void hsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *v = base;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(v, v + end * size, size);
		sift_down(v, 0, end, size, cmp);
	}
}
