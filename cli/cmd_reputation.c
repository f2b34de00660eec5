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
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
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
#include "../common/clock.h"
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
	    "  --zone NAME@SERVER[:PORT]  a DNS zone (repeatable): NAME its domain, SERVER an address\n"
	    "                         ([IPv6]:PORT with a port); a listing counts as risk 10\n"
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

/* A --zone argument "DOMAIN@SERVER[:PORT]" as a zone spec (owned by the caller); NULL if malformed. */
static struct zone_spec *
zone_of_arg(const char *arg)
{
	const char *at = strchr(arg, '@'), *host, *port = NULL;
	char server[ADDR_STRLEN + 2];
	struct zone_spec *z;
	struct addr a;
	size_t hl;

	if (at == NULL || at == arg || (size_t)(at - arg) >= sizeof(z->domain))
		return NULL;
	host = at + 1;
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL)
			return NULL;
		hl = (size_t)(close - host - 1);
		host++;
		port = close[1] == ':' ? close + 2 : close[1] == '\0' ? NULL : "";
	} else {
		const char *colon = strchr(host, ':');

		/* One colon: ADDR:PORT; more: an IPv6 address without a port. */
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hl = (size_t)(colon - host);
			port = colon + 1;
		} else
			hl = strlen(host);
	}
	if (hl >= sizeof(server))
		return NULL;
	memcpy(server, host, hl);
	server[hl] = '\0';
	if (!addr_parse(server, hl, &a) || (port != NULL && (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) < 1 || atoi(port) > 65535)))
		return NULL;
	z = xcalloc(1, sizeof(*z));
	snprintf(z->domain, sizeof(z->domain), "%.*s", (int)(at - arg), arg);
	snprintf(z->name, sizeof(z->name), "%.*s", (int)(at - arg), arg);
	addr_format(&a, z->server);
	z->port = port != NULL ? (uint16_t)atoi(port) : 53;
	z->risk = 10;
	z->spam = z->vol = FEED_SCORE_NONE;
	return z;
}

/* One address being answered: its reputation, and whether the zones have answered. */
struct pending {
	struct addr a;
	struct rep_result r;
	const struct zone_spec *const *zones;
	int done;
};

static void
zones_answered(void *arg, const struct dnsrep_answer *ans)
{
	struct pending *p = arg;

	rep_merge_zones(&p->r, p->zones, ans);
	p->done = 1;
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
		{ "zone", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conffile = NULL, *sock = NULL;
	struct feed_spec **extra = NULL;
	struct zone_spec **xzones = NULL;
	const struct zone_spec *zones[DNSREP_ZONES_MAX];
	struct dnsrep *dns = NULL;
	struct pending *pend = NULL;
	int nxzones = 0, nzones = 0;
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
		case 'z':
			xzones = xrealloc(xzones, (size_t)(nxzones + 1) * sizeof(*xzones));
			if ((xzones[nxzones] = zone_of_arg(optarg)) == NULL) {
				fprintf(stderr, "mxguard reputation: --zone %s: expected DOMAIN@ADDRESS[:PORT] "
				    "(an IPv6 address with a port: [ADDRESS]:PORT)\n", optarg);
				rc = EX_USAGE;
				goto out;
			}
			nxzones++;
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
	if (optind >= argc || (conffile == NULL && nextra == 0 && nxzones == 0) || sock != NULL) {
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
	for (int i = 0; conf != NULL && i < conf->nzones && nzones < DNSREP_ZONES_MAX; i++)
		zones[nzones++] = conf->zones[i];
	for (int i = 0; i < nxzones && nzones < DNSREP_ZONES_MAX; i++)
		zones[nzones++] = xzones[i];
	if (rc == 0 && nzones > 0) {
		char err[512];

		if ((dns = dnsrep_new(zones, nzones, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxguard reputation: DNS zones: %s\n", err);
			rc = EX_UNAVAILABLE;
		}
	}
	if (rc == 0) {
		int n = argc - optind, waiting = 0;

		pend = xcalloc((size_t)n + 1, sizeof(*pend));
		/* Every address at once: the zones' questions overlap; nothing waits on another. */
		for (int i = 0; i < n; i++) {
			struct pending *p = &pend[i];

			if (!addr_parse(argv[optind + i], strlen(argv[optind + i]), &p->a)) {
				fprintf(stderr, "mxguard reputation: '%s' is not an IPv4 or IPv6 address\n", argv[optind + i]);
				rc = EX_DATAERR;
				p->a.family = 0;
				continue;
			}
			rep_lookup(db, &p->a, now, &p->r);
			p->zones = zones;
			p->done = dns == NULL;
			if (dns != NULL && !dnsrep_lookup(dns, &p->a, mono_ms(), zones_answered, p))
				waiting = 1;
		}
		while (waiting) {
			struct pollfd pfd[64];
			int np = dnsrep_pollfds(dns, pfd, 64);
			int64_t dl = dnsrep_next_deadline_ms(dns), wait = dl < 0 ? 1000 : dl - mono_ms();

			if (poll(pfd, (nfds_t)np, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait) < 0 && errno != EINTR)
				break;
			dnsrep_process(dns, mono_ms());
			waiting = 0;
			for (int i = 0; i < n; i++)
				waiting |= pend[i].a.family != 0 && !pend[i].done;
		}
		ob_init(&out, STDOUT_FILENO, 65536);
		for (int i = 0; i < n; i++) {
			char text[ADDR_STRLEN];

			if (pend[i].a.family == 0)
				continue;
			addr_format(&pend[i].a, text);
			OB_LIT(&out, "{\"ip\":\"");
			ob_put(&out, text, strlen(text));
			OB_LIT(&out, "\",");
			rep_put_json(&out, &pend[i].r);
			OB_LIT(&out, "}\n");
		}
		if (ob_flush(&out) < 0 && rc == 0)
			rc = EX_IOERR;
		ob_free(&out);
	}
	dnsrep_free(dns);
	free(pend);
	rep_free(db);
out:
	for (int i = 0; i < nxzones; i++)
		free(xzones[i]);
	free(xzones);
	for (int i = 0; i < nextra; i++) {
		free(extra[i]->path);
		free(extra[i]);
	}
	free(extra);
	conf_free(conf);
	return rc;
}
