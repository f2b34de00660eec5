/*
 * feed_parse.c - reading reputation feed files (see feed_parse.h; the
 * formats are documented in docs/REPUTATION.md, "Feed file formats").
 *
 * Why by hand: a feed can hold millions of lines and is read again at
 * every update, so the per-line path is byte loops over a buffer read
 * whole (no stdio, no sscanf), with addr_parse for the addresses. Every
 * line is checked as text first (bounded length, no NUL or control bytes,
 * valid UTF-8), so nothing after that sees binary garbage.
 *
 * rbldnsd zones are read so that mxguard's lookup rule (the most specific
 * prefix wins, the later of two identical prefixes wins, an excluded
 * winner means not listed) gives the answers rbldnsd gives. rbldnsd's own
 * rules differ in two places, fixed up after the last line:
 *  - ip4trie and ip6trie keep the FIRST of two identical prefixes (they
 *    warn "duplicated entry"): later duplicates are dropped;
 *  - ip4set stores entries at four granularities (/8, /16, /24, /32: a
 *    /20 becomes sixteen /24s) and, within the most specific granularity
 *    that has an entry covering an address, an exclusion wins over every
 *    inclusion, whatever their order and lengths: an inclusion that lies
 *    inside an exclusion of its own granularity is dropped.
 * Where several ip4set inclusions of one granularity cover an address,
 * rbldnsd answers with all their values; an entry has one value, and the
 * most specific (then the later) one is kept.
 */
#include "feed_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/addr.h"
#include "../common/hugepages.h"
#include "../common/xalloc.h"

#define LINE_MAX_BYTES	4096		/* a longer line is an error, not a truncation */
#define MAX_ENTRIES	(1u << 23)	/* 8,388,608: more is refused (ranges split can multiply lines) */
#define MAX_FILE_BYTES	(512u << 20)	/* a feed file larger than this is refused */
#define RBL_DEFAULT_A	0x7f000002u	/* rbldnsd's A value when a zone gives none: 127.0.0.2 */
#define NO_MAXRANGE	(1ull << 33)	/* larger than any IPv4 range */
#define JSON_DEPTH	16		/* nesting allowed in a value we skip */

static const char *const format_names[] = {
	[FEED_CSV] = "csv",
	[FEED_LIST] = "list",
	[FEED_DROP] = "drop",
	[FEED_DROP_JSON] = "drop-json",
	[FEED_IP4SET] = "ip4set",
	[FEED_IP4TRIE] = "ip4trie",
	[FEED_IP6TRIE] = "ip6trie",
};
#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

int
feed_format_by_name(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
feed_format_name(enum feed_format f)
{
	return (unsigned)f < NFORMATS ? format_names[f] : "unknown";
}

void
feed_data_free(struct feed_data *d)
{
	free(d->e);
	d->e = NULL;
	d->n = d->cap = 0;
}

/* One read: where we are, and what the file's earlier lines set. */
struct ctx {
	const char *name;
	enum feed_format fmt;
	int64_t mtime;
	struct feed_data *out;
	size_t start;		/* out->n when this read began: the fix-ups touch only what it added */
	uint32_t line;
	char *err;
	size_t errlen;
	int seen_data;		/* CSV: a line other than blank or comment was read (no header after it) */
	/* rbldnsd zones */
	uint32_t defval;	/* the A value of entries that give none */
	uint64_t maxrange;	/* $MAXRANGE4: larger IPv4 entries are skipped */
	int64_t ts_expires;	/* $TIMESTAMP's expiry for every entry; 0: none */
	int excluded_seen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "NAME:LINE: message" into the caller's buffer; returns -1. */
static int
fail(struct ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: %s", c->name, c->line, msg);
	return -1;
}

/* How much of n bytes of (valid UTF-8) text to quote in a message: at most 48, not inside a character. */
static int
clip(const char *s, size_t n)
{
	if (n <= 48)
		return (int)n;
	n = 48;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

static inline int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static inline int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static void
trim(const char **s, const char **end)
{
	while (*s < *end && is_blank(**s))
		(*s)++;
	while (*end > *s && is_blank((*end)[-1]))
		(*end)--;
}

/* ----------------------------------------------------------- text --- */

/* The length of the UTF-8 character at s (at most n bytes), or 0 if it is not one (RFC 3629: no overlongs, no surrogates). */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;	/* the allowed range of the second byte */

	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (b == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90;	/* overlong */
		else if (b == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A line is text: printable ASCII, tabs and valid UTF-8. Anything else says the file is not a feed. */
static int
check_text(struct ctx *c, const char *line, size_t n)
{
	const unsigned char *s = (const unsigned char *)line;

	for (size_t i = 0; i < n;) {
		unsigned char b = s[i];
		size_t k;

		if ((b >= 0x20 && b < 0x7f) || b == '\t') {
			i++;
			continue;
		}
		if (b == 0)
			return fail(c, "NUL byte at column %zu: not a text file", i + 1);
		if (b < 0x80)
			return fail(c, "control character 0x%02x at column %zu", b, i + 1);
		if ((k = utf8_char(s + i, n - i)) == 0)
			return fail(c, "invalid UTF-8 at column %zu", i + 1);
		i += k;
	}
	return 0;
}

/* ------------------------------------------------------- prefixes --- */

static void
clear_host_bits(struct feed_entry *e)
{
	addr_mask(&e->addr, e->plen);
}

/*
 * Set the prefix length of an address addr_parse read. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) comes back as IPv4 (mxguard keys such a
 * client as IPv4), but its length was written in IPv6 terms: /96 and
 * longer become the IPv4 prefix it covers; a shorter one covers more than
 * IPv4 space and stays IPv6.
 */
static void
set_prefix(struct feed_entry *e, int plen, int mapped)
{
	if (mapped && plen < 96) {
		uint8_t v4[4];

		memcpy(v4, e->addr.b, 4);
		memset(e->addr.b, 0, 16);
		e->addr.b[10] = e->addr.b[11] = 0xff;
		memcpy(e->addr.b + 12, v4, 4);
		e->addr.family = 6;
	} else if (mapped)
		plen -= 96;
	e->plen = (uint8_t)plen;
	clear_host_bits(e);
}

/* Digits s..end as a prefix length 0..max; -1 if not that. */
static int
parse_len(const char *s, const char *end, int max)
{
	int v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (!is_digit(*s) || (v = v * 10 + (*s - '0')) > max)
			return -1;
	}
	return v;
}

/* "ADDR" or "ADDR/LEN" (IPv4 or IPv6, n bytes) into e; host bits cleared. 0, or -1 with the message set. */
static int
parse_prefix(struct ctx *c, const char *s, size_t n, struct feed_entry *e)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	int mapped, max, plen;

	/* (addr_parse also takes Sendmail's "IPv6:" tag, which has no place in a feed) */
	if (alen == 0 || (s[0] | 0x20) == 'i' || !addr_parse(s, alen, &e->addr))
		return fail(c, "'%.*s' is not an IPv4 or IPv6 address", clip(s, alen), s);
	mapped = e->addr.family == 4 && memchr(s, ':', alen) != NULL;
	max = e->addr.family == 4 && !mapped ? 32 : 128;
	plen = max;
	if (slash && (plen = parse_len(slash + 1, s + n, max)) < 0)
		return fail(c, "'%.*s': the prefix length must be 0..%d", clip(s, n), s, max);
	set_prefix(e, plen, mapped);
	return 0;
}

static void
new_entry(struct ctx *c, struct feed_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->risk = e->spam = e->vol = FEED_SCORE_NONE;
	e->line = c->line;
}

static int
push(struct ctx *c, const struct feed_entry *e)
{
	struct feed_data *d = c->out;

	if (d->n - c->start >= MAX_ENTRIES)
		return fail(c, "more than %u entries: refused", MAX_ENTRIES);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->e = xrealloc(d->e, d->cap * sizeof(*d->e));
	}
	d->e[d->n++] = *e;
	return 0;
}

/* ------------------------------------------------------------ time --- */

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[m - 1] + (m == 2 && is_leap(y));
}

/* Seconds since 1970-01-01 00:00:00 UTC of a valid date and time, year 1970..9999. */
static int64_t
utc_seconds(int y, int mo, int d, int h, int mi, int s)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	int64_t py = y - 1;	/* leap days before year y, minus those before 1970 (477) */
	int64_t days = 365 * (int64_t)(y - 1970) + (py / 4 - py / 100 + py / 400) - 477;

	days += before[mo - 1] + (mo > 2 && is_leap(y)) + d - 1;
	return ((days * 24 + h) * 60 + mi) * 60 + s;
}

