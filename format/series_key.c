#include "series_key.h"

#include <string.h>

void series_key_name(const char *key, size_t key_len, const char **name, size_t *name_len)
{
	const char *nul = memchr(key, '\0', key_len);

	*name = key;
	*name_len = nul ? (size_t)(nul - key) : key_len;
}

static bool key_field(const char *key, size_t key_len, size_t *pos, const char **s, size_t *n)
{
	const char *nul;

	if (*pos >= key_len || !(nul = memchr(key + *pos, '\0', key_len - *pos)))
		return false;
	*s = key + *pos;
	*n = (size_t)(nul - *s);
	*pos += *n + 1;
	return true;
}

bool series_key_next_label(const char *key, size_t key_len, size_t *pos, const char **lname,
			   size_t *lname_len, const char **lvalue, size_t *lvalue_len)
{
	if (*pos == 0) {
		const char *n;
		size_t nl;
		if (!key_field(key, key_len, pos, &n, &nl))
			return false;
	}
	return key_field(key, key_len, pos, lname, lname_len) &&
	       key_field(key, key_len, pos, lvalue, lvalue_len);
}

bool series_key_label(const char *key, size_t key_len, const char *name, size_t name_len,
		      const char **value, size_t *value_len)
{
	size_t pos = 0, ln;
	const char *l;

	while (series_key_next_label(key, key_len, &pos, &l, &ln, value, value_len))
		if (ln == name_len && memcmp(l, name, ln) == 0)
			return true;
	return false;
}
