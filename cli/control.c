/*
 * control.c - the daemon's answers to "mxguard ctl": status, stats,
 * decisions, ban, unban, reload, flush (text, or JSON with --json).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/addr.h"
#include "../parsers/event_json.h"
#include "commands.h"
#include "ctl.h"
#include "../actions/dmap.h"
#include "../cluster/counters.h"
#include "daemon.h"

static void
reply_decision(void *arg, const struct stored_decision *d)
{
	struct daemon *dm = arg;
	struct outbuf *o = &dm->reply;
	char line[512];

	const char *state = daemon_decision_state(dm, d);

	snprintf(line, sizeof(line), "%-40s %-8s %-16s until %lld (level %u)%s%s%s%s\n", d->key, d->action, d->rule,
	    (long long)d->until, d->level, d->origin ? " from " : "", d->origin ? d->origin : "", *state ? " " : "",
	    state);
	ob_put(o, line, strlen(line));
}

static void
reply_decision_json(void *arg, const struct stored_decision *d)
{
	struct outbuf *o = &((struct daemon *)arg)->reply;

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
	if (*daemon_decision_state(arg, d))
		OB_LIT(o, "true}\n");
	else
		OB_LIT(o, "false}\n");
}

static void reply(struct daemon *dm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
reply(struct daemon *dm, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		ob_put(&dm->reply, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* "ban ADDR[/LEN] [for DURATION] [ACTION]": a manual decision, like a rule's. */
static void
ctl_ban(struct daemon *dm, char *args)
{
	char *w[6], *save = NULL, key[80], err[160], abuf[ADDR_STRLEN];
	int nw = 0, plen, neg, act = A_BLOCK;
	int64_t dur = 3600, now = time(NULL);
	struct addr a;
	struct stored_decision sd;

	for (char *t = strtok_r(args, " ", &save); t && nw < 6; t = strtok_r(NULL, " ", &save))
		w[nw++] = t;
	if (nw < 1 || !table_parse_entry(w[0], strlen(w[0]), &a, &plen, &neg, err, sizeof(err)) || neg) {
		reply(dm, "error: ban ADDR[/LEN] [for DURATION] [ACTION]: %s\n", nw < 1 ? "no address" : err);
		return;
	}
	for (int i = 1; i < nw; i++) {
		if (strcmp(w[i], "for") == 0 && i + 1 < nw) {
			if (!conf_parse_duration(w[++i], &dur) || dur <= 0) {
				reply(dm, "error: '%s' is not a duration (90s, 10m, 2h, 7d)\n", w[i]);
				return;
			}
		} else if ((act = action_by_name(w[i])) < 0 || act == A_LIMIT) {
			reply(dm, "error: '%s' is not an action (block, reject, defer, discard, hold, tarpit, log)\n", w[i]);
			return;
		}
	}
	/* The canonical key: host bits cleared, the length only when it is a prefix. */
	addr_mask(&a, plen);
	addr_format(&a, abuf);
	if (plen == (a.family == 4 ? 32 : 128))
		snprintf(key, sizeof(key), "%s", abuf);
	else
		snprintf(key, sizeof(key), "%s/%d", abuf, plen);
	sd = (struct stored_decision){ .rule = "manual", .key = key, .action = action_name((enum action)act),
		.ts = now, .until = now + dur, .value = 0, .level = 0, .net = a, .plen = plen };
	{
		/* Shared with the cluster like a rule's decision (saved in the outbox with it). */
		struct cluster_msg m = { .op = CL_DECIDE, .ts = sd.ts, .until = sd.until };

		snprintf(m.rule, sizeof(m.rule), "%s", sd.rule);
		snprintf(m.key, sizeof(m.key), "%.64s", key);
		snprintf(m.action, sizeof(m.action), "%s", sd.action);
		if (store_begin(dm->store) < 0 || store_put_decision(dm->store, &sd) < 0 || daemon_share(dm, &m) < 0 ||
		    store_commit(dm->store) < 0) {
			store_rollback(dm->store);
			daemon_shared(dm, 0);
			reply(dm, "error: cannot save the ban\n");
			return;
		}
		daemon_shared(dm, 1);
	}
	daemon_fw_one(dm, &sd);
	daemon_map_put(dm, &sd);
	dm->dec_by_action[act]++;
	OB_LIT(&dm->out, "{\"ts\":\"");
	put_iso8601(&dm->out, now, -1);
	OB_LIT(&dm->out, "\",\"rule\":\"manual\",\"key\":");
	ob_put_json_str(&dm->out, key, strlen(key));
	reply(dm, "banned %s (%s for %llds)\n", key, sd.action, (long long)dur);
	char tail[200];
	int n = snprintf(tail, sizeof(tail), ",\"action\":\"%s\",\"duration\":%lld,\"value\":0,\"level\":0,"
	    "\"reason\":\"manual ban via mxguard ctl\"}\n", sd.action, (long long)dur);
	ob_put(&dm->out, tail, (size_t)n);
	ob_flush(&dm->out);
}

