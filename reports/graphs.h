/*
 * graphs.h - pictures of the RRD, rendered by librrd (rrd_graph_v):
 * traffic (connections, messages, bounces), rejects and attacks (the
 * refusal kinds), decisions by action and the bans in force; each over a
 * day, a week, a month and a year, ending at a given (event) time.
 * Files: DIR/KIND-PERIOD.png (and .svg when asked), written to a temporary
 * name and renamed, so a browser never shows half a picture.
 */
#ifndef MXG_GRAPHS_H
#define MXG_GRAPHS_H

#include <stddef.h>
#include <stdint.h>

#define GRAPH_KINDS 3
#define GRAPH_PERIODS 4

/* "traffic", "rejects", "decisions"; "day", "week", "month", "year". */
const char *graph_kind_name(int kind);
const char *graph_kind_title(int kind);
const char *graph_period_name(int period);

struct graph_size {
	int width, height;	/* of the image, in pixels */
};

#define GRAPHS_JOBS_MAX 8

/*
 * All the graphs of rrd into dir, ending at end (svg: SVG files too).
 * sizes (GRAPH_KINDS x GRAPH_PERIODS, may be NULL) receives each PNG's
 * size. jobs > 1: drawn by that many processes at once (this one and
 * jobs - 1 children, forked after the first picture, which is drawn here).
 * 0, or -1 with the reason in err.
 */
int graphs_render(const char *rrd, const char *dir, int64_t end, int svg, int jobs, struct graph_size *sizes,
    char *err, size_t errlen);

/*
 * The processors this process may run on (its affinity, not the machine's
 * count): an offline report draws its pictures on that many at once, and
 * with two or more keeps its reporter in a process of its own (split.h).
 * Live, the one drawing child draws them in turn (the daemon's share of
 * the machine stays small).
 */
int graphs_cpus(void);

/*
 * Load librrd and draw a throwaway picture (to /dev/null): the fonts and
 * the renderer's caches in this process before the first real picture, so
 * that graphs_render need not draw one alone before forking. Safe on a
 * thread of its own while another writes the RRD: of librrd it calls
 * rrd_graph_v with times as numbers and no DEF, which shares nothing with
 * rrd_create_r and rrd_update_r (librrd 1.7 parses its options without
 * getopt and never sets the locale). graphs_render must not run until it
 * has returned.
 */
void graphs_warm(void);

#endif
