/*
 * steps.h - what happened per minute of event time: the rows of the RRD
 * (docs/REPORTS.md).
 *
 * Events, decisions and lines are counted into the current step (60 s of
 * the log's own time); when an event of a later step comes, the finished
 * step is handed out, and so is every empty step between (zeros: a quiet
 * minute is a measured zero, not a gap). A line older than the current
 * step counts in it (an RRD cannot be written backwards). Because time is
 * the events', a replay of old logs gives the rows the live daemon gave.
 */
#ifndef MXG_STEPS_H
#define MXG_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "../parsers/event.h"
#include "../rules/conf.h"

#define STEP_SECONDS 60
#define STEP_ACTIONS (A_LOG + 1)
#define STEP_GAP_MAX (2 * 366 * 1440)	/* empty steps handed out at most at once (the RRD's longest reach) */

struct step_row {
	int64_t end;			/* the step's end: a multiple of 60, UTC seconds */
	uint64_t events[EV__COUNT];	/* by enum ev_type (EV_NONE unused) */
	uint64_t decisions[STEP_ACTIONS];	/* by enum action */
	uint64_t lines;			/* log lines read */
	uint64_t bans;			/* decisions in force at the step's end (a gauge, set by the caller) */
};

typedef void (*step_fn)(void *arg, const struct step_row *row);

struct steps {
	struct step_row cur;		/* cur.end 0: no step yet */
	step_fn fn;
	void *arg;
};

void steps_init(struct steps *s, step_fn fn, void *arg);

/* Move to the step holding ts (handing out the finished ones); ts <= the current step: stay. */
void steps_at(struct steps *s, int64_t ts);
void steps_event(struct steps *s, const struct event *ev);
void steps_decision(struct steps *s, int64_t ts, enum action a);
/* Lines read: counted in the current step (a line has no time of its own until parsed). */
static inline void
steps_lines(struct steps *s, uint64_t n)
{
	s->cur.lines += n;
}
/* The bans in force now: the gauge of the current step (and of the empty ones after it). */
static inline void
steps_bans(struct steps *s, uint64_t n)
{
	s->cur.bans = n;
}
/* Hand out the current step as it is (the end of an offline run). */
void steps_flush(struct steps *s);

/* The current step, as a blob for the state database (a restart goes on counting it), and back. */
size_t steps_export(const struct steps *s, void *buf, size_t len);
int steps_import(struct steps *s, const void *buf, size_t len);

#endif
