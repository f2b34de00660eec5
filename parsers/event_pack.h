/*
 * event_pack.h - an event as bytes of its own: a deep copy for an event that
 * must outlive its line (one waiting for its client's DNS reputation,
 * reputation/repwait.h), and the form such events are saved in across a
 * restart (state/, a blob).
 *
 * An event's text fields are spans into the line it came from, which the
 * line reader reuses at once; a packed event carries the bytes. The form is
 * this program's (host byte order, a version byte first): it is read back
 * by the same build after a restart, and anything it does not recognise is
 * refused, never guessed at. The MTA-private capture (aux) and the
 * reputation pointer are not kept: neither means anything once the line is
 * gone.
 */
#ifndef MXG_EVENT_PACK_H
#define MXG_EVENT_PACK_H

#include <stddef.h>

#include "event.h"

struct outbuf;

/* Append ev, packed, to ob; returns the bytes it took. */
size_t ev_pack(struct outbuf *ob, const struct event *ev);

/*
 * The packed event at p (n bytes available) into ev, whose spans then point
 * into p (keep p while ev is used). Returns the bytes it took, or 0 if p
 * does not hold a whole packed event of this build.
 */
size_t ev_unpack(const void *p, size_t n, struct event *ev);

#endif
