/* input.c - inputs to events; see input.h. */
#include "input.h"

#include <sysexits.h>

#include "../common/log.h"
#include "../tail/linereader.h"

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
			if (parser_line(p, line.p, line.n, lr_lineno(r), &ev))
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
