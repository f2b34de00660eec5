/*
 * mta_text.h - text tests the MTA modules share: what a reply text says
 * (a DNS blocklist, a rate limit) and whether a line names a client.
 */
#ifndef MXG_MTA_TEXT_H
#define MXG_MTA_TEXT_H

#include "../common/span.h"
#include "event.h"

/*
 * The blocklist named in a reply: "blocked using D" (Postfix),
 * "listed at D" (Sendmail's FEATURE(dnsbl), Exim ACLs), "is in a black list
 * at D" (Exim). Sets the dnsbl field when a name follows; 1 if a mark was found.
 */
int mta_find_dnsbl(struct span text, struct event *ev);

/* 1 if the text speaks of a rate or connection limit ("rate limit", "ratelimited", "too many connections"). */
int mta_mentions_rate(struct span text);

/*
 * 1 if the line holds "[" followed by an address ("[203.0.113.5]",
 * "[2001:db8::1]", "[IPv6:..."): a line about a client, which a module
 * counts as unmatched when no pattern knows it (where a new attack shape
 * would hide), rather than as a known line about nothing.
 */
int mta_names_client(struct span line);

#endif