/* Exactly n digits at *p (not past end) as a number; -1 if not. */
static int
digits(const char **p, const char *end, int n)
{
	int v = 0;

	if (end - *p < n)
		return -1;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!is_digit(**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/*
 * A CSV expiry: "YYYY-MM-DDTHH:MM[:SS]" in UTC, said by a final "Z" or
 * "+00:00" (a local time or another offset is refused: a feed is read on
 * machines in any zone), or a plain number of seconds after mtime.
 */
static int
parse_expiry(struct ctx *c, const char *s, const char *end, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0;

	if (s == end) {
		*out = 0;
		return 0;
	}
	if (memchr(s, '-', (size_t)(end - s)) == NULL) {
		int64_t v = 0;

		for (; p < end; p++) {
			if (!is_digit(*p) || v > (INT64_MAX - 9) / 10)
				goto bad;
			v = v * 10 + (*p - '0');
		}
		if (v > (int64_t)100 * 366 * 86400 || c->mtime > INT64_MAX - v)
			return fail(c, "expiry '%.*s' seconds is more than a hundred years", clip(s, (size_t)(end - s)), s);
		*out = c->mtime + v;
		return 0;
	}
	if ((y = digits(&p, end, 4)) < 0 || p == end || *p++ != '-' || (mo = digits(&p, end, 2)) < 0 ||
	    p == end || *p++ != '-' || (d = digits(&p, end, 2)) < 0 || p == end || (*p != 'T' && *p != 't'))
		goto bad;
	p++;
	if ((h = digits(&p, end, 2)) < 0 || p == end || *p++ != ':' || (mi = digits(&p, end, 2)) < 0)
		goto bad;
	if (p < end && *p == ':') {
		p++;
		if ((sec = digits(&p, end, 2)) < 0)
			goto bad;
	}
	if (p < end && (*p == 'Z' || *p == 'z'))
		p++;
	else if (end - p == 6 && memcmp(p, "+00:00", 6) == 0)
		p += 6;
	else if (p == end || ((*p == '+' || *p == '-') && end - p == 6))
		return fail(c, "expiry '%.*s' must be UTC: end it with Z (or +00:00)", clip(s, (size_t)(end - s)), s);
	else
		goto bad;
	if (p != end)
		goto bad;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
		return fail(c, "expiry '%.*s' is not a valid date and time", clip(s, (size_t)(end - s)), s);
	*out = utc_seconds(y, mo, d, h, mi, sec);
	return 0;
bad:
	return fail(c, "expiry '%.*s' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z",
	    clip(s, (size_t)(end - s)), s);
}

/* ------------------------------------------------------------- CSV --- */

static int
parse_score(struct ctx *c, const char *s, const char *end, int max, const char *what, int8_t *out)
{
	int v = 0;

	if (s == end) {
		*out = FEED_SCORE_NONE;
		return 0;
	}
	for (const char *p = s; p < end; p++) {
		if (!is_digit(*p) || (v = v * 10 + (*p - '0')) > max)
			return fail(c, "%s '%.*s' must be 0..%d or empty", what, clip(s, (size_t)(end - s)), s, max);
	}
	*out = (int8_t)v;
	return 0;
}

/* A CSV header's first field: a word ("prefix", "network"), nothing like a mistyped address. */
static int
looks_like_header(const char *s, const char *end)
{
	if (s == end || !(*s == '"' || ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
		return 0;
	for (; s < end; s++)
		if (*s == '.' || *s == ':' || *s == '/')
			return 0;
	return 1;
}

static int
parse_csv(struct ctx *c, const char *s, const char *end)
{
	const char *f[5], *fe[5];
	const char *p = s;
	struct feed_entry e;
	int nf = 0;

	if (s == end || *s == '#')
		return 0;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p)), *q = comma ? comma : end;

		if (nf == 5)
			return fail(c, "more than 5 fields: expected prefix,risk,spam,vol[,expires]");
		f[nf] = p;
		fe[nf] = q;
		trim(&f[nf], &fe[nf]);
		nf++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	new_entry(c, &e);
	if (parse_prefix(c, f[0], (size_t)(fe[0] - f[0]), &e) < 0) {
		if (!c->seen_data && looks_like_header(f[0], fe[0])) {
			c->seen_data = 1;
			return 0;
		}
		return -1;
	}
	c->seen_data = 1;
	if (nf < 4)
		return fail(c, "%d field%s: expected prefix,risk,spam,vol[,expires]", nf, nf == 1 ? "" : "s");
	if (parse_score(c, f[1], fe[1], 10, "risk", &e.risk) < 0 ||
	    parse_score(c, f[2], fe[2], 100, "spam", &e.spam) < 0 ||
	    parse_score(c, f[3], fe[3], 100, "vol", &e.vol) < 0 ||
	    (nf == 5 && parse_expiry(c, f[4], fe[4], &e.expires) < 0))
		return -1;
	return push(c, &e);
}

/* ------------------------------------------------- list and DROP --- */

/* One prefix alone on a line, comment already cut (the list and the DROP formats). */
static int
parse_single(struct ctx *c, const char *s, const char *end)
{
	struct feed_entry e;
	const char *q;

	trim(&s, &end);
	if (s == end)
		return 0;
	for (q = s; q < end && !is_blank(*q); q++)
		;
	if (q < end) {
		const char *r = q;

		while (is_blank(*r))
			r++;
		return fail(c, "one prefix per line: '%.*s' after '%.*s'", clip(r, (size_t)(end - r)), r,
		    clip(s, (size_t)(q - s)), s);
	}
	new_entry(c, &e);
	if (parse_prefix(c, s, (size_t)(end - s), &e) < 0)
		return -1;
	return push(c, &e);
}

/* ------------------------------------------------------- DROP JSON --- */

/*
 * Spamhaus's JSON lines: each line one object. A strict scanner of just
 * what the format needs: the top-level "cidr" member's string (escapes
 * decoded, so "1.2.3.0\/24" reads right), the "type" of the metadata
 * line, and every other value checked and skipped. Nesting is bounded.
 */
struct js {
	const char *p, *end;
	const char *why;	/* what was wrong, for the message */
};

static void
js_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int
hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = s[i];
		int d = is_digit(ch) ? ch - '0' : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10 : -1;

		if (d < 0)
			return 0;
		*v = *v << 4 | (unsigned)d;
	}
	return 1;
}

