/*
 * cmd_run.c - "mxguard run": the live daemon, in the foreground.
 *
 * One event loop: poll() on the inotify descriptor (directories of the
 * sources) and a signalfd, with a 250 ms tick for what inotify cannot
 * tell (a file replaced on another filesystem, a missed event). On every
 * wake-up each source is read to its end, lines go through the parser and
 * the engine, and then, in ONE SQLite transaction, the sources' positions,
 * the decisions and the committed length of the events file are saved.
 * After a crash the events file is cut back to that length and reading
 * resumes at the saved positions: no line is counted twice or skipped.
 *
 * The parser's queue-ID table is saved in the same transaction, so a
 * message whose client= line was read before a restart is still joined.
 *
 * The control socket (`mxguard ctl`) is served by the same loop.
 *
 * At start, decisions still in force are put back into the engine, so
 * their keys are not decided again and escalation goes on; a reload keeps
 * the counters of the rules it does not change.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/outbuf.h"
#include "../common/safefile.h"
#include "../common/xalloc.h"
#include "../parsers/event_json.h"
#include "../parsers/parser.h"
#include "../rules/cond.h"
#include "../rules/engine.h"
#include "../actions/enforce.h"
#include "../actions/fw.h"
#include "../actions/mapfile.h"
#include "../actions/socketmap.h"
#include "../reputation/volume.h"
#include "../state/store.h"
#include "../tail/follow.h"
#include "../tail/linereader.h"
#include "commands.h"
#include "ctl.h"

#define TICK_MS 250
#define STORE_RETRY_MS 1000	/* saving again after a failure (disk full), while nothing else triggers it */
#define COMMIT_EVERY_MS 1000	/* lines without a decision are committed at most this often (the event loop) */
#define FW_RETRY_MAX_MS 60000	/* the longest backoff between retries of failed firewall changes */
#define EVENTS_MARK "events-file-length"
#define JOURNAL_BLOB "journal-cursor"	/* the journal's cursor after the last entry read (tail/journal.h) */
#define AUDIT_MARK "decision-log-expired-upto"	/* decisions ended up to then are in the decision log */
#define AUDIT_DEFAULT CTL_DECISION_LOG_DEFAULT
#define EVENTS_CHUNK (256 * 1024)	/* the events file is written in pieces of this size */
#define CORR_BLOB "parser-correlation"
#define CLUSTER_BLOB "cluster-position"	/* where this node reads the stream, and the numbers it took */
#define CLUSTER_SEQ "cluster-seq"	/* the number of this node's last message put in the outbox */
#define METRICS_EVERY_MS 15000	/* the metrics file is written this often (node_exporter reads it at its scrape) */
#define REPORT_BLOB "report-minute"	/* the report's current minute at the last commit (reporter.h) */
#define WAIT_BLOB "dns-waiting"	/* events waiting for DNS answers at the last commit (repwait.h) */
#define WAIT_MAX_BYTES (64u << 20)	/* bound on them: past it a client's events go on unknown */
#define DNS_POLL_MAX 8		/* sockets of the DNS zones polled (a few per distinct server) */
#define DNS_DRAIN_MS 100	/* the longest the loop takes in DNS answers before it looks at the rest */
#define DNS_DRAIN_GAP_MS 2	/* ... as long as the next ones come within this */

#include "../cluster/counters.h"
#include "../reports/files.h"
#include "../common/clock.h"
#include "../privsep/priv.h"
#include "../privsep/sandbox.h"
#include "../privsep/worker.h"
#include "control.h"
#include "audit.h"
#include "daemon_state.h"
#include "saved_counters.h"
#include "service.h"

/*
 * A decision into the batch (saved, then enforced, at the next commit).
 * Key, rule name, origin and reason are copied together: a decision may
 * wait for the disk across a reload, which frees the rule it points to.
 */
static struct stored_decision *
batch_add(struct daemon *dm, const char *key, const char *rule, const char *origin, const char *reason)
{
	size_t kn = strlen(key) + 1, rn = strlen(rule) + 1, on = origin ? strlen(origin) + 1 : 0;
	size_t wn = reason ? strlen(reason) + 1 : 0;
	char *copy = xmalloc(kn + rn + on + wn);
	struct stored_decision *sd;

	if (dm->nbatch == dm->capbatch) {
		dm->capbatch = dm->capbatch ? 2 * dm->capbatch : 16;
		dm->batch = xrealloc(dm->batch, (size_t)dm->capbatch * sizeof(*dm->batch));
		dm->batch_keys = xrealloc(dm->batch_keys, (size_t)dm->capbatch * sizeof(char *));
	}
	memcpy(copy, key, kn);
	memcpy(copy + kn, rule, rn);
	if (origin != NULL)
		memcpy(copy + kn + rn, origin, on);
	if (reason != NULL)
		memcpy(copy + kn + rn + on, reason, wn);
	dm->batch_keys[dm->nbatch] = copy;
	sd = &dm->batch[dm->nbatch++];
	memset(sd, 0, sizeof(*sd));
	sd->key = copy;
	sd->rule = copy + kn;
	sd->origin = origin != NULL ? copy + kn + rn : NULL;
	sd->reason = reason != NULL ? copy + kn + rn + on : NULL;
	dm->dirty = 1;
	return sd;
}

static void
on_decision(void *arg, const struct decision *d)
{
	struct daemon *dm = arg;
	struct stored_decision *sd;

	dm->ndecisions++;
	if ((unsigned)d->action <= A_LOG)
		dm->dec_by_action[d->action]++;
	decision_json(&dm->out, d);
	if (dm->reports != NULL)
		reporter_decision(dm->reports, d);
	{
		char reason[400];	/* (as the decision line says it: ctl decisions shows it) */
		int n = decision_reason(d, reason, sizeof(reason));

		sd = batch_add(dm, d->key, d->rule->name, NULL, n > 0 ? reason : NULL);
	}
	sd->action = action_name(d->action);
	sd->ts = d->ts;
	/*
	 * Enforcement starts now: a decision taken while catching up on old
	 * lines (after downtime) still lasts its full duration.
	 */
	sd->until = (int64_t)time(NULL) + d->duration;
	sd->value = d->value;
	sd->level = d->level;
	sd->net = d->net;	/* (enforcement takes the engine's network, not the key's text) */
	sd->plen = d->plen;
}

/*
 * A scope cluster rule's event (engine.h): to the cluster's counters, if
 * they are reachable and the engine hashes with the cluster's current key;
 * otherwise the rule's own window here decides.
 */
static int
share_counted(void *arg, const struct engine_shared *s)
{
	struct daemon *dm = arg;

	return dm->cnt_keyver == counters_key_version(dm->cnt) && counters_add(dm->cnt, s);
}

/* The cluster's count of a key crossed its threshold with this node's update: this node decides. */
static void
on_crossed(void *arg, int rule, const uint8_t *key, size_t klen, uint64_t value, int64_t ts, const struct addr *ip,
    enum ev_type type)
{
	struct daemon *dm = arg;

	engine_cluster_decide(dm->eng, rule, key, klen, value, ts, ip, type, on_decision, dm);
}

/* The engine counts scope cluster rules through the counters, under the cluster's key once it is known. */
static void
counters_attach(struct daemon *dm)
{
	if (dm->cnt == NULL)
		return;
	if (counters_ready(dm->cnt))
		dm->cnt_keyver = counters_key_version(dm->cnt);
	engine_set_cluster(dm->eng, counters_key(dm->cnt), share_counted, dm);
}

/*
 * Counters for the configuration's scope cluster rules: a link of their own
 * to the cluster's Redis. Without a cluster such rules count on this node
 * only, and say so.
 */
static void
counters_setup(struct daemon *dm)
{
	const struct config *c = dm->conf;

	if (c->ncluster_rules == 0 || dm->agent)
		return;
	if (dm->cl_url == NULL) {
		for (int i = 0; i < c->nrules; i++)
			if (c->rules[i]->scope == SCOPE_CLUSTER)
				log_warnx("run: %s:%d: rule \"%s\" has scope cluster, but there is no cluster "
				    "(--cluster or 'set cluster'): it counts on this node only", c->rules[i]->file,
				    c->rules[i]->line, c->rules[i]->name);
		return;
	}
	if (dm->cnt == NULL)
		dm->cnt = counters_new(dm->cl_url, c, on_crossed, dm);
	else
		counters_reconfigure(dm->cnt, c);
	dm->cnt_keyver = 0;
	counters_attach(dm);
}

static void on_event(struct daemon *dm, struct event *ev);
static int write_events(struct daemon *dm);
static int zones_start(struct daemon *dm, const struct config *c, struct dnsrep **dns, struct repwait **wait);

static void
on_line(void *arg, struct span line)
{
	struct daemon *dm = arg;
	struct event ev;

	/* While a long catch-up reads on, DNS answers are taken in as they come, and the cluster's counters tick. */
	if (dm->dns != NULL && (dm->lines & 1023) == 1023)
		dnsrep_process(dm->dns, mono_ms());
	if (dm->cnt != NULL && (dm->lines & 4095) == 4095)
		counters_pump(dm->cnt);
	dm->lines++;
	dm->dirty = 1;
	if (dm->reports != NULL)
		reporter_lines(dm->reports, 1);
	for (int got = parser_line(dm->parser, line.p, line.n, ++dm->lineno, &ev); got;
	    got = parser_next(dm->parser, &ev))
		on_event(dm, &ev);
}

/* The events file's line of an event: the reputation the rules saw, after its own fields. */
static void
event_rep_json(struct outbuf *ob, const struct event *ev)
{
	if (ev->rep == NULL)
		return;
	OB_LIT(ob, ",\"rep\":{");
	rep_put_json(ob, ev->rep);
	ob_putc(ob, '}');
}

/*
 * An event with everything the rules read: its reputation from the feeds
 * and, when rules read DNS zones, their answers (ans; NULL if the event has
 * no client). Called at once, or when the answers came (repwait.h).
 */
static void
judge(struct daemon *dm, struct event *ev, const struct dnsrep_answer *ans)
{
	dm->dirty = 1;	/* an event judged late (its answers came) is saved like one judged as read */
	if (dm->rep != NULL && dm->conf->uses_rep && ev->ip.family != 0) {
		rep_lookup(dm->rep, &ev->ip, ev->ts, &dm->rr);
		if (ans != NULL)
			rep_merge_zones(&dm->rr, (const struct zone_spec *const *)dm->conf->zones, ans);
		ev->rep = &dm->rr;
	}
	if (dm->events_fd >= 0) {
		event_json_more(&dm->events, ev, NULL, event_rep_json);
		/*
		 * Written as it fills (a catch-up drains a whole file in one
		 * tick): bytes past the committed length are cut at a restart.
		 * While the disk is full it waits in memory for the commit.
		 */
		if (dm->events.len >= EVENTS_CHUNK && dm->store_ok)
			write_events(dm);
	}
	if (ev->ts > dm->newest_ts)
		dm->newest_ts = ev->ts;
	if (dm->reports != NULL)
		reporter_event(dm->reports, ev);
	engine_event(dm->eng, ev, on_decision, dm);
}

static void
on_answered(void *arg, struct event *ev, const struct dnsrep_answer *ans)
{
	judge(arg, ev, ans);
}

/* An event saved as waiting for DNS, now that no rule reads a zone. */
static void
judge_saved(void *arg, struct event *ev)
{
	judge(arg, ev, NULL);
}

static void
on_event(struct daemon *dm, struct event *ev)
{
	if (ev->ts < dm->since)
		return;
	dm->nevents++;
	/* What mxguard sees a client send (its own vol, a message limit) counts as it is read. */
	if ((ev->type == EV_MSG_ACCEPTED || ev->type == EV_BOUNCE_IN) && ev->ip.family != 0)
		volume_count(dm->vol, &ev->ip, ev->ts);
	if (dm->dmap != NULL && (ev->type == EV_MSG_ACCEPTED || ev->type == EV_BOUNCE_IN)) {
		struct span s;
		char w[DMAP_KEYMAX];

		dmap_count_message(dm->dmap, &ev->ip, ev->ts);
		/* A limit by sender or sender domain counts the messages of that sender (or domain), from any client. */
		if (cond_str_value(ev, F_FROM, &s) && s.n > 0 && s.n < sizeof(w)) {
			memcpy(w, s.p, s.n);
			w[s.n] = '\0';
			dmap_count_word(dm->dmap, DK_SENDER, w, ev->ts);
		}
		if (cond_str_value(ev, CF_SENDER_DOMAIN, &s) && s.n > 0 && s.n < sizeof(w)) {
			memcpy(w, s.p, s.n);
			w[s.n] = '\0';
			dmap_count_word(dm->dmap, DK_SENDER_DOMAIN, w, ev->ts);
		}
	}
	if (dm->wait != NULL)
		repwait_put(dm->wait, ev, mono_ms());	/* now, or when its client's answers are in */
	else
		judge(dm, ev, NULL);
}

static int retry_cmp(const void *a, const void *b);

/*
 * The queue of changes the firewall still owes: those that failed
 * (applied again with backoff, fw_retry) and those made while an
 * asynchronous backend's change was in progress. Appended in order, it
 * may hold several wishes for one (address, prefix, kind): retry_compact
 * keeps the newest, drops what a later change applied directly superseded,
 * and leaves the queue sorted for lookups — O(n log n) once, never a scan
 * of the queue per change (a burst of 100,000 decisions behind a slow
 * helper must not cost 10^10 comparisons).
 */
static void
retry_reserve(struct daemon *dm, int more)
{
	if (dm->capretry - dm->nretry < more) {
		dm->capretry = 2 * dm->capretry + more + 64;
		dm->retry = xrealloc(dm->retry, (size_t)dm->capretry * sizeof(*dm->retry));
	}
}

static void
retry_add(struct daemon *dm, const struct fw_entry *e, int64_t until, int release)
{
	retry_reserve(dm, 1);
	dm->retry[dm->nretry++] = (struct fw_retry){ .e = *e, .until = until, .release = release };
	dm->retry_sorted = -1;
}

/* When a block ends: seconds from now, or never (INT64_MAX) for a block until released (a preloaded feed entry). */
static int64_t
until_of(const struct fw_entry *e, int64_t now)
{
	return e->seconds > 0 ? now + e->seconds : INT64_MAX;
}

/* A block's end into the expiry heap, if it has one and the firewall cannot expire it itself. */
static void
expiry_add(struct daemon *dm, int64_t until, const struct fw_entry *e)
{
	if (!dm->fw->self_expiring && until != INT64_MAX)
		fw_expiry_add(dm->expiry, until, e);
}

static void
retry_add_batch(struct daemon *dm, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr, int64_t now)
{
	for (int i = 0; i < nb; i++)
		retry_add(dm, &b[i], until_of(&b[i], now), 0);
	for (int i = 0; i < nr; i++)
		retry_add(dm, &r[i], 0, 1);
}

/* By entry, then by age: the newest wish for an entry is the last of its run. */
static int
retry_order(const void *a, const void *b)
{
	int c = retry_cmp(a, b);

	return c != 0 ? c : ((const struct fw_retry *)a)->order - ((const struct fw_retry *)b)->order;
}

static void
retry_compact(struct daemon *dm)
{
	int k = 0;

	if (dm->retry_sorted == dm->nretry)
		return;
	for (int i = 0; i < dm->nretry; i++)
		dm->retry[i].order = i;
	qsort(dm->retry, (size_t)dm->nretry, sizeof(*dm->retry), retry_order);
	for (int i = 0; i < dm->nretry; i++)
		if ((i + 1 == dm->nretry || retry_cmp(&dm->retry[i], &dm->retry[i + 1]) != 0) &&
		    !dm->retry[i].superseded)
			dm->retry[k++] = dm->retry[i];
	dm->nretry = k;
	dm->retry_sorted = k;
}

