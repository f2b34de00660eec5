/*
 * follow.h - follow a growing log file across rotation, truncation and
 * replacement, delivering each complete line exactly once.
 *
 * A follower reads from its file's current end of complete lines; a line
 * without its '\n' yet is held until the rest arrives. Its position
 * (device, inode, offset after the last delivered line, and a hash of the
 * file's first bytes) can be saved and given back after a restart:
 * reading resumes exactly there. When the file was rotated while mxguard
 * was down, the rest of the old file is found by its inode among its
 * siblings (mail.log.1) and read first.
 *
 * Rotation by rename: the old file is read to its end, and again for a
 * short grace period (syslog may still be writing to it), then dropped.
 * Copytruncate and truncation: reading restarts at 0. Delete and a later
 * create: the new file is read from 0 when it appears.
 */
#ifndef MXG_FOLLOW_H
#define MXG_FOLLOW_H

#include <stdint.h>
#include <sys/types.h>

#include "../common/span.h"

struct follow_pos {
	uint64_t dev, ino;
	uint64_t offset;	/* bytes of complete lines delivered */
	uint32_t head_len;	/* bytes hashed at the start of the file */
	uint64_t head_hash;
};

enum follow_start { FOLLOW_FROM_END, FOLLOW_FROM_START };

struct follower;

/* saved may be NULL (first start: begin at `start`). */
struct follower *follow_new(const char *path, const struct follow_pos *saved, enum follow_start start,
    size_t max_line);
void follow_free(struct follower *f);
const char *follow_path(const struct follower *f);
/* The path's file name (what inotify names in the directory's events). */
const char *follow_name(const struct follower *f);

typedef void (*follow_line_fn)(void *arg, struct span line);

/*
 * Read whatever is new (and notice rotation, truncation, replacement).
 * `now` is a monotonic time in milliseconds, for the grace period of a
 * rotated file. Returns the number of lines delivered.
 */
long follow_poll(struct follower *f, int64_t now_ms, follow_line_fn fn, void *arg);

/*
 * The same, told what the caller knows from inotify since the last call:
 * nothing (look at everything: the path, its directory, the file), that
 * only the file was written (no name created, moved or removed next to
 * it: read it, skip the names), or that nothing happened to it (skip it).
 * The names are still looked at every 200 ms whatever the hint: a hint
 * saves system calls, it never delays a rotation by more than that.
 * Under a steady trickle of lines (one write, one wakeup) that is three
 * system calls a wakeup instead of six.
 */
enum follow_hint { FOLLOW_LOOK_ALL, FOLLOW_WRITTEN, FOLLOW_QUIET };
long follow_poll_as(struct follower *f, int64_t now_ms, enum follow_hint hint, follow_line_fn fn, void *arg);

/* The position after the last delivered line: save it to resume there. */
int follow_position(const struct follower *f, struct follow_pos *out);

/*
 * A rotated copy of the file named base, by its name in the same
 * directory: base.1, base-20261206, base_old (compressed ones, .gz and
 * the like, are not: they are not read).
 */
int follow_rotated_name(const char *name, const char *base);

/*
 * How every follower opens a log file (the file itself, its rotated
 * copies): read-only, close-on-exec; a descriptor, or -1 with errno set.
 * Default open(2); under privilege separation the privileged part opens
 * them (privsep/worker.h). NULL: back to the default.
 */
typedef int (*follow_open_fn)(const char *path);
void follow_set_opener(follow_open_fn fn);

struct follow_stats {
	uint64_t lines, bytes, rotations, truncations, too_long;
};
struct follow_stats follow_stats(const struct follower *f);

#endif
