/*
 * follow.c - following a log file across rotations (see follow.h).
 *
 * A follower holds the files that were at its path, oldest first: the
 * one being read, and those that replaced it since (each opened as soon as
 * it appears, so a quick series of rotations loses nothing). A rotated file
 * is still read for a grace period, since syslog daemons keep writing to
 * the old file until they are told to reopen; the newer files wait: lines
 * are delivered one file after the other, so one saved position is always
 * enough to resume without a duplicate or a gap. Each stream keeps the
 * bytes after its last newline until the line is complete; only complete
 * lines are delivered, so a saved position falls on a line boundary.
 * A file that took the path and was rotated away before we looked is
 * found next to the path by being unknown (scan_siblings).
 */
#include "follow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"

#define GRACE_MS 5000		/* read a rotated file at most this long ... */
#define QUIET_MS 1000		/* ... or until it has been quiet this long */
#define HEAD_MAX 256		/* bytes hashed to recognise a file */
#define CHUNK (1024 * 1024)	/* big reads: a log written at full speed */
#define LOOK_EVERY_MS 200	/* names looked at at least this often, whatever the caller knows */

struct stream {
	int fd;
	uint64_t dev, ino;
	uint64_t offset;	/* next byte to read */
	char *pend;		/* bytes after the last newline, not yet a line */
	size_t plen;
	int skipping;		/* inside a line longer than max_line */
	uint32_t head_len;	/* HEAD_MAX once the file's first bytes are known */
	uint64_t head_hash;
	int64_t superseded;	/* ms when a newer file took the path; -1: still current */
	int64_t seen;		/* ms when it was last seen growing (its size changed) */
	uint64_t size;		/* its size then */
	int read_failed;	/* the last read failed (said once) */
};

/*
 * Files waiting their turn after rotations in a row. A rotated file that
 * nobody writes to any more is done as soon as it is read, so the queue
 * holds about one second's worth of rotations; a file that appears while
 * it is full is not opened and its lines may be lost (warned about).
 */
#define MAXQ 64
#define KNOWN_MAX 1024	/* files remembered as known (more than logrotate keeps) */

struct follower {
	char *path;
	size_t max_line;
	/*
	 * Files in the order they were at the path: q[0] is being read, q[n-1]
	 * is the file at the path now. Each rotation opens the new file at
	 * once (its descriptor keeps it even if it is renamed again), so
	 * rotations in quick succession lose nothing.
	 */
	struct stream q[MAXQ];
	int n;
	int full_warned;	/* the queue-full warning was given (once per episode) */
	/*
	 * Every file known at the path's side: those next to it at the start
	 * and every one opened since (a ring). A file next to the path that is
	 * in neither this nor the queue was at the path between two looks and
	 * never opened: rotated twice before we looked (queue_missed).
	 */
	struct ident {
		uint64_t dev, ino;
	} known[KNOWN_MAX];
	int nknown, knext;
	char *dir, *base;	/* the path's directory and file name */
	struct timespec dir_mtime;	/* the directory's when last scanned: a change means new names */
	char *chunk;
	int64_t looked_ms;	/* when the names were last looked at (follow_poll_as) */
	struct follow_stats st;
};

static void
stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->superseded = -1;
}

static void
stream_close(struct stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->pend);
	stream_init(s);
}

