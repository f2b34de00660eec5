/*
 * test_linereader.c - plain and gzip files written to /tmp and read back:
 * line splitting, CRLF, truncated last lines, overlong lines (also past the
 * internal buffer), NUL bytes, gzip members, corrupt input, bulk content.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "../../tail/linereader.h"

/* ------------------------------------------------------------------ */
/* Temp files */

/* Paths not yet dropped: a failed test leaves them to the teardown. */
#define MAXTMP 16
static char *live_tmp[MAXTMP];

static char *
tmp_path(void)
{
	char tmpl[] = "/tmp/mxg_lr_XXXXXX";
	int fd = mkstemp(tmpl);
	char *p;

	assert_true(fd >= 0);
	close(fd);
	p = strdup(tmpl);
	assert_non_null(p);
	for (int i = 0; i < MAXTMP; i++)
		if (live_tmp[i] == NULL) {
			live_tmp[i] = p;
			return p;
		}
	unlink(p);
	fail_msg("too many temp files");
	return NULL;
}

static int
remove_tmp(void **state)
{
	(void)state;
	for (int i = 0; i < MAXTMP; i++)
		if (live_tmp[i] != NULL) {
			unlink(live_tmp[i]);
			free(live_tmp[i]);
			live_tmp[i] = NULL;
		}
	return 0;
}

static char *
write_plain(const void *data, size_t n)
{
	char *path = tmp_path();
	int fd = open(path, O_WRONLY | O_TRUNC);
	const char *p = data;

	assert_true(fd >= 0);
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		assert_true(k > 0);
		p += k;
		n -= (size_t)k;
	}
	close(fd);
	return path;
}

/* Append one gzip member holding data[0..n) ("ab" starts a new member). */
static void
gz_append(const char *path, const char *mode, const void *data, size_t n)
{
	gzFile gz = gzopen(path, mode);
	const char *p = data;

	assert_non_null(gz);
	while (n > 0) {
		unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
		int k = gzwrite(gz, p, chunk);

		assert_true(k > 0);
		p += k;
		n -= (size_t)k;
	}
	assert_int_equal(gzclose(gz), Z_OK);
}

static char *
write_gz(const void *data, size_t n)
{
	char *path = tmp_path();

	gz_append(path, "wb", data, n);
	return path;
}

static size_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (size_t)sb.st_size;
}

static void
drop(char *path)
{
	for (int i = 0; i < MAXTMP; i++)
		if (live_tmp[i] == path)
			live_tmp[i] = NULL;
	unlink(path);
	free(path);
}

/* ------------------------------------------------------------------ */
/* Reading */

struct lines {
	size_t n;
	char **p;
	size_t *len;
	uint64_t *lineno;	/* lr_lineno() after each line */
	int rc;			/* last lr_next result: 0 or -1 */
	struct lr_stats st;
	int gz;
};

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->p[i]);
	free(l->p);
	free(l->len);
	free(l->lineno);
	memset(l, 0, sizeof(*l));
}

static void
read_all(const char *path, size_t max_line, struct lines *l)
{
	struct linereader *r = lr_open(path, max_line);
	struct span s;
	size_t cap = 0;
	int rc;

	assert_non_null(r);
	memset(l, 0, sizeof(*l));
	for (unsigned guard = 0; (rc = lr_next(r, &s)) == 1; guard++) {
		assert_true(guard < 10000000);
		if (l->n == cap) {
			cap = cap ? 2 * cap : 64;
			l->p = realloc(l->p, cap * sizeof(*l->p));
			l->len = realloc(l->len, cap * sizeof(*l->len));
			l->lineno = realloc(l->lineno, cap * sizeof(*l->lineno));
			assert_non_null(l->p);
			assert_non_null(l->len);
			assert_non_null(l->lineno);
		}
		l->p[l->n] = malloc(s.n ? s.n : 1);
		assert_non_null(l->p[l->n]);
		memcpy(l->p[l->n], s.p, s.n);
		l->len[l->n] = s.n;
		l->lineno[l->n] = lr_lineno(r);
		l->n++;
	}
	l->rc = rc;
	if (rc == 0)	/* end of input stays the end */
		assert_int_equal(lr_next(r, &s), 0);
	l->st = *lr_stats(r);
	l->gz = lr_is_gzip(r);
	lr_close(r);
}

