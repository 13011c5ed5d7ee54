/*
 * client_fork.c - libshmetrics across fork() and exit(): the list of open
 * collectors, the pthread_atfork handlers, the first call in a child, and the
 * last publish at exit.  The protocol is described in client_internal.h.
 */
#include "client_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shmetrics *open_list;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

/* Before fork(): nobody may be registering, publishing or waking a publisher,
 * so that the child's copies of the registries and locks are consistent. */
static void before_fork(void)
{
	pthread_mutex_lock(&list_lock);
	for (struct shmetrics *m = open_list; m != NULL; m = m->next) {
		pthread_mutex_lock(&m->lock);
		pthread_mutex_lock(&m->wake_lock);
	}
}

static void after_fork_in_parent(void)
{
	for (struct shmetrics *m = open_list; m != NULL; m = m->next) {
		pthread_mutex_unlock(&m->wake_lock);
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&list_lock);
}

/* The child: one thread, the locks held by it.  Only plain memory, close() and
 * the condition variable's re-initialisation (its waiter, the publisher, is
 * not in the child). */
static void forget_parent(struct shmetrics *m)
{
	pthread_condattr_t ca;

	client_registry_zero(m);
	atomic_store_explicit(&m->dropped, 0, memory_order_relaxed);
	if (m->writer != NULL)
		seg_writer_forget_fd(m->writer);
	m->has_thread = false;
	m->stopping = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_store_explicit(&m->forked, true, memory_order_relaxed);
}

static void after_fork_in_child(void)
{
	for (struct shmetrics *m = open_list; m != NULL; m = m->next) {
		forget_parent(m);
		pthread_mutex_unlock(&m->wake_lock);
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&list_lock);
}

/* exit(): a last publish of every collector this process has attached, so that
 * a worker that exits normally loses nothing. */
static void publish_at_exit(void)
{
	pthread_mutex_lock(&list_lock);
	for (struct shmetrics *m = open_list; m != NULL; m = m->next) {
		if (atomic_load_explicit(&m->forked, memory_order_relaxed) || m->writer == NULL)
			continue;
		pthread_mutex_lock(&m->lock);
		client_publish_locked(m);
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&list_lock);
}

static void install_handlers(void)
{
	pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
	atexit(publish_at_exit);
}

void client_list_add(struct shmetrics *m)
{
	pthread_once(&handlers_once, install_handlers);
	pthread_mutex_lock(&list_lock);
	m->next = open_list;
	open_list = m;
	pthread_mutex_unlock(&list_lock);
}

void client_list_remove(struct shmetrics *m)
{
	pthread_mutex_lock(&list_lock);
	for (struct shmetrics **p = &open_list; *p != NULL; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&list_lock);
}

void client_registry_zero(struct shmetrics *m)
{
	for (size_t i = 0; i < m->n_families; i++) {
		struct shmetrics_family *f = m->families[i];
		for (size_t k = 0; k < f->n_series; k++)
			client_series_zero(f->series[k]);
	}
}

int client_after_fork(struct shmetrics *m)
{
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	if (atomic_load_explicit(&m->forked, memory_order_relaxed)) {
		seg_writer_detach(m->writer); /* the parent's mapping; its descriptor is closed */
		m->writer = NULL;
		rc = client_attach(m);
		/* Whatever the outcome, attach once: a failure is not retried on
		 * every update; the values stay unpublished. */
		atomic_store_explicit(&m->forked, false, memory_order_relaxed);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
