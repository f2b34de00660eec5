/*
 * summary.h - what one report interval (or a day) held: totals per event
 * type, decisions made / expired / released by action and per rule, the
 * top clients per event type (an IPv4 address, an IPv6 /64) with the
 * decisions they got, the top domains of unknown recipients and the top
 * HELO names; written as JSON and CSV (docs/REPORTS.md has the schema).
 *
 * Top lists are kept in bounded tables (common/keytab.h: at the cap, of the
 * least recently seen keys the one with the lowest count goes), so a flood
 * of throwaway addresses costs memory up to the cap, never more; a key
 * evicted and seen again starts over. The `others` figures say how many
 * were left out of each list.
 */
#ifndef MXG_SUMMARY_H
#define MXG_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/outbuf.h"
#include "../parsers/event.h"
#include "../rules/engine.h"
#include "steps.h"

#define SUMMARY_TOP 10

struct summary;

/* [from, to): event time, UTC seconds. */
struct summary *summary_new(int64_t from, int64_t to);
void summary_free(struct summary *s);
void summary_reset(struct summary *s, int64_t from, int64_t to);
/*
 * Counting began at ts, after the interval's start (the daemon started or
 * restarted in it, or the logs begin in it): said in the files as
 * "counted_from", so nobody takes a part for the whole.
 */
void summary_counted_from(struct summary *s, int64_t ts);
/* Keep the figures, say they cover [from, to) (a whole run's). */
void summary_set_span(struct summary *s, int64_t from, int64_t to);
int64_t summary_from(const struct summary *s);
int64_t summary_to(const struct summary *s);

/*
 * Add src's figures into dst (an interval into its day): totals, rule
 * counts by name, and the top tables entry by entry (so only the interval
 * is counted per event; the day costs one pass per interval).
 */
void summary_merge(struct summary *dst, const struct summary *src);

void summary_event(struct summary *s, const struct event *ev);
/*
 * The fields summary_event reads of an event of type t beyond its type,
 * time and client (a bit per enum ev_field: the recipient of an unknown
 * recipient, for its domain; the HELO name of all but connects and
 * disconnects): all an offline report's reporter process is sent of an
 * event (split.h).
 */
uint32_t summary_fields(enum ev_type t);
void summary_lines(struct summary *s, uint64_t n);
/* Decisions are kept per rule name (a reload renumbers the rules, not the interval's counts). */
void summary_decision(struct summary *s, const struct decision *d);
void summary_expired(struct summary *s, enum action a);
void summary_released(struct summary *s, enum action a);

/* JSON (one object) and CSV (section,key,detail,value lines); host: whose. */
void summary_json(const struct summary *s, const struct config *conf, const char *host, struct outbuf *ob);
void summary_csv(const struct summary *s, const struct config *conf, struct outbuf *ob);
/* A plain-text summary for a mail (mxguard report --text). */
void summary_text(const struct summary *s, const struct config *conf, struct outbuf *ob);

/* For the dashboard: the top clients over all refusal kinds, and the decisions per rule. */
struct summary_client {
	char client[64];		/* "203.0.113.7", "2001:db8:1:2::/64" */
	uint64_t count;			/* refusals and failures */
	char decided[64];		/* "dha block, ..." or "" */
};
int summary_top_attackers(const struct summary *s, const struct config *conf, struct summary_client *out, int max);
uint64_t summary_rule_decisions(const struct summary *s, const char *rule);
uint64_t summary_events(const struct summary *s, enum ev_type t);

#endif
