/*
 * ipfmt.h - IP addresses and prefixes written the way node_exporter writes them
 * (Go's net.IP and net.IPNet String methods), so label values match.
 *
 * That differs from inet_ntop(3) in two places: an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is written as plain a.b.c.d, and an IPv6 address whose first
 * 96 bits are zero is written in hex (::102:304), never as ::1.2.3.4.
 */
#ifndef SHMETRICS_IPFMT_H
#define SHMETRICS_IPFMT_H

#include <stddef.h>

#define IPFMT_MAX 64 /* enough for any address, "/128" and the NUL */

/* ip[0..len) (4 or 16 bytes) into out[IPFMT_MAX]; "" when len is 0, "?" plus
 * hex for any other length (as Go does).  Returns out. */
char *ipfmt_addr(char *out, const unsigned char *ip, size_t len);

/*
 * "ADDR/PREFIX" for a route destination of prefix bits, as Go's IPNet with a
 * CIDR mask: an IPv4-mapped address takes a 32-bit mask, and when the prefix
 * does not fit the mask Go writes "<nil>".  Returns out.
 */
char *ipfmt_prefix(char *out, const unsigned char *ip, size_t len, unsigned prefix);

#endif
