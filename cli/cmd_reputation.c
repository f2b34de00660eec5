/*
 * cmd_reputation.c - "mxguard reputation [-c CONFIG] [--feed [FORMAT:]FILE]... ADDR...":
 * what mxguard's feeds say about addresses, one JSON object per address:
 *
 *   {"ip":"203.0.113.7","risk":10,"spam":null,"vol":null,
 *    "sources":{"risk":{"feed":"drop","file":"/var/lib/mxguard/drop.txt","line":12}},"listed":["drop"]}
 *
 * The feeds are the configuration's (-c) and those given with --feed, for
 * a quick check without a configuration: FORMAT as in a feed block, or
 * guessed from the file's first line (csv, drop-json, drop, or list);
 * entries of lists, DROP files and zone files count as risk 10 there.
 * With --socket PATH the running daemon answers instead (mxguard ctl
 * reputation): its feeds, and the vol it counts itself (volume.h).
 * Exit 0; 64 on a usage error; 65 if an argument is not an address (the
 * others are still answered); 66 if a feed cannot be read; 78 if the
 * configuration has errors.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../common/outbuf.h"
#include "../common/readfile.h"
#include "../common/xalloc.h"
#include "../reputation/rep.h"
#include "../rules/conf.h"
#include "commands.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: mxguard reputation [-c CONFIG] [--feed [FORMAT:]FILE]... ADDR...\n"
	    "  What the reputation feeds say about each ADDR: one JSON object per address\n"
	    "  (ip, risk 0-10, spam 0-100, vol 0-100 or null, sources, listed).\n"
	    "  -c CONFIG              the feeds of a configuration\n"
	    "  --feed [FORMAT:]FILE   a feed file (repeatable); FORMAT: csv, list, drop, drop-json,\n"
	    "                         ip4set, ip4trie, ip6trie (default: guessed from its first line)\n"
	    "  --socket PATH          ask the running daemon instead (its feeds and its own vol)\n");
}

/* The format of a feed file from its first line that is neither blank nor a comment. */
static enum feed_format
guess_format(const char *path)
{
	struct stat sb;
	char why[256];
	size_t len;
	char *buf = rf_read_regular(path, &sb, &len, why, sizeof(why));
	enum feed_format f = FEED_LIST;

	for (char *p = buf; p != NULL && p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p)), *e = nl ? nl : buf + len;

		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < e && *p != '#' && *p != ';') {
			f = *p == '{' ? FEED_DROP_JSON : memchr(p, ';', (size_t)(e - p)) ? FEED_DROP :
			    memchr(p, ',', (size_t)(e - p)) ? FEED_CSV : FEED_LIST;
			break;
		}
		p = e + 1;
	}
	free(buf);
	return f;
}

/* A --feed argument as a feed spec (owned by the caller). */
static struct feed_spec *
spec_of_arg(const char *arg)
{
	struct feed_spec *s = xcalloc(1, sizeof(*s));
	const char *colon = strchr(arg, ':'), *path = arg;
	char *base;
	int fmt = -1;

	if (colon != NULL) {
		char word[16];

		snprintf(word, sizeof(word), "%.*s", (int)(colon - arg < 15 ? colon - arg : 15), arg);
		if ((fmt = feed_format_by_name(word)) >= 0)
			path = colon + 1;
	}
	s->path = xstrdup(path);
	s->format = fmt >= 0 ? (enum feed_format)fmt : guess_format(path);
	s->risk = s->format == FEED_CSV ? FEED_SCORE_NONE : 10;
	s->spam = s->vol = FEED_SCORE_NONE;
	s->weight = 1;
	base = xstrdup(path);
	snprintf(s->name, sizeof(s->name), "%s", basename(base));
	free(base);
	return s;
}

int
cmd_reputation(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "feed", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conffile = NULL, *sock = NULL;
	struct feed_spec **extra = NULL;
	struct config *conf = NULL;
	struct rep_db *db;
	struct outbuf out;
	int nextra = 0, c, rc = 0;
	int64_t now = time(NULL);

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			extra = xrealloc(extra, (size_t)(nextra + 1) * sizeof(*extra));
			extra[nextra++] = spec_of_arg(optarg);
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (sock != NULL && optind < argc && conffile == NULL && nextra == 0) {
		/* The daemon's view, one address per request (a request is at most CTL_MAXREQ bytes). */
		for (int i = optind; i < argc && rc == 0; i++) {
			char *av[] = { "ctl", "--socket", (char *)sock, "reputation", argv[i], NULL };

			optind = 0;	/* cmd_ctl parses its own options */
			rc = cmd_ctl(5, av);
		}
		goto out;
	}
	if (optind >= argc || (conffile == NULL && nextra == 0) || sock != NULL) {
		usage(stderr);
		rc = EX_USAGE;
		goto out;
	}
	if (conffile != NULL && (conf = conf_load(conffile, print_diag, NULL)) == NULL) {
		rc = EX_CONFIG;
		goto out;
	}
	db = rep_new();
	for (int i = 0; conf != NULL && i < conf->nfeeds; i++) {
		char err[512];

		if (rep_add(db, conf->feeds[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "mxguard reputation: feed \"%s\": %s\n", conf->feeds[i]->name, err);
			rc = EX_NOINPUT;
		}
	}
	for (int i = 0; i < nextra; i++) {
		char err[512];

		if (rep_add(db, extra[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "mxguard reputation: %s\n", err);
			rc = EX_NOINPUT;
		}
	}
	if (rc == 0) {
		ob_init(&out, STDOUT_FILENO, 65536);
		for (int i = optind; i < argc; i++) {
			struct addr a;
			struct rep_result r;
			char text[ADDR_STRLEN];

			if (!addr_parse(argv[i], strlen(argv[i]), &a)) {
				fprintf(stderr, "mxguard reputation: '%s' is not an IPv4 or IPv6 address\n", argv[i]);
				rc = EX_DATAERR;
				continue;
			}
			rep_lookup(db, &a, now, &r);
			addr_format(&a, text);
			OB_LIT(&out, "{\"ip\":\"");
			ob_put(&out, text, strlen(text));
			OB_LIT(&out, "\",");
			rep_put_json(&out, &r);
			OB_LIT(&out, "}\n");
		}
		if (ob_flush(&out) < 0 && rc == 0)
			rc = EX_IOERR;
		ob_free(&out);
	}
	rep_free(db);
out:
	for (int i = 0; i < nextra; i++) {
		free(extra[i]->path);
		free(extra[i]);
	}
	free(extra);
	conf_free(conf);
	return rc;
}