/* One control request: run it; the answer goes into out (sent by ctl.c, never waiting on the client). */
/*
 * The DNS zones' figures ("dns" of 'status --json'): null when no rule
 * reads a zone. Every zone answer is counted once under listed,
 * not_listed or an unknown (timeouts ... overflow); waiting is what the
 * events of clients with questions out do meanwhile.
 */
/*
 * The cluster link ("cluster" of 'status --json'; null without one): its
 * state, where, what waits to be published, and what came from the stream.
 */
static void
cluster_json(struct daemon *dm)
{
	struct cluster_stats s;

	if (dm->cl == NULL) {
		OB_LIT(&dm->reply, "null");
		return;
	}
	s = cluster_stats(dm->cl);
	OB_LIT(&dm->reply, "{\"node\":");
	ob_put_json_str(&dm->reply, dm->node, strlen(dm->node));
	OB_LIT(&dm->reply, ",\"link\":");
	ob_put_json_str(&dm->reply, s.link, strlen(s.link));
	OB_LIT(&dm->reply, ",\"redis\":");
	ob_put_json_str(&dm->reply, s.where, strlen(s.where));
	reply(dm, ",\"up\":%s,\"backlog\":%llu,\"published\":%llu,\"received\":%llu,\"applied\":%llu,"
	    "\"duplicates\":%llu,\"own\":%llu,\"malformed\":%llu,\"stale\":%llu,\"refused_trusted\":%llu,"
	    "\"no_rule\":%llu",
	    strcmp(s.link, "up") == 0 ? "true" : "false", (unsigned long long)s.backlog,
	    (unsigned long long)s.published, (unsigned long long)s.received, (unsigned long long)s.applied,
	    (unsigned long long)s.duplicates, (unsigned long long)s.own, (unsigned long long)s.malformed,
	    (unsigned long long)dm->cl_stale, (unsigned long long)dm->cl_trusted, (unsigned long long)dm->cl_norule);
	OB_LIT(&dm->reply, ",\"counters\":");
	if (dm->cnt == NULL) {
		OB_LIT(&dm->reply, "null}");
	} else {
		/* scope cluster rules' windows: one round trip per batch, at most one batch per tick */
		struct counters_stats c = counters_stats(dm->cnt);

		OB_LIT(&dm->reply, "{\"link\":");
		ob_put_json_str(&dm->reply, c.link, strlen(c.link));
		reply(dm, ",\"ready\":%s,\"updates\":%llu,\"calls\":%llu,\"round_trips\":%llu,\"crossed\":%llu,"
		    "\"dropped\":%llu,\"errors\":%llu,\"waiting\":%llu,\"last_rtt_ms\":%lld,\"max_rtt_ms\":%lld}}",
		    counters_ready(dm->cnt) ? "true" : "false", (unsigned long long)c.updates,
		    (unsigned long long)c.calls, (unsigned long long)c.batches, (unsigned long long)c.crossed,
		    (unsigned long long)c.dropped, (unsigned long long)c.errors, (unsigned long long)c.waiting,
		    (long long)c.last_rtt_ms,
		    (long long)c.max_rtt_ms);
	}
}

