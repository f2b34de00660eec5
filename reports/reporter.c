/*
 * reporter.c - the report directory kept from a run (see reporter.h).
 *
 * The order of things at a boundary: the finished minutes go to the RRD
 * first (their decisions that ended are counted as expired in the interval
 * they ended in), then the finished interval's files, then the day's. An
 * event older than the current interval (logs are merged roughly in time)
 * counts in the current one: files already written are never rewritten.
 */
#include "reporter.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "dashboard.h"
#include "files.h"
#include "graphs.h"
#include "rrdfile.h"
#include "steps.h"

#define LINKS_MAX 60
#define LIVE_LAG_MAX 600	/* a minute ended longer ago than this: the logs are not live (a catch-up) */
#define LIVE_GRACE 5		/* seconds after a minute's end before the clock closes it (late lines) */
#define REDRAW_EVERY 300	/* live: graphs and dashboard at least this often */

struct active {
	int64_t until;
	int action;
	char key[80], rule[64];
};

struct reporter {
	char *dir, *host, *rrdcached;
	int64_t interval, keep;
	int svg, live, want_total;
	const struct config *conf;
	struct steps steps;
	struct rrdfile *rrd;
	struct summary *iv, *day, *total;
	int64_t iv_end, day_end;
	struct active *heap;		/* decisions in force, soonest end first */
	size_t nheap, capheap;
	struct dash_decision last[DASH_LAST];
	int nlast, lasthead;
	int64_t when;			/* the last minute written */
	struct graph_size sizes[GRAPH_KINDS * GRAPH_PERIODS];
	int said;			/* a write failed: said once */
	pid_t child;			/* live: the process drawing the pictures, or 0 */
	int64_t drawn;			/* live: when they were last drawn (wall clock) */
	pthread_t warmer;		/* offline: graphs_warm while the lines come */
	int warming;
};

static void
fail(struct reporter *r, const char *what)
{
	if (!r->said)
		log_warnx("report: %s (said once; the report goes on with what it can write)", what);
	r->said = 1;
}

/* ---- decisions in force: a binary heap by end ---- */

static void
heap_push(struct reporter *r, const struct active *a)
{
	size_t i;

	if (r->nheap == r->capheap) {
		r->capheap = r->capheap ? 2 * r->capheap : 256;
		r->heap = xrealloc(r->heap, r->capheap * sizeof(*r->heap));
	}
	i = r->nheap++;
	while (i > 0 && r->heap[(i - 1) / 2].until > a->until) {
		r->heap[i] = r->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	r->heap[i] = *a;
}

static void
heap_pop(struct reporter *r)
{
	struct active last = r->heap[--r->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= r->nheap)
			break;
		if (c + 1 < r->nheap && r->heap[c + 1].until < r->heap[c].until)
			c++;
		if (r->heap[c].until >= last.until)
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (r->nheap > 0)
		r->heap[i] = last;
}

/* ---- minutes ---- */

static void
on_row(void *arg, const struct step_row *row)
{
	struct reporter *r = arg;
	struct step_row copy = *row;
	char err[600];

	while (r->nheap > 0 && r->heap[0].until <= row->end) {
		summary_expired(r->iv, (enum action)r->heap[0].action);
		heap_pop(r);
	}
	copy.bans = r->nheap;
	if (r->rrd == NULL) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/mxguard.rrd", r->dir);
		if ((r->rrd = rrdfile_open(path, r->rrdcached, row->end, err, sizeof(err))) == NULL) {
			fail(r, err);
			return;
		}
	}
	if (rrdfile_put(r->rrd, &copy, err, sizeof(err)) < 0 && rrdfile_pending(r->rrd) == 0)
		fail(r, err);
	r->when = row->end;
}

/* ---- files ---- */

static void
day_dir(const struct reporter *r, int64_t ts, char *out, size_t len)
{
	time_t t = (time_t)ts;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%s/%04d-%02d-%02d", r->dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void
write_summary(struct reporter *r, const struct summary *s, const char *base)
{
	struct outbuf ob;
	char path[4300], err[600];

	ob_init(&ob, -1, 64 * 1024);
	summary_json(s, r->conf, r->host, &ob);
	snprintf(path, sizeof(path), "%s.json", base);
	if (files_write(path, ob.p, ob.len, r->live, err, sizeof(err)) < 0)
		fail(r, err);
	ob.len = 0;
	summary_csv(s, r->conf, &ob);
	snprintf(path, sizeof(path), "%s.csv", base);
	if (files_write(path, ob.p, ob.len, r->live, err, sizeof(err)) < 0)
		fail(r, err);
	ob_free(&ob);
}

static int
has_anything(const struct summary *s)
{
	for (int t = 1; t < EV__COUNT; t++)
		if (summary_events(s, (enum ev_type)t) > 0)
			return 1;
	return 0;
}

static int
is_day_name(const char *n)
{
	return strlen(n) == 10 && n[4] == '-' && n[7] == '-' && strspn(n, "0123456789-") == 10;
}

static int
newest_first(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*b)->d_name, (*a)->d_name);
}