static int
open_plain(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* How log files are opened: one way for the whole process (privsep: by the privileged part). */
static follow_open_fn opener = open_plain;

void
follow_set_opener(follow_open_fn fn)
{
	opener = fn != NULL ? fn : open_plain;
}

static int
stream_open(struct stream *s, const char *path, uint64_t offset)
{
	struct stat sb;
	int fd = opener(path);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	stream_close(s);
	s->fd = fd;
	s->dev = (uint64_t)sb.st_dev;
	s->ino = (uint64_t)sb.st_ino;
	s->size = (uint64_t)sb.st_size;
	s->offset = offset;
	return 0;
}

/*
 * Whether a file is still being written is told by its size, not by our
 * reading it: a rotated file read only now (after the ones before it) may
 * have been quiet for long, and must not wait a grace period of its own
 * (a backlog of rotations would then be read at one file per second).
 */
static void
note_growth(struct stream *s, int64_t now_ms)
{
	struct stat sb;

	if (fstat(s->fd, &sb) == 0 && (uint64_t)sb.st_size != s->size) {
		s->size = (uint64_t)sb.st_size;
		s->seen = now_ms;
	}
}

/*
 * The hash of a file's first len bytes into *h: 0, or -1 if they cannot be
 * read (an I/O error, or the file shrank). A failed read must never pass
 * for a hash: it would look like a replaced file and be read again whole.
 */
static int
head_hash(int fd, uint32_t len, uint64_t *h)
{
	unsigned char b[HEAD_MAX];
	ssize_t k;

	while ((k = pread(fd, b, len, 0)) < 0 && errno == EINTR)
		;
	if (k != (ssize_t)len)
		return -1;
	*h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < len; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull;
	return 0;
}

/* Hand each complete line of buf to fn; keep the tail as pending bytes. */
static long
deliver(struct follower *f, struct stream *s, const char *buf, size_t n, follow_line_fn fn, void *arg)
{
	long lines = 0;
	const char *p = buf, *end = buf + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (s->skipping) {
			if (nl)
				s->skipping = 0;
		} else if (s->plen + seg > f->max_line) {
			f->st.too_long++;
			s->plen = 0;
			s->skipping = nl == NULL;
		} else if (nl == NULL) {
			if (s->pend == NULL)
				s->pend = xmalloc(f->max_line + 1);
			memcpy(s->pend + s->plen, p, seg);
			s->plen += seg;
		} else {
			struct span line;

			if (s->plen > 0) {
				memcpy(s->pend + s->plen, p, seg);
				line = (struct span){ s->pend, s->plen + seg };
			} else
				line = (struct span){ p, seg };
			if (line.n > 0 && line.p[line.n - 1] == '\r')
				line.n--;
			s->plen = 0;
			fn(arg, line);
			lines++;
		}
		p = nl ? nl + 1 : end;
	}
	return lines;
}

/*
 * Read a stream to its current end, or up to `end` when its size is known
 * (UINT64_MAX: not known): then no read is spent learning there is no more.
 */
static long
drain_to(struct follower *f, struct stream *s, uint64_t end, follow_line_fn fn, void *arg)
{
	long lines = 0;

	while (s->fd >= 0 && s->offset < end) {
		uint64_t want = end - s->offset < CHUNK ? end - s->offset : CHUNK;
		ssize_t k = pread(s->fd, f->chunk, (size_t)want, (off_t)s->offset);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k < 0 && !s->read_failed)	/* said once, not every tick; the read is tried again */
				log_warn("%s: read", f->path);
			s->read_failed = k < 0;
			break;
		}
		s->read_failed = 0;
		s->offset += (uint64_t)k;
		f->st.bytes += (uint64_t)k;
		lines += deliver(f, s, f->chunk, (size_t)k, fn, arg);
	}
	f->st.lines += (uint64_t)lines;
	return lines;
}

static long
drain(struct follower *f, struct stream *s, follow_line_fn fn, void *arg)
{
	return drain_to(f, s, UINT64_MAX, fn, arg);
}

/* A rotated copy of path by its name: path.1, path-20261206 (compressed ones are not read). */
int
follow_rotated_name(const char *name, const char *base)
{
	size_t blen = strlen(base);
	static const char *const packed[] = { ".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z" };
	size_t n = strlen(name);

	if (n <= blen + 1 || strncmp(name, base, blen) != 0 || !strchr(".-_", name[blen]))
		return 0;
	for (size_t i = 0; i < sizeof(packed) / sizeof(packed[0]); i++) {
		size_t k = strlen(packed[i]);

		if (n > k && strcmp(name + n - k, packed[i]) == 0)
			return 0;
	}
	return 1;
}

/* After a restart: find the file with this inode next to path (mail.log.1). */
static int
find_rotated(const char *path, uint64_t dev, uint64_t ino, char *out, size_t outlen)
{
	char *d1 = xstrdup(path), *d2 = xstrdup(path);
	const char *dir = dirname(d1), *base = basename(d2);
	DIR *dp = opendir(dir);
	struct dirent *de;
	int found = 0;

	while (dp != NULL && !found && (de = readdir(dp)) != NULL) {
		struct stat sb;

		if (!follow_rotated_name(de->d_name, base))
			continue;
		snprintf(out, outlen, "%s/%s", dir, de->d_name);
		if (stat(out, &sb) == 0 && (uint64_t)sb.st_dev == dev && (uint64_t)sb.st_ino == ino)
			found = 1;
	}
	if (dp != NULL)
		closedir(dp);
	free(d1);
	free(d2);
	return found;
}

