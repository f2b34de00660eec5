/* mta_text.c - text tests the MTA modules share; see mta_text.h. */
#include "mta_text.h"

#include <string.h>

int
mta_find_dnsbl(struct span r, struct event *ev)
{
	static const struct span marks[] = {
		SPAN_LIT("blocked using "), SPAN_LIT(" black list at "), SPAN_LIT(" listed at "),
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *d = memmem(r.p, r.n, marks[i].p, marks[i].n), *e;

		if (d == NULL)
			continue;
		d += marks[i].n;
		for (e = d; e < r.p + r.n && *e != ' ' && *e != ';' && *e != ',' && *e != '"'; e++)
			;
		while (e > d && e[-1] == '.')
			e--;	/* the sentence's full stop, not the domain's */
		if (e > d)
			ev_set_str(ev, F_DNSBL, (struct span){ d, (size_t)(e - d) });
		return 1;
	}
	return 0;
}

int
mta_mentions_rate(struct span r)
{
	return memmem(r.p, r.n, "ate limit", 9) != NULL || memmem(r.p, r.n, "atelimit", 8) != NULL ||
	    memmem(r.p, r.n, "oo many connections", 19) != NULL ||
	    memmem(r.p, r.n, "Too many open connections", 25) != NULL;
}

int
mta_names_client(struct span b)
{
	const char *end = b.p + b.n;

	for (const char *p = memchr(b.p, '[', b.n); p != NULL && p + 1 < end;
	    p = memchr(p + 1, '[', (size_t)(end - p - 1))) {
		char c = p[1];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
		    c == 'I' || c == 'i')
			return 1;
	}
	return 0;
}

/*
 * The end of the address that starts at s[i]: doubled says the MTA logged
 * its backslashes doubled (then the client's \x appears as \\x, its \\ as
 * \\\\, and a lone backslash starts a C escape of a control byte).
 */
static long
addr_end(struct span s, size_t i, int doubled)
{
	const char *gt, *p = s.p + i;

	if (i >= s.n)
		return -1;
	/* Most addresses hold no quote: three memchr()s beat a byte loop (this runs on every Exim line). */
	if ((gt = memchr(p, '>', s.n - i)) != NULL && memchr(p, '"', (size_t)(gt - p)) == NULL)
		return memchr(p, '<', (size_t)(gt - p)) || memchr(p, ' ', (size_t)(gt - p)) ? -1 : (long)(gt - s.p);
	if (s.p[i] == '"') {
		for (i++; i < s.n && s.p[i] != '"'; i++) {
			if (s.p[i] != '\\')
				continue;
			if (doubled && i + 1 < s.n && s.p[i + 1] == '\\')
				i += i + 3 < s.n && s.p[i + 2] == '\\' && s.p[i + 3] == '\\' ? 3 : 2;	/* the client's \x */
			else
				i++;	/* doubled: \n, \t, \ooo (a control byte); else the client's \x */
		}
		if (i >= s.n)
			return -1;
		i++;
	}
	for (; i < s.n; i++) {
		if (s.p[i] == '>')
			return (long)i;
		if (s.p[i] == '<' || s.p[i] == '"' || s.p[i] == ' ')
			return -1;
	}
	return -1;
}

long
mta_addr_end(struct span s, size_t i)
{
	return addr_end(s, i, 0);
}

long
mta_addr_end_logged(struct span s, size_t i)
{
	return addr_end(s, i, 1);
}

long
mta_addr_start(struct span s, size_t close)
{
	size_t i = close;

	if (close >= s.n || s.p[close] != '>')
		return -1;
	while (i > 0) {
		char c = s.p[--i];

		if (c == '<')
			return (long)i;
		if (c == '>' || c == ' ')
			return -1;
		if (c != '"')
			continue;
		/* The closing quote of a quoted local part: its opening quote has an even run of backslashes before it. */
		for (;;) {
			size_t bs = 0;
			const char *q = i > 0 ? memrchr(s.p, '"', i) : NULL;

			if (q == NULL)
				return -1;
			i = (size_t)(q - s.p);
			while (bs < i && s.p[i - 1 - bs] == '\\')
				bs++;
			if (bs % 2 == 0)
				break;
		}
		return i > 0 && s.p[i - 1] == '<' ? (long)(i - 1) : -1;
	}
	return -1;
}

long
mta_addr_unquoted_prefix(struct span ext, struct span raw)
{
	size_t i = 0, j = 0;

	if (ext.n > 0 && ext.p[0] == '"') {
		for (i = 1; i < ext.n && ext.p[i] != '"'; i++, j++) {
			if (ext.p[i] == '\\' && i + 1 < ext.n)
				i++;
			if (j >= raw.n || raw.p[j] != ext.p[i])
				return -1;
		}
		if (i >= ext.n)
			return -1;
		i++;
	}
	if (raw.n - j < ext.n - i || memcmp(ext.p + i, raw.p + j, ext.n - i) != 0)
		return -1;
	return (long)(j + ext.n - i);
}
