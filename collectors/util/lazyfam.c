#include "lazyfam.h"

#include <errno.h>

int lazyfam_add(struct batch *b, struct lazyfam *f, const char *const *names,
		const char *const *values, size_t n, double v, char *err, size_t errlen)
{
	if (!f->started) {
		int rc = batch_family(b, f->name, f->help, f->type, err, errlen);
		if (rc)
			return rc;
		f->started = true;
	}
	int rc = batch_add(b, names, values, n, v, err, errlen);
	return rc == -EEXIST || rc == -EINVAL ? 0 : rc;
}