/* The queued wish for e, or NULL. */
static struct fw_retry *
retry_find(struct daemon *dm, const struct fw_entry *e)
{
	struct fw_retry key = { .e = *e };
	struct fw_retry *hit;

	retry_compact(dm);
	hit = bsearch(&key, dm->retry, (size_t)dm->nretry, sizeof(*dm->retry), retry_cmp);
	return hit != NULL && !hit->superseded ? hit : NULL;
}

/* A change applied now supersedes the one waiting for the same entry. */
static void
retry_forget(struct daemon *dm, const struct fw_entry *e)
{
	struct fw_retry *hit = retry_find(dm, e);

	if (hit != NULL)
		hit->superseded = 1;	/* keeps the queue sorted; the next compaction drops it */
}

/* The next retry after a failure: 1 s, doubling up to FW_RETRY_MAX_MS. */
static void
retry_later(struct daemon *dm)
{
	dm->fw_delay_ms = dm->fw_delay_ms == 0 ? 1000 : dm->fw_delay_ms * 2 > FW_RETRY_MAX_MS ? FW_RETRY_MAX_MS :
	    dm->fw_delay_ms * 2;
	dm->fw_retry_ms = mono_ms() + dm->fw_delay_ms;
}

/* ------------------------------------------------ preloaded feeds --- */

/* How long the preloaded feeds hold this block: their until (INT64_MAX: for good), or 0 if they do not. */
static int64_t
preload_until(const struct daemon *dm, const struct fw_entry *e)
{
	struct fw_retry key = { .e = *e };
	const struct fw_retry *hit;

	key.e.kind = FW_BLOCK;
	hit = dm->npreload > 0 ? bsearch(&key, dm->preload, (size_t)dm->npreload, sizeof(*dm->preload), retry_cmp) :
	    NULL;
	return hit != NULL ? hit->until : 0;
}

/*
 * The blocks the preloaded feeds ask for now (feed "..." { preload }):
 * every entry (or those with risk >= N) that has not expired, is not an
 * exclusion, holds no exclusion (blocking it whole would block that too)
 * and shares no address with a trusted table. Sorted, one per prefix (the
 * longest end wins).
 */
static struct fw_retry *
preload_wanted(struct daemon *dm, int64_t now, int *np, int *skipped_trusted)
{
	const struct config *c = dm->conf;
	struct fw_retry *w = NULL;
	size_t n = 0, cap = 0;

	*skipped_trusted = 0;
	for (int i = 0; dm->rep != NULL && i < c->nfeeds; i++) {
		const struct feed_spec *spec = c->feeds[i];
		const struct feed *f = rep_feed(dm->rep, i);

		if (!spec->preload || f == NULL || f->pfx == NULL)
			continue;
		for (size_t j = 0; j < f->n; j++) {
			const struct feed_item *it = &f->item[j];
			const struct lpm_prefix *p = &f->pfx[j];
			int trusted = 0;

			if ((it->flags & (FEED_EXCLUDED | FEED_HOLDS_EXCLUSION)) || (it->expires != 0 && it->expires <= now) ||
			    (spec->preload_risk != FEED_SCORE_NONE && (it->risk == FEED_SCORE_NONE ||
			    it->risk < spec->preload_risk)))
				continue;
			for (int t = 0; t < c->ntrusted && !trusted; t++)
				trusted = table_overlaps(c->trusted[t], &p->addr, p->plen);
			if (trusted) {
				(*skipped_trusted)++;
				continue;
			}
			if (n == cap)
				w = xrealloc(w, (cap = 2 * cap + 256) * sizeof(*w));
			w[n].e = (struct fw_entry){ .addr = p->addr, .plen = p->plen, .kind = FW_BLOCK };
			w[n].until = it->expires != 0 ? it->expires : INT64_MAX;
			w[n].release = 0;
			n++;
		}
	}
	if (n > 0)
		qsort(w, n, sizeof(*w), retry_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			if (k > 0 && retry_cmp(&w[k - 1], &w[i]) == 0) {
				if (w[i].until > w[k - 1].until)
					w[k - 1].until = w[i].until;
				continue;
			}
			w[k++] = w[i];
		}
		n = k;
	}
	*np = (int)n;
	return w;
}

static int fw_apply(struct daemon *dm, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr);

/*
 * Bring the firewall in step with the preloaded feeds: what they ask for
 * and was not there (or ends at another time) is blocked, what they no
 * longer ask for is released — in one batch, like a community blocklist.
 */
static void
preload_sync(struct daemon *dm)
{
	int64_t now = time(NULL);
	int n, skipped, i = 0, j = 0, nb = 0, nr = 0;
	struct fw_retry *w = preload_wanted(dm, now, &n, &skipped);
	struct fw_entry *b = xmalloc(((size_t)n + 1) * sizeof(*b)), *r = xmalloc(((size_t)dm->npreload + 1) * sizeof(*r));

	if (n > 0 && strcmp(dm->fw->name, "none") == 0) {
		if (!dm->preload_warned)
			log_warnx("run: %d preloaded feed entries, and no firewall (--firewall) to put them in", n);
		dm->preload_warned = 1;
	}
	while (i < dm->npreload || j < n) {
		int c = i == dm->npreload ? 1 : j == n ? -1 : retry_cmp(&dm->preload[i], &w[j]);

		if (c < 0)
			r[nr++] = dm->preload[i++].e;
		else {
			if (c > 0 || dm->preload[i].until != w[j].until) {
				b[nb] = w[j].e;
				/* (at least a second: 0 would be "until released") */
				b[nb++].seconds = w[j].until == INT64_MAX ? 0 : w[j].until - now > 1 ? w[j].until - now : 1;
			}
			i += c == 0;
			j++;
		}
	}
	free(dm->preload);
	dm->preload = w;
	dm->npreload = n;
	if (nb + nr > 0) {
		fw_apply(dm, b, nb, r, nr);
		log_info("run: preloaded feeds: %d block(s) in the firewall (%d added or renewed, %d released%s)", n, nb,
		    nr, skipped > 0 ? ", some skipped: they hold trusted addresses" : "");
	}
	if (skipped > 0)
		log_debug("run: preloaded feeds: %d entries skipped (trusted addresses in them)", skipped);
	free(b);
	free(r);
}

/*
 * An asynchronous backend took a change (FW_IN_PROGRESS): its entries are
 * kept, sorted for fw_pending, until fw_progress sees how it ended.
 */
static void
inflight_set(struct daemon *dm, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr, int64_t now,
    int retried)
{
	if (nb + nr > dm->capinflight) {
		dm->capinflight = nb + nr;
		dm->inflight = xrealloc(dm->inflight, (size_t)dm->capinflight * sizeof(*dm->inflight));
	}
	for (int i = 0; i < nb; i++)
		dm->inflight[i] = (struct fw_retry){ .e = b[i], .until = until_of(&b[i], now) };
	for (int i = 0; i < nr; i++)
		dm->inflight[nb + i] = (struct fw_retry){ .e = r[i], .release = 1 };
	dm->ninflight = nb + nr;
	qsort(dm->inflight, (size_t)dm->ninflight, sizeof(*dm->inflight), retry_cmp);
	dm->inflight_retried = retried;
	dm->fw_busy = FW_BUSY_APPLY;
}

/*
 * A flush ended (rc 0 or -1). A failed one is retried; a retried one that
 * worked puts back everything in force (saved, or waiting to be saved).
 */
static void retry_active(void *arg, const struct stored_decision *d);

static void
fw_flushed(struct daemon *dm, int rc, int putback)
{
	if (rc < 0) {
		dm->fw_flush_pending = 1;
		retry_later(dm);
		return;
	}
	dm->fw_flush_pending = 0;
	if (putback) {
		dm->nretry = 0;
		if (store_list_active(dm->store, time(NULL), retry_active, dm) < 0)
			log_warnx("run: cannot list the decisions in force; the firewall gets them back at the next start");
		for (int i = 0; i < dm->nenforced; i++)
			retry_active(dm, &dm->batch[i]);
	}
	/* The preloaded feeds' blocks are policy, not decisions: they come back after any flush. */
	for (int i = 0; i < dm->npreload; i++)
		if (dm->preload[i].until > time(NULL))
			retry_add(dm, &dm->preload[i].e, dm->preload[i].until, 0);
}

/* Empty the firewall now (or start to): 0, or -1 if it failed (then it is retried). */
static int
fw_flush_start(struct daemon *dm, int putback)
{
	int rc = dm->fw->flush(dm->fw_state);

	if (rc == FW_IN_PROGRESS) {
		dm->fw_busy = FW_BUSY_FLUSH;
		dm->flush_putback = putback;
		return 0;
	}
	fw_flushed(dm, rc, putback);
	return rc;
}

/*
 * Every firewall change goes through here, and its result is checked:
 * what failed is queued and applied again with backoff (fw_retry); until
 * then its decision shows as pending in "ctl decisions". Blocks that the
 * firewall will not expire itself get their release scheduled once they
 * are in. 0, or -1 if the change was queued.
 */
static int
fw_apply(struct daemon *dm, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr)
{
	int64_t now = time(NULL);
	int rc;

	if (dm->fw_busy != FW_IDLE) {
		/* Behind the change in progress: it goes out when that one ends (fw_retry). */
		retry_add_batch(dm, b, nb, r, nr, now);
		return 0;
	}
	if (dm->nretry > 0) {
		for (int i = 0; i < nb; i++)
			retry_forget(dm, &b[i]);
		for (int i = 0; i < nr; i++)
			retry_forget(dm, &r[i]);
	}
	if ((rc = dm->fw->apply(dm->fw_state, b, nb, r, nr)) == FW_IN_PROGRESS) {
		inflight_set(dm, b, nb, r, nr, now, 0);
		return 0;
	}
	if (rc == 0) {
		for (int i = 0; i < nb; i++)
			expiry_add(dm, until_of(&b[i], now), &b[i]);
		return 0;
	}
	retry_add_batch(dm, b, nb, r, nr, now);
	if (dm->fw_delay_ms == 0)
		retry_later(dm);
	log_warnx("run: firewall %s: %d change(s) not applied; pending, retried with backoff", dm->fw->name,
	    nb + nr);
	return -1;
}

/* Send a batch of blocks. */
static void
fw_send(struct daemon *dm, struct fw_entry *e, int n)
{
	fw_apply(dm, e, n, NULL, 0);
}

static int fw_entry_of(struct daemon *dm, const char *rule, const char *action, const char *key,
    const struct addr *net, int plen, int64_t seconds, struct fw_entry *e);

/* After a flush that was retried: every block in force goes back in (saved, or waiting to be saved). */
static void
retry_active(void *arg, const struct stored_decision *d)
{
	struct daemon *dm = arg;
	struct fw_entry e;

	if (fw_entry_of(dm, d->rule, d->action, d->key, &d->net, d->plen, d->until - (int64_t)time(NULL), &e) &&
	    e.seconds > 0)
		retry_add(dm, &e, d->until, 0);
}

/*
 * Apply what failed before, when its backoff is over: first a flush that
 * failed (then everything in force is put back), then the queued changes
 * in one batch. Blocks whose time ran out while they waited are dropped.
 */
static void
fw_retry(struct daemon *dm)
{
	int64_t now = time(NULL);
	struct fw_entry *b, *r;
	int nb = 0, nr = 0, n, rc;

	if (dm->fw_busy != FW_IDLE || (dm->nretry == 0 && !dm->fw_flush_pending) || mono_ms() < dm->fw_retry_ms)
		return;
	if (dm->fw_flush_pending && (fw_flush_start(dm, 1) < 0 || dm->fw_busy != FW_IDLE))
		return;
	retry_compact(dm);
	n = dm->nretry;
	b = xcalloc((size_t)n + 1, sizeof(*b));
	r = xcalloc((size_t)n + 1, sizeof(*r));
	for (int i = 0; i < n; i++) {
		if (dm->retry[i].release)
			r[nr++] = dm->retry[i].e;
		else if (dm->retry[i].until > now) {
			b[nb] = dm->retry[i].e;
			b[nb++].seconds = dm->retry[i].until == INT64_MAX ? 0 :
			    dm->retry[i].until - now > 1 ? dm->retry[i].until - now : 1;
		}
	}
	rc = dm->fw->apply(dm->fw_state, b, nb, r, nr);
	if (rc == FW_IN_PROGRESS) {
		/* Only changes that failed before are logged when they are in force. */
		inflight_set(dm, b, nb, r, nr, now, dm->fw_delay_ms > 0);
		dm->nretry = 0;
	} else if (rc == 0) {
		for (int i = 0; i < nb; i++)
			expiry_add(dm, until_of(&b[i], now), &b[i]);
		log_info("run: firewall %s: %d pending change(s) now in force", dm->fw->name, nb + nr);
		dm->nretry = 0;
		dm->fw_delay_ms = 0;
	} else
		retry_later(dm);
	free(b);
	free(r);
}

/* "ctl flush": empty the firewall; a failed flush is retried like any change. */
int
daemon_fw_flush(struct daemon *dm)
{
	dm->nretry = 0;
	if (dm->fw_busy != FW_IDLE) {
		/* After the change in progress (fw_retry). */
		dm->fw_flush_pending = 1;
		return 0;
	}
	return fw_flush_start(dm, 0);
}

/*
 * An asynchronous backend's change in progress moves on (it never blocks);
 * when it ends, as fw_apply and fw_retry do with a synchronous result.
 * What failed joins the queue — behind any newer wish for the same entry.
 */
static void
fw_progress(struct daemon *dm)
{
	int busy = dm->fw_busy, rc;

	if (busy == FW_IDLE || (rc = dm->fw->progress(dm->fw_state)) == FW_IN_PROGRESS)
		return;
	dm->fw_busy = FW_IDLE;
	if (busy == FW_BUSY_FLUSH) {
		fw_flushed(dm, rc, dm->flush_putback);
		return;
	}
	if (rc == 0) {
		for (int i = 0; i < dm->ninflight; i++)
			if (!dm->inflight[i].release)
				expiry_add(dm, dm->inflight[i].until, &dm->inflight[i].e);
		if (dm->inflight_retried) {
			log_info("run: firewall %s: %d pending change(s) now in force", dm->fw->name, dm->ninflight);
			dm->fw_delay_ms = 0;
		}
	} else {
		/* In front of the queue: what was made meanwhile is newer. */
		retry_reserve(dm, dm->ninflight);
		memmove(dm->retry + dm->ninflight, dm->retry, (size_t)dm->nretry * sizeof(*dm->retry));
		memcpy(dm->retry, dm->inflight, (size_t)dm->ninflight * sizeof(*dm->retry));
		dm->nretry += dm->ninflight;
		dm->retry_sorted = -1;
		if (dm->fw_delay_ms == 0 || dm->inflight_retried)
			retry_later(dm);
		log_warnx("run: firewall %s: %d change(s) not applied; pending, retried with backoff", dm->fw->name,
		    dm->ninflight);
	}
	dm->ninflight = 0;
}

