/*
 * graphs.c - the RRD's pictures through rrd_graph_v (see graphs.h).
 *
 * rrd_graph_v takes the rrdtool command line as argv; every argument is
 * built here, the RRD's path escaped (':' separates DEF's fields).
 */
#include "graphs.h"

#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rrdlib.h"

#define GRAPH_WIDTH 720		/* the plotting area; the image is larger by its axes and legend */
#define GRAPH_HEIGHT 180
#define ARGS_MAX 160

struct series {
	const char *ds, *color, *legend;
	int area;		/* stacked area (1) or a line (0) */
};

static const struct {
	const char *name, *title, *label;
	struct series s[12];
} kinds[GRAPH_KINDS] = {
	{ "traffic", "Traffic: connections, messages and bounces", "per minute", {
		{ "connect", "1f77b4", "connections      ", 0 },
		{ "msg_accepted", "2ca02c", "messages accepted", 0 },
		{ "bounce_in", "ff7f0e", "bounces in       ", 0 },
		{ "lost_conn", "7f7f7f", "lost connections ", 0 } } },
	{ "rejects", "Rejects and attacks", "per minute", {
		{ "rcpt_unknown", "d62728", "unknown recipient ", 1 },
		{ "rcpt_reject", "ff9896", "recipient rejected", 1 },
		{ "relay_denied", "9467bd", "relay denied      ", 1 },
		{ "dnsbl_reject", "8c564b", "DNSBL reject      ", 1 },
		{ "client_reject", "e377c2", "client rejected   ", 1 },
		{ "msg_reject", "bcbd22", "message rejected  ", 1 },
		{ "auth_fail", "17becf", "AUTH failed       ", 1 },
		{ "protocol_error", "aec7e8", "protocol error    ", 1 },
		{ "rate_limited", "ffbb78", "rate limited      ", 1 } } },
	{ "decisions", "Decisions by action, and bans in force", "decisions per minute; bans", {
		{ "dec_block", "d62728", "block    ", 1 },
		{ "dec_reject", "ff7f0e", "reject   ", 1 },
		{ "dec_defer", "bcbd22", "defer    ", 1 },
		{ "dec_discard", "8c564b", "discard  ", 1 },
		{ "dec_hold", "9467bd", "hold     ", 1 },
		{ "dec_tarpit", "17becf", "tarpit   ", 1 },
		{ "dec_limit", "e377c2", "limit    ", 1 },
		{ "dec_log", "7f7f7f", "log      ", 1 },
		{ "bans", "000000", "bans in force", 0 } } },
};

static const struct {
	const char *name;
	int64_t seconds;
} periods[GRAPH_PERIODS] = { { "day", 86400 }, { "week", 7 * 86400 }, { "month", 31 * 86400 }, { "year", 365 * 86400 } };

const char *
graph_kind_name(int kind)
{
	return kinds[kind].name;
}

const char *
graph_kind_title(int kind)
{
	return kinds[kind].title;
}

const char *
graph_period_name(int period)
{
	return periods[period].name;
}

