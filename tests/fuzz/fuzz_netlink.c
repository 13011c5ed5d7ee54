/*
 * fuzz_netlink - libFuzzer harness: a kernel reply of any shape, walked as the
 * netlink collectors walk theirs (collectors/util/nlsock.h): nl_walk over the
 * datagram; for each message its attributes read behind family headers of the
 * sizes the collectors use, every attribute read as u8/u16/u32/u64/string and
 * as an address, and nests followed (to a bounded depth) with nl_iter; the link
 * messages fed to ifnames as the route and qdisc collectors do.  Nothing may
 * read outside the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ifnames.h"
#include "util/ipfmt.h"
#include "util/nlsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void read_attr(const struct nl_attr *a, int depth)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char s[64], ip[IPFMT_MAX];

	sink += nl_get_u8(a, &u8) ? u8 : 0;
	sink += nl_get_u16(a, &u16) ? u16 : 0;
	sink += nl_get_u32(a, &u32) ? u32 : 0;
	sink += nl_get_u64(a, &u64) ? u64 : 0;
	sink += nl_get_str(a, s, sizeof s) ? strlen(s) : 0;
	if (a->data && (a->len == 4 || a->len == 16)) {
		sink += strlen(ipfmt_addr(ip, a->data, a->len));
		sink += strlen(ipfmt_prefix(ip, a->data, a->len, a->data[0]));
	}
	if (depth < 4) {
		struct nl_iter it = nl_iter_of(a);
		struct nl_attr inner;
		uint16_t type;
		while (nl_iter_next(&it, &type, &inner))
			read_attr(&inner, depth + 1);
	}
}

static int on_msg(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	static const size_t hdrlens[] = { 4, 8, 12, 16,
					  20 }; /* genl, ifaddr, rtmsg, ifinfo, tcmsg */
	struct nl_attr tb[64];

	for (size_t h = 0; h < sizeof hdrlens / sizeof hdrlens[0]; h++)
		if (nl_msg_attrs(nh, hdrlens[h], tb, 64))
			for (size_t i = 0; i < 64; i++)
				read_attr(&tb[i], 0);
	return ifnames_add_msg(ctx, nh, err, errlen) == -ENOMEM ? -ENOMEM : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifnames names = { 0 };
	char err[256];
	bool done = false;
	/* The kernel's replies are 4-byte aligned; so is this copy. */
	uint32_t *buf = malloc(size + 4);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nl_walk(buf, size, 0, on_msg, &names, &done, err, sizeof err);
	for (size_t i = 0; i < names.n; i++)
		sink += ifnames_find(&names, names.v[i].index) != NULL;
	ifnames_free(&names);
	free(buf);
	return 0;
}
