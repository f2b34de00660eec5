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

/*
 * Envelope addresses as MTAs log them: <local@domain>, where a local part
 * holding specials (space, "<", ">", ";", ...) is a quoted string
 * ("a> to=<b"@example.org) with backslash escapes. The client writes the
 * address, so ">" and field-like text can appear inside the quotes; these
 * scanners step over a quoted local part as one token.
 *
 * mta_addr_end: s[i] is the first byte after "<"; the index of the ">"
 * that closes the address, or -1 (no such ">", or a space, "<" or quote
 * outside a quoted string: not an address an MTA wrote).
 * mta_addr_start: s[close] is the closing ">"; the index of its "<", or -1.
 */
long mta_addr_end(struct span s, size_t i);
/*
 * The same for an address an MTA logged with its backslashes doubled
 * (OpenSMTPD's strnvis, Sendmail): the client's escape \" appears as
 * \\", its \\ as \\\\, a control byte as a C escape (\n).
 */
long mta_addr_end_logged(struct span s, size_t i);
long mta_addr_start(struct span s, size_t close);

/*
 * If raw starts with the address ext with its local part unquoted (the
 * form Postfix puts in reply texts: "a b"@x is written a b@x there), the
 * length of that start; else -1.
 */
long mta_addr_unquoted_prefix(struct span ext, struct span raw);
