#include "pciids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsort.h"
#include "scan.h"

#define PCIIDS_MAX_SIZE (64u << 20)

enum pciids_kind { VENDOR, DEVICE, SUBSYSTEM, CLASS, SUBCLASS, PROGIF };

struct pciids_entry {
	uint64_t key;
	unsigned kind;
	const char *name;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct pciids_entry *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

void pciids_free(struct pciids *t)
{
	free(t->text);
	free(t->e);
	memset(t, 0, sizeof *t);
}

static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "open(\"%s\") failed: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > PCIIDS_MAX_SIZE) {
		snprintf(err, errlen, "%s is not a regular file of at most 64 MiB", path);
		close(fd);
		return -EINVAL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errlen, "out of memory loading %s", path);
		return -ENOMEM;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* Hex digits then two blanks then the name: the id in *id, the name's start. */
static char *id_and_name(char *p, char *end, size_t digits, uint64_t *id)
{
	if ((size_t)(end - p) < digits + 3 || !parse_hex_u64(p, digits, id) || p[digits] != ' ' ||
	    p[digits + 1] != ' ')
		return NULL;
	return p + digits + 2;
}

struct pciids_parse {
	uint64_t vendor, device, class_id, subclass;
	bool in_class, have_vendor, have_device;
};

/* The entry of one line (ended at end, which the caller NUL-terminates), or false. */
static bool parse_line(struct pciids_parse *ps, char *p, char *end, struct pciids_entry *e)
{
	uint64_t id, sub;
	char *name;
	int tabs = 0;
	while (p < end && *p == '\t' && tabs < 3)
		p++, tabs++;
	if (p >= end || *p == '#')
		return false;
	if (tabs == 0 && p[0] == 'C' && p[1] == ' ' && (name = id_and_name(p + 2, end, 2, &id))) {
		*ps = (struct pciids_parse){ .class_id = id, .in_class = true };
		*e = (struct pciids_entry){ id, CLASS, name };
	} else if (tabs == 0 && (name = id_and_name(p, end, 4, &id))) {
		*ps = (struct pciids_parse){ .vendor = id, .have_vendor = true };
		*e = (struct pciids_entry){ id, VENDOR, name };
	} else if (tabs == 1 && ps->in_class && (name = id_and_name(p, end, 2, &id))) {
		ps->subclass = ps->class_id << 8 | id;
		*e = (struct pciids_entry){ ps->subclass, SUBCLASS, name };
	} else if (tabs == 2 && ps->in_class && (name = id_and_name(p, end, 2, &id))) {
		*e = (struct pciids_entry){ ps->subclass << 8 | id, PROGIF, name };
	} else if (tabs == 1 && ps->have_vendor && (name = id_and_name(p, end, 4, &id))) {
		ps->device = id;
		ps->have_device = true;
		*e = (struct pciids_entry){ ps->vendor << 16 | id, DEVICE, name };
	} else if (tabs == 2 && ps->have_device && end - p > 10 && p[4] == ' ' &&
		   parse_hex_u64(p, 4, &sub) && (name = id_and_name(p + 5, end, 4, &id))) {
		*e = (struct pciids_entry){ ps->vendor << 48 | ps->device << 32 | sub << 16 | id,
					    SUBSYSTEM, name };
	} else {
		return false;
	}
	return true;
}

static size_t count_lines(const char *text, size_t len)
{
	size_t n = 1;
	for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + len - p))); p++)
		n++;
	return n;
}

int pciids_load(struct pciids *t, const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	memset(t, 0, sizeof *t);
	int rc = read_whole(path, &t->text, &len, err, errlen);
	if (rc)
		return rc;
	if (!(t->e = malloc(count_lines(t->text, len) * sizeof *t->e))) {
		pciids_free(t);
		snprintf(err, errlen, "out of memory loading %s", path);
		return -ENOMEM;
	}
	struct pciids_parse ps = { 0 };
	for (char *p = t->text, *end; p < t->text + len; p = end + 1) {
		end = memchr(p, '\n', (size_t)(t->text + len - p));
		if (!end)
			end = t->text + len;
		if (parse_line(&ps, p, end, &t->e[t->n]))
			t->n++;
		*end = '\0';
	}
	hsort(t->e, t->n, sizeof *t->e, entry_cmp);
	return 0;
}

static const char *lookup(const struct pciids *t, unsigned kind, uint64_t key)
{
	struct pciids_entry want = { key, kind, NULL };
	const struct pciids_entry *e = t->n ? bsearch(&want, t->e, t->n, sizeof *t->e, entry_cmp)
					    : NULL;
	return e ? e->name : NULL;
}

const char *pciids_vendor(const struct pciids *t, uint16_t vendor)
{
	return lookup(t, VENDOR, vendor);
}

const char *pciids_device(const struct pciids *t, uint16_t vendor, uint16_t device)
{
	return lookup(t, DEVICE, (uint64_t)vendor << 16 | device);
}

const char *pciids_subsystem(const struct pciids *t, uint16_t vendor, uint16_t device,
			     uint16_t subvendor, uint16_t subdevice)
{
	return lookup(t, SUBSYSTEM,
		      (uint64_t)vendor << 48 | (uint64_t)device << 32 | (uint64_t)subvendor << 16 |
			  subdevice);
}

const char *pciids_class(const struct pciids *t, uint32_t class_code)
{
	const char *name = lookup(t, PROGIF, class_code & 0xffffff);
	if (!name)
		name = lookup(t, SUBCLASS, (class_code >> 8) & 0xffff);
	return name ? name : lookup(t, CLASS, (class_code >> 16) & 0xff);
}
