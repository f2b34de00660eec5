/*
 * linereader.c - buffered line reading with transparent gzip.
 *
 * One buffer, refilled with read(2) (or inflate) and scanned with memchr;
 * lines are handed out as spans into it. gzip is recognised from the first
 * two bytes rather than the file name, so rotated "maillog.1.gz", a renamed
 * file, or a pipe all work; concatenated gzip members are read in turn.
 */
#include "linereader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/log.h"
#include "../common/xalloc.h"

/*
 * 256 KiB a read: a buffer that stays in the processor's cache beside the
 * rules' tables. With 1 MiB, each read's copy pushed them out: parse is
 * 4-7 % and replay 1-6 % faster with this (bench/RESULTS.md, 2026-12-08).
 */
#define BUFSZ (256 * 1024)
#define ZINSZ (256 * 1024)
/* detect() reads up to ZINSZ bytes into the buffer before it knows whether they are gzip's */
_Static_assert(BUFSZ >= ZINSZ, "the line buffer holds the first read of a gzip input");

struct linereader {
	int fd;
	char *name;
	size_t max_line;
	char *buf;		/* decoded bytes: [pos, len) not yet returned */
	size_t cap, pos, len;
	int eof, skipping;
	int detected;		/* first bytes examined for gzip magic */
	int gz;			/* input is gzip */
	int gz_cut;		/* input ended inside a gzip member */
	z_stream zs;
	unsigned char *zin;
	time_t mtime;
	uint64_t lineno;		/* physical line number of the last line seen */
	struct lr_stats st;
};

struct linereader *
lr_open(const char *path, size_t max_line)
{
	struct linereader *r;
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->name = xstrdup(path);
	r->max_line = max_line ? max_line : LR_MAX_LINE_DEFAULT;
	r->cap = r->max_line + 1 > BUFSZ / 2 ? 2 * (r->max_line + 1) : BUFSZ;
	r->buf = xmalloc(r->cap);
	r->mtime = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_mtime : time(NULL);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return r;
}

void
lr_close(struct linereader *r)
{
	if (r == NULL)
		return;
	if (r->gz)
		inflateEnd(&r->zs);
	close(r->fd);
	free(r->zin);
	free(r->buf);
	free(r->name);
	free(r);
}

static ssize_t
read_some(int fd, void *p, size_t n)
{
	ssize_t k;

	do
		k = read(fd, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

/* Decode more input into buf[len..cap). Returns bytes added, 0 at end, -1 on error. */
static ssize_t
fill(struct linereader *r)
{
	if (!r->gz) {
		ssize_t k = read_some(r->fd, r->buf + r->len, r->cap - r->len);

		if (k < 0)
			log_warn("%s: read", r->name);
		return k;
	}
	r->zs.next_out = (unsigned char *)r->buf + r->len;
	r->zs.avail_out = (uInt)(r->cap - r->len);
	while (r->zs.avail_out > 0) {
		int zr;

		if (r->zs.avail_in == 0) {
			ssize_t k = read_some(r->fd, r->zin, ZINSZ);

			if (k < 0) {
				log_warn("%s: read", r->name);
				return -1;
			}
			if (k == 0) {
				r->gz_cut = r->zs.total_in > 0;
				break;
			}
			r->zs.next_in = r->zin;
			r->zs.avail_in = (uInt)k;
		}
		zr = inflate(&r->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Another gzip member may follow (cat a.gz b.gz). */
			if (inflateReset(&r->zs) != Z_OK)
				return -1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			log_warnx("%s: gzip data error: %s", r->name, r->zs.msg ? r->zs.msg : "corrupt");
			return -1;
		} else if (zr == Z_BUF_ERROR && r->zs.avail_in > 0)
			break;
	}
	if (r->zs.avail_out == r->cap - r->len && r->gz_cut) {
		log_warnx("%s: gzip data truncated (input ends inside a compressed member)", r->name);
		return -1;
	}
	return (ssize_t)(r->cap - r->len - r->zs.avail_out);
}

/* Look at the first bytes once: switch to inflate if they are gzip's magic. */
static int
detect(struct linereader *r)
{
	ssize_t k;

	/* Read no more than the gzip input buffer holds: these bytes may have to move there. */
	while (r->len < 2) {
		k = read_some(r->fd, r->buf + r->len, ZINSZ - r->len);
		if (k < 0) {
			log_warn("%s: read", r->name);
			return -1;
		}
		if (k == 0)
			break;
		r->len += (size_t)k;
	}
	if (r->len >= 2 && (unsigned char)r->buf[0] == 0x1f && (unsigned char)r->buf[1] == 0x8b) {
		r->gz = 1;
		r->zin = xmalloc(ZINSZ);
		memcpy(r->zin, r->buf, r->len);
		memset(&r->zs, 0, sizeof(r->zs));
		if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
			log_warnx("%s: inflateInit failed", r->name);
			return -1;
		}
		r->zs.next_in = r->zin;
		r->zs.avail_in = (uInt)r->len;
		r->len = 0;
	}
	return 0;
}

int
lr_next(struct linereader *r, struct span *line)
{
	if (!r->detected) {
		r->detected = 1;
		if (detect(r) < 0)
			return -1;
		if (!r->gz)
			r->st.bytes += r->len;
	}
	for (;;) {
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->len - r->pos);
		ssize_t k;

		if (nl != NULL) {
			size_t n = (size_t)(nl - start);

			r->pos += n + 1;
			r->lineno++;
			if (r->skipping) {
				r->skipping = 0;
				continue;
			}
			if (n > 0 && start[n - 1] == '\r')
				n--;
			if (n > r->max_line) {
				r->st.too_long++;
				continue;
			}
			*line = (struct span){ start, n };
			r->st.lines++;
			return 1;
		}
		if (r->eof) {
			size_t n = r->len - r->pos;

			if (r->skipping || n == 0) {
				r->lineno += r->skipping;
				r->skipping = 0;
				r->pos = r->len;
				return 0;
			}
			r->pos = r->len;
			r->lineno++;
			if (n > r->max_line) {
				r->st.too_long++;
				return 0;
			}
			r->st.truncated++;
			r->st.lines++;
			*line = (struct span){ start, n };
			return 1;
		}
		if (r->len - r->pos > r->max_line + 1) {	/* +1: a CR before the LF */
			/* No newline within max_line: drop what we have, skip to the next one. */
			if (!r->skipping)
				r->st.too_long++;
			r->skipping = 1;
			r->pos = r->len = 0;
		} else if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			r->pos = 0;
		}
		k = fill(r);
		if (k < 0)
			return -1;
		if (k == 0)
			r->eof = 1;
		r->len += (size_t)k;
		r->st.bytes += (uint64_t)k;
	}
}

uint64_t
lr_lineno(const struct linereader *r)
{
	return r->lineno;
}

const struct lr_stats *
lr_stats(const struct linereader *r)
{
	return &r->st;
}

int
lr_is_gzip(const struct linereader *r)
{
	return r->gz;
}

time_t
lr_mtime(const struct linereader *r)
{
	return r->mtime;
}
