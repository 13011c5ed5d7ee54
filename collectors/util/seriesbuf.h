/*
 * seriesbuf.h - series whose families are only known while a file is read
 * (a header line names the counters, a directory lists them), gathered and then
 * published family by family.
 *
 * A batch needs each family's series together; files such as those in /proc/net/stat
 * or a NUMA node's meminfo give them object by object.  A collector adds every
 * series with its family's name, help and type; seriesbuf_emit() groups them by
 * family name (in name order; series in the order they were added) and adds
 * them to the batch.  Memory only grows, so a steady cycle allocates nothing.
 */
#ifndef SHMETRICS_SERIESBUF_H
#define SHMETRICS_SERIESBUF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "dirents.h"
#include "metrics.h"

#define SERIESBUF_LABELS 4

struct seriesbuf_entry;
struct seriesbuf_order;

struct seriesbuf {
	struct seriesbuf_entry *e;
	size_t n, cap;
	char *text; /* every string, NUL-terminated, at offsets kept in e */
	size_t len, text_cap;
	struct seriesbuf_order *order; /* emit's sorting space, as large as e */
	size_t order_cap;
};

void seriesbuf_init(struct seriesbuf *s);
void seriesbuf_reset(struct seriesbuf *s);
void seriesbuf_free(struct seriesbuf *s);

/*
 * Adds one series of family name (help and type are taken from the family's
 * first series) labelled names[i]=values[i] for i < n (n <= SERIESBUF_LABELS).
 * 0, or -ENOMEM / -EINVAL (n too large).
 */
int seriesbuf_add(struct seriesbuf *s, const char *name, const char *help, enum metric_type type,
		  const char *const *names, const char *const *values, size_t n, double v);

/*
 * Adds every family to the batch.  A family whose name the batch refuses is
 * left out, and so is a series that repeats another's labels; 0, or -errno of
 * a full batch with its message in err.
 */
int seriesbuf_emit(struct seriesbuf *s, struct batch *b, char *err, size_t errlen);

/*
 * The state of a collector that reads one directory's entries into a seriesbuf
 * each cycle (lnstat: the files of PROCFS/net/stat, meminfo_numa: SYSFS/.../node<N>/),
 * with a buffer for the file being read.
 */
struct seriesbuf_dir {
	char dir[PATH_MAX];
	struct dirents entries;
	char *buf;
	size_t cap;
	struct seriesbuf series;
};

/* *state gets a new seriesbuf_dir of root/sub; 0, or -errno with err filled. */
int seriesbuf_dir_new(void **state, const char *root, const char *sub, char *err, size_t errlen);
void seriesbuf_dir_free(void *state);

/*
 * One cycle: lists the directory (entries that keep accepts; a missing
 * directory publishes nothing), calls read_entry for each name (0 or -ENOMEM)
 * and publishes the series gathered.
 */
int seriesbuf_dir_collect(struct seriesbuf_dir *s, bool (*keep)(const char *name),
			  int (*read_entry)(struct seriesbuf_dir *s, const char *name),
			  struct batch *b, char *err, size_t errlen);

#endif