static int
day_entry(const struct dirent *e)
{
	return is_day_name(e->d_name);
}

static int
report_entry(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && (strcmp(e->d_name + n - 5, ".json") == 0 || strcmp(e->d_name + n - 4, ".csv") == 0);
}

/* Days older than keep before the newest are removed, files and all (only names that are dates). */
static void
prune(struct reporter *r, int64_t newest_day_start)
{
	struct dirent **days;
	int n;
	char cut[4200], dpath[4300];

	if (r->keep <= 0)
		return;
	day_dir(r, newest_day_start - r->keep, cut, sizeof(cut));
	if ((n = scandir(r->dir, &days, day_entry, alphasort)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		snprintf(dpath, sizeof(dpath), "%s/%s", r->dir, days[i]->d_name);
		if (strcmp(dpath, cut) < 0) {
			struct dirent **files;
			int m = scandir(dpath, &files, NULL, alphasort);

			for (int j = 0; j < m; j++) {
				char f[4300 + 256];

				if (strcmp(files[j]->d_name, ".") != 0 && strcmp(files[j]->d_name, "..") != 0) {
					snprintf(f, sizeof(f), "%s/%s", dpath, files[j]->d_name);
					unlink(f);
				}
				free(files[j]);
			}
			if (m >= 0)
				free(files);
			if (rmdir(dpath) != 0)
				fail(r, "a day past 'keep' could not be removed");
		}
		free(days[i]);
	}
	free(days);
}

/* The report files, newest first: the last days' (their intervals for the newest day). */
static int
links(struct reporter *r, char (*out)[48], int max)
{
	struct dirent **days;
	int n, k = 0;

	if ((n = scandir(r->dir, &days, day_entry, newest_first)) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		char dpath[4300];
		struct dirent **files;
		int m;

		snprintf(dpath, sizeof(dpath), "%s/%s", r->dir, days[i]->d_name);
		m = scandir(dpath, &files, report_entry, newest_first);
		for (int j = 0; j < m; j++) {
			/* every file of the newest day; of the others, the day files */
			if (k < max && (i == 0 || strncmp(files[j]->d_name, "day.", 4) == 0))
				snprintf(out[k++], sizeof(out[0]), "%.10s/%.30s", days[i]->d_name, files[j]->d_name);
			free(files[j]);
		}
		if (m >= 0)
			free(files);
		free(days[i]);
	}
	free(days);
	return k;
}

static int
later_end_first(const void *a, const void *b)
{
	const struct active *x = a, *y = b;

	return x->until < y->until ? 1 : x->until > y->until ? -1 : 0;
}

static void *
warm_up(void *arg)
{
	(void)arg;
	graphs_warm();
	return NULL;
}

static void
draw(struct reporter *r)
{
	char err[600], lk[LINKS_MAX][48];
	const char *lp[LINKS_MAX];
	struct dash_ban bans[DASH_BANS];
	struct dash_decision last[DASH_LAST];
	struct dashboard_data d = { .host = r->host, .when = r->when, .conf = r->conf, .day = r->day,
		.sizes = r->sizes, .svg = r->svg, .bans = bans, .bans_total = r->nheap, .last = last, .sync = r->live };

	if (graphs_render(rrdfile_path(r->rrd), r->dir, r->when, r->svg, r->live ? 1 : graphs_cpus(), r->sizes, err,
	    sizeof(err)) < 0)
		fail(r, err);
	{
		/* the bans that last longest first */
		struct active *sorted = xmalloc((r->nheap ? r->nheap : 1) * sizeof(*sorted));

		memcpy(sorted, r->heap, r->nheap * sizeof(*sorted));
		qsort(sorted, r->nheap, sizeof(*sorted), later_end_first);
		for (size_t i = 0; i < r->nheap && d.nbans < DASH_BANS; i++, d.nbans++) {
			snprintf(bans[d.nbans].key, sizeof(bans[0].key), "%s", sorted[i].key);
			snprintf(bans[d.nbans].rule, sizeof(bans[0].rule), "%s", sorted[i].rule);
			bans[d.nbans].action = sorted[i].action;
			bans[d.nbans].until = sorted[i].until;
		}
		free(sorted);
	}
	for (int i = 0; i < r->nlast; i++)
		last[i] = r->last[(r->lasthead - 1 - i + DASH_LAST) % DASH_LAST];
	d.nlast = r->nlast;
	d.nlinks = links(r, lk, LINKS_MAX);
	for (int i = 0; i < d.nlinks; i++)
		lp[i] = lk[i];
	d.links = lp;
	if (dashboard_write(r->dir, &d, err, sizeof(err)) < 0)
		fail(r, err);
}

/* Close every descriptor from fd up (the child's; /proc/self/fd says which are open). */
static void
close_from(int fd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[1024], n = 0;

	while (d != NULL && (e = readdir(d)) != NULL && n < 1024) {
		int x = atoi(e->d_name);

		if (x >= fd && x != dirfd(d))
			fds[n++] = x;
	}
	if (d != NULL)
		closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (n == 1024)
		for (int x = fd; x < 65536; x++)
			close(x);
}

/* The previous drawing's child, if it has ended. */
static void
reap(struct reporter *r)
{
	int status;

	if (r->child > 0 && waitpid(r->child, &status, WNOHANG) == r->child) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail(r, "drawing the graphs and the dashboard failed (its message is above)");
		r->child = 0;
	}
}

