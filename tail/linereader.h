/*
 * linereader.h - read a log file (plain or gzip, found by its magic bytes)
 * or standard input as lines, with bounded memory.
 *
 * A line longer than the configured maximum is skipped whole and counted:
 * attackers write parts of log lines, and one huge line must neither grow
 * memory nor be cut into pieces that parse as something else. A last line
 * without '\n' is returned at end of input and counted as truncated.
 */
#ifndef MXG_LINEREADER_H
#define MXG_LINEREADER_H

#include <stdint.h>
#include <time.h>

#include "../common/span.h"

#define LR_MAX_LINE_DEFAULT (64 * 1024)

struct linereader;

struct lr_stats {
	uint64_t lines;		/* lines returned */
	uint64_t bytes;		/* bytes of input (after decompression) */
	uint64_t too_long;	/* lines skipped for exceeding max_line */
	uint64_t truncated;	/* last line had no newline (0 or 1) */
};

/* path "-" is standard input. NULL on error with errno set. */
struct linereader *lr_open(const char *path, size_t max_line);
void lr_close(struct linereader *r);

/*
 * 1: *line is the next line (no '\n', no trailing '\r'), valid until the
 * next call; 0: end of input; -1: read or decompression error (logged).
 */
int lr_next(struct linereader *r, struct span *line);

/* 1-based number of the line last returned, counting skipped lines too. */
uint64_t lr_lineno(const struct linereader *r);
const struct lr_stats *lr_stats(const struct linereader *r);
int lr_is_gzip(const struct linereader *r);
/* Modification time of the file (now for a pipe): the newest time it can hold. */
time_t lr_mtime(const struct linereader *r);

#endif
