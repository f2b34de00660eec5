/*
 * daemon.h - what "mxguard run" offers its control socket (control.c): a
 * small API over the daemon, whose state stays private to the files that
 * make it up (daemon_state.h). control.c parses and checks a request and
 * writes the answer; the daemon does the work. Every call runs on the
 * daemon's one thread, from its event loop.
 */
#ifndef MXG_DAEMON_H
#define MXG_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "../cluster/cluster.h"
#include "../cluster/counters.h"
#include "../common/addr.h"
#include "../common/outbuf.h"
#include "../reputation/dnszone.h"
#include "../reputation/rep.h"
#include "../reputation/repwait.h"
#include "../rules/conf.h"
#include "../rules/engine.h"
#include "../state/store.h"
#include "audit.h"

struct daemon;

struct daemon_status {
	int sources;		/* logs followed */
	uint64_t lines, events, decisions;	/* since start */
	long active;		/* decisions in force; -1 if the store failed */
	int state_ok;		/* 0 after a failed commit (decisions kept in memory, saving retried) */
	int unsaved;		/* decisions waiting to be saved */
	int fw_pending;		/* firewall changes not in force yet */
	int map_ok;		/* 0 while the map file's rewrite fails (retried) */
	uint64_t atc_answers;	/* client lookups answered by the at-connect policy */
	uint64_t counters_rows, counters_ms;	/* the rules' counters saved with commits, and the time it took */
};

/* The cluster link and what came over it (daemon_cluster). */
struct daemon_cluster {
	const char *node;	/* this node's name */
	struct cluster_stats link;
	uint64_t stale, refused_trusted, no_rule;	/* remote decisions not enforced, by reason */
	int has_counters;	/* scope cluster rules keep their windows in Redis */
	int counters_ready;
	struct counters_stats counters;
};

/* Commit what is read but not saved yet, so that answers are of the committed state. */
void daemon_sync(struct daemon *dm);
void daemon_status(struct daemon *dm, int64_t now, struct daemon_status *st);
/* The DNS zones' and the waiting events' figures; 0 (and nothing filled) when no rule reads a zone. */
int daemon_dns(struct daemon *dm, struct dnsrep_stats *d, struct repwait_stats *w);
/* The cluster's figures; 0 (and nothing filled) without a cluster. */
int daemon_cluster(struct daemon *dm, struct daemon_cluster *c);
/* The rules, by index (0 .. daemon_nrules()-1): the name, and the figures in st. */
int daemon_nrules(const struct daemon *dm);
const char *daemon_rule(struct daemon *dm, int i, struct rule_stats *st);
/* The index of the rule named name, or -1; and a rule's configuration (threshold, window, action...). */
int daemon_rule_index(const struct daemon *dm, const char *name);
const struct rule *daemon_rule_conf(const struct daemon *dm, int i);
/*
 * Whether a manual ban of net/plen (host bits clear) would reach what an
 * operator most likely did not mean: every address (/0), a prefix wider
 * than 'set widest-ban', a trusted address, this host's own addresses
 * (its loopback, its interfaces'). 1 with the reason in why, else 0.
 */
int daemon_ban_guard(struct daemon *dm, const struct addr *net, int plen, char *why, size_t whylen);
/* What the daemon knows of an address: its feeds and its own volume. */
void daemon_reputation(struct daemon *dm, const struct addr *a, int64_t now, struct rep_result *r);

/*
 * A manual decision on net/plen (host bits clear) for dur seconds (> 0),
 * like a rule's: saved, shared with the cluster, enforced at the firewall
 * and the map, printed as a decision and written to the decision log as
 * caused by who. Its key (the address, with
 * "/LEN" when it is a prefix) goes into key. 0, or -1 if it could not be
 * saved (then nothing else happened).
 */
int daemon_ban(struct daemon *dm, const struct addr *net, int plen, enum action act, int64_t dur, int64_t now,
    char *key, size_t keysz, const struct audit_who *who);
/*
 * End key's decisions (as "decisions" lists them) here and, with a
 * cluster, on every node; -1 if the store failed, else how many.
 * *unshared is set when the release could not be saved for the cluster.
 */
long daemon_unban(struct daemon *dm, const char *key, int64_t now, int *unshared, const struct audit_who *who);
/* End every decision, flush the firewall and empty the map; how many (-1: the store failed). */
long daemon_flush(struct daemon *dm, int64_t now, const struct audit_who *who);
/*
 * Load the configuration again, and start a new decision log if the old
 * one was moved; 1 if it took (a broken one is reported and kept out).
 */
int daemon_reload(struct daemon *dm, const struct audit_who *who);
/* The decision log's path (audit.h), or NULL: none is kept. */
const char *daemon_decision_log(const struct daemon *dm);
/* The configuration file, or NULL: none. */
const char *daemon_conffile(const struct daemon *dm);
/* The daemon's figures in Prometheus' text format (cli/metrics.c). */
void daemon_metrics(struct daemon *dm, struct outbuf *ob, int64_t now);
/* "pending" while a decision is not in force everywhere (firewall or map to retry), else "". */
const char *daemon_decision_state(struct daemon *dm, const struct stored_decision *d);
/* The decisions in force: saved ones, then those waiting to be saved. -1 if the store failed. */
int daemon_list_decisions(struct daemon *dm, int64_t now, store_decision_fn fn, void *arg);

#endif
