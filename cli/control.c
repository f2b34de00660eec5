/*
 * control.c - the daemon's answers to "mxguard ctl": status, stats,
 * decisions, ban, unban, reload, flush (text, or JSON with --json).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/addr.h"
#include "../common/table.h"
#include "../parsers/event_json.h"
#include "../rules/cond.h"
#include "commands.h"
#include "control.h"
#include "daemon.h"

/*
 * Which decisions a listing shows: all, those whose prefix holds an
 * address or prefix (FILTER_ADDR), or one rule's (FILTER_RULE).
 */
enum filter { FILTER_NONE, FILTER_ADDR, FILTER_RULE };

/* A request being answered: the daemon, the answer being built, and a listing's filter. */
struct req {
	struct daemon *dm;
	struct outbuf *o;
	int64_t now;
	enum filter filter;
	struct addr a;
	int plen;
	const char *rule;
	long shown;
	struct audit_who who;	/* the caller, for the decision log */
};

/* "3d 4h", "2h 5m", "45s": a time left in the two largest units it has. */
static void
fmt_left(int64_t s, char *buf, size_t n)
{
	static const struct { int64_t secs; char unit; } u[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t k = 0;
	int parts = 0;

	if (s < 0)
		s = 0;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]) && parts < 2; i++)
		if (s >= u[i].secs || (i == 3 && parts == 0)) {
			k += (size_t)snprintf(buf + k, n - k, "%s%lld%c", parts ? " " : "", (long long)(s / u[i].secs), u[i].unit);
			s %= u[i].secs;
			parts++;
		} else if (parts > 0)
			break;	/* "2h 5m", never "2h 5s" */
	(void)k;
}

/* 1 if key (a decision's, as listed) is a client prefix that holds a/plen. */
static int
key_holds(const char *key, const struct addr *a, int plen)
{
	struct addr k, m = *a;
	int klen;

	if (!table_parse_prefix(key, &k, &klen) || k.family != a->family || klen > plen)
		return 0;
	addr_mask(&m, klen);
	return memcmp(m.b, k.b, sizeof(m.b)) == 0;
}

static int
shown(struct req *r, const struct stored_decision *d)
{
	if (r->filter == FILTER_ADDR && !key_holds(d->key, &r->a, r->plen))
		return 0;
	if (r->filter == FILTER_RULE && strcmp(d->rule, r->rule) != 0)
		return 0;
	r->shown++;
	return 1;
}

/*
 * One line per decision: key, action and rule first (scripts take $1 and
 * $3), the time left and when it ends (UTC), the cluster node that took
 * it, why, and "pending" last while it is not in force everywhere.
 */