static void
remember(struct follower *f, uint64_t dev, uint64_t ino)
{
	f->known[f->knext] = (struct ident){ dev, ino };
	f->knext = (f->knext + 1) % KNOWN_MAX;
	if (f->nknown < KNOWN_MAX)
		f->nknown++;
}

static int
is_known(const struct follower *f, uint64_t dev, uint64_t ino)
{
	for (int i = 0; i < f->n; i++)
		if (f->q[i].dev == dev && f->q[i].ino == ino)
			return 1;
	for (int i = 0; i < f->nknown; i++)
		if (f->known[i].dev == dev && f->known[i].ino == ino)
			return 1;
	return 0;
}

struct missed {
	char name[NAME_MAX + 1];
	struct timespec mtime;
};

static int
older_first(const void *a, const void *b)
{
	const struct missed *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(y->name, x->name);	/* (path.2 before path.1) */
}

/*
 * Call with each side of the path: remember (at the start) or queue (at a
 * rotation) the rotated files next to it. Queued are those never known:
 * a file that took the path and was rotated away again before we looked
 * (two rotations between two looks, as a loaded machine sees them). They
 * are older than the file now at the path, so they go before it, oldest
 * (by last write) first.
 */
static int
scan_siblings(struct follower *f, int queue, const struct timespec *after, int64_t now_ms)
{
	char full[PATH_MAX];
	const char *dir = f->dir, *base = f->base;
	DIR *dp;
	struct dirent *de;
	struct missed m[MAXQ];
	int nm = 0, added = 0;
	struct stat ds;

	if (stat(dir, &ds) == 0)
		f->dir_mtime = ds.st_mtim;	/* (before reading it: a change while we read is seen next time) */
	dp = opendir(dir);

	while (dp != NULL && (de = readdir(dp)) != NULL) {
		struct stat sb;

		if (!follow_rotated_name(de->d_name, base) ||
		    snprintf(full, sizeof(full), "%s/%s", dir, de->d_name) >= (int)sizeof(full) ||
		    stat(full, &sb) != 0 || !S_ISREG(sb.st_mode) || is_known(f, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino))
			continue;
		if (!queue)
			remember(f, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino);
		else if (after != NULL && (sb.st_mtim.tv_sec < after->tv_sec ||
		    (sb.st_mtim.tv_sec == after->tv_sec && sb.st_mtim.tv_nsec <= after->tv_nsec)))
			continue;	/* last written before the file we know: older than it */
		else if (nm < MAXQ - 1 - f->n) {
			snprintf(m[nm].name, sizeof(m[nm].name), "%s", de->d_name);
			m[nm++].mtime = sb.st_mtim;
		}
	}
	if (dp != NULL)
		closedir(dp);
	qsort(m, (size_t)nm, sizeof(m[0]), older_first);
	for (int i = 0; i < nm; i++) {
		struct stream s;

		stream_init(&s);
		if (snprintf(full, sizeof(full), "%s/%s", dir, m[i].name) >= (int)sizeof(full) ||
		    stream_open(&s, full, 0) != 0)
			continue;
		if (is_known(f, s.dev, s.ino)) {	/* (renamed onto by another rotation meanwhile) */
			stream_close(&s);
			continue;
		}
		remember(f, s.dev, s.ino);
		s.superseded = now_ms;
		s.seen = now_ms;
		f->q[f->n++] = s;
		f->st.rotations++;
		added++;
	}
	if (added > 0)
		log_info("%s: rotated again before it was looked at; reading %d file(s) in between", f->path, added);
	return added;
}

static int
same_head(int fd, const struct follow_pos *p)
{
	uint64_t h;

	return p->head_len == 0 || (head_hash(fd, p->head_len, &h) == 0 && h == p->head_hash);
}