/*
 * The string at j->p (at its opening quote), checked; its decoded bytes
 * into out (cap bytes; *len is set past cap when it is longer). 0 or -1.
 */
static int
js_string(struct js *j, char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"') {
		j->why = "expected a string";
		return -1;
	}
	j->p++;
	for (;;) {
		char buf[4];
		size_t k = 1;
		unsigned u;

		if (j->p >= j->end) {
			j->why = "unterminated string";
			return -1;
		}
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if ((unsigned char)*j->p < 0x20) {
			j->why = "control character in a string";
			return -1;
		}
		buf[0] = *j->p++;
		if (buf[0] == '\\') {
			if (j->p >= j->end) {
				j->why = "unterminated string";
				return -1;
			}
			switch (*j->p++) {
			case '"': buf[0] = '"'; break;
			case '\\': buf[0] = '\\'; break;
			case '/': buf[0] = '/'; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u':
				if (j->end - j->p < 4 || !hex4(j->p, &u)) {
					j->why = "bad \\u escape";
					return -1;
				}
				j->p += 4;
				if (u >= 0xdc00 && u <= 0xdfff) {
					j->why = "lone low surrogate in a \\u escape";
					return -1;
				}
				if (u >= 0xd800 && u <= 0xdbff) {
					unsigned lo;

					if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || !hex4(j->p + 2, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff) {
						j->why = "high surrogate without its low half in a \\u escape";
						return -1;
					}
					j->p += 6;
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (u < 0x80)
					buf[0] = (char)u;
				else if (u < 0x800) {
					buf[0] = (char)(0xc0 | u >> 6);
					buf[1] = (char)(0x80 | (u & 0x3f));
					k = 2;
				} else if (u < 0x10000) {
					buf[0] = (char)(0xe0 | u >> 12);
					buf[1] = (char)(0x80 | (u >> 6 & 0x3f));
					buf[2] = (char)(0x80 | (u & 0x3f));
					k = 3;
				} else {
					buf[0] = (char)(0xf0 | u >> 18);
					buf[1] = (char)(0x80 | (u >> 12 & 0x3f));
					buf[2] = (char)(0x80 | (u >> 6 & 0x3f));
					buf[3] = (char)(0x80 | (u & 0x3f));
					k = 4;
				}
				break;
			default:
				j->why = "unknown escape in a string";
				return -1;
			}
		}
		if (out != NULL && n + k <= cap)
			memcpy(out + n, buf, k);
		n += k;
	}
	*len = n;
	return 0;
}

static int
js_number(struct js *j)
{
	const char *p = j->p, *end = j->end;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && is_digit(*p))
			p++;
	else
		goto bad;
	if (p < end && *p == '.') {
		if (++p >= end || !is_digit(*p))
			goto bad;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			goto bad;
		while (p < end && is_digit(*p))
			p++;
	}
	j->p = p;
	return 0;
