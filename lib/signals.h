/*
 * signals.h - the signal set-up of a process that waits in ppoll: its signals
 * are blocked everywhere (threads started later inherit that) and delivered
 * only while it waits, with wait_mask as ppoll's mask.  Header-only.
 */
#ifndef SHMETRICS_SIGNALS_H
#define SHMETRICS_SIGNALS_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

/* 0, or -errno.  handler runs with every signal blocked; SIGCHLD without stops. */
static inline int signals_for_ppoll(const int *sigs, size_t n, void (*handler)(int),
				    sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < n; i++)
		sigaddset(&block, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < n; i++) {
		sigdelset(wait_mask, sigs[i]);
		sa.sa_flags = sigs[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

#endif
