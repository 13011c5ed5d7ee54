/*
 * basic_auth.h - HTTP basic authentication against bcrypt hashes, as the
 * exporter-toolkit's basic_auth_users, at a bounded cost to everyone else.
 *
 * bcrypt is slow on purpose (tens of milliseconds at cost 10).  Prometheus
 * sends the same credentials on every scrape, and a client guessing passwords
 * must not be able to take the HTTP threads from it, so:
 *  - every verdict is remembered by a digest of user, password and hash, a
 *    success and a failure alike: the next identical request is answered at
 *    once, without bcrypt;
 *  - bcrypt runs on a thread of its own, never on an HTTP thread: a request
 *    that needs it is parked (the caller suspends its connection) and woken
 *    with the verdict;
 *  - at most AUTH_QUEUE_MAX requests wait for bcrypt; more are refused at once
 *    (AUTH_BUSY: the caller answers 429).
 * An unknown user costs one bcrypt as well, so timing does not reveal which
 * users exist.  Thread-safe.
 */
#ifndef SHMETRICS_EXPORTER_BASIC_AUTH_H
#define SHMETRICS_EXPORTER_BASIC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webconfig.h"

#define AUTH_QUEUE_MAX 16

struct basic_auth;
struct auth_job;

enum auth_verdict {
	AUTH_OK,
	AUTH_DENIED,
	AUTH_PENDING, /* *job was made: suspend, then basic_auth_submit(job) */
	AUTH_BUSY,    /* AUTH_QUEUE_MAX requests wait already */
};

/* What basic_auth_stats reports (the exporter's self metrics). */
struct auth_stats {
	uint64_t remembered; /* verdicts given from memory */
	uint64_t computed;   /* bcrypt runs */
	uint64_t refused;    /* AUTH_BUSY answers */
};

/* users must outlive the object; starts the bcrypt thread.  NULL on failure. */
struct basic_auth *basic_auth_new(const struct web_user *users, size_t n);

/* Stops the thread; every job still queued is answered AUTH_DENIED (its done
 * callback runs) first, and whatever is not remembered is denied from then
 * on.  NULL is fine; so is a second call. */
void basic_auth_stop(struct basic_auth *a);

/* basic_auth_stop, then frees a.  NULL is fine. */
void basic_auth_free(struct basic_auth *a);

/*
 * The verdict on user and password: AUTH_OK or AUTH_DENIED from memory;
 * otherwise AUTH_PENDING with *job for a bcrypt run, which will call
 * done(arg) from the bcrypt thread once basic_auth_job_verdict(*job) is known;
 * or AUTH_BUSY.  user and password are copied.
 */
enum auth_verdict basic_auth_begin(struct basic_auth *a, const char *user, const char *password,
				   void (*done)(void *arg), void *arg, struct auth_job **job);

/* Hands job to the bcrypt thread (after the caller parked its request). */
void basic_auth_submit(struct basic_auth *a, struct auth_job *job);

/* AUTH_OK or AUTH_DENIED once done was called. */
enum auth_verdict basic_auth_job_verdict(const struct auth_job *job);

/* Frees a job whose done was called, or that was never submitted. */
void basic_auth_job_free(struct auth_job *job);

void basic_auth_stats(struct basic_auth *a, struct auth_stats *out);

#endif