static void
assert_line(const struct lines *l, size_t i, const char *want, size_t wlen)
{
	if (i >= l->n)
		fail_msg("line %zu missing (got %zu lines)", i, l->n);
	if (l->len[i] != wlen || memcmp(l->p[i], want, wlen) != 0)
		fail_msg("line %zu: got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", i, l->len[i],
		    (int)(l->len[i] > 60 ? 60 : l->len[i]), l->p[i], wlen, (int)(wlen > 60 ? 60 : wlen), want);
}

#define LINE(l, i, s) assert_line((l), (i), (s), sizeof(s) - 1)

/* ------------------------------------------------------------------ */

static const char basic[] = "Mar  4 09:07:13 mx1 postfix/smtpd[1]: one\ntwo\n\nfour with  spaces\n";

static void
check_basic(const struct lines *l)
{
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->n, 4);
	LINE(l, 0, "Mar  4 09:07:13 mx1 postfix/smtpd[1]: one");
	LINE(l, 1, "two");
	LINE(l, 2, "");
	LINE(l, 3, "four with  spaces");
	assert_int_equal(l->st.lines, 4);
	assert_int_equal(l->st.bytes, sizeof(basic) - 1);
	assert_int_equal(l->st.truncated, 0);
	assert_int_equal(l->st.too_long, 0);
}

static void
test_plain_lines(void **state)
{
	char *path = write_plain(basic, sizeof(basic) - 1);
	struct lines l;

	(void)state;
	read_all(path, 0, &l);
	check_basic(&l);
	assert_int_equal(l.gz, 0);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(l.lineno[i], i + 1);
	lines_free(&l);
	drop(path);
}

static void
test_crlf(void **state)
{
	static const char data[] = "a\r\nbb\r\n\r\nc\rd\r\nplain\n";
	char *path = write_plain(data, sizeof(data) - 1);
	struct lines l;

	(void)state;
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 5);
	LINE(&l, 0, "a");
	LINE(&l, 1, "bb");
	LINE(&l, 2, "");
	LINE(&l, 3, "c\rd");		/* only the '\r' before '\n' goes */
	LINE(&l, 4, "plain");
	assert_int_equal(l.st.bytes, sizeof(data) - 1);
	lines_free(&l);
	drop(path);
}

static void
test_empty_file(void **state)
{
	char *path = write_plain("", 0);
	struct lines l;

	(void)state;
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.st.lines, 0);
	assert_int_equal(l.st.bytes, 0);
	assert_int_equal(l.st.truncated, 0);
	assert_int_equal(l.st.too_long, 0);
	assert_int_equal(l.gz, 0);
	lines_free(&l);
	drop(path);

	/* a single newline is one empty line */
	path = write_plain("\n", 1);
	read_all(path, 0, &l);
	assert_int_equal(l.n, 1);
	LINE(&l, 0, "");
	assert_int_equal(l.st.truncated, 0);
	lines_free(&l);
	drop(path);
}

static void
test_last_line_without_newline(void **state)
{
	struct lines l;
	char *path;

	(void)state;
	path = write_plain("first\nlast", 10);
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 2);
	LINE(&l, 0, "first");
	LINE(&l, 1, "last");
	assert_int_equal(l.st.truncated, 1);
	assert_int_equal(l.st.lines, 2);
	lines_free(&l);
	drop(path);

	/* one byte, no newline (shorter than the gzip magic) */
	path = write_plain("x", 1);
	read_all(path, 0, &l);
	assert_int_equal(l.n, 1);
	LINE(&l, 0, "x");
	assert_int_equal(l.st.truncated, 1);
	lines_free(&l);
	drop(path);

	/* a lone 0x1f: half a gzip magic, still plain text */
	path = write_plain("\x1f", 1);
	read_all(path, 0, &l);
	assert_int_equal(l.n, 1);
	LINE(&l, 0, "\x1f");
	assert_int_equal(l.gz, 0);
	lines_free(&l);
	drop(path);
}

