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
#include "commands.h"
#include "control.h"
#include "daemon.h"

/* A request being answered: the daemon, and the answer being built. */
struct req {
	struct daemon *dm;
	struct outbuf *o;
};

static void
reply_decision(void *arg, const struct stored_decision *d)
{
	struct req *r = arg;
	char line[512];

	const char *state = daemon_decision_state(r->dm, d);

	snprintf(line, sizeof(line), "%-40s %-8s %-16s until %lld (level %u)%s%s%s%s\n", d->key, d->action, d->rule,
	    (long long)d->until, d->level, d->origin ? " from " : "", d->origin ? d->origin : "", *state ? " " : "",
	    state);
	ob_put(r->o, line, strlen(line));
}

static void
reply_decision_json(void *arg, const struct stored_decision *d)
{
	struct req *r = arg;
	struct outbuf *o = r->o;

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
	OB_LIT(o, ",\"level\":");
	ob_put_u64(o, d->level);
	OB_LIT(o, ",\"origin\":");
	if (d->origin != NULL)
		ob_put_json_str(o, d->origin, strlen(d->origin));
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

/* "ban ADDR[/LEN] [for DURATION] [ACTION]": a manual decision, like a rule's. */
static void
ctl_ban(struct req *r, char *args, int64_t now)
{
	char *w[6], *save = NULL, key[80], err[160];
	int nw = 0, plen, neg, act = A_BLOCK;
	int64_t dur = 3600;
	struct addr a;

	for (char *t = strtok_r(args, " ", &save); t && nw < 6; t = strtok_r(NULL, " ", &save))
		w[nw++] = t;
	if (nw < 1 || !table_parse_entry(w[0], strlen(w[0]), &a, &plen, &neg, err, sizeof(err)) || neg) {
		reply(r, "error: ban ADDR[/LEN] [for DURATION] [ACTION]: %s\n", nw < 1 ? "no address" : err);
		return;
	}
	for (int i = 1; i < nw; i++) {
		if (strcmp(w[i], "for") == 0 && i + 1 < nw) {
			if (!conf_parse_duration(w[++i], &dur) || dur <= 0) {
				reply(r, "error: '%s' is not a duration (90s, 10m, 2h, 7d)\n", w[i]);
				return;
			}
		} else if ((act = action_by_name(w[i])) < 0 || act == A_LIMIT) {
			reply(r, "error: '%s' is not an action (block, reject, defer, discard, hold, tarpit, log)\n", w[i]);
			return;
		}
	}
	addr_mask(&a, plen);	/* host bits cleared */
	if (daemon_ban(r->dm, &a, plen, (enum action)act, dur, now, key, sizeof(key)) < 0) {
		reply(r, "error: cannot save the ban\n");
		return;
	}
	reply(r, "banned %s (%s for %llds)\n", key, action_name((enum action)act), (long long)dur);
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

void
control_answer(void *dm, char *req, struct outbuf *out)
{
	struct req r = { .dm = dm, .o = out };
	char *cmd = req, *args;
	int json = 0;
	int64_t now = time(NULL);

	if (strncmp(cmd, "--json ", 7) == 0) {
		json = 1;
		cmd += 7;
	}
	args = strchr(cmd, ' ');
	if (args != NULL)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);
	daemon_sync(r.dm);	/* answer from the committed state */
	if (strcmp(cmd, "status") == 0)
		status(&r, json, now);
	else if (strcmp(cmd, "decisions") == 0)
		daemon_list_decisions(r.dm, now, json ? reply_decision_json : reply_decision, &r);
	else if (strcmp(cmd, "stats") == 0)
		stats(&r, json);
	else if (strcmp(cmd, "reputation") == 0)
		reputation(&r, args, now);
	else if (strcmp(cmd, "metrics") == 0)
		daemon_metrics(r.dm, out, now);	/* Prometheus' text format */
	else if (strcmp(cmd, "ban") == 0)
		ctl_ban(&r, args, now);
	else if (strcmp(cmd, "unban") == 0) {
		int unshared = 0;
		long n = *args ? daemon_unban(r.dm, args, now, &unshared) : -1;

		if (unshared)
			reply(&r, "error: released here, but cannot save the release for the cluster\n");
		if (n < 0)
			reply(&r, "error: unban ADDR[/LEN] (as 'decisions' lists it)\n");
		else
			reply(&r, "released %ld decision(s) for %s\n", n, args);
	} else if (strcmp(cmd, "flush") == 0)
		reply(&r, "released %ld decision(s)\n", daemon_flush(r.dm, now));
	else if (strcmp(cmd, "reload") == 0) {
		const char *conffile = daemon_conffile(r.dm);

		if (daemon_reload(r.dm))
			reply(&r, "reloaded %s\n", conffile ? conffile : "(no configuration)");
		else
			reply(&r, "error: %s has errors; the running configuration is kept (see the daemon's log)\n",
			    conffile);
	} else
		reply(&r, "error: unknown command '%s' (status, stats, decisions, reputation, metrics, ban, unban, "
		    "reload, flush)\n", cmd);
}
