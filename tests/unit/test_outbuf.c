/*
 * test_outbuf.c - JSON string escaping (checked with an independent JSON
 * decoder and UTF-8 validator), integer formatting, buffer growth, fd
 * output and write errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/outbuf.h"

/* ------------------------------------------------------------------ */
/* Independent reference: decode one UTF-8 scalar value (RFC 3629). */

/* Returns the length of a valid sequence at s[0..n) and sets *cp, or 0. */
static size_t
ref_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t need;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2; v = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3; v = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4; v = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (need > n)
		return 0;
	for (size_t k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need;
}

/* Expected code points for raw input: valid sequences kept, each other byte U+FFFD. */
static size_t
ref_expect(const unsigned char *s, size_t n, uint32_t *out)
{
	size_t i = 0, m = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = ref_utf8(s + i, n - i, &cp);

		if (k == 0) {
			out[m++] = 0xfffd;
			i++;
		} else {
			out[m++] = cp;
			i += k;
		}
	}
	return m;
}

static int
hexdig(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode exactly one JSON string literal occupying all of p[0..n).
 * Fails the test on anything that is not valid JSON in valid UTF-8.
 * Returns the number of code points written to out.
 */
static size_t
json_decode(const char *p, size_t n, uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 1, m = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		fail_msg("not a JSON string (length %zu)", n);
	while (i < n - 1) {
		unsigned char c = s[i];

		if (c < 0x20)
			fail_msg("raw control byte 0x%02x at %zu", c, i);
		if (c == '"')
			fail_msg("unescaped quote at %zu", i);
		if (c != '\\') {
			uint32_t cp;
			size_t k = ref_utf8(s + i, n - 1 - i, &cp);

			if (k == 0)
				fail_msg("invalid UTF-8 in output at %zu (0x%02x)", i, c);
			out[m++] = cp;
			i += k;
			continue;
		}
		if (i + 1 >= n - 1)
			fail_msg("dangling backslash");
		c = s[i + 1];
		i += 2;
		switch (c) {
		case '"': out[m++] = '"'; break;
		case '\\': out[m++] = '\\'; break;
		case '/': out[m++] = '/'; break;
		case 'b': out[m++] = 8; break;
		case 'f': out[m++] = 12; break;
		case 'n': out[m++] = 10; break;
		case 'r': out[m++] = 13; break;
		case 't': out[m++] = 9; break;
		case 'u': {
			uint32_t v = 0;

			if (i + 4 > n - 1)
				fail_msg("short \\u escape");
			for (int k = 0; k < 4; k++) {
				int h = hexdig(s[i + k]);

				if (h < 0)
					fail_msg("bad hex in \\u escape");
				v = v << 4 | (uint32_t)h;
			}
			i += 4;
			if (v >= 0xdc00 && v <= 0xdfff)
				fail_msg("lone low surrogate escape");
			if (v >= 0xd800 && v <= 0xdbff) {
				uint32_t lo = 0;

				if (i + 6 > n - 1 || s[i] != '\\' || s[i + 1] != 'u')
					fail_msg("lone high surrogate escape");
				for (int k = 0; k < 4; k++) {
					int h = hexdig(s[i + 2 + k]);

					if (h < 0)
						fail_msg("bad hex in \\u escape");
					lo = lo << 4 | (uint32_t)h;
				}
				if (lo < 0xdc00 || lo > 0xdfff)
					fail_msg("bad surrogate pair");
				v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			out[m++] = v;
			break;
		}
		default:
			fail_msg("invalid escape \\%c", c);
		}
	}
	return m;
}

/* Escape s, check the output decodes to the reference; returns the output text. */
static char *
check_json(const char *s, size_t n, size_t *outlen)
{
	struct outbuf ob;
	uint32_t *want = malloc((n + 1) * sizeof(uint32_t));
	uint32_t *got = malloc((6 * n + 3) * sizeof(uint32_t));
	size_t nw, ng;
	char *text;

	assert_non_null(want);
	assert_non_null(got);
	ob_init(&ob, -1, 64);
	ob_put_json_str(&ob, s, n);
	nw = ref_expect((const unsigned char *)s, n, want);
	ng = json_decode(ob.p, ob.len, got);
	if (nw != ng)
		fail_msg("decoded %zu code points, want %zu", ng, nw);
	for (size_t k = 0; k < nw; k++)
		if (want[k] != got[k])
			fail_msg("code point %zu: got U+%04X, want U+%04X", k, got[k], want[k]);
	text = malloc(ob.len + 1);
	assert_non_null(text);
	memcpy(text, ob.p, ob.len);
	text[ob.len] = '\0';
	if (outlen)
		*outlen = ob.len;
	ob_free(&ob);
	free(want);
	free(got);
	return text;
}

/* ------------------------------------------------------------------ */

static void
test_escapes(void **state)
{
	char *t;
	size_t len;

	(void)state;
	t = check_json("", 0, &len);
	assert_string_equal(t, "\"\"");
	free(t);
	t = check_json("plain ASCII text [192.0.2.1] <a@b>", 34, NULL);
	assert_string_equal(t, "\"plain ASCII text [192.0.2.1] <a@b>\"");
	free(t);
	t = check_json("a\"b\\c\nd\re\tf", 11, NULL);
	assert_string_equal(t, "\"a\\\"b\\\\c\\nd\\re\\tf\"");
	free(t);
	t = check_json("/", 1, NULL);	/* '/' needs no escape; either form decodes right */
	free(t);
}

/* Every control byte 0x00..0x1f: \n \r \t short, the others \u00XX. */
static void
test_control_bytes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 0x20; c++) {
		char in[3] = { 'x', (char)c, 'y' };
		char want[16];
		char *t = check_json(in, 3, NULL);

		if (c == '\n')
			strcpy(want, "\"x\\ny\"");
		else if (c == '\r')
			strcpy(want, "\"x\\ry\"");
		else if (c == '\t')
			strcpy(want, "\"x\\ty\"");
		else {
			/* \u00XX, hex digits in either case */
			assert_int_equal(strlen(t), 10);
			assert_memory_equal(t, "\"x\\u00", 6);
			snprintf(want, sizeof(want), "%02x", c);
			if (strncasecmp(t + 6, want, 2) != 0)
				fail_msg("byte 0x%02x escaped as %s", c, t);
			assert_memory_equal(t + 8, "y\"", 2);
			free(t);
			continue;
		}
		assert_string_equal(t, want);
		free(t);
	}
}