bad:
	j->why = "bad number";
	return -1;
}

/* Check and step over one value (at j->p, blanks skipped); depth bounds the nesting. */
static int
js_skip(struct js *j, int depth)
{
	size_t len;
	char close;

	if (j->p >= j->end) {
		j->why = "missing value";
		return -1;
	}
	switch (*j->p) {
	case '"':
		return js_string(j, NULL, 0, &len);
	case 't':
	case 'f':
	case 'n': {
		static const char *const lits[] = { "true", "false", "null" };

		for (int i = 0; i < 3; i++) {
			size_t n = strlen(lits[i]);

			if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lits[i], n) == 0) {
				j->p += n;
				return 0;
			}
		}
		j->why = "unknown literal";
		return -1;
	}
	case '[':
	case '{':
		break;
	default:
		return js_number(j);
	}
	if (depth >= JSON_DEPTH) {
		j->why = "nested too deep";
		return -1;
	}
	close = *j->p == '[' ? ']' : '}';
	j->p++;
	js_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (js_string(j, NULL, 0, &len) < 0)
				return -1;
			js_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				j->why = "expected ':'";
				return -1;
			}
			j->p++;
			js_ws(j);
		}
		if (js_skip(j, depth + 1) < 0)
			return -1;
		js_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			js_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		j->why = close == '}' ? "expected ',' or '}'" : "expected ',' or ']'";
		return -1;
	}
}

static int
parse_drop_json(struct ctx *c, const char *s, const char *end)
{
	struct js j = { s, end, NULL };
	char cidr[64], key[16], type[16];
	size_t cidrlen = 0, klen, tlen;
	int have_cidr = 0, metadata = 0;
	struct feed_entry e;

	js_ws(&j);
	if (j.p == end)
		return 0;
	if (*j.p != '{')
		return fail(c, "invalid JSON line: expected an object");
	j.p++;
	js_ws(&j);
	if (j.p < end && *j.p == '}')
		j.p++;
	else {
		for (;;) {
			if (js_string(&j, key, sizeof(key), &klen) < 0)
				goto bad;
			js_ws(&j);
			if (j.p >= end || *j.p != ':') {
				j.why = "expected ':'";
				goto bad;
			}
			j.p++;
			js_ws(&j);
			if (klen == 4 && memcmp(key, "cidr", 4) == 0) {
				if (have_cidr)
					return fail(c, "two \"cidr\" members in one object");
				if (j.p >= end || *j.p != '"')
					return fail(c, "\"cidr\" is not a string");
				if (js_string(&j, cidr, sizeof(cidr), &cidrlen) < 0)
					goto bad;
				if (cidrlen > sizeof(cidr))
					return fail(c, "\"cidr\" is too long to be a prefix (%zu bytes)", cidrlen);
				have_cidr = 1;
			} else if (klen == 4 && memcmp(key, "type", 4) == 0 && j.p < end && *j.p == '"') {
				if (js_string(&j, type, sizeof(type), &tlen) < 0)
					goto bad;
				metadata = tlen == 8 && memcmp(type, "metadata", 8) == 0;
			} else if (js_skip(&j, 1) < 0)
				goto bad;
			js_ws(&j);
			if (j.p < end && *j.p == ',') {
				j.p++;
				js_ws(&j);
				continue;
			}
			if (j.p < end && *j.p == '}') {
				j.p++;
				break;
			}
			j.why = "expected ',' or '}'";
			goto bad;
		}
	}
	js_ws(&j);
	if (j.p != end)
		return fail(c, "invalid JSON line: text after the object at column %zu", (size_t)(j.p - s) + 1);
	if (metadata)
		return 0;
	if (!have_cidr)
		return fail(c, "no \"cidr\" member in the object");
	new_entry(c, &e);
	if (parse_prefix(c, cidr, cidrlen, &e) < 0)
		return -1;
	return push(c, &e);
bad:
	return fail(c, "invalid JSON line: %s at column %zu", j.why, (size_t)(j.p - s) + 1);
}

/* -------------------------------------------------- rbldnsd zones --- */

/*
 * An rbldnsd time: digits and an optional unit s, m, h, d or w (any
 * case); the seconds must fit 32 bits.
 */
static int
rbl_time(const char *s, const char *end, uint32_t *out)
{
	uint64_t v = 0, mult = 1;

	if (s == end || !is_digit(*s))
		return 0;
	for (; s < end && is_digit(*s); s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return 0;
	if (s < end) {
		switch (*s++ | 0x20) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 604800; break;
		default: return 0;
		}
	}
	if (s != end || v * mult > UINT32_MAX)
		return 0;
	*out = (uint32_t)(v * mult);
	return 1;
}

/*
 * A $TIMESTAMP date: yyyy then month, day and optionally hour, minute,
 * second, each two digits, or one or two after a ':' or '-'. UTC.
 */
static int
rbl_date(const char *s, const char *end, int64_t *out)
{
	int f[6] = { 0, 1, 1, 0, 0, 0 }, nf;
	const char *p = s;

	if ((f[0] = digits(&p, end, 4)) < 0)
		return 0;
	for (nf = 1; nf < 6 && p < end; nf++) {
		int v = 0, n = 0;

		if (*p == ':' || *p == '-') {
			p++;
			for (; p < end && is_digit(*p) && n < 2; n++, p++)
				v = v * 10 + (*p - '0');
			if (n == 0)
				return 0;
		} else if ((v = digits(&p, end, 2)) < 0)
			return 0;
		f[nf] = v;
	}
	if (p != end || nf < 3 || f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > month_days(f[0], f[1]) ||
	    f[3] > 23 || f[4] > 59 || f[5] > 59)
		return 0;
	*out = utc_seconds(f[0], f[1], f[2], f[3], f[4], f[5]);
	return 1;
}

