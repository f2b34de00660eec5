/*
 * daemon.c - the daemon's operations behind daemon.h, for its control
 * socket: figures, manual bans and releases, flush. The event loop and
 * the enforcement they call are cmd_run.c's.
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../actions/dmap.h"
#include "../common/table.h"
#include "../parsers/event_json.h"
#include "daemon_state.h"

void
daemon_sync(struct daemon *dm)
{
	if (dm->dirty)
		daemon_commit(dm);
}

void
daemon_status(struct daemon *dm, int64_t now, struct daemon_status *st)
{
	*st = (struct daemon_status){
		.sources = dm->nsrc + (dm->journal != NULL), .lines = dm->lines, .events = dm->nevents, .decisions = dm->ndecisions,
		.active = store_count_active(dm->store, now), .state_ok = dm->store_ok,
		.unsaved = daemon_unsaved(dm), .fw_pending = daemon_fw_pending(dm), .map_ok = !dm->map_failed,
		.atc_answers = dm->atc_answers, .counters_rows = dm->counters_rows, .counters_ms = dm->counters_ms,
	};
}

int
daemon_dns(struct daemon *dm, struct dnsrep_stats *d, struct repwait_stats *w)
{
	if (dm->dns == NULL)
		return 0;
	*d = dnsrep_stats(dm->dns);
	*w = repwait_stats(dm->wait);
	return 1;
}

int
daemon_cluster(struct daemon *dm, struct daemon_cluster *c)
{
	if (dm->cl == NULL)
		return 0;
	*c = (struct daemon_cluster){ .node = dm->node, .link = cluster_stats(dm->cl), .stale = dm->cl_stale,
		.refused_trusted = dm->cl_trusted, .no_rule = dm->cl_norule, .has_counters = dm->cnt != NULL };
	if (dm->cnt != NULL) {
		c->counters = counters_stats(dm->cnt);
		c->counters_ready = counters_ready(dm->cnt);
	}
	return 1;
}

int
daemon_nrules(const struct daemon *dm)
{
	return dm->conf->nrules;
}

const char *
daemon_rule(struct daemon *dm, int i, struct rule_stats *st)
{
	*st = engine_rule_stats(dm->eng, i);
	return dm->conf->rules[i]->name;
}

void
daemon_reputation(struct daemon *dm, const struct addr *a, int64_t now, struct rep_result *r)
{
	rep_lookup(dm->rep, a, now, r);
}

int
daemon_ban(struct daemon *dm, const struct addr *net, int plen, enum action act, int64_t dur, int64_t now,
    char *key, size_t keysz, const struct audit_who *who)
{
	char abuf[ADDR_STRLEN];
	struct stored_decision sd;
	/* Shared with the cluster like a rule's decision (saved in the outbox with it). */
	struct cluster_msg m = { .op = CL_DECIDE, .ts = now, .until = now + dur };

	/* The canonical key: the length only when it is a prefix. */
	addr_format(net, abuf);
	if (plen == (net->family == 4 ? 32 : 128))
		snprintf(key, keysz, "%s", abuf);
	else
		snprintf(key, keysz, "%s/%d", abuf, plen);
	sd = (struct stored_decision){ .rule = "manual", .key = key, .action = action_name(act),
		.ts = now, .until = now + dur, .value = 0, .level = 0, .net = *net, .plen = plen,
		.reason = "manual ban via mxguard ctl" };
	snprintf(m.rule, sizeof(m.rule), "%s", sd.rule);
	snprintf(m.key, sizeof(m.key), "%.64s", key);
	snprintf(m.action, sizeof(m.action), "%s", sd.action);
	if (store_begin(dm->store) < 0 || store_put_decision(dm->store, &sd) < 0 || daemon_share(dm, &m) < 0 ||
	    store_commit(dm->store) < 0) {
		store_rollback(dm->store);
		daemon_shared(dm, 0);
		return -1;
	}
	daemon_shared(dm, 1);
	daemon_fw_one(dm, &sd);
	daemon_map_put(dm, &sd);
	dm->dec_by_action[act]++;
	audit_ban(dm->audit, now, &sd, who);

	/* Printed as a rule's decision is (docs/EVENTS.md's decision lines). */
	OB_LIT(&dm->out, "{\"ts\":\"");
	put_iso8601(&dm->out, now, -1);
	OB_LIT(&dm->out, "\",\"rule\":\"manual\",\"key\":");
	ob_put_json_str(&dm->out, key, strlen(key));
	OB_LIT(&dm->out, ",\"action\":");
	ob_put_json_str(&dm->out, sd.action, strlen(sd.action));
	OB_LIT(&dm->out, ",\"duration\":");
	ob_put_i64(&dm->out, dur);
	OB_LIT(&dm->out, ",\"value\":0,\"level\":0,\"reason\":\"manual ban via mxguard ctl\"}\n");
	ob_flush(&dm->out);
	return 0;
}

