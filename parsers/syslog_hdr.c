/*
 * syslog_hdr.c - header parsing for every log form mxguard reads.
 *
 * Hand-written because it runs once per line, before any regex: a line of
 * an unrelated program must cost no more than this scan. All positions are
 * bounds-checked against n; the line need not be NUL-terminated.
 */
#include "syslog_hdr.h"

#include <ctype.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "../common/xalloc.h"

#define TZCACHE 64

struct hdr_clock {
	int fixed_year;		/* > 0: --year given */
	int ref_year;		/* local year of the reference time */
	int64_t ref_local;	/* reference as local wall-clock seconds */
	int64_t last_ts;	/* for RFC 5424 lines whose time is nil ("-") */
	/*
	 * The last timestamp text and its value: a busy log has many lines per
	 * second, and comparing 15-32 bytes is cheaper than converting again.
	 */
	char stamp[40];
	size_t stamp_len;	/* 0: nothing cached */
	enum hdr_form stamp_form;
	int64_t stamp_ts;
	int32_t stamp_usec;
	struct {
		int64_t hour;	/* local wall-clock hour number, key */
		int64_t off;	/* local - UTC, seconds */
	} tz[TZCACHE];
};

int64_t
hdr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* H. Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t
wall_seconds(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	return hdr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

struct hdr_clock *
hdr_clock_new(time_t ref, int year)
{
	struct hdr_clock *c = xcalloc(1, sizeof(*c));
	struct tm tm;

	localtime_r(&ref, &tm);
	c->fixed_year = year;
	c->ref_year = tm.tm_year + 1900;
	c->ref_local = wall_seconds(c->ref_year, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
	    (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec);
	for (int i = 0; i < TZCACHE; i++)
		c->tz[i].hour = INT64_MIN;
	return c;
}

void
hdr_clock_free(struct hdr_clock *c)
{
	free(c);
}

/* Local wall-clock seconds to UTC, through the C library's zone rules, cached per hour. */
static int64_t
local_to_utc(struct hdr_clock *c, int64_t wall)
{
	int64_t hour = wall >= 0 ? wall / 3600 : (wall - 3599) / 3600;
	unsigned slot = (unsigned)((uint64_t)hour % TZCACHE);

	if (c->tz[slot].hour != hour) {
		struct tm tm;
		time_t t = (time_t)(hour * 3600);

		/* Break the wall-clock hour apart as if it were UTC, then ask mktime. */
		gmtime_r(&t, &tm);
		tm.tm_isdst = -1;
		time_t utc = mktime(&tm);
		c->tz[slot].hour = hour;
		c->tz[slot].off = utc == (time_t)-1 ? 0 : hour * 3600 - (int64_t)utc;
	}
	return wall - c->tz[slot].off;
}

static int
digits(const char *p, int k, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < k; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return 1;
}

/* "HH:MM:SS" at p (8 bytes available checked by caller). */
static int
parse_hms(const char *p, unsigned *h, unsigned *m, unsigned *s)
{
	return digits(p, 2, h) && p[2] == ':' && digits(p + 3, 2, m) && p[5] == ':' &&
	    digits(p + 6, 2, s) && *h < 24 && *m < 60 && *s <= 60;
}

/* Optional ".ddd…" fraction: returns bytes used, sets *usec (or leaves -1). */
static size_t
parse_frac(const char *p, size_t avail, int32_t *usec)
{
	size_t i = 1;
	int32_t v = 0;
	int nd = 0;

	if (avail < 2 || (p[0] != '.' && p[0] != ',') || !isdigit((unsigned char)p[1]))
		return 0;
	while (i < avail && p[i] >= '0' && p[i] <= '9') {
		if (nd < 6) {
			v = v * 10 + (p[i] - '0');
			nd++;
		}
		i++;
	}
	while (nd++ < 6)
		v *= 10;
	*usec = v;
	return i;
}

/*
 * Month names as strftime("%b") writes them in the locales journalctl is
 * commonly run under (English first: it is by far the most frequent).
 * Matching is ASCII-case-insensitive; non-ASCII bytes must match exactly.
 */
static const struct {
	const char *name;
	unsigned char len, month;
} months[] = {
#define M(s, m) { s, sizeof(s) - 1, m }
	M("Jan", 1), M("Feb", 2), M("Mar", 3), M("Apr", 4), M("May", 5), M("Jun", 6),
	M("Jul", 7), M("Aug", 8), M("Sep", 9), M("Oct", 10), M("Nov", 11), M("Dec", 12),
	/* de */
	M("M\xc3\xa4r", 3), M("Mai", 5), M("Okt", 10), M("Dez", 12),
	/* fr */
	M("janv.", 1), M("f\xc3\xa9vr.", 2), M("mars", 3), M("avr.", 4), M("juin", 6),
	M("juil.", 7), M("ao\xc3\xbbt", 8), M("sept.", 9), M("oct.", 10), M("nov.", 11),
	M("d\xc3\xa9""c.", 12),
	/* es, it, pt, nl, sv, pl */
	M("ene", 1), M("abr", 4), M("ago", 8), M("dic", 12), M("gen", 1), M("mag", 5),
	M("giu", 6), M("lug", 7), M("set", 9), M("ott", 10), M("fev", 2), M("out", 10),
	M("mrt", 3), M("mei", 5), M("maj", 5), M("juni", 6), M("juli", 7), M("sty", 1),
	M("lut", 2), M("kwi", 4), M("cze", 6), M("lip", 7), M("sie", 8), M("wrz", 9),
	M("pa\xc5\xba", 10), M("lis", 11), M("gru", 12),
	/* ru */
	M("\xd1\x8f\xd0\xbd\xd0\xb2", 1), M("\xd1\x84\xd0\xb5\xd0\xb2", 2),
	M("\xd0\xbc\xd0\xb0\xd1\x80", 3), M("\xd0\xb0\xd0\xbf\xd1\x80", 4),
	M("\xd0\xbc\xd0\xb0\xd1\x8f", 5), M("\xd0\xb8\xd1\x8e\xd0\xbd", 6),
	M("\xd0\xb8\xd1\x8e\xd0\xbb", 7), M("\xd0\xb0\xd0\xb2\xd0\xb3", 8),
	M("\xd1\x81\xd0\xb5\xd0\xbd", 9), M("\xd0\xbe\xd0\xba\xd1\x82", 10),
	M("\xd0\xbd\xd0\xbe\xd1\x8f", 11), M("\xd0\xb4\xd0\xb5\xd0\xba", 12),
#undef M
};

static unsigned
month_of(const char *p, size_t len)
{
	if (len == 3) {
		/* Fast path: the English abbreviations, any case, as one integer. */
		uint32_t k = (uint32_t)(p[0] | 0x20) << 16 | (uint32_t)(p[1] | 0x20) << 8 | (uint32_t)(p[2] | 0x20);

		switch (k) {
		case 0x6a616e: return 1;	/* jan */
		case 0x666562: return 2;	/* feb */
		case 0x6d6172: return 3;	/* mar */
		case 0x617072: return 4;	/* apr */
		case 0x6d6179: return 5;	/* may */
		case 0x6a756e: return 6;	/* jun */
		case 0x6a756c: return 7;	/* jul */
		case 0x617567: return 8;	/* aug */
		case 0x736570: return 9;	/* sep */
		case 0x6f6374: return 10;	/* oct */
		case 0x6e6f76: return 11;	/* nov */
		case 0x646563: return 12;	/* dec */
		}
	}
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++)
		if (months[i].len == len && strncasecmp(p, months[i].name, len) == 0)
			return months[i].month;
	return 0;
}

/* Bytes that end a program tag. */
static const unsigned char tag_end[256] = { ['['] = 1, [':'] = 1, [' '] = 1 };

/*
 * After the timestamp: [<pri>] host tag[pid]: body. Some local syslogds
 * write no host: then the first token already ends in ':' and is the tag.
 */
static int
parse_rest(const char *line, size_t n, size_t i, struct syslog_hdr *h, int want_host)
{
	size_t start;

	while (i < n && line[i] == ' ')
		i++;
	/* BSD syslogd -v / -vv: "<2.5>" or "<mail.notice>" before the host. */
	if (i < n && line[i] == '<') {
		const char *e = memchr(line + i, '>', n - i);

		if (e == NULL || e - (line + i) > 32)
			return 0;
		i = (size_t)(e - line) + 1;
		while (i < n && line[i] == ' ')
			i++;
	}
	h->host = (struct span){ line + i, 0 };
	if (want_host) {
		start = i;
		const char *sp = memchr(line + i, ' ', n - i);

		i = sp ? (size_t)(sp - line) : n;
		if (i > start && line[i - 1] == ':') {
			i = start;	/* no host: this token is the tag */
		} else {
			h->host = (struct span){ line + start, i - start };
			while (i < n && line[i] == ' ')
				i++;
		}
	}
	start = i;
	while (i < n && !tag_end[(unsigned char)line[i]])
		i++;
	if (i == n || line[i] == ' ' || i == start) {
		/* No "tag:" (e.g. "last message repeated 3 times"): a line with no program. */
		h->tag = (struct span){ line + start, 0 };
		h->body = (struct span){ line + start, n - start };
		return 1;
	}
	h->tag = (struct span){ line + start, i - start };
	if (line[i] == '[') {
		long pid = 0;

		i++;
		while (i < n && line[i] >= '0' && line[i] <= '9' && pid < 100000000)
			pid = pid * 10 + (line[i++] - '0');
		if (i >= n || line[i] != ']')
			return 0;
		h->pid = pid;
		i++;
		if (i >= n || line[i] != ':')
			return 0;
	}
	i++;			/* ':' */
	if (i < n && line[i] == ' ')
		i++;
	h->body = (struct span){ line + i, n - i };
	return 1;
}

/* "YYYY-MM-DD" then 'T' or ' ' then "HH:MM:SS[.frac][zone]". Returns bytes used or 0. */
static size_t
parse_iso(struct hdr_clock *c, const char *p, size_t n, char sep, struct syslog_hdr *h)
{
	unsigned y, mo, d, hh, mi, ss;
	size_t i;
	int64_t wall;

	if (n < 19 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !digits(p + 8, 2, &d) || p[10] != sep || !parse_hms(p + 11, &hh, &mi, &ss) ||
	    y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	i = 19;
	i += parse_frac(p + i, n - i, &h->usec);
	wall = wall_seconds(y, mo, d, hh, mi, ss);
	if (i < n && p[i] == 'Z') {
		h->ts = wall;
		i++;
	} else if (i + 5 <= n && (p[i] == '+' || p[i] == '-')) {
		unsigned oh, om;
		size_t k = i + 1;

		if (!digits(p + k, 2, &oh))
			return 0;
		k += 2;
		if (k < n && p[k] == ':')
			k++;
		if (k + 2 > n || !digits(p + k, 2, &om) || oh > 23 || om > 59)
			return 0;
		int64_t off = (int64_t)(oh * 3600 + om * 60);
		h->ts = p[i] == '+' ? wall - off : wall + off;
		i = k + 2;
	} else
		h->ts = local_to_utc(c, wall);
	return i;
}

/* Cache line[0..i) as the timestamp text of h, when a space follows it. */
static void
remember_stamp(struct hdr_clock *c, const char *line, size_t n, size_t i, const struct syslog_hdr *h)
{
	if (i >= n || line[i] != ' ' || i > sizeof(c->stamp))
		return;
	memcpy(c->stamp, line, i);
	c->stamp_len = i;
	c->stamp_form = h->form;
	c->stamp_ts = h->ts;
	c->stamp_usec = h->usec;
}

static int
parse_rfc3164(struct hdr_clock *c, const char *line, size_t n, struct syslog_hdr *h)
{
	size_t i = 0, tok;
	unsigned mo, d = 0, hh, mi, ss;
	int64_t y, wall;

	while (i < n && line[i] != ' ' && i < 8)
		i++;
	tok = i;
	if (i >= n || line[i] != ' ' || (mo = month_of(line, tok)) == 0)
		return 0;
	while (i < n && line[i] == ' ')
		i++;
	if (i + 10 > n)
		return 0;
	if (line[i + 1] == ' ') {
		if (!digits(line + i, 1, &d))
			return 0;
		i += 2;
	} else {
		if (!digits(line + i, 2, &d) || line[i + 2] != ' ')
			return 0;
		i += 3;
	}
	if (d < 1 || d > 31 || i + 8 > n || !parse_hms(line + i, &hh, &mi, &ss))
		return 0;
	i += 8;
	i += parse_frac(line + i, n - i, &h->usec);
	if (c->fixed_year > 0) {
		y = c->fixed_year;
		wall = wall_seconds(y, mo, d, hh, mi, ss);
	} else {
		y = c->ref_year;
		wall = wall_seconds(y, mo, d, hh, mi, ss);
		if (wall > c->ref_local + 86400)
			wall = wall_seconds(--y, mo, d, hh, mi, ss);
	}
	h->form = HDR_RFC3164;
	h->ts = local_to_utc(c, wall);
	remember_stamp(c, line, n, i, h);
	return parse_rest(line, n, i, h, 1);
}

/* RFC 5424 after "<PRI>1 ": TS HOST APP PROCID MSGID SD [MSG] */
static int
parse_rfc5424(struct hdr_clock *c, const char *line, size_t n, size_t i, struct syslog_hdr *h)
{
	struct span f[4];
	size_t k;

	h->form = HDR_RFC5424;
	if (i < n && line[i] == '-') {
		h->ts = c->last_ts;
		i++;
	} else {
		k = parse_iso(c, line + i, n - i, 'T', h);
		if (k == 0)
			return 0;
		i += k;
	}
	for (int j = 0; j < 4; j++) {	/* HOST APP PROCID MSGID */
		size_t s;

		if (i >= n || line[i] != ' ')
			return 0;
		s = ++i;
		while (i < n && line[i] != ' ')
			i++;
		f[j] = (struct span){ line + s, i - s };
		if (span_eq(f[j], "-", 1))
			f[j].n = 0;
	}
	h->host = f[0];
	h->tag = f[1];
	if (f[2].n > 0) {
		long pid = 0;

		for (size_t j = 0; j < f[2].n && j < 9; j++) {
			if (f[2].p[j] < '0' || f[2].p[j] > '9') {
				pid = -1;
				break;
			}
			pid = pid * 10 + (f[2].p[j] - '0');
		}
		h->pid = pid;
	}
	if (i >= n || line[i] != ' ')
		return 0;
	i++;
	/* STRUCTURED-DATA: "-" or [id k="v\]…"]…, quotes and backslashes respected. */
	if (i < n && line[i] == '-')
		i++;
	else {
		while (i < n && line[i] == '[') {
			int inq = 0;

			for (i++; i < n; i++) {
				if (inq && line[i] == '\\')
					i++;
				else if (line[i] == '"')
					inq = !inq;
				else if (!inq && line[i] == ']')
					break;
			}
			if (i >= n)
				return 0;
			i++;
		}
	}
	if (i < n && line[i] == ' ')
		i++;
	if (n - i >= 3 && memcmp(line + i, "\xef\xbb\xbf", 3) == 0)
		i += 3;		/* BOM before a UTF-8 MSG */
	h->body = (struct span){ line + i, n - i };
	return 1;
}

/* Exim's own log after its time stamp: "[pid] " if +pid is set, then the body. */
static int
exim_rest(const char *line, size_t n, size_t k, struct syslog_hdr *h)
{
	if (k < n && line[k] == '[') {
		long pid = 0;
		size_t j = k + 1;

		while (j < n && line[j] >= '0' && line[j] <= '9' && pid < 100000000)
			pid = pid * 10 + (line[j++] - '0');
		if (j + 1 < n && line[j] == ']' && line[j + 1] == ' ' && j > k + 1) {
			h->pid = pid;
			k = j + 2;
		}
	}
	h->body = (struct span){ line + k, n - k };
	return 1;
}

int
syslog_hdr_parse(struct hdr_clock *c, const char *line, size_t n, struct syslog_hdr *h)
{
	size_t i = 0, k;
	int ok;

	h->usec = -1;
	h->pid = -1;
	h->host = h->tag = (struct span){ line, 0 };
	if (n == 0)
		return 0;

	if (line[0] == '<') {
		/* <PRI>: RFC 5424 if "1 " follows, else an RFC 3164 line sent raw. */
		for (i = 1; i < n && i < 5 && line[i] >= '0' && line[i] <= '9'; i++)
			;
		if (i == 1 || i >= n || line[i] != '>')
			return 0;
		i++;
		if (n - i >= 2 && line[i] == '1' && line[i + 1] == ' ') {
			ok = parse_rfc5424(c, line, n, i + 2, h);
			goto out;
		}
		line += i;
		n -= i;
		i = 0;
		if (n == 0)
			return 0;	/* "<13>" and nothing else */
	}

	if (c->stamp_len > 0 && n > c->stamp_len && line[c->stamp_len] == ' ' &&
	    memcmp(line, c->stamp, c->stamp_len) == 0) {
		/* Same timestamp text as the previous line: same time. */
		h->form = c->stamp_form;
		h->ts = c->stamp_ts;
		h->usec = c->stamp_usec;
		ok = h->form == HDR_EXIM_MAINLOG ? exim_rest(line, n, c->stamp_len + 1, h) :
		    parse_rest(line, n, c->stamp_len, h, 1);
	} else if (line[0] >= '0' && line[0] <= '9') {
		if (n > 10 && line[10] == 'T') {
			k = parse_iso(c, line, n, 'T', h);
			if (k == 0)
				return 0;
			h->form = HDR_ISO;
			remember_stamp(c, line, n, k, h);
			ok = parse_rest(line, n, k, h, 1);
		} else {
			/* Exim's own log: local time, then "[pid] " if +pid is set. */
			k = parse_iso(c, line, n, ' ', h);
			if (k == 0 || k >= n || line[k] != ' ')
				return 0;
			h->form = HDR_EXIM_MAINLOG;
			remember_stamp(c, line, n, k, h);
			ok = exim_rest(line, n, k + 1, h);
		}
	} else
		ok = parse_rfc3164(c, line, n, h);
out:
	if (ok)
		c->last_ts = h->ts;
	return ok;
}
