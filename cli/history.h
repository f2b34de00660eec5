/*
 * history.h - "mxguard ctl history": the decision log (audit.h) read back,
 * its rotated copies first (PATH.N, PATH.N.gz ... PATH.1, then PATH), and
 * shown as a table, or as the JSON lines themselves.
 *
 * ctl reads the files itself, not the daemon: a long history must never
 * hold the daemon's loop up, and the record of last week is there to read
 * even while the daemon is stopped.
 */
#ifndef MXG_HISTORY_H
#define MXG_HISTORY_H

#include <stdio.h>

/*
 * Print the entries of the log at path about filter — an address or prefix
 * (the entries whose key holds it or lies in it, and the flushes), else a
 * rule's name, or NULL for all — to out. 0, or 66 when no file could be
 * read.
 */
int history_show(const char *path, const char *filter, int json, FILE *out);

#endif