static int
retry_cmp(const void *a, const void *b)
{
	const struct fw_entry *x = &((const struct fw_retry *)a)->e, *y = &((const struct fw_retry *)b)->e;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	if (c == 0 && x->plen == y->plen && x->kind == y->kind && (x->nports != y->nports ||
	    memcmp(x->ports, y->ports, x->nports * sizeof(x->ports[0])) != 0))
		return x->nports != y->nports ? x->nports - y->nports :
		    memcmp(x->ports, y->ports, x->nports * sizeof(x->ports[0]));	/* (a block of some ports is another) */
	return c != 0 ? c : x->plen != y->plen ? x->plen - y->plen : (int)x->kind - (int)y->kind;
}

/*
 * 1 if the firewall still owes this decision: a change in progress at an
 * asynchronous backend, or one waiting in the queue (failed, or made
 * meanwhile). Both are sorted (the queue once for a whole "ctl decisions";
 * any change to it unsorts it): a long listing against a long queue is a
 * binary search per decision, not a scan.
 */
static int
fw_pending(struct daemon *dm, const char *key, const char *action)
{
	struct fw_retry r = { 0 };
	const struct fw_retry *hit;
	int kind = fw_kind_of(action);

	if (kind < 0 || (dm->nretry == 0 && !dm->fw_flush_pending && dm->fw_busy == FW_IDLE) ||
	    !fw_entry_parse(key, 0, &r.e))
		return 0;
	if (dm->fw_flush_pending)
		return 1;
	r.e.kind = (enum fw_kind)kind;
	if (dm->fw_busy == FW_BUSY_APPLY &&
	    (hit = bsearch(&r, dm->inflight, (size_t)dm->ninflight, sizeof(*dm->inflight), retry_cmp)) != NULL &&
	    !hit->release)
		return 1;
	hit = dm->nretry > 0 ? retry_find(dm, &r.e) : NULL;
	return hit != NULL && !hit->release;
}

/*
 * Housekeeping: release the entries whose time is up (firewalls without
 * timeouts) — unless a later decision for the same key and action (a
 * re-ban, another rule) still holds it: then it waits for that one.
 */
static void
fw_expire(struct daemon *dm)
{
	int64_t now = time(NULL);
	int n = fw_expiry_due(dm->expiry, now, &dm->due, &dm->capdue), k = 0;

	for (int i = 0; i < n; i++) {
		char key[ADDR_STRLEN + 5];
		int64_t until;

		fw_entry_key(&dm->due[i], key);
		until = store_until(dm->store, key, fw_kind_name(dm->due[i].kind), now);
		if (dm->due[i].kind == FW_BLOCK) {
			/* A preloaded feed entry for the same prefix may hold it longer (or for good). */
			int64_t pu = preload_until(dm, &dm->due[i]);

			until = pu > until ? pu : until;
		}
		if (until > now)
			expiry_add(dm, until, &dm->due[i]);
		else
			dm->due[k++] = dm->due[i];
	}
	if (k > 0)
		fw_apply(dm, NULL, 0, dm->due, k);
}

/* A decision's firewall entry (actions/enforce.c); 1 if there is one to send. */
static int
fw_entry_of(struct daemon *dm, const char *rule, const char *action, const char *key, const struct addr *net,
    int plen, int64_t seconds, struct fw_entry *e)
{
	switch (enforce_fw_entry(dm->conf, dm->fw, rule, action, key, net, plen, seconds, e)) {
	case ENF_FW_OK:
		return 1;
	case ENF_FW_CANNOT_SHAPE:
		if (!dm->fw_warned_shapes)
			log_warnx("run: firewall %s can only block: %s decisions are recorded, not enforced",
			    dm->fw->name, action);
		dm->fw_warned_shapes = 1;
		return 0;
	default:
		return 0;
	}
}

/* Block one decision's key at the firewall (a manual ban), if it is a client key. */
void
daemon_fw_one(struct daemon *dm, const struct stored_decision *d)
{
	struct fw_entry e;

	if (fw_entry_of(dm, d->rule, d->action, d->key, &d->net, d->plen, d->until - (int64_t)time(NULL), &e) &&
	    e.seconds > 0)
		fw_send(dm, &e, 1);
}

/* Take a key out of the firewall: its block, limit and tarpit alike. */
void
daemon_fw_release(struct daemon *dm, const char *key)
{
	struct fw_entry e[3];
	int n = 0;

	for (int kind = FW_BLOCK; kind <= (dm->fw->shapes ? FW_TARPIT : dm->fw->conns ? FW_LIMIT : FW_BLOCK); kind++)
		if (fw_entry_parse(key, 0, &e[n])) {
			e[n].kind = (enum fw_kind)kind;
			e[n].every_scope = 1;	/* (a block of some ports too) */
			n++;
		}
	if (n > 0)
		fw_apply(dm, NULL, 0, e, n);
}

/* Start: the firewall holds exactly the blocks in force (what is stale goes, what is missing comes). */
static void
fw_add_active(void *arg, const struct stored_decision *d)
{
	struct daemon *dm = arg;
	struct fw_entry e;

	if (fw_entry_of(dm, d->rule, d->action, d->key, &d->net, d->plen, d->until - (int64_t)time(NULL), &e) &&
	    e.seconds > 0) {
		if (dm->nfwq == dm->capfwq) {
			dm->capfwq = dm->capfwq ? 2 * dm->capfwq : 1024;
			dm->fwq = xrealloc(dm->fwq, (size_t)dm->capfwq * sizeof(*dm->fwq));
		}
		dm->fwq[dm->nfwq++] = e;
	}
}

/*
 * A decision into the map the MTA looks up (every action it acts on; the
 * firewall, if any, enforces what it can as well): actions/enforce.c.
 */
void
daemon_map_put(struct daemon *dm, const struct stored_decision *d)
{
	struct dmap_hit h;
	enum dmap_kind kind;

	if (dm->dmap != NULL && enforce_map_entry(dm->conf, d->rule, d->action, d->until, &kind, &h) &&
	    dmap_put(dm->dmap, kind, d->key, &h))
		dm->map_dirty = 1;
}

static void
map_add_active(void *arg, const struct stored_decision *d)
{
	daemon_map_put(arg, d);
}

/* stdout closed, or its reader gone (SIGPIPE is ignored): said once; decisions are still saved and enforced. */
static void
out_check(struct daemon *dm)
{
	if (dm->out.err != 0 && !dm->out_failed) {
		errno = dm->out.err;
		log_warn("run: writing decisions to standard output (not said again)");
		dm->out_failed = 1;
	}
}

/*
 * The events written since the last commit, out of their memory buffer:
 * what was written is taken out of it, what was not (disk full) stays for
 * the next try. 0 if all of it is in the file.
 */
static int
write_events(struct daemon *dm)
{
	size_t off = 0;

	while (off < dm->events.len) {
		ssize_t k = write(dm->events_fd, dm->events.p + off, dm->events.len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (dm->store_ok)
				log_warn("run: writing events");
			break;
		}
		off += (size_t)k;
	}
	dm->events_len += off;
	memmove(dm->events.p, dm->events.p + off, dm->events.len - off);
	dm->events.len -= off;
	return dm->events.len == 0 ? 0 : -1;
}

/* How a decision of this node goes to the cluster (enum cluster_kind), or -1 if it does not. */
static int
shared_kind(struct daemon *dm, const struct stored_decision *d)
{
	const struct rule *r = conf_rule_named(dm->conf, d->rule);
	int kind = r == NULL || r->key == KEY_CLIENT ? CK_CLIENT : r->key == KEY_HELO ? CK_HELO :
	    r->key == KEY_SENDER ? CK_SENDER : r->key == KEY_SENDER_DOMAIN ? CK_SENDER_DOMAIN : -1;

	/* (a string key longer than 48 bytes is shown shortened: not the key itself) */
	return kind >= 0 && cluster_key_ok((enum cluster_kind)kind, d->key) ? kind : -1;
}

/*
 * Positions, decisions, the events file's length and the parser's state
 * in one transaction: 1 if saved, 0 if not (all or nothing). The events
 * must be in their file first: a committed length or position must never
 * be ahead of what it stands for.
 */
static int
save_state(struct daemon *dm)
{
	struct follow_pos pos;
	size_t len;
	void *blob;
	int bad, kind, journal_pending = 0;
	long rows;
	int64_t t0;

	if (dm->events_fd >= 0 && write_events(dm) < 0)
		return 0;
	if (store_begin(dm->store) < 0)
		return 0;
	for (int i = 0; i < dm->nsrc; i++)
		if (follow_position(dm->src[i], &pos) && store_put_position(dm->store, follow_path(dm->src[i]), &pos) < 0)
			goto fail;
	if (dm->journal != NULL && journal_cursor(dm->journal) != NULL &&
	    (dm->journal_saved == NULL || strcmp(dm->journal_saved, journal_cursor(dm->journal)) != 0)) {
		if (store_put_blob(dm->store, JOURNAL_BLOB, journal_cursor(dm->journal),
		    strlen(journal_cursor(dm->journal)) + 1) < 0)
			goto fail;
		journal_pending = 1;
	}
	for (int i = 0; i < dm->nbatch; i++) {
		if (store_put_decision(dm->store, &dm->batch[i]) < 0)
			goto fail;
		/*
		 * This node's own decisions go to the cluster, once saved (never
		 * what it received): on clients, and on the HELO names, senders and
		 * sender domains its rules decide (not a key shown shortened).
		 */
		if (dm->cl != NULL && dm->batch[i].origin == NULL && (kind = shared_kind(dm, &dm->batch[i])) >= 0) {
			struct cluster_msg m = { .op = CL_DECIDE, .kind = (enum cluster_kind)kind, .ts = dm->batch[i].ts,
				.until = dm->batch[i].until, .value = dm->batch[i].value, .level = dm->batch[i].level };

			snprintf(m.rule, sizeof(m.rule), "%s", dm->batch[i].rule);
			snprintf(m.key, sizeof(m.key), "%s", dm->batch[i].key);
			snprintf(m.action, sizeof(m.action), "%s", dm->batch[i].action);
			if (daemon_share(dm, &m) < 0)
				goto fail;
		}
	}
	if (dm->cl != NULL) {
		/* What the stream has taken leaves the outbox; where reading is, with the decisions it brought. */
		uint64_t acked = cluster_acked(dm->cl);

		if (acked > dm->cl_dropped && store_outbox_drop(dm->store, acked) < 0)
			goto fail;
		if (cluster_position_changes(dm->cl) != dm->cl_pos_saved) {
			blob = cluster_position_export(dm->cl, &len);
			bad = store_put_blob(dm->store, CLUSTER_BLOB, blob, len) < 0;
			free(blob);
			if (bad)
				goto fail;
		}
	}
	if (dm->events_fd >= 0 && store_put_mark(dm->store, EVENTS_MARK, dm->events_len) < 0)
		goto fail;
	/* Queue IDs seen but not yet joined: a restart must still join them. */
	blob = parser_corr_export(dm->parser, &len);
	bad = store_put_blob(dm->store, CORR_BLOB, blob, len) < 0;
	free(blob);
	if (bad)
		goto fail;
	/* Events waiting for DNS: read before the positions saved here, so they are saved with them. */
	if ((dm->wait != NULL && repwait_changes(dm->wait) != dm->wait_saved) || dm->wait_clear) {
		blob = dm->wait != NULL ? repwait_export(dm->wait, &len) : NULL;
		if (blob == NULL)
			len = 0;
		bad = store_put_blob(dm->store, WAIT_BLOB, blob != NULL ? blob : "", len) < 0;
		free(blob);
		if (bad)
			goto fail;
	}
	if (dm->reports != NULL) {
		/* the report's minute so far, with the positions it counted up to (its finished rows in the RRD first) */
		reporter_sync(dm->reports);	/* (rows a reader kept out go in the blob) */
		blob = reporter_export(dm->reports, &len);
		bad = store_put_blob(dm->store, REPORT_BLOB, blob, len) < 0;
		free(blob);
		if (bad)
			goto fail;
	}
	/*
	 * The rules' counters: the keys that changed since the last commit
	 * (a key a flood touches in every batch is written at every commit:
	 * measured within the target, bench/RESULTS.md), so that a restart,
	 * even after a kill -9, counts on from exactly these positions.
	 */
	t0 = mono_ms();
	if ((rows = counters_save(dm->store, dm->eng)) < 0)
		goto fail;
	if (store_commit(dm->store) != 0) {	/* store_commit rolls back on failure */
		daemon_shared(dm, 0);
		return 0;
	}
	if (rows > 0) {
		dm->counters_rows += (uint64_t)rows;
		dm->counters_ms += (uint64_t)(mono_ms() - t0);	/* (the commit's whole time: the counters are most of it) */
		/* (a commit holds the loop: said when many counters made it long) */
		if (mono_ms() - t0 >= 100)
			log_info("run: the rules' counters: %ld key(s) saved in %lld ms", rows, (long long)(mono_ms() - t0));
	}
	engine_saved(dm->eng);
	daemon_shared(dm, 1);
	if (dm->cl != NULL) {
		dm->cl_dropped = cluster_acked(dm->cl) > dm->cl_dropped ? cluster_acked(dm->cl) : dm->cl_dropped;
		dm->cl_pos_saved = cluster_position_changes(dm->cl);
	}
	if (dm->wait != NULL)
		dm->wait_saved = repwait_changes(dm->wait);
	dm->wait_clear = 0;
	if (journal_pending) {
		free(dm->journal_saved);
		dm->journal_saved = xstrdup(journal_cursor(dm->journal));
	}
	return 1;
fail:
	store_rollback(dm->store);
	daemon_shared(dm, 0);
	return 0;
}

/* ------------------------------------------------------ the cluster --- */

int
daemon_share(struct daemon *dm, const struct cluster_msg *m)
{
	struct cluster_msg *s;
	char text[512];
	size_t n;

	if (dm->cl == NULL || dm->agent)
		return 0;	/* (an agent publishes nothing: it only enforces) */
	if (dm->ncl_staged == dm->capcl_staged) {
		dm->capcl_staged = dm->capcl_staged ? 2 * dm->capcl_staged : 16;
		dm->cl_staged = xrealloc(dm->cl_staged, (size_t)dm->capcl_staged * sizeof(*dm->cl_staged));
	}
	s = &dm->cl_staged[dm->ncl_staged];
	*s = *m;
	snprintf(s->node, sizeof(s->node), "%s", dm->node);
	s->seq = dm->cl_seq + (uint64_t)dm->ncl_staged + 1;
	n = cluster_msg_pack(s, text, sizeof(text));
	if (n == 0 || store_outbox_put(dm->store, s->seq, text, n) < 0 || store_put_mark(dm->store, CLUSTER_SEQ, s->seq) < 0)
		return -1;
	dm->ncl_staged++;
	return 0;
}

void
daemon_shared(struct daemon *dm, int committed)
{
	if (committed && dm->ncl_staged > 0) {
		for (int i = 0; i < dm->ncl_staged; i++)
			cluster_publish(dm->cl, &dm->cl_staged[i]);
		dm->cl_seq = dm->cl_staged[dm->ncl_staged - 1].seq;
	}
	dm->ncl_staged = 0;
}

