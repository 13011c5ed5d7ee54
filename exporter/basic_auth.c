/* Basic authentication with bcrypt off the HTTP threads (contract in basic_auth.h). */
#include "basic_auth.h"

#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32 /* SHA-256 */
#define REMEMBERED 256

/* Checked against when the user is unknown, so that takes as long as a real
 * check.  Its password is irrelevant: the result is discarded. */
static const char dummy_hash[] = "$2b$10$0cy4HGhEJzWL3y818IphAugtH6Ve6zzIXUQOAiuAEPkSc/k1rp8Ai";

struct auth_job {
	struct auth_job *next;
	char *user, *password;
	unsigned char digest[DIGEST_LEN];
	bool have_digest;
	void (*done)(void *arg);
	void *arg;
	_Atomic int verdict;
};

struct basic_auth {
	const struct web_user *users;
	size_t n;
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	struct auth_job *head, *tail;
	size_t waiting; /* begun and not yet answered: queued or being computed */
	unsigned char seen[REMEMBERED][DIGEST_LEN];
	bool seen_ok[REMEMBERED];
	size_t n_seen, next;
	struct auth_stats stats;
};

/* ---- bcrypt and digests ---- */

/* Compares without an early exit. */
static bool same_bytes(const void *x, const void *y, size_t n)
{
	const unsigned char *a = x, *b = y;
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static bool bcrypt_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof *cd);
	bool ok = false;

	if (!cd)
		return false;
	const char *out = crypt_r(password, hash, cd);
	ok = out && out[0] != '*' && strlen(out) == strlen(hash) &&
	     same_bytes(out, hash, strlen(hash));
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

/* user NUL password NUL hash, hashed: the key of a remembered verdict. */
static bool digest(const char *user, const char *password, const char *hash,
		   unsigned char out[DIGEST_LEN])
{
	size_t ul = strlen(user) + 1, pl = strlen(password) + 1, hl = strlen(hash);
	unsigned char *msg = malloc(ul + pl + hl);

	if (!msg)
		return false;
	memcpy(msg, user, ul);
	memcpy(msg + ul, password, pl);
	memcpy(msg + ul + pl, hash, hl);
	int rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, msg, ul + pl + hl, out);
	explicit_bzero(msg, ul + pl + hl);
	free(msg);
	return rc == 0;
}

static const struct web_user *find_user(const struct basic_auth *a, const char *user)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->users[i].name, user) == 0)
			return &a->users[i];
	return NULL;
}

/* ---- remembered verdicts (under the lock) ---- */

/* 1 for a remembered success, 0 for a remembered failure, -1 for nothing. */
static int remembered_locked(const struct basic_auth *a, const unsigned char d[DIGEST_LEN])
{
	int verdict = -1;

	for (size_t i = 0; i < a->n_seen; i++)
		if (same_bytes(a->seen[i], d, DIGEST_LEN))
			verdict = a->seen_ok[i];
	return verdict;
}

static void remember_locked(struct basic_auth *a, const unsigned char d[DIGEST_LEN], bool ok)
{
	memcpy(a->seen[a->next], d, DIGEST_LEN);
	a->seen_ok[a->next] = ok;
	a->next = (a->next + 1) % REMEMBERED;
	if (a->n_seen < REMEMBERED)
		a->n_seen++;
}

/* ---- the bcrypt thread ---- */

static void answer(struct basic_auth *a, struct auth_job *job, bool ok)
{
	atomic_store_explicit(&job->verdict, ok ? AUTH_OK : AUTH_DENIED, memory_order_release);
	pthread_mutex_lock(&a->lock);
	a->waiting--;
	pthread_mutex_unlock(&a->lock);
	job->done(job->arg); /* the job may be freed from here on */
}

