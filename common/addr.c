/*
 * addr.c - hand-written address parsing and printing.
 *
 * Why not inet_pton/inet_ntop: the log text is not NUL-terminated, these
 * run for nearly every parsed line, and glibc's inet_ntop goes through
 * sprintf. Both functions here are straight-line byte loops; the unit tests
 * compare them against inet_pton/inet_ntop.
 */
#include "addr.h"

#include <string.h>

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Strict dotted quad: four decimal parts 0..255, no leading zeros. One pass,
 * each part read as up to three digits by hand: this runs for nearly every
 * line, so it is a straight line of compares rather than a general loop.
 */
static inline unsigned
digit_at(const unsigned char *p, const unsigned char *end)
{
	return p < end ? (unsigned)(*p - '0') : 10;	/* > 9: not a digit */
}

static int
parse_v4(const char *s, size_t n, uint8_t out[4])
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	for (int part = 0; part < 4; part++) {
		unsigned v, d;

		if (part > 0) {
			if (p == end || *p != '.')
				return 0;
			p++;
		}
		if ((v = digit_at(p, end)) > 9)
			return 0;
		p++;
		if ((d = digit_at(p, end)) <= 9) {
			if (v == 0)
				return 0;	/* leading zero */
			v = v * 10 + d;
			p++;
			if ((d = digit_at(p, end)) <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255 || digit_at(p, end) <= 9)
					return 0;
			}
		}
		out[part] = (uint8_t)v;
	}
	return p == end;
}

static int
parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	} else if (n > 0 && s[0] == ':')
		return 0;

	for (;;) {
		size_t start = i;
		unsigned v = 0;
		int h;

		if (ng >= 8)
			return 0;
		while (i < n && (h = hexval((unsigned char)s[i])) >= 0) {
			v = (v << 4) | (unsigned)h;
			if (i - start >= 4)
				return 0;
			i++;
		}
		if (i < n && s[i] == '.') {
			/* Embedded IPv4 tail: takes two groups, must be last. */
			uint8_t q[4];

			if (ng > 6 || !parse_v4(s + start, n - start, q))
				return 0;
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (i == start)
			return 0;
		g[ng++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return 0;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return 0;	/* two "::" */
			gap = ng;
			i++;
			if (i == n)
				break;
		} else if (i == n)
			return 0;		/* trailing single ':' */
	}
done:
	if (gap < 0 ? ng != 8 : ng > 7)
		return 0;
	memset(out, 0, 16);
	if (gap < 0)
		gap = ng;
	for (int k = 0; k < gap; k++) {
		out[2 * k] = (uint8_t)(g[k] >> 8);
		out[2 * k + 1] = (uint8_t)g[k];
	}
	for (int k = gap; k < ng; k++) {
		int pos = 8 - (ng - k);

		out[2 * pos] = (uint8_t)(g[k] >> 8);
		out[2 * pos + 1] = (uint8_t)g[k];
	}
	return 1;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
addr_parse(const char *s, size_t n, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (n == 0 || n > 45 + 5)
		return 0;
	if (n <= 15 && parse_v4(s, n, a->b)) {
		a->family = 4;	/* the common case first: a dotted quad */
		return 1;
	}
	if (n > 5 && (s[0] | 0x20) == 'i' && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (!parse_v6(s, n, a->b))
		return 0;
	if (memcmp(a->b, v4mapped, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = 4;
	} else
		a->family = 6;
	return 1;
}

static char *
put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

size_t
addr_format(const struct addr *a, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	if (a->family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_dec(p, a->b[i]);
		}
	} else if (a->family == 6) {
		int best = -1, bestlen = 0;

		/* RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the first on a tie. */
		for (int i = 0; i < 8;) {
			int j = i;

			while (j < 8 && a->b[2 * j] == 0 && a->b[2 * j + 1] == 0)
				j++;
			if (j - i > bestlen && j - i >= 2) {
				best = i;
				bestlen = j - i;
			}
			i = j > i ? j : i + 1;
		}
		for (int i = 0; i < 8; i++) {
			unsigned v;
			int started = 0;

			if (i == best) {
				*p++ = ':';
				*p++ = ':';
				i += bestlen - 1;
				continue;
			}
			if (i > 0 && !(best >= 0 && i == best + bestlen))
				*p++ = ':';
			v = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
			for (int sh = 12; sh >= 0; sh -= 4) {
				unsigned d = (v >> sh) & 0xf;

				if (d || started || sh == 0) {
					*p++ = hex[d];
					started = 1;
				}
			}
		}
	}
	*p = '\0';
	return (size_t)(p - buf);
}

int
addr_is_loopback(const struct addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == 4)
		return a->b[0] == 127;
	if (a->family == 6)
		return memcmp(a->b, v6lo, 16) == 0;
	return 0;
}
