/*
 * dnsrep_lookup.c - test tool: the DNS zones' answers for addresses, through
 * reputation/dnszone.c and a poll(2) loop like the daemon's.
 *
 *   dnsrep_lookup [-r ROUNDS] [-p MS] [-x SIG:PID:AFTER] ZONE... < ADDRESSES
 *
 * ZONE is NAME@DOMAIN@SERVER:PORT followed by any of ,timeout=MS ,cache=N
 * ,risk=N ,spam=N ,vol=N ,value=127.0.0.N/RISK/SPAM/VOL ('-': not given);
 * SERVER may be [IPv6]; NAME@DOMAIN@ asks the system's resolvers.
 *
 * Every address of standard input (one a line) is looked up at once, each
 * round (-r, default 1; -p MS pauses between rounds, the loop running);
 * when a round is done it prints, in input order, one line per address and
 * zone: "ADDR ZONE listed 127.0.0.N risk=R spam=S vol=V" ('-' where not
 * given), "ADDR ZONE not-listed" or "ADDR ZONE unknown", then
 *
 *   stats round=R lookups=.. queries=.. cache_hits=.. listed=.. not_listed=..
 *     timeouts=.. servfail=.. refused=.. errors=.. overflow=.. in_flight=..
 *     cache_size=.. total_ms=.. max_latency_ms=.. sum_latency_ms=.. hit_rate=..
 *
 * (the counters as dnsrep_stats gives them, so far; total_ms from the first
 * lookup of the round to its last answer; a lookup's latency from its
 * dnsrep_lookup call to its callback; hit_rate: the round's cache hits per
 * zone answer, in percent). -x sends signal SIG to process PID once AFTER
 * lookups of the first round have their answer (0: before the first is
 * made): tests/sh/test_dnszone.sh stops or kills the DNS server mid-run.
 * Exit 64 usage, 65 if a line is not an address, 69 if the zones cannot
 * be set up, 70 if the loop would wait for nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/addr.h"
#include "../../common/log.h"
#include "../../reputation/dnszone.h"

struct slot {
	struct addr a;
	char text[ADDR_STRLEN];
	int64_t start, latency;
	int done;
	struct dnsrep_answer ans;
};

static struct {
	int remaining, made;
	int sig, pid, after, signalled;
} run;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
maybe_signal(void)
{
	if (run.sig != 0 && !run.signalled && run.made >= run.after) {
		run.signalled = 1;
		if (kill(run.pid, run.sig) != 0)
			fprintf(stderr, "dnsrep_lookup: kill %d %d: %s\n", run.sig, run.pid, strerror(errno));
	}
}

static void
answer(void *arg, const struct dnsrep_answer *ans)
{
	struct slot *s = arg;

	s->ans = *ans;
	s->latency = now_ms() - s->start;
	s->done = 1;
	run.remaining--;
}

static int
score(const char *s, int max, int8_t *out)
{
	char *end;
	long v;

	if (strcmp(s, "-") == 0) {
		*out = FEED_SCORE_NONE;
		return 1;
	}
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0 || v > max)
		return 0;
	*out = (int8_t)v;
	return 1;
}

/* NAME@DOMAIN@SERVER:PORT[,option]... into *z; 0 if malformed. */
static int
parse_zone(char *arg, struct zone_spec *z)
{
	char *opts = strchr(arg, ','), *dom, *srv, *port, *o;

	memset(z, 0, sizeof(*z));
	z->risk = z->spam = z->vol = FEED_SCORE_NONE;
	if (opts != NULL)
		*opts++ = '\0';
	if ((dom = strchr(arg, '@')) == NULL || (srv = strchr(dom + 1, '@')) == NULL)
		return 0;
	*dom++ = '\0';
	*srv++ = '\0';
	if (strlen(arg) > FEED_NAMEMAX || strlen(dom) >= sizeof(z->domain))
		return 0;
	strcpy(z->name, arg);
	strcpy(z->domain, dom);
	if (*srv == '[') {
		char *close = strchr(srv, ']');

		if (close == NULL)
			return 0;
		*close = '\0';
		port = close[1] == ':' ? close + 2 : NULL;
		srv++;
	} else if ((port = strrchr(srv, ':')) != NULL)
		*port++ = '\0';
	if (strlen(srv) >= sizeof(z->server))
		return 0;
	strcpy(z->server, srv);
	if (port != NULL)
		z->port = (uint16_t)atoi(port);
	for (o = opts ? strtok(opts, ",") : NULL; o != NULL; o = strtok(NULL, ",")) {
		unsigned a, b, c;
		char r[8], s[8], v[8];

		if (strncmp(o, "timeout=", 8) == 0)
			z->timeout_ms = atoi(o + 8);
		else if (strncmp(o, "cache=", 6) == 0)
			z->cache_max = (uint32_t)strtoul(o + 6, NULL, 10);
		else if (strncmp(o, "risk=", 5) == 0) {
			if (!score(o + 5, 10, &z->risk))
				return 0;
		} else if (strncmp(o, "spam=", 5) == 0) {
			if (!score(o + 5, 100, &z->spam))
				return 0;
		} else if (strncmp(o, "vol=", 4) == 0) {
			if (!score(o + 4, 100, &z->vol))
				return 0;
		} else if (strncmp(o, "value=127.", 10) == 0 && z->nvalues < FEED_VALUES_MAX &&
		    sscanf(o + 10, "%u.%u.%u/%7[^/]/%7[^/]/%7s", &a, &b, &c, r, s, v) == 6 && a < 256 && b < 256 && c < 256) {
			struct feed_value *fv = &z->values[z->nvalues++];

			fv->a = 127u << 24 | a << 16 | b << 8 | c;
			if (!score(r, 10, &fv->risk) || !score(s, 100, &fv->spam) || !score(v, 100, &fv->vol))
				return 0;
		} else
			return 0;
	}
	return 1;
}