static void
test_nul_bytes(void **state)
{
	static const char data[] = "a\0b\n\0\0\nc\0";
	char *path = write_plain(data, sizeof(data) - 1);
	struct lines l;

	(void)state;
	read_all(path, 0, &l);
	assert_int_equal(l.n, 3);
	LINE(&l, 0, "a\0b");
	LINE(&l, 1, "\0\0");
	LINE(&l, 2, "c\0");
	assert_int_equal(l.st.truncated, 1);
	lines_free(&l);
	drop(path);
}

static void
test_too_long_small(void **state)
{
	char data[512];
	size_t n = 0;
	struct lines l;
	char *path;

	(void)state;
	memcpy(data + n, "a\n", 2); n += 2;
	memset(data + n, 'b', 101); n += 101; data[n++] = '\n';
	memset(data + n, 'c', 100); n += 100; data[n++] = '\n';	/* exactly max_line: kept */
	memcpy(data + n, "d\n", 2); n += 2;
	memset(data + n, 'e', 150); n += 150; data[n++] = '\n';
	memcpy(data + n, "f", 1); n += 1;
	path = write_plain(data, n);
	read_all(path, 100, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 4);
	LINE(&l, 0, "a");
	char c100[100];
	memset(c100, 'c', 100);
	assert_line(&l, 1, c100, 100);
	LINE(&l, 2, "d");
	LINE(&l, 3, "f");
	/* line numbers count the skipped lines */
	assert_int_equal(l.lineno[0], 1);
	assert_int_equal(l.lineno[1], 3);
	assert_int_equal(l.lineno[2], 4);
	assert_int_equal(l.lineno[3], 6);
	assert_int_equal(l.st.too_long, 2);
	assert_int_equal(l.st.lines, 4);
	assert_int_equal(l.st.truncated, 1);
	assert_int_equal(l.st.bytes, n);
	lines_free(&l);
	drop(path);
}

/* The default maximum is LR_MAX_LINE_DEFAULT (max_line 0). */
static void
test_default_max_line(void **state)
{
	size_t n = 2 * LR_MAX_LINE_DEFAULT + 16;
	char *data = malloc(n);
	struct lines l;
	char *path;

	(void)state;
	assert_non_null(data);
	memset(data, 'k', LR_MAX_LINE_DEFAULT);
	data[LR_MAX_LINE_DEFAULT] = '\n';
	memset(data + LR_MAX_LINE_DEFAULT + 1, 'm', LR_MAX_LINE_DEFAULT + 1);
	data[2 * LR_MAX_LINE_DEFAULT + 2] = '\n';
	memcpy(data + 2 * LR_MAX_LINE_DEFAULT + 3, "end\n", 4);
	n = 2 * LR_MAX_LINE_DEFAULT + 7;
	path = write_plain(data, n);
	read_all(path, 0, &l);
	assert_int_equal(l.n, 2);
	assert_line(&l, 0, data, LR_MAX_LINE_DEFAULT);
	LINE(&l, 1, "end");
	assert_int_equal(l.st.too_long, 1);
	lines_free(&l);
	drop(path);
	free(data);
}

