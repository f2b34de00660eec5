/*
 * parser.h - the parse stage: log line in, typed event out.
 *
 * parser_line() splits the syslog header, routes the line by its program
 * tag to the configuration's parser blocks (custom.h) and then to an MTA
 * module (mta.h), and returns at most one event per line. The blocks come
 * first: a line one of their patterns matches is theirs (a built-in module
 * of the same program never sees it); a line none matches goes on to the
 * next block and then to the built-in module of its program.
 * Lines of other programs cost only the header scan. Correlation state
 * (queue IDs, sessions) lives in the MTA modules and persists across the
 * inputs of one parser, so a log and its rotated predecessor can be read
 * in turn.
 */
#ifndef MXG_PARSER_H
#define MXG_PARSER_H

#include <stdint.h>
#include <time.h>

#include "event.h"

enum parser_mta {
	PARSER_MTA_AUTO,
	PARSER_MTA_POSTFIX,
	PARSER_MTA_SENDMAIL,
	PARSER_MTA_EXIM,
	PARSER_MTA_OPENSMTPD,
};

struct parser_opts {
	enum parser_mta mta;	/* auto: route every line by its tag */
	int year;		/* > 0: year for year-less headers; 0: infer */
	uint32_t corr_capacity;	/* slots of each MTA's queue-ID/session table (0: default) */
	int64_t corr_ttl;	/* seconds an entry lives (0: default) */
	/* The configuration's parser blocks (custom.h), tried before the built-in modules; not kept. */
	const struct custom_def *custom;
	int ncustom;
};

struct parser_stats {
	uint64_t lines;		/* lines given to parser_line() */
	uint64_t events;	/* events returned */
	uint64_t by_type[EV__COUNT];
	uint64_t bad_header;	/* no recognisable syslog/MTA header */
	uint64_t other_program;	/* header fine, not an MTA this parser reads */
	uint64_t known;		/* MTA line understood, no event in it */
	uint64_t unmatched;	/* MTA line of a client-facing daemon no pattern knows */
	uint64_t limit_hits;	/* regex stopped by its match limit (counted in unmatched) */
	uint64_t doubtful;	/* events with a field (or client) client text made unreadable: left out */
	uint64_t corr_size, corr_evicted, corr_expired;
	uint64_t held;		/* events waiting for their client's address (Sendmail) */
	uint64_t held_dropped;	/* ... given up: expired, evicted, or the client was local */
};

struct parser;
struct custom_def;

/* Compiles every pattern table of the chosen MTA modules (fatal if one is broken). */
struct parser *parser_new(const struct parser_opts *o);
void parser_free(struct parser *p);

/* Name to enum for --mta; -1 if unknown. */
int parser_mta_by_name(const char *name);

/*
 * The configuration's parser blocks changed (a reload): compile the new
 * ones in place of the old. A block of the same name keeps its session
 * table; the built-in modules and the counters are untouched.
 */
void parser_set_custom(struct parser *p, const struct custom_def *defs, int n);

/* A new input starts; ref is the newest time it can hold. */
void parser_begin_input(struct parser *p, time_t ref);

/*
 * lineno: the line's number within its input (events carry it).
 * 1: *ev holds an event (valid until the next call); 0: no event.
 * A line can release events that earlier lines held back (a Sendmail
 * "User unknown" line names no client; the transaction's later line does):
 * after a 1, call parser_next() until it returns 0. Events come oldest
 * first; each carries the line number and time of the line it is about.
 */
int parser_line(struct parser *p, const char *line, size_t n, uint64_t lineno, struct event *ev);
int parser_next(struct parser *p, struct event *ev);

/*
 * The correlation state (queue ID -> client) as one blob, and back: the
 * daemon saves it with each commit so that a message whose client= line
 * came before a restart is still joined after it. Import returns 0 (and
 * changes nothing) for a blob of another version.
 */
void *parser_corr_export(struct parser *p, size_t *len);
int parser_corr_import(struct parser *p, const void *blob, size_t len);

/*
 * Called for each line of a known program that no pattern understood
 * (counted in unmatched): the MTA module's name, the program tag (empty in
 * a log without one, Exim's mainlog), the message after it and the whole
 * line; valid during the call only. For `parse --unmatched` and the line
 * shapes of `parse --stats`: what to teach mxguard next.
 */
typedef void (*parser_unmatched_fn)(void *arg, const char *mta, struct span tag, struct span body, struct span line);
void parser_on_unmatched(struct parser *p, parser_unmatched_fn fn, void *arg);

/* Counters, with the correlation figures filled in at the time of the call. */
const struct parser_stats *parser_stats(struct parser *p);
/* Lines given so far (parser_stats' lines, without gathering the rest: cheap per event). */
uint64_t parser_lines(const struct parser *p);

#endif
