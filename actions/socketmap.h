/*
 * socketmap.h - Postfix's socketmap protocol (socketmap_table(5)), served
 * from the decisions in force (dmap.h), so a decision takes effect on the
 * MTA's next lookup with no file rewrite and no reload.
 *
 * Requests and replies are netstrings: "NAME KEY" in, "OK VALUE",
 * "NOTFOUND " or "PERM TEXT" out. NAME is the map: "client" (for
 * check_client_access: the address; host names and partial addresses are
 * not found), "helo" (check_helo_access) or "sender" (check_sender_access:
 * an address, or a domain), or "access" (Sendmail's FEATURE(access_db) on
 * a socket map: "Connect:ADDR" keys, Sendmail's access words). VALUE is an
 * access(5) action (docs/MAPS.md).
 * Connections stay open for many requests, as Postfix keeps them.
 */
#ifndef MXG_SOCKETMAP_H
#define MXG_SOCKETMAP_H

#include <poll.h>
#include <stdint.h>

#include "dmap.h"

struct smap;

/* Listen on a Unix socket at path (mode 0666: the MTA's own user connects). NULL on error (logged). */
struct smap *smap_listen(const char *path, struct dmap *m);
void smap_close(struct smap *s);

/* The descriptors to poll (the listener, then each connection); returns how many (<= max). */
int smap_pollfds(struct smap *s, struct pollfd *pfd, int max);
/* Serve what poll() reported on those descriptors. */
void smap_serve(struct smap *s, const struct pollfd *pfd, int n, int64_t now);

/* The reply to one request "NAME KEY" (for tests and for the server): into out, NUL-terminated. */
void smap_answer(struct dmap *m, const char *req, size_t len, int64_t now, char *out, size_t outlen);

#endif
