/*
 * Why not printf: "%.15g" plus a strtod() check per value dominated rendering
 * (about a microsecond per sample).  The fixed-point path below finds the fewest
 * fractional digits d such that n / 10^d == v, with n an integer below 2^53.
 * Both n and 10^d (d <= 17) are exact doubles and IEEE division rounds
 * correctly, so n / 10^d is the double nearest the decimal n * 10^-d, which is
 * exactly what strtod() returns for that decimal: the text round-trips.
 */
#include "numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_INT_LIMIT     9007199254740992.0 /* 2^53 */
#define MAX_FRACTION_DIGITS 17
#define FIXED_MIN           1e-4 /* below this %g's exponent form is shorter */

static const double pow10_table[MAX_FRACTION_DIGITS + 1] = {
	1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
	1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
};

static const char digit_pairs[] = "00010203040506070809"
				  "10111213141516171819"
				  "20212223242526272829"
				  "30313233343536373839"
				  "40414243444546474849"
				  "50515253545556575859"
				  "60616263646566676869"
				  "70717273747576777879"
				  "80818283848586878889"
				  "90919293949596979899";

size_t numfmt_u64(char *out, uint64_t u)
{
	char tmp[20];
	size_t i = sizeof tmp;

	while (u >= 100) {
		unsigned r = (unsigned)(u % 100) * 2;
		u /= 100;
		tmp[--i] = digit_pairs[r + 1];
		tmp[--i] = digit_pairs[r];
	}
	if (u >= 10) {
		tmp[--i] = digit_pairs[u * 2 + 1];
		tmp[--i] = digit_pairs[u * 2];
	} else {
		tmp[--i] = (char)('0' + u);
	}
	size_t n = sizeof tmp - i;
	memcpy(out, tmp + i, n);
	return n;
}

static size_t put_int(char *out, double v)
{
	size_t n = 0;

	if (signbit(v)) { /* keeps -0 as "-0", like "%.0f" */
		out[n++] = '-';
		v = -v;
	}
	n += numfmt_u64(out + n, (uint64_t)v);
	out[n] = '\0';
	return n;
}

/* The magnitude m = n / 10^d written with d fractional digits. */
static size_t put_fixed(char *out, bool negative, uint64_t n, int d)
{
	char digits[24];
	size_t len = numfmt_u64(digits, n), pos = 0;

	if (negative)
		out[pos++] = '-';
	if (len <= (size_t)d) { /* 0.00ddd */
		out[pos++] = '0';
		out[pos++] = '.';
		memset(out + pos, '0', (size_t)d - len);
		pos += (size_t)d - len;
		memcpy(out + pos, digits, len);
		pos += len;
	} else {
		size_t whole = len - (size_t)d;
		memcpy(out + pos, digits, whole);
		pos += whole;
		out[pos++] = '.';
		memcpy(out + pos, digits + whole, (size_t)d);
		pos += (size_t)d;
	}
	out[pos] = '\0';
	return pos;
}

/* Returns 0 when no short fixed-point form round-trips. */
static size_t try_fixed(char *out, double v)
{
	double a = v < 0 ? -v : v;

	if (a < FIXED_MIN || a >= EXACT_INT_LIMIT)
		return 0;
	for (int d = 1; d <= MAX_FRACTION_DIGITS; d++) {
		double scaled = a * pow10_table[d];
		if (scaled >= EXACT_INT_LIMIT)
			return 0;
		/* any nearby integer will do: the division below is the check */
		uint64_t n = (uint64_t)(scaled + 0.5);
		if ((double)n / pow10_table[d] == a)
			return put_fixed(out, v < 0, n, d);
	}
	return 0;
}

static size_t put_round_trip(char *out, double v)
{
	for (int prec = 15; prec < 17; prec++) {
		snprintf(out, NUMFMT_MAX, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return strlen(out);
	}
	snprintf(out, NUMFMT_MAX, "%.17g", v);
	return strlen(out);
}

static size_t put_special(char *out, double v)
{
	const char *s = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
	size_t n = strlen(s);

	memcpy(out, s, n + 1);
	return n;
}

size_t numfmt_value(char *out, double v)
{
	if (!isfinite(v))
		return put_special(out, v);
	if (v > -9223372036854775808.0 && v < 9223372036854775808.0 && v == (double)(int64_t)v)
		return put_int(out, v);
	size_t n = try_fixed(out, v);
	return n ? n : put_round_trip(out, v);
}

size_t numfmt_canonical(char *out, double v)
{
	size_t n = numfmt_value(out, v);

	if (isfinite(v) && !memchr(out, '.', n) && !memchr(out, 'e', n)) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return n;
}