/* A remote decision on stdout, beside this node's own: their fields, and its origin. */
static void
remote_json(struct daemon *dm, const struct cluster_msg *m, int64_t now)
{
	OB_LIT(&dm->out, "{\"ts\":\"");
	put_iso8601(&dm->out, m->ts, -1);
	OB_LIT(&dm->out, "\",\"rule\":");
	ob_put_json_str(&dm->out, m->rule, strlen(m->rule));
	OB_LIT(&dm->out, ",\"key\":");
	ob_put_json_str(&dm->out, m->key, strlen(m->key));
	OB_LIT(&dm->out, ",\"action\":");
	ob_put_json_str(&dm->out, m->action, strlen(m->action));
	OB_LIT(&dm->out, ",\"duration\":");
	ob_put_i64(&dm->out, m->until - now);
	OB_LIT(&dm->out, ",\"value\":");
	ob_put_u64(&dm->out, m->value);
	OB_LIT(&dm->out, ",\"level\":");
	ob_put_u64(&dm->out, m->level);
	OB_LIT(&dm->out, ",\"origin\":");
	ob_put_json_str(&dm->out, m->node, strlen(m->node));
	OB_LIT(&dm->out, "}\n");
}

/*
 * Another node's message (cluster.h checked it and dropped repeats): its
 * decision joins the batch like this node's own (saved with the stream
 * position at the next commit, then enforced), marked with its origin, and
 * is not published again. Never on a trusted address; one already over is
 * not enforced. A release ends the key's decisions here, like `ctl unban`.
 */
static void
on_remote(void *arg, const struct cluster_msg *m)
{
	struct daemon *dm = arg;
	int64_t now = time(NULL);
	struct fw_entry e;

	dm->dirty = 1;
	if (m->op == CL_RELEASE) {
		long n = daemon_release(dm, m->key, now);

		if (n > 0) {
			struct audit_who who = { .by = BY_CLUSTER, .node = m->node };

			daemon_fw_release(dm, m->key);
			if (dm->dmap != NULL && dmap_del(dm->dmap, DK_CLIENT, m->key))
				dm->map_dirty = 1;
			audit_unban(dm->audit, now, m->key, n, &who);
		}
		log_info("cluster: %s released by node %s", m->key, m->node);
		return;
	}
	if (m->until <= now) {
		dm->cl_stale++;
		return;
	}
	if (m->kind != CK_CLIENT) {
		/*
		 * A HELO name, sender or domain: enforced through a rule of this
		 * node's of that name keyed the same way (the map's kind is the
		 * rule's, here and after a restart); a node without one says so.
		 */
		const struct rule *r = conf_rule_named(dm->conf, m->rule);
		enum key_kind want = m->kind == CK_HELO ? KEY_HELO : m->kind == CK_SENDER ? KEY_SENDER : KEY_SENDER_DOMAIN;

		if (r == NULL || r->key != want) {
			dm->cl_norule++;
			if (!dm->agent)	/* (an agent has no MTA map to enforce such a decision in: nothing to say) */
					log_warnx("cluster: node %s decided %s on %s %s by rule %s, which this node has not (keyed by "
				    "%s): not enforced", m->node, m->action, cluster_kind_name(m->kind), m->key, m->rule,
				    cluster_kind_name(m->kind));
			return;
		}
	} else if (fw_entry_parse(m->key, 0, &e)) {
		for (int i = 0; i < dm->conf->ntrusted; i++)
			if (table_overlaps(dm->conf->trusted[i], &e.addr, e.plen)) {
				dm->cl_trusted++;
				log_warnx("cluster: node %s decided %s on %s, which holds a trusted address here: not enforced",
				    m->node, m->action, m->key);
				return;
			}
	}
	{
		struct stored_decision *sd = batch_add(dm, m->key, m->rule, m->node, NULL);

		sd->action = action_name((enum action)action_by_name(m->action));	/* (the static name) */
		sd->ts = m->ts;
		sd->until = m->until;
		sd->value = m->value;
		sd->level = m->level;
	}
	/* This node's rules do not decide the key again while it is in force (as after a restart). */
	engine_restore(dm->eng, m->rule, m->key, m->until, m->level);
	/* In force here: in the report's bans (not among the decisions made here), as after a restart. */
	if (dm->reports != NULL)
		reporter_restore_ban(dm->reports, m->key, m->rule, m->action, m->until);
	remote_json(dm, m, now);
}

/*
 * Save, then enforce and print this tick's decisions.
 *
 * Why decisions stay in the batch until saved: positions and decisions
 * are saved together, so a position is never saved ahead of a decision
 * its lines caused. When saving fails (disk full, read-only directory),
 * the decisions are enforced and printed from memory at once, and stay
 * in the batch (marked enforced) to be saved with the next commit — which
 * is tried again every second while the disk is full. Should the daemon
 * stop before that, their lines are read again at the next start (their
 * positions were not saved either), so nothing is lost.
 */
void
daemon_commit(struct daemon *dm)
{
	int saved = save_state(dm);

	if (saved && !dm->store_ok)
		log_info("run: the state directory is writable again; %d decision(s) held in memory saved",
		    dm->nenforced);
	if (!saved && dm->store_ok)
		log_warnx("run: cannot save state (disk full or read-only?); still enforcing from memory, "
		    "saving again every second");
	dm->store_ok = saved;
	dm->store_retry_ms = mono_ms() + STORE_RETRY_MS;
	dm->commit_due = mono_ms() + COMMIT_EVERY_MS;
	/* Enforce the new decisions in one firewall transaction, saved or not. */
	for (int i = dm->nenforced; i < dm->nbatch; i++) {
		const struct stored_decision *d = &dm->batch[i];
		struct audit_who who = { .by = d->origin != NULL ? BY_CLUSTER : BY_RULE, .node = d->origin };

		fw_add_active(dm, d);
		daemon_map_put(dm, d);
		if (strcmp(d->action, "log") != 0 && d->until > (int64_t)time(NULL))
			audit_ban(dm->audit, (int64_t)time(NULL), d, &who);
	}
	if (dm->nfwq > 0) {
		fw_send(dm, dm->fwq, dm->nfwq);
		dm->nfwq = 0;
	}
	/* Decisions are printed once they are saved (or once saving failed). */
	ob_flush(&dm->out);
	out_check(dm);
	if (saved) {
		for (int i = 0; i < dm->nbatch; i++)
			free(dm->batch_keys[i]);
		dm->nbatch = 0;
	}
	dm->nenforced = dm->nbatch;
	dm->dirty = 0;
}

/* How many decisions are not saved yet (the disk was full), and how many wait for the firewall. */
int
daemon_unsaved(const struct daemon *dm)
{
	return dm->nbatch;
}

/* "pending" if key's decision is not in force everywhere yet (a firewall change, or the map file, to retry). */
const char *
daemon_decision_state(struct daemon *dm, const struct stored_decision *d)
{
	if (fw_pending(dm, d->key, d->action))
		return "pending";
	if (dm->map_failed && dm->dmap != NULL && dmap_action_of(d->action) >= 0)
		return "pending";
	return "";
}

/* The decisions in force: the saved ones, then those waiting to be saved. */
int
daemon_list_decisions(struct daemon *dm, int64_t now, store_decision_fn fn, void *arg)
{
	int rc = store_list_active(dm->store, now, fn, arg);

	for (int i = 0; i < dm->nenforced; i++)
		if (dm->batch[i].until > now)
			fn(arg, &dm->batch[i]);
	return rc;
}

/*
 * "ctl unban" / "ctl flush": end key's decisions (every one if key is
 * NULL), saved ones and those still waiting to be saved alike — else a
 * decision made while the disk was full would come back once saved.
 * How many, or -1 if the store failed.
 */
long
daemon_release(struct daemon *dm, const char *key, int64_t now)
{
	long n = store_release(dm->store, key, now);

	if (dm->reports != NULL)
		reporter_release(dm->reports, key, now);

	for (int i = 0; i < dm->nbatch; i++)
		if (dm->batch[i].until > now && (key == NULL || strcmp(dm->batch[i].key, key) == 0)) {
			dm->batch[i].until = now;
			n += n >= 0;
		}
	return n;
}

/* How many changes the firewall still owes (failed, waiting for their retry). */
int
daemon_fw_pending(const struct daemon *dm)
{
	return dm->nretry + dm->fw_flush_pending +
	    (dm->fw_busy == FW_BUSY_APPLY ? dm->ninflight : dm->fw_busy == FW_BUSY_FLUSH);
}

/*
 * The feeds of a configuration, read now (none: an empty set, which still
 * answers with mxguard's own vol), and *ok = 0 (each failure logged as
 * FILE:LINE: message) if one cannot be read.
 */
static struct rep_db *
load_feeds(struct daemon *dm, const struct config *c, int *ok)
{
	struct rep_db *db;

	*ok = 1;
	db = rep_new();
	rep_set_volume(db, dm->vol);
	rep_set_async(db, 1);	/* a changed feed is read beside the loop, not in it */
	for (int i = 0; i < c->nfeeds; i++) {
		char err[512];

		if (rep_add(db, c->feeds[i], err, sizeof(err)) < 0) {
			log_warnx("run: %s: feed \"%s\": %s", c->feeds[i]->at, c->feeds[i]->name, err);
			*ok = 0;
		} else
			log_info("run: feed \"%s\": %zu entries from %s", c->feeds[i]->name, rep_feed_size(db, i),
			    c->feeds[i]->path);
	}
	return db;
}

/*
 * The at-connect policy (conf.h): the MTA's lookup of a client that has no
 * decision yet is answered from what is known of it — the first statement
 * whose condition holds gives the action. Trusted clients are never
 * answered. From memory only (the feeds): a lookup never waits.
 */
