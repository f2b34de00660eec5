/* input.c - inputs to events; see input.h. */
#include "input.h"

#include <string.h>

#include <stdlib.h>
#include <sysexits.h>

#include "../common/log.h"
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
