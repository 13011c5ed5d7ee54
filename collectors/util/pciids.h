/*
 * pciids.h - names of PCI vendors, devices, subsystems and classes from a
 * pci.ids file (the format of the pciutils database), loaded once.
 */
#ifndef SHMETRICS_PCIIDS_H
#define SHMETRICS_PCIIDS_H

#include <stddef.h>
#include <stdint.h>

struct pciids_entry;

struct pciids {
	char *text; /* the file, with each name NUL-terminated in place */
	struct pciids_entry *e;
	size_t n;
};

/*
 * Loads path (a regular file, opened without blocking; at most 64 MiB).  0, or
 * -errno with the reason in err; an empty table is still usable then.
 */
int pciids_load(struct pciids *t, const char *path, char *err, size_t errlen);

void pciids_free(struct pciids *t);

/* The names, or NULL when the table has none. */
const char *pciids_vendor(const struct pciids *t, uint16_t vendor);
const char *pciids_device(const struct pciids *t, uint16_t vendor, uint16_t device);
const char *pciids_subsystem(const struct pciids *t, uint16_t vendor, uint16_t device,
			     uint16_t subvendor, uint16_t subdevice);
/* The most specific name of class (0xCCSSPP): programming interface, subclass, class. */
const char *pciids_class(const struct pciids *t, uint32_t class_code);

#endif
