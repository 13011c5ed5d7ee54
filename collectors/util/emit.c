#include "emit.h"

#include <errno.h>
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

int emit_line_families(struct procfile *f, line_family_fn parse, void *ctx, enum metric_type type,
		       struct batch *b, char *err, size_t errlen)
{
	int rc = procfile_read(f, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	struct scan text = scan_text(f->buf, f->len), line;
	while (scan_line(&text, &line)) {
		const char *name, *help;
		double v;
		if (!parse(ctx, line, &name, &help, &v))
			continue;
		rc = batch_family(b, name, help, type, err, errlen);
		if (rc == -EINVAL)
			continue;
		if (rc == 0)
			rc = batch_add(b, NULL, NULL, 0, v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}