/* Split s..end at blanks into at most max words; the number found (max + 1 when there are more). */
static int
words(const char *s, const char *end, const char **w, const char **we, int max)
{
	int n = 0;

	for (;;) {
		while (s < end && is_blank(*s))
			s++;
		if (s == end)
			return n;
		if (n == max)
			return max + 1;
		w[n] = s;
		while (s < end && !is_blank(*s))
			s++;
		we[n++] = s;
	}
}

/*
 * A special line ("$KEYWORD args", p after the '$'). NULL if it was
 * understood (and applied), else what is wrong with it.
 */
static const char *
rbl_special(struct ctx *c, const char *p, const char *end)
{
	const char *w[9], *we[9], *kw = p;
	int n;
	uint32_t t;

	if (p < end && (is_digit(*p) || *p == '=') && (p + 1 == end || is_blank(p[1])))
		return NULL;	/* $n and $= : TXT substitutions, and TXT is not kept */
	while (p < end && !is_blank(*p))
		p++;
	n = words(p, end, w, we, 8);
#define KW(lit) ((size_t)(p - kw) == sizeof(lit) - 1 && strncasecmp(kw, lit, sizeof(lit) - 1) == 0)
	if (KW("TTL"))
		return n == 1 && rbl_time(w[0], we[0], &t) ? NULL : "$TTL wants one time (e.g. 35m)";
	if (KW("SOA")) {
		const char *q;

		if (n != 8)	/* (first: w[3] is not set on a shorter line) */
			return "$SOA wants: ttl origin person serial refresh retry expire minttl";
		for (q = w[3]; q < we[3] && is_digit(*q); q++)
			;
		if (!rbl_time(w[0], we[0], &t) || q != we[3] || q - w[3] > 10 ||
		    !rbl_time(w[4], we[4], &t) || !rbl_time(w[5], we[5], &t) || !rbl_time(w[6], we[6], &t) ||
		    !rbl_time(w[7], we[7], &t))
			return "$SOA wants: ttl origin person serial refresh retry expire minttl";
		return NULL;
	}
	if (KW("NS"))
		return n >= 2 && rbl_time(w[0], we[0], &t) ? NULL : "$NS wants: ttl nameserver...";
	if (KW("MAXRANGE4")) {
		uint64_t v = 0;
		const char *q = w[0];
		int plen;

		if (n != 1)
			return "$MAXRANGE4 wants one size: /LEN (1..32) or a number of addresses";
		if (*q == '/') {
			if ((plen = parse_len(q + 1, we[0], 32)) < 1)
				return "$MAXRANGE4 /LEN wants a length 1..32";
			v = 1ull << (32 - plen);
		} else {
			for (; q < we[0]; q++)
				if (!is_digit(*q) || (v = v * 10 + (uint64_t)(*q - '0')) > UINT32_MAX)
					return "$MAXRANGE4 wants /LEN or a number of addresses 1..4294967295";
			if (v == 0)
				return "$MAXRANGE4 wants /LEN or a number of addresses 1..4294967295";
		}
		if (v < c->maxrange)
			c->maxrange = v;	/* (rbldnsd lowers it, never raises it) */
		return NULL;
	}
	if (KW("TIMESTAMP")) {
		int64_t stamp = 0, expires = 0;
		const char *e;

		if (n < 1 || n > 2)
			return "$TIMESTAMP wants: stamp [expires]";
		if (!((we[0] - w[0] == 1 && (*w[0] == '0' || *w[0] == '-')) || rbl_date(w[0], we[0], &stamp)))
			return "$TIMESTAMP's stamp is not yyyy:mm:dd[:hh[:mi[:ss]]]";
		if (n == 2) {
			e = w[1];
			if (we[1] - e == 1 && (*e == '0' || *e == '-'))
				expires = 0;
			else if (*e == '+') {
				if (stamp == 0 || !rbl_time(e + 1, we[1], &t))
					return "$TIMESTAMP's +expires wants a stamp and a time";
				expires = stamp + t;
			} else if (!rbl_date(e, we[1], &expires))
				return "$TIMESTAMP's expires is not yyyy:mm:dd[:hh[:mi[:ss]]] or +time";
		}
		/* rbldnsd ignores a stamp in the future (the line only: the data is served, without expiry) */
		if (stamp > (int64_t)time(NULL))
			return NULL;
		if (expires != 0 && (c->ts_expires == 0 || expires < c->ts_expires))
			c->ts_expires = expires;
		return NULL;
	}
	if (KW("DATASET"))
		return "$DATASET belongs in a 'combined' zone, which is not a feed format";
#undef KW
	return "unknown special (known: $SOA $NS $TTL $TIMESTAMP $MAXRANGE4 $0-$9 $=)";
}

/*
 * An A value after its ':' (p at the colon): 1 to 4 dotted decimal parts
 * of 0..255: N is 127.0.0.N, a.b is a.0.0.b, a.b.c is a.b.0.c, a.b.c.d
 * itself; 0 and 0.0.0.0 are refused. It ends at a second ':' (a TXT
 * template follows) or at the end of the line.
 */
static int
rbl_value(struct ctx *c, const char *p, const char *end, uint32_t *out)
{
	const char *s = ++p;
	const char *aend;
	uint32_t part[4];
	int np = 0;

	while (p < end && np < 4) {
		uint32_t v = 0;
		int nd = 0;

		for (; p < end && is_digit(*p); p++, nd++)
			if ((v = v * 10 + (uint32_t)(*p - '0')) > 255)
				goto bad;
		if (nd == 0)
			goto bad;
		part[np++] = v;
		if (p < end && *p == '.')
			p++;
		else
			break;
	}
	if (np == 0 || (p > s && p[-1] == '.'))
		goto bad;
	switch (np) {
	case 1: *out = part[0] == 0 ? 0 : 0x7f000000u | part[0]; break;
	case 2: *out = part[0] << 24 | part[1]; break;
	case 3: *out = part[0] << 24 | part[1] << 16 | part[2]; break;
	default: *out = part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3]; break;
	}
	if (*out == 0)
		goto bad;
	for (aend = p; p < end && is_blank(*p); p++)
		;
	if (p < end && *p != ':')
		return fail(c, "text after the A value '%.*s': a TXT template goes after a second ':'",
		    clip(s, (size_t)(aend - s)), s);
	return 0;