static void
dns_json(struct daemon *dm)
{
	struct dnsrep_stats d;
	struct repwait_stats w;

	if (dm->dns == NULL) {
		OB_LIT(&dm->reply, "null");
		return;
	}
	d = dnsrep_stats(dm->dns);
	w = repwait_stats(dm->wait);
	reply(dm, "{\"lookups\":%llu,\"queries\":%llu,\"cache_hits\":%llu,\"listed\":%llu,\"not_listed\":%llu,"
	    "\"timeouts\":%llu,\"servfail\":%llu,\"refused\":%llu,\"errors\":%llu,\"overflow\":%llu,"
	    "\"in_flight\":%llu,\"cache_size\":%llu,\"other_family\":%llu,\"waiting\":%llu,\"waiting_clients\":%llu,"
	    "\"waiting_bytes\":%llu,\"waited\":%llu,\"forced\":%llu,\"max_wait_ms\":%llu}",
	    (unsigned long long)d.lookups, (unsigned long long)d.queries, (unsigned long long)d.cache_hits,
	    (unsigned long long)d.listed, (unsigned long long)d.not_listed, (unsigned long long)d.timeouts,
	    (unsigned long long)d.servfail, (unsigned long long)d.refused, (unsigned long long)d.errors,
	    (unsigned long long)d.overflow, (unsigned long long)d.in_flight, (unsigned long long)d.cache_size,
	    (unsigned long long)d.other_family, (unsigned long long)w.waiting, (unsigned long long)w.clients, (unsigned long long)w.bytes,
	    (unsigned long long)w.waited, (unsigned long long)w.forced, (unsigned long long)w.max_wait_ms);
}

