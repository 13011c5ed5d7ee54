#include "basic_auth.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32 /* SHA-256 */
#define REMEMBERED 64

/* Checked against when the user is unknown, so that takes as long as a real
 * check.  Its password is irrelevant: the result is discarded. */
static const char dummy_hash[] = "$2b$10$0cy4HGhEJzWL3y818IphAugtH6Ve6zzIXUQOAiuAEPkSc/k1rp8Ai";

struct basic_auth {
	const struct web_user *users;
	size_t n;
	pthread_mutex_t lock;
	unsigned char seen[REMEMBERED][DIGEST_LEN];
	size_t n_seen, next;
};

struct basic_auth *basic_auth_new(const struct web_user *users, size_t n)
{
	struct basic_auth *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->users = users;
	a->n = n;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void basic_auth_free(struct basic_auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a->seen, sizeof a->seen);
	free(a);
}

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

/* user NUL password NUL hash, hashed: the key of a remembered success. */
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

static bool remembered(struct basic_auth *a, const unsigned char d[DIGEST_LEN])
{
	bool hit = false;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n_seen; i++)
		hit |= same_bytes(a->seen[i], d, DIGEST_LEN);
	pthread_mutex_unlock(&a->lock);
	return hit;
}

static void remember(struct basic_auth *a, const unsigned char d[DIGEST_LEN])
{
	pthread_mutex_lock(&a->lock);
	memcpy(a->seen[a->next], d, DIGEST_LEN);
	a->next = (a->next + 1) % REMEMBERED;
	if (a->n_seen < REMEMBERED)
		a->n_seen++;
	pthread_mutex_unlock(&a->lock);
}

bool basic_auth_check(struct basic_auth *a, const char *user, const char *password)
{
	const struct web_user *u = NULL;
	unsigned char d[DIGEST_LEN];

	for (size_t i = 0; i < a->n && !u; i++)
		if (strcmp(a->users[i].name, user) == 0)
			u = &a->users[i];
	if (!u) {
		bcrypt_matches(password, dummy_hash);
		return false;
	}
	bool have_digest = digest(user, password, u->hash, d);
	if (have_digest && remembered(a, d))
		return true;
	if (!bcrypt_matches(password, u->hash))
		return false;
	if (have_digest)
		remember(a, d);
	return true;
}
