#include "emit.h"

#include <stdio.h>

int emit_single(struct batch *b, const char *name, const char *help, enum metric_type type,
		double v, char *err, size_t errlen)
{
	int rc = batch_family(b, name, help, type, err, errlen);
	if (rc)
		return rc;
	return batch_add(b, NULL, NULL, 0, v, err, errlen);
}

const char *fmt_uint(char *buf, size_t len, unsigned long long n)
{
	snprintf(buf, len, "%llu", n);
	return buf;
}
