/*
 * priv.h - the privileged part of `mxguard run --user USER`.
 *
 * After the split (privsep_split) the process that stays root holds only
 * the firewall — its backend, chosen and checked before the split, set up,
 * changed and closed when the worker asks (privsep/msg.h) — and opens the
 * configured logs and their rotated copies for the worker, passing the
 * descriptors. It reads no log, parses nothing, serves no socket. It forwards the signals it gets
 * (SIGTERM, SIGINT, SIGHUP) to the worker and ends when the worker ends,
 * with the worker's exit status. Every message it refuses is logged.
 */
#ifndef MXG_PRIVSEP_PRIV_H
#define MXG_PRIVSEP_PRIV_H

#include <sys/types.h>

#include "../actions/fw.h"

struct priv_fw {
	const struct fw_backend *fw;
	const char *arg;
	struct fw_opts opts;
	char *const *sources;	/* the logs the worker may have opened (and their rotated copies) */
	int nsources;
};

/*
 * Split: fork; the child drops to user (privsep/worker.h) and returns 0
 * with *sock and *files its ends of the two channels; the parent never returns: it serves
 * the worker (priv_serve) and exits with the worker's status. -1 (nothing
 * forked) with the reason in err.
 */
int privsep_split(const char *user, const struct priv_fw *pf, int *sock, int *files, char *err, size_t errlen);

/*
 * A worker started again by the privileged part: this process was
 * executed with --privsep-channel SOCK,FILES (its ends of new channels) and
 * becomes the worker at once, as user, its parent the privileged part.
 * 0, or -1 with the reason in err.
 */
int privsep_rejoin(const char *user, int sock, int files, char *err, size_t errlen);

/*
 * The privileged part's loop: until the worker ends, or, if argv is not
 * NULL, until it ends and cannot be started again. A worker killed by a
 * signal it was not sent by this part (a crash, kill -9, the OOM killer)
 * is started again from argv (the command line, run again with
 * --privsep-channel): it takes its positions, counters and decisions from
 * the state as a restart does; the firewall keeps what is in force
 * meanwhile. PRIV_RESTARTS_MAX restarts within a minute: it gives up.
 * Returns the exit status to exit with (128 + N for signal N).
 */
/*
 * One worker's requests as the loop takes them (and the fuzz target):
 * take is given each datagram whole (len: its real length, even if more
 * than was read) and the channel it came from (sock or files), and
 * answers there; free closes the firewall if the
 * worker left it set up, keeping what is in force.
 */
struct priv;
struct priv *priv_session_new(const struct priv_fw *pf, int sock, int files, pid_t worker);
void priv_session_take(struct priv *p, int from, const void *buf, size_t len);
void priv_session_free(struct priv *p);

#define PRIV_RESTARTS_MAX 5
int priv_serve(int sock, int files, pid_t worker, const struct priv_fw *pf, char *const *argv);

#endif