static void
put_score(const char *name, int8_t v)
{
	if (v == FEED_SCORE_NONE)
		printf(" %s=-", name);
	else
		printf(" %s=%d", name, v);
}

/* Run the loop until every lookup has its answer and, if until > 0, until then. */
static void
loop(struct dnsrep *d, int64_t until)
{
	struct pollfd pfd[64];

	for (;;) {
		int64_t t = now_ms(), dl;
		int n, timeout = -1;

		maybe_signal();
		if (run.remaining == 0 && (until <= 0 || t >= until))
			return;
		n = dnsrep_pollfds(d, pfd, 64);
		dl = dnsrep_next_deadline_ms(d);
		if (dl >= 0)
			timeout = dl > t ? (int)(dl - t) : 0;
		if (until > 0 && t < until && (timeout < 0 || until - t < timeout))
			timeout = (int)(until - t);
		if (n == 0 && timeout < 0) {
			fprintf(stderr, "dnsrep_lookup: %d lookups wait, but nothing is to be waited for\n", run.remaining);
			exit(70);
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			perror("dnsrep_lookup: poll");
			exit(71);
		}
		dnsrep_process(d, now_ms());
	}
}

int
main(int argc, char **argv)
{
	const struct zone_spec *zp[DNSREP_ZONES_MAX];
	struct zone_spec zones[DNSREP_ZONES_MAX];
	struct slot *slot = NULL;
	size_t nslot = 0, cap = 0;
	int rounds = 1, pause_ms = 0, nz = 0, opt;
	char line[256], err[512];
	struct dnsrep *d;
	uint64_t hits_before = 0;

	log_init("dnsrep_lookup", 0);
	while ((opt = getopt(argc, argv, "r:p:x:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'p':
			pause_ms = atoi(optarg);
			break;
		case 'x':
			if (sscanf(optarg, "%d:%d:%d", &run.sig, &run.pid, &run.after) != 3 || run.sig <= 0 || run.pid <= 0) {
				fprintf(stderr, "dnsrep_lookup: -x SIG:PID:AFTER\n");
				return 64;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || argc - optind > DNSREP_ZONES_MAX || rounds < 1)
		goto usage;
	for (int i = optind; i < argc; i++, nz++) {
		if (!parse_zone(argv[i], &zones[nz])) {
			fprintf(stderr, "dnsrep_lookup: bad zone '%s'\n", argv[i]);
			return 64;
		}
		zp[nz] = &zones[nz];
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");

		if (n == 0)
			continue;
		line[n] = '\0';
		if (nslot == cap) {
			cap = cap ? 2 * cap : 1024;
			if ((slot = realloc(slot, cap * sizeof(*slot))) == NULL) {
				perror("dnsrep_lookup");
				return 71;
			}
		}
		if (!addr_parse(line, n, &slot[nslot].a)) {
			fprintf(stderr, "dnsrep_lookup: '%s' is not an address\n", line);
			free(slot);
			return 65;
		}
		addr_format(&slot[nslot].a, slot[nslot].text);
		nslot++;
	}
	if ((d = dnsrep_new(zp, nz, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsrep_lookup: %s\n", err);
		free(slot);
		return 69;
	}
	for (int r = 1; r <= rounds; r++) {
		int64_t t0, total, maxlat = 0, sumlat = 0;
		struct dnsrep_stats st;

		if (r > 1 && pause_ms > 0)
			loop(d, now_ms() + pause_ms);
		run.remaining = (int)nslot;
		t0 = now_ms();
		for (size_t i = 0; i < nslot; i++) {
			slot[i].done = 0;
			slot[i].start = now_ms();
			if (r == 1) {
				maybe_signal();
				run.made++;
			}
			dnsrep_lookup(d, &slot[i].a, slot[i].start, answer, &slot[i]);
		}
		loop(d, 0);
		total = now_ms() - t0;
		for (size_t i = 0; i < nslot; i++) {
			const struct dnsrep_answer *a = &slot[i].ans;

			if (slot[i].latency > maxlat)
				maxlat = slot[i].latency;
			sumlat += slot[i].latency;
			for (int z = 0; z < a->nzones; z++) {
				const struct zone_answer *za = &a->zone[z];

				printf("%s %s ", slot[i].text, zones[z].name);
				if (za->state == ZONE_LISTED) {
					printf("listed %u.%u.%u.%u", za->a >> 24, za->a >> 16 & 0xff, za->a >> 8 & 0xff, za->a & 0xff);
					put_score("risk", za->risk);
					put_score("spam", za->spam);
					put_score("vol", za->vol);
					printf("\n");
				} else
					printf("%s\n", za->state == ZONE_NOT_LISTED ? "not-listed" : "unknown");
			}
		}
		st = dnsrep_stats(d);
		printf("stats round=%d lookups=%" PRIu64 " queries=%" PRIu64 " cache_hits=%" PRIu64 " listed=%" PRIu64
		    " not_listed=%" PRIu64 " timeouts=%" PRIu64 " servfail=%" PRIu64 " refused=%" PRIu64
		    " errors=%" PRIu64 " overflow=%" PRIu64 " in_flight=%" PRIu64 " cache_size=%" PRIu64
		    " total_ms=%" PRId64 " max_latency_ms=%" PRId64 " sum_latency_ms=%" PRId64 " hit_rate=%.2f\n",
		    r, st.lookups, st.queries, st.cache_hits, st.listed, st.not_listed, st.timeouts, st.servfail,
		    st.refused, st.errors, st.overflow, st.in_flight, st.cache_size, total, maxlat, sumlat,
		    nslot ? 100.0 * (double)(st.cache_hits - hits_before) / (double)(nslot * (size_t)nz) : 0.0);
		hits_before = st.cache_hits;
		fflush(stdout);
	}
	dnsrep_free(d);
	free(slot);
	return 0;
usage:
	fprintf(stderr, "usage: dnsrep_lookup [-r ROUNDS] [-p MS] [-x SIG:PID:AFTER] "
	    "NAME@DOMAIN@SERVER:PORT[,timeout=MS][,cache=N][,risk=N][,spam=N][,vol=N][,value=127.0.0.N/R/S/V]... "
	    "< ADDRESSES\n");
	return 64;
}
