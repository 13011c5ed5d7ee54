/*
 * hsort.h - an in-place heapsort, for sorting per cycle without allocating
 * (glibc's qsort takes a malloc'd buffer for arrays over a kilobyte).  Not
 * stable; O(n log n) comparisons.
 */
#ifndef SHMETRICS_HSORT_H
#define SHMETRICS_HSORT_H

#include <stddef.h>

void hsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
