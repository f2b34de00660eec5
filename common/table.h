/*
 * table.h - named CIDR tables (IPv4 and IPv6) with longest-prefix match.
 *
 * "table <trusted> { 198.51.100.0/24, !198.51.100.9, 2001:db8:100::/48 }":
 * an address is in the table when the most specific entry that covers it
 * is not negated. Lookup costs one hash probe per distinct prefix length
 * present (a handful in practice), whatever the number of entries.
 */
#ifndef MXG_TABLE_H
#define MXG_TABLE_H

#include <stddef.h>

#include "addr.h"

struct cidr_table;

struct cidr_table *table_new(const char *name);
void table_free(struct cidr_table *t);
const char *table_name(const struct cidr_table *t);

/*
 * Add a prefix (host bits are cleared). Returns 1 if added, 0 if the same
 * prefix was already there (its negation is then updated).
 */
int table_add(struct cidr_table *t, const struct addr *a, int plen, int negated);

/* 1 if a is in the table (longest match, not negated), else 0. */
int table_contains(const struct cidr_table *t, const struct addr *a);

/*
 * 1 if any entry of the table (not a negation) shares an address with the
 * prefix a/plen: lies inside it or holds it. O(prefix lengths + log n);
 * the first call after a change sorts the entries (not thread-safe: the
 * daemon's tables are only read, by one thread).
 */
int table_overlaps(const struct cidr_table *t, const struct addr *a, int plen);

/* 1 if the table has the whole of a family (0.0.0.0/0 or ::/0, not negated), whatever its exceptions. */
int table_holds_all(const struct cidr_table *t, int family);

/* Number of entries. */
size_t table_size(const struct cidr_table *t);

/*
 * Parse "[!]ADDR[/LEN]" (n bytes, not NUL-terminated). Returns 1 on
 * success; 0 with a message in err otherwise.
 */
int table_parse_entry(const char *s, size_t n, struct addr *a, int *plen, int *negated,
    char *err, size_t errlen);
/* "ADDR[/LEN]" (a NUL-terminated word; no '!'): 1 with the network (host bits cleared), else 0. */
int table_parse_prefix(const char *w, struct addr *a, int *plen);

/*
 * Add every entry of a file: one per line (or several separated by blanks
 * or commas), '#' starts a comment. Returns the number of entries added,
 * or -1 with "PATH:LINE: message" in err (the first problem) when the
 * file cannot be read or holds a bad entry; every bad entry is read past
 * and handed to bad (if not NULL) with its line, so that all are said.
 */
typedef void (*table_bad_line_fn)(void *arg, long line, const char *msg);
long table_load_file(struct cidr_table *t, const char *path, table_bad_line_fn bad, void *arg, char *err,
    size_t errlen);

#endif
