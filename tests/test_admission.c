/*
 * test_admission.c - the exporter's connection limits by client address
 * (exporter/admission.c), without sockets: who is admitted, who waits, who is
 * closed at accept, and that the counts come back to zero.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../exporter/admission.h"

static struct sockaddr_in6 v6(const char *text)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
	return sa;
}

static struct sockaddr_in v4(const char *text)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
	return sa;
}

#define SA(x) ((const struct sockaddr *)&(x))

static struct admission *limits(unsigned per_addr, unsigned total, unsigned per_reserve,
				unsigned total_reserve)
{
	struct admission_limits lim = { per_addr, total, per_reserve, total_reserve };
	struct admission *a = admission_new(&lim);
	assert_non_null(a);
	return a;
}

static void expect_counts(struct admission *a, const struct sockaddr *sa, unsigned open,
			  unsigned admitted)
{
	unsigned o, ad;
	admission_counts(a, sa, &o, &ad);
	assert_int_equal(o, open);
	assert_int_equal(ad, admitted);
}

static void test_exactly_the_limit_is_admitted_per_address(void **unused)
{
	struct admission *a = limits(16, 64, 4, 16);
	struct sockaddr_in one = v4("127.0.0.1"), two = v4("127.0.0.2");

	(void)unused;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(admission_accept(a, SA(one)), ADMISSION_OK);
		assert_int_equal(admission_open(a, SA(one)), ADMISSION_OK);
	}
	/* the 17th opens (within the reserve) but is not admitted */
	assert_int_equal(admission_accept(a, SA(one)), ADMISSION_OK);
	assert_int_equal(admission_open(a, SA(one)), ADMISSION_PER_ADDR);
	assert_int_equal(admission_admit(a, SA(one)), ADMISSION_PER_ADDR);
	expect_counts(a, SA(one), 17, 16);
	/* another address is not affected */
	assert_int_equal(admission_open(a, SA(two)), ADMISSION_OK);
	/* one admitted connection closes: the waiting one is admitted at its request */
	admission_close(a, SA(one), true);
	assert_int_equal(admission_admit(a, SA(one)), ADMISSION_OK);
	expect_counts(a, SA(one), 16, 16);
	expect_counts(a, NULL, 17, 17);
	admission_free(a);
}

static void test_beyond_the_reserve_a_connection_is_closed_at_accept(void **unused)
{
	struct admission *a = limits(2, 64, 4, 16);
	struct sockaddr_in6 x = v6("2001:db8::1");

	(void)unused;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(admission_accept(a, SA(x)), ADMISSION_OK);
		assert_int_equal(admission_open(a, SA(x)),
				 i < 2 ? ADMISSION_OK : ADMISSION_PER_ADDR);
	}
	assert_int_equal(admission_accept(a, SA(x)), ADMISSION_PER_ADDR);
	admission_close(a, SA(x), false);
	assert_int_equal(admission_accept(a, SA(x)), ADMISSION_OK);
	admission_free(a);
}

static void test_the_total_limit_counts_every_address(void **unused)
{
	struct admission *a = limits(4, 3, 4, 2);
	char text[32];

	(void)unused;
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "10.0.0.%d", i + 1);
		struct sockaddr_in sa = v4(text);
		assert_int_equal(admission_accept(a, SA(sa)), ADMISSION_OK);
		assert_int_equal(admission_open(a, SA(sa)), i < 3 ? ADMISSION_OK : ADMISSION_TOTAL);
	}
	struct sockaddr_in late = v4("10.0.0.9");
	assert_int_equal(admission_accept(a, SA(late)), ADMISSION_TOTAL);
	expect_counts(a, NULL, 5, 3);
	admission_free(a);
}

/* A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d: one address. */
static void test_ipv4_and_its_mapped_ipv6_form_are_one_address(void **unused)
{
	struct admission *a = limits(1, 64, 4, 16);
	struct sockaddr_in plain = v4("192.0.2.7");
	struct sockaddr_in6 mapped = v6("::ffff:192.0.2.7");

	(void)unused;
	assert_int_equal(admission_open(a, SA(plain)), ADMISSION_OK);
	assert_int_equal(admission_open(a, SA(mapped)), ADMISSION_PER_ADDR);
	expect_counts(a, SA(plain), 2, 1);
	admission_free(a);
}

/* Many addresses come and go: the table grows, entries are removed without
 * losing the others, and every count returns to zero. */
static void test_counts_survive_many_addresses_opening_and_closing(void **unused)
{
	enum { N = 3000 };
	struct admission *a = limits(2, 100000, 4, 16);
	char text[64];

	(void)unused;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			snprintf(text, sizeof text, "2001:db8::%x:%x", i / 7, i % 7);
			struct sockaddr_in6 sa = v6(text);
			assert_int_equal(admission_open(a, SA(sa)), ADMISSION_OK);
			assert_int_equal(admission_open(a, SA(sa)), ADMISSION_OK);
		}
		for (int i = 0; i < N; i += 2) { /* every other one closes both */
			snprintf(text, sizeof text, "2001:db8::%x:%x", i / 7, i % 7);
			struct sockaddr_in6 sa = v6(text);
			admission_close(a, SA(sa), true);
			admission_close(a, SA(sa), true);
		}
		for (int i = 1; i < N; i += 2) { /* the others are all still there */
			snprintf(text, sizeof text, "2001:db8::%x:%x", i / 7, i % 7);
			struct sockaddr_in6 sa = v6(text);
			expect_counts(a, SA(sa), 2, 2);
			admission_close(a, SA(sa), true);
			admission_close(a, SA(sa), true);
		}
		expect_counts(a, NULL, 0, 0);
	}
	admission_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exactly_the_limit_is_admitted_per_address),
		cmocka_unit_test(test_beyond_the_reserve_a_connection_is_closed_at_accept),
		cmocka_unit_test(test_the_total_limit_counts_every_address),
		cmocka_unit_test(test_ipv4_and_its_mapped_ipv6_form_are_one_address),
		cmocka_unit_test(test_counts_survive_many_addresses_opening_and_closing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
