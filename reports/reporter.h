/*
 * reporter.h - everything a report directory holds, kept from the events
 * and decisions of a run (docs/REPORTS.md):
 *
 *   DIR/mxguard.rrd               one row per minute (rrdfile.h)
 *   DIR/KIND-PERIOD.png [.svg]    the graphs (graphs.h)
 *   DIR/YYYY-MM-DD/HHMM.json .csv each report interval (default 1 h)
 *   DIR/YYYY-MM-DD/day.json .csv  each day
 *   DIR/index.html                the dashboard (dashboard.h)
 *
 * Time is the events': an offline run over old logs writes what the live
 * daemon would have. Every file is written under a temporary name and
 * renamed. Decisions in force are followed here (they end at their time;
 * a release ends one sooner), for the "bans" gauge, the expired counts and
 * the dashboard's list.
 */
#ifndef MXG_REPORTER_H
#define MXG_REPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "../rules/engine.h"
#include "summary.h"

struct reporter_opts {
	const char *dir;
	const char *host;		/* whose reports */
	const char *rrdcached;		/* "unix:/run/rrdcached.sock", or NULL */
	int64_t interval;		/* seconds (a divisor of a day); 0: 3600 */
	int64_t keep;			/* seconds of days kept; 0: all */
	int svg;			/* SVG graphs too */
	int live;			/* graphs and dashboard at every interval (else only at reporter_finish) */
	int total;			/* keep the whole run's summary too (reporter_total) */
};

struct reporter;

/* NULL with the reason in err (the directory cannot be made, the RRD not opened). */
struct reporter *reporter_new(const struct reporter_opts *o, const struct config *conf, char *err, size_t errlen);
void reporter_free(struct reporter *r);

/*
 * Offline, with a processor to spare: librrd and the fonts loaded on a
 * thread of their own while the lines come (graphs_warm), instead of at
 * the first picture. Not before a fork: the thread is this process's.
 */
void reporter_warm(struct reporter *r);

void reporter_event(struct reporter *r, const struct event *ev);
void reporter_decision(struct reporter *r, const struct decision *d);
void reporter_lines(struct reporter *r, uint64_t n);

/* The end of an offline run: the last minute, interval and day written, the graphs and the dashboard. 0 or -1 (said). */
int reporter_finish(struct reporter *r);

/* The whole run so far (for --text). */
const struct summary *reporter_total(const struct reporter *r);

/* ---- the live daemon (mxguard run --report-dir) ---- */

/* After a reload: the new configuration (the counts so far are kept, by rule name). */
void reporter_reconfigure(struct reporter *r, const struct config *conf);
/* A decision in force from before a restart (the bans gauge and the dashboard's list). */
void reporter_restore_ban(struct reporter *r, const char *key, const char *rule, const char *action, int64_t until);
/* ctl unban (key NULL: flush): those decisions end now, counted as released. */
void reporter_release(struct reporter *r, const char *key, int64_t now);
/*
 * The wall clock, now: when the logs are live (the current minute ended a
 * few seconds ago, not hours: a catch-up of old lines is not), the finished
 * minutes and intervals are written without waiting for the next line; and
 * every 5 minutes the graphs and the dashboard are drawn again, in a child
 * process (librrd's graphing takes time and leaks a little).
 */
void reporter_tick(struct reporter *r, int64_t now);
/*
 * Before the daemon's commit: the RRD's queued rows written (-1 if not all
 * could be), then reporter_export's blob saved with the log positions, so
 * that a restart goes on counting: no gap, nothing twice.
 */
int reporter_sync(struct reporter *r);
/*
 * The blob saved with the positions: the minute in progress, and the rows
 * not yet in the RRD (a reader held it locked); malloc'd. And back: 0, or
 * -1 if it is not one of this version's.
 */
void *reporter_export(const struct reporter *r, size_t *len);
int reporter_import(struct reporter *r, const void *buf, size_t len);

#endif
