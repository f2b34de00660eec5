/*
 * worker.c - the worker gives up root; its firewall is the privileged
 * part's (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../tail/follow.h"
#include "msg.h"

int
worker_user_check(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		snprintf(err, errlen, "%s: no such user", user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "%s: uid %u, gid %u: the worker must not run as root or in group root",
		    user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
		return -1;
	}
	return 0;
}

/* A "CapXxx:" line of /proc/self/status: 0 if it is all zeros, -1 if not (or unreadable). */
static int
caps_clear(char *err, size_t errlen)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int seen = 0, bad = 0;

	if (f == NULL) {
		snprintf(err, errlen, "privilege drop: /proc/self/status: %s (cannot check the capabilities)",
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		static const char *const sets[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };

		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
			if (strncmp(line, sets[i], strlen(sets[i])) == 0) {
				seen++;
				if (strtoull(line + strlen(sets[i]), NULL, 16) != 0 && !bad) {
					bad = 1;
					line[strcspn(line, "\n")] = '\0';
					snprintf(err, errlen, "privilege drop: capabilities left: %s", line);
				}
			}
	}
	fclose(f);
	if (!bad && seen < 4)
		snprintf(err, errlen, "privilege drop: /proc/self/status names no capability sets");
	return bad || seen < 4 ? -1 : 0;
}

int
worker_drop(const char *user, pid_t parent, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (pw == NULL || pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "privilege drop: user %s is gone or root", user);
		return -1;
	}
	/* The bounding set first, while CAP_SETPCAP is still held: nothing can come back through an exec. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
			snprintf(err, errlen, "privilege drop: dropping capability %d from the bounding set: %s", cap,
			    strerror(errno));
			return -1;
		}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);	/* (EINVAL before Linux 4.3: none there) */
	/* The user's groups: the socketmap's socket is given the MTA's group (postfix), which needs membership. */
	if (initgroups(user, pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errlen, "privilege drop to %s: %s", user, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != pw->pw_uid || eu != pw->pw_uid ||
	    su != pw->pw_uid || rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid) {
		snprintf(err, errlen, "privilege drop to %s: the ids did not all change", user);
		return -1;
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		snprintf(err, errlen, "privilege drop to %s: root could be taken back", user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "privilege drop: no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (caps_clear(err, errlen) < 0)
		return -1;
	/* (set after the ids changed: a change of ids clears it) Without the privileged part nothing is enforced. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0 || getppid() != parent) {
		snprintf(err, errlen, "privilege drop: the privileged part is gone");
		return -1;
	}
	return 0;
}

/* ---- the firewall through the privileged part ---- */

/*
 * The channel's state: one request on the wire at a time; a change of
 * more entries than a datagram holds goes in parts, each answered.
 */
struct channel {
	int sock;
	const struct fw_backend *real;
	struct msg_entry *pending;	/* the change being sent */
	int npending, sent, cap;
	int busy;			/* a request is waiting for its answer */
};

/* The worker has one channel to its privileged part. */
static struct channel chan = { .sock = -1 };
static struct fw_backend remote;

static int
send_msg(struct channel *c, uint16_t type, uint16_t flags, const struct msg_entry *e, uint32_t n)
{
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = type, .flags = flags, .n = n };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)e, n * sizeof(*e) } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n > 0 ? 2 : 1 };

	if (sendmsg(c->sock, &mh, MSG_NOSIGNAL) < 0) {
		log_warn("privsep: sending to the privileged part");
		return -1;
	}
	c->busy = 1;
	return 0;
}

/* The answer, if it is there (block: wait for it): rc, or FW_IN_PROGRESS. The privileged part gone is fatal. */
static int
answer(struct channel *c, int block)
{
	struct msg_hdr h;
	ssize_t k;

	if (block) {
		struct pollfd p = { .fd = c->sock, .events = POLLIN };

		if (poll(&p, 1, 60000) <= 0) {
			log_warnx("privsep: the privileged part has not answered for a minute");
			return -1;
		}
	}
	k = recv(c->sock, &h, sizeof(h), MSG_DONTWAIT);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return FW_IN_PROGRESS;
	if (k != (ssize_t)sizeof(h) || h.magic != MSG_MAGIC || h.type != MSG_RESULT)
		fatalx(EX_SOFTWARE, "privsep: the privileged part is gone (%s); stopping",
		    k == 0 ? "channel closed" : k < 0 ? strerror(errno) : "a reply that is not one");
	c->busy = 0;
	return h.rc < 0 ? -1 : 0;
}