static int
at_connect_answer(void *arg, const struct addr *a, int64_t now, struct dmap_hit *out)
{
	struct daemon *dm = arg;
	const struct config *c = dm->conf;
	struct rep_result r;
	struct event ev;

	if (c->natc == 0)
		return 0;
	for (int i = 0; i < c->ntrusted; i++)
		if (table_contains(c->trusted[i], a))
			return 0;
	if (dm->rep != NULL)
		rep_lookup(dm->rep, a, now, &r);
	else {
		memset(&r, 0, sizeof(r));
		for (int s = 0; s < REP_NSCORES; s++)
			r.score[s] = REP_UNKNOWN;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CONNECT;
	ev.mta = "";
	ev.ts = now;
	ev.ip = *a;
	ev.rep = &r;
	for (int i = 0; i < c->natc; i++)
		if (cond_eval(c->atc[i].where, &ev)) {
			memset(out, 0, sizeof(*out));
			out->action = (enum dmap_action)dmap_action_of(action_name(c->atc[i].action));
			out->until = now + 1;	/* this lookup's answer; the next one asks again */
			snprintf(out->rule, sizeof(out->rule), "reputation");
			dm->atc_answers++;
			return 1;
		}
	return 0;
}

static void
feed_report(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("run: feed %s; the previous version stays in use", msg);
}

/* inotify on the feeds' directories: a feed written (or renamed into place) is read at once, not at the next second. */
static void
watch_feeds(struct daemon *dm)
{
	for (int i = 0; i < dm->conf->nfeeds; i++) {
		char *d = xstrdup(dm->conf->feeds[i]->path), *dir = dirname(d), slash[PATH_MAX + 2];

		/*
		 * A directory watched already (a log's, another feed's, or before a
		 * reload) is not added again: libinotifytools would lose track of
		 * its first watch.
		 */
		char real[PATH_MAX], realslash[PATH_MAX + 2];

		snprintf(slash, sizeof(slash), "%s/", dir);
		if (realpath(dir, real) == NULL)
			snprintf(real, sizeof(real), "%s", dir);
		snprintf(realslash, sizeof(realslash), "%s/", real);
		if (inotifytools_wd_from_filename(dir) != -1 || inotifytools_wd_from_filename(slash) != -1 ||
		    inotifytools_wd_from_filename(real) != -1 || inotifytools_wd_from_filename(realslash) != -1) {
			free(d);
			continue;
		}
		dir = real;	/* the same directory by another name would be a second watch of one inode */
		if (!inotifytools_watch_file(dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE |
		    IN_CLOSE_WRITE | IN_ATTRIB))
			log_warnx("run: cannot watch the directory of feed %s (it is looked at every second): %s",
			    dm->conf->feeds[i]->path, strerror(inotifytools_error()));
		free(d);
	}
}

/* A rule whose counting changed at a reload: its windows start again from zero. */
static void
say_reset(void *arg, const char *rule, const char *why)
{
	(void)arg;
	log_warnx("run: reload: rule \"%s\": %s: its counters start again from zero", rule, why);
}

/*
 * Say, per rule, when no enforcement of this daemon can carry its action
 * out (no firewall for a block, no map for a reject, a HELO key with no
 * socketmap...): its decisions would only be recorded, which must not
 * happen silently. At start and at each reload.
 */
static void
say_unreached(const struct daemon *dm, const struct config *c)
{
	const struct fw_backend *fw = strcmp(dm->fw->name, "none") == 0 ? NULL : dm->fw;
	char why[400];

	if (fw == NULL && !dm->smap_on && dm->maptype[0] == '\0') {
		if (c->nrules > 0)
			log_warnx("run: no firewall, socketmap or map file: decisions are printed and saved, and nothing "
			    "enforces them (--firewall, --socketmap, --map-file)");
		return;
	}
	for (int i = 0; i < c->nrules; i++)
		if (enforce_rule_reach(c->rules[i], fw, dm->smap_on, dm->maptype[0] ? dm->maptype : NULL, why,
		    sizeof(why)) != NULL)
			log_warnx("run: rule \"%s\": %s", c->rules[i]->name, why);
}

/* SIGHUP or "ctl reload": a new configuration is checked first. 1 if reloaded. */
static int
reload_config(struct daemon *dm, const struct audit_who *who)
{
	struct config *nc;
	struct rep_db *nr;
	struct dnsrep *nd;
	struct repwait *nw;
	int ok;

	audit_check(dm->audit, (int64_t)time(NULL), 1);	/* (logrotate's postrotate reloads: a new log now) */
	if ((nc = dm->conffile != NULL ? conf_load(dm->conffile, print_diag, NULL) : conf_empty()) == NULL) {
		log_warnx("run: reload: %s has errors; keeping the running configuration", dm->conffile);
		audit_reload(dm->audit, (int64_t)time(NULL), dm->conffile, 0, "the configuration has errors", who);
		return 0;
	}
	{
		char why[600];

		if (enforce_ports_ok(nc, dm->fw, why, sizeof(why)) != NULL) {
			log_warnx("run: reload: %s; keeping the running configuration", why);
			audit_reload(dm->audit, (int64_t)time(NULL), dm->conffile, 0, why, who);
			conf_free(nc);
			return 0;
		}
	}
	/* Its feeds are part of it: one that cannot be read is an error like any other. */
	nr = load_feeds(dm, nc, &ok);
	if (!ok) {
		log_warnx("run: reload: a feed of %s cannot be read; keeping the running configuration", dm->conffile);
		audit_reload(dm->audit, (int64_t)time(NULL), dm->conffile, 0, "a feed cannot be read", who);
		rep_free(nr);
		conf_free(nc);
		return 0;
	}
	if (!zones_start(dm, nc, &nd, &nw)) {
		log_warnx("run: reload: the DNS zones of %s cannot be set up; keeping the running configuration",
		    dm->conffile);
		audit_reload(dm->audit, (int64_t)time(NULL), dm->conffile, 0, "the DNS zones cannot be set up", who);
		rep_free(nr);
		conf_free(nc);
		return 0;
	}
	if (dm->wait != NULL) {
		/*
		 * The zones are the old configuration's: events waiting for them
		 * are judged now, by the running rules, without the answers still
		 * out (unknown), and the cache goes with them.
		 */
		struct repwait_stats st = repwait_stats(dm->wait);

		if (st.waiting > 0)
			log_info("run: reload: %llu event(s) waiting for DNS judged now, their zones unknown",
			    (unsigned long long)st.waiting);
		repwait_flush(dm->wait);
		dm->wait_clear = 1;
	}
	repwait_free(dm->wait);
	dnsrep_free(dm->dns);
	dm->dns = nd;
	dm->wait = nw;
	{
		struct engine *ne = engine_new(nc);

		engine_adopt(ne, dm->eng, say_reset, NULL);	/* rules that count as before keep their counters */
		say_unreached(dm, nc);
		if (log_syslog(nc->log_syslog) < 0)
			log_warnx("run: reload: set log syslog: no syslog socket at " LOG_SYSLOG_SOCKET
			    "; messages stay on stderr");
		/* The firewall is set up once; its kernel objects outlive a reload. */
		if ((nc->firewall == NULL) != (dm->conf->firewall == NULL) ||
		    (nc->firewall != NULL && strcmp(nc->firewall, dm->conf->firewall) != 0))
			log_warnx("run: reload: 'set firewall' changed; it takes effect at the next restart");
		/* The parser blocks are the new configuration's from the next line on (their sessions kept by name). */
		parser_set_custom(dm->parser, nc->parsers, nc->nparsers);
		conf_free(dm->conf);
		rep_free(dm->rep);
		dm->conf = nc;
		dm->eng = ne;
		(void)counters_reload(dm->store, ne, nc);	/* (said if it fails: the counters go on in memory) */
		dm->rep = nr;
	}
	counters_setup(dm);	/* rule numbers changed: what was gathered under the old ones is dropped */
	if (dm->reports != NULL)
		reporter_reconfigure(dm->reports, nc);
	if ((nc->report_dir == NULL) != (dm->report_dir_conf == NULL) ||
	    (nc->report_dir != NULL && strcmp(nc->report_dir, dm->report_dir_conf) != 0))
		log_warnx("run: reload: 'set report-dir' changed; it takes effect at the next restart");
	if ((nc->user == NULL) != (dm->user_conf == NULL) || (nc->user != NULL && strcmp(nc->user, dm->user_conf) != 0))
		log_warnx("run: reload: 'set user' changed; it takes effect at the next restart");
	watch_feeds(dm);
	preload_sync(dm);
	if ((nc->decision_log == NULL) != (dm->decision_log_conf == NULL) ||
	    (nc->decision_log != NULL && strcmp(nc->decision_log, dm->decision_log_conf) != 0))
		log_warnx("run: reload: 'set decision-log' changed; it takes effect at the next restart");
	log_info("run: reloaded %s (%d rules)", dm->conffile ? dm->conffile : "(no configuration)", nc->nrules);
	audit_reload(dm->audit, (int64_t)time(NULL), dm->conffile, 1, NULL, who);
	return 1;
}


int
daemon_reload(struct daemon *dm, const struct audit_who *who)
{
	int ok;

	service_reloading();
	ok = reload_config(dm, who);
	service_ready("%s; following %d log(s)", ok ? "reloaded" : "reload refused, the running configuration kept",
	    dm->nsrc);
	return ok;
}

/* The longest a client's events wait for DNS: the slowest zone's timeout. */
static int
zones_max_timeout(const struct config *c)
{
	int max = 0;

	for (int i = 0; i < c->nzones; i++) {
		int t = c->zones[i]->timeout_ms ? c->zones[i]->timeout_ms : DNSREP_TIMEOUT_DEFAULT;

		max = t > max ? t : max;
	}
	return max;
}

/*
 * The DNS zones c's rules read: asked per event, the events waiting for
 * their answers (repwait.h). Both NULL if no rule reads a zone (a zone
 * nothing reads is said to be idle). 0 if c-ares cannot be set up.
 */
static int
zones_start(struct daemon *dm, const struct config *c, struct dnsrep **dns, struct repwait **wait)
{
	char err[256];

	*dns = NULL;
	*wait = NULL;
	if (!c->uses_zones) {
		if (c->nzones > 0)
			log_warnx("%s: no rule reads a DNS zone (listed \"%s\", or rep.risk/spam/vol): the daemon does "
			    "not ask them ('mxguard reputation' does)", c->zones[0]->at, c->zones[0]->name);
		return 1;
	}
	if ((*dns = dnsrep_new((const struct zone_spec *const *)c->zones, c->nzones, err, sizeof(err))) == NULL) {
		log_warnx("run: DNS zones: %s", err);
		return 0;
	}
	*wait = repwait_new(*dns, c->nzones, WAIT_MAX_BYTES, on_answered, dm);
	log_info("run: %d DNS zone(s) asked per client; events wait for their answers (at most %d s)", c->nzones,
	    zones_max_timeout(c) / 1000);
	return 1;
}

/*
 * Take in DNS answers while they come quickly, up to DNS_DRAIN_MS: a storm
 * of new clients is thousands of questions sent a window at a time
 * (dnszone.c), each window answered in about a millisecond on a near
 * server. Between windows the loop would otherwise commit and poll
 * everything else, and the questions still queued would reach their
 * timeout unsent.
 */
static void
dns_drain(struct daemon *dm)
{
	int64_t end = mono_ms() + DNS_DRAIN_MS;

	dnsrep_process(dm->dns, mono_ms());
	while (dnsrep_stats(dm->dns).in_flight > 0 && mono_ms() < end) {
		struct pollfd dp[DNS_POLL_MAX];
		int n = dnsrep_pollfds(dm->dns, dp, DNS_POLL_MAX);

		if (poll(dp, (nfds_t)n, DNS_DRAIN_GAP_MS) <= 0)
			break;		/* nothing more soon: back to the loop */
		dnsrep_process(dm->dns, mono_ms());
	}
}

/*
 * The cluster of --cluster or 'set cluster', with --node or 'set node' or
 * the host name, and the password of password-file: 0, or the exit code
 * (said why) before anything is touched.
 */
static int
cluster_setup(struct daemon *dm, const char *url, const char *node)
{
	struct cluster_opts o = { 0 };
	char why[400];
	int64_t longest = 0;

	if (url == NULL)
		url = dm->conf->cluster;
	if (redis_url_parse(url, &o.url, why, sizeof(why)) < 0) {
		log_warnx("run: --cluster: %s", why);
		return EX_USAGE;
	}
	if (dm->conf->cluster_password_file != NULL) {
		/* The password from a file of its own (mode 0600, root's), not in the configuration. */
		FILE *f = fopen(dm->conf->cluster_password_file, "r");
		char line[sizeof(o.url.password) + 2];

		if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
			log_warn("run: %s: password-file %s", dm->conf->cluster_at, dm->conf->cluster_password_file);
			if (f != NULL)
				fclose(f);
			return EX_CONFIG;
		}
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (strlen(line) >= sizeof(o.url.password)) {
			log_warnx("run: %s: the password in %s is too long", dm->conf->cluster_at,
			    dm->conf->cluster_password_file);
			return EX_CONFIG;
		}
		memcpy(o.url.password, line, strlen(line) + 1);
	}
	if (node == NULL)
		node = dm->conf->node;
	if (node == NULL) {
		char host[256];

		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "?");
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';	/* the short name */
		if (dm->agent && strlen(host) + 6 < sizeof(host))
			strcat(host, "-agent");	/* not the name of an MX node on the same host */
		if (!cluster_node_name_ok(host)) {
			log_warnx("run: the host name '%s' is not a node name: give one (--node or 'set node')", host);
			return EX_USAGE;
		}
		snprintf(dm->node, sizeof(dm->node), "%.64s", host);
	} else if (!cluster_node_name_ok(node)) {
		log_warnx("run: --node '%s': 1 to %d letters, digits, '.', '_', '-'", node, CLUSTER_NODE_MAX);
		return EX_USAGE;
	} else
		snprintf(dm->node, sizeof(dm->node), "%s", node);
	/* The stream keeps entries well beyond the longest decision a rule takes: a node back after a week still learns. */
	for (int i = 0; i < dm->conf->nrules; i++) {
		const struct rule *r = dm->conf->rules[i];
		int64_t d = r->escalate > 1 && r->escalate_max > r->duration ? r->escalate_max : r->duration;

		longest = d > longest ? d : longest;
	}
	o.keep_seconds = 2 * longest > 7 * 86400 ? 2 * longest : 7 * 86400;
	o.node = dm->node;
	dm->cl = cluster_new(&o, on_remote, dm);
	dm->cl_url = xmalloc(sizeof(*dm->cl_url));
	*dm->cl_url = o.url;
	log_info("run: node %s shares its decisions through %s", dm->node,
	    o.url.nsentinels > 0 ? "Redis Sentinel" : "Redis");
	return 0;
}

/* After the store is open: the outbox goes out again, reading goes on where it was. */
static void cluster_resend(void *arg, uint64_t seq, const void *data, size_t len);

static void
cluster_restore(struct daemon *dm)
{
	void *blob;
	size_t len;
	uint64_t seq = 0;

	if (store_get_mark(dm->store, CLUSTER_SEQ, &seq))
		dm->cl_seq = seq;
	if (store_get_blob(dm->store, CLUSTER_BLOB, &blob, &len)) {
		if (cluster_position_import(dm->cl, blob, len) < 0)
			log_warnx("run: the saved cluster position is from another version; reading the stream from its start");
		free(blob);
	}
	dm->cl_pos_saved = cluster_position_changes(dm->cl);
	if (store_outbox_list(dm->store, cluster_resend, dm) < 0)
		log_warnx("run: cannot read the cluster outbox");
}

static void
cluster_resend(void *arg, uint64_t seq, const void *data, size_t len)
{
	struct daemon *dm = arg;
	struct cluster_msg m = { 0 };

	if (cluster_msg_unpack(data, len, &m) < 0) {
		log_warnx("run: cluster outbox entry %llu is not readable; dropped", (unsigned long long)seq);
		return;
	}
	snprintf(m.node, sizeof(m.node), "%s", dm->node);
	m.seq = seq;
	cluster_publish(dm->cl, &m);
	if (seq > dm->cl_seq)
		dm->cl_seq = seq;
}

static void
restore_one(void *arg, const struct stored_decision *d)
{
	struct daemon *dm = arg;

	if (engine_restore(dm->eng, d->rule, d->key, d->until, d->level))
		dm->restored++;
	if (dm->reports != NULL)
		reporter_restore_ban(dm->reports, d->key, d->rule, d->action, d->until);
}

/*
 * The report directory of --report-dir or 'set report-dir' (docs/REPORTS.md):
 * the RRD goes on from its last row, the minute in progress at the last
 * commit is taken back. 0, or an exit code (said why).
 */
static int
reports_setup(struct daemon *dm, const char *dir)
{
	struct reporter_opts o = { .dir = dir, .rrdcached = dm->conf->rrdcached, .interval = dm->conf->report_interval,
		.keep = dm->conf->report_keep, .svg = dm->conf->report_svg, .live = 1 };
	char host[256], err[600];

	if (dm->node[0] != '\0')
		snprintf(host, sizeof(host), "%s", dm->node);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	o.host = host;
	if ((dm->reports = reporter_new(&o, dm->conf, err, sizeof(err))) == NULL) {
		log_warnx("run: report directory: %s", err);
		return EX_CANTCREAT;
	}
	return 0;
}

/* The Prometheus textfile, whole or not at all (node_exporter must never read half of it). */
/*
 * The decision log (audit.h): path, "off", or NULL for the default — the
 * system's log directory for the system's daemon, the state directory's
 * for one started with --state-dir (a test's or a second instance's
 * entries never go into the system's trail). One that cannot be opened is
 * said, and the daemon runs without it: protection does not wait for its
 * record.
 */
static void
audit_setup(struct daemon *dm, const char *path, const char *statedir, int statedir_given)
{
	char def[PATH_MAX], err[PATH_MAX + 200];
	uint64_t upto;

	if (path != NULL && strcmp(path, "off") == 0)
		return;
	if (path == NULL && statedir_given) {
		snprintf(def, sizeof(def), "%s/decisions.log", statedir);
		path = def;
	} else if (path == NULL) {
		path = AUDIT_DEFAULT;
		if (mkdir("/var/log/mxguard", 0750) != 0 && errno != EEXIST)
			log_warnx("run: cannot make /var/log/mxguard: %s", strerror(errno));
	}
	if ((dm->audit = audit_open(path, err, sizeof(err))) == NULL) {
		log_warnx("run: decision log: %s; bans, unbans and expiries are not recorded (set decision-log "
		    "\"PATH\" elsewhere, or off)", err);
		return;
	}
	/*
	 * A first start records expiries from now on (the mark saved at once:
	 * it moves on disk only when an expiry is written); a restart also
	 * those that came while it was stopped.
	 */
	if (store_get_mark(dm->store, AUDIT_MARK, &upto)) {
		dm->audit_upto = (int64_t)upto;
		return;
	}
	dm->audit_upto = (int64_t)time(NULL);
	if (store_begin(dm->store) < 0 || store_put_mark(dm->store, AUDIT_MARK, (uint64_t)dm->audit_upto) < 0 ||
	    store_commit(dm->store) < 0)
		store_rollback(dm->store);
}

/* A decision whose time ran out: recorded unless another of the key's (same action) holds on past it. */
static void
audit_one_ended(void *arg, const struct stored_decision *d)
{
	struct daemon *dm = arg;

	if (store_until(dm->store, d->key, d->action, d->until) > d->until)
		return;		/* (extended: its end is the later one's) */
	audit_expire(dm->audit, d);
	dm->audit_written++;
}

/*
 * The decisions ended since the last look, into the decision log, then
 * the mark saved: a crash between the two records them again at the next
 * start (twice rather than never). A second in which nothing ended moves
 * the mark in memory only: looking again from the older saved mark after
 * a crash finds nothing more (no write to the state every idle second).
 */
static void
audit_expiries(struct daemon *dm, int64_t now)
{
	if (dm->audit == NULL || now <= dm->audit_upto)
		return;
	dm->audit_written = 0;
	if (store_list_ended(dm->store, dm->audit_upto, now, audit_one_ended, dm) < 0)
		return;		/* (tried again next time) */
	if (dm->audit_written == 0) {
		dm->audit_upto = now;
		return;
	}
	if (store_begin(dm->store) < 0 || store_put_mark(dm->store, AUDIT_MARK, (uint64_t)now) < 0 ||
	    store_commit(dm->store) < 0) {
		store_rollback(dm->store);
		return;
	}
	dm->audit_upto = now;
}

static void
metrics_write(struct daemon *dm)
{
	struct outbuf ob;
	char err[600];

	ob_init(&ob, -1, 16 * 1024);
	daemon_metrics(dm, &ob, time(NULL));
	if (files_write(dm->metrics_file, ob.p, ob.len, 0, err, sizeof(err)) < 0 && !dm->metrics_failed) {
		log_warnx("run: metrics file: %s (said once)", err);
		dm->metrics_failed = 1;
	}
	ob_free(&ob);
}

/* After the store is open: the minute the report was counting at the last commit. */
static void
reports_restore(struct daemon *dm)
{
	void *blob;
	size_t len;

	if (dm->reports == NULL || !store_get_blob(dm->store, REPORT_BLOB, &blob, &len))
		return;
	if (reporter_import(dm->reports, blob, len) < 0)
		log_warnx("run: the saved report minute is from another version; it starts again");
	free(blob);
}

/*
 * libinotifytools keeps its inotify descriptor to itself; the event loop
 * needs it in poll() next to the signal descriptor. It is the inotify
 * descriptor that appeared in /proc/self/fd when the library started.
 */
