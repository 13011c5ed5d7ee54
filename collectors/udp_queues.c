/*
 * udp_queues - the memory queued in UDP sockets, summed over the sockets of
 * PROCFS/net/udp and PROCFS/net/udp6: the hexadecimal "tx_queue:rx_queue" column
 * of each socket line.  A file that is missing (IPv6 disabled) leaves its series
 * out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define QUEUE_COLUMN 4 /* sl local_address rem_address st tx_queue:rx_queue ... */

struct udp_state {
	struct procfile v4, v6;
};

static int udp_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct udp_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->v4, env->procfs, "net/udp", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->v6, env->procfs, "net/udp6", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* "1236: 0100007F:0035 00000000:0000 07 00000000:00000200 ..." -> tx, rx.  False
 * for the header and anything else not of that shape. */
static bool udp_parse_line(struct scan line, uint64_t *tx, uint64_t *rx)
{
	const char *w;
	size_t n;
	uint64_t slot;

	if (!scan_word(&line, &w, &n) || n < 2 || w[n - 1] != ':' || !parse_u64(w, n - 1, &slot))
		return false;
	for (int col = 1; col < QUEUE_COLUMN; col++)
		if (!scan_word(&line, &w, &n))
			return false;
	if (!scan_word(&line, &w, &n))
		return false;
	const char *colon = memchr(w, ':', n);
	if (!colon)
		return false;
	size_t txlen = (size_t)(colon - w);
	return parse_hex_u64(w, txlen, tx) && parse_hex_u64(colon + 1, n - txlen - 1, rx);
}

static void udp_sum(const struct procfile *f, double *tx, double *rx)
{
	struct scan text = scan_text(f->buf, f->len), line;
	uint64_t t, r;

	*tx = *rx = 0;
	while (scan_line(&text, &line))
		if (udp_parse_line(line, &t, &r)) {
			*tx += (double)t;
			*rx += (double)r;
		}
}

static int udp_emit(struct procfile *f, const char *ip, struct lazyfam *fam, struct batch *b,
		    char *err, size_t errlen)
{
	static const char *const names[] = { "ip", "queue" };
	double tx, rx;

	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	udp_sum(f, &tx, &rx);
	const char *rx_values[] = { ip, "rx" }, *tx_values[] = { ip, "tx" };
	rc = lazyfam_add(b, fam, names, rx_values, 2, rx, err, errlen);
	if (rc == 0)
		rc = lazyfam_add(b, fam, names, tx_values, 2, tx, err, errlen);
	return rc;
}

static int udp_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct udp_state *s = state;
	struct lazyfam fam = {
		"node_udp_queues",
		"Number of allocated memory in the kernel for UDP datagrams in bytes.",
		METRIC_GAUGE,
		false,
	};
	int rc = udp_emit(&s->v4, "v4", &fam, b, err, errlen);
	if (rc == 0)
		rc = udp_emit(&s->v6, "v6", &fam, b, err, errlen);
	return rc;
}

static void udp_fini(void *state)
{
	struct udp_state *s = state;
	if (!s)
		return;
	procfile_close(&s->v4);
	procfile_close(&s->v6);
	free(s);
}

const struct collector_ops collector_udp_queues_ops = {
	.init = udp_init,
	.collect = udp_collect,
	.fini = udp_fini,
};
