/*
 * feed_parse.h - reading reputation feed files (docs/REPUTATION.md).
 *
 * A feed file lists prefixes with scores: a vendor's CSV, a plain list
 * that one score set applies to, Spamhaus DROP/EDROP (text or JSON
 * lines), or an rbldnsd zone file (ip4set, ip4trie, ip6trie). Reading
 * turns any of them into the same entries; what the scores are for a list
 * or a zone's values comes from the configuration (feed.c), not from here.
 *
 * A feed is read whole or not at all: the first malformed line stops the
 * read with "FILE:LINE: message", and the caller keeps the feed's previous
 * version. Input is untrusted text (a download): every line is bounded
 * (4096 bytes, valid UTF-8, no NUL or control bytes), so are the file
 * (512 MiB) and the entries (8,388,608); nothing in it is executed or
 * followed.
 *
 * The entries answer by one rule (feed.c): the most specific prefix
 * covering an address wins, the later of identical ones, and an excluded
 * winner means not listed. rbldnsd zones are turned into entries that
 * give rbldnsd's answers under that rule (its first-wins duplicates, its
 * ip4set granularities); docs/REPUTATION.md says where they still differ.
 */
#ifndef MXG_FEED_PARSE_H
#define MXG_FEED_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"

enum feed_format {
	FEED_CSV,	/* prefix,risk,spam,vol[,expires] */
	FEED_LIST,	/* one prefix per line */
	FEED_DROP,	/* Spamhaus DROP/EDROP text: "prefix ; SBLnnn" */
	FEED_DROP_JSON,	/* Spamhaus DROP/EDROP JSON lines: {"cidr":"prefix","sblid":...} */
	FEED_IP4SET,	/* rbldnsd ip4set zone file */
	FEED_IP4TRIE,	/* rbldnsd ip4trie zone file */
	FEED_IP6TRIE,	/* rbldnsd ip6trie zone file */
};

#define FEED_SCORE_NONE (-1)	/* a score the feed does not give */

/* One entry of a feed. */
struct feed_entry {
	struct addr addr;	/* network address, host bits clear */
	uint8_t plen;
	uint8_t excluded;	/* rbldnsd "!prefix": not listed, whatever less specific entry covers it */
	int8_t risk;		/* 0..10, or FEED_SCORE_NONE */
	int8_t spam, vol;	/* 0..100, or FEED_SCORE_NONE */
	uint32_t value;		/* rbldnsd: the entry's A value (127.0.0.N as a host-order IPv4 number); 0 elsewhere */
	int64_t expires;	/* UTC seconds; 0: never */
	uint32_t line;		/* its line in the file (1-based): where a score came from */
};

/* Entries read from one file, in file order. */
struct feed_data {
	struct feed_entry *e;
	size_t n, cap;
};

/* The format named "csv", "list", "drop", "drop-json", "ip4set", "ip4trie", "ip6trie"; -1 if none. */
int feed_format_by_name(const char *name);
const char *feed_format_name(enum feed_format f);

/*
 * Append every entry of len bytes of feed text to out. name is the file's
 * name for messages; mtime the file's modification time (a CSV expiry
 * given as a plain number of seconds counts from it). 0, or -1 with
 * "NAME:LINE: message" in err (out then holds what was read before).
 */
int feed_parse(const char *buf, size_t len, enum feed_format fmt, const char *name, int64_t mtime,
    struct feed_data *out, char *err, size_t errlen);

/* The same for a file (a regular file, read whole). */
int feed_parse_file(const char *path, enum feed_format fmt, struct feed_data *out, char *err, size_t errlen);
/* The same, with the stat of what was read in *sb (the feed's version: feed.c). */
struct stat;
int feed_read_file(const char *path, enum feed_format fmt, struct feed_data *out, struct stat *sb, char *err,
    size_t errlen);

void feed_data_free(struct feed_data *d);

#endif