/* DEL may stay raw or be escaped; either way the JSON decodes to U+007F. */
static void
test_del(void **state)
{
	size_t len;
	char *t;

	(void)state;
	t = check_json("a\x7f" "b", 3, &len);
	assert_true(strcmp(t, "\"a\x7f" "b\"") == 0 || strcasecmp(t, "\"a\\u007fb\"") == 0);
	free(t);
}

static void
test_nul_bytes(void **state)
{
	static const char in[] = { 'a', 0, 'b', 0, 0, 'c' };
	size_t len;
	char *t;

	(void)state;
	t = check_json(in, sizeof(in), &len);
	assert_int_equal(len, strlen("\"a\\u0000b\\u0000\\u0000c\""));
	assert_int_equal(strcasecmp(t, "\"a\\u0000b\\u0000\\u0000c\""), 0);
	free(t);
}

/* Valid 2/3/4-byte UTF-8 passes through byte for byte. */
static void
test_valid_utf8_passthrough(void **state)
{
	static const char *ok[] = {
		"\xc3\xa9t\xc3\xa9",			/* é */
		"\xc2\x80", "\xdf\xbf",			/* 2-byte bounds */
		"\xe2\x82\xac",				/* € */
		"\xe0\xa0\x80", "\xef\xbf\xbf",		/* 3-byte bounds */
		"\xed\x9f\xbf", "\xee\x80\x80",		/* around the surrogates */
		"\xef\xbf\xbd",				/* U+FFFD itself */
		"\xef\xbb\xbf",				/* BOM */
		"\xf0\x9f\x98\x80",			/* 😀 */
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",	/* 4-byte bounds */
		"M\xc3\xa4r \xd0\xbc\xd0\xb0\xd1\x8f \xe4\xb8\xad\xe6\x96\x87 \xf0\x9d\x84\x9e",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i]), len;
		char *t = check_json(ok[i], n, &len);

		assert_int_equal(len, n + 2);
		assert_memory_equal(t + 1, ok[i], n);
		free(t);
	}
}