static int
find_inotify_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fd = -1;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char link[300], target[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, "anon_inode:inotify") == 0)
				fd = atoi(de->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	return fd;
}

enum { NEWS_NAMES = 1, NEWS_OTHER = 2 };

/*
 * What inotify reported since the last look, read straight from its
 * descriptor: one read a wakeup, where libinotifytools' next_events spends
 * a select, an ioctl and a read per call and one more call to learn that
 * nothing is left — under a trickle of lines (a wakeup a line) that was
 * most of the daemon's system calls. Sets written[i] for each source whose
 * file (by name) was written. Returns NEWS_NAMES if a name was created,
 * moved or removed in a watched directory, a watch ended or the queue
 * overflowed (the followers then look at everything), NEWS_OTHER if
 * anything but a source changed (a feed's file).
 */
static int
inotify_news(int fd, struct follower *const *src, int nsrc, unsigned char *written)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const uint32_t names = IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF |
	    IN_MOVE_SELF | IN_ATTRIB | IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT;
	int news = 0;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		for (const char *p = buf; p < buf + k;) {
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
			int ours = 0;

			if (ev->mask & names)
				news |= NEWS_NAMES;
			for (int i = 0; ev->len > 0 && i < nsrc; i++)
				if (strcmp(ev->name, follow_name(src[i])) == 0)
					ours = written[i] = 1;
			if (!ours)
				news |= NEWS_OTHER;
			p += sizeof(*ev) + ev->len;
		}
		/* Room left for the longest event: the queue was empty when read. */
		if ((size_t)k <= sizeof(buf) - sizeof(struct inotify_event) - NAME_MAX - 1)
			break;
	}
	if (k < 0 && errno != EAGAIN && errno != EINTR)
		news |= NEWS_NAMES | NEWS_OTHER;	/* (said nothing: everything is looked at) */
	return news;
}

/*
 * 1 if something accepts connections on the Unix socket at path: another
 * daemon. Starting over it would unlink a live socket (and then, if this
 * start failed, leave neither daemon reachable).
 */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, up;

	if (strlen(path) >= sizeof(sa.sun_path) || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	strcpy(sa.sun_path, path);
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

/* The directory of a --map-file TYPE:PATH must exist: found at start, not at the first decision. 0 or -1. */
static int
map_dir_check(const char *spec, char *why, size_t len)
{
	const char *path = strchr(spec, ':');
	char *d = xstrdup(path != NULL ? path + 1 : spec);
	struct stat sb;
	int rc = 0;

	if (stat(dirname(d), &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			snprintf(why, len, "%s is not a directory", d);
		else
			snprintf(why, len, "%s: %s (uid %u)", d, strerror(errno), (unsigned)geteuid());
		rc = -1;
	} else if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, len, "%s is not a directory", d);
		rc = -1;
	} else if (access(d, W_OK | X_OK) != 0) {
		/* (the worker of --user writes the maps itself: its user must own the directory) */
		snprintf(why, len, "%s is not writable by uid %u", d, (unsigned)geteuid());
		rc = -1;
	}
	free(d);
	return rc;
}

/*
 * Before anything is opened: descriptors 0-2 exist (a daemon started with
 * stdout closed would otherwise get its state database as descriptor 1
 * and print decisions into it), and SIGPIPE is ignored — a control client
 * that leaves early, a helper or command that exits, a closed stdout are
 * write errors to handle (EPIPE), never the daemon's death.
 */
static void
process_setup(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			fatal(EX_OSERR, "run: /dev/null");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		fatal(EX_OSERR, "run: sigaction");
}

/*
 * Privilege separation's last step, once everything is open: the worker
 * may write only beneath the directories it writes in (privsep/sandbox.h).
 * SQLite's temporary files (a large sort) go to the state directory.
 */
static void
worker_sandbox(const char *statedir, const char *sockpath, const char *smappath, const char *mapspec,
    const char *reportdir, const char *metricsfile, const char *eventsfile, const char *auditfile)
{
	char *copies[5] = { NULL, NULL, NULL, NULL, NULL }, err[PATH_MAX + 200];
	const char *dirs[7], *files[2] = { eventsfile, "/dev/null" };
	int n = 0, abi;

	dirs[n++] = statedir;
	if (sockpath != NULL)
		dirs[n++] = dirname(copies[0] = xstrdup(sockpath));
	if (smappath != NULL)
		dirs[n++] = dirname(copies[1] = xstrdup(smappath));
	if (mapspec != NULL)
		dirs[n++] = dirname(copies[2] = xstrdup(strchr(mapspec, ':') != NULL ? strchr(mapspec, ':') + 1 : mapspec));
	if (reportdir != NULL)
		dirs[n++] = reportdir;
	if (metricsfile != NULL)
		dirs[n++] = dirname(copies[3] = xstrdup(metricsfile));
	if (auditfile != NULL) {
		/* its directory (a rotation makes a new file there), unless it is the state directory */
		const char *d = dirname(copies[4] = xstrdup(auditfile));

		if (strcmp(d, statedir) != 0)
			dirs[n++] = d;
	}
	setenv("SQLITE_TMPDIR", statedir, 1);
	if ((abi = sandbox_enter(dirs, n, files, 2, err, sizeof(err))) < 0)
		fatalx(EX_OSERR, "run: %s", err);	/* a worker that should be sandboxed and is not does not run */
	if (abi == 0)
		log_warnx("run: this kernel has no Landlock: the worker is confined by its user only");
	else
		log_info("privsep: the worker writes only in its %d directories (Landlock ABI %d)", n, abi);
	for (int i = 0; i < 5; i++)
		free(copies[i]);
}

/*
 * The default control socket's directory (/run/mxguard, a tmpfs emptied at
 * boot): made if missing, while this process is still root, and given to
 * the worker's user, who makes the sockets in it. A socket given by
 * --socket lives where its owner put it.
 */