/*
 * The graphs and the dashboard, from the RRD as written now. Live, in a
 * child process: the daemon's loop does not wait for librrd, and what
 * librrd leaks goes with the child. One drawing at a time.
 */
static void
pictures(struct reporter *r)
{
	char err[600];

	if (r->rrd == NULL)
		return;
	if (rrdfile_flush(r->rrd, err, sizeof(err)) < 0 && rrdfile_pending(r->rrd) == 0)
		fail(r, err);
	if (!r->live) {
		if (r->warming) {
			pthread_join(r->warmer, NULL);
			r->warming = 0;
		}
		draw(r);
		return;
	}
	reap(r);
	if (r->child > 0)
		return;		/* the last one is still at it */
	r->drawn = time(NULL);
	r->child = fork();
	if (r->child < 0) {
		r->child = 0;
		fail(r, "cannot fork to draw the graphs");
		return;
	}
	if (r->child == 0) {
		/*
		 * The daemon's descriptors are not the child's to keep: its control
		 * socket, locks and database would outlive a daemon killed meanwhile
		 * and stop the next one from starting. The child ends with it.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGTERM, SIG_DFL);
		close_from(3);
		summary_merge(r->day, r->iv);	/* today so far: the child's copy takes the interval in progress */
		draw(r);
		_exit(r->said ? 1 : 0);
	}
}

static void
finish_interval(struct reporter *r)
{
	char dir[4200], base[4300], err[600];
	time_t t = (time_t)summary_from(r->iv);
	struct tm tm;

	summary_merge(r->day, r->iv);
	if (r->want_total)
		summary_merge(r->total, r->iv);
	if (!has_anything(r->iv))
		return;
	day_dir(r, summary_from(r->iv), dir, sizeof(dir));
	if (files_mkdir(dir, err, sizeof(err)) < 0) {
		fail(r, err);
		return;
	}
	gmtime_r(&t, &tm);
	snprintf(base, sizeof(base), "%s/%02d%02d", dir, tm.tm_hour, tm.tm_min);
	write_summary(r, r->iv, base);
}

static void
finish_day(struct reporter *r)
{
	char dir[4200], base[4300], err[600];

	if (!has_anything(r->day))
		return;
	day_dir(r, summary_from(r->day), dir, sizeof(dir));
	if (files_mkdir(dir, err, sizeof(err)) < 0) {
		fail(r, err);
		return;
	}
	snprintf(base, sizeof(base), "%s/day", dir);
	write_summary(r, r->day, base);
	prune(r, summary_from(r->day));
}

static int64_t
floor_to(int64_t ts, int64_t unit)
{
	int64_t q = ts / unit;

	if (ts % unit < 0)
		q--;
	return q * unit;
}