static int
send_part(struct channel *c)
{
	uint32_t n = (uint32_t)(c->npending - c->sent > MSG_ENTRIES_MAX ? MSG_ENTRIES_MAX : c->npending - c->sent);
	int last = c->sent + (int)n == c->npending;

	if (send_msg(c, MSG_FW_APPLY, last ? 0 : MSG_MORE_FOLLOWS, c->pending + c->sent, n) < 0)
		return -1;
	c->sent += (int)n;
	return FW_IN_PROGRESS;
}

static int
remote_init(const char *arg, const struct fw_opts *o, void **state)
{
	(void)arg;
	(void)o;	/* (the privileged part has them: parsed before the split) */
	*state = &chan;
	if (send_msg(&chan, MSG_FW_INIT, 0, NULL, 0) < 0)
		return -1;
	return answer(&chan, 1);
}

static int
remote_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct channel *c = state;
	int n = nblock + nrelease;

	if (n > MSG_BATCH_MAX) {
		log_warnx("privsep: a change of %d entries: more than the privileged part takes at once (%d)", n,
		    MSG_BATCH_MAX);
		return -1;
	}
	if (n > c->cap) {
		c->cap = n;
		c->pending = xrealloc(c->pending, (size_t)n * sizeof(*c->pending));
	}
	for (int i = 0; i < nblock; i++)
		msg_entry_of(&block[i], 0, &c->pending[i]);
	for (int i = 0; i < nrelease; i++)
		msg_entry_of(&release[i], 1, &c->pending[nblock + i]);
	c->npending = n;
	c->sent = 0;
	return send_part(c);
}

static int
remote_flush(void *state)
{
	struct channel *c = state;

	c->npending = c->sent = 0;
	return send_msg(c, MSG_FW_FLUSH, 0, NULL, 0) < 0 ? -1 : FW_IN_PROGRESS;
}

static int
remote_pollfds(void *state, struct pollfd *pfd, int max)
{
	struct channel *c = state;

	if (max < 1)
		return 0;
	pfd[0] = (struct pollfd){ .fd = c->sock, .events = POLLIN };
	return 1;
}

static int
remote_progress(void *state)
{
	struct channel *c = state;
	int rc = answer(c, 0);

	if (rc == FW_IN_PROGRESS || rc < 0)
		return rc;
	if (c->sent < c->npending)
		return send_part(c);	/* that part was taken: the next */
	return rc;
}

static void
remote_fini(void *state, int remove)
{
	struct channel *c = state;

	if (c->busy)
		(void)answer(c, 1);	/* (a change still on the wire ends first) */
	if (send_msg(c, MSG_FW_FINI, remove ? MSG_REMOVE : 0, NULL, 0) == 0)
		(void)answer(c, 1);
	free(c->pending);
	c->pending = NULL;
	c->cap = c->npending = c->sent = 0;
}

const struct fw_backend *
worker_fw(const struct fw_backend *real, int sock)
{
	chan.sock = sock;
	chan.real = real;
	remote = *real;		/* its name and abilities */
	remote.init = remote_init;
	remote.apply = remote_apply;
	remote.flush = remote_flush;
	remote.pollfds = remote_pollfds;
	remote.progress = remote_progress;
	remote.fini = remote_fini;
	return &remote;
}

/* ---- logs opened by the privileged part ---- */

/* The worker's one files' channel. */
static int files_fd = -1;

static int
open_through(const char *path)
{
	size_t n = strlen(path);
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_OPEN_LOG, .n = (uint32_t)n };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)path, n } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct pollfd p = { .fd = files_fd, .events = POLLIN };
	struct cmsghdr *c;
	int fd = -1;
	ssize_t k;

	if (n < 1 || n > MSG_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sendmsg(files_fd, &mh, MSG_NOSIGNAL) < 0)
		fatal(EX_SOFTWARE, "privsep: the privileged part is gone (asking it to open %s)", path);
	if (poll(&p, 1, 30000) <= 0)
		fatalx(EX_SOFTWARE, "privsep: the privileged part has not opened %s in 30 s", path);
	iov[0] = (struct iovec){ &h, sizeof(h) };
	mh = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	k = recvmsg(files_fd, &mh, MSG_CMSG_CLOEXEC);
	if (k != (ssize_t)sizeof(h) || h.magic != MSG_MAGIC || h.type != MSG_RESULT)
		fatalx(EX_SOFTWARE, "privsep: the privileged part is gone (%s); stopping",
		    k == 0 ? "channel closed" : k < 0 ? strerror(errno) : "a reply that is not one");
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	if (h.rc == 0 && fd >= 0)
		return fd;
	if (fd >= 0)
		close(fd);
	errno = h.rc < 0 && h.rc > -4096 ? -h.rc : EACCES;
	return -1;
}

void
worker_logs_through(int files)
{
	files_fd = files;
	follow_set_opener(open_through);
}
