/*
 * dashboard.c - DIR/index.html (see dashboard.h).
 */
#include "dashboard.h"

#include <stdio.h>
#include <string.h>

#include "../common/outbuf.h"
#include "../parsers/event_json.h"
#include "files.h"

/* Text into HTML: & < > " ' escaped, control characters and invalid bytes shown as '?'. */
static void
html(struct outbuf *ob, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': OB_LIT(ob, "&amp;"); break;
		case '<': OB_LIT(ob, "&lt;"); break;
		case '>': OB_LIT(ob, "&gt;"); break;
		case '"': OB_LIT(ob, "&quot;"); break;
		case '\'': OB_LIT(ob, "&#39;"); break;
		default:
			ob_putc(ob, c < 0x20 || c >= 0x7f ? '?' : (char)c);
		}
	}
}

static void
put_time(struct outbuf *ob, int64_t ts)
{
	put_iso8601(ob, ts, -1);
}

static const char style[] =
    "body{font-family:sans-serif;margin:0 auto;max-width:1100px;padding:8px;color:#222;background:#fff}"
    "h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}"
    "img{max-width:100%;height:auto;display:block;margin:4px 0}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border-bottom:1px solid #eee;"
    "padding:3px 6px;text-align:left;vertical-align:top;word-break:break-all}th{background:#f4f4f4}"
    "td.n{text-align:right;white-space:nowrap}.muted{color:#777}ul{padding-left:1.2em}"
    "details{margin:.3em 0}summary{cursor:pointer}";

