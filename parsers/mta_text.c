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