static void
answer(void *arg, char *req, struct outbuf *out)
{
	struct daemon *dm = arg;
	char *cmd, *args;
	int json = 0;
	int64_t now = time(NULL);

	dm->reply = *out;
	cmd = req;
	if (strncmp(cmd, "--json ", 7) == 0) {
		json = 1;
		cmd += 7;
	}
	args = strchr(cmd, ' ');
	if (args != NULL)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);
	if (dm->dirty)
		daemon_commit(dm);	/* answer from the committed state */
	if (strcmp(cmd, "status") == 0) {
		long active = store_count_active(dm->store, now);

		if (json) {
			reply(dm, "{\"sources\":%d,\"lines\":%llu,\"events\":%llu,\"decisions\":%llu,"
			    "\"active\":%ld,\"state_ok\":%s,\"unsaved\":%d,\"firewall_pending\":%d,\"map_ok\":%s,"
			    "\"at_connect_answers\":%llu,\"counters_saved\":%llu,\"counters_save_ms\":%llu,\"dns\":",
			    dm->nsrc, (unsigned long long)dm->lines,
			    (unsigned long long)dm->nevents, (unsigned long long)dm->ndecisions, active,
			    dm->store_ok ? "true" : "false", daemon_unsaved(dm), daemon_fw_pending(dm),
			    dm->map_failed ? "false" : "true", (unsigned long long)dm->atc_answers,
			    (unsigned long long)dm->counters_rows, (unsigned long long)dm->counters_ms);
			dns_json(dm);
			OB_LIT(&dm->reply, ",\"cluster\":");
			cluster_json(dm);
			reply(dm, "}\n");
		} else {
			reply(dm, "mxguard is running: %d source(s), %llu lines, %llu events, %llu decisions, "
			    "%ld in force; state %s; %d firewall change(s) pending%s", dm->nsrc,
			    (unsigned long long)dm->lines,
			    (unsigned long long)dm->nevents, (unsigned long long)dm->ndecisions, active,
			    dm->store_ok ? "saved" : "NOT SAVED (see the log)", daemon_fw_pending(dm),
			    dm->map_failed ? "; map file NOT WRITTEN (retrying)" : "");
			if (dm->wait != NULL)
				reply(dm, "; %llu event(s) waiting for DNS", (unsigned long long)repwait_stats(dm->wait).waiting);
			if (dm->cl != NULL) {
				struct cluster_stats cs = cluster_stats(dm->cl);

				reply(dm, "; cluster %s (node %s), %llu to publish", cs.link, dm->node,
				    (unsigned long long)cs.backlog);
			}
			reply(dm, "\n");
		}
	} else if (strcmp(cmd, "decisions") == 0) {
		daemon_list_decisions(dm, now, json ? reply_decision_json : reply_decision, dm);
	} else if (strcmp(cmd, "stats") == 0) {
		for (int i = 0; i < dm->conf->nrules; i++) {
			struct rule_stats st = engine_rule_stats(dm->eng, i);
			const char *name = dm->conf->rules[i]->name;

			/* Names are restricted by conf.c; the JSON escaper is used all the same. */
			if (json) {
				OB_LIT(&dm->reply, "{\"rule\":");
				ob_put_json_str(&dm->reply, name, strlen(name));
				name = "";
			}
			reply(dm, json ? "%s,\"events\":%llu,\"decisions\":%llu,\"suppressed\":%llu,"
			    "\"keys\":%llu,\"evicted\":%llu,\"expired\":%llu}\n" :
			    "%-20s events %llu, decisions %llu, suppressed %llu, keys %llu, evicted %llu, expired %llu\n",
			    name, (unsigned long long)st.events, (unsigned long long)st.decisions,
			    (unsigned long long)st.suppressed, (unsigned long long)st.keys,
			    (unsigned long long)st.evicted, (unsigned long long)st.expired);
		}
	} else if (strcmp(cmd, "reputation") == 0) {
		/* What the daemon knows of addresses: its feeds and its own vol; one JSON object each. */
		char *save = NULL;

		for (char *w = strtok_r(args, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
			struct rep_result r;
			struct addr a;
			char text[ADDR_STRLEN];

			if (!addr_parse(w, strlen(w), &a)) {
				reply(dm, "error: '%.60s' is not an IPv4 or IPv6 address\n", w);
				continue;
			}
			rep_lookup(dm->rep, &a, now, &r);
			addr_format(&a, text);
			reply(dm, "{\"ip\":\"%s\",", text);
			rep_put_json(&dm->reply, &r);
			reply(dm, "}\n");
		}
	} else if (strcmp(cmd, "metrics") == 0) {
		daemon_metrics(dm, &dm->reply, now);	/* Prometheus' text format */
	} else if (strcmp(cmd, "ban") == 0) {
		ctl_ban(dm, args);
	} else if (strcmp(cmd, "unban") == 0) {
		long n = *args ? daemon_release(dm, args, now) : -1;
		struct cluster_msg m = { .op = CL_RELEASE };

		/* The whole cluster lets the key go (the other nodes, and any agent). */
		if (n >= 0 && dm->cl != NULL && strlen(args) < sizeof(m.key)) {
			memcpy(m.key, args, strlen(args) + 1);
			if (store_begin(dm->store) < 0 || daemon_share(dm, &m) < 0 || store_commit(dm->store) < 0) {
				store_rollback(dm->store);
				daemon_shared(dm, 0);
				reply(dm, "error: released here, but cannot save the release for the cluster\n");
			} else
				daemon_shared(dm, 1);
		}
		if (n > 0) {
			daemon_fw_release(dm, args);
			if (dm->dmap != NULL && dmap_del(dm->dmap, DK_CLIENT, args))
				dm->map_dirty = 1;
		}
		if (n < 0)
			reply(dm, "error: unban ADDR[/LEN] (as 'decisions' lists it)\n");
		else
			reply(dm, "released %ld decision(s) for %s\n", n, args);
	} else if (strcmp(cmd, "flush") == 0) {
		reply(dm, "released %ld decision(s)\n", daemon_release(dm, NULL, now));
		daemon_fw_flush(dm);
		if (dm->dmap != NULL) {
			dmap_clear(dm->dmap);
			dm->map_dirty = 1;
		}
	} else if (strcmp(cmd, "reload") == 0) {
		if (daemon_reload(dm))
			reply(dm, "reloaded %s\n", dm->conffile ? dm->conffile : "(no configuration)");
		else
			reply(dm, "error: %s has errors; the running configuration is kept (see the daemon's log)\n",
			    dm->conffile);
	} else
		reply(dm, "error: unknown command '%s' (status, stats, decisions, reputation, metrics, ban, unban, reload, flush)\n",
		    cmd);
	*out = dm->reply;
	memset(&dm->reply, 0, sizeof(dm->reply));
}

void
daemon_control(struct daemon *dm, struct ctl_server *cs, short lrevents, const struct pollfd *pfd, int n)
{
	ctl_serve(cs, lrevents, pfd, n, answer, dm);
}