int
dashboard_write(const char *dir, const struct dashboard_data *d, char *err, size_t errlen)
{
	struct outbuf ob;
	char path[4200];
	struct summary_client top[SUMMARY_TOP];
	int ntop, rc;

	ob_init(&ob, -1, 64 * 1024);
	OB_LIT(&ob, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>mxguard: ");
	html(&ob, d->host);
	OB_LIT(&ob, "</title><style>");
	ob_put(&ob, style, sizeof(style) - 1);
	OB_LIT(&ob, "</style></head>\n<body>\n<h1>mxguard on ");
	html(&ob, d->host);
	OB_LIT(&ob, "</h1>\n<p class=\"muted\">As of ");
	put_time(&ob, d->when);
	OB_LIT(&ob, " (the logs' time). ");
	ob_put_u64(&ob, d->bans_total);
	OB_LIT(&ob, " decision(s) in force.</p>\n");

	/* the graphs: the day's of each kind shown, the longer periods one click away */
	for (int k = 0; k < GRAPH_KINDS; k++) {
		OB_LIT(&ob, "<h2>");
		html(&ob, graph_kind_title(k));
		OB_LIT(&ob, "</h2>\n");
		for (int p = 0; p < GRAPH_PERIODS; p++) {
			const struct graph_size *g = &d->sizes[k * GRAPH_PERIODS + p];

			if (p == 1)
				OB_LIT(&ob, "<details><summary>week, month, year</summary>\n");
			OB_LIT(&ob, "<img src=\"");
			html(&ob, graph_kind_name(k));
			ob_putc(&ob, '-');
			html(&ob, graph_period_name(p));
			OB_LIT(&ob, ".png\" alt=\"");
			html(&ob, graph_kind_title(k));
			OB_LIT(&ob, ", last ");
			html(&ob, graph_period_name(p));
			OB_LIT(&ob, "\" width=\"");
			ob_put_u64(&ob, (uint64_t)g->width);
			OB_LIT(&ob, "\" height=\"");
			ob_put_u64(&ob, (uint64_t)g->height);
			OB_LIT(&ob, "\">\n");
			if (d->svg) {
				OB_LIT(&ob, "<p class=\"muted\"><a href=\"");
				html(&ob, graph_kind_name(k));
				ob_putc(&ob, '-');
				html(&ob, graph_period_name(p));
				OB_LIT(&ob, ".svg\">SVG</a></p>\n");
			}
		}
		OB_LIT(&ob, "</details>\n");
	}

	OB_LIT(&ob, "<h2>Today's top attackers</h2>\n");
	ntop = d->day != NULL ? summary_top_attackers(d->day, d->conf, top, SUMMARY_TOP) : 0;
	if (ntop == 0)
		OB_LIT(&ob, "<p class=\"muted\">None today.</p>\n");
	else {
		OB_LIT(&ob, "<table><tr><th>client</th><th>refusals</th><th>decided</th></tr>\n");
		for (int i = 0; i < ntop; i++) {
			OB_LIT(&ob, "<tr><td>");
			html(&ob, top[i].client);
			OB_LIT(&ob, "</td><td class=\"n\">");
			ob_put_u64(&ob, top[i].count);
			OB_LIT(&ob, "</td><td>");
			html(&ob, top[i].decided[0] ? top[i].decided : "-");
			OB_LIT(&ob, "</td></tr>\n");
		}
		OB_LIT(&ob, "</table>\n");
	}

	OB_LIT(&ob, "<h2>Today's rules</h2>\n<table><tr><th>rule</th><th>decisions</th></tr>\n");
	for (int r = 0; r < d->conf->nrules; r++) {
		OB_LIT(&ob, "<tr><td>");
		html(&ob, d->conf->rules[r]->name);
		OB_LIT(&ob, "</td><td class=\"n\">");
		ob_put_u64(&ob, d->day != NULL ? summary_rule_decisions(d->day, d->conf->rules[r]->name) : 0);
		OB_LIT(&ob, "</td></tr>\n");
	}
	OB_LIT(&ob, "</table>\n");

	OB_LIT(&ob, "<h2>Bans in force</h2>\n");
	if (d->nbans == 0)
		OB_LIT(&ob, "<p class=\"muted\">None.</p>\n");
	else {
		OB_LIT(&ob, "<table><tr><th>key</th><th>rule</th><th>action</th><th>until</th></tr>\n");
		for (int i = 0; i < d->nbans; i++) {
			OB_LIT(&ob, "<tr><td>");
			html(&ob, d->bans[i].key);
			OB_LIT(&ob, "</td><td>");
			html(&ob, d->bans[i].rule);
			OB_LIT(&ob, "</td><td>");
			html(&ob, action_name((enum action)d->bans[i].action));
			OB_LIT(&ob, "</td><td>");
			put_time(&ob, d->bans[i].until);
			OB_LIT(&ob, "</td></tr>\n");
		}
		OB_LIT(&ob, "</table>\n");
		if ((uint64_t)d->nbans < d->bans_total) {
			OB_LIT(&ob, "<p class=\"muted\">and ");
			ob_put_u64(&ob, d->bans_total - (uint64_t)d->nbans);
			OB_LIT(&ob, " more (<code>mxguard ctl decisions</code> lists them all).</p>\n");
		}
	}

	OB_LIT(&ob, "<h2>Last decisions</h2>\n");
	if (d->nlast == 0)
		OB_LIT(&ob, "<p class=\"muted\">None yet.</p>\n");
	else {
		OB_LIT(&ob, "<table><tr><th>time</th><th>key</th><th>rule</th><th>action</th><th>why</th></tr>\n");
		for (int i = 0; i < d->nlast; i++) {
			OB_LIT(&ob, "<tr><td>");
			put_time(&ob, d->last[i].ts);
			OB_LIT(&ob, "</td><td>");
			html(&ob, d->last[i].key);
			OB_LIT(&ob, "</td><td>");
			html(&ob, d->last[i].rule);
			OB_LIT(&ob, "</td><td>");
			html(&ob, action_name((enum action)d->last[i].action));
			OB_LIT(&ob, "</td><td>");
			html(&ob, d->last[i].reason);
			OB_LIT(&ob, "</td></tr>\n");
		}
		OB_LIT(&ob, "</table>\n");
	}

	OB_LIT(&ob, "<h2>Report files</h2>\n<ul>\n");
	for (int i = 0; i < d->nlinks; i++) {
		OB_LIT(&ob, "<li><a href=\"");
		html(&ob, d->links[i]);
		OB_LIT(&ob, "\">");
		html(&ob, d->links[i]);
		OB_LIT(&ob, "</a></li>\n");
	}
	OB_LIT(&ob, "</ul>\n<p class=\"muted\">Written by mxguard; the schema of the files is in docs/REPORTS.md.</p>\n"
	    "</body></html>\n");
	snprintf(path, sizeof(path), "%s/index.html", dir);
	rc = files_write(path, ob.p, ob.len, d->sync, err, errlen);
	ob_free(&ob);
	return rc;
}
