/*
 * ctl.h - the control socket: a Unix stream socket, root-only, one request
 * line per connection ("[--json ]COMMAND ARGS\n"), a text reply, then the
 * daemon closes. Replies that start with "error: " are failures.
 */
#ifndef MXG_CTL_H
#define MXG_CTL_H

#include <stddef.h>

#define CTL_SOCKET_DEFAULT "/run/mxguard.sock"
#define CTL_MAXREQ 512

/* Listen on path (a stale socket is replaced), mode 0600. -1 on error (logged). */
int ctl_listen(const char *path);

/* Accept one client and read its request line into req. -1 if none. */
int ctl_accept(int lfd, char *req, size_t reqlen);

#endif
