/*
 * basic_auth.h - HTTP basic authentication against bcrypt hashes, as the
 * exporter-toolkit's basic_auth_users.
 *
 * bcrypt is slow on purpose (tens of milliseconds at cost 10), and Prometheus
 * sends the same credentials on every scrape, so a successful check is
 * remembered: a digest of user, password and hash goes into a small table and
 * the next identical request skips bcrypt.  Failures are never remembered.  An
 * unknown user still costs one bcrypt, so timing does not reveal which users
 * exist.  Thread-safe.
 */
#ifndef SHMETRICS_EXPORTER_BASIC_AUTH_H
#define SHMETRICS_EXPORTER_BASIC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "webconfig.h"

struct basic_auth;

/* users must outlive the object.  NULL on out of memory. */
struct basic_auth *basic_auth_new(const struct web_user *users, size_t n);
void basic_auth_free(struct basic_auth *a);

/* True when user exists and password matches its hash. */
bool basic_auth_check(struct basic_auth *a, const char *user, const char *password);

#endif
