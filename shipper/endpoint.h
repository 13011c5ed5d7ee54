/*
 * endpoint.h - one remote-write endpoint inside the shipper: its encoding
 * rules, its queue in a private directory, its HTTP client and its sender.
 */
#ifndef SHMETRICS_SHIPPER_ENDPOINT_H
#define SHMETRICS_SHIPPER_ENDPOINT_H

#include <stdint.h>

#include "client.h"
#include "encode.h"
#include "queue.h"
#include "sender.h"
#include "shipper.h"

struct endpoint {
	const struct endpoint_options *o;
	char name[1024]; /* the URL without its query */
	struct relabel_rule relabel[SHIPPER_LIST_MAX];
	size_t n_relabel_compiled;
	struct encode_rules rules;
	int dirfd;
	struct queue *q;
	struct client *client;
	struct sender *sender;
	unsigned char *z; /* snappy output */
	size_t z_cap;
	/* evictions not yet logged, and when the last line went out (monotonic ms) */
	uint64_t evicted, evict_logged_ms;
};

/*
 * Compiles the rules, opens (and repairs: logged) the queue in
 * QUEUE_DIR/INSTANCE/HASH-OF-URL, and prepares the client.  Returns 0, -EINVAL
 * for options that cannot work (a configuration error), or another negative
 * errno; err says why.
 */
int endpoint_open(struct endpoint *e, const struct endpoint_options *o, const char *queue_dir,
		  const char *instance, char *err, size_t errlen);

/* Starts the sender thread. */
int endpoint_start(struct endpoint *e, char *err, size_t errlen);

/* Stops the sender (if started) and frees everything. */
void endpoint_close(struct endpoint *e);

/* An encode sink: compresses the request and appends it to the queue. */
struct endpoint_sink {
	struct endpoint *e;
	const char *source;
};
int endpoint_emit(void *ctx, const void *req, size_t len, uint32_t n_samples, int64_t min_ts,
		  int64_t max_ts);

#endif
