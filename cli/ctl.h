/*
 * ctl.h - the control socket: a Unix stream socket, root-only, one request
 * line per connection ("[--json ]COMMAND ARGS\n"), a text reply, then the
 * daemon closes. Replies that start with "error: " are failures.
 *
 * The daemon serves it from its event loop without ever waiting on a
 * client: sockets are non-blocking, a request must arrive whole within
 * CTL_READ_MS of the connection and its answer be taken within
 * CTL_WRITE_MS (deadlines per request, not per byte: a client that drips
 * bytes or never reads gains nothing), and at most CTL_MAX_CONNS clients
 * wait at once — a new one takes the place of the oldest that has sent
 * nothing yet (else of one still sending, else of one being answered).
 */
#ifndef MXG_CTL_H
#define MXG_CTL_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/outbuf.h"

#define CTL_SOCKET_DEFAULT "/run/mxguard/mxguard.sock"
#define CTL_DECISION_LOG_DEFAULT "/var/log/mxguard/decisions.log"	/* (the daemon's default: cli/audit.h) */
#define CTL_MAXREQ 512
#define CTL_MAX_CONNS 16
#define CTL_READ_MS 2000
#define CTL_WRITE_MS 10000

/* Listen on path (a stale socket is replaced, anything else refused), mode 0600. -1 on error (logged). */
int ctl_listen(const char *path);

struct ctl_server;

/* Who sent a request: the connecting process, as the kernel says (SO_PEERCRED). */
struct ctl_peer {
	uid_t uid;		/* (uid_t)-1: not known */
	pid_t pid;		/* 0: not known */
};

/*
 * One request from peer: req is the line (NUL-terminated, without its
 * newline); the answer goes into out (a memory buffer the server owns and
 * sends).
 */
typedef void (*ctl_handler)(void *arg, const struct ctl_peer *peer, char *req, struct outbuf *out);

/* The clients of listener lfd (the caller keeps lfd). */
struct ctl_server *ctl_server_new(int lfd);
void ctl_server_free(struct ctl_server *cs);
/* The descriptors of the clients to poll (not the listener); returns how many (<= max). */
int ctl_pollfds(struct ctl_server *cs, struct pollfd *pfd, int max);
/*
 * Serve what poll() reported: lrevents for the listener, pfd[0..n) for
 * the clients as ctl_pollfds() gave them; close clients past a deadline.
 */
void ctl_serve(struct ctl_server *cs, short lrevents, const struct pollfd *pfd, int n, ctl_handler h, void *arg);

#endif