bad:
	while (p < end && *p != ':' && !is_blank(*p))
		p++;
	return fail(c, "invalid A value '%.*s' (N, a.b, a.b.c or a.b.c.d, not 0)", clip(s, (size_t)(p - s)), s);
}

/* "a[.b[.c[.d]]]": 1..4 decimal parts 0..255, leading zeros allowed; the missing parts are 0. Parts, or 0. */
static int
ip4_parts(const char *s, const char *end, uint32_t *a)
{
	int np = 0;

	*a = 0;
	while (np < 4) {
		uint32_t v = 0;
		int nd = 0;

		for (; s < end && is_digit(*s); s++, nd++)
			if ((v = v * 10 + (uint32_t)(*s - '0')) > 255)
				return 0;
		if (nd == 0)
			return 0;
		*a |= v << (24 - 8 * np++);
		if (s == end)
			return np;
		if (*s++ != '.')
			return 0;
	}
	return 0;
}

static int
push_ip4(struct ctx *c, uint32_t a, int plen, int excluded, uint32_t value)
{
	struct feed_entry e;

	new_entry(c, &e);
	e.addr.family = 4;
	e.addr.b[0] = (uint8_t)(a >> 24);
	e.addr.b[1] = (uint8_t)(a >> 16);
	e.addr.b[2] = (uint8_t)(a >> 8);
	e.addr.b[3] = (uint8_t)a;
	e.plen = (uint8_t)plen;
	e.excluded = (uint8_t)excluded;
	e.value = excluded ? 0 : value;
	return push(c, &e);
}

/*
 * An IPv4 entry of ip4set or ip4trie: "a.b.c.d", an abbreviated prefix
 * ("10.1" is 10.1.0.0/16), "PREFIX/LEN" (host bits cleared, as rbldnsd -e
 * does), or in ip4set only a range "FIRST-LAST": LAST has as many parts
 * as FIRST (its missing parts are 255) or one (it replaces FIRST's last
 * part). The addresses it covers: *first..*last.
 */
static int
rbl_ip4(struct ctx *c, const char *s, const char *end, uint64_t *first, uint64_t *last)
{
	const char *dash = memchr(s, '-', (size_t)(end - s)), *slash = memchr(s, '/', (size_t)(end - s));
	uint32_t a, b;
	int k, plen;

	if (dash != NULL) {
		int k2;

		if (c->fmt != FEED_IP4SET)
			return fail(c, "'%.*s': ranges are for ip4set zones; ip4trie takes prefixes",
			    clip(s, (size_t)(end - s)), s);
		if (slash != NULL || (k = ip4_parts(s, dash, &a)) == 0 || (k2 = ip4_parts(dash + 1, end, &b)) == 0)
			return fail(c, "'%.*s' is not an IPv4 range (FIRST-LAST)", clip(s, (size_t)(end - s)), s);
		if (k2 == k)
			*last = (uint64_t)b | (0xffffffffull >> (8 * k));
		else if (k2 == 1) {
			int shift = 8 * (4 - k);

			*last = ((uint64_t)a & ~(0xffull << shift)) | ((uint64_t)b >> 24 << shift) | ((1ull << shift) - 1);
		} else
			return fail(c, "'%.*s': a range's end has as many parts as its start, or one",
			    clip(s, (size_t)(end - s)), s);
		*first = a;
		if (*last < *first)
			return fail(c, "'%.*s': the range ends before it starts", clip(s, (size_t)(end - s)), s);
	} else {
		if ((k = ip4_parts(s, slash ? slash : end, &a)) == 0)
			return fail(c, "'%.*s' is not an IPv4 address or prefix", clip(s, (size_t)(end - s)), s);
		plen = 8 * k;
		if (slash != NULL && (plen = parse_len(slash + 1, end, 32)) < 0)
			return fail(c, "'%.*s': the prefix length must be 0..32", clip(s, (size_t)(end - s)), s);
		if (plen == 0 && c->fmt == FEED_IP4SET)
			return fail(c, "'%.*s': ip4set takes no /0 (rbldnsd refuses it; use 0/1 and 128/1)",
			    clip(s, (size_t)(end - s)), s);
		*first = plen == 0 ? 0 : a & (0xffffffffu << (32 - plen));
		*last = *first + (1ull << (32 - plen)) - 1;
	}
	return 0;
}

/* Entries for the addresses first..last: the fewest prefixes that cover them exactly. */
static int
push_range(struct ctx *c, uint64_t first, uint64_t last, int excluded, uint32_t value)
{
	int plen;

	if (last - first + 1 > c->maxrange)
		return 0;	/* rbldnsd skips it (with a warning) */
	while (first <= last) {
		/* the largest block aligned at first that ends by last */
		plen = 32;
		while (plen > 0 && (first & ((1ull << (33 - plen)) - 1)) == 0 && first + (1ull << (33 - plen)) - 1 <= last)
			plen--;
		if (push_ip4(c, (uint32_t)first, plen, excluded, value) < 0)
			return -1;
		first += 1ull << (32 - plen);
	}
	return 0;
}

/*
 * An ip6trie prefix: an IPv6 address, where without "::" trailing zero
 * groups may be left out ("2001:db8:1" is 2001:db8:1::/48: the length is
 * 16 per group written, and at least two groups are needed without an
 * explicit /LEN). No dotted-quad tail (rbldnsd refuses it).
 */