struct badcase {
	const char *in;
	size_t n;
	const char *want;	/* with \ufffd written as "R" */
};

/* Invalid UTF-8: one U+FFFD per bad byte, the good bytes around it kept. */
static void
test_invalid_utf8(void **state)
{
	static const struct badcase bad[] = {
		{ "\x80", 1, "R" },
		{ "a\x80" "b", 3, "aRb" },
		{ "\xbf\xbf", 2, "RR" },
		{ "\xc0\xaf", 2, "RR" },			/* overlong '/' */
		{ "\xc1\xbf", 2, "RR" },
		{ "\xe0\x80\x80", 3, "RRR" },			/* overlong NUL */
		{ "\xe0\x9f\xbf", 3, "RRR" },
		{ "\xed\xa0\x80", 3, "RRR" },			/* surrogate D800 */
		{ "\xed\xbf\xbf", 3, "RRR" },			/* surrogate DFFF */
		{ "\xf0\x8f\xbf\xbf", 4, "RRRR" },		/* overlong 4-byte */
		{ "\xf4\x90\x80\x80", 4, "RRRR" },		/* > U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, "RRRR" },
		{ "\xf8\x88\x80\x80\x80", 5, "RRRRR" },
		{ "\xfe", 1, "R" },
		{ "\xff", 1, "R" },
		{ "x\xff" "y", 3, "xRy" },
		{ "\xc3", 1, "R" },				/* truncated at the end */
		{ "a\xe2\x82", 3, "aRR" },
		{ "\xf0\x9f\x98", 3, "RRR" },
		{ "\xe2\x82" "a", 3, "RRa" },			/* truncated in the middle */
		{ "\xc3" "\xc3\xa9", 3, "R\xc3\xa9" },		/* bad lead then a good é */
		{ "\xf0\x9f\x98\xc3\xa9", 5, "RRR\xc3\xa9" },
		{ "\xe2\x82\xac\x80", 4, "\xe2\x82\xac" "R" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len;
		char *t = check_json(bad[i].in, bad[i].n, &len);
		char want[128];
		size_t w = 0;

		/* the decoder check already compared code points; also the literal form */
		want[w++] = '"';
		for (const char *q = bad[i].want; *q; q++) {
			if (*q == 'R') {
				memcpy(want + w, "\\ufffd", 6);
				w += 6;
			} else
				want[w++] = *q;
		}
		want[w++] = '"';
		want[w] = '\0';
		if (strcasecmp(t, want) != 0) {
			/* the raw U+FFFD bytes are equally valid */
			char alt[128];
			size_t a = 0;

			alt[a++] = '"';
			for (const char *q = bad[i].want; *q; q++) {
				if (*q == 'R') {
					memcpy(alt + a, "\xef\xbf\xbd", 3);
					a += 3;
				} else
					alt[a++] = *q;
			}
			alt[a++] = '"';
			alt[a] = '\0';
			if (strcmp(t, alt) != 0)
				fail_msg("case %zu: got %s", i, t);
		}
		free(t);
	}
}

/* 100 KiB of random bytes (with some valid sequences mixed in). */
static void
test_random_bytes(void **state)
{
	const size_t n = 100 * 1024;
	unsigned char *s = malloc(n);
	uint64_t x = 0x853c49e6748fea9bull;
	size_t i = 0, len;
	char *t;

	(void)state;
	assert_non_null(s);
	while (i < n) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		switch (x % 8) {
		case 0:		/* a valid 2-, 3- or 4-byte sequence */
			if (i + 4 <= n) {
				uint32_t cp = (uint32_t)(x >> 8) % 0x110000;

				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xe000;
				if (cp < 0x80)
					cp += 0x80;
				if (cp < 0x800) {
					s[i++] = (unsigned char)(0xc0 | cp >> 6);
				} else if (cp < 0x10000) {
					s[i++] = (unsigned char)(0xe0 | cp >> 12);
					s[i++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				} else {
					s[i++] = (unsigned char)(0xf0 | cp >> 18);
					s[i++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
					s[i++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				}
				s[i++] = (unsigned char)(0x80 | (cp & 0x3f));
				break;
			}
			/* fall through */
		default:
			s[i++] = (unsigned char)(x >> 32);
		}
	}
	t = check_json((const char *)s, n, &len);	/* decodes, valid UTF-8, matches reference */
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)t[k] < 0x20)
			fail_msg("raw control byte at %zu", k);
	free(t);
	free(s);
}

/* Every 1- and 2-byte input, and every 3-byte input with a lead >= 0xe0. */
static void
test_exhaustive_short(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		char in[1] = { (char)a };

		free(check_json(in, 1, NULL));
		for (unsigned b = 0; b < 256; b++) {
			char in2[2] = { (char)a, (char)b };

			free(check_json(in2, 2, NULL));
		}
	}
	for (unsigned a = 0xe0; a < 0x100; a++)
		for (unsigned b = 0x70; b < 0xc8; b++)
			for (unsigned c = 0x70; c < 0xc8; c += 3) {
				char in3[3] = { (char)a, (char)b, (char)c };

				free(check_json(in3, 3, NULL));
			}
}