struct follower *
follow_new(const char *path, const struct follow_pos *saved, enum follow_start start, size_t max_line)
{
	struct follower *f = xcalloc(1, sizeof(*f));
	struct stream cur, old;
	struct stat sb;
	char rotated[PATH_MAX];

	f->path = xstrdup(path);
	{
		char *d = xstrdup(path), *b = xstrdup(path);

		f->dir = xstrdup(dirname(d));
		f->base = xstrdup(basename(b));
		free(d);
		free(b);
	}
	f->max_line = max_line;
	f->chunk = xmalloc(CHUNK);
	stream_init(&cur);
	stream_init(&old);
	if (stream_open(&cur, path, 0) < 0) {
		if (errno == ENOENT)	/* (said, not silent: a mistyped path would otherwise read nothing forever) */
			log_warnx("%s does not exist (yet): it is read from its first line when it appears", path);
		else
			log_warn("%s cannot be opened", path);
	}
	if (saved != NULL) {
		if (cur.fd >= 0 && cur.dev == saved->dev && cur.ino == saved->ino && fstat(cur.fd, &sb) == 0 &&
		    (uint64_t)sb.st_size >= saved->offset && same_head(cur.fd, saved)) {
			cur.offset = saved->offset;	/* the same file: resume exactly */
		} else if (find_rotated(path, saved->dev, saved->ino, rotated, sizeof(rotated)) &&
		    stream_open(&old, rotated, saved->offset) == 0 && fstat(old.fd, &sb) == 0 &&
		    (uint64_t)sb.st_size >= saved->offset && same_head(old.fd, saved)) {
			/*
			 * Rotated while we were down: finish the old file first, then
			 * any that took the path after it (rotated more than once:
			 * those last written after it, oldest first), then all of the
			 * new one.
			 */
			struct timespec old_mtime = sb.st_mtim;

			f->st.rotations++;
			old.superseded = 0;
			f->q[f->n++] = old;
			log_info("%s: rotated while stopped; reading the rest of %s first", path, rotated);
			remember(f, old.dev, old.ino);
			if (cur.fd >= 0)
				remember(f, cur.dev, cur.ino);
			scan_siblings(f, 1, &old_mtime, 0);
		} else {
			stream_close(&old);
			log_info("%s: the file saved last time is gone or changed; reading from the start", path);
		}
	} else if (cur.fd >= 0 && start == FOLLOW_FROM_END && fstat(cur.fd, &sb) == 0)
		cur.offset = (uint64_t)sb.st_size;
	if (cur.fd >= 0)
		f->q[f->n++] = cur;
	for (int i = 0; i < f->n; i++)
		remember(f, f->q[i].dev, f->q[i].ino);
	scan_siblings(f, 0, NULL, 0);	/* the rotated files there now are known: never read as missed ones */
	return f;
}

void
follow_free(struct follower *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < f->n; i++)
		stream_close(&f->q[i]);
	free(f->chunk);
	free(f->path);
	free(f->dir);
	free(f->base);
	free(f);
}

const char *
follow_path(const struct follower *f)
{
	return f->path;
}

const char *
follow_name(const struct follower *f)
{
	return f->base;
}

/* Whether the path's directory changed (a name added, renamed or removed) since it was last scanned. */
static int
dir_changed(const struct follower *f)
{
	struct stat ds;

	return stat(f->dir, &ds) == 0 && (ds.st_mtim.tv_sec != f->dir_mtime.tv_sec ||
	    ds.st_mtim.tv_nsec != f->dir_mtime.tv_nsec);
}

/*
 * The newest file: first whether it was replaced in place — truncated
 * (copytruncate), maybe refilled past our offset before we looked: a
 * smaller size, or first bytes that changed — and if so from its start;
 * then read up to the size fstat gave (no read is spent learning that
 * there is no more; after a truncation, to the end: the size is older).
 * (Checked calls only: an fstat or read that fails says nothing about the
 * file.)
 */
static long
read_newest(struct follower *f, struct stream *c, follow_line_fn fn, void *arg)
{
	struct stat sb;
	long lines = 0;
	uint64_t h;
	int known = fstat(c->fd, &sb) == 0;

	/* (before reading: what is at our offset in a refilled file is the middle of some other line) */
	if ((known && (uint64_t)sb.st_size < c->offset) ||
	    (c->head_len == HEAD_MAX && head_hash(c->fd, HEAD_MAX, &h) == 0 && h != c->head_hash)) {
		f->st.truncations++;
		c->offset = 0;
		c->plen = 0;
		c->skipping = 0;
		c->head_len = 0;
	}
	lines += drain_to(f, c, known && S_ISREG(sb.st_mode) && c->offset > 0 ? (uint64_t)sb.st_size : UINT64_MAX,
	    fn, arg);
	if (c->head_len < HEAD_MAX && c->offset >= HEAD_MAX && head_hash(c->fd, HEAD_MAX, &c->head_hash) == 0)
		c->head_len = HEAD_MAX;
	return lines;
}

long
follow_poll(struct follower *f, int64_t now_ms, follow_line_fn fn, void *arg)
{
	return follow_poll_as(f, now_ms, FOLLOW_LOOK_ALL, fn, arg);
}

