/*
 * outbuf.c - buffered output and JSON string escaping.
 *
 * Log lines carry text chosen by attackers (HELO names, addresses), so the
 * escaper takes any byte sequence: control characters become \uXXXX, valid
 * UTF-8 passes through, and each byte of an invalid sequence becomes
 * U+FFFD. The output is always valid JSON in valid UTF-8.
 */
#include "outbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "xalloc.h"

void
ob_init(struct outbuf *ob, int fd, size_t cap)
{
	ob->cap = cap ? cap : 256 * 1024;
	ob->p = xmalloc(ob->cap);
	ob->len = 0;
	ob->fd = fd;
	ob->err = 0;
}

void
ob_free(struct outbuf *ob)
{
	free(ob->p);
	ob->p = NULL;
	ob->len = ob->cap = 0;
}

int
ob_flush(struct outbuf *ob)
{
	size_t off = 0;

	if (ob->fd < 0)
		return 0;
	while (off < ob->len && ob->err == 0) {
		ssize_t k = write(ob->fd, ob->p + off, ob->len - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			ob->err = errno;
		} else
			off += (size_t)k;
	}
	ob->len = 0;
	if (ob->err) {
		errno = ob->err;
		return -1;
	}
	return 0;
}

void
ob_need(struct outbuf *ob, size_t n)
{
	if (ob->cap - ob->len >= n)
		return;
	if (ob->fd >= 0 && ob->len > 0)
		ob_flush(ob);
	if (ob->cap - ob->len < n) {
		ob->cap = ob->len + n + ob->cap;
		ob->p = xrealloc(ob->p, ob->cap);
	}
}

void
ob_put_u64(struct outbuf *ob, uint64_t v)
{
	char tmp[20];
	int i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ob_put(ob, tmp + i, (size_t)(20 - i));
}

void
ob_put_i64(struct outbuf *ob, int64_t v)
{
	if (v < 0) {
		ob_putc(ob, '-');
		ob_put_u64(ob, (uint64_t)0 - (uint64_t)v);
	} else
		ob_put_u64(ob, (uint64_t)v);
}

/* Length of a well-formed UTF-8 sequence at s (RFC 3629 table), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		    (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void
ob_put_json_str(struct outbuf *ob, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	char *o;

	/* Worst case: every byte becomes "\ufffd" (6 bytes). */
	ob_need(ob, 6 * n + 2);
	o = ob->p + ob->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_len(s + i, n - i);

			if (k) {
				memcpy(o, s + i, k);
				o += k;
				i += k;
			} else {
				memcpy(o, "\\ufffd", 6);
				o += 6;
				i++;
			}
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
		i++;
	}
	*o++ = '"';
	ob->len = (size_t)(o - ob->p);
}

/*
 * A CSV field (RFC 4180): always quoted, " doubled. What is in it is often
 * an attacker's text (a HELO name, a recipient's domain), and the file is
 * opened in spreadsheets: control bytes become a space, bytes that are not
 * UTF-8 become U+FFFD, and a field that would start a formula (= + - @) gets
 * a leading ' so that a spreadsheet shows it as text instead of running it.
 */
void
ob_put_csv_str(struct outbuf *ob, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	char *o;

	ob_need(ob, 3 * n + 3);
	o = ob->p + ob->len;
	*o++ = '"';
	if (n > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@'))
		*o++ = '\'';
	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		if (c < 0x80) {
			if (c == '"')
				*o++ = '"';
			*o++ = c < 0x20 || c == 0x7f ? ' ' : (char)c;
			i++;
		} else if ((k = utf8_len(s + i, n - i)) != 0) {
			memcpy(o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o++ = '"';
	ob->len = (size_t)(o - ob->p);
}