static void
test_integers(void **state)
{
	static const uint64_t u[] = {
		0, 1, 9, 10, 99, 100, 4294967295u, 4294967296u, 9999999999999999999u,
		10000000000000000000u, UINT64_MAX, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1,
	};
	static const int64_t s[] = {
		0, 1, -1, 9, -9, 10, -10, INT32_MIN, INT32_MAX, INT64_MAX, INT64_MIN,
		INT64_MIN + 1, -1000000000000000000,
	};
	struct outbuf ob;
	char want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		ob_init(&ob, -1, 4);
		ob_put_u64(&ob, u[i]);
		snprintf(want, sizeof(want), "%" PRIu64, u[i]);
		assert_int_equal(ob.len, strlen(want));
		assert_memory_equal(ob.p, want, ob.len);
		ob_free(&ob);
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		ob_init(&ob, -1, 4);
		ob_put_i64(&ob, s[i]);
		snprintf(want, sizeof(want), "%" PRId64, s[i]);
		assert_int_equal(ob.len, strlen(want));
		assert_memory_equal(ob.p, want, ob.len);
		ob_free(&ob);
	}
	/* explicit spellings of the extremes */
	ob_init(&ob, -1, 0);
	ob_put_i64(&ob, INT64_MIN);
	ob_putc(&ob, ' ');
	ob_put_u64(&ob, UINT64_MAX);
	ob_putc(&ob, ' ');
	ob_put_i64(&ob, INT64_MAX);
	assert_int_equal(ob.len, strlen("-9223372036854775808 18446744073709551615 9223372036854775807"));
	assert_memory_equal(ob.p, "-9223372036854775808 18446744073709551615 9223372036854775807", ob.len);
	ob_free(&ob);

	/* every power of ten and its neighbours */
	uint64_t p = 1;
	for (int k = 0; k < 20; k++, p *= 10) {
		for (int d = -1; d <= 1; d++) {
			uint64_t v = p + (uint64_t)(int64_t)d;

			ob_init(&ob, -1, 1);
			ob_put_u64(&ob, v);
			snprintf(want, sizeof(want), "%" PRIu64, v);
			assert_int_equal(ob.len, strlen(want));
			assert_memory_equal(ob.p, want, ob.len);
			ob_put_i64(&ob, -(int64_t)(v >> 1));
			ob_free(&ob);
		}
	}
}

