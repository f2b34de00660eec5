/*
 * event_pack.c - an event as bytes of its own (see event_pack.h).
 *
 * Layout: u32 total length, u8 version, u8 type, u8 address family, u8 MTA
 * name length, u64 line, i64 ts, i32 usec, u32 present, u32 doubtful,
 * 16 address bytes, the MTA name (NUL-terminated, as ev->mta is a C
 * string), then for each present field in field order: an i64 for a
 * number, a u32 length and the bytes for a string.
 */
#include "event_pack.h"

#include <stdint.h>
#include <string.h>

#include "../common/outbuf.h"

#define PACK_VERSION 1
#define HEAD 56		/* bytes before the MTA name */

static void
put(struct outbuf *ob, const void *v, size_t n)
{
	ob_put(ob, v, n);
}

size_t
ev_pack(struct outbuf *ob, const struct event *ev)
{
	size_t start = ob->len, mlen = ev->mta ? strlen(ev->mta) : 0;
	uint8_t b[4] = { PACK_VERSION, (uint8_t)ev->type, (uint8_t)ev->ip.family, 0 };
	uint32_t total = 0;
	int64_t ts = ev->ts;
	int32_t usec = ev->usec;
	uint64_t line = ev->line;
	uint32_t present = ev->present, doubtful = ev->doubtful;

	if (mlen > 255)
		mlen = 255;
	b[3] = (uint8_t)mlen;
	put(ob, &total, 4);		/* filled in at the end */
	put(ob, b, 4);
	put(ob, &line, 8);
	put(ob, &ts, 8);
	put(ob, &usec, 4);
	put(ob, &present, 4);
	put(ob, &doubtful, 4);
	put(ob, ev->ip.b, 16);
	ob_put(ob, "\0\0\0", 4);	/* padding to HEAD */
	put(ob, ev->mta ? ev->mta : "", mlen);
	ob_putc(ob, '\0');
	for (int f = 0; f < F__COUNT; f++) {
		if (!ev_has(ev, (enum ev_field)f))
			continue;
		if (ev_field_kind((enum ev_field)f) == FK_NUM)
			put(ob, &ev->num[f], 8);
		else {
			uint32_t n = (uint32_t)ev->str[f].n;

			put(ob, &n, 4);
			put(ob, ev->str[f].p, n);
		}
	}
	total = (uint32_t)(ob->len - start);
	memcpy(ob->p + start, &total, 4);
	return total;
}

size_t
ev_unpack(const void *p, size_t n, struct event *ev)
{
	const unsigned char *s = p, *q, *end;
	uint32_t total;
	size_t mlen;

	if (n < HEAD + 1)
		return 0;
	memcpy(&total, s, 4);
	if (total < HEAD + 1 || total > n || s[4] != PACK_VERSION || s[5] >= EV__COUNT ||
	    (s[6] != 0 && s[6] != 4 && s[6] != 6))
		return 0;
	mlen = s[7];
	end = s + total;
	if (HEAD + mlen + 1 > total || s[HEAD + mlen] != '\0')
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->type = (enum ev_type)s[5];
	ev->ip.family = s[6];
	memcpy(&ev->line, s + 8, 8);
	memcpy(&ev->ts, s + 16, 8);
	memcpy(&ev->usec, s + 24, 4);
	memcpy(&ev->present, s + 28, 4);
	memcpy(&ev->doubtful, s + 32, 4);
	memcpy(ev->ip.b, s + 36, 16);
	ev->mta = (const char *)s + HEAD;
	q = s + HEAD + mlen + 1;
	if (ev->present >> F__COUNT != 0)
		return 0;
	for (int f = 0; f < F__COUNT; f++) {
		if (!ev_has(ev, (enum ev_field)f))
			continue;
		if (ev_field_kind((enum ev_field)f) == FK_NUM) {
			if (end - q < 8)
				return 0;
			memcpy(&ev->num[f], q, 8);
			q += 8;
		} else {
			uint32_t len;

			if (end - q < 4)
				return 0;
			memcpy(&len, q, 4);
			q += 4;
			if ((size_t)(end - q) < len)
				return 0;
			ev->str[f] = (struct span){ (const char *)q, len };
			q += len;
		}
	}
	return q == end ? total : 0;
}
