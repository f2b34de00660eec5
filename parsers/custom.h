/*
 * custom.h - parser blocks: pattern sets written in the configuration.
 *
 * `parser "NAME" { program ...; pattern TYPE 'REGEX' ... }` (docs/RULES.md,
 * "Parser blocks") teaches mxguard lines no built-in module knows: Dovecot's,
 * Cyrus', a local patch's. A block compiles into the same machinery as a
 * built-in module (pattern.h): every regex anchored at the start of the
 * line's body, JIT-compiled, under the same match limits, tried only when
 * the body starts with the literal the regex itself starts with (derived
 * here) and contains the block's `contains` text. Named groups are event
 * fields; `ip` is the client; `session` is a join key: a line that names
 * a session and a client records them in a bounded correlation table
 * (corr.h), and a later line of that session without a client gets it from
 * there. A pattern marked `once` yields its event only if no earlier line
 * of its session did (a summary line after per-attempt lines).
 *
 * The configuration (rules/conf.c) owns the definitions; a compiled block
 * (struct custom) copies what it keeps, so a reload can free them.
 */
#ifndef MXG_CUSTOM_H
#define MXG_CUSTOM_H

#include <stddef.h>

#include "../common/hash.h"
#include "event.h"
#include "parser.h"
#include "syslog_hdr.h"

#define CUSTOM_LEAD_MAX 64	/* the longest derived literal lead kept */

struct custom_pattern {
	char *regex;		/* PCRE2 source */
	char *contains;		/* literal the body must contain, or NULL */
	enum ev_type type;	/* EV_NONE: a line understood that yields no event */
	int once;		/* yields only if no earlier line of its session did */
	const char *file;	/* where the regex's string starts, for messages (while read only) */
	int line, col;
	int raw;		/* the string was '...' (columns of the regex are exact) */
};

struct custom_def {
	char *name;
	char **programs;	/* program tags the block claims ("dovecot", "imap-login") */
	int nprograms;
	struct custom_pattern *pat;
	int npat;
};

/*
 * The literal every body the regex matches starts with, at most
 * CUSTOM_LEAD_MAX bytes, into out (NUL-terminated; "" when none can be
 * proved: an alternation at the top, a class or group first).
 */
void custom_lead(const char *regex, char out[CUSTOM_LEAD_MAX + 1]);

/*
 * What is wrong with a block, for `mxguard check`: 1 if nothing, else 0
 * with the pattern's index (-1: the block itself), the offset in its regex
 * and the message. warn (may be NULL) is called for what takes effect but
 * is likely a mistake (a pattern whose events name no client).
 */
int custom_check(const struct custom_def *d, int *pat, size_t *off, char *msg, size_t msglen,
    void (*warn)(void *arg, int pat, const char *msg), void *arg);

struct custom;

/* A compiled block (its definition checked before: a broken one is fatal here). */
struct custom *custom_new(const struct custom_def *d, const struct parser_opts *o);
void custom_free(struct custom *c);
const char *custom_name(const struct custom *c);
/* 1 if the line's program tag is one of the block's ("auth-worker(12)" is "auth-worker"). */
int custom_claims(const struct custom *c, struct span tag);
/* 1: an event in *ev (mta, line, ts preset); 0: understood, no event; -1: no pattern matched. */
int custom_parse(struct custom *c, const struct syslog_hdr *h, struct event *ev, uint64_t *limit_hits);
/*
 * A reload: to (the new block of from's name) takes from's session table
 * (its clients are still the same), and from gets to's empty one.
 */
void custom_take_sessions(struct custom *to, struct custom *from);
/* The block's session table, or NULL if no pattern names a session. */
struct corr_table *custom_corr(struct custom *c);
/*
 * The key under which session IDs longer than the table's keys are hashed:
 * saved with the table and given back with it after a restart, so that
 * such a session's later lines are still joined to its earlier ones.
 */
struct hash_key custom_fold_key(const struct custom *c);
void custom_set_fold_key(struct custom *c, struct hash_key k);

#endif
