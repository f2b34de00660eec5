/*
 * cmd_replay.c - "mxguard replay": the whole pipeline over old logs.
 *
 * Logs are read in the order given, in event time, and every decision the
 * rules would have taken is printed as one JSON object per line. Nothing is
 * enforced: replay never touches a firewall or a map. --summary adds, on
 * stderr, the decisions per rule and the keys decided most often.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../cluster/counters.h"
#include "../common/log.h"
#include "../common/outbuf.h"
#include "../common/xalloc.h"
#include "../rules/engine.h"
#include "../reputation/rep.h"
#include "../reputation/volume.h"
#include "../common/keytab.h"
#include "../tail/linereader.h"
#include "commands.h"
#include "input.h"

#define TOP_KEYS 10
#define CLUSTER_BATCH 65536	/* --cluster: events between two batches to Redis */

struct keycount {
	uint64_t decisions, maxvalue;
	int rule;
};

struct replay {
	struct config *conf;
	struct engine *eng;
	struct outbuf *ob;
	int summary;
	uint64_t events, decisions;
	struct keytab *top;	/* rule index (2 bytes) + key text -> struct keycount */
	struct rep_db *rep;	/* the feeds, when a rule reads reputation; else NULL */
	struct rep_result rr;	/* the current event's */
	struct volume *vol;	/* mxguard's own vol, counted as the logs go */
	struct counters *cnt;	/* --cluster: scope cluster rules counted in Redis */
	uint32_t since_batch;	/* events since the last batch went */
};

static int
rule_index(const struct config *c, const struct rule *r)
{
	for (int i = 0; i < c->nrules; i++)
		if (c->rules[i] == r)
			return i;
	return 0;
}

static void
on_decision(void *arg, const struct decision *d)
{
	struct replay *rp = arg;

	rp->decisions++;
	decision_json(rp->ob, d);
	if (rp->summary) {
		uint8_t k[KEYTAB_KEYMAX];
		size_t kl = strlen(d->key);
		int created, ri = rule_index(rp->conf, d->rule);
		struct keycount *kc;

		k[0] = (uint8_t)(ri >> 8);
		k[1] = (uint8_t)ri;
		if (kl > KEYTAB_KEYMAX - 2)
			kl = KEYTAB_KEYMAX - 2;
		memcpy(k + 2, d->key, kl);
		kc = keytab_put(rp->top, k, kl + 2, d->ts, &created, NULL);
		kc->decisions++;
		kc->rule = ri;
		if (d->value > kc->maxvalue)
			kc->maxvalue = d->value;
	}
}

static void
on_event(void *arg, struct event *ev, const char *file)
{
	struct replay *rp = arg;

	(void)file;
	rp->events++;
	if (rp->vol != NULL && (ev->type == EV_MSG_ACCEPTED || ev->type == EV_BOUNCE_IN) && ev->ip.family != 0)
		volume_count(rp->vol, &ev->ip, ev->ts);
	if (rp->rep != NULL && ev->ip.family != 0) {
		/* At the event's time: an entry that had expired by then did not count then. */
		rep_lookup(rp->rep, &ev->ip, ev->ts, &rp->rr);
		ev->rep = &rp->rr;
	}
	engine_event(rp->eng, ev, on_decision, rp);
	if (rp->cnt != NULL && ++rp->since_batch >= CLUSTER_BATCH) {
		/* One batch in flight while the next is gathered: Redis and the parser work side by side. */
		if (!counters_wait(rp->cnt, 0, 30000))
			log_warnx("replay: --cluster: Redis has not answered a batch in 30 s; going on");
		counters_flush(rp->cnt);
		rp->since_batch = 0;
	}
}

static int
share_counted(void *arg, const struct engine_shared *s)
{
	return counters_add(((struct replay *)arg)->cnt, s);
}

static void
on_crossed(void *arg, int rule, const uint8_t *key, size_t klen, uint64_t value, int64_t ts, const struct addr *ip,
    enum ev_type type)
{
	struct replay *rp = arg;

	engine_cluster_decide(rp->eng, rule, key, klen, value, ts, ip, type, on_decision, rp);
}

