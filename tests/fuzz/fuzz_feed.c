/*
 * fuzz_feed.c - libFuzzer target: arbitrary bytes as a reputation feed file
 * (reputation/feed_parse.c), in every format.
 *
 * Feeds are downloads from vendors, Spamhaus or anyone's rbldnsd zone,
 * fetched by cron jobs and dropped in place: whoever controls the server,
 * the transfer or the mirror controls every byte. The first input byte
 * picks the format (modulo the number of formats), the rest is the file.
 * The result is freed each time; an error must say where it is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../reputation/feed_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFORMATS 7	/* csv, list, drop, drop-json, ip4set, ip4trie, ip6trie */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_data d = { 0 };
	enum feed_format fmt;
	const char *name;
	char err[256];
	int r;

	if (size == 0)
		return 0;
	fmt = (enum feed_format)(data[0] % NFORMATS);
	/* The formats' names and numbers agree both ways. */
	if ((name = feed_format_name(fmt)) == NULL || feed_format_by_name(name) != (int)fmt)
		abort();
	err[0] = '\0';
	r = feed_parse((const char *)data + 1, size - 1, fmt, "fuzz.feed", 1796551200, &d, err, sizeof(err));
	if (r != 0 && (r != -1 || err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL))
		abort();	/* a rejected feed must say why */
	for (size_t i = 0; i < d.n; i++)
		if (d.e[i].plen > (d.e[i].addr.family == 4 ? 32 : 128) || d.e[i].line == 0)
			abort();
	feed_data_free(&d);
	return 0;
}
