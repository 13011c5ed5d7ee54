/*
 * nfs_procs.h - names of the NFS procedures, in the kernel's order of the
 * counts on the "procN" lines of PROCFS/net/rpc/nfs and nfsd, spelt as
 * node_exporter labels them (method="GetAttr").  Shared by nfs.c and nfsd.c.
 */
#ifndef SHMETRICS_NFS_PROCS_H
#define SHMETRICS_NFS_PROCS_H

#include <stddef.h>

#include "lazyfam.h"
#include "metrics.h"
#include "scan.h"

static const char *const nfs_v2_procs[] = {
	"Null",   "GetAttr", "SetAttr", "Root", "Lookup",  "ReadLink", "Read",  "WrCache", "Write",
	"Create", "Remove",  "Rename",  "Link", "SymLink", "MkDir",    "RmDir", "ReadDir", "FsStat",
};

static const char *const nfs_v3_procs[] = {
	"Null",    "GetAttr",     "SetAttr", "Lookup", "Access",   "ReadLink", "Read",   "Write",
	"Create",  "MkDir",       "SymLink", "MkNod",  "Remove",   "RmDir",    "Rename", "Link",
	"ReadDir", "ReadDirPlus", "FsStat",  "FsInfo", "PathConf", "Commit",
};

/* A "procN count v0 v1 ..." line: one series per value from the first-th on that
 * has a name (NULL names are skipped), method=names[i], proto=version.  count is
 * not trusted: the values present are used, at most n_names of them. */
static inline int nfs_emit_procs(struct batch *b, struct lazyfam *f, struct scan line,
				 const char *version, const char *const *names, size_t n_names,
				 size_t first, char *err, size_t errlen)
{
	static const char *const keys[] = { "method", "proto" };
	const char *w;
	size_t n;
	uint64_t v;

	if (!scan_word(&line, &w, &n) || !scan_word(&line, &w, &n))
		return 0;
	for (size_t i = 0; i < n_names && scan_word(&line, &w, &n); i++) {
		if (i < first || !names[i] || !parse_u64(w, n, &v))
			continue;
		const char *values[] = { names[i], version };
		int rc = lazyfam_add(b, f, keys, values, 2, (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The i-th number after the first word of line (0-based); false if absent. */
static inline bool nfs_field(struct scan line, size_t i, uint64_t *out)
{
	const char *w;
	size_t n;
	if (!scan_word(&line, &w, &n))
		return false;
	for (size_t k = 0; scan_word(&line, &w, &n); k++)
		if (k == i)
			return parse_u64(w, n, out);
	return false;
}

/* The line of buf[0..len) whose first word is key; false when there is none. */
static inline bool nfs_find(const char *buf, size_t len, const char *key, struct scan *out)
{
	struct scan text = scan_text(buf, len), line;
	while (scan_line(&text, &line)) {
		struct scan words = line;
		const char *w;
		size_t n;
		if (scan_word(&words, &w, &n) && word_is(w, n, key)) {
			*out = line;
			return true;
		}
	}
	return false;
}

/* A counter family of one series: the i-th number of line, if there is one. */
static inline int nfs_emit_field(struct batch *b, struct scan line, size_t i, const char *name,
				 const char *help, enum metric_type type, char *err, size_t errlen)
{
	struct lazyfam f = { name, help, type, false };
	uint64_t v;
	if (!nfs_field(line, i, &v))
		return 0;
	return lazyfam_add(b, &f, NULL, NULL, 0, (double)v, err, errlen);
}

#endif
