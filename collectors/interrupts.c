/*
 * interrupts - interrupts serviced per source and CPU, from PROCFS/interrupts,
 * as node_exporter's opt-in interrupts collector reports them:
 * node_interrupts_total{cpu, type, info, devices}.  type is the row's name
 * ("0", "NMI", "LOC"); for a numbered IRQ info is the controller ("IO-APIC")
 * and devices the rest of the line ("2-edge timer"), for the others info is the
 * description.  cpu is the column's position.  Rows with fewer values than CPU
 * columns (ERR, MIS) are skipped.
 *
 * Options as in node_exporter: --collector.interrupts.name-include and
 * name-exclude match "type;info;devices"; --no-collector.interrupts.include-zeros
 * leaves out the series whose value is 0.  Like node_exporter's filter pairs, a
 * row is kept when it does not match name-exclude and (if given) matches
 * name-include.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "cpucols.h"
#include "emit.h"
#include "filter.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define IRQ_TEXT_MAX 256

struct interrupts_state {
	struct procfile file;
	struct optregex include, exclude;
	bool include_zeros;
};

static void interrupts_fini(void *state)
{
	struct interrupts_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	optregex_fini(&s->include);
	optregex_fini(&s->exclude);
	free(s);
}

static int interrupts_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct interrupts_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "interrupts", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->include, env, "name-include", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->exclude, env, "name-exclude", err, errlen);
	if (rc) {
		interrupts_fini(s);
		return rc;
	}
	s->include_zeros = collector_option_bool(env, "include-zeros");
	*state = s;
	return 0;
}

/* Appends the words of rest to out, separated by single blanks. */
static void join_words(struct scan rest, char *out, size_t len)
{
	const char *w;
	size_t n, o = 0;
	out[0] = '\0';
	while (scan_word(&rest, &w, &n)) {
		if (o + n + 2 > len)
			break;
		if (o)
			out[o++] = ' ';
		memcpy(out + o, w, n);
		o += n;
		out[o] = '\0';
	}
}

struct irq_row {
	char type[64], info[IRQ_TEXT_MAX], devices[IRQ_TEXT_MAX];
	struct scan values; /* the per-CPU counts */
};

/* Splits a row into its name, its cpus values and the text after them. */
static bool irq_row_parse(struct scan line, size_t cpus, struct irq_row *r)
{
	const char *name, *w;
	size_t n, namelen;
	struct scan rest;
	uint64_t num;
	if (!cpucols_row(line, &name, &namelen, &rest) || namelen >= sizeof r->type)
		return false;
	memcpy(r->type, name, namelen);
	r->type[namelen] = '\0';
	r->values = rest;
	for (size_t c = 0; c < cpus; c++)
		if (!scan_word(&rest, &w, &n))
			return false;
	r->values.end = rest.p;
	struct scan after = rest;
	if (!scan_word(&after, &w, &n))
		return false; /* ERR, MIS: a count but no description */
	if (!parse_u64(name, namelen, &num)) {
		join_words(rest, r->info, sizeof r->info);
		r->devices[0] = '\0';
		return true;
	}
	snprintf(r->info, sizeof r->info, "%.*s", (int)n, w);
	join_words(after, r->devices, sizeof r->devices);
	return true;
}

static bool irq_ignored(const struct interrupts_state *s, const struct irq_row *r)
{
	char subject[64 + 2 * IRQ_TEXT_MAX + 2];
	int n = snprintf(subject, sizeof subject, "%s;%s;%s", r->type, r->info, r->devices);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (s->exclude.set && optregex_match(&s->exclude, subject, len))
		return true;
	return s->include.set && !optregex_match(&s->include, subject, len);
}

static int irq_emit(const struct interrupts_state *s, const struct irq_row *r, struct lazyfam *fam,
		    struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu", "type", "info", "devices" };
	char cpu[24];
	const char *values[] = { cpu, r->type, r->info, r->devices }, *w;
	struct scan vals = r->values;
	size_t n;
	uint64_t v;
	for (unsigned long long c = 0; scan_word(&vals, &w, &n); c++) {
		if (!parse_u64(w, n, &v))
			return 0;
		if (v == 0 && !s->include_zeros)
			continue;
		fmt_uint(cpu, sizeof cpu, c);
		int rc = lazyfam_add(b, fam, names, values, 4, (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int interrupts_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct interrupts_state *s = state;
	struct lazyfam fam = { "node_interrupts_total", "Interrupt details.", METRIC_COUNTER,
			       false };
	struct irq_row row;
	int rc = procfile_read(&s->file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(s->file.buf, s->file.len), line;
	if (!scan_line(&text, &line))
		return 0;
	size_t cpus = cpucols_count(line);
	while (rc == 0 && scan_line(&text, &line))
		if (irq_row_parse(line, cpus, &row) && !irq_ignored(s, &row))
			rc = irq_emit(s, &row, &fam, b, err, errlen);
	return rc;
}

const struct collector_ops collector_interrupts_ops = {
	.init = interrupts_init,
	.collect = interrupts_collect,
	.fini = interrupts_fini,
};
