/*
 * pattern.h - a table of PCRE2 patterns, compiled once, matched cheaply.
 *
 * An MTA parser is a few such tables (one per daemon) plus correlation
 * code. Each entry names a literal the body must start with ("lead") and
 * optionally one it must contain ("needle"); only entries whose literals
 * match run their regex, so a typical line costs one or two regex runs.
 * Named groups fill the event: a group named like a field (host, helo,
 * port, ...) sets that field, "ip" sets the address, "aux" sets ev->aux.
 * Every regex runs anchored at the start of the body, JIT-compiled, under
 * a match limit so that attacker-shaped lines cannot make it backtrack
 * for long. An entry whose regex must cross client text can name a
 * fallback: a cheap regex run when the full one hits its limit, which
 * captures only what the MTA wrote itself (the client, so the event type
 * stands) and leaves the doubtful fields out - so a line built to exhaust
 * the limit still counts against its client.
 */
#ifndef MXG_PATTERN_H
#define MXG_PATTERN_H

#include <stdint.h>

#include "event.h"

struct pattern_def {
	const char *lead;	/* literal at the start of the body ("" = any) */
	const char *needle;	/* literal somewhere in the body, or NULL */
	const char *regex;	/* PCRE2 source; NULL: a known line that yields no event */
	enum ev_type type;	/* event this entry yields (the MTA code may change it) */
	int op;			/* MTA-specific follow-up code, 0 = none */
	const char *fallback;	/* regex for a line that hit the match limit, or NULL */
};

struct pattern_set;

/*
 * Compile n entries. A bad pattern is a bug in mxguard, reported with the
 * table name and index, and fatal (EX_SOFTWARE).
 */
struct pattern_set *pattern_set_new(const char *name, const struct pattern_def *defs, size_t n);
/*
 * The same for entries that come from a user (a configuration's parser
 * blocks): NULL instead of exiting when one does not compile, with the
 * entry's index, the offset in its regex and why. Named groups must be
 * event fields, "ip", or "session" (kept where "aux" is).
 */
struct pattern_set *pattern_set_try(const char *name, const struct pattern_def *defs, size_t n, size_t *idx,
    size_t *off, char *msg, size_t msglen);
void pattern_set_free(struct pattern_set *ps);

/*
 * Try the entries in order. Returns the index of the first entry whose
 * literals and regex match (fields filled into ev), or -1. A regex that hit
 * its match limit increments *limit_hits; then the entry's fallback is
 * tried (a match returns the entry, with EV_DOUBT_ANY in ev->doubtful), and
 * without one the entry counts as no match.
 */
int pattern_set_match(struct pattern_set *ps, struct span body, struct event *ev, uint64_t *limit_hits);

const struct pattern_def *pattern_set_def(const struct pattern_set *ps, int idx);

#endif
