/*
 * netstat - protocol counters from PROCFS/net/netstat and PROCFS/net/snmp (pairs
 * of lines: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...") and
 * PROCFS/net/snmp6 ("Ip6InReceives  123"), the ones whose "<Proto>_<Name>" key
 * matches --collector.netstat.fields, each as an untyped family
 * node_netstat_<Proto>_<Name>, as node_exporter has them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "filter.h"
#include "procfile.h"
#include "scan.h"

#define KEY_MAX 128

struct netstat_state {
	struct procfile netstat, snmp, snmp6;
	struct optregex fields;
	char key[KEY_MAX];
	char name[METRIC_NAME_MAX + 1];
	char help[METRIC_HELP_MAX + 1];
};

static void netstat_fini(void *state)
{
	struct netstat_state *s = state;
	if (!s)
		return;
	procfile_close(&s->netstat);
	procfile_close(&s->snmp);
	procfile_close(&s->snmp6);
	optregex_fini(&s->fields);
	free(s);
}

static int netstat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct netstat_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->netstat, env->procfs, "net/netstat", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->snmp, env->procfs, "net/snmp", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->snmp6, env->procfs, "net/snmp6", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->fields, env, "fields", err, errlen);
	if (rc) {
		netstat_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* Adds proto_name = value when the fields option selects it. */
static int stat_emit(struct netstat_state *s, struct batch *b, const char *proto, size_t plen,
		     const char *name, size_t nlen, const char *num, size_t numlen, char *err,
		     size_t errlen)
{
	double v;
	int n = snprintf(s->key, sizeof s->key, "%.*s_%.*s", (int)plen, proto, (int)nlen, name);
	if (n < 0 || (size_t)n >= sizeof s->key || !parse_double(num, numlen, &v) ||
	    !optregex_match(&s->fields, s->key, (size_t)n))
		return 0;
	n = snprintf(s->name, sizeof s->name, "node_netstat_%s", s->key);
	if (n < 0 || (size_t)n >= sizeof s->name)
		return 0;
	snprintf(s->help, sizeof s->help, "Statistic %.*s%.*s.", (int)plen, proto, (int)nlen, name);
	int rc = emit_single(b, s->name, s->help, METRIC_UNTYPED, v, err, errlen);
	/* An invalid name, or a key already reported by an earlier file. */
	return rc == -EINVAL || rc == -EEXIST ? 0 : rc;
}

static bool same_prefix(struct scan a, struct scan b)
{
	const char *p1, *p2;
	size_t l1, l2;
	return scan_word(&a, &p1, &l1) && scan_word(&b, &p2, &l2) && l1 == l2 && l1 >= 2 &&
	       p1[l1 - 1] == ':' && memcmp(p1, p2, l1) == 0;
}

/* A "Proto: names" line and its "Proto: values" line (same_prefix checked). */
static int stat_pair(struct netstat_state *s, struct batch *b, struct scan names,
		     struct scan values, char *err, size_t errlen)
{
	const char *proto, *nm, *num;
	size_t plen, nlen, numlen;
	int rc = 0;

	scan_word(&names, &proto, &plen);
	scan_word(&values, &num, &numlen);
	while (rc == 0 && scan_word(&names, &nm, &nlen) && scan_word(&values, &num, &numlen))
		rc = stat_emit(s, b, proto, plen - 1, nm, nlen, num, numlen, err, errlen);
	return rc;
}

/* Lines pair up by their prefix, so a stray line does not shift the pairs after it. */
static int read_pairs(struct netstat_state *s, struct procfile *f, struct batch *b, char *err,
		      size_t errlen)
{
	int rc = procfile_read(f, err, errlen);
	if (rc == -ENOENT)
		return 0;
	struct scan text = scan_text(f->buf, f->len), line, names;
	bool have_names = false;
	while (rc == 0 && scan_line(&text, &line)) {
		if (have_names && same_prefix(names, line)) {
			rc = stat_pair(s, b, names, line, err, errlen);
			have_names = false;
		} else {
			names = line;
			have_names = true;
		}
	}
	return rc;
}

/* "Icmp6InMsgs 3": the protocol runs to the first '6' inclusive, as in node_exporter;
 * keys without a '6' are skipped. */
static int read_snmp6(struct netstat_state *s, struct batch *b, char *err, size_t errlen)
{
	int rc = procfile_read(&s->snmp6, err, errlen);
	if (rc == -ENOENT)
		return 0;
	struct scan text = scan_text(s->snmp6.buf, s->snmp6.len), line;
	while (rc == 0 && scan_line(&text, &line)) {
		const char *k, *num, *six;
		size_t kn, numlen;
		if (!scan_word(&line, &k, &kn) || !scan_word(&line, &num, &numlen) ||
		    (six = memchr(k, '6', kn)) == NULL)
			continue;
		size_t plen = (size_t)(six - k) + 1;
		rc = stat_emit(s, b, k, plen, six + 1, kn - plen, num, numlen, err, errlen);
	}
	return rc;
}

static int netstat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct netstat_state *s = state;
	int rc = read_pairs(s, &s->netstat, b, err, errlen);
	if (rc == 0)
		rc = read_pairs(s, &s->snmp, b, err, errlen);
	if (rc == 0)
		rc = read_snmp6(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_netstat_ops = {
	.init = netstat_init,
	.collect = netstat_collect,
	.fini = netstat_fini,
};
