/* Connection limits by client address (see admission.h). */
#include "admission.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One address with open connections; open == 0 marks an empty slot. */
struct addr_entry {
	unsigned char key[16];
	unsigned open, admitted;
};

struct admission {
	pthread_mutex_t lock;
	struct admission_limits lim;
	struct addr_entry *slots; /* open addressing, linear probing */
	size_t cap, used;         /* cap: a power of two */
	unsigned open, admitted;  /* over all addresses */
};

static void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa != NULL && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff; /* ::ffff:a.b.c.d, as a dual-stack socket sees it */
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

static size_t key_hash(const unsigned char key[16], size_t cap)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < 16; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* The slot of key, or the empty slot where it would go. */
static struct addr_entry *slot_of(struct addr_entry *slots, size_t cap, const unsigned char *key)
{
	for (size_t i = key_hash(key, cap);; i = (i + 1) & (cap - 1))
		if (slots[i].open == 0 || memcmp(slots[i].key, key, 16) == 0)
			return &slots[i];
}

static int grow(struct admission *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	struct addr_entry *slots = calloc(cap, sizeof *slots);

	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i].open)
			*slot_of(slots, cap, a->slots[i].key) = a->slots[i];
	free(a->slots);
	a->slots = slots;
	a->cap = cap;
	return 0;
}

static struct addr_entry *find(struct admission *a, const unsigned char *key)
{
	if (a->cap == 0)
		return NULL;
	struct addr_entry *e = slot_of(a->slots, a->cap, key);
	return e->open ? e : NULL;
}

/* Empties slot e and moves later entries of its probe run back, so that every
 * entry stays reachable from its home slot without tombstones. */
static void remove_entry(struct admission *a, struct addr_entry *e)
{
	size_t hole = (size_t)(e - a->slots), mask = a->cap - 1;

	for (size_t i = (hole + 1) & mask; a->slots[i].open; i = (i + 1) & mask) {
		size_t home = key_hash(a->slots[i].key, a->cap);
		/* movable when home is not cyclically within (hole, i] */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			a->slots[hole] = a->slots[i];
			hole = i;
		}
	}
	memset(&a->slots[hole], 0, sizeof a->slots[hole]);
	a->used--;
}

struct admission *admission_new(const struct admission_limits *lim)
{
	struct admission *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->lim = *lim;
	pthread_mutex_init(&a->lock, NULL);
	if (grow(a) < 0) {
		admission_free(a);
		return NULL;
	}
	return a;
}

void admission_free(struct admission *a)
{
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->lock);
	free(a->slots);
	free(a);
}

enum admission_verdict admission_accept(struct admission *a, const struct sockaddr *sa)
{
	unsigned char key[16];
	enum admission_verdict v = ADMISSION_OK;

	addr_key(sa, key);
	pthread_mutex_lock(&a->lock);
	const struct addr_entry *e = find(a, key);
	if (e != NULL && e->open >= a->lim.max_per_addr + a->lim.per_addr_reserve)
		v = ADMISSION_PER_ADDR;
	else if (a->open >= a->lim.max_total + a->lim.total_reserve)
		v = ADMISSION_TOTAL;
	pthread_mutex_unlock(&a->lock);
	return v;
}

/* Admits the connection counted in e if both limits leave room.  Locked. */
static enum admission_verdict admit_locked(struct admission *a, struct addr_entry *e)
{
	if (e->admitted >= a->lim.max_per_addr)
		return ADMISSION_PER_ADDR;
	if (a->admitted >= a->lim.max_total)
		return ADMISSION_TOTAL;
	e->admitted++;
	a->admitted++;
	return ADMISSION_OK;
}

int admission_open(struct admission *a, const struct sockaddr *sa)
{
	unsigned char key[16];
	int rc;

	addr_key(sa, key);
	pthread_mutex_lock(&a->lock);
	struct addr_entry *e = find(a, key);
	if (e == NULL && (a->used + 1) * 2 > a->cap && grow(a) < 0) {
		pthread_mutex_unlock(&a->lock);
		return -ENOMEM;
	}
	if (e == NULL) {
		e = slot_of(a->slots, a->cap, key);
		memcpy(e->key, key, 16);
		a->used++;
	}
	e->open++;
	a->open++;
	rc = (int)admit_locked(a, e);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

enum admission_verdict admission_admit(struct admission *a, const struct sockaddr *sa)
{
	unsigned char key[16];
	enum admission_verdict v = ADMISSION_TOTAL;

	addr_key(sa, key);
	pthread_mutex_lock(&a->lock);
	struct addr_entry *e = find(a, key);
	if (e != NULL && e->admitted < e->open)
		v = admit_locked(a, e);
	pthread_mutex_unlock(&a->lock);
	return v;
}

void admission_close(struct admission *a, const struct sockaddr *sa, bool admitted)
{
	unsigned char key[16];

	addr_key(sa, key);
	pthread_mutex_lock(&a->lock);
	struct addr_entry *e = find(a, key);
	if (e != NULL) {
		if (admitted && e->admitted > 0) {
			e->admitted--;
			a->admitted--;
		}
		a->open--;
		if (--e->open == 0)
			remove_entry(a, e);
	}
	pthread_mutex_unlock(&a->lock);
}

void admission_counts(struct admission *a, const struct sockaddr *sa, unsigned *open,
		      unsigned *admitted)
{
	unsigned char key[16];

	addr_key(sa, key);
	pthread_mutex_lock(&a->lock);
	const struct addr_entry *e = sa ? find(a, key) : NULL;
	*open = sa ? (e ? e->open : 0) : a->open;
	*admitted = sa ? (e ? e->admitted : 0) : a->admitted;
	pthread_mutex_unlock(&a->lock);
}
