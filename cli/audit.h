/*
 * audit.h - the decision log: one JSON line for every change of what the
 * daemon enforces — a ban (a rule's, a cluster node's or a manual one), an
 * unban, an expiry, a flush — and for every reload, start and stop, each
 * with who or what caused it. `mxguard ctl history` reads it (history.h).
 * The line format is in docs/OPERATIONS.md ("The decision log").
 *
 * The file is opened for appending and every line goes in one write(), so
 * lines never interleave and a crash loses at most the line being
 * written. A rotated log (logrotate moved it away) is noticed within a
 * minute, or at a reload, and a new file is started.
 */
#ifndef MXG_AUDIT_H
#define MXG_AUDIT_H

#include <stdint.h>
#include <sys/types.h>

#include "../state/store.h"

/* Who or what caused an entry. */
enum audit_by {
	BY_RULE,	/* this node's rules */
	BY_CLUSTER,	/* another node: node */
	BY_CTL,		/* mxguard ctl: uid and pid of the caller, from the kernel (SO_PEERCRED) */
	BY_EXPIRY,	/* its time ran out */
	BY_SIGNAL,	/* a signal: sig */
	BY_DAEMON,	/* the daemon itself (start, stop) */
};

struct audit_who {
	enum audit_by by;
	const char *node;	/* BY_CLUSTER */
	uid_t uid;		/* BY_CTL */
	pid_t pid;		/* BY_CTL; 0: not known */
	int sig;		/* BY_SIGNAL */
};

struct audit;

/* Open path for appending (created 0640 if missing). NULL with the reason in err. */
struct audit *audit_open(const char *path, char *err, size_t errlen);
void audit_close(struct audit *a);
const char *audit_path(const struct audit *a);

/* A decision that took effect (its rule, key, action, until, reason, origin as saved). */
void audit_ban(struct audit *a, int64_t now, const struct stored_decision *d, const struct audit_who *w);
/* The decisions on key released early: n of them. */
void audit_unban(struct audit *a, int64_t now, const char *key, long n, const struct audit_who *w);
/* A decision whose time ran out (written with its end as the time). */
void audit_expire(struct audit *a, const struct stored_decision *d);
/* Every decision released: n of them. */
void audit_flush(struct audit *a, int64_t now, long n, const struct audit_who *w);
/* The configuration read again: ok 1, or 0 (the old one stays) with why. */
void audit_reload(struct audit *a, int64_t now, const char *conffile, int ok, const char *why,
    const struct audit_who *w);
/* "start" or "stop". */
void audit_daemon(struct audit *a, int64_t now, const char *what, const char *conffile);

/*
 * Start a new file if the log was moved or removed (rotation): checked at
 * most once a minute unless force. 0, or -1 if the file cannot be opened
 * again (said once; the old descriptor is kept).
 */
int audit_check(struct audit *a, int64_t now, int force);

#endif