static bool compute(struct basic_auth *a, struct auth_job *job)
{
	const struct web_user *u = find_user(a, job->user);
	bool ok = u ? bcrypt_matches(job->password, u->hash)
		    : (bcrypt_matches(job->password, dummy_hash), false);

	pthread_mutex_lock(&a->lock);
	if (job->have_digest)
		remember_locked(a, job->digest, ok);
	a->stats.computed++;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

/* The next job, or NULL once stopping has emptied the queue. */
static struct auth_job *next_job(struct basic_auth *a, bool *stopping)
{
	pthread_mutex_lock(&a->lock);
	while (!a->head && !a->stopping)
		pthread_cond_wait(&a->wake, &a->lock);
	struct auth_job *job = a->head;
	if (job) {
		a->head = job->next;
		if (!a->head)
			a->tail = NULL;
	}
	*stopping = a->stopping;
	pthread_mutex_unlock(&a->lock);
	return job;
}

static void *bcrypt_thread(void *arg)
{
	struct basic_auth *a = arg;
	struct auth_job *job;
	bool stopping;

	while ((job = next_job(a, &stopping)) != NULL)
		answer(a, job, !stopping && compute(a, job));
	return NULL;
}

/* ---- the public side ---- */

struct basic_auth *basic_auth_new(const struct web_user *users, size_t n)
{
	struct basic_auth *a = calloc(1, sizeof *a);
	sigset_t all, old;

	if (!a)
		return NULL;
	a->users = users;
	a->n = n;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the main thread */
	int rc = pthread_create(&a->thread, NULL, bcrypt_thread, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&a->wake);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return NULL;
	}
	return a;
}

void basic_auth_stop(struct basic_auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	bool was = a->stopping;
	a->stopping = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	if (!was)
		pthread_join(a->thread, NULL);
}

void basic_auth_free(struct basic_auth *a)
{
	if (!a)
		return;
	basic_auth_stop(a);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a->seen, sizeof a->seen);
	free(a);
}

static struct auth_job *job_new(const char *user, const char *password, const char *hash,
				void (*done)(void *arg), void *arg)
{
	struct auth_job *job = calloc(1, sizeof *job);

	if (!job)
		return NULL;
	job->user = strdup(user);
	job->password = strdup(password);
	job->done = done;
	job->arg = arg;
	atomic_init(&job->verdict, AUTH_PENDING);
	if (!job->user || !job->password) {
		basic_auth_job_free(job);
		return NULL;
	}
	job->have_digest = digest(user, password, hash, job->digest);
	return job;
}

enum auth_verdict basic_auth_begin(struct basic_auth *a, const char *user, const char *password,
				   void (*done)(void *arg), void *arg, struct auth_job **job)
{
	const struct web_user *u = find_user(a, user);
	/* an unknown user's failure is remembered under the user and password alone */
	struct auth_job *j = job_new(user, password, u ? u->hash : "", done, arg);
	enum auth_verdict v = AUTH_PENDING;

	*job = NULL;
	if (!j)
		return AUTH_DENIED;
	pthread_mutex_lock(&a->lock);
	int seen = j->have_digest ? remembered_locked(a, j->digest) : -1;
	if (seen >= 0) {
		a->stats.remembered++;
		v = seen ? AUTH_OK : AUTH_DENIED;
	} else if (a->stopping) {
		v = AUTH_DENIED; /* no bcrypt thread any more */
	} else if (a->waiting >= AUTH_QUEUE_MAX) {
		a->stats.refused++;
		v = AUTH_BUSY;
	} else {
		a->waiting++;
	}
	pthread_mutex_unlock(&a->lock);
	if (v == AUTH_PENDING)
		*job = j;
	else
		basic_auth_job_free(j);
	return v;
}

void basic_auth_submit(struct basic_auth *a, struct auth_job *job)
{
	pthread_mutex_lock(&a->lock);
	if (a->tail)
		a->tail->next = job;
	else
		a->head = job;
	a->tail = job;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

enum auth_verdict basic_auth_job_verdict(const struct auth_job *job)
{
	return (enum auth_verdict)atomic_load_explicit(&job->verdict, memory_order_acquire);
}

void basic_auth_job_free(struct auth_job *job)
{
	if (!job)
		return;
	if (job->password)
		explicit_bzero(job->password, strlen(job->password));
	free(job->password);
	free(job->user);
	explicit_bzero(job->digest, sizeof job->digest);
	free(job);
}

void basic_auth_stats(struct basic_auth *a, struct auth_stats *out)
{
	pthread_mutex_lock(&a->lock);
	*out = a->stats;
	pthread_mutex_unlock(&a->lock);
}
