/*
 * worker.h - the worker's side of `mxguard run --user USER`: giving up
 * root, and the firewall reached through the privileged part.
 *
 * The worker reads the logs, runs the rules, keeps the state and serves
 * the sockets, as the user named, with no capability left (not even in
 * the bounding set), no way back (setuid(0) is tried and must fail) and
 * PR_SET_NO_NEW_PRIVS. Its firewall is a backend like the others
 * (actions/fw.h) whose calls become messages (privsep/msg.h).
 */
#ifndef MXG_PRIVSEP_WORKER_H
#define MXG_PRIVSEP_WORKER_H

#include <stddef.h>
#include <sys/types.h>

#include "../actions/fw.h"

/* The user exists and is not root: 0, or -1 with the reason ("NAME: ...") in err (checked before the split). */
int worker_user_check(const char *user, char *err, size_t errlen);

/*
 * Become user for good (its groups, from the group database), in the
 * child of parent: 0, or -1 with the reason in err — fatal to the caller.
 * Checked after the fact: real, effective and saved ids; setuid(0) fails;
 * no capability permitted, effective, inheritable or ambient; none in
 * the bounding set; no new privileges. If parent ends, the worker gets
 * SIGTERM.
 */
int worker_drop(const char *user, pid_t parent, char *err, size_t errlen);

/*
 * The firewall as the worker sees it: real's name and abilities, its
 * calls sent over sock to the privileged part (which runs real). One
 * per process: the worker has one channel.
 */
const struct fw_backend *worker_fw(const struct fw_backend *real, int sock);

/*
 * From now on every log file is opened by the privileged part, over the
 * files' channel (tail/follow.h's opener): the worker's user need not be
 * able to read the logs. A path the privileged part refuses fails with
 * EACCES; the privileged part gone is fatal.
 */
void worker_logs_through(int files);

#endif
