/*
 * rrdfile.c - the RRD through librrd (see rrdfile.h).
 *
 * librrd keeps its errors in a per-thread buffer (rrd_get_error); every
 * call here clears it first and copies it out on failure.
 */
#include "rrdfile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/xalloc.h"
#include "rrdlib.h"

#define BATCH_ROWS 1024		/* rows per rrd_update call (an offline run writes thousands) */
#define ROWS_HELD_MAX 8192	/* rows held while the file is locked (more than five days of minutes) */
#define ROW_MAX 512		/* "END:v:v:...": 24 numbers */
#define NDS ((EV__COUNT - 1) + STEP_ACTIONS + 2)

struct rrdfile {
	const struct rrdlib *rl;
	char *path;
	char *daemon;		/* rrdcached, or NULL */
	int64_t last;
	char (*rows)[ROW_MAX];
	const char **argv;
	int nrows, caprows;
};

static char ds_names[NDS][20];

static void
names_init(void)
{
	int n = 0;

	if (ds_names[0][0] != '\0')
		return;
	for (int t = 1; t < EV__COUNT; t++)
		snprintf(ds_names[n++], sizeof(ds_names[0]), "%s", ev_type_name((enum ev_type)t));
	for (int a = 0; a < STEP_ACTIONS; a++)
		snprintf(ds_names[n++], sizeof(ds_names[0]), "dec_%s", action_name((enum action)a));
	snprintf(ds_names[n++], sizeof(ds_names[0]), "bans");
	snprintf(ds_names[n++], sizeof(ds_names[0]), "lines");
}

int
rrdfile_ds_count(void)
{
	return NDS;
}

const char *
rrdfile_ds_name(int i)
{
	names_init();
	return i >= 0 && i < NDS ? ds_names[i] : NULL;
}

static void
rrd_err(const struct rrdfile *f, char *err, size_t errlen, const char *what, const char *path)
{
	const char *e = f->rl->get_error();

	snprintf(err, errlen, "%s %s: %s", what, path, e != NULL && e[0] ? e : "failed");
	f->rl->clear_error();
}

static int
create(struct rrdfile *f, int64_t first_end, char *err, size_t errlen)
{
	static const struct {
		int steps, rows;
	} rra[] = { { 1, 2 * 1440 }, { 5, 14 * 288 }, { 60, 62 * 24 }, { 1440, 2 * 366 } };
	char defs[NDS + 8][64];
	const char *argv[NDS + 8];
	int n = 0;

	names_init();
	for (int i = 0; i < NDS; i++) {
		/* heartbeat two steps: a minute not written (a daemon stopped) is unknown, not zero */
		snprintf(defs[n], sizeof(defs[n]), "DS:%.19s:GAUGE:120:0:U", ds_names[i]);
		argv[n] = defs[n];
		n++;
	}
	for (int cf = 0; cf < 2; cf++)
		for (size_t i = 0; i < sizeof(rra) / sizeof(rra[0]); i++) {
			snprintf(defs[n], sizeof(defs[n]), "RRA:%s:0.5:%d:%d", cf ? "MAX" : "AVERAGE", rra[i].steps,
			    rra[i].rows);
			argv[n] = defs[n];
			n++;
		}
	f->rl->clear_error();
	if (f->rl->create_r(f->path, STEP_SECONDS, (time_t)(first_end - STEP_SECONDS), n, argv) != 0) {
		rrd_err(f, err, errlen, "creating", f->path);
		return -1;
	}
	f->last = first_end - STEP_SECONDS;
	return 0;
}

struct rrdfile *
rrdfile_open(const char *path, const char *daemon, int64_t first_end, char *err, size_t errlen)
{
	const struct rrdlib *rl = rrdlib(err, errlen);
	struct rrdfile *f;
	struct stat st;

	if (rl == NULL)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->rl = rl;
	f->path = xstrdup(path);
	f->daemon = daemon != NULL ? xstrdup(daemon) : NULL;
	f->caprows = BATCH_ROWS;
	f->rows = xmalloc(BATCH_ROWS * sizeof(*f->rows));
	f->argv = xmalloc(BATCH_ROWS * sizeof(*f->argv));
	f->rl->clear_error();
	if (f->daemon != NULL && f->rl->c_connect(f->daemon) != 0) {
		rrd_err(f, err, errlen, "connecting to rrdcached at", f->daemon);
		rrdfile_close(f);
		return NULL;
	}
	if (stat(path, &st) != 0) {
		if (create(f, first_end, err, errlen) < 0) {
			rrdfile_close(f);
			return NULL;
		}
	} else {
		time_t last = f->daemon != NULL ? f->rl->c_last(f->path) : f->rl->last_r(f->path);

		if (last < 0) {
			rrd_err(f, err, errlen, "reading", f->path);
			rrdfile_close(f);
			return NULL;
		}
		f->last = last;
	}
	return f;
}

