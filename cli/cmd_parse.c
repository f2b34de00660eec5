/*
 * cmd_parse.c - "mxguard parse": the parse stage alone.
 *
 * Reads each input (plain or gzip, or standard input) and writes one JSON
 * object per event to standard output; with --stats, writes nothing but a
 * count of what it saw, to standard error, with the commonest shapes of the
 * lines no pattern understood; with --unmatched, those lines instead of the
 * events (what to teach mxguard next).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/outbuf.h"
#include "../parsers/event_json.h"
#include "../parsers/parser.h"
#include "../rules/conf.h"
#include "../tail/linereader.h"
#include "commands.h"
#include "input.h"
#include "shapes.h"

static void
parse_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard parse [-c CONF] [--mta auto|postfix|sendmail|exim|opensmtpd] [--stats]\n"
	    "                     [--unmatched] [--year YYYY] [--max-line BYTES] [FILE...|-]\n"
	    "  Print one JSON object per event found in the MTA logs (plain or gzip;\n"
	    "  '-' or no FILE reads standard input).\n"
	    "  -c, --config CONF  also read the lines its parser blocks teach (tried\n"
	    "                   before the built-in modules); its rules are not used\n"
	    "  --mta NAME       which MTA's lines to read (default: auto, by program tag)\n"
	    "  --stats          print no events; print counts, lines/s and the commonest\n"
	    "                   shapes of the lines no pattern understood to stderr\n"
	    "  --unmatched      print the lines of the MTAs' programs that no pattern\n"
	    "                   understood instead of the events (control bytes and\n"
	    "                   backslashes as \\xNN)\n"
	    "  --year YYYY      year of year-less syslog dates (default: inferred from the\n"
	    "                   file's modification time)\n"
	    "  --max-line N     skip (and count) lines longer than N bytes (default %d)\n",
	    LR_MAX_LINE_DEFAULT);
}

struct output {
	struct outbuf *ob;
	int stats, unmatched;
	struct shapes *shapes;	/* --stats: the unmatched lines' shapes */
};

static void
print_event(void *arg, struct event *ev, const char *file)
{
	struct output *o = arg;

	if (!o->stats && !o->unmatched)
		event_json(o->ob, ev, file);
}

/* A line no pattern understood: counted by shape, printed (a client wrote much of it: no control byte goes out). */
static void
on_unmatched(void *arg, const char *mta, struct span tag, struct span body, struct span line)
{
	struct output *o = arg;

	if (o->shapes != NULL)
		shapes_add(o->shapes, mta, tag, body);
	if (!o->unmatched)
		return;
	for (size_t i = 0; i < line.n; i++) {
		unsigned char c = (unsigned char)line.p[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			char esc[5];

			snprintf(esc, sizeof(esc), "\\x%02x", c);
			ob_put(o->ob, esc, 4);
		} else
			ob_putc(o->ob, (char)c);
	}
	ob_putc(o->ob, '\n');
}

static void
print_stats(struct parser *p, const struct input_totals *t, double secs)
{
	const struct parser_stats *st = parser_stats(p);

	fprintf(stderr, "lines: %llu\n", (unsigned long long)st->lines);
	fprintf(stderr, "events: %llu\n", (unsigned long long)st->events);
	for (int i = 1; i < EV__COUNT; i++)
		fprintf(stderr, "  %s: %llu\n", ev_type_name((enum ev_type)i),
		    (unsigned long long)st->by_type[i]);
	fprintf(stderr, "known_no_event: %llu\n", (unsigned long long)st->known);
	fprintf(stderr, "other_programs: %llu\n", (unsigned long long)st->other_program);
	fprintf(stderr, "not_understood: %llu\n", (unsigned long long)(st->bad_header + st->unmatched));
	fprintf(stderr, "  bad_header: %llu\n", (unsigned long long)st->bad_header);
	fprintf(stderr, "  unmatched: %llu\n", (unsigned long long)st->unmatched);
	fprintf(stderr, "  regex_limit: %llu\n", (unsigned long long)st->limit_hits);
	fprintf(stderr, "doubtful_fields: %llu\n", (unsigned long long)st->doubtful);
	fprintf(stderr, "too_long_skipped: %llu\n", (unsigned long long)t->too_long);
	fprintf(stderr, "truncated_last_line: %llu\n", (unsigned long long)t->truncated);
	fprintf(stderr, "qid_table: size %llu, evicted %llu, expired %llu\n",
	    (unsigned long long)st->corr_size, (unsigned long long)st->corr_evicted,
	    (unsigned long long)st->corr_expired);
	fprintf(stderr, "held_for_address: %llu, dropped %llu\n", (unsigned long long)st->held,
	    (unsigned long long)st->held_dropped);
	fprintf(stderr, "bytes: %llu\n", (unsigned long long)t->bytes);
	fprintf(stderr, "seconds: %.3f\n", secs);
	fprintf(stderr, "lines/s: %.0f\n", secs > 0 ? (double)st->lines / secs : 0.0);
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "unmatched", no_argument, NULL, 'u' },
		{ "config", required_argument, NULL, 'c' },
		INPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct input_opts io;
	struct input_totals tot = { 0 };
	struct output out;
	struct timespec t0, t1;
	struct outbuf ob;
	struct parser *p;
	int stats = 0, unmatched = 0, c, k, rc, nin;
	static char *stdin_only[] = { "-", NULL };
	char **inputs;
	const char *conffile = NULL;
	struct config *conf = NULL;

	input_opts_init(&io);
	while ((c = getopt_long(argc, argv, "suc:h" INPUT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conffile = optarg;
			break;
		case 's':
			stats = 1;
			break;
		case 'u':
			unmatched = 1;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			if ((k = input_opt(&io, c, optarg, "parse")) > 0)
				break;
			if (k < 0)
				return EX_USAGE;
			parse_usage(stderr);
			return EX_USAGE;
		}
	}
	inputs = optind < argc ? argv + optind : stdin_only;
	nin = optind < argc ? argc - optind : 1;

	if (conffile != NULL) {
		if ((conf = conf_load(conffile, print_diag, NULL)) == NULL)
			return EX_CONFIG;
		io.parser.custom = conf->parsers;
		io.parser.ncustom = conf->nparsers;
		if (conf->nparsers == 0)
			log_warnx("parse: %s has no parser block: only the built-in modules read the logs", conffile);
	}
	p = parser_new(&io.parser);
	ob_init(&ob, STDOUT_FILENO, 256 * 1024);
	out.ob = &ob;
	out.stats = stats;
	out.unmatched = unmatched;
	out.shapes = stats ? shapes_new() : NULL;
	if (stats || unmatched)
		parser_on_unmatched(p, on_unmatched, &out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_events(p, inputs, nin, io.max_line, print_event, &out, &tot);
	if (ob_flush(&ob) < 0) {
		log_warn("parse: writing output");
		rc = EX_IOERR;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stats) {
		print_stats(p, &tot, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		shapes_print(out.shapes, stderr, 10);
	}
	shapes_free(out.shapes);
	ob_free(&ob);
	parser_free(p);
	conf_free(conf);
	return rc;
}