/* Lines far longer than the 1 MiB internal buffer, with max_line 64 KiB. */
static void
test_too_long_huge(void **state)
{
	const size_t big = 3u << 20;
	char *data = malloc(2 * big + 1024);
	size_t n;
	struct lines l;
	char *path;

	(void)state;
	assert_non_null(data);

	/* before / 3 MiB / after */
	n = 0;
	memcpy(data + n, "before\n", 7); n += 7;
	memset(data + n, 'x', big); n += big; data[n++] = '\n';
	memcpy(data + n, "after\n", 6); n += 6;
	path = write_plain(data, n);
	read_all(path, 64 * 1024, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 2);
	LINE(&l, 0, "before");
	LINE(&l, 1, "after");
	assert_int_equal(l.lineno[0], 1);
	assert_int_equal(l.lineno[1], 3);
	assert_int_equal(l.st.too_long, 1);
	assert_int_equal(l.st.truncated, 0);
	assert_int_equal(l.st.bytes, n);
	lines_free(&l);
	drop(path);

	/* the huge line first, two in a row, one ending in "\r" */
	n = 0;
	memset(data + n, 'y', big); n += big; data[n++] = '\n';
	memcpy(data + n, "mid\r\n", 5); n += 5;
	memset(data + n, 'z', 1u << 20); n += 1u << 20; data[n++] = '\r'; data[n++] = '\n';
	memset(data + n, 'w', 70000); n += 70000; data[n++] = '\n';
	memcpy(data + n, "tail\n", 5); n += 5;
	path = write_plain(data, n);
	read_all(path, 64 * 1024, &l);
	assert_int_equal(l.n, 2);
	LINE(&l, 0, "mid");
	LINE(&l, 1, "tail");
	assert_int_equal(l.lineno[0], 2);
	assert_int_equal(l.lineno[1], 5);
	assert_int_equal(l.st.too_long, 3);
	lines_free(&l);
	drop(path);

	/* a huge last line without newline: skipped, not returned as truncated */
	n = 0;
	memcpy(data + n, "head\n", 5); n += 5;
	memset(data + n, 'v', big); n += big;
	path = write_plain(data, n);
	read_all(path, 64 * 1024, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 1);
	LINE(&l, 0, "head");
	assert_int_equal(l.st.too_long, 1);
	assert_int_equal(l.st.truncated, 0);
	lines_free(&l);
	drop(path);

	/* lines ending exactly around the buffer size */
	for (size_t len = (1u << 20) - 3; len <= (1u << 20) + 3; len++) {
		n = 0;
		memset(data + n, 'a', len); n += len; data[n++] = '\n';
		memcpy(data + n, "ok\n", 3); n += 3;
		path = write_plain(data, n);
		read_all(path, 64 * 1024, &l);
		assert_int_equal(l.n, 1);
		LINE(&l, 0, "ok");
		assert_int_equal(l.st.too_long, 1);
		lines_free(&l);
		drop(path);
	}
	free(data);
}

/* A large max_line (bigger than half the default buffer) works too. */
static void
test_large_max_line(void **state)
{
	const size_t ml = 2u << 20;
	char *data = malloc(2 * ml + 64);
	size_t n = 0;
	struct lines l;
	char *path;

	(void)state;
	assert_non_null(data);
	memset(data + n, 'p', ml); n += ml; data[n++] = '\n';		/* exactly max_line */
	memset(data + n, 'q', ml + 1); n += ml + 1; data[n++] = '\n';	/* one too many */
	memcpy(data + n, "r\n", 2); n += 2;
	path = write_plain(data, n);
	read_all(path, ml, &l);
	assert_int_equal(l.n, 2);
	assert_line(&l, 0, data, ml);
	LINE(&l, 1, "r");
	assert_int_equal(l.st.too_long, 1);
	lines_free(&l);
	drop(path);
	free(data);
}

static void
test_gzip_lines(void **state)
{
	char *path = write_gz(basic, sizeof(basic) - 1);
	struct lines l;

	(void)state;
	read_all(path, 0, &l);
	check_basic(&l);	/* bytes counts decompressed input */
	assert_int_equal(l.gz, 1);
	lines_free(&l);
	drop(path);

	/* CRLF, NUL and a truncated last line through gzip */
	static const char data[] = "a\r\nb\0c\nlast";
	path = write_gz(data, sizeof(data) - 1);
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 3);
	LINE(&l, 0, "a");
	LINE(&l, 1, "b\0c");
	LINE(&l, 2, "last");
	assert_int_equal(l.st.truncated, 1);
	assert_int_equal(l.gz, 1);
	lines_free(&l);
	drop(path);

	/* an empty gzip member */
	path = write_gz("", 0);
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.gz, 1);
	lines_free(&l);
	drop(path);
}

static void
test_gzip_two_members(void **state)
{
	char *path = tmp_path();
	struct lines l;

	(void)state;
	gz_append(path, "wb", "one\ntwo\nthr", 11);
	gz_append(path, "ab", "ee\nfour\n", 8);	/* a second member, line split across */
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 4);
	LINE(&l, 0, "one");
	LINE(&l, 1, "two");
	LINE(&l, 2, "three");
	LINE(&l, 3, "four");
	assert_int_equal(l.st.bytes, 19);
	assert_int_equal(l.st.truncated, 0);
	assert_int_equal(l.gz, 1);
	lines_free(&l);

	/* a third member */
	gz_append(path, "ab", "five", 4);
	read_all(path, 0, &l);
	assert_int_equal(l.n, 5);
	LINE(&l, 4, "five");
	assert_int_equal(l.st.truncated, 1);
	lines_free(&l);
	drop(path);
}

