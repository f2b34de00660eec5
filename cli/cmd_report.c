/*
 * cmd_report.c - "mxguard report": a report directory from old logs
 * (docs/REPORTS.md): the RRD, the graphs, the report files and the
 * dashboard the daemon would have written while reading them, and with
 * --text a plain-text summary on stdout for a mail.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/outbuf.h"
#include "../reports/reporter.h"
#include "../reports/split.h"
#include "../rules/engine.h"
#include "../reputation/rep.h"
#include "commands.h"
#include "input.h"

struct report_run {
	struct engine *eng;
	struct split *rep;		/* the reporter, here or in a process of its own */
	struct parser *p;
	uint64_t lines_seen;
	uint64_t decisions;
};

static void
on_decision(void *arg, const struct decision *d)
{
	struct report_run *rr = arg;

	rr->decisions++;
	split_decision(rr->rep, d);
}

static void
on_event(void *arg, struct event *ev, const char *file)
{
	struct report_run *rr = arg;
	uint64_t lines = parser_lines(rr->p);

	(void)file;
	split_event(rr->rep, ev);
	/* the lines read up to this event count in its minute (after it: its minute is set up) */
	split_lines(rr->rep, lines - rr->lines_seen);
	rr->lines_seen = lines;
	engine_event(rr->eng, ev, on_decision, rr);
}

struct finish_args {
	const struct config *conf;
	int text;
};

/* The end, on the reporter's side: the last files and the pictures, and the --text summary. */
static int
finish(struct reporter *r, void *arg)
{
	const struct finish_args *fa = arg;
	int rc = reporter_finish(r) < 0 ? EX_IOERR : 0;

	if (fa->text) {
		struct outbuf ob;

		ob_init(&ob, STDOUT_FILENO, 64 * 1024);
		summary_text(reporter_total(r), fa->conf, &ob);
		if (ob_flush(&ob) < 0) {
			log_warn("report: --text: cannot write the summary (the report directory is written)");
			if (rc == 0)
				rc = EX_IOERR;
		}
		ob_free(&ob);
	}
	return rc;
}

static void
report_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard report -c CONFIG --out DIR [--text] [--interval DURATION] [--keep DURATION]\n"
	    "                      [--svg] [--host NAME] [--mta NAME] [--year YYYY] [--max-line BYTES] LOG...\n"
	    "  Read old logs (oldest first) through the rules, as replay does, and write the report\n"
	    "  directory the daemon would have written meanwhile (docs/REPORTS.md): DIR/mxguard.rrd,\n"
	    "  the graphs, DIR/YYYY-MM-DD/HHMM.json and .csv per interval, day.json and .csv per\n"
	    "  day, and DIR/index.html.\n"
	    "  -c, --config CONFIG  the configuration\n"
	    "  -o, --out DIR   the report directory (made if missing)\n"
	    "  -t, --text      also print a plain-text summary for a mail on stdout\n"
	    "  --interval D    one report file per D (default 1h; whole minutes dividing a day)\n"
	    "  --keep D        remove the days more than D before the newest\n"
	    "  --svg           SVG graphs beside the PNG ones\n"
	    "  --host NAME     the host named in the files and the dashboard (default localhost)\n"
	    "  --mta NAME, --year YYYY, --max-line N  as for replay\n");
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "text", no_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, 'k' },
		{ "svg", no_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		INPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct input_opts io;
	struct input_totals tot = { 0 };
	struct reporter_opts ro = { 0 };
	struct report_run rr = { 0 };
	struct finish_args fa;
	struct reporter *rep;
	struct config *conf;
	const char *conffile = NULL;
	char host[256], err[600];
	int c, k, rc, text = 0;

	input_opts_init(&io);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	ro.host = host;
	while ((c = getopt_long(argc, argv, "c:o:th" INPUT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conffile = optarg;
			break;
		case 'o':
			ro.dir = optarg;
			break;
		case 't':
			text = 1;
			break;
		case 'i':
			if (!conf_parse_duration(optarg, &ro.interval) || ro.interval <= 0 || ro.interval % 60 != 0 ||
			    86400 % ro.interval != 0) {
				fprintf(stderr, "mxguard report: --interval %s: a duration that divides a day into whole "
				    "minutes (1m, 5m, 15m, 1h, ...)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'k':
			if (!conf_parse_duration(optarg, &ro.keep) || ro.keep <= 0) {
				fprintf(stderr, "mxguard report: --keep %s: not a duration\n", optarg);
				return EX_USAGE;
			}
			break;
		case 's':
			ro.svg = 1;
			break;
		case 'H':
			ro.host = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			if ((k = input_opt(&io, c, optarg, "report")) > 0)
				break;
			if (k < 0)
				return EX_USAGE;
			report_usage(stderr);
			return EX_USAGE;
		}
	}
	/*
	 * A reader of --text gone before the summary (`| true`) is a write
	 * error, said, exit status 74, in whichever process writes it — not a
	 * death by signal, which in the reporter's own process would make the
	 * other say the whole report is not complete. (And a reporter's process
	 * that died must not kill this one at its next write to the pipe:
	 * split.h.)
	 */
	signal(SIGPIPE, SIG_IGN);
	if (conffile == NULL || ro.dir == NULL || optind >= argc) {
		report_usage(stderr);
		return EX_USAGE;
	}
	if ((conf = conf_load(conffile, print_diag, NULL)) == NULL)
		return EX_CONFIG;
	if (conf->uses_rep || conf->uses_zones)
		log_warnx("report: %s: rules read reputation, which report does not look up (as replay does not "
		    "ask DNS zones): those conditions see nothing listed", conffile);
	ro.rrdcached = conf->rrdcached;
	ro.total = text;	/* (set rrdcached: the updates go through it, as the daemon's) */
	if ((rep = reporter_new(&ro, conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mxguard report: %s\n", err);
		conf_free(conf);
		return EX_CANTCREAT;
	}
	fa.conf = conf;
	fa.text = text;
	rr.rep = split_start(rep, finish, &fa);
	rr.eng = engine_new(conf);
	io.parser.custom = conf->parsers;
	io.parser.ncustom = conf->nparsers;
	rr.p = parser_new(&io.parser);
	input_order(argv + optind, argc - optind, io.parser.year, io.max_line, "report");
	rc = read_events(rr.p, argv + optind, argc - optind, io.max_line, on_event, &rr, &tot);
	split_lines(rr.rep, parser_stats(rr.p)->lines - rr.lines_seen);
	if ((k = split_finish(rr.rep)) != 0 && rc == 0)
		rc = k;
	fprintf(stderr, "mxguard report: %llu lines, %llu decisions; open %s/index.html\n",
	    (unsigned long long)parser_stats(rr.p)->lines, (unsigned long long)rr.decisions, ro.dir);
	parser_free(rr.p);
	engine_free(rr.eng);
	conf_free(conf);
	return rc;
}
