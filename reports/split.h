/*
 * split.h - an offline report's reporter fed from the process that reads
 * the logs: directly, or, with two processors or more, in a process of its
 * own at the other end of a pipe.
 *
 * Apart, the reading process only encodes each call (an event is a few
 * dozen bytes: its type, time, client and the fields the summaries read,
 * summary_fields); the other process keeps the summaries, writes
 * the RRD and the report files as the minutes and intervals end, loads
 * librrd and the fonts meanwhile, and draws the pictures at the end. A
 * report then costs the reading little more than replay's time plus the
 * drawing (bench/RESULTS.md, issue 15). Both ways write the same files:
 * the reporter sees the same calls in the same order.
 *
 * The reporter process is forked after the configuration is loaded, so a
 * decision's rule pointer means the same rule on both sides; it ends with
 * the report (an end of the pipe without the last record: the reading
 * process died, nothing more is written).
 */
#ifndef MXG_SPLIT_H
#define MXG_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "../parsers/event.h"
#include "../rules/engine.h"
#include "reporter.h"

struct split;

/*
 * What the reporter's side does at the end of the input (reporter_finish,
 * and what else the command writes from the reporter, as a --text
 * summary); its result becomes split_finish's. Runs in the reporter's
 * process, whichever that is.
 */
typedef int (*split_finish_fn)(struct reporter *r, void *arg);

/*
 * Feed r: apart (r is then the other process's; this one only frees it in
 * split_finish) when this process may use two processors or more and the
 * fork succeeds, else directly. The caller ignores SIGPIPE: a reporter's
 * process that died must not kill this one at its next write (split_finish
 * tells of it).
 */
struct split *split_start(struct reporter *r, split_finish_fn fin, void *arg);
void split_event(struct split *s, const struct event *ev);
void split_decision(struct split *s, const struct decision *d);
void split_lines(struct split *s, uint64_t n);
/*
 * The end of the input: fin run on the reporter's side, the process waited
 * for, r freed. fin's result, or 70 (EX_SOFTWARE, said) if the reporter's
 * process ended otherwise.
 */
int split_finish(struct split *s);
/* Whether the reporter is in a process of its own (for tests and the bench's notes). */
int split_apart(const struct split *s);

#endif