/* Many megabytes of compressible text: several buffer refills through inflate. */
static void
test_gzip_large_compressible(void **state)
{
	const unsigned nl = 200000;
	size_t cap = (size_t)nl * 64, n = 0;
	char *data = malloc(cap);
	struct lines l;
	char *path;

	(void)state;
	assert_non_null(data);
	for (unsigned i = 0; i < nl; i++)
		n += (size_t)snprintf(data + n, cap - n, "Mar  4 09:07:13 mx1 postfix/smtpd[%u]: line %u\n", i % 300, (i * 7) % 300);
	/* one 3 MiB line in the middle */
	char *huge = malloc(n + (3u << 20) + 2);
	assert_non_null(huge);
	size_t half = n / 2;
	while (data[half - 1] != '\n')
		half++;
	memcpy(huge, data, half);
	memset(huge + half, 'h', 3u << 20);
	huge[half + (3u << 20)] = '\n';
	memcpy(huge + half + (3u << 20) + 1, data + half, n - half);
	size_t hn = n + (3u << 20) + 1;

	path = write_gz(huge, hn);
	assert_true(file_size(path) < 200 * 1024);	/* stays below the 256 KiB input buffer */
	read_all(path, 64 * 1024, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, nl);
	assert_int_equal(l.st.too_long, 1);
	assert_int_equal(l.st.bytes, hn);
	assert_int_equal(l.lineno[nl - 1], nl + 1);
	assert_int_equal(l.gz, 1);
	size_t off = 0;
	for (unsigned i = 0; i < nl; i++) {
		char *nlp = memchr(data + off, '\n', n - off);

		assert_line(&l, i, data + off, (size_t)(nlp - (data + off)));
		off = (size_t)(nlp - data) + 1;
	}
	lines_free(&l);
	drop(path);
	free(huge);
	free(data);
}

/* A damaged deflate stream: lr_next fails with -1 (no crash, no endless loop). */
static void
test_gzip_corrupt(void **state)
{
	char text[8192];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "line %d of some text %d\n", i, i * 7919);

	for (int variant = 0; variant < 4; variant++) {
		char *path = write_gz(text, n);
		size_t sz = file_size(path);
		unsigned char *gzb = malloc(sz);
		int fd = open(path, O_RDWR);

		assert_non_null(gzb);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, gzb, sz), (ssize_t)sz);
		switch (variant) {
		case 0:		/* garbage in the deflate data */
			for (size_t k = 12; k < 60 && k < sz - 8; k++)
				gzb[k] = 0xff;
			break;
		case 1:		/* a flipped bit in the CRC trailer */
			gzb[sz - 8] ^= 0x01;
			break;
		case 2:		/* a wrong ISIZE in the trailer */
			gzb[sz - 1] ^= 0x40;
			break;
		case 3:		/* header then pure garbage */
			for (size_t k = 10; k < sz; k++)
				gzb[k] = (unsigned char)(k * 37 + 11);
			break;
		}
		assert_int_equal(pwrite(fd, gzb, sz, 0), (ssize_t)sz);
		close(fd);

		struct linereader *r = lr_open(path, 0);
		struct span s;
		int rc;
		unsigned guard = 0;

		assert_non_null(r);
		while ((rc = lr_next(r, &s)) == 1)
			assert_true(++guard < 100000);
		if (rc != -1)
			fail_msg("corrupt gzip variant %d: lr_next ended with %d, want -1", variant, rc);
		/* calling again after the error must not crash */
		(void)lr_next(r, &s);
		lr_close(r);
		free(gzb);
		drop(path);
	}
}

/* garbage after a complete gzip member is a decompression error too */
static void
test_gzip_trailing_garbage(void **state)
{
	char *path = write_gz("ok\n", 3);
	int fd = open(path, O_WRONLY | O_APPEND);
	struct lines l;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "GARBAGE-GARBAGE", 15), 15);
	close(fd);
	read_all(path, 0, &l);
	assert_int_equal(l.rc, -1);
	lines_free(&l);
	drop(path);
}

