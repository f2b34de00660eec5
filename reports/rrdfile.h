/*
 * rrdfile.h - the host's RRD (DIR/mxguard.rrd) through librrd: created
 * with its data sources and archives, fed one row per step, in batches
 * (docs/REPORTS.md, "The RRD").
 *
 * Data sources, in this order: one per event type, named as the type
 * ("connect", "rcpt_unknown", ...; events in the minute), one per action
 * ("dec_block", "dec_reject", ...; decisions in the minute), "bans"
 * (decisions in force at the minute's end) and "lines" (log lines read in
 * the minute). All GAUGE, step 60 s: a row is what its minute counted.
 * Archives, AVERAGE and MAX: 1 min x 2 days, 5 min x 2 weeks, 1 h x 2
 * months, 1 day x 2 years.
 *
 * Rows not after the file's last update are skipped: a restart that reads
 * again lines whose minutes are in the RRD already counts nothing twice.
 * With rrdcached ("unix:/run/rrdcached.sock"), updates go through it.
 */
#ifndef MXG_RRDFILE_H
#define MXG_RRDFILE_H

#include <stddef.h>
#include <stdint.h>

#include "steps.h"

struct rrdfile;

/*
 * path is created (its first row at first_end) if absent. daemon: rrdcached's
 * address, or NULL. NULL with the reason in err.
 */
struct rrdfile *rrdfile_open(const char *path, const char *daemon, int64_t first_end, char *err, size_t errlen);
void rrdfile_close(struct rrdfile *f);

/*
 * Queue a row (written at the next flush, or when the batch is full). 0, or
 * -1 with the reason in err. A flush that finds the file locked by a reader
 * writes nothing and keeps the rows for the next one (-1, and
 * rrdfile_pending() > 0).
 */
int rrdfile_put(struct rrdfile *f, const struct step_row *row, char *err, size_t errlen);
int rrdfile_flush(struct rrdfile *f, char *err, size_t errlen);

/* Rows queued, not yet in the file; and as text ("END:v:v..." lines) for a restart, and back. */
int rrdfile_pending(const struct rrdfile *f);
char *rrdfile_pending_export(const struct rrdfile *f, size_t *len);
void rrdfile_pending_import(struct rrdfile *f, const char *text, size_t len);
/* The last step in the file (0 if none). */
int64_t rrdfile_last(const struct rrdfile *f);
const char *rrdfile_path(const struct rrdfile *f);

/* Data source names in the file's order, and how many. */
int rrdfile_ds_count(void);
const char *rrdfile_ds_name(int i);

#endif
