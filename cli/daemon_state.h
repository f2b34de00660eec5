/*
 * daemon_state.h - the state of "mxguard run", for the files that make up
 * the daemon: its event loop (cmd_run.c), its operations behind daemon.h
 * (daemon.c) and its metrics (metrics.c). The control socket's handler
 * (control.c) sees only daemon.h.
 */
#ifndef MXG_DAEMON_STATE_H
#define MXG_DAEMON_STATE_H

#include <stdint.h>

#include "../actions/fw.h"
#include "../cluster/cluster.h"
#include "../common/outbuf.h"
#include "../parsers/parser.h"
#include "../reports/reporter.h"
#include "../reputation/rep.h"
#include "../reputation/repwait.h"
#include "../rules/engine.h"
#include "../state/store.h"
#include "../tail/follow.h"
#include "../tail/journal.h"
#include "daemon.h"

struct dmap;
struct mapfile;

/* A firewall change that failed, to apply again (cmd_run.c: fw_retry), or one in progress. */
struct fw_retry {
	struct fw_entry e;
	int64_t until;		/* a block's end (UTC seconds) */
	int release;		/* 1: take it out, 0: put it in */
	int order;		/* its place in the queue, while it is compacted (newest wish wins) */
	int superseded;		/* a change applied since made it moot */
};

struct daemon {
	struct config *conf;
	struct engine *eng;
	struct parser *parser;
	struct store *store;
	struct follower **src;
	int nsrc;
	struct outbuf out;	/* decisions on stdout */
	int events_fd;		/* --events FILE, or -1 */
	struct outbuf events;
	uint64_t events_len;	/* bytes of the events file written */
	uint64_t lineno;
	struct stored_decision *batch;	/* decisions not saved yet: since the last commit, or the disk is full */
	char **batch_keys;
	int nbatch, capbatch;
	int nenforced;		/* batch[0..nenforced) are enforced and printed, waiting only to be saved */
	int64_t store_retry_ms;	/* when to try saving again after a failure (monotonic ms) */
	int64_t commit_due;	/* lines read are committed from then on (monotonic ms; a decision: at once) */
	int out_failed;		/* writing decisions to stdout failed (said once) */
	uint64_t lines, nevents, ndecisions;
	uint64_t counters_rows, counters_ms;	/* the rules' counters written with commits: rows, and the time it took */
	uint64_t restored;	/* decisions in force put back into the engine at start */
	int64_t since;		/* --since: events older than this (UTC seconds) are skipped */
	int dirty;
	int store_ok;		/* 0 after a failed commit: keep enforcing from memory, retry saving */
	const char *conffile;
	const struct fw_backend *fw;
	void *fw_state;
	struct fw_entry *fwq;	/* blocks waiting for the next batch */
	int nfwq, capfwq;
	struct dmap *dmap;	/* decisions the MTA looks up (--socketmap, --map-file), or NULL */
	struct mapfile *mapfile;	/* --map-file, or NULL */
	int smap_on;		/* the socketmap is served */
	char maptype[16];	/* the map file's type ("cidr", "sendmail", ...), or "": none */
	int map_dirty;		/* the map changed since the file was written */
	int64_t map_next;	/* write the file again then (an entry ends) */
	int fw_warned_shapes;	/* said once that the backend cannot limit or tarpit */
	struct fw_expiry *expiry;	/* releases due, for firewalls without timeouts */
	struct fw_entry *due;
	int capdue;
	struct fw_retry *retry;	/* failed firewall changes, applied again with backoff */
	int nretry, capretry;
	int retry_sorted;	/* == nretry while retry[] is compacted and sorted for lookups, else -1 */
	int fw_flush_pending;	/* a flush failed: flush again, then put back what is in force */
	/*
	 * An asynchronous backend's change in progress (exec): FW_IDLE, or
	 * FW_BUSY_APPLY with its entries in inflight[] (sorted, for lookups),
	 * or FW_BUSY_FLUSH. Changes made meanwhile wait in retry[] (without
	 * backoff) and go out when it ends.
	 */
	enum { FW_IDLE, FW_BUSY_APPLY, FW_BUSY_FLUSH } fw_busy;
	struct fw_retry *inflight;
	int ninflight, capinflight;
	int inflight_retried;	/* the change in progress is a retry (logged when it is in force) */
	int flush_putback;	/* the flush in progress is a retried one: then put back what is in force */
	int64_t fw_retry_ms;	/* the next retry (monotonic ms) */
	int fw_delay_ms;	/* the current backoff; 0 when nothing failed */
	struct rep_db *rep;	/* the configuration's reputation feeds (maybe none) */
	struct volume *vol;	/* mxguard's own vol: messages accepted per client (reputation/volume.h) */
	struct rep_result rr;	/* the current event's reputation (events point here) */
	int64_t rep_check_ms;	/* when to look at the feed files again (monotonic ms) */
	int rep_fast;		/* looks left at 250 ms (inotify saw a change), else once a second */
	uint64_t atc_answers;	/* client lookups answered by the at-connect policy */
	struct fw_retry *preload;	/* the blocks preloaded feeds ask for (sorted; until, or INT64_MAX) */
	int npreload;
	int preload_warned;		/* said once that there is no firewall to preload */
	struct dnsrep *dns;	/* the DNS zones rules read (dnszone.h), or NULL: none is asked */
	struct repwait *wait;	/* events waiting for their client's answers (repwait.h); NULL with dns */
	uint64_t wait_saved;	/* repwait_changes() when the waiting events were last saved */
	int wait_clear;		/* events saved as waiting were judged without zones: save that none waits */
	struct cluster *cl;	/* decisions shared with the other nodes (docs/CLUSTER.md), or NULL */
	struct counters *cnt;	/* scope cluster rules' windows in Redis (counters.h), or NULL: none */
	struct reporter *reports;	/* the report directory (reports/reporter.h), or NULL: none */
	uint64_t dec_by_action[A_LOG + 1];	/* this node's decisions (rules, ctl ban) by action, since start */
	int64_t newest_ts;	/* the newest event time read (the lag behind the log) */
	char *metrics_file;	/* --metrics-file or 'set metrics-file': the Prometheus textfile, or NULL */
	int64_t metrics_due;	/* when it is written next (monotonic ms) */
	struct audit *audit;	/* the decision log, or NULL (set decision-log off) */
	struct journal_src *journal;	/* "source journal": the systemd journal, or NULL */
	char *journal_saved;	/* the cursor saved last (the state holds it) */
	int64_t audit_upto;	/* decisions ended up to this time are in it as expired (saved: AUDIT_MARK) */
	long audit_written;	/* expiries written by the look in progress */
	int metrics_failed;	/* writing it failed: said once */
	char *report_dir_conf;	/* the set report-dir it was started with (a reload that changes it is said) */
	char *user_conf;	/* ... set user */
	char *decision_log_conf;	/* ... set decision-log */
	uint64_t cnt_keyver;	/* counters_key_version() the engine has */
	struct redis_url *cl_url;	/* where the cluster is (counters are set up at a reload that needs them) */
	int agent;		/* mxguard agent: enforces the cluster's decisions, reads no logs, publishes nothing */
	char node[CLUSTER_NODE_MAX + 1];	/* this node's name */
	uint64_t cl_seq;	/* the number of this node's last message in the outbox (saved: "cluster-seq") */
	struct cluster_msg *cl_staged;	/* messages put in the outbox by the transaction being made */
	int ncl_staged, capcl_staged;
	uint64_t cl_pos_saved;	/* cluster_position_changes() when the stream position was last saved */
	uint64_t cl_dropped;	/* the outbox was emptied up to this number */
	uint64_t cl_stale;	/* remote decisions already ended when they came */
	uint64_t cl_trusted;	/* ... refused: they would have touched a trusted address */
	uint64_t cl_norule;	/* ... not enforced: a HELO, sender or domain decision of a rule this node has not */
	int map_failed;		/* the last map file rewrite failed: retried */
	int map_delay;		/* its backoff in seconds */
};

