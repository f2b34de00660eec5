/*
 * control.h - the control socket's requests ("mxguard ctl": status,
 * stats, decisions, reputation, metrics, ban, unban, reload, flush; text,
 * or JSON lines with "--json "), parsed and checked here and carried out
 * through the daemon's API (daemon.h).
 */
#ifndef MXG_CONTROL_H
#define MXG_CONTROL_H

#include "../common/outbuf.h"
#include "ctl.h"

/*
 * One request line from peer (ctl.h's ctl_handler; arg is the struct
 * daemon): the answer is appended to out. Replies that start with "error: " are
 * failures.
 */
void control_answer(void *dm, const struct ctl_peer *peer, char *req, struct outbuf *out);

#endif