/* A memory buffer grows past its initial capacity and keeps every byte. */
static void
test_growth(void **state)
{
	struct outbuf ob;
	char *ref = malloc(1 << 20);
	size_t rl = 0;

	(void)state;
	assert_non_null(ref);
	ob_init(&ob, -1, 8);
	for (unsigned i = 0; i < 20000; i++) {
		char num[32];
		int k = snprintf(num, sizeof(num), "%u,", i);

		ob_put(&ob, num, (size_t)k);
		memcpy(ref + rl, num, (size_t)k);
		rl += (size_t)k;
		ob_putc(&ob, '"');
		ref[rl++] = '"';
		ob_put_json_str(&ob, "a\n", 2);
		memcpy(ref + rl, "\"a\\n\"", 5);
		rl += 5;
		OB_LIT(&ob, ";");
		ref[rl++] = ';';
	}
	assert_int_equal(ob.len, rl);
	assert_true(ob.cap >= ob.len);
	assert_memory_equal(ob.p, ref, rl);
	assert_int_equal(ob_flush(&ob), 0);	/* memory only: no-op */
	assert_int_equal(ob.len, rl);
	ob_free(&ob);

	/* one item far larger than the buffer */
	ob_init(&ob, -1, 16);
	memset(ref, 'z', 300000);
	ob_put_json_str(&ob, ref, 300000);
	assert_int_equal(ob.len, 300002);
	assert_int_equal(ob.p[0], '"');
	assert_int_equal(ob.p[300001], '"');
	assert_memory_equal(ob.p + 1, ref, 300000);
	ob_put(&ob, ref, 100000);
	assert_int_equal(ob.len, 400002);
	ob_free(&ob);
	free(ref);
}

/* A CSV field of n bytes, as a NUL-terminated copy. */
static char *
csv_of(const char *in, size_t n)
{
	struct outbuf ob;
	char *t;

	ob_init(&ob, -1, 16);
	ob_put_csv_str(&ob, in, n);
	t = malloc(ob.len + 1);
	assert_non_null(t);
	memcpy(t, ob.p, ob.len);
	t[ob.len] = '\0';
	ob_free(&ob);
	return t;
}

/* CSV fields: quotes doubled, control bytes a space, invalid UTF-8 U+FFFD, formulas defused. */
static void
test_csv(void **state)
{
	static const struct { const char *in; size_t n; const char *want; } cases[] = {
		{ "", 0, "\"\"" },
		{ "mail.example.org", 16, "\"mail.example.org\"" },
		{ "a\"b,c", 5, "\"a\"\"b,c\"" },
		{ "x\ny\rz\tw\x1b[31m\x7f", 13, "\"x y z w [31m \"" },
		{ "n\0ul", 4, "\"n ul\"" },
		{ "=HYPERLINK(\"http://x\")", 22, "\"'=HYPERLINK(\"\"http://x\"\")\"" },
		{ "+1", 2, "\"'+1\"" },
		{ "-2", 2, "\"'-2\"" },
		{ "@SUM(A1)", 8, "\"'@SUM(A1)\"" },
		{ "a=b", 3, "\"a=b\"" },
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
		{ "\xff\xfe" "a\xc3", 4, "\"\xef\xbf\xbd\xef\xbf\xbd" "a\xef\xbf\xbd\"" },
		{ "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },	/* a surrogate is not UTF-8 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = csv_of(cases[i].in, cases[i].n);

		assert_string_equal(t, cases[i].want);
		free(t);
	}
	/*
	 * Random bytes: the field read back (quotes undoubled, the defusing '
	 * dropped) decodes to the same code points as the input does by the
	 * reference decoder (invalid bytes U+FFFD), control characters a space.
	 */
	srand(7);
	for (int r = 0; r < 20000; r++) {
		unsigned char in[64], back[3 * 64 + 3];
		uint32_t want[64], got[3 * 64 + 3];
		size_t n = (size_t)(rand() % 64), len, b = 0, nw, ng;
		char *t;

		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)rand();
		if (r % 4 == 0 && n > 0)
			in[0] = "=+-@"[r / 4 % 4];
		t = csv_of((const char *)in, n);
		len = strlen(t);
		assert_true(len >= 2 && t[0] == '"' && t[len - 1] == '"');
		for (size_t i = 1; i + 1 < len; i++) {
			assert_true((unsigned char)t[i] >= 0x20 && (unsigned char)t[i] != 0x7f);
			if (t[i] == '"') {
				assert_true(t[i + 1] == '"');	/* doubled, never a lone quote */
				i++;
			}
			back[b++] = (unsigned char)t[i];
		}
		if (n > 0 && in[0] != 0 && strchr("=+-@", in[0])) {
			assert_true(b > 0 && back[0] == '\'');
			memmove(back, back + 1, --b);
		}
		nw = ref_expect(in, n, want);
		ng = ref_expect(back, b, got);
		assert_int_equal(ng, nw);
		for (size_t k = 0; k < nw; k++)
			assert_int_equal(got[k], want[k] < 0x20 || want[k] == 0x7f ? ' ' : want[k]);
		free(t);
	}
}