long
daemon_unban(struct daemon *dm, const char *key, int64_t now, int *unshared, const struct audit_who *who)
{
	long n = daemon_release(dm, key, now);
	struct cluster_msg m = { .op = CL_RELEASE };

	*unshared = 0;
	/* The whole cluster lets the key go (the other nodes, and any agent). */
	if (n >= 0 && dm->cl != NULL && strlen(key) < sizeof(m.key)) {
		memcpy(m.key, key, strlen(key) + 1);
		if (store_begin(dm->store) < 0 || daemon_share(dm, &m) < 0 || store_commit(dm->store) < 0) {
			store_rollback(dm->store);
			daemon_shared(dm, 0);
			*unshared = 1;
		} else
			daemon_shared(dm, 1);
	}
	if (n > 0) {
		daemon_fw_release(dm, key);
		if (dm->dmap != NULL && dmap_del(dm->dmap, DK_CLIENT, key))
			dm->map_dirty = 1;
	}
	if (n >= 0)
		audit_unban(dm->audit, now, key, n, who);	/* (n 0: released on the cluster's other nodes only) */
	return n;
}

long
daemon_flush(struct daemon *dm, int64_t now, const struct audit_who *who)
{
	long n = daemon_release(dm, NULL, now);

	if (n >= 0)
		audit_flush(dm->audit, now, n, who);
	daemon_fw_flush(dm);
	if (dm->dmap != NULL) {
		dmap_clear(dm->dmap);
		dm->map_dirty = 1;
	}
	return n;
}

const char *
daemon_decision_log(const struct daemon *dm)
{
	return dm->audit != NULL ? audit_path(dm->audit) : NULL;
}

const char *
daemon_conffile(const struct daemon *dm)
{
	return dm->conffile;
}

int
daemon_rule_index(const struct daemon *dm, const char *name)
{
	return conf_rule_index(dm->conf, name);
}

const struct rule *
daemon_rule_conf(const struct daemon *dm, int i)
{
	return dm->conf->rules[i];
}

/* 1 if net/plen holds a: the prefix covers the address. */
static int
prefix_holds(const struct addr *net, int plen, const struct addr *a)
{
	struct addr m = *a;

	if (a->family != net->family)
		return 0;
	addr_mask(&m, plen);
	return memcmp(m.b, net->b, sizeof(m.b)) == 0;
}

int
daemon_ban_guard(struct daemon *dm, const struct addr *net, int plen, char *why, size_t whylen)
{
	int widest = net->family == 4 ? dm->conf->widest_ban_v4 : dm->conf->widest_ban_v6;
	struct ifaddrs *ifs = NULL;
	struct addr lo;

	if (plen == 0) {
		snprintf(why, whylen, "it is every IPv%d address", net->family);
		return 1;
	}
	if (plen < widest) {
		snprintf(why, whylen, "/%d is wider than /%d, the widest a ban takes ('set widest-ban')", plen, widest);
		return 1;
	}
	for (int i = 0; i < dm->conf->ntrusted; i++)
		if (table_overlaps(dm->conf->trusted[i], net, plen)) {
			snprintf(why, whylen, "it holds trusted addresses (table <%s>)", table_name(dm->conf->trusted[i]));
			return 1;
		}
	/* This host's own addresses: its loopback whether or not lo is up, then every interface's. */
	addr_parse(net->family == 4 ? "127.0.0.1" : "::1", net->family == 4 ? 9 : 3, &lo);
	if (prefix_holds(net, plen, &lo)) {
		snprintf(why, whylen, "it holds this host's loopback address");
		return 1;
	}
	if (getifaddrs(&ifs) == 0) {
		for (const struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
			struct addr a = { 0 };
			char text[ADDR_STRLEN];

			if (i->ifa_addr == NULL)
				continue;
			if (i->ifa_addr->sa_family == AF_INET) {
				a.family = 4;
				memcpy(a.b, &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr, 4);
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				a.family = 6;
				memcpy(a.b, &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr, 16);
			} else
				continue;
			if (prefix_holds(net, plen, &a)) {
				addr_format(&a, text);
				snprintf(why, whylen, "it holds %s, an address of this host (%s)", text, i->ifa_name);
				freeifaddrs(ifs);
				return 1;
			}
		}
		freeifaddrs(ifs);
	}
	return 0;
}
