/* input.c - inputs to events; see input.h. */
#include "input.h"

#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <sysexits.h>

#include "../common/log.h"
#include "../parsers/syslog_hdr.h"
#include "../tail/linereader.h"

void
input_opts_init(struct input_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_line = LR_MAX_LINE_DEFAULT;
}

int
input_opt(struct input_opts *o, int c, const char *arg, const char *cmd)
{
	char *end;
	long y;
	unsigned long n;

	switch (c) {
	case 'm':
		if (parser_mta_by_name(arg) < 0) {
			log_warnx("%s: unknown MTA '%s' (auto, postfix)", cmd, arg);
			return -1;
		}
		o->parser.mta = (enum parser_mta)parser_mta_by_name(arg);
		return 1;
	case 'y':
		y = strtol(arg, &end, 10);
		if (*end != '\0' || y < 1970 || y > 9999) {
			log_warnx("%s: --year wants a year such as 2024, not '%s'", cmd, arg);
			return -1;
		}
		o->parser.year = (int)y;
		return 1;
	case 'L':
		n = strtoul(arg, &end, 10);
		if (*end != '\0' || n < 64 || n > 64 * 1024 * 1024) {
			log_warnx("%s: --max-line wants 64..67108864 bytes, not '%s'", cmd, arg);
			return -1;
		}
		o->max_line = n;
		return 1;
	}
	return 0;
}

int
read_events(struct parser *p, char **inputs, int n, size_t max_line, event_fn fn, void *arg,
    struct input_totals *tot)
{
	struct event ev;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		struct linereader *r = lr_open(inputs[i], max_line);
		const struct lr_stats *ls;
		const char *name = n > 1 ? inputs[i] : NULL;
		struct span line;
		int k;

		if (r == NULL) {
			log_warn("%s", inputs[i]);
			rc = EX_NOINPUT;
			continue;
		}
		parser_begin_input(p, lr_mtime(r));
		while ((k = lr_next(r, &line)) > 0)
			for (int got = parser_line(p, line.p, line.n, lr_lineno(r), &ev); got;
			    got = parser_next(p, &ev))
				fn(arg, &ev, name);
		if (k < 0 && rc == 0)
			rc = EX_DATAERR;
		ls = lr_stats(r);
		tot->bytes += ls->bytes;
		tot->too_long += ls->too_long;
		tot->truncated += ls->truncated;
		if (ls->too_long > 0)
			log_warnx("%s: skipped %llu line(s) longer than %zu bytes", inputs[i],
			    (unsigned long long)ls->too_long, max_line);
		lr_close(r);
	}
	return rc;
}

/* The time of an input's first line with a header, within its first 1,000 lines; 0 if none (or unreadable). */
static int
first_time(const char *path, int year, size_t max_line, int64_t *ts)
{
	struct linereader *r = lr_open(path, max_line);
	struct hdr_clock *clk;
	struct syslog_hdr h;
	struct span line;
	int found = 0;

	if (r == NULL)
		return 0;
	clk = hdr_clock_new(lr_mtime(r), year);	/* (the year inferred as the parser will) */
	for (int i = 0; i < 1000 && !found && lr_next(r, &line) > 0; i++)
		if (syslog_hdr_parse(clk, line.p, line.n, &h)) {
			*ts = h.ts;
			found = 1;
		}
	hdr_clock_free(clk);
	lr_close(r);
	return found;
}

int
input_order(char **inputs, int n, int year, size_t max_line, const char *cmd)
{
	int64_t *ts;
	int known = 0, backwards = 0, moved = 0;

	if (n < 2)
		return 0;
	ts = calloc((size_t)n, sizeof(*ts));
	if (ts == NULL)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(inputs[i], "-") != 0 && first_time(inputs[i], year, max_line, &ts[i]))
			known++;
	for (int i = 1; i < n; i++)
		backwards |= ts[i] != 0 && ts[i - 1] != 0 && ts[i] < ts[i - 1];
	if (backwards && known == n) {
		/* A stable insertion sort: a handful of files; equal first times keep the order given. */
		for (int i = 1; i < n; i++)
			for (int j = i; j > 0 && ts[j] < ts[j - 1]; j--) {
				int64_t t = ts[j];
				char *f = inputs[j];

				ts[j] = ts[j - 1];
				inputs[j] = inputs[j - 1];
				ts[j - 1] = t;
				inputs[j - 1] = f;
				moved = 1;
			}
		if (moved) {
			char list[1024];
			size_t k = 0;

			for (int i = 0; i < n && k < sizeof(list); i++)
				k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s", i ? " " : "", inputs[i]);
			log_warnx("%s: the inputs go back in time; read in the order of their first lines: %s%s", cmd, list,
			    k >= sizeof(list) ? "..." : "");
		}
	} else if (backwards)
		log_warnx("%s: the inputs go back in time (by their first lines) and cannot all be ordered (standard "
		    "input, or an input without a time stamp): events older than a rule's window are counted late",
		    cmd);
	free(ts);
	return moved;
}