/* --cluster URL: the counters, ready (the cluster's key known), or NULL (said why). */
static struct counters *
replay_counters(struct replay *rp, const char *url)
{
	struct redis_url u;
	struct counters *c;
	char why[400];

	if (redis_url_parse(url, &u, why, sizeof(why)) < 0) {
		log_warnx("replay: --cluster: %s", why);
		return NULL;
	}
	c = counters_new(&u, rp->conf, on_crossed, rp);
	if (!counters_wait(c, 1, 10000)) {
		log_warnx("replay: --cluster: the counters are not ready after 10 s (%s)", counters_stats(c).link);
		counters_free(c);
		return NULL;
	}
	engine_set_cluster(rp->eng, counters_key(c), share_counted, rp);
	return c;
}

struct topn {
	struct replay *rp;
	const struct keycount *best[TOP_KEYS];
	int n;
};

static int
better(const struct keycount *a, const struct keycount *b)
{
	return a->decisions != b->decisions ? a->decisions > b->decisions : a->maxvalue > b->maxvalue;
}

static void
collect_top(void *arg, void *payload)
{
	struct topn *t = arg;
	const struct keycount *kc = payload;
	int i;

	if (t->n == TOP_KEYS && !better(kc, t->best[TOP_KEYS - 1]))
		return;
	i = t->n < TOP_KEYS ? t->n++ : TOP_KEYS - 1;
	while (i > 0 && better(kc, t->best[i - 1])) {
		t->best[i] = t->best[i - 1];
		i--;
	}
	t->best[i] = kc;
}

static void
print_summary(struct replay *rp, struct parser *p, double secs)
{
	const struct parser_stats *ps = parser_stats(p);
	const struct config *c = rp->conf;
	struct topn t = { .rp = rp };

	fprintf(stderr, "lines: %llu, events: %llu, decisions: %llu, trusted events skipped: %llu\n",
	    (unsigned long long)ps->lines, (unsigned long long)rp->events,
	    (unsigned long long)rp->decisions, (unsigned long long)engine_trusted(rp->eng));
	fprintf(stderr, "%-20s %10s %10s %10s %10s %10s %10s\n", "rule", "events", "decisions",
	    "suppressed", "keys-peak", "evicted", "expired");
	for (int i = 0; i < c->nrules; i++) {
		struct rule_stats s = engine_rule_stats(rp->eng, i);

		fprintf(stderr, "%-20s %10llu %10llu %10llu %10llu %10llu %10llu\n", c->rules[i]->name,
		    (unsigned long long)s.events, (unsigned long long)s.decisions,
		    (unsigned long long)s.suppressed, (unsigned long long)s.keys_peak,
		    (unsigned long long)s.evicted, (unsigned long long)s.expired);
	}
	keytab_foreach(rp->top, collect_top, &t);
	if (t.n > 0)
		fprintf(stderr, "top keys:\n");
	for (int i = 0; i < t.n; i++) {
		size_t kl;
		const uint8_t *k = keytab_key(rp->top, t.best[i], &kl);

		fprintf(stderr, "  %-40.*s %-16s %4llu decision(s), highest value %llu\n", (int)kl - 2,
		    (const char *)k + 2, c->rules[t.best[i]->rule]->name,
		    (unsigned long long)t.best[i]->decisions, (unsigned long long)t.best[i]->maxvalue);
	}
	fprintf(stderr, "per-key state: %.1f MB at peak; %.3f s, %.0f lines/s\n",
	    (double)engine_memory(rp->eng) / 1e6, secs, secs > 0 ? (double)ps->lines / secs : 0.0);
}

static void
replay_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard replay -c CONFIG [--summary] [--mta auto|postfix|sendmail|exim|opensmtpd] [--year YYYY]\n"
	    "                      [--max-line BYTES] [--cluster URL] LOG...\n"
	    "  Run the rules over old logs (plain or gzip, oldest first) in event time and\n"
	    "  print every decision they would have taken, one JSON object per line.\n"
	    "  Nothing is enforced.\n"
	    "  -c, --config CONFIG  the configuration (its rules, tables and feeds)\n"
	    "  --summary      also print decisions per rule and the top keys on stderr\n"
	    "  --mta NAME     which MTA's lines to read (default: auto, by program tag)\n"
	    "  --year YYYY    year of year-less syslog dates (default: from the file's time)\n"
	    "  --max-line N   skip (and count) lines longer than N bytes\n"
	    "  --cluster URL  count scope cluster rules in that Redis (docs/CLUSTER.md): a Redis\n"
	    "                 of the replay's own, not the live cluster's, whose windows it would fill\n");
}

