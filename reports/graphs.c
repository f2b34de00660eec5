/*
 * graphs.c - the RRD's pictures through rrd_graph_v (see graphs.h).
 *
 * rrd_graph_v takes the rrdtool command line as argv; every argument is
 * built here, the RRD's path escaped (':' separates DEF's fields).
 */
#include "graphs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
graphs_render(const char *rrd, const char *dir, int64_t end, int svg, struct graph_size *sizes, char *err,
    size_t errlen)
{
	const struct rrdlib *rl = rrdlib(err, errlen);
	char esc[4200];

	if (rl == NULL)
		return -1;
	escape_path(rrd, esc, sizeof(esc));
	for (int k = 0; k < GRAPH_KINDS; k++)
		for (int p = 0; p < GRAPH_PERIODS; p++) {
			if (render_one(rl, esc, dir, k, p, end, "PNG", sizes ? &sizes[k * GRAPH_PERIODS + p] : NULL, err,
			    errlen) < 0)
				return -1;
			if (svg && render_one(rl, esc, dir, k, p, end, "SVG", NULL, err, errlen) < 0)
				return -1;
		}
	return 0;
}