void
rrdfile_close(struct rrdfile *f)
{
	if (f == NULL)
		return;
	if (f->daemon != NULL)
		f->rl->c_disconnect();
	free(f->path);
	free(f->daemon);
	free(f->rows);
	free(f->argv);
	free(f);
}

int
rrdfile_put(struct rrdfile *f, const struct step_row *row, char *err, size_t errlen)
{
	char *p;
	int n;

	if (row->end <= f->last)
		return 0;	/* that minute is in the file already */
	if (f->nrows == f->caprows && rrdfile_flush(f, err, errlen) < 0 && f->nrows == f->caprows) {
		/* the file is locked by a reader: hold more rows (a day's at most), write them later */
		if (f->caprows >= ROWS_HELD_MAX)
			return -1;
		f->caprows *= 2;
		f->rows = xrealloc(f->rows, (size_t)f->caprows * sizeof(*f->rows));
		f->argv = xrealloc(f->argv, (size_t)f->caprows * sizeof(*f->argv));
		for (int i = 0; i < f->nrows; i++)
			f->argv[i] = f->rows[i];
	}
	p = f->rows[f->nrows];
	n = snprintf(p, ROW_MAX, "%" PRId64, row->end);
	for (int t = 1; t < EV__COUNT; t++)
		n += snprintf(p + n, (size_t)(ROW_MAX - n), ":%" PRIu64, row->events[t]);
	for (int a = 0; a < STEP_ACTIONS; a++)
		n += snprintf(p + n, (size_t)(ROW_MAX - n), ":%" PRIu64, row->decisions[a]);
	snprintf(p + n, (size_t)(ROW_MAX - n), ":%" PRIu64 ":%" PRIu64, row->bans, row->lines);
	f->argv[f->nrows] = p;
	f->nrows++;
	f->last = row->end;
	return 0;
}

int
rrdfile_flush(struct rrdfile *f, char *err, size_t errlen)
{
	int rc;

	if (f->nrows == 0)
		return 0;
	f->rl->clear_error();
	rc = f->daemon != NULL ? f->rl->c_update(f->path, f->nrows, f->argv) :
	    f->rl->update_r(f->path, NULL, f->nrows, f->argv);
	if (rc != 0) {
		const char *e = f->rl->get_error();

		if (e != NULL && strstr(e, "could not lock") != NULL) {
			/*
			 * A reader holds the file (the daemon's drawing child, an
			 * administrator's rrdtool graph): nothing was written, the
			 * rows stay queued and go at the next flush.
			 */
			snprintf(err, errlen, "updating %s: locked by a reader; the rows wait", f->path);
			f->rl->clear_error();
			return -1;
		}
		f->nrows = 0;
		rrd_err(f, err, errlen, "updating", f->path);
		return -1;
	}
	f->nrows = 0;
	return 0;
}

int
rrdfile_pending(const struct rrdfile *f)
{
	return f->nrows;
}

char *
rrdfile_pending_export(const struct rrdfile *f, size_t *len)
{
	char *t = xmalloc((size_t)f->nrows * ROW_MAX + 1);
	size_t n = 0;

	for (int i = 0; i < f->nrows; i++)
		n += (size_t)sprintf(t + n, "%s\n", f->rows[i]);
	t[n] = '\0';
	*len = n;
	return t;
}

void
rrdfile_pending_import(struct rrdfile *f, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
		long long end;

		/* a row of this layout, after the file's last: queued again as it was */
		if (l > 0 && l < ROW_MAX && sscanf(text + i, "%lld:", &end) == 1 && end > f->last &&
		    f->nrows < f->caprows) {
			memcpy(f->rows[f->nrows], text + i, l);
			f->rows[f->nrows][l] = '\0';
			f->argv[f->nrows] = f->rows[f->nrows];
			f->nrows++;
			f->last = end;
		}
		i += l + 1;
	}
}

int64_t
rrdfile_last(const struct rrdfile *f)
{
	return f->last;
}

const char *
rrdfile_path(const struct rrdfile *f)
{
	return f->path;
}
