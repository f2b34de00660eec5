/*
 * outbuf.h - a write buffer in front of a file descriptor.
 *
 * stdio's per-call locking and format parsing cost more than the parser
 * itself at millions of lines per second, so output is assembled here and
 * written in large blocks. A write error is remembered and reported by
 * ob_flush()/ob_error(); later writes are dropped.
 */
#ifndef MXG_OUTBUF_H
#define MXG_OUTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct outbuf {
	char *p;
	size_t len, cap;
	int fd;			/* -1: memory only (tests), grows without flushing */
	int err;		/* errno of the first failed write, 0 if none */
};

void ob_init(struct outbuf *ob, int fd, size_t cap);
void ob_free(struct outbuf *ob);
/* Write everything out. Returns 0, or -1 after a write error (errno in ob->err). */
int ob_flush(struct outbuf *ob);
/* Make room for n more bytes (flushes, or grows for one huge item). */
void ob_need(struct outbuf *ob, size_t n);

static inline void
ob_put(struct outbuf *ob, const void *s, size_t n)
{
	if (ob->cap - ob->len < n)
		ob_need(ob, n);
	memcpy(ob->p + ob->len, s, n);
	ob->len += n;
}

static inline void
ob_putc(struct outbuf *ob, char c)
{
	if (ob->cap == ob->len)
		ob_need(ob, 1);
	ob->p[ob->len++] = c;
}

#define OB_LIT(ob, s) ob_put((ob), (s), sizeof(s) - 1)

void ob_put_u64(struct outbuf *ob, uint64_t v);
void ob_put_i64(struct outbuf *ob, int64_t v);
/* A JSON string literal with quotes; any bytes in, valid UTF-8 JSON out. */
void ob_put_json_str(struct outbuf *ob, const char *s, size_t n);
/* s as one quoted CSV field, safe to open in a spreadsheet (see outbuf.c). */
void ob_put_csv_str(struct outbuf *ob, const char *s, size_t n);

#endif
