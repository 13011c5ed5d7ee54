/*
 * admission.h - the exporter's connection limits, counted by client address.
 *
 * At most max_per_addr connections from one address, and max_total in all, are
 * admitted; an admitted connection is served until it closes and is never
 * refused afterwards.  A connection that opens while its address (or the
 * server) is at the limit is counted as open but not admitted; at its first
 * request it is admitted if a slot has freed meanwhile (a connection its client
 * closed a moment before is still counted until libmicrohttpd has cleaned it
 * up), and otherwise answered 503 and closed by the caller.  Beyond the limits
 * plus a reserve (per_addr_reserve, total_reserve), admission_accept says to
 * close a new connection at once, before it costs more than a socket.
 *
 * Addresses are compared as IPv6 (IPv4 as ::ffff:a.b.c.d), so a client reaching
 * a dual-stack socket over IPv4 counts once.  All functions are thread-safe (one
 * mutex: they run on connection events, not per request).  Nothing is logged.
 */
#ifndef SHMETRICS_EXPORTER_ADMISSION_H
#define SHMETRICS_EXPORTER_ADMISSION_H

#include <stdbool.h>
#include <sys/socket.h>

enum admission_verdict {
	ADMISSION_OK,
	ADMISSION_PER_ADDR, /* the address is at its limit */
	ADMISSION_TOTAL,    /* the server is at its limit */
};

struct admission_limits {
	unsigned max_per_addr, max_total;
	unsigned per_addr_reserve, total_reserve;
};

struct admission;

/* NULL when out of memory. */
struct admission *admission_new(const struct admission_limits *lim);
void admission_free(struct admission *a);

/* A connection is being accepted: ADMISSION_OK, or the limit whose reserve is
 * full too (the caller closes the connection). */
enum admission_verdict admission_accept(struct admission *a, const struct sockaddr *sa);

/*
 * A connection has opened: it is counted as open until admission_close and
 * admitted if there is room (ADMISSION_OK), else the limit it is over.  Returns
 * -ENOMEM (as an int) when it could not even be counted; the caller then
 * refuses it and does not call admission_close.
 */
int admission_open(struct admission *a, const struct sockaddr *sa);

/* Tries again to admit an open connection that was not admitted. */
enum admission_verdict admission_admit(struct admission *a, const struct sockaddr *sa);

/* An open connection has closed; admitted says whether it had been admitted. */
void admission_close(struct admission *a, const struct sockaddr *sa, bool admitted);

/* Connections open and admitted, from sa (NULL: in all), for tests. */
void admission_counts(struct admission *a, const struct sockaddr *sa, unsigned *open,
		      unsigned *admitted);

#endif
