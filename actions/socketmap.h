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
 *
 * Local clients are not trusted either (docs/MAPS.md): the socket is mode
 * 0660, group "postfix" unless told otherwise, so only the MTA's lookup
 * processes connect; a request must be complete within SMAP_REQUEST_MS of
 * its first byte and a connection with nothing to say is closed after
 * the idle deadline; a client that does not read its answers is closed;
 * and when all SMAP_MAX_CONNS slots are taken, a new client takes the
 * slot of the least recently active connection of the user (SO_PEERCRED)
 * who holds the most, so no single local user can lock the MTA out.
 */
#ifndef MXG_SOCKETMAP_H
#define MXG_SOCKETMAP_H

#include <poll.h>
#include <stdint.h>

#include "dmap.h"

#define SMAP_MAX_CONNS 256	/* more than a busy Postfix's smtpd processes */
#define SMAP_REQUEST_MS 5000	/* a request, from its first byte to its last */
#define SMAP_IDLE_MS 60000	/* default: a connection with no request pending */

struct smap;

struct smap_opts {
	const char *group;	/* group of the socket (mode 0660); NULL: "postfix" if it exists, else ours */
	int64_t idle_ms;	/* 0: SMAP_IDLE_MS */
};

/*
 * Listen on a Unix socket at path (a stale socket is replaced; anything
 * else at path is refused). NULL on error (logged).
 */
struct smap *smap_listen(const char *path, const struct smap_opts *o, struct dmap *m);
void smap_close(struct smap *s);

/* The descriptors to poll (the listener, then each connection); returns how many (<= max). */
int smap_pollfds(struct smap *s, struct pollfd *pfd, int max);
/* Serve what poll() reported on those descriptors, and close connections past their deadlines. */
void smap_serve(struct smap *s, const struct pollfd *pfd, int n, int64_t now);

/* The reply to one request "NAME KEY" (for tests and for the server): into out, NUL-terminated. */
void smap_answer(struct dmap *m, const char *req, size_t len, int64_t now, char *out, size_t outlen);

#endif