long
follow_poll_as(struct follower *f, int64_t now_ms, enum follow_hint hint, follow_line_fn fn, void *arg)
{
	long lines = 0;
	struct stat sb;
	/*
	 * The names next to the path are looked at when the caller does not
	 * know they stayed, while a rotation is being read, and at least every
	 * LOOK_EVERY_MS whatever the caller says (a watch can overflow, a
	 * symbolic link point elsewhere).
	 */
	int look = hint == FOLLOW_LOOK_ALL || f->n != 1 || now_ms - f->looked_ms >= LOOK_EVERY_MS;

	if (!look && hint == FOLLOW_QUIET)
		return 0;
	if (!look)
		goto read;
	f->looked_ms = now_ms;
	/* A new file at the path (rotation, or the first one): open it now, read it in turn. */
	if (stat(f->path, &sb) == 0 && (f->n == 0 || (uint64_t)sb.st_dev != f->q[f->n - 1].dev ||
	    (uint64_t)sb.st_ino != f->q[f->n - 1].ino)) {
		/* (files that were at the path in between are queued first: scan_siblings) */
		struct stream s;

		stream_init(&s);
		if (f->n == MAXQ) {
			if (!f->full_warned)
				log_warnx("%s: %d rotations in a row not yet read; waiting", f->path, MAXQ);
			f->full_warned = 1;
		} else if (stream_open(&s, f->path, 0) == 0) {
			f->full_warned = 0;
			if (f->n > 0) {
				f->q[f->n - 1].superseded = now_ms;
				f->st.rotations++;
			}
			remember(f, s.dev, s.ino);
			if (f->n > 0)
				scan_siblings(f, 1, NULL, now_ms);
			s.seen = now_ms;
			f->q[f->n++] = s;
		}
	} else if (f->n > 0 && dir_changed(f)) {
		/*
		 * New names next to the path while its file stayed: copies
		 * (copytruncate's, an administrator's), never a file that was at
		 * the path. Known from now on, so a rotation later does not take
		 * one for a missed file and read it again.
		 */
		scan_siblings(f, 0, NULL, now_ms);
	}
	for (int i = 0; i < f->n - 1; i++)
		note_growth(&f->q[i], now_ms);	/* (the newest file is not superseded: no grace to measure) */
read:
	while (f->n > 0) {
		struct stream *h = &f->q[0];
		int64_t quiet_since;

		if (f->n == 1) {
			lines += read_newest(f, h, fn, arg);
			break;
		}
		lines += drain(f, h, fn, arg);
		/*
		 * Superseded: syslog may still be writing to it until it reopens.
		 * Move on once it has been quiet for a while (or after the cap).
		 */
		quiet_since = h->seen > h->superseded ? h->seen : h->superseded;
		if (now_ms - quiet_since < QUIET_MS && now_ms - h->superseded < GRACE_MS)
			break;	/* the newer files wait: one position is always enough */
		if (h->plen > 0) {
			/* Its last line never got its newline: it is complete now. */
			fn(arg, (struct span){ h->pend, h->plen });
			f->st.lines++;
			lines++;
		}
		stream_close(h);
		memmove(&f->q[0], &f->q[1], (size_t)(f->n - 1) * sizeof(f->q[0]));
		f->n--;
	}
	return lines;
}

int
follow_position(const struct follower *f, struct follow_pos *out)
{
	struct stat sb;
	const struct stream *s = &f->q[0];

	memset(out, 0, sizeof(*out));
	/*
	 * The file being read is the one to save: after a restart it is found
	 * (by inode, among the rotated files if need be) and finished first.
	 */
	if (f->n == 0 || s->fd < 0)
		return 0;
	out->dev = s->dev;
	out->ino = s->ino;
	out->offset = s->offset - s->plen;
	if (fstat(s->fd, &sb) == 0) {
		out->head_len = (uint32_t)((uint64_t)sb.st_size < HEAD_MAX ? (uint64_t)sb.st_size : HEAD_MAX);
		if (out->head_len > out->offset)
			out->head_len = (uint32_t)out->offset;
		if (head_hash(s->fd, out->head_len, &out->head_hash) < 0)
			out->head_len = 0;	/* unknown: not checked at the next start, rather than a wrong hash */
	}
	return 1;
}

struct follow_stats
follow_stats(const struct follower *f)
{
	return f->st;
}
