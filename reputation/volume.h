/*
 * volume.h - the "vol" score mxguard derives itself: how much mail a
 * client sends here, for the clients no feed gives a volume for.
 *
 * Counted from the events: every accepted message (msg_accepted, and
 * bounce_in) of a client — per address for IPv4, per /64 for IPv6 — in a
 * bucket for today and one for yesterday (UTC days). A client's vol is
 * 100 * ln(1 + n) / ln(1 + busiest), where n is its messages today and
 * yesterday and busiest the most any client sent in those two days: the
 * busiest sender is 100, a client with one message among senders of
 * thousands a few points, on a scale that a single huge sender does not
 * flatten. A client with no accepted message in those two days has no
 * local vol (unknown). At most max_clients are kept (the least recently
 * seen go first).
 */
#ifndef MXG_VOLUME_H
#define MXG_VOLUME_H

#include <stdint.h>

#include "../common/addr.h"

struct volume;

struct volume *volume_new(uint32_t max_clients);
void volume_free(struct volume *v);

/* One message accepted from a at event time ts. */
void volume_count(struct volume *v, const struct addr *a, int64_t ts);

/* a's vol (0-100) at time now, and its messages in *n; -1 if it sent none today or yesterday. */
int volume_of(struct volume *v, const struct addr *a, int64_t now, uint32_t *n);

#endif
