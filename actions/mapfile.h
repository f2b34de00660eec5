/*
 * mapfile.h - the client decisions in force written as MTA access files:
 * Postfix access tables (for sites that prefer files to the socketmap)
 * and Exim host lists:
 *
 *   cidr:/PATH   "203.0.113.7/32 REJECT ..." lines; any prefix; Postfix
 *                re-reads it when it changes
 *   hash:/PATH, lmdb:/PATH   access(5) keys ("203.0.113.7", "203.0.113",
 *                "2001:db8:1:2"), built with postmap; a prefix off those
 *                boundaries is spelled as the (at most 256) keys it covers
 *   exim:/PATH   Exim host lists for net-iplsearch: PATH.reject,
 *                PATH.defer, PATH.discard, PATH.tarpit, "KEY: MESSAGE" lines
 *   sendmail:/PATH   Sendmail's access database: "Connect:KEY ERROR:..."
 *                text, built with makemap hash
 *
 * Each rewrite is whole and atomic: a temporary file (and its postmap
 * database) renamed over the old one, so smtpd never reads half a table.
 * Temporaries live in a private mkdtemp() directory inside the target's
 * directory and are created with O_EXCL|O_NOFOLLOW, so nothing a local
 * user plants is followed; a target directory that others can write (not
 * sticky) or that belongs to another user is refused (common/safefile.h).
 */
#ifndef MXG_MAPFILE_H
#define MXG_MAPFILE_H

#include <stdint.h>

#include "dmap.h"

struct mapfile;

/*
 * "cidr:/path", "hash:/path", "lmdb:/path", "exim:/path" or "sendmail:/path";
 * NULL with a message in err (also for an unsafe directory). Sweeps the
 * temporary directories a crash left behind.
 */
struct mapfile *mapfile_new(const char *spec, char *err, size_t errlen);
void mapfile_free(struct mapfile *f);

/*
 * Write the table from the decisions in force; returns when it must be
 * written again (an entry ends), or -1 if it could not be written (the
 * old file stays in place; the caller retries with backoff and shows the
 * decisions it lacks as pending).
 */
int64_t mapfile_write(struct mapfile *f, struct dmap *m, int64_t now);

/*
 * Whether Sendmail reads an access database that user owns: it silently
 * ignores a map file owned by neither root nor its TrustedUser, which is
 * what the worker of "--user USER" writes. cf is Sendmail's configuration
 * (mapfile_sendmail_cf(): /etc/mail/sendmail.cf, what makemap reads, or
 * $MXGUARD_SENDMAIL_CF for a Sendmail installed elsewhere). 1 if its
 * "O TrustedUser=" names user (or user's uid); 0 if not, -1 if cf cannot
 * be read: why says what to do.
 */
const char *mapfile_sendmail_cf(void);
int mapfile_sendmail_trusts(const char *cf, const char *user, char *why, size_t whylen);

#endif
