/*
 * xfrm - IPsec (XFRM) error counters from PROCFS/net/xfrm_stat, as node_exporter's
 * opt-in xfrm collector reports them: 28 unlabelled counters
 * node_xfrm_<field>_packets_total.
 *
 * Every family is reported on every cycle, 0 for a field the file lacks (older
 * kernels have fewer lines); fields newer than node_exporter's list
 * (XfrmOutStateDirError, XfrmInIptfsError, ...) are not reported, as there.  A
 * line that is not "Name number" is skipped.  The file exists only in kernels
 * built with CONFIG_XFRM_STATISTICS; without it the collection fails with the
 * open error, as node_exporter's does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

struct xfrm_field {
	const char *key, *name, *help;
};

/* In the file's order, which is node_exporter's. */
static const struct xfrm_field fields[] = {
	{ "XfrmInError", "in_error", "All errors not matched by other" },
	{ "XfrmInBufferError", "in_buffer_error", "No buffer is left" },
	{ "XfrmInHdrError", "in_hdr_error", "Header error" },
	{ "XfrmInNoStates", "in_no_states",
	  "No state is found i.e. Either inbound SPI, address, or IPsec protocol at SA is wrong" },
	{ "XfrmInStateProtoError", "in_state_proto_error",
	  "Transformation protocol specific error e.g. SA key is wrong" },
	{ "XfrmInStateModeError", "in_state_mode_error", "Transformation mode specific error" },
	{ "XfrmInStateSeqError", "in_state_seq_error",
	  "Sequence error i.e. Sequence number is out of window" },
	{ "XfrmInStateExpired", "in_state_expired", "State is expired" },
	{ "XfrmInStateMismatch", "in_state_mismatch",
	  "State has mismatch option e.g. UDP encapsulation type is mismatch" },
	{ "XfrmInStateInvalid", "in_state_invalid", "State is invalid" },
	{ "XfrmInTmplMismatch", "in_tmpl_mismatch",
	  "No matching template for states e.g. Inbound SAs are correct but SP rule is wrong" },
	{ "XfrmInNoPols", "in_no_pols",
	  "No policy is found for states e.g. Inbound SAs are correct but no SP is found" },
	{ "XfrmInPolBlock", "in_pol_block", "Policy discards" },
	{ "XfrmInPolError", "in_pol_error", "Policy error" },
	{ "XfrmOutError", "out_error", "All errors which is not matched others" },
	{ "XfrmOutBundleGenError", "out_bundle_gen_error", "Bundle generation error" },
	{ "XfrmOutBundleCheckError", "out_bundle_check_error", "Bundle check error" },
	{ "XfrmOutNoStates", "out_no_states", "No state is found" },
	{ "XfrmOutStateProtoError", "out_state_proto_error",
	  "Transformation protocol specific error" },
	{ "XfrmOutStateModeError", "out_state_mode_error", "Transformation mode specific error" },
	{ "XfrmOutStateSeqError", "out_state_seq_error",
	  "Sequence error i.e. Sequence number overflow" },
	{ "XfrmOutStateExpired", "out_state_expired", "State is expired" },
	{ "XfrmOutPolBlock", "out_pol_block", "Policy discards" },
	{ "XfrmOutPolDead", "out_pol_dead", "Policy is dead" },
	{ "XfrmOutPolError", "out_pol_error", "Policy error" },
	{ "XfrmFwdHdrError", "fwd_hdr_error", "Forward routing of a packet is not allowed" },
	{ "XfrmOutStateInvalid", "out_state_invalid", "State is invalid, perhaps expired" },
	{ "XfrmAcquireError", "acquire_error",
	  "State hasn\xe2\x80\x99t been fully acquired before use" },
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

static int xfrm_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "net/xfrm_stat", err, errlen);
}

static void xfrm_line(struct scan line, uint64_t *v)
{
	const char *k, *w;
	size_t kn, wn;
	uint64_t x;

	if (!scan_word(&line, &k, &kn) || !scan_word(&line, &w, &wn) || !parse_u64(w, wn, &x))
		return;
	if (scan_word(&line, &w, &wn))
		return; /* more than two fields */
	for (size_t i = 0; i < N_FIELDS; i++)
		if (word_is(k, kn, fields[i].key)) {
			v[i] = x;
			return;
		}
}

static int xfrm_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *f = state;
	uint64_t v[N_FIELDS];
	char name[METRIC_NAME_MAX + 1];

	int rc = procfile_read(f, err, errlen);
	if (rc == -ENOENT)
		snprintf(err, errlen,
			 "open(\"%s\") failed: %s (a kernel without "
			 "CONFIG_XFRM_STATISTICS)",
			 f->path, strerror(ENOENT));
	if (rc)
		return rc;
	memset(v, 0, sizeof v);
	struct scan text = scan_text(f->buf, f->len), line;
	while (scan_line(&text, &line))
		xfrm_line(line, v);
	for (size_t i = 0; rc == 0 && i < N_FIELDS; i++) {
		snprintf(name, sizeof name, "node_xfrm_%s_packets_total", fields[i].name);
		rc = emit_single(b, name, fields[i].help, METRIC_COUNTER, (double)v[i], err,
				 errlen);
	}
	return rc;
}

const struct collector_ops collector_xfrm_ops = {
	.init = xfrm_init,
	.collect = xfrm_collect,
	.fini = procfile_free,
};