/* With a real fd: small buffer, many writes, everything arrives in order. */
static void
test_fd_output(void **state)
{
	char path[] = "/tmp/mxg_outbuf_XXXXXX";
	int fd = mkstemp(path);
	struct outbuf ob;
	char *ref = malloc(1 << 20), *back = malloc(1 << 20);
	size_t rl = 0;
	ssize_t got;

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(ref);
	assert_non_null(back);
	unlink(path);
	ob_init(&ob, fd, 64);
	for (unsigned i = 0; i < 10000; i++) {
		char num[32];
		int k = snprintf(num, sizeof(num), "%u:", i);

		ob_put(&ob, num, (size_t)k);
		memcpy(ref + rl, num, (size_t)k);
		rl += (size_t)k;
		ob_put_json_str(&ob, "\xc3\xa9\t", 3);
		memcpy(ref + rl, "\"\xc3\xa9\\t\"", 6);
		rl += 6;
		if (i % 1000 == 0) {	/* one item bigger than the buffer */
			memset(num, 'q', 20);
			for (int r = 0; r < 10; r++) {
				ob_put(&ob, num, 20);
				memcpy(ref + rl, num, 20);
				rl += 20;
			}
			ob_put_json_str(&ob, ref, 100);
			char *t = check_json(ref, 100, NULL);
			memcpy(ref + rl, t, strlen(t));
			rl += strlen(t);
			free(t);
		}
	}
	assert_int_equal(ob_flush(&ob), 0);
	assert_int_equal(ob.err, 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	got = read(fd, back, 1 << 20);
	assert_int_equal(got, (ssize_t)rl);
	assert_memory_equal(back, ref, rl);
	ob_free(&ob);
	close(fd);
	free(ref);
	free(back);
}

/* A write error is remembered and reported; later writes are dropped. */
static void
test_write_error(void **state)
{
	int fd = open("/dev/null", O_RDONLY);
	struct outbuf ob;

	(void)state;
	assert_true(fd >= 0);
	ob_init(&ob, fd, 32);
	OB_LIT(&ob, "hello");
	assert_int_equal(ob_flush(&ob), -1);
	assert_int_equal(ob.err, EBADF);
	assert_int_equal(errno, EBADF);
	/* more output: no crash, no unbounded growth, error stays */
	for (int i = 0; i < 100000; i++)
		OB_LIT(&ob, "0123456789");
	assert_true(ob.cap < 1000000);
	assert_int_equal(ob_flush(&ob), -1);
	assert_int_equal(ob.err, EBADF);
	ob_free(&ob);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_valid_utf8_passthrough),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_fd_output),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_csv),
	};

	return cmocka_run_group_tests_name("outbuf", tests, NULL, NULL);
}
