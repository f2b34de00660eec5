/*
 * mta.h - the interface of one MTA's parser module (mta_postfix.c, ...).
 *
 * A module is a set of pattern tables (pattern.h) plus the correlation
 * code its log format needs. Adding an MTA is adding one file and one line
 * to the list in parser.c.
 */
#ifndef MXG_MTA_H
#define MXG_MTA_H

#include "corr.h"
#include "event.h"
#include "parser.h"
#include "syslog_hdr.h"

enum mta_result {
	MTA_EVENT,		/* *ev filled */
	MTA_KNOWN,		/* understood, nothing to report */
	MTA_UNMATCHED,		/* a line this module should know but does not */
};

struct mta {
	const char *name;
	/* 1 if this program tag (or, for tag-less forms, header form) is ours. */
	int (*claims)(const struct syslog_hdr *h);
	void *(*state_new)(const struct parser_opts *o);
	void (*state_free)(void *state);
	/* ev has line/ts/mta/node preset; the module fills the rest. */
	enum mta_result (*parse)(void *state, const struct syslog_hdr *h, struct event *ev,
	    struct parser_stats *st);
	/*
	 * Events that the last parse released besides its own (Sendmail's bare
	 * "User unknown" lines wait for the line that names the client), one
	 * per call, oldest first: 1 and *ev filled, or 0. NULL if the module
	 * never holds events back.
	 */
	int (*released)(void *state, struct event *ev);
	/*
	 * State beyond the correlation table that must survive a restart
	 * (Sendmail's held events), as a blob of *len bytes (malloc'd), and
	 * back; load returns 0 for a blob it cannot use. NULL if none.
	 */
	void *(*save)(void *state, size_t *len);
	int (*load)(void *state, const void *blob, size_t len);
	/* The module's correlation table, or NULL if it has none. */
	struct corr_table *(*corr)(void *state);
};

extern const struct mta mta_postfix;
extern const struct mta mta_sendmail;
extern const struct mta mta_exim;
extern const struct mta mta_opensmtpd;

#endif
