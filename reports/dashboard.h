/*
 * dashboard.h - DIR/index.html: one static page (no script, no external
 * font or style; readable on a phone, working when opened from disk) with
 * the graphs (relative <img> paths), today's top attackers and rules, the
 * bans in force, the last decisions with their reasons, and links to the
 * report files. Everything from the logs (addresses, HELO names, senders,
 * reasons) is HTML-escaped: attackers write it.
 */
#ifndef MXG_DASHBOARD_H
#define MXG_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "graphs.h"
#include "summary.h"

#define DASH_LAST 20		/* last decisions shown */
#define DASH_BANS 50		/* bans in force shown (the soonest to end last) */

struct dash_ban {
	char key[80], rule[64];
	int action;		/* enum action */
	int64_t until;
};

struct dash_decision {
	int64_t ts;
	char key[80], rule[64];
	int action;
	char reason[320];
};

struct dashboard_data {
	const char *host;
	int64_t when;			/* event time of the last step written */
	const struct config *conf;
	const struct summary *day;	/* today so far */
	const struct graph_size *sizes;	/* GRAPH_KINDS x GRAPH_PERIODS */
	int svg;
	const struct dash_ban *bans;
	int nbans;
	uint64_t bans_total;
	const struct dash_decision *last;	/* newest first */
	int nlast;
	const char *const *links;	/* report files, relative to DIR, newest first */
	int nlinks;
	int sync;			/* fsync the page before it replaces the old one (files.h) */
};

/* 0, or -1 with the reason in err. */
int dashboard_write(const char *dir, const struct dashboard_data *d, char *err, size_t errlen);

#endif
