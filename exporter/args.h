/*
 * args.h - the exporter's command-line value parsers (docs/processes.md).
 * They return 0 or -EINVAL with a message naming the flag value in err.
 */
#ifndef SHMETRICS_EXPORTER_ARGS_H
#define SHMETRICS_EXPORTER_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* "500ms", "5s", "1m", "1h", and sums of them in decreasing units: "1m30s". */
int args_parse_duration_ms(const char *s, uint64_t *ms, char *err, size_t errlen);

/* "HOST:PORT", "[IPV6]:PORT" or ":PORT" (host "" = every interface). */
int args_parse_listen_address(const char *s, char *host, size_t hostlen, uint16_t *port, char *err,
			      size_t errlen);

/* A decimal unsigned integer in [min, max]. */
int args_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out, char *err,
		    size_t errlen);

/* A size in bytes: digits with an optional unit, B, KiB, MiB, GiB (or k, M, G
 * as powers of 1024).  -EINVAL with the reason in err. */
int args_parse_bytes(const char *s, uint64_t *bytes, char *err, size_t errlen);

#endif