/*
 * Inside a store transaction: put m (this node's) into the outbox, numbered;
 * after the transaction, daemon_shared(dm, committed) sends what was put
 * (or forgets it: a rolled-back transaction put nothing). -1 on a store
 * error. Nothing happens without a cluster.
 */
int daemon_share(struct daemon *dm, const struct cluster_msg *m);
void daemon_shared(struct daemon *dm, int committed);
/* Save positions, decisions and parser state in one transaction, then enforce. */
void daemon_commit(struct daemon *dm);
/* Enforce one decision (a manual ban) at the firewall; take a key out of it. */
void daemon_fw_one(struct daemon *dm, const struct stored_decision *d);
void daemon_fw_release(struct daemon *dm, const char *key);
/* A decision into the MTA's map (if there is one). */
void daemon_map_put(struct daemon *dm, const struct stored_decision *d);
/* "ctl flush" at the firewall; a failure is retried. 0 or -1. */
int daemon_fw_flush(struct daemon *dm);
/* Decisions waiting to be saved (disk full), and firewall changes not in force yet (to retry, or in progress). */
int daemon_unsaved(const struct daemon *dm);
int daemon_fw_pending(const struct daemon *dm);
/* End key's decisions (all if NULL), saved or waiting to be saved; how many, -1 on a store error. */
long daemon_release(struct daemon *dm, const char *key, int64_t now);

#endif