static void
reply_decision(void *arg, const struct stored_decision *d)
{
	struct req *r = arg;
	char left[32];
	const char *state;
	struct outbuf *o = r->o;
	char head[160];
	int n;

	if (!shown(r, d))
		return;
	state = daemon_decision_state(r->dm, d);
	fmt_left(d->until - r->now, left, sizeof(left));
	n = snprintf(head, sizeof(head), "%-40s %-8s %-16s %s left, until ", d->key, d->action, d->rule, left);
	ob_put(o, head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
	put_iso8601(o, d->until, -1);
	n = snprintf(head, sizeof(head), " (level %u)", d->level);
	ob_put(o, head, (size_t)n);
	if (d->origin != NULL) {
		OB_LIT(o, " from ");
		ob_put(o, d->origin, strlen(d->origin));
	}
	if (d->reason != NULL) {
		OB_LIT(o, ": ");
		/* The reason holds what the rule counted (a HELO, a sender): no line breaks into the listing. */
		for (const char *c = d->reason; *c; c++)
			ob_putc(o, (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c);
	}
	if (*state) {
		ob_putc(o, ' ');
		ob_put(o, state, strlen(state));
	}
	ob_putc(o, '\n');
}

static void
reply_decision_json(void *arg, const struct stored_decision *d)
{
	struct req *r = arg;
	struct outbuf *o = r->o;

	if (!shown(r, d))
		return;
	OB_LIT(o, "{\"key\":");
	ob_put_json_str(o, d->key, strlen(d->key));
	OB_LIT(o, ",\"rule\":");
	ob_put_json_str(o, d->rule, strlen(d->rule));
	OB_LIT(o, ",\"action\":");
	ob_put_json_str(o, d->action, strlen(d->action));
	OB_LIT(o, ",\"ts\":");
	ob_put_i64(o, d->ts);
	OB_LIT(o, ",\"until\":");
	ob_put_i64(o, d->until);
	OB_LIT(o, ",\"until_utc\":\"");
	put_iso8601(o, d->until, -1);
	OB_LIT(o, "\",\"left\":");
	ob_put_i64(o, d->until > r->now ? d->until - r->now : 0);
	OB_LIT(o, ",\"level\":");
	ob_put_u64(o, d->level);
	OB_LIT(o, ",\"origin\":");
	if (d->origin != NULL)
		ob_put_json_str(o, d->origin, strlen(d->origin));
	else
		OB_LIT(o, "null");
	OB_LIT(o, ",\"reason\":");
	if (d->reason != NULL)
		ob_put_json_str(o, d->reason, strlen(d->reason));
	else
		OB_LIT(o, "null");
	OB_LIT(o, ",\"pending\":");
	if (*daemon_decision_state(r->dm, d))
		OB_LIT(o, "true}\n");
	else
		OB_LIT(o, "false}\n");
}

static void reply(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
reply(struct req *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		ob_put(r->o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Split args into at most max words; -1 if there are more. */
static int
words(char *args, char **w, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *t = strtok_r(args, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return -1;
		w[n++] = t;
	}
	return n;
}

#define BAN_USAGE "ban ADDR[/LEN] [for DURATION] [ACTION] [--force]"

/*
 * "ban ADDR[/LEN] [for DURATION] [ACTION] [--force]": a manual decision,
 * like a rule's. Refused without --force when it would reach every
 * address, a prefix wider than 'set widest-ban', a trusted address or
 * this host's own (daemon_ban_guard).
 */
static void
ctl_ban(struct req *r, char *args)
{
	char *w[6], key[80], err[160], why[200];
	int nw = words(args, w, 6), plen, act = A_BLOCK, force = 0, have_act = 0, have_dur = 0;
	int64_t dur = 3600;
	struct addr a;

	if (nw < 1) {
		reply(r, "error: usage: " BAN_USAGE "%s\n", nw < 0 ? ": too many words" : ": no address");
		return;
	}
	{
		int neg;

		if (!table_parse_entry(w[0], strlen(w[0]), &a, &plen, &neg, err, sizeof(err)) || neg) {
			reply(r, "error: " BAN_USAGE ": %s\n", neg ? "a negation ('!') is no address" : err);
			return;
		}
	}
	for (int i = 1; i < nw; i++) {
		int x = -1;

		if (strcmp(w[i], "--force") == 0 && !force) {
			force = 1;
		} else if (strcmp(w[i], "for") == 0 && !have_dur) {
			if (i + 1 == nw) {
				reply(r, "error: usage: " BAN_USAGE ": 'for' needs a duration\n");
				return;
			}
			if (!conf_parse_duration(w[++i], &dur) || dur <= 0) {
				reply(r, "error: '%s' is not a duration (90s, 10m, 2h, 7d)\n", w[i]);
				return;
			}
			have_dur = 1;
		} else if (strcmp(w[i], "for") == 0 || strcmp(w[i], "--force") == 0 ||
		    ((x = action_by_name(w[i])) >= 0 && have_act)) {
			reply(r, "error: usage: " BAN_USAGE ": '%s' is given twice\n", w[i]);
			return;
		} else if (x < 0) {
			reply(r, "error: '%s' is not an action (block, reject, defer, discard, hold, tarpit, log)\n", w[i]);
			return;
		} else if (x == A_LIMIT) {
			reply(r, "error: 'limit' needs a rate: it is a rule's action ('do limit N per DURATION')\n");
			return;
		} else {
			act = x;
			have_act = 1;
		}
	}
	addr_mask(&a, plen);	/* host bits cleared */
	if (daemon_ban_guard(r->dm, &a, plen, why, sizeof(why)) && !force) {
		reply(r, "error: not banned: %s (add --force to ban it all the same)\n", why);
		return;
	}
	if (daemon_ban(r->dm, &a, plen, (enum action)act, dur, r->now, key, sizeof(key), &r->who) < 0) {
		reply(r, "error: cannot save the ban\n");
		return;
	}
	reply(r, "banned %s (%s for %llds)\n", key, action_name((enum action)act), (long long)dur);
}

/* A key "decisions" listed once, to release (unban). */
struct keys {
	char (*k)[80];
	const char **rule;
	int n, cap;
	struct req *r;
};

static void
collect_key(void *arg, const struct stored_decision *d)
{
	struct keys *ks = arg;

	if (!shown(ks->r, d) || strlen(d->key) >= sizeof(ks->k[0]))
		return;
	for (int i = 0; i < ks->n; i++)
		if (strcmp(ks->k[i], d->key) == 0)
			return;
	if (ks->n == ks->cap)
		return;		/* (a listing larger than the reply is refused below) */
	memcpy(ks->k[ks->n], d->key, strlen(d->key) + 1);
	ks->n++;
}

/*
 * "unban ADDR[/LEN]": every decision whose prefix holds the address (or
 * the whole prefix) — a client under a /64 or /28 ban is let go too —
 * and says which; any other key (a HELO name, a sender) as "decisions"
 * lists it, exactly.
 */
static void
ctl_unban(struct req *r, char *args)
{
	char *w[2];
	int nw = words(args, w, 1);
	char k[64][80];	/* (5 KB: on the stack) */
	struct keys ks = { .k = k, .cap = 64, .r = r };
	long total = 0;
	int unshared = 0;

	if (nw != 1) {
		reply(r, "error: usage: unban ADDR[/LEN] (or a key as 'decisions' lists it)\n");
		return;
	}
	if (table_parse_prefix(w[0], &r->a, &r->plen)) {
		r->filter = FILTER_ADDR;
		if (daemon_list_decisions(r->dm, r->now, collect_key, &ks) < 0) {
			reply(r, "error: the state database cannot be read (see the daemon's log)\n");
			return;
		}
		if (ks.n == ks.cap) {
			reply(r, "error: more than %d keys hold %s: unban them one by one, or flush\n", ks.cap, w[0]);
			return;
		}
	}
	if (ks.n == 0) {
		/* The key as given: released on the other nodes of a cluster even if none is in force here. */
		size_t n = strnlen(w[0], sizeof(k[0]) - 1);

		memcpy(k[0], w[0], n);
		k[0][n] = '\0';
		ks.n = 1;
	}
	for (int i = 0; i < ks.n; i++) {
		int u = 0;
		long n = daemon_unban(r->dm, k[i], r->now, &u, &r->who);

		if (n < 0) {
			reply(r, "error: the state database cannot be changed (see the daemon's log)\n");
			return;
		}
		unshared |= u;
		total += n;
		if (n == 0)
			k[i][0] = '\0';	/* (not named below) */
	}
	if (unshared)
		reply(r, "error: released here, but cannot save the release for the cluster\n");
	reply(r, "released %ld decision(s) for %s", total, w[0]);
	for (int i = 0, named = 0; i < ks.n; i++)
		if (k[i][0] != '\0')
			reply(r, "%s%s", named++ ? ", " : ": ", k[i]);
	reply(r, "\n");
}

/*
 * The cluster link ("cluster" of 'status --json'; null without one): its
 * state, where, what waits to be published, and what came from the stream.
 */
static void
cluster_json(struct req *r)
{
	struct daemon_cluster c;
	struct outbuf *o = r->o;

	if (!daemon_cluster(r->dm, &c)) {
		OB_LIT(o, "null");
		return;
	}
	OB_LIT(o, "{\"node\":");
	ob_put_json_str(o, c.node, strlen(c.node));
	OB_LIT(o, ",\"link\":");
	ob_put_json_str(o, c.link.link, strlen(c.link.link));
	OB_LIT(o, ",\"redis\":");
	ob_put_json_str(o, c.link.where, strlen(c.link.where));
	reply(r, ",\"up\":%s,\"backlog\":%llu,\"published\":%llu,\"received\":%llu,\"applied\":%llu,"
	    "\"duplicates\":%llu,\"own\":%llu,\"malformed\":%llu,\"stale\":%llu,\"refused_trusted\":%llu,"
	    "\"no_rule\":%llu",
	    strcmp(c.link.link, "up") == 0 ? "true" : "false", (unsigned long long)c.link.backlog,
	    (unsigned long long)c.link.published, (unsigned long long)c.link.received,
	    (unsigned long long)c.link.applied, (unsigned long long)c.link.duplicates,
	    (unsigned long long)c.link.own, (unsigned long long)c.link.malformed, (unsigned long long)c.stale,
	    (unsigned long long)c.refused_trusted, (unsigned long long)c.no_rule);
	OB_LIT(o, ",\"counters\":");
	if (!c.has_counters) {
		OB_LIT(o, "null}");
	} else {
		/* scope cluster rules' windows: one round trip per batch, at most one batch per tick */
		OB_LIT(o, "{\"link\":");
		ob_put_json_str(o, c.counters.link, strlen(c.counters.link));
		reply(r, ",\"ready\":%s,\"updates\":%llu,\"calls\":%llu,\"round_trips\":%llu,\"crossed\":%llu,"
		    "\"dropped\":%llu,\"errors\":%llu,\"waiting\":%llu,\"last_rtt_ms\":%lld,\"max_rtt_ms\":%lld}}",
		    c.counters_ready ? "true" : "false", (unsigned long long)c.counters.updates,
		    (unsigned long long)c.counters.calls, (unsigned long long)c.counters.batches,
		    (unsigned long long)c.counters.crossed, (unsigned long long)c.counters.dropped,
		    (unsigned long long)c.counters.errors, (unsigned long long)c.counters.waiting,
		    (long long)c.counters.last_rtt_ms, (long long)c.counters.max_rtt_ms);
	}
}

/*
 * The DNS zones' figures ("dns" of 'status --json'): null when no rule
 * reads a zone. Every zone answer is counted once under listed,
 * not_listed or an unknown (timeouts ... overflow); waiting is what the
 * events of clients with questions out do meanwhile.
 */
static void
dns_json(struct req *r)
{
	struct dnsrep_stats d;
	struct repwait_stats w;

	if (!daemon_dns(r->dm, &d, &w)) {
		OB_LIT(r->o, "null");
		return;
	}
	reply(r, "{\"lookups\":%llu,\"queries\":%llu,\"cache_hits\":%llu,\"listed\":%llu,\"not_listed\":%llu,"
	    "\"timeouts\":%llu,\"servfail\":%llu,\"refused\":%llu,\"errors\":%llu,\"overflow\":%llu,"
	    "\"in_flight\":%llu,\"cache_size\":%llu,\"other_family\":%llu,\"waiting\":%llu,\"waiting_clients\":%llu,"
	    "\"waiting_bytes\":%llu,\"waited\":%llu,\"forced\":%llu,\"max_wait_ms\":%llu}",
	    (unsigned long long)d.lookups, (unsigned long long)d.queries, (unsigned long long)d.cache_hits,
	    (unsigned long long)d.listed, (unsigned long long)d.not_listed, (unsigned long long)d.timeouts,
	    (unsigned long long)d.servfail, (unsigned long long)d.refused, (unsigned long long)d.errors,
	    (unsigned long long)d.overflow, (unsigned long long)d.in_flight, (unsigned long long)d.cache_size,
	    (unsigned long long)d.other_family, (unsigned long long)w.waiting, (unsigned long long)w.clients,
	    (unsigned long long)w.bytes, (unsigned long long)w.waited, (unsigned long long)w.forced,
	    (unsigned long long)w.max_wait_ms);
}

static void
status(struct req *r, int json, int64_t now)
{
	struct daemon_status st;

	daemon_status(r->dm, now, &st);
	if (json) {
		reply(r, "{\"sources\":%d,\"lines\":%llu,\"events\":%llu,\"decisions\":%llu,"
		    "\"active\":%ld,\"state_ok\":%s,\"unsaved\":%d,\"firewall_pending\":%d,\"map_ok\":%s,"
		    "\"at_connect_answers\":%llu,\"counters_saved\":%llu,\"counters_save_ms\":%llu,\"dns\":",
		    st.sources, (unsigned long long)st.lines, (unsigned long long)st.events,
		    (unsigned long long)st.decisions, st.active, st.state_ok ? "true" : "false", st.unsaved,
		    st.fw_pending, st.map_ok ? "true" : "false", (unsigned long long)st.atc_answers,
		    (unsigned long long)st.counters_rows, (unsigned long long)st.counters_ms);
		dns_json(r);
		OB_LIT(r->o, ",\"cluster\":");
		cluster_json(r);
		reply(r, "}\n");
		return;
	}
	reply(r, "mxguard is running: %d source(s), %llu lines, %llu events, %llu decisions, "
	    "%ld in force; state %s; %d firewall change(s) pending%s", st.sources, (unsigned long long)st.lines,
	    (unsigned long long)st.events, (unsigned long long)st.decisions, st.active,
	    st.state_ok ? "saved" : "NOT SAVED (see the log)", st.fw_pending,
	    st.map_ok ? "" : "; map file NOT WRITTEN (retrying)");
	{
		struct dnsrep_stats d;
		struct repwait_stats w;

		if (daemon_dns(r->dm, &d, &w))
			reply(r, "; %llu event(s) waiting for DNS", (unsigned long long)w.waiting);
	}
	{
		struct daemon_cluster c;

		if (daemon_cluster(r->dm, &c))
			reply(r, "; cluster %s (node %s), %llu to publish", c.link.link, c.node,
			    (unsigned long long)c.link.backlog);
	}
	reply(r, "\n");
}

static void
stats(struct req *r, int json)
{
	for (int i = 0; i < daemon_nrules(r->dm); i++) {
		struct rule_stats st;
		const char *name = daemon_rule(r->dm, i, &st);

		/* Names are restricted by conf.c; the JSON escaper is used all the same. */
		if (json) {
			OB_LIT(r->o, "{\"rule\":");
			ob_put_json_str(r->o, name, strlen(name));
			name = "";
		}
		reply(r, json ? "%s,\"events\":%llu,\"decisions\":%llu,\"suppressed\":%llu,"
		    "\"keys\":%llu,\"evicted\":%llu,\"expired\":%llu}\n" :
		    "%-20s events %llu, decisions %llu, suppressed %llu, keys %llu, evicted %llu, expired %llu\n",
		    name, (unsigned long long)st.events, (unsigned long long)st.decisions,
		    (unsigned long long)st.suppressed, (unsigned long long)st.keys,
		    (unsigned long long)st.evicted, (unsigned long long)st.expired);
	}
}

/* What the daemon knows of addresses: its feeds and its own volume; one JSON object each. */
static void
reputation(struct req *r, char *args, int64_t now)
{
	char *save = NULL;

	for (char *w = strtok_r(args, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		struct rep_result rr;
		struct addr a;
		char text[ADDR_STRLEN];

		if (!addr_parse(w, strlen(w), &a)) {
			reply(r, "error: '%.60s' is not an IPv4 or IPv6 address\n", w);
			continue;
		}
		daemon_reputation(r->dm, &a, now, &rr);
		addr_format(&a, text);
		reply(r, "{\"ip\":\"%s\",", text);
		rep_put_json(r->o, &rr);
		reply(r, "}\n");
	}
}

/* The decisions r's filter shows, as fn writes them, into tmp (a memory buffer the caller frees). */
static void
listed(struct req *r, store_decision_fn fn, struct outbuf *tmp)
{
	struct outbuf *o = r->o;

	ob_init(tmp, -1, 1024);
	r->o = tmp;
	daemon_list_decisions(r->dm, r->now, fn, r);
	r->o = o;
}

/*
 * "status RULE": the rule's threshold, window and action, what it has
 * seen, the keys it tracks, and its decisions in force with their time
 * left — what "fail2ban-client status JAIL" tells of a jail.
 */
static void
rule_status(struct req *r, const char *name, int json)
{
	int i = daemon_rule_index(r->dm, name);
	const struct rule *ru;
	struct rule_stats st;
	char win[32], dur[32];

	if (i < 0) {
		reply(r, "error: no rule named '%.60s' (ctl stats lists them)\n", name);
		return;
	}
	ru = daemon_rule_conf(r->dm, i);
	daemon_rule(r->dm, i, &st);
	conf_format_duration(ru->window, win, sizeof(win));
	conf_format_duration(ru->duration, dur, sizeof(dur));
	r->filter = FILTER_RULE;
	r->rule = name;
	if (json) {
		OB_LIT(r->o, "{\"rule\":");
		ob_put_json_str(r->o, name, strlen(name));
		reply(r, ",\"key\":\"%s\",\"threshold\":%llu,\"window\":%lld,\"action\":\"%s\",\"duration\":%lld,"
		    "\"events\":%llu,\"decisions\":%llu,\"suppressed\":%llu,\"keys\":%llu,\"evicted\":%llu,"
		    "\"expired\":%llu,\"in_force\":[", key_kind_name(ru->key), (unsigned long long)ru->threshold,
		    (long long)ru->window, action_name(ru->action), (long long)ru->duration,
		    (unsigned long long)st.events, (unsigned long long)st.decisions, (unsigned long long)st.suppressed,
		    (unsigned long long)st.keys, (unsigned long long)st.evicted, (unsigned long long)st.expired);
		{
			/* The decisions as 'decisions --json' gives them, joined into an array. */
			struct outbuf tmp;

			listed(r, reply_decision_json, &tmp);
			for (size_t k = 0; k < tmp.len; k++)
				if (tmp.p[k] != '\n')
					ob_putc(r->o, tmp.p[k]);
				else if (k + 1 < tmp.len)
					ob_putc(r->o, ',');
			ob_free(&tmp);
		}
		reply(r, "]}\n");
		return;
	}
	if (ru->measure == M_COUNT)
		reply(r, "rule %s: %llu events", name, (unsigned long long)ru->threshold);
	else
		reply(r, "rule %s: %s %s >= %llu", name, ru->measure == M_SUM ? "total" : "distinct",
		    cond_field_name(ru->field), (unsigned long long)ru->threshold);
	reply(r, " within %s by %s, then %s", win, key_kind_name(ru->key), action_name(ru->action));
	if (ru->action != A_LOG)
		reply(r, " for %s", dur);
	reply(r, "\n  events %llu, decisions %llu (suppressed %llu), keys tracked %llu (evicted %llu, expired %llu)\n",
	    (unsigned long long)st.events, (unsigned long long)st.decisions, (unsigned long long)st.suppressed,
	    (unsigned long long)st.keys, (unsigned long long)st.evicted, (unsigned long long)st.expired);
	{
		struct outbuf tmp, *o = r->o;

		listed(r, reply_decision, &tmp);
		reply(r, "  in force: %ld\n", r->shown);
		for (size_t k = 0; k < tmp.len; k++) {
			if (k == 0 || tmp.p[k - 1] == '\n')
				OB_LIT(o, "    ");
			ob_putc(o, tmp.p[k]);
		}
		ob_free(&tmp);
	}
}

/* A command that takes no words. */
static int
no_args(struct req *r, const char *cmd, const char *args)
{
	if (*args == '\0')
		return 1;
	reply(r, "error: usage: %s takes no arguments (found '%.60s')\n", cmd, args);
	return 0;
}

void
control_answer(void *dm, const struct ctl_peer *peer, char *req, struct outbuf *out)
{
	struct req r = { .dm = dm, .o = out, .now = time(NULL),
		.who = { .by = BY_CTL, .uid = peer->uid, .pid = peer->pid } };
	char *cmd = req, *args, *w[2];
	int json = 0, nw;
	int64_t now = r.now;

	if (strncmp(cmd, "--json ", 7) == 0) {
		json = 1;
		cmd += 7;
	}
	args = strchr(cmd, ' ');
	if (args != NULL)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);
	args += strspn(args, " ");
	daemon_sync(r.dm);	/* answer from the committed state */
	if (strcmp(cmd, "status") == 0) {
		if ((nw = words(args, w, 1)) < 0)
			reply(&r, "error: usage: status [RULE]\n");
		else if (nw == 1)
			rule_status(&r, w[0], json);
		else
			status(&r, json, now);
	} else if (strcmp(cmd, "decisions") == 0) {
		if ((nw = words(args, w, 1)) < 0) {
			reply(&r, "error: usage: decisions [ADDR[/LEN] | RULE]\n");
		} else {
			if (nw == 1 && table_parse_prefix(w[0], &r.a, &r.plen)) {
				r.filter = FILTER_ADDR;
			} else if (nw == 1) {
				if (daemon_rule_index(r.dm, w[0]) < 0 && strcmp(w[0], "manual") != 0) {
					reply(&r, "error: '%.60s' is neither an address, a prefix nor a rule's name\n", w[0]);
					return;
				}
				r.filter = FILTER_RULE;
				r.rule = w[0];
			}
			if (daemon_list_decisions(r.dm, now, json ? reply_decision_json : reply_decision, &r) < 0)
				reply(&r, "error: the state database cannot be read (see the daemon's log)\n");
		}
	} else if (strcmp(cmd, "stats") == 0) {
		if (no_args(&r, cmd, args))
			stats(&r, json);
	} else if (strcmp(cmd, "reputation") == 0) {
		if (*args == '\0')
			reply(&r, "error: usage: reputation ADDR...\n");
		else
			reputation(&r, args, now);
	} else if (strcmp(cmd, "metrics") == 0) {
		if (no_args(&r, cmd, args))
			daemon_metrics(r.dm, out, now);	/* Prometheus' text format */
	} else if (strcmp(cmd, "ban") == 0) {
		ctl_ban(&r, args);
	} else if (strcmp(cmd, "unban") == 0) {
		ctl_unban(&r, args);
	} else if (strcmp(cmd, "flush") == 0) {
		if (no_args(&r, cmd, args))
			reply(&r, "released %ld decision(s)\n", daemon_flush(r.dm, now, &r.who));
	} else if (strcmp(cmd, "reload") == 0) {
		const char *conffile = daemon_conffile(r.dm);

		if (!no_args(&r, cmd, args))
			return;
		if (daemon_reload(r.dm, &r.who))
			reply(&r, "reloaded %s\n", conffile ? conffile : "(no configuration)");
		else
			reply(&r, "error: %s has errors; the running configuration is kept (see the daemon's log)\n",
			    conffile);
	} else if (strcmp(cmd, "decision-log") == 0) {
		/* (asked by ctl history, which reads the log itself: a long history never holds the daemon up) */
		if (no_args(&r, cmd, args)) {
			const char *path = daemon_decision_log(r.dm);

			if (path != NULL) {
				ob_put(out, path, strlen(path));
				ob_putc(out, '\n');
			}
			else
				reply(&r, "error: this daemon keeps no decision log (set decision-log off)\n");
		}
	} else
		reply(&r, "error: unknown command '%s' (status [RULE], stats, decisions [ADDR|RULE], reputation, metrics, "
		    "ban, unban, reload, flush, decision-log)\n", cmd);
}