/*
 * A gzip file cut short (e.g. copied while being written): the missing
 * end is a decompression error, reported as -1, not a clean end of input.
 */
static void
test_gzip_truncated(void **state)
{
	char text[65536];
	size_t n = 0;

	(void)state;
	for (int i = 0; n + 64 < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "line %d %d\n", i, i * 104729);
	char *path = write_gz(text, n);
	size_t sz = file_size(path);
	assert_int_equal(truncate(path, (off_t)(sz / 2)), 0);

	struct lines l;
	read_all(path, 0, &l);
	if (l.rc != -1)
		fail_msg("truncated gzip: lr_next ended with %d after %zu lines (truncated=%llu), want -1",
		    l.rc, l.n, (unsigned long long)l.st.truncated);
	/* every line returned before the error is intact */
	for (size_t i = 0; i < l.n; i++) {
		char want[64];
		int k = snprintf(want, sizeof(want), "line %zu %zu", i, i * 104729);

		if (i + 1 < l.n || l.st.truncated == 0)
			assert_line(&l, i, want, (size_t)k);
	}
	lines_free(&l);
	drop(path);

	/* a small member cut at every possible length (header, data, trailer) */
	static const char small[] = "alpha\nbeta\ngamma\n";
	path = write_gz(small, sizeof(small) - 1);
	sz = file_size(path);
	int fd = open(path, O_RDONLY);
	unsigned char *gzb = malloc(sz);
	assert_true(fd >= 0);
	assert_non_null(gzb);
	assert_int_equal(read(fd, gzb, sz), (ssize_t)sz);
	close(fd);
	drop(path);
	for (size_t cut = 2; cut < sz; cut++) {
		path = write_plain(gzb, cut);
		read_all(path, 0, &l);
		if (l.rc != -1)
			fail_msg("gzip cut to %zu of %zu bytes: ended with %d, want -1", cut, sz, l.rc);
		assert_int_equal(l.gz, 1);
		lines_free(&l);
		drop(path);
	}
	/* the uncut file is fine */
	path = write_plain(gzb, sz);
	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 3);
	lines_free(&l);
	drop(path);
	free(gzb);
}

/* 10,000 lines of varying length and random bytes come back byte-exact. */
/*
 * mode 0: random bytes; mode 1: each line a random slice of one fixed
 * random printable text (varied, but compresses well).
 */
static void
make_random_lines(unsigned nl, uint64_t seed, int mode, char **out, size_t *outn,
    size_t **offs, size_t **lens)
{
	size_t cap = (size_t)nl * 1100, n = 0;
	char *d = malloc(cap);
	uint64_t x = seed;
	char base[2048];

	for (size_t k = 0; k < sizeof(base); k++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		base[k] = (char)(' ' + x % 95);
	}

	assert_non_null(d);
	*offs = malloc(nl * sizeof(size_t));
	*lens = malloc(nl * sizeof(size_t));
	assert_non_null(*offs);
	assert_non_null(*lens);
	for (unsigned i = 0; i < nl; i++) {
		size_t len;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		len = (size_t)(x % 1000);
		if (i % 97 == 0)
			len = 0;
		(*offs)[i] = n;
		(*lens)[i] = len;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		size_t boff = (size_t)(x % 1000);
		for (size_t k = 0; k < len; k++) {
			unsigned char c;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			c = mode ? (unsigned char)base[boff + k] : (unsigned char)(x >> 24);
			if (c == '\n')
				c = 'N';
			if (k == len - 1 && c == '\r')
				c = 'R';
			d[n++] = (char)c;
		}
		d[n++] = '\n';
	}
	*out = d;
	*outn = n;
}

static void
check_random_lines(const char *path, unsigned nl, const char *d, size_t n,
    const size_t *offs, const size_t *lens, int gz)
{
	struct lines l;

	read_all(path, 0, &l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, nl);
	for (unsigned i = 0; i < nl; i++)
		assert_line(&l, i, d + offs[i], lens[i]);
	assert_int_equal(l.st.lines, nl);
	assert_int_equal(l.st.bytes, n);
	assert_int_equal(l.st.too_long, 0);
	assert_int_equal(l.st.truncated, 0);
	assert_int_equal(l.gz, gz);
	lines_free(&l);
}