/* The path with ':' and '\' escaped for a DEF. */
static void
escape_path(const char *p, char *out, size_t len)
{
	size_t n = 0;

	for (; *p && n + 3 < len; p++) {
		if (*p == ':' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n] = '\0';
}

static int
render_one(const struct rrdlib *rl, const char *rrd_esc, const char *dir, int kind, int period, int64_t end, const char *fmt,
    struct graph_size *size, char *err, size_t errlen)
{
	char buf[ARGS_MAX][200], path[4096], tmp[4200], title[160];
	char *argv[ARGS_MAX];
	const char *ext = strcmp(fmt, "PNG") == 0 ? "png" : "svg";
	int n = 0;
	rrd_info_t *info;

#define ARG(...) (snprintf(buf[n], sizeof(buf[n]), __VA_ARGS__), argv[n] = buf[n], n++)
	snprintf(path, sizeof(path), "%s/%s-%s.%s", dir, kinds[kind].name, periods[period].name, ext);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(title, sizeof(title), "%s, last %s", kinds[kind].title, periods[period].name);
	ARG("graph");
	argv[n++] = tmp;
	ARG("--imgformat");
	ARG("%s", fmt);
	ARG("--start");
	ARG("%" PRId64, end - periods[period].seconds);
	ARG("--end");
	ARG("%" PRId64, end);
	ARG("--width");
	ARG("%d", GRAPH_WIDTH);
	ARG("--height");
	ARG("%d", GRAPH_HEIGHT);
	ARG("--title");
	ARG("%s", title);
	ARG("--vertical-label");
	ARG("%s", kinds[kind].label);
	ARG("--lower-limit");
	ARG("0");
	ARG("--slope-mode");
	for (int i = 0; i < 12 && kinds[kind].s[i].ds != NULL; i++) {
		const struct series *s = &kinds[kind].s[i];

		ARG("DEF:v%d=%s:%s:AVERAGE", i, rrd_esc, s->ds);
		ARG("DEF:m%d=%s:%s:MAX", i, rrd_esc, s->ds);
		if (s->area)
			ARG("AREA:v%d#%s:%s%s", i, s->color, s->legend, i > 0 && kinds[kind].s[i - 1].area ? ":STACK" : "");
		else
			ARG("LINE2:v%d#%s:%s", i, s->color, s->legend);
		ARG("VDEF:a%d=v%d,AVERAGE", i, i);
		ARG("VDEF:x%d=m%d,MAXIMUM", i, i);
		ARG("VDEF:l%d=v%d,LAST", i, i);
		ARG("GPRINT:a%d:avg %%7.1lf", i);
		ARG("GPRINT:x%d:max %%7.0lf", i);
		ARG("GPRINT:l%d:last %%7.0lf\\l", i);
	}
#undef ARG
	rl->clear_error();
	info = rl->graph_v(n, argv);
	for (int tries = 0; info == NULL && tries < 20 && rl->get_error() != NULL &&
	    strstr(rl->get_error(), "lock") != NULL; tries++) {
		/* the daemon is writing a row (it holds the file a moment): try again shortly */
		rl->clear_error();
		usleep(50000);
		info = rl->graph_v(n, argv);
	}
	if (info == NULL) {
		const char *e = rl->get_error();

		snprintf(err, errlen, "graph %s: %s", path, e != NULL && e[0] ? e : "failed");
		rl->clear_error();
		unlink(tmp);
		return -1;
	}
	for (rrd_info_t *i = info; i != NULL; i = i->next) {
		if (size != NULL && strcmp(i->key, "image_width") == 0)
			size->width = (int)i->value.u_cnt;
		if (size != NULL && strcmp(i->key, "image_height") == 0)
			size->height = (int)i->value.u_cnt;
	}
	rl->info_free(info);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "graph %s: cannot rename %s", path, tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* One picture: graph number i of GRAPH_KINDS x GRAPH_PERIODS (its PNG, then its SVG when asked). */
static int
render_nth(const struct rrdlib *rl, const char *esc, const char *dir, int i, int64_t end, int svg,
    struct graph_size *sizes, char *err, size_t errlen)
{
	int k = i / GRAPH_PERIODS, p = i % GRAPH_PERIODS;

	if (render_one(rl, esc, dir, k, p, end, "PNG", sizes ? &sizes[i] : NULL, err, errlen) < 0)
		return -1;
	if (svg && render_one(rl, esc, dir, k, p, end, "SVG", NULL, err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * The pictures in the order they are handed out, dearest first (a day
 * holds a point per minute, a year a point per day), so that the last ones
 * taken are short and the processes end together.
 */
static int
nth_by_cost(int i)
{
	return (i % GRAPH_KINDS) * GRAPH_PERIODS + i / GRAPH_KINDS;	/* the days, then the weeks, ... */
}

/*
 * Set once the fonts and the renderer's caches are in this process (a
 * picture was drawn, or graphs_warm ran): a process that has them draws
 * no first picture alone before forking.
 */
static int warm;

void
graphs_warm(void)
{
	char err[300];
	const struct rrdlib *rl = rrdlib(err, sizeof(err));
	/* what a real picture's text needs: a title, a legend line, the axes' labels */
	char *argv[] = { "graph", "/dev/null", "--imgformat", "PNG", "--width", "60", "--height", "20",
		"--title", "warm", "--vertical-label", "per minute", "--start", "1700000000", "--end", "1700086400",
		"HRULE:1#000000:warm  ", "COMMENT:avg 1.0 max 1 last 1\\l" };
	rrd_info_t *info;

	if (rl == NULL)
		return;		/* (the real pictures say why) */
	info = rl->graph_v((int)(sizeof(argv) / sizeof(argv[0])), argv);
	if (info != NULL) {
		rl->info_free(info);
		__atomic_store_n(&warm, 1, __ATOMIC_RELEASE);
	}
	rl->clear_error();
}

int
graphs_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

/* The threads of this process (/proc/self/task); 0 if unknown. */
static int
thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* What the drawing processes share: the next picture to take, and what each drew. */
struct shared {
	int next;
	struct graph_size sizes[GRAPH_KINDS * GRAPH_PERIODS];
	int failed[GRAPHS_JOBS_MAX];
	char err[GRAPHS_JOBS_MAX][600];
};

/*
 * Take pictures until none is left; 0, or -1 (sh->failed[job], the first
 * failure's reason in sh->err[job]). One that fails does not stop the
 * others: what can be drawn is current.
 */
static int
take_pictures(struct shared *sh, int job, const struct rrdlib *rl, const char *esc, const char *dir, int64_t end,
    int svg)
{
	char err[600];
	int i;

	while ((i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED)) < GRAPH_KINDS * GRAPH_PERIODS)
		if (render_nth(rl, esc, dir, nth_by_cost(i), end, svg, sh->sizes, err, sizeof(err)) < 0 &&
		    !sh->failed[job]) {
			sh->failed[job] = 1;
			snprintf(sh->err[job], sizeof(sh->err[job]), "%s", err);
		}
	return sh->failed[job] ? -1 : 0;
}

int
graphs_render(const char *rrd, const char *dir, int64_t end, int svg, int jobs, struct graph_size *sizes,
    char *err, size_t errlen)
{
	const struct rrdlib *rl = rrdlib(err, errlen);
	struct shared local, *sh = &local;
	pid_t pids[GRAPHS_JOBS_MAX];
	char esc[4200];
	int started = 0, rc;

	if (rl == NULL)
		return -1;
	escape_path(rrd, esc, sizeof(esc));
	if (jobs > GRAPHS_JOBS_MAX)
		jobs = GRAPHS_JOBS_MAX;
	memset(&local, 0, sizeof(local));
	/*
	 * Every picture allocates its image anew, larger than malloc's mmap
	 * threshold: each would be mapped, faulted in page by page and unmapped
	 * again (a tenth of the drawing's time on a VM). Kept in the heap
	 * instead; the process that draws ends (report) or is a child (live).
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	/*
	 * The first picture is drawn here in any case: it loads the fonts and
	 * the renderer's caches, which the children then inherit instead of
	 * each loading them again. A fork is safe only from one thread (the
	 * font machinery starts helper threads; they have ended by now, or
	 * the rest is drawn here too).
	 */
	if (!__atomic_load_n(&warm, __ATOMIC_ACQUIRE)) {
		local.next = 1;
		if (render_nth(rl, esc, dir, nth_by_cost(0), end, svg, local.sizes, local.err[0], sizeof(local.err[0])) < 0)
			local.failed[0] = 1;
		warm = 1;
	}
	if (jobs > 1 && thread_count() == 1 &&
	    (sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED) {
		*sh = local;
		for (int j = 1; j < jobs; j++) {
			pid_t pid = fork();

			if (pid < 0)
				break;
			if (pid == 0)
				_exit(take_pictures(sh, j, rl, esc, dir, end, svg) < 0);
			pids[started++] = pid;
		}
	} else
		sh = &local;
	rc = take_pictures(sh, 0, rl, esc, dir, end, svg);
	for (int j = 0; j < started; j++) {
		int status;

		while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR)
			;
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !sh->failed[j + 1]) {
			sh->failed[j + 1] = 1;
			snprintf(sh->err[j + 1], sizeof(sh->err[0]), "a process drawing graphs ended abnormally");
		}
	}
	for (int j = 0; j <= started; j++)
		if (sh->failed[j]) {
			snprintf(err, errlen, "%s", sh->err[j]);
			rc = -1;
			break;
		}
	if (sizes != NULL)
		memcpy(sizes, sh->sizes, sizeof(sh->sizes));
	if (sh != &local)
		munmap(sh, sizeof(*sh));
	return rc;
}
