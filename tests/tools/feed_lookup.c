/*
 * feed_lookup.c - test tool: what a feed file says about addresses.
 *
 *   feed_lookup FORMAT FILE < ADDRESSES
 *
 * Reads FILE with feed_parse_file, then for each address on standard input
 * (one per line) prints "ADDR listed A.B.C.D" (the winning entry's value
 * as a dotted quad) or "ADDR -". The lookup is a naive scan on purpose,
 * independent of mxguard's index: the most specific covering prefix wins,
 * the later of identical prefixes wins, an excluded winner means not
 * listed. tests/sh/test_feed_rbldnsd.sh compares this with rbldnsd's
 * answers. Exit 65 if the file does not parse (the message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/addr.h"
#include "../../reputation/feed_parse.h"

static int
covers(const struct feed_entry *e, const struct addr *a)
{
	int full = e->plen / 8, rest = e->plen % 8;

	if (e->addr.family != a->family || memcmp(e->addr.b, a->b, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((e->addr.b[full] ^ a->b[full]) & (0xff << (8 - rest))) == 0;
}

int
main(int argc, char **argv)
{
	struct feed_data d = { 0 };
	char err[512], line[256];
	int fmt;

	if (argc != 3 || (fmt = feed_format_by_name(argv[1])) < 0) {
		fprintf(stderr, "usage: feed_lookup FORMAT FILE < ADDRESSES\n");
		return 64;
	}
	if (feed_parse_file(argv[2], (enum feed_format)fmt, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "feed_lookup: %s\n", err);
		feed_data_free(&d);
		return 65;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");
		const struct feed_entry *best = NULL;
		struct addr a;

		line[n] = '\0';
		if (n == 0)
			continue;
		if (!addr_parse(line, n, &a)) {
			fprintf(stderr, "feed_lookup: '%s' is not an address\n", line);
			feed_data_free(&d);
			return 65;
		}
		for (size_t i = 0; i < d.n; i++)
			if (covers(&d.e[i], &a) && (best == NULL || d.e[i].plen >= best->plen))
				best = &d.e[i];
		if (best == NULL || best->excluded)
			printf("%s -\n", line);
		else
			printf("%s listed %u.%u.%u.%u\n", line, best->value >> 24, best->value >> 16 & 0xff,
			    best->value >> 8 & 0xff, best->value & 0xff);
	}
	feed_data_free(&d);
	return 0;
}
