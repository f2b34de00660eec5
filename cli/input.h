/*
 * input.h - read log inputs in order through the parser, event by event.
 *
 * Shared by every command that starts from logs (parse, replay).
 */
#ifndef MXG_INPUT_H
#define MXG_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "../parsers/parser.h"

struct input_totals {
	uint64_t bytes, too_long, truncated;
};

/* Options every log-reading command takes: --mta, --year, --max-line. */
struct input_opts {
	struct parser_opts parser;
	size_t max_line;
};

#define INPUT_LONGOPTS \
	{ "mta", required_argument, NULL, 'm' }, \
	{ "year", required_argument, NULL, 'y' }, \
	{ "max-line", required_argument, NULL, 'L' }
#define INPUT_SHORTOPTS "m:y:L:"

void input_opts_init(struct input_opts *o);
/*
 * Apply option c (one of INPUT_SHORTOPTS) with its argument. Returns 1 if
 * taken, 0 if c is not an input option, -1 (message printed, prefixed
 * with cmd) if the argument is bad.
 */
int input_opt(struct input_opts *o, int c, const char *arg, const char *cmd);

/* file is the input's name when there are several, else NULL. The callback may annotate ev (its reputation). */
typedef void (*event_fn)(void *arg, struct event *ev, const char *file);

/*
 * Put inputs in time order, by the time of each one's first line, when
 * they go backwards as given ("mail.log*" in the shell's order is newest
 * first): said with a warning naming the order read. Equal times keep
 * their order. When some cannot be placed (standard input, no time stamp)
 * nothing moves and a warning says the inputs go backwards. 1 if moved.
 */
int input_order(char **inputs, int n, int year, size_t max_line, const char *cmd);

/*
 * Parse every input ("-" is standard input) in the order given and call fn
 * for each event. A missing input is reported and skipped. Returns 0,
 * EX_NOINPUT (an input could not be opened) or EX_DATAERR (read or gzip
 * error).
 */
int read_events(struct parser *p, char **inputs, int n, size_t max_line, event_fn fn, void *arg,
    struct input_totals *tot);

#endif