static void
test_many_lines_plain(void **state)
{
	const unsigned nl = 10000;
	char *d, *path;
	size_t n, *offs, *lens;

	(void)state;
	make_random_lines(nl, 0x2545f4914f6cdd1dull, 0, &d, &n, &offs, &lens);
	if ((unsigned char)d[0] == 0x1f && (unsigned char)d[1] == 0x8b)
		d[0] = 'x';	/* not by accident a gzip magic */
	path = write_plain(d, n);
	check_random_lines(path, nl, d, n, offs, lens, 0);
	drop(path);
	free(d);
	free(offs);
	free(lens);
}

/* The same through gzip, with text that compresses well (file < 256 KiB). */
static void
test_many_lines_gzip(void **state)
{
	const unsigned nl = 10000;
	char *d, *path;
	size_t n, *offs, *lens;

	(void)state;
	make_random_lines(nl, 77, 1, &d, &n, &offs, &lens);
	path = write_gz(d, n);
	assert_true(file_size(path) < 256 * 1024);
	check_random_lines(path, nl, d, n, offs, lens, 1);
	drop(path);
	free(d);
	free(offs);
	free(lens);
}

/* path "-" reads standard input. */
static void
test_stdin(void **state)
{
	char *path = write_plain(basic, sizeof(basic) - 1);
	int fd = open(path, O_RDONLY), saved = dup(STDIN_FILENO);
	struct lines l;

	(void)state;
	assert_true(fd >= 0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	read_all("-", 0, &l);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	check_basic(&l);
	lines_free(&l);
	drop(path);
}

static void
test_open_errors_and_mtime(void **state)
{
	struct linereader *r;
	char *path;
	struct timeval tv[2] = { { 1600000000, 0 }, { 1600000000, 0 } };

	(void)state;
	errno = 0;
	assert_null(lr_open("/nonexistent/mxguard/test/file", 0));
	assert_int_equal(errno, ENOENT);

	path = write_plain("x\n", 2);
	assert_int_equal(utimes(path, tv), 0);
	r = lr_open(path, 0);
	assert_non_null(r);
	assert_int_equal(lr_mtime(r), 1600000000);
	lr_close(r);
	lr_close(NULL);
	drop(path);
}

/*
 * A gzip file whose compressed size exceeds 256 KiB (random text does not
 * compress): all 10,000 lines must come back. Last: a heap overflow here
 * aborts the binary under ASan.
 */
static void
test_gzip_incompressible_large(void **state)
{
	const unsigned nl = 10000;
	char *d, *path;
	size_t n, *offs, *lens;

	(void)state;
	make_random_lines(nl, 0xabcdef12345ull, 0, &d, &n, &offs, &lens);
	path = write_gz(d, n);
	assert_true(file_size(path) > 1024 * 1024);
	check_random_lines(path, nl, d, n, offs, lens, 1);
	drop(path);
	free(d);
	free(offs);
	free(lens);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_lines, remove_tmp),
		cmocka_unit_test_teardown(test_crlf, remove_tmp),
		cmocka_unit_test_teardown(test_empty_file, remove_tmp),
		cmocka_unit_test_teardown(test_last_line_without_newline, remove_tmp),
		cmocka_unit_test_teardown(test_nul_bytes, remove_tmp),
		cmocka_unit_test_teardown(test_too_long_small, remove_tmp),
		cmocka_unit_test_teardown(test_default_max_line, remove_tmp),
		cmocka_unit_test_teardown(test_too_long_huge, remove_tmp),
		cmocka_unit_test_teardown(test_large_max_line, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_lines, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_two_members, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_large_compressible, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_corrupt, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_trailing_garbage, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_truncated, remove_tmp),
		cmocka_unit_test_teardown(test_many_lines_plain, remove_tmp),
		cmocka_unit_test_teardown(test_many_lines_gzip, remove_tmp),
		cmocka_unit_test_teardown(test_stdin, remove_tmp),
		cmocka_unit_test_teardown(test_open_errors_and_mtime, remove_tmp),
		cmocka_unit_test_teardown(test_gzip_incompressible_large, remove_tmp),
	};

	return cmocka_run_group_tests_name("linereader", tests, NULL, NULL);
}