static void
runtime_dir(const char *sockpath, const char *user)
{
	char *copy, *dir;
	struct passwd *pw;

	if (strcmp(sockpath, CTL_SOCKET_DEFAULT) != 0)
		return;
	dir = dirname(copy = xstrdup(sockpath));
	if (mkdir(dir, 0755) == 0 && user != NULL && (pw = getpwnam(user)) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("run: %s: cannot give it to %s", dir, user);
	free(copy);
}

/* 1 if one of the first n sources is in directory dir. */
static int
watched_before(char *const *sources, int n, const char *dir)
{
	for (int i = 0; i < n; i++) {
		char *c = xstrdup(sources[i]);
		int same = strcmp(dirname(c), dir) == 0;

		free(c);
		if (same)
			return 1;
	}
	return 0;
}

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard run -c CONFIG [--source FILE]... [--state-dir DIR] [--from-start]\n"
	    "                   [--since DURATION] [--events FILE] [--socket PATH]\n"
	    "                   [--firewall BACKEND[:OPTIONS]] [--remove-on-exit] [--socketmap PATH]\n"
	    "                   [--socketmap-group GROUP] [--map-file TYPE:PATH]\n"
	    "                   [--cluster URL] [--node NAME] [--report-dir DIR] [--metrics-file PATH]\n"
	    "                   [--decision-log PATH|off] [--user USER]\n"
	    "  Follow the MTA logs (the config's 'source' lines, or --source) and apply the\n"
	    "  rules live; decisions are printed as JSON lines and saved in DIR/state.db.\n"
	    "  -c, --config CONFIG  the configuration\n"
	    "  --source FILE  a log to follow (repeatable; replaces the configuration's)\n"
	    "  --state-dir DIR  where the state is kept (default /var/lib/mxguard)\n"
	    "  --socket PATH  the control socket (default " CTL_SOCKET_DEFAULT ")\n"
	    "  --from-start   on a first start, read existing logs from the beginning\n"
	    "  --since D      on a first start, read existing logs from D ago (2h, 1d)\n"
	    "  --events FILE  also append every event to FILE (kept exact across crashes)\n"
	    "  --firewall     enforce block, limit and tarpit decisions: none (default),\n"
	    "                 iptables, nftables, ipset, pf, ipf, ipfw, exec:HELPER;\n"
	    "                 options (docs/FIREWALL.md), e.g. iptables:chain=NAME,forward,reject\n"
	    "  --remove-on-exit  take out of the firewall what mxguard created when stopping\n"
	    "  --socketmap PATH  answer Postfix socketmap lookups on this Unix socket (docs/MAPS.md)\n"
	    "  --socketmap-group GROUP  the socket's group (mode 0660; default postfix)\n"
	    "  --map-file TYPE:PATH  keep access files of the client decisions:\n"
	    "                 cidr, hash, lmdb (Postfix), exim, sendmail (docs/MAPS.md)\n"
	    "  --cluster URL  share decisions with other nodes through Redis (docs/CLUSTER.md):\n"
	    "                 redis://[USER:PASSWORD@]HOST:PORT[/DB] or sentinel://HOST:PORT,.../MASTER\n"
	    "  --node NAME    this node's name in the cluster (default: the host name)\n"
	    "  --report-dir DIR  keep an RRD, graphs, report files and a dashboard there\n"
	    "                 (docs/REPORTS.md; overrides 'set report-dir')\n"
	    "  --metrics-file PATH  write Prometheus metrics there every 15 s (node_exporter's\n"
	    "                 textfile collector; overrides 'set metrics-file'); also ctl metrics\n"
	    "  --decision-log PATH|off  the audit trail: every ban, unban, expiry, flush and reload\n"
	    "                 as a JSON line (default " AUDIT_DEFAULT ", or DIR/decisions.log\n"
	    "                 with --state-dir DIR; overrides 'set decision-log'); ctl history reads it\n"
	    "  --user USER    privilege separation: read and judge the logs as USER (no\n"
	    "                 capabilities); only the firewall stays with a root process\n"
	    "                 (docs/ARCHITECTURE.md)\n");
}

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "from-start", no_argument, NULL, 'F' },
		{ "since", required_argument, NULL, 'A' },
		{ "events", required_argument, NULL, 'e' },
		{ "firewall", required_argument, NULL, 'f' },
		{ "socketmap", required_argument, NULL, 'M' },
		{ "map-file", required_argument, NULL, 'W' },
		{ "socketmap-group", required_argument, NULL, 'G' },
		{ "socket", required_argument, NULL, 's' },
		{ "remove-on-exit", no_argument, NULL, 'R' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "node", required_argument, NULL, 'N' },
		{ "report-dir", required_argument, NULL, 'P' },
		{ "metrics-file", required_argument, NULL, 'Q' },
		{ "decision-log", required_argument, NULL, 'D' },
		{ "user", required_argument, NULL, 'U' },
		{ "privsep-channel", required_argument, NULL, 'V' },	/* (a worker started again: privsep/priv.h) */
		{ "agent", no_argument, NULL, 'a' },	/* (mxguard agent) */
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon dm = { .events_fd = -1, .store_ok = 1 };
	struct parser_opts po = { 0 };
	const char *conffile = NULL, *statedir = "/var/lib/mxguard", *eventsfile = NULL;
	const char *sockpath = CTL_SOCKET_DEFAULT;
	char **sources = NULL, err[512];
	int nsources = 0, from_start = 0, c, sigfd, inofd, lfd, rc = 0, channel = -1, channel_files = -1;
	sigset_t mask;
	int64_t last_year_check = 0, since = 0;
	unsigned char *written = NULL;	/* per source: inotify saw its file written since the last poll */
	int news;
	int fw_remove = 0;
	const char *fw_arg = NULL, *fwspec = NULL, *smappath = NULL, *mapspec = NULL, *smapgroup = NULL;
	const char *clusterurl = NULL, *nodename = NULL, *reportdir = NULL, *metricsfile = NULL, *user = NULL;
	const char *auditpath = NULL;
	int statedir_given = 0, journal_wanted = 0;
	struct smap *smap = NULL;
	struct ctl_server *ctls = NULL;
	struct fw_opts fw_opt;

	process_setup();
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conffile = optarg; break;
		case 'S':
			sources = xrealloc(sources, (size_t)(nsources + 1) * sizeof(char *));
			sources[nsources++] = optarg;
			break;
		case 'd': statedir = optarg; statedir_given = 1; break;
		case 'F': from_start = 1; break;
		case 'A':
			if (!conf_parse_duration(optarg, &since) || since <= 0) {
				log_warnx("run: --since wants a duration such as 2h or 1d, not '%s'", optarg);
				{ free(sources); return EX_USAGE; }
			}
			from_start = 1;
			break;
		case 'e': eventsfile = optarg; break;
		case 'C': clusterurl = optarg; break;
		case 'N': nodename = optarg; break;
		case 'P': reportdir = optarg; break;
		case 'Q': metricsfile = optarg; break;
		case 'D': auditpath = optarg; break;
		case 'a': dm.agent = 1; break;
		case 'U': user = optarg; break;
		case 'V': {
			/* SOCK,FILES: the two channels' descriptors */
			char *end, *end2;
			long v = strtol(optarg, &end, 10), w = *end == ',' ? strtol(end + 1, &end2, 10) : -1;

			if (*end != ',' || w < 3 || *end2 != '\0' || v < 3 || v > INT_MAX || w > INT_MAX) {
				log_warnx("run: --privsep-channel: not two descriptors: '%s'", optarg);
				free(sources);
				return EX_USAGE;
			}
			channel = (int)v;
			channel_files = (int)w;
			break;
		}
		case 's': sockpath = optarg; break;
		case 'f': fwspec = optarg; break;
		case 'M': smappath = optarg; break;
		case 'G': smapgroup = optarg; break;
		case 'W':
			/* One map file per daemon (docs/MAPS.md): a second one must not silently win. */
			if (mapspec != NULL) {
				log_warnx("run: --map-file given twice ('%s', '%s'): one map file per daemon", mapspec, optarg);
				free(sources);
				return EX_USAGE;
			}
			mapspec = optarg;
			break;
		case 'R':
			fw_remove = 1;
			break;
		case 'h': run_usage(stdout); free(sources); return 0;
		default: run_usage(stderr); { free(sources); return EX_USAGE; }
		}
	}
	if ((conffile == NULL && !dm.agent) || optind != argc) {
		if (dm.agent)
			return EX_USAGE;	/* (cmd_agent printed its usage) */
		run_usage(stderr);
		{ free(sources); return EX_USAGE; }
	}
	/* (an agent needs no configuration: --cluster and --firewall do) */
	if ((dm.conf = conffile != NULL ? conf_load(conffile, print_diag, NULL) : conf_empty()) == NULL) {
		free(sources);
		return EX_CONFIG;
	}
	{
		/* --firewall, else the configuration's "set firewall", else none. */
		const char *where = NULL;
		char why[256];

		if (fwspec == NULL && dm.conf->firewall != NULL) {
			fwspec = dm.conf->firewall;
			where = dm.conf->firewall_at;
			fw_remove = dm.conf->firewall_remove;
		}
		if (fw_spec_parse(fwspec ? fwspec : "none", &dm.fw, &fw_arg, &fw_opt, why, sizeof(why)) < 0) {
			if (where != NULL)
				log_line(LOG_ERR, "%s: %s", where, why);
			else
				log_warnx("run: --firewall: %s", why);
			conf_free(dm.conf);
			free(sources);
			return where != NULL ? EX_CONFIG : EX_USAGE;
		}
	}
	{
		char why[600];

		if (enforce_ports_ok(dm.conf, dm.fw, why, sizeof(why)) != NULL) {
			log_line(LOG_ERR, "%s", why);
			conf_free(dm.conf);
			free(sources);
			return EX_CONFIG;
		}
	}
	journal_wanted = !dm.agent && nsources == 0 && dm.conf->journal;	/* (--source replaces it too) */
	if (nsources == 0 && dm.conf->nsources > 0) {
		nsources = dm.conf->nsources;
		sources = xcalloc((size_t)nsources, sizeof(char *));
		memcpy(sources, dm.conf->sources, (size_t)nsources * sizeof(char *));
	}
	if (log_syslog(dm.conf->log_syslog) < 0)
		log_warnx("run: set log syslog: no syslog socket at " LOG_SYSLOG_SOCKET " (no syslog daemon?); messages "
		    "stay on stderr");
	if (user == NULL && dm.conf->user != NULL) {
		/* --user, else the configuration's "set user" */
		char why[256];

		user = dm.conf->user;
		if (worker_user_check(user, why, sizeof(why)) < 0) {
			log_line(LOG_ERR, "%s: set user: %s", dm.conf->user_at, why);
			conf_free(dm.conf);
			free(sources);
			return EX_CONFIG;
		}
	}
	if (channel >= 0 && user == NULL)
		fatalx(EX_USAGE, "run: --privsep-channel without --user");
	if (channel < 0)
		runtime_dir(sockpath, user);
	if (user != NULL) {
		/*
		 * Privilege separation (privsep/): from here on this process is
		 * the worker, as user; the one that stays root keeps only the
		 * firewall, chosen above, and sets it up when the worker asks,
		 * and opens the sources (and their rotated copies) for it.
		 */
		struct priv_fw pf = { .fw = dm.fw, .arg = fw_arg, .opts = fw_opt, .sources = sources,
			.nsources = dm.agent ? 0 : nsources };
		int sock = channel, files = channel_files;

		if (channel >= 0 ? privsep_rejoin(user, channel, channel_files, err, sizeof(err)) < 0 :
		    privsep_split(user, &pf, &sock, &files, err, sizeof(err)) < 0) {
			log_warnx("run: %s", err);
			conf_free(dm.conf);
			free(sources);
			return EX_NOUSER;
		}
		dm.fw = worker_fw(dm.fw, sock);
		worker_logs_through(files);
		/* (read as root before the split; a reload reads it as user) */
		if (conffile != NULL && access(conffile, R_OK) != 0)
			log_warnx("run: --user %s cannot read %s: a reload (SIGHUP, ctl reload) will fail", user,
			    conffile);
	}
	{
		/* Before anything is set up: a feed that cannot be read stops the start (like a bad configuration). */
		int ok;

		dm.vol = volume_new(100000);
		dm.rep = load_feeds(&dm, dm.conf, &ok);
		if (ok && !zones_start(&dm, dm.conf, &dm.dns, &dm.wait))
			ok = 0;
		if (!ok) {
			rep_free(dm.rep);
			volume_free(dm.vol);
			conf_free(dm.conf);
			free(sources);
			return EX_CONFIG;
		}
	}
	dm.conffile = conffile;
	if (since > 0)
		dm.since = (int64_t)time(NULL) - since;
	if (dm.agent) {
		/* A gateway's agent: the cluster's decisions, enforced here; no logs, no rules of its own. */
		if (clusterurl == NULL && dm.conf->cluster == NULL) {
			log_warnx("agent: which cluster? --cluster URL (or 'set cluster' in the configuration)");
			conf_free(dm.conf);
			free(sources);
			return EX_USAGE;
		}
		if (nsources > 0 || dm.conf->nrules > 0)
			log_warnx("agent: an agent reads no logs: its sources and rules do nothing (run 'mxguard run' for those)");
		nsources = 0;
	} else if (nsources == 0 && !journal_wanted) {
		log_warnx("run: no log to follow: add 'source \"/var/log/mail.log\"' (or 'source journal') to %s or use "
		    "--source", conffile);
		rep_free(dm.rep);
		volume_free(dm.vol);
		conf_free(dm.conf);
		return EX_CONFIG;
	}
	/*
	 * Everything that can be refused is checked before anything outside
	 * the state directory is touched: a start that fails leaves the
	 * firewall, the sockets and the maps of a running daemon as they are.
	 */
	if (smappath == NULL)
		smappath = dm.conf->socketmap;
	if (mapspec == NULL)
		mapspec = dm.conf->mapfile;
	if (mapspec != NULL) {
		char why[256];

		/* (the directory first: a missing one is "cannot create", a bad spec a usage error) */
		if (map_dir_check(mapspec, why, sizeof(why)) < 0)
			fatalx(EX_CANTCREAT, "run: --map-file %s: %s", mapspec, why);
		if ((dm.mapfile = mapfile_new(mapspec, why, sizeof(why))) == NULL)
			fatalx(EX_USAGE, "run: %s", why);
		/* Sendmail would ignore, without a word, the database the worker writes as user: refused, not silent. */
		if (user != NULL && strncmp(mapspec, "sendmail:", 9) == 0) {
			int r = mapfile_sendmail_trusts(mapfile_sendmail_cf(), user, why, sizeof(why));

			if (r == 0)
				fatalx(EX_CONFIG, "run: --map-file %s with --user %s: %s", mapspec, user, why);
			if (r < 0)
				log_warnx("run: --map-file %s with --user %s: %s; Sendmail reads the database only if its "
				    "TrustedUser is %s", mapspec, user, why, user);
		}
	}
	if (clusterurl != NULL || dm.conf->cluster != NULL) {
		int r = cluster_setup(&dm, clusterurl, nodename);

		if (r != 0)
			return r;
	} else if (nodename != NULL || dm.conf->node != NULL)
		log_warnx("run: a node name without a cluster (--cluster or 'set cluster') does nothing");
	if (socket_in_use(sockpath))
		fatalx(EX_UNAVAILABLE, "run: %s answers: another mxguard is running there (stop it, or use --socket)",
		    sockpath);
	if (smappath != NULL && socket_in_use(smappath))
		fatalx(EX_UNAVAILABLE, "run: the socketmap %s answers: another daemon serves it", smappath);
	if (mkdir(statedir, 0700) != 0 && errno != EEXIST)
		fatal(EX_CANTCREAT, "run: state directory %s", statedir);
	{
		/* The state is trusted at start (decisions, positions): no one else may write its directory. */
		char sd[PATH_MAX + 16];

		snprintf(sd, sizeof(sd), "%s/state.db", statedir);
		if ((rc = sf_check_dir(sd, err, sizeof(err))) < 0)
			fatalx(EX_CANTCREAT, "run: --state-dir: %s", err);
		if (rc > 0)
			log_warnx("run: --state-dir: %s", err);
		rc = 0;
	}
	if ((dm.store = store_open(statedir, err, sizeof(err))) == NULL)
		fatalx(EX_CANTCREAT, "run: %s", err);
	if (eventsfile != NULL) {
		uint64_t len = 0;

		char why[4300];

		/* Never through a planted symlink or into a directory others can write (common/safefile.h). */
		if (sf_check_dir(eventsfile, why, sizeof(why)) < 0 ||
		    (dm.events_fd = sf_open_output(eventsfile, O_CREAT, 0600, why, sizeof(why))) < 0)
			fatalx(EX_CANTCREAT, "run: --events: %s", why);
		/* Cut what was written after the last commit: those lines are read again. */
		if (!store_get_mark(dm.store, EVENTS_MARK, &len))
			len = 0;
		if (ftruncate(dm.events_fd, (off_t)len) != 0 || lseek(dm.events_fd, (off_t)len, SEEK_SET) < 0)
			fatal(EX_IOERR, "run: %s", eventsfile);
		dm.events_len = len;
		/* In memory until a commit writes it (write_events): nothing is dropped when the disk is full. */
		ob_init(&dm.events, -1, 256 * 1024);
	}
	ob_init(&dm.out, STDOUT_FILENO, 64 * 1024);
	dm.eng = engine_new(dm.conf);
	{
		/* The counters of the last run: a flood that straddles a restart is counted whole. */
		int64_t t0 = mono_ms();
		long n = counters_restore(dm.store, dm.eng, dm.conf);

		if (n > 0)
			log_info("run: %ld counter(s) taken back from the last run in %lld ms", n,
			    (long long)(mono_ms() - t0));
	}
	dm.report_dir_conf = dm.conf->report_dir != NULL ? xstrdup(dm.conf->report_dir) : NULL;
	dm.user_conf = dm.conf->user != NULL ? xstrdup(dm.conf->user) : NULL;
	dm.decision_log_conf = dm.conf->decision_log != NULL ? xstrdup(dm.conf->decision_log) : NULL;
	if (metricsfile == NULL)
		metricsfile = dm.conf->metrics_file;
	dm.metrics_file = metricsfile != NULL ? xstrdup(metricsfile) : NULL;
	if (reportdir == NULL)
		reportdir = dm.conf->report_dir;
	if (reportdir != NULL && !dm.agent) {
		int r = reports_setup(&dm, reportdir);

		if (r != 0)
			return r;
		reports_restore(&dm);
	}
	{
		/* Keys still under an action are not decided again; escalation goes on. */
		int64_t t0 = mono_ms();

		if (store_list_active(dm.store, time(NULL), restore_one, &dm) < 0)
			fatalx(EX_IOERR, "run: cannot read the decisions in force from %s/state.db", statedir);
		if (dm.restored > 0)
			log_info("run: %llu decision(s) in force restored in %lld ms", (unsigned long long)dm.restored,
			    (long long)(mono_ms() - t0));
	}
	dm.expiry = fw_expiry_new();
	if (dm.cl != NULL)
		cluster_restore(&dm);
	counters_setup(&dm);
	po.custom = dm.conf->parsers;
	po.ncustom = dm.conf->nparsers;
	dm.parser = parser_new(&po);
	parser_begin_input(dm.parser, time(NULL));
	{
		void *blob;
		size_t len;

		if (store_get_blob(dm.store, CORR_BLOB, &blob, &len)) {
			if (!parser_corr_import(dm.parser, blob, len))
				log_warnx("run: saved queue-ID state is from another version; starting without it");
			free(blob);
		}
	}

	if (!inotifytools_initialize())
		fatalx(EX_OSERR, "run: inotify: %s", strerror(inotifytools_error()));
	dm.src = xcalloc((size_t)nsources, sizeof(*dm.src));
	for (int i = 0; i < nsources; i++) {
		struct follow_pos pos;
		int have = store_get_position(dm.store, sources[i], &pos);
		char *d = xstrdup(sources[i]), why[4300];
		const char *dir;

		if (sf_check_log_dir(sources[i], why, sizeof(why)) > 0)
			log_warnx("run: source %s: %s", sources[i], why);

		dm.src[dm.nsrc++] = follow_new(sources[i], have ? &pos : NULL,
		    from_start ? FOLLOW_FROM_START : FOLLOW_FROM_END, LR_MAX_LINE_DEFAULT);
		/*
		 * Watch the directory: rotation creates and renames files in it.
		 * Once per directory (mail.log and mail.err share one): a second
		 * watch of it would only replace the first, and libinotifytools
		 * loses the first one's memory.
		 */
		dir = dirname(d);
		if (!watched_before(sources, i, dir) && !inotifytools_watch_file(dir, IN_MODIFY | IN_CREATE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB))
			log_warnx("run: cannot watch the directory of %s: %s", sources[i],
			    strerror(inotifytools_error()));
		free(d);
	}
	free(sources);		/* the followers keep their own copies of the paths */
	if (journal_wanted) {
		void *cur = NULL;
		size_t len;
		char why[512];
		struct journal_spec js = { .directory = dm.conf->journal_dir, .units = dm.conf->journal_units,
			.nunits = dm.conf->njournal_units };

		if (store_get_blob(dm.store, JOURNAL_BLOB, &cur, &len) && (len == 0 || ((char *)cur)[len - 1] != '\0')) {
			free(cur);
			cur = NULL;
		}
		dm.journal = journal_open(&js, cur, from_start ? FOLLOW_FROM_START : FOLLOW_FROM_END, dm.since,
		    LR_MAX_LINE_DEFAULT, why, sizeof(why));
		if (dm.journal == NULL)
			fatalx(EX_NOINPUT, "run: source journal: %s", why);
		dm.journal_saved = cur;
		log_info("run: reading the journal%s%s%s", cur != NULL ? " from where it stopped" : "",
		    dm.conf->njournal_units > 0 ? ", units: " : "",
		    dm.conf->njournal_units > 0 ? dm.conf->journal_units[0] : "");
	}
	watch_feeds(&dm);
	if ((inofd = find_inotify_fd()) < 0)
		log_warnx("run: inotify descriptor not found; polling every %d ms", TICK_MS);
	else if (fcntl(inofd, F_SETFD, FD_CLOEXEC) < 0 ||	/* opened without it: no child may inherit it */
	    fcntl(inofd, F_SETFL, fcntl(inofd, F_GETFL) | O_NONBLOCK) < 0)	/* (inotify_news reads it) */
		fatal(EX_OSERR, "run: inotify descriptor");
	written = xcalloc((size_t)dm.nsrc + 1, 1);	/* (+1: none may be followed) */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 || (sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fatal(EX_OSERR, "run: signals");
	if (smappath != NULL) {
		struct smap_opts so = { .group = smapgroup ? smapgroup : dm.conf->socketmap_group,
			.idle_ms = dm.conf->socketmap_idle * 1000 };

		if ((dm.dmap = dmap_new(1u << 20)) == NULL)
			fatalx(EX_OSERR, "run: no memory for the map");
		if ((smap = smap_listen(smappath, &so, dm.dmap)) == NULL)
			fatalx(EX_UNAVAILABLE, "run: cannot serve the socketmap at %s", smappath);
		/* A client with no decision yet: the at-connect policy over what is known of it. */
		dmap_set_client_source(dm.dmap, at_connect_answer, &dm);
	} else if (mapspec != NULL && (dm.dmap = dmap_new(1u << 20)) == NULL)
		fatalx(EX_OSERR, "run: no memory for the map");
	if (dm.conf->natc > 0 && smap == NULL)
		log_warnx("%s: at-connect answers through the socketmap only, and there is none (--socketmap or "
		    "'set socketmap'): it does nothing", dm.conf->atc[0].at);
	if ((lfd = ctl_listen(sockpath)) < 0)
		log_warnx("run: no control socket; 'mxguard ctl' will not reach this daemon");
	else
		ctls = ctl_server_new(lfd);
	/* Last, the firewall: its init may already change it (nftables makes its table afresh). */
	if (dm.fw->init(fw_arg, &fw_opt, &dm.fw_state) < 0) {
		if (lfd >= 0)
			unlink(sockpath);
		if (smap != NULL)
			unlink(smappath);
		fatalx(EX_UNAVAILABLE, "run: firewall %s cannot be set up", dm.fw->name);
	}
	/* Reconcile: empty mxguard's sets, then put back exactly the blocks in force. */
	{
		int64_t t0 = mono_ms();

		/* A failed one: stale entries stay until a flush works; then everything in force is put back. */
		fw_flush_start(&dm, 0);
		if (store_list_active(dm.store, time(NULL), fw_add_active, &dm) < 0)
			log_warnx("run: cannot list the decisions in force for the firewall");
		if (dm.nfwq > 0) {
			fw_send(&dm, dm.fwq, dm.nfwq);
			log_info("run: %d block(s) in force put back into %s in %lld ms", dm.nfwq, dm.fw->name,
			    (long long)(mono_ms() - t0));
			dm.nfwq = 0;
		}
		preload_sync(&dm);
	}
	if (dm.dmap != NULL) {
		/* The MTA's map: every decision in force, then what comes. */
		store_list_active(dm.store, time(NULL), map_add_active, &dm);
		dm.map_dirty = 1;
	}
	{
		/* Events that waited for DNS when the daemon stopped: asked again (or judged, if no zone is read now). */
		void *blob;
		size_t len;

		if (store_get_blob(dm.store, WAIT_BLOB, &blob, &len)) {
			int got = len == 0 ? 0 : dm.wait != NULL ? repwait_import(dm.wait, blob, len, mono_ms()) :
			    repwait_blob_each(blob, len, judge_saved, &dm);

			if (got < 0)
				log_warnx("run: saved events waiting for DNS are from another version; not taken");
			else if (len > 0)
				log_info("run: the events that waited for DNS at the last stop are %s",
				    dm.wait != NULL ? "asked again" : "judged without zones (no rule reads one now)");
			dm.wait_clear = len > 0;	/* saved again at the first commit, whatever became of them */
			free(blob);
		}
	}
	/* (late: a start refused above leaves no log behind) */
	audit_setup(&dm, auditpath != NULL ? auditpath : dm.conf->decision_log, statedir, statedir_given);
	if (user != NULL)
		worker_sandbox(statedir, lfd >= 0 ? sockpath : NULL, smap != NULL ? smappath : NULL, mapspec,
		    dm.reports != NULL ? reportdir : NULL, dm.metrics_file, eventsfile,
		    dm.audit != NULL ? audit_path(dm.audit) : NULL);
	dm.smap_on = smap != NULL;
	if (mapspec != NULL)
		snprintf(dm.maptype, sizeof(dm.maptype), "%.*s", (int)strcspn(mapspec, ":"), mapspec);
	if (!dm.agent)
		say_unreached(&dm, dm.conf);
	log_info("run: following %d log(s), state in %s", dm.nsrc + (dm.journal != NULL), statedir);
	service_ready("following %d log(s)", dm.nsrc + (dm.journal != NULL));
	audit_daemon(dm.audit, (int64_t)time(NULL), "start", conffile);
	audit_expiries(&dm, (int64_t)time(NULL));	/* (those that ended while it was stopped) */
	/*
	 * The starting positions are saved at once: a first start stopped
	 * before it saved anything would begin at the logs' end again, past
	 * lines it had read.
	 */
	dm.dirty = 1;

	for (;;) {
		/* signals, control, inotify, then the socketmap's listener and connections */
		/* ... and an asynchronous firewall's pipes while it works */
		/* ... and the DNS zones' sockets, waking at their next deadline at the latest */
		struct pollfd pfd[3 + 1 + SMAP_MAX_CONNS + CTL_MAX_CONNS + 2 + DNS_POLL_MAX + CLUSTER_POLL_MAX + 1 + 1] = {
			{ .fd = sigfd, .events = POLLIN }, { .fd = lfd, .events = POLLIN }, { .fd = inofd, .events = POLLIN } };
		int stop = 0, nsm = smap ? smap_pollfds(smap, pfd + 3, 1 + SMAP_MAX_CONNS) : 0;
		int nct = ctls ? ctl_pollfds(ctls, pfd + 3 + nsm, CTL_MAX_CONNS) : 0;	/* control clients */
		int nfw = dm.fw_busy != FW_IDLE ? dm.fw->pollfds(dm.fw_state, pfd + 3 + nsm + nct, 2) : 0;
		int ndns = dm.dns ? dnsrep_pollfds(dm.dns, pfd + 3 + nsm + nct + nfw, DNS_POLL_MAX) : 0;
		int ncl = dm.cl ? cluster_pollfds(dm.cl, pfd + 3 + nsm + nct + nfw + ndns, CLUSTER_POLL_MAX) : 0;
		int ncnt = dm.cnt ? counters_pollfd(dm.cnt, pfd + 3 + nsm + nct + nfw + ndns + ncl) : 0;
		int njr = 0;

		if (dm.journal != NULL && journal_fd(dm.journal) >= 0) {
			/* (the journal's own inotify descriptor: a new entry wakes the loop at once) */
			pfd[3 + nsm + nct + nfw + ndns + ncl + ncnt] = (struct pollfd){ .fd = journal_fd(dm.journal), .events = POLLIN };
			njr = 1;
		}
		int wait_ms = TICK_MS;

		if (dm.cl != NULL) {
			int64_t due = cluster_next_ms(dm.cl), left = due - mono_ms();

			if (due >= 0 && left < wait_ms)
				wait_ms = left > 0 ? (int)left : 0;
		}
		if (dm.dns != NULL) {
			int64_t due = dnsrep_next_deadline_ms(dm.dns), left = due - mono_ms();

			if (due >= 0 && left < wait_ms)
				wait_ms = left > 0 ? (int)left : 0;
		}
		if (dm.cnt != NULL) {
			int64_t due = counters_next_ms(dm.cnt), left = due - mono_ms();

			if (due >= 0 && left < wait_ms)
				wait_ms = left > 0 ? (int)left : 0;
		}
		if (dm.dirty) {
			int64_t left = dm.commit_due - mono_ms();	/* (lines read wait for their commit) */

			if (left < wait_ms)
				wait_ms = left > 0 ? (int)left : 0;
		}
		if (poll(pfd, (nfds_t)(3 + nsm + nct + nfw + ndns + ncl + ncnt + njr), wait_ms) < 0 && errno != EINTR)	/* fd -1: ignored */
			fatal(EX_OSERR, "run: poll");
		if (dm.cl != NULL)
			cluster_process(dm.cl, pfd + 3 + nsm + nct + nfw + ndns, ncl, mono_ms());	/* remote decisions in */
		if (dm.cnt != NULL) {
			/* the counters' replies in (a crossing decides here), the next batch out */
			counters_process(dm.cnt, ncnt ? pfd[3 + nsm + nct + nfw + ndns + ncl].revents : 0, mono_ms());
			if (counters_ready(dm.cnt) && dm.cnt_keyver != counters_key_version(dm.cnt))
				counters_attach(&dm);
		}
		if (dm.dns != NULL)
			dns_drain(&dm);	/* answers in, timeouts passed: waiting events judged */
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			ssize_t k;

			while ((k = read(sigfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					daemon_reload(&dm, &(struct audit_who){ .by = BY_SIGNAL, .sig = SIGHUP });
				else
					stop = 1;
			}
			if (k < 0 && errno != EAGAIN && errno != EINTR)
				fatal(EX_OSERR, "run: reading signals");
		}
		news = inofd < 0 ? NEWS_NAMES : 0;	/* (without inotify every source is looked at on every tick) */
		if (inofd >= 0 && (pfd[2].revents & POLLIN))
			news = inotify_news(inofd, dm.src, dm.nsrc, written);
		if (news & NEWS_OTHER) {
			/* A feed may have changed: looked at now, then every 250 ms for a while (see rep_refresh). */
			dm.rep_check_ms = 0;
			dm.rep_fast = 8;
		}
		if (mono_ms() - last_year_check > 60000) {
			parser_begin_input(dm.parser, time(NULL));	/* year of year-less stamps */
			last_year_check = mono_ms();
		}
		for (int i = 0; i < dm.nsrc; i++) {
			follow_poll_as(dm.src[i], mono_ms(), news & NEWS_NAMES ? FOLLOW_LOOK_ALL : written[i] ? FOLLOW_WRITTEN :
			    FOLLOW_QUIET, on_line, &dm);
			written[i] = 0;
		}
		if (dm.journal != NULL)
			journal_poll(dm.journal, on_line, &dm);
		fw_progress(&dm);
		fw_expire(&dm);
		fw_retry(&dm);
		audit_expiries(&dm, (int64_t)time(NULL));
		audit_check(dm.audit, (int64_t)time(NULL), 0);
		service_tick(mono_ms());
		service_status(mono_ms(), "following %d log(s): %llu lines, %llu events, %llu decisions", dm.nsrc,
		    (unsigned long long)dm.lines, (unsigned long long)dm.nevents, (unsigned long long)dm.ndecisions);
		if (dm.reports != NULL)
			reporter_tick(dm.reports, time(NULL));	/* live: finished minutes written, graphs redrawn */
		if (dm.metrics_file != NULL && mono_ms() >= dm.metrics_due) {
			metrics_write(&dm);
			dm.metrics_due = mono_ms() + METRICS_EVERY_MS;
		}
		if (dm.rep != NULL && mono_ms() >= dm.rep_check_ms) {
			/* Feed files that changed are read again (once still for a second); a broken one is not taken. */
			int n = rep_refresh(dm.rep, feed_report, NULL);

			if (n > 0) {
				log_info("run: %d feed(s) read again", n);
				preload_sync(&dm);
			}
			/*
			 * A change inotify reported is read once still for two looks 250 ms apart,
			 * and a thread reading is looked at as often; else once a second.
			 */
			dm.rep_check_ms = mono_ms() + (dm.rep_fast > 0 || rep_loading(dm.rep) ? 250 : 1000);
			dm.rep_fast -= dm.rep_fast > 0;
		}
		if (dm.dmap != NULL)
			dmap_expire(dm.dmap, time(NULL));
		/*
		 * A new decision is committed (and then enforced) at once; lines
		 * without one at most every COMMIT_EVERY_MS: under a flood a
		 * commit (positions, the parser's table, the counters that
		 * changed) every few milliseconds would be most of the work.
		 */
		if (stop || dm.nbatch > dm.nenforced || (!dm.store_ok && mono_ms() >= dm.store_retry_ms) ||
		    (dm.dirty && mono_ms() >= dm.commit_due))
			daemon_commit(&dm);
		/*
		 * After the commit: that is where this tick's decisions enter the
		 * map (saved first, like the firewall's), so the files are rewritten
		 * in the same tick, not at the next wakeup. At most once a tick;
		 * again when an entry ends. A failed rewrite (a negative answer)
		 * is tried again with backoff, its decisions pending meanwhile.
		 */
		if (dm.mapfile != NULL && (dm.map_dirty || time(NULL) >= dm.map_next)) {
			int64_t next = mapfile_write(dm.mapfile, dm.dmap, time(NULL));

			dm.map_failed = next < 0;
			dm.map_delay = next >= 0 ? 0 : dm.map_delay == 0 ? 1 : dm.map_delay > 30 ? 60 : dm.map_delay * 2;
			dm.map_next = next < 0 ? time(NULL) + dm.map_delay : next;
			dm.map_dirty = 0;
		}
		/*
		 * The MTA's lookups are answered last, after the logs were read and
		 * this tick's decisions committed and put in the map: smtpd logs a
		 * client's 20th unknown recipient and asks about that client at its
		 * next RCPT, and both often wake the same poll. Answered first, that
		 * lookup would say "not found" for a client the line just in has
		 * condemned.
		 */
		if (smap != NULL)
			smap_serve(smap, pfd + 3, nsm, time(NULL));
		if (ctls != NULL)
			ctl_serve(ctls, pfd[1].revents, pfd + 3 + nsm, nct, control_answer, &dm);
		out_check(&dm);		/* a manual ban is printed there */
		if (stop)
			break;
	}
	service_stopping();
	if (dm.nbatch > 0)
		log_warnx("run: stopping with %d decision(s) not saved (disk full?); their lines are read again at the "
		    "next start", dm.nbatch);
	for (int i = 0; i < dm.nbatch; i++)
		free(dm.batch_keys[i]);
	if (daemon_fw_pending(&dm) > 0)
		log_warnx("run: stopping with %d firewall change(s) not applied; the next start reconciles "
		    "the firewall", daemon_fw_pending(&dm));
	if (dm.metrics_file != NULL)
		metrics_write(&dm);	/* the last figures, while everything is still there */
	log_info("run: stopping: %llu lines, %llu events, %llu decisions", (unsigned long long)dm.lines,
	    (unsigned long long)dm.nevents, (unsigned long long)dm.ndecisions);
	audit_daemon(dm.audit, (int64_t)time(NULL), "stop", conffile);
	audit_close(dm.audit);
	for (int i = 0; i < dm.nsrc; i++)
		follow_free(dm.src[i]);
	journal_close(dm.journal);
	free(dm.journal_saved);
	free(dm.src);
	free(written);
	free(dm.batch);
	free(dm.batch_keys);
	inotifytools_cleanup();
	close(sigfd);
	ctl_server_free(ctls);
	if (lfd >= 0) {
		close(lfd);
		unlink(sockpath);
	}
	if (dm.events_fd >= 0) {
		ob_free(&dm.events);
		close(dm.events_fd);
	}
	ob_free(&dm.out);
	dm.fw->fini(dm.fw_state, fw_remove);
	smap_close(smap);
	mapfile_free(dm.mapfile);
	dmap_free(dm.dmap);
	fw_expiry_free(dm.expiry);
	free(dm.fwq);
	free(dm.due);
	free(dm.retry);
	free(dm.inflight);
	free(dm.preload);
	parser_free(dm.parser);
	free(dm.metrics_file);
	reporter_free(dm.reports);	/* (its minute in progress is in the last commit) */
	free(dm.report_dir_conf);
	free(dm.user_conf);
	free(dm.decision_log_conf);
	counters_free(dm.cnt);	/* what was gathered and not sent is lost: a tick's worth of counting */
	cluster_free(dm.cl);	/* what is not published yet is in the saved outbox */
	free(dm.cl_url);
	free(dm.cl_staged);
	repwait_free(dm.wait);	/* what still waits is saved (the last commit) and asked again at the next start */
	dnsrep_free(dm.dns);
	engine_free(dm.eng);
	rep_free(dm.rep);
	volume_free(dm.vol);
	store_close(dm.store);
	conf_free(dm.conf);
	return rc;
}

static void
agent_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard agent --cluster URL --firewall BACKEND[:OPTIONS] [--node NAME]\n"
	    "                     [-c CONFIG] [--state-dir DIR] [--socket PATH] [--remove-on-exit]\n"
	    "                     [--decision-log PATH|off]\n"
	    "  Enforce the decisions of a cluster's nodes (docs/CLUSTER.md) at this host's\n"
	    "  firewall: a gateway in front of the MX hosts. No logs, no rules: the MX\n"
	    "  decides, the gateway drops. Reads the stream from where it stopped (its\n"
	    "  state directory), puts back what is in force at start, answers 'mxguard\n"
	    "  ctl' (status, decisions, unban) on its socket; publishes nothing.\n"
	    "  --cluster URL  redis://[USER:PASSWORD@]HOST:PORT[/DB] or sentinel://HOST:PORT,.../MASTER\n"
	    "  --firewall     nftables, iptables, ipset, pf, ... (add ',forward' to filter\n"
	    "                 forwarded traffic: docs/FIREWALL.md)\n"
	    "  --node NAME    its name (default: the host name and \"-agent\")\n"
	    "  -c CONFIG      optional: set cluster, set node, set firewall, trust tables\n"
	    "  --state-dir DIR, --socket PATH, --remove-on-exit, --decision-log PATH|off  as for run\n");
}

int
cmd_agent(int argc, char **argv)
{
	char **av = xcalloc((size_t)argc + 2, sizeof(char *));
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			agent_usage(stdout);
			free(av);
			return 0;
		}
	av[0] = argv[0];
	av[1] = "--agent";
	for (int i = 1; i < argc; i++)
		av[i + 1] = argv[i];
	rc = cmd_run(argc + 1, av);
	if (rc == EX_USAGE)
		agent_usage(stderr);
	free(av);
	return rc;
}