static int
rbl_ip6(struct ctx *c, const char *s, const char *end, struct feed_entry *e)
{
	const char *slash = memchr(s, '/', (size_t)(end - s)), *aend = slash ? slash : end;
	size_t alen = (size_t)(aend - s);
	char buf[64];
	int groups = 1, plen = 128, mapped;

	if (alen == 0 || alen > 45)
		goto bad;
	memcpy(buf, s, alen);
	if (memmem(s, alen, "::", 2) == NULL) {
		for (const char *p = s; p < aend; p++)
			groups += *p == ':';
		if (groups < 8) {
			if ((groups < 2 && slash == NULL) || s[alen - 1] == ':')
				goto bad;
			memcpy(buf + alen, "::", 2);
			alen += 2;
			plen = 16 * groups;
		}
	}
	new_entry(c, e);
	if (!addr_parse(buf, alen, &e->addr))
		goto bad;
	if (slash != NULL && (plen = parse_len(slash + 1, end, 128)) < 0)
		return fail(c, "'%.*s': the prefix length must be 0..128", clip(s, (size_t)(end - s)), s);
	mapped = e->addr.family == 4;	/* ::ffff:a00:1 is an IPv4 client to mxguard */
	set_prefix(e, plen, mapped);
	return 0;
bad:
	return fail(c, "'%.*s' is not an IPv6 address or prefix", clip(s, (size_t)(end - s)), s);
}

static int
parse_rbldnsd(struct ctx *c, const char *p, const char *end)
{
	const char *tok, *q;
	uint32_t value = c->defval;
	int excluded = 0, v6 = c->fmt == FEED_IP6TRIE;
	struct feed_entry e;
	uint64_t first = 0, last = 0;

	while (p < end && is_blank(*p))
		p++;
	if (p == end)
		return 0;
	/* "$", and "#$" ";$" ":$" (the forms other tools skip as comments) start a special */
	if (*p == '$' || (end - p > 1 && p[1] == '$' && (*p == '#' || *p == ';' || *p == ':'))) {
		int lenient = *p == '#' || *p == ';';
		const char *why = rbl_special(c, p + (*p == '$' ? 1 : 2), end);

		/* A comment line that happens to start with "#$" (a "#$Id$" tag) stays a comment. */
		if (why != NULL && !lenient)
			return fail(c, "%s", why);
		return 0;
	}
	if (*p == '#' || *p == ';')
		return 0;
	/* a default value line, but in ip6trie "::1" is an address */
	if (*p == ':' && !(v6 && end - p > 1 && p[1] == ':')) {
		if (rbl_value(c, p, end, &value) < 0)
			return -1;
		c->defval = value;
		return 0;
	}
	if (*p == '!') {
		excluded = 1;
		for (p++; p < end && is_blank(*p); p++)
			;
	}
	tok = p;
	for (q = p; q < end; q++) {
		char ch = *q;

		if (!(is_digit(ch) || ch == '/' || (!v6 && (ch == '.' || ch == '-')) ||
		    (v6 && (ch == ':' || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')))))
			break;
	}
	if (q == tok || (q < end && !is_blank(*q) && *q != ':')) {
		while (q < end && !is_blank(*q))
			q++;
		return fail(c, "'%.*s' is not an %s entry", clip(tok, (size_t)(q - tok)), tok,
		    v6 ? "IPv6" : "IPv4");
	}
	/* the address first, then its value: errors come in the order of the text */
	if (v6 ? rbl_ip6(c, tok, q, &e) < 0 : rbl_ip4(c, tok, q, &first, &last) < 0)
		return -1;
	if (!excluded) {
		const char *r = q;

		while (r < end && is_blank(*r))
			r++;
		/* ":A[:TXT]" gives the A value; '#' or ';' a comment; anything else is a TXT template alone */
		if (r < end && *r == ':' && rbl_value(c, r, end, &value) < 0)
			return -1;
	}
	if (excluded)
		c->excluded_seen = 1;
	if (!v6)
		return push_range(c, first, last, excluded, excluded ? 0 : value);
	e.excluded = (uint8_t)excluded;
	e.value = excluded ? 0 : value;
	return push(c, &e);
}

/* ---------------------------------------------- after the last line --- */

/* A set of prefixes of the entries (open addressing; slots hold index + 1). */
struct pset {
	const struct feed_entry *e;
	uint32_t *slot;
	size_t mask;
};

static size_t
prefix_hash(const struct feed_entry *e)
{
	uint64_t a, b, h;

	memcpy(&a, e->addr.b, 8);
	memcpy(&b, e->addr.b + 8, 8);
	h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)e->plen << 8 | e->addr.family)) * 0xff51afd7ed558ccdull;
	return (size_t)(h ^ (h >> 31));
}

static int
same_prefix(const struct feed_entry *x, const struct feed_entry *y)
{
	return x->plen == y->plen && x->addr.family == y->addr.family && memcmp(x->addr.b, y->addr.b, 16) == 0;
}

static void
pset_init(struct pset *s, const struct feed_entry *e, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	s->e = e;
	s->slot = xcalloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
}

/* The slot where k's prefix is, or the empty slot where it would go. */
static uint32_t *
pset_slot(const struct pset *s, const struct feed_entry *k)
{
	for (size_t i = prefix_hash(k) & s->mask;; i = (i + 1) & s->mask)
		if (s->slot[i] == 0 || same_prefix(&s->e[s->slot[i] - 1], k))
			return &s->slot[i];
}

/* ip4trie, ip6trie: of identical prefixes rbldnsd keeps the first; the lookup rule keeps the last. */
static size_t
keep_first_duplicates(struct feed_entry *e, size_t n)
{
	struct pset s;
	size_t w = 0;

	pset_init(&s, e, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t *slot = pset_slot(&s, &e[i]);

		if (*slot != 0)
			continue;
		e[w] = e[i];
		*slot = (uint32_t)w + 1;
		w++;
	}
	free(s.slot);
	return w;
}

/* The ip4set granularity of an IPv4 prefix length: rbldnsd stores /1../8 as /8s, /9../16 as /16s... */
static int
band(int plen)
{
	return plen <= 8 ? 8 : (plen + 7) & ~7;
}

/*
 * ip4set: drop every inclusion that lies inside an exclusion of the same
 * granularity (see the top of this file). The exclusions go in a set;
 * each inclusion of length p looks up the lengths of its band up to p.
 */
static size_t
drop_excluded_in_band(struct feed_entry *e, size_t n)
{
	struct pset s;
	struct feed_entry *excl;	/* (a copy: the loop below moves the entries) */
	size_t w = 0, nexcl = 0;

	for (size_t i = 0; i < n; i++)
		nexcl += e[i].excluded;
	excl = xmalloc(nexcl * sizeof(*excl));
	pset_init(&s, excl, nexcl);
	nexcl = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].excluded) {
			uint32_t *slot = pset_slot(&s, &e[i]);

			if (*slot == 0) {
				excl[nexcl] = e[i];
				*slot = (uint32_t)++nexcl;
			}
		}
	for (size_t i = 0; i < n; i++) {
		int drop = 0;

		if (!e[i].excluded) {
			struct feed_entry k = e[i];
			int g = band(e[i].plen);

			for (int q = g == 8 ? 0 : g - 7; q <= e[i].plen && !drop; q++) {
				k.plen = (uint8_t)q;
				memcpy(k.addr.b, e[i].addr.b, 4);
				clear_host_bits(&k);
				drop = *pset_slot(&s, &k) != 0;
			}
		}
		if (!drop)
			e[w++] = e[i];
	}
	free(s.slot);
	free(excl);
	return w;
}