/* Move to ts: finished minutes out, then a finished interval's files, then a finished day's. */
static void
advance(struct reporter *r, int64_t ts)
{
	if (r->iv_end == 0) {
		/* the first interval and day of this run: counted from the minute counting began */
		int64_t f = floor_to(ts, r->interval), d = floor_to(ts, 86400);
		int64_t began = r->steps.cur.end != 0 ? r->steps.cur.end - STEP_SECONDS : floor_to(ts, STEP_SECONDS);

		summary_reset(r->iv, f, f + r->interval);
		summary_reset(r->day, d, d + 86400);
		summary_reset(r->total, f, f + r->interval);
		summary_counted_from(r->iv, began);
		summary_counted_from(r->day, began);
		r->iv_end = f + r->interval;
		r->day_end = d + 86400;
	}
	steps_at(&r->steps, ts);
	if (ts < r->iv_end)
		return;
	finish_interval(r);
	if (ts >= r->day_end) {
		int64_t d = floor_to(ts, 86400);

		finish_day(r);
		summary_reset(r->day, d, d + 86400);
		r->day_end = d + 86400;
	}
	{
		int64_t f = floor_to(ts, r->interval);

		summary_reset(r->iv, f, f + r->interval);
		r->iv_end = f + r->interval;
	}
	if (r->live)
		pictures(r);
}

/* ---- the interface ---- */

