/* One remote-write endpoint (endpoint.h). */
#include "endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#ifndef SHMETRICS_VERSION
#define SHMETRICS_VERSION "0.1.0"
#endif

#define EVICT_LOG_EVERY_MS 60000u

const char *shipper_url_name(const char *url, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.*s", (int)strcspn(url, "?#"), url);
	return out;
}

/* ---- the queue's directory ---- */

/* dirfd's entry name as a directory that is ours alone, created if missing. */
static int private_dir(int dirfd, const char *name, const char *shown, int *out, char *err,
		       size_t errlen)
{
	struct stat st;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "cannot create the queue directory %s: %s", shown,
			 strerror(e));
		return -e;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot open the queue directory %s: %s", shown, strerror(e));
		return -e;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		snprintf(err, errlen,
			 "queue directory %s must belong to uid %u and be writable by it alone "
			 "(chown and chmod 0700 it)",
			 shown, (unsigned)geteuid());
		return -EINVAL;
	}
	*out = fd;
	return 0;
}

/* mkdir -p of the configured directory (0700 for what it creates), then
 * INSTANCE/HASH below it, each checked. */
static int open_queue_dir(const char *base, const char *instance, const char *url, int *out,
			  char *err, size_t errlen)
{
	char path[PATH_MAX], leaf[32], shown[PATH_MAX + 100];
	int top, inst, rc;

	if (snprintf(path, sizeof path, "%s", base) >= (int)sizeof path || path[0] != '/') {
		snprintf(err, errlen, "the queue directory must be an absolute path");
		return -EINVAL;
	}
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	rc = private_dir(AT_FDCWD, path, path, &top, err, errlen);
	if (rc < 0)
		return rc;
	snprintf(shown, sizeof shown, "%s/%s", path, instance);
	rc = private_dir(top, instance, shown, &inst, err, errlen);
	close(top);
	if (rc < 0)
		return rc;
	snprintf(leaf, sizeof leaf, "%016" PRIx64, encode_name_hash(url, strlen(url)));
	snprintf(shown, sizeof shown, "%s/%s/%s", path, instance, leaf);
	rc = private_dir(inst, leaf, shown, out, err, errlen);
	close(inst);
	if (rc == 0)
		log_info("queue of %.200s: %s", url, shown);
	return rc;
}

/* ---- rules ---- */

static int compile_rules(struct endpoint *e, char *err, size_t errlen)
{
	const struct endpoint_options *o = e->o;
	char anchored[1100], why[200];

	for (size_t i = 0; i < o->n_relabel; i++) {
		snprintf(anchored, sizeof anchored, "^(%s)$", o->relabel_regex[i]);
		int rc = regcomp(&e->relabel[i].re, anchored, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &e->relabel[i].re, why, sizeof why);
			snprintf(err, errlen, "write_relabel rule %zu of %s: bad regex: %s", i + 1,
				 e->name, why);
			return -EINVAL;
		}
		e->relabel[i].keep = o->relabel_keep[i];
		e->n_relabel_compiled++;
	}
	e->rules = (struct encode_rules){ e->relabel,    o->n_relabel, o->ext_names,
					  o->ext_values, o->n_ext,     o->batch_max_samples };
	return 0;
}

static int open_client(struct endpoint *e, char *err, size_t errlen)
{
	const struct endpoint_options *o = e->o;
	struct client_options co = {
		.url = o->url,
		.username = o->username,
		.password_file = o->password_file,
		.bearer_token_file = o->bearer_token_file,
		.ca_file = o->ca_file,
		.cert_file = o->cert_file,
		.key_file = o->key_file,
		.server_name = o->server_name,
		.insecure_skip_verify = o->insecure_skip_verify,
		.n_headers = o->n_headers,
		.timeout_ms = o->timeout_ms,
		.user_agent = "shmetrics/" SHMETRICS_VERSION,
	};
	memcpy(co.headers, o->headers, o->n_headers * sizeof *o->headers);
	return client_new(&e->client, &co, err, errlen);
}

static void log_repairs(const struct endpoint *e, const struct wal_repair *rep)
{
	if (rep->files)
		log_warnx("queue of %s was damaged: %u file%s repaired, %" PRIu64
			  " bytes lost; first: %s",
			  e->name, rep->files, rep->files == 1 ? "" : "s", rep->bytes, rep->first);
	else if (rep->ack_reset)
		log_warnx("queue of %s: %s", e->name, rep->first);
}

int endpoint_open(struct endpoint *e, const struct endpoint_options *o, const char *queue_dir,
		  const char *instance, char *err, size_t errlen)
{
	struct wal_limits lim = { o->max_bytes, 0 };
	struct queue_batching b = { o->batch_max_samples, o->batch_deadline_ms, o->max_age_ms };
	struct wal_repair rep;

	memset(e, 0, sizeof *e);
	e->o = o;
	e->dirfd = -1;
	shipper_url_name(o->url, e->name, sizeof e->name);
	int rc = compile_rules(e, err, errlen);
	if (rc == 0)
		rc = open_queue_dir(queue_dir, instance, o->url, &e->dirfd, err, errlen);
	if (rc == 0)
		rc = queue_open(&e->q, e->dirfd, &lim, &b, &rep, err, errlen);
	if (rc == 0) {
		log_repairs(e, &rep);
		rc = open_client(e, err, errlen);
	}
	return rc;
}

int endpoint_start(struct endpoint *e, char *err, size_t errlen)
{
	struct sender_options so = { e->o->min_backoff_ms, e->o->max_backoff_ms, e->name };

	return sender_start(&e->sender, e->q, e->client, &so, err, errlen);
}

void endpoint_close(struct endpoint *e)
{
	sender_stop(e->sender);
	client_free(e->client);
	queue_close(e->q);
	for (size_t i = 0; i < e->n_relabel_compiled; i++)
		regfree(&e->relabel[i].re);
	if (e->dirfd >= 0)
		close(e->dirfd);
	free(e->z);
	memset(e, 0, sizeof *e);
	e->dirfd = -1;
}

/* ---- appending ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void log_evictions(struct endpoint *e, uint64_t n)
{
	uint64_t now = mono_ms();

	e->evicted += n;
	if (!e->evicted || (e->evict_logged_ms && now - e->evict_logged_ms < EVICT_LOG_EVERY_MS))
		return;
	log_warnx("queue of %s reached its bound of %" PRIu64 " bytes: dropped the %" PRIu64
		  " oldest samples",
		  e->name, e->o->max_bytes, e->evicted);
	e->evicted = 0;
	e->evict_logged_ms = now;
}

int endpoint_emit(void *ctx, const void *req, size_t len, uint32_t n_samples, int64_t min_ts,
		  int64_t max_ts)
{
	struct endpoint_sink *s = ctx;
	struct endpoint *e = s->e;
	size_t max = snappy_max_compressed_length(len), zlen = max;
	uint64_t evicted = 0;
	char err[300];

	if (max > e->z_cap) {
		unsigned char *z = realloc(e->z, max);
		if (!z)
			return -ENOMEM;
		e->z = z;
		e->z_cap = max;
	}
	if (snappy_compress(req, len, (char *)e->z, &zlen) != SNAPPY_OK)
		return -EIO;
	int rc = queue_append(e->q, s->source, min_ts, max_ts, n_samples, e->z, zlen, &evicted, err,
			      sizeof err);
	log_evictions(e, evicted);
	if (rc < 0)
		log_warnx("queue of %s: %s", e->name, err);
	return rc;
}