/* ------------------------------------------------------------ reading --- */

/* (huge_pages, common/hugepages.h: most of a 1M-line read was page faults.) */

/*
 * Room for one entry per line, allocated once: growing by doubling would
 * copy a million-entry array several times over (a third of the time of
 * a 1M-line read). Only ip4set ranges can make more entries than lines.
 */
static void
reserve(struct ctx *c, const char *p, const char *end)
{
	struct feed_data *d = c->out;
	size_t lines = 1, want;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	want = d->n + (lines < MAX_ENTRIES ? lines : MAX_ENTRIES);
	if (want > d->cap) {
		d->cap = want;
		d->e = xrealloc(d->e, d->cap * sizeof(*d->e));
		huge_pages(d->e, d->cap * sizeof(*d->e));
	}
}

static int
parse_line(struct ctx *c, const char *s, const char *end)
{
	switch (c->fmt) {
	case FEED_CSV:
		trim(&s, &end);
		return parse_csv(c, s, end);
	case FEED_LIST: {
		const char *hash = memchr(s, '#', (size_t)(end - s));

		return parse_single(c, s, hash ? hash : end);
	}
	case FEED_DROP: {
		const char *semi = memchr(s, ';', (size_t)(end - s));

		return parse_single(c, s, semi ? semi : end);
	}
	case FEED_DROP_JSON:
		return parse_drop_json(c, s, end);
	case FEED_IP4SET:
	case FEED_IP4TRIE:
	case FEED_IP6TRIE:
		return parse_rbldnsd(c, s, end);
	}
	return fail(c, "unknown feed format");
}

int
feed_parse(const char *buf, size_t len, enum feed_format fmt, const char *name, int64_t mtime,
    struct feed_data *out, char *err, size_t errlen)
{
	struct ctx c = {
		.name = name, .fmt = fmt, .mtime = mtime, .out = out, .start = out->n,
		.err = err, .errlen = errlen, .defval = RBL_DEFAULT_A, .maxrange = NO_MAXRANGE,
	};
	const char *p = buf, *end = buf + len;

	if ((unsigned)fmt >= NFORMATS) {
		snprintf(err, errlen, "%s: unknown feed format %d", name, (int)fmt);
		return -1;
	}
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;		/* a UTF-8 byte order mark, as some editors write */
	reserve(&c, p, end);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (c.line == UINT32_MAX)
			return fail(&c, "too many lines");
		c.line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le - p > LINE_MAX_BYTES)
			return fail(&c, "line longer than %d bytes", LINE_MAX_BYTES);
		if (check_text(&c, p, (size_t)(le - p)) < 0 || parse_line(&c, p, le) < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	if (fmt == FEED_IP4TRIE || fmt == FEED_IP6TRIE)
		out->n = c.start + keep_first_duplicates(out->e + c.start, out->n - c.start);
	if (fmt == FEED_IP4SET && c.excluded_seen)
		out->n = c.start + drop_excluded_in_band(out->e + c.start, out->n - c.start);
	if (c.ts_expires != 0)
		for (size_t i = c.start; i < out->n; i++)
			out->e[i].expires = c.ts_expires;
	return 0;
}

int
feed_parse_file(const char *path, enum feed_format fmt, struct feed_data *out, char *err, size_t errlen)
{
	return feed_read_file(path, fmt, out, NULL, err, errlen);
}

int
feed_read_file(const char *path, enum feed_format fmt, struct feed_data *out, struct stat *stp, char *err,
    size_t errlen)
{
	/* O_NONBLOCK: a FIFO put in the feed's place cannot hang the open */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat sb;
	char *buf;
	size_t len = 0;
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)sb.st_size > MAX_FILE_BYTES) {
		snprintf(err, errlen, "%s: larger than %u MiB: refused", path, MAX_FILE_BYTES >> 20);
		close(fd);
		return -1;
	}
	/* sized by fstat, one byte more to see a file that grew while read */
	buf = xmalloc((size_t)sb.st_size + 1);
	huge_pages(buf, (size_t)sb.st_size + 1);
	for (;;) {
		ssize_t k = read(fd, buf + len, (size_t)sb.st_size + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > (size_t)sb.st_size) {
			snprintf(err, errlen, "%s: the file grew while it was read (replace feeds by rename)", path);
			free(buf);
			close(fd);
			return -1;
		}
	}
	close(fd);
	rc = feed_parse(buf, len, fmt, path, (int64_t)sb.st_mtim.tv_sec, out, err, errlen);
	free(buf);
	if (stp != NULL)
		*stp = sb;
	return rc;
}