struct reporter *
reporter_new(const struct reporter_opts *o, const struct config *conf, char *err, size_t errlen)
{
	struct reporter *r;

	if (files_mkdir(o->dir, err, errlen) < 0)
		return NULL;
	if (o->interval < 0 || (o->interval > 0 && (o->interval % 60 != 0 || 86400 % o->interval != 0))) {
		snprintf(err, errlen, "the report interval must divide a day into whole minutes (60s, 5m, 1h, ...)");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->dir = xstrdup(o->dir);
	r->host = xstrdup(o->host != NULL ? o->host : "localhost");
	r->rrdcached = o->rrdcached != NULL ? xstrdup(o->rrdcached) : NULL;
	r->interval = o->interval > 0 ? o->interval : 3600;
	r->keep = o->keep;
	r->svg = o->svg;
	r->live = o->live;
	r->want_total = o->total;
	r->conf = conf;
	r->iv = summary_new(0, 0);
	r->day = summary_new(0, 0);
	r->total = summary_new(0, 0);
	steps_init(&r->steps, on_row, r);
	return r;
}

void
reporter_free(struct reporter *r)
{
	char err[600];

	if (r == NULL)
		return;
	if (r->child > 0) {
		int status;

		waitpid(r->child, &status, 0);	/* (a drawing takes a second at most) */
	}
	if (r->warming)
		pthread_join(r->warmer, NULL);
	if (r->rrd != NULL && rrdfile_flush(r->rrd, err, sizeof(err)) < 0)
		fail(r, err);
	rrdfile_close(r->rrd);
	summary_free(r->iv);
	summary_free(r->day);
	summary_free(r->total);
	free(r->heap);
	free(r->dir);
	free(r->host);
	free(r->rrdcached);
	free(r);
}

void
reporter_warm(struct reporter *r)
{
	if (!r->warming && !r->live)
		r->warming = pthread_create(&r->warmer, NULL, warm_up, NULL) == 0;
}

void
reporter_event(struct reporter *r, const struct event *ev)
{
	advance(r, ev->ts);
	steps_event(&r->steps, ev);
	summary_event(r->iv, ev);	/* (the day and the total get it at the interval's end: summary_merge) */
}

void
reporter_decision(struct reporter *r, const struct decision *d)
{
	struct dash_decision *l;

	advance(r, d->ts);
	steps_decision(&r->steps, d->ts, d->action);
	summary_decision(r->iv, d);
	if (d->action != A_LOG && d->duration > 0) {
		struct active a = { .until = d->ts + d->duration, .action = d->action };

		snprintf(a.key, sizeof(a.key), "%s", d->key);
		snprintf(a.rule, sizeof(a.rule), "%s", d->rule->name);
		heap_push(r, &a);
	}
	l = &r->last[r->lasthead];
	r->lasthead = (r->lasthead + 1) % DASH_LAST;
	if (r->nlast < DASH_LAST)
		r->nlast++;
	l->ts = d->ts;
	snprintf(l->key, sizeof(l->key), "%s", d->key);
	snprintf(l->rule, sizeof(l->rule), "%s", d->rule->name);
	l->action = d->action;
	decision_reason(d, l->reason, sizeof(l->reason));
}

void
reporter_lines(struct reporter *r, uint64_t n)
{
	steps_lines(&r->steps, n);
	summary_lines(r->iv, n);
}

int
reporter_finish(struct reporter *r)
{
	if (r->iv_end == 0)
		return 0;	/* nothing came */
	steps_flush(&r->steps);
	summary_set_span(r->total, summary_from(r->total), r->when);
	finish_interval(r);
	finish_day(r);
	pictures(r);
	return r->said ? -1 : 0;
}

const struct summary *
reporter_total(const struct reporter *r)
{
	return r->total;
}

/* ---- the live daemon ---- */

void
reporter_reconfigure(struct reporter *r, const struct config *conf)
{
	r->conf = conf;
}

void
reporter_restore_ban(struct reporter *r, const char *key, const char *rule, const char *action, int64_t until)
{
	struct active a = { .until = until, .action = action_by_name(action) };

	if (a.action < 0 || a.action == A_LOG)
		return;
	snprintf(a.key, sizeof(a.key), "%s", key);
	snprintf(a.rule, sizeof(a.rule), "%s", rule);
	heap_push(r, &a);
}

void
reporter_release(struct reporter *r, const char *key, int64_t now)
{
	size_t n = 0;
	struct active *keep = xmalloc((r->nheap ? r->nheap : 1) * sizeof(*keep));

	/* (rare: rebuild the heap without them) */
	for (size_t i = 0; i < r->nheap; i++) {
		if (r->heap[i].until > now && (key == NULL || strcmp(r->heap[i].key, key) == 0)) {
			summary_released(r->iv, (enum action)r->heap[i].action);
			continue;
		}
		keep[n++] = r->heap[i];
	}
	r->nheap = 0;
	for (size_t i = 0; i < n; i++)
		heap_push(r, &keep[i]);
	free(keep);
}

void
reporter_tick(struct reporter *r, int64_t now)
{
	int64_t end = r->steps.cur.end;

	reap(r);
	if (end != 0 && now >= end + LIVE_GRACE && now < end + LIVE_LAG_MAX && r->iv_end != 0)
		advance(r, now);	/* the logs are live and this minute is over: written now */
	if (r->live && r->rrd != NULL && now - r->drawn >= REDRAW_EVERY && end != 0 && now < end + LIVE_LAG_MAX)
		pictures(r);
}

int
reporter_sync(struct reporter *r)
{
	char err[600];

	if (r->rrd != NULL && rrdfile_flush(r->rrd, err, sizeof(err)) < 0) {
		if (rrdfile_pending(r->rrd) == 0)
			fail(r, err);
		return -1;
	}
	return 0;
}

void *
reporter_export(const struct reporter *r, size_t *len)
{
	char head[512], *rows = NULL, *blob;
	size_t hl = steps_export(&r->steps, head, sizeof(head)), rl = 0;

	if (r->rrd != NULL)
		rows = rrdfile_pending_export(r->rrd, &rl);
	blob = xmalloc(sizeof(uint32_t) + hl + rl);
	memcpy(blob, &(uint32_t){ (uint32_t)hl }, sizeof(uint32_t));
	memcpy(blob + sizeof(uint32_t), head, hl);
	if (rl > 0)
		memcpy(blob + sizeof(uint32_t) + hl, rows, rl);
	free(rows);
	*len = sizeof(uint32_t) + hl + rl;
	return blob;
}

int
reporter_import(struct reporter *r, const void *buf, size_t len)
{
	const char *b = buf;
	uint32_t hl;

	if (len < sizeof(hl))
		return -1;
	memcpy(&hl, b, sizeof(hl));
	if (hl > len - sizeof(hl) || steps_import(&r->steps, b + sizeof(hl), hl) < 0)
		return -1;
	if (len > sizeof(hl) + hl) {
		/* rows the RRD did not take before the stop: queued again (the file is opened for them now) */
		char path[4200], err[600];
		const char *rows = b + sizeof(hl) + hl;
		long long first;

		if (sscanf(rows, "%lld:", &first) != 1)
			return -1;
		snprintf(path, sizeof(path), "%s/mxguard.rrd", r->dir);
		if (r->rrd == NULL && (r->rrd = rrdfile_open(path, r->rrdcached, first, err, sizeof(err))) == NULL) {
			fail(r, err);
			return 0;
		}
		rrdfile_pending_import(r->rrd, rows, len - sizeof(hl) - hl);
	}
	return 0;
}