int
cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "summary", no_argument, NULL, 's' },
		{ "cluster", required_argument, NULL, 'C' },
		INPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct input_opts io;
	struct input_totals tot = { 0 };
	struct replay rp = { 0 };
	struct timespec t0, t1;
	struct outbuf ob;
	struct parser *p;
	const char *conffile = NULL, *clusterurl = NULL;
	int c, k, rc;

	input_opts_init(&io);
	while ((c = getopt_long(argc, argv, "c:sh" INPUT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conffile = optarg;
			break;
		case 's':
			rp.summary = 1;
			break;
		case 'C':
			clusterurl = optarg;
			break;
		case 'h':
			replay_usage(stdout);
			return 0;
		default:
			if ((k = input_opt(&io, c, optarg, "replay")) > 0)
				break;
			if (k < 0)
				return EX_USAGE;
			replay_usage(stderr);
			return EX_USAGE;
		}
	}
	if (conffile == NULL || optind >= argc) {
		replay_usage(stderr);
		return EX_USAGE;
	}
	if ((rp.conf = conf_load(conffile, print_diag, NULL)) == NULL)
		return EX_CONFIG;
	if (rp.conf->uses_rep) {
		rp.rep = rep_new();
		rp.vol = volume_new(1000000);
		rep_set_volume(rp.rep, rp.vol);
		for (int i = 0; i < rp.conf->nfeeds; i++) {
			char err[512];

			if (rep_add(rp.rep, rp.conf->feeds[i], err, sizeof(err)) < 0) {
				fprintf(stderr, "mxguard replay: feed \"%s\": %s\n", rp.conf->feeds[i]->name, err);
				rep_free(rp.rep);
				volume_free(rp.vol);
				conf_free(rp.conf);
				return EX_NOINPUT;
			}
		}
	}
	if (rp.conf->uses_zones)
		log_warnx("replay: %s: rules read DNS zones, which replay does not ask (today's answers are not "
		    "those of the logs' days): every zone is unknown here, its listings false", rp.conf->zones[0]->at);
	rp.eng = engine_new(rp.conf);
	if (clusterurl != NULL && (rp.cnt = replay_counters(&rp, clusterurl)) == NULL) {
		engine_free(rp.eng);
		rep_free(rp.rep);
		volume_free(rp.vol);
		conf_free(rp.conf);
		return EX_UNAVAILABLE;
	}
	if (clusterurl == NULL && rp.conf->ncluster_rules > 0)
		log_warnx("replay: %d rule(s) with scope cluster are counted on these logs alone (--cluster URL "
		    "counts them in a Redis)", rp.conf->ncluster_rules);
	else if (clusterurl != NULL && rp.conf->ncluster_rules == 0)
		log_warnx("replay: --cluster: no rule has scope cluster; Redis is not asked");
	rp.top = keytab_new(100000, sizeof(struct keycount), KEYTAB_KEYMAX);
	ob_init(&ob, STDOUT_FILENO, 256 * 1024);
	rp.ob = &ob;
	io.parser.custom = rp.conf->parsers;
	io.parser.ncustom = rp.conf->nparsers;
	p = parser_new(&io.parser);
	input_order(argv + optind, argc - optind, io.parser.year, io.max_line, "replay");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_events(p, argv + optind, argc - optind, io.max_line, on_event, &rp, &tot);
	if (rp.cnt != NULL) {
		/* the last batches: what was in flight, then what was gathered */
		for (int i = 0; i < 2; i++) {
			if (!counters_wait(rp.cnt, 0, 30000))
				log_warnx("replay: --cluster: Redis has not answered the last batch in 30 s");
			counters_flush(rp.cnt);
		}
		counters_wait(rp.cnt, 0, 30000);
		if (rp.summary) {
			struct counters_stats cs = counters_stats(rp.cnt);

			fprintf(stderr, "cluster counters: %llu updates, %llu script calls in %llu round trips, "
			    "%llu thresholds crossed, %llu dropped, %llu errors\n", (unsigned long long)cs.updates,
			    (unsigned long long)cs.calls, (unsigned long long)cs.batches, (unsigned long long)cs.crossed,
			    (unsigned long long)cs.dropped, (unsigned long long)cs.errors);
		}
	}
	if (ob_flush(&ob) < 0) {
		log_warn("replay: writing output");
		rc = EX_IOERR;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rp.summary)
		print_summary(&rp, p, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	parser_free(p);
	ob_free(&ob);
	keytab_free(rp.top, NULL);
	counters_free(rp.cnt);
	engine_free(rp.eng);
	rep_free(rp.rep);
	volume_free(rp.vol);
	conf_free(rp.conf);
	return rc;
}
