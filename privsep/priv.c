/*
 * priv.c - the privileged part: the firewall, on the worker's checked
 * requests (see priv.h, msg.h).
 */
#include "priv.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../tail/follow.h"
#include "msg.h"
#include "worker.h"

struct priv {
	int sock, files;	/* the firewall's channel, the files' */
	int reply_to;		/* the channel of the request being answered */
	pid_t worker;
	const struct priv_fw *pf;
	void *fw_state;
	int inited;		/* the firewall is set up (it stays so across the workers) */
	int worker_inited;	/* this worker asked for it */
	struct fw_entry *block, *release;	/* the transaction being gathered (chunks with MSG_MORE_FOLLOWS) */
	int nblock, nrelease, cap;
	unsigned long refused;
};


/* What the firewall can do, as the messages' checks want it (msg.h). */
static int
caps_of(const struct fw_backend *fw)
{
	return (fw->shapes ? MSG_CAP_SHAPES : 0) | (fw->ports ? MSG_CAP_PORTS : 0) | (fw->conns ? MSG_CAP_CONNS : 0);
}
static void
reply(struct priv *p, int rc)
{
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_RESULT, .rc = rc < 0 ? -1 : 0 };

	/* (a worker gone meanwhile: its end is seen at the next poll) */
	if (send(p->reply_to, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h) && errno != EPIPE)
		log_warn("privsep: answering the worker");
}

/* An open's answer: the descriptor (then closed here), or rc -errno. */
static void
reply_fd(struct priv *p, int rc, int fd)
{
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_RESULT, .rc = fd >= 0 ? 0 : rc };
	struct iovec iov = { &h, sizeof(h) };
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	if (sendmsg(p->reply_to, &mh, MSG_NOSIGNAL) < 0 && errno != EPIPE)
		log_warn("privsep: answering the worker");
	if (fd >= 0)
		close(fd);
}

static void
refuse(struct priv *p, const char *why)
{
	p->refused++;
	log_warnx("privsep: refused a message from the worker (pid %ld): %s", (long)p->worker, why);
	if (p->reply_to == p->sock)
		p->nblock = p->nrelease = 0;	/* a transaction with a bad part is not applied in part */
	if (p->reply_to == p->files)
		reply_fd(p, -EACCES, -1);
	else
		reply(p, -1);
}

/* An asynchronous backend's change, waited for here: the privileged part has nothing else to do meanwhile. */
static int
finish(struct priv *p, int rc)
{
	const struct fw_backend *fw = p->pf->fw;

	while (rc == FW_IN_PROGRESS) {
		struct pollfd pfd[2];
		int n = fw->pollfds(p->fw_state, pfd, 2);

		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			return -1;
		rc = fw->progress(p->fw_state);
	}
	return rc;
}

static void
gather(struct priv *p, const struct msg_hdr *h, const struct msg_entry *m)
{
	const struct fw_backend *fw = p->pf->fw;
	char why[160];

	if (!p->worker_inited) {
		refuse(p, "a change before the firewall was set up");
		return;
	}
	if ((size_t)p->nblock + (size_t)p->nrelease + h->n > MSG_BATCH_MAX) {
		refuse(p, "a transaction of more entries than the privileged part takes");
		return;
	}
	if (p->nblock + p->nrelease + (int)h->n > p->cap) {
		p->cap = (p->nblock + p->nrelease + (int)h->n) * 2;
		p->block = xrealloc(p->block, (size_t)p->cap * sizeof(*p->block));
		p->release = xrealloc(p->release, (size_t)p->cap * sizeof(*p->release));
	}
	for (uint32_t i = 0; i < h->n; i++) {
		struct msg_entry e;
		struct fw_entry *out;

		memcpy(&e, &m[i], sizeof(e));
		out = e.release ? &p->release[p->nrelease++] : &p->block[p->nblock++];
		if (msg_entry_check(&e, caps_of(fw), out, why, sizeof(why)) < 0) {
			refuse(p, why);	/* (msg_decode checked it already: not reached) */
			return;
		}
	}
	if (h->flags & MSG_MORE_FOLLOWS) {
		reply(p, 0);
		return;
	}
	reply(p, finish(p, fw->apply(p->fw_state, p->block, p->nblock, p->release, p->nrelease)));
	p->nblock = p->nrelease = 0;
}

/* Whether path is one of the sources (1), a rotated copy of one next to it (2), or neither (0). */
static int
log_path_kind(const struct priv_fw *pf, const char *path)
{
	char *pd = xstrdup(path), *pb = xstrdup(path);
	const char *dir = dirname(pd), *base = basename(pb);
	int kind = 0;

	for (int i = 0; i < pf->nsources && kind != 1; i++) {
		char *sd, *sb;

		if (strcmp(pf->sources[i], path) == 0) {
			kind = 1;
			break;
		}
		sd = xstrdup(pf->sources[i]);
		sb = xstrdup(pf->sources[i]);
		if (strcmp(dirname(sd), dir) == 0 && follow_rotated_name(base, basename(sb)))
			kind = 2;
		free(sd);
		free(sb);
	}
	free(pd);
	free(pb);
	return kind;
}

/*
 * Open a log for the worker: a configured source (as named, a symbolic
 * link followed as without privsep) or a rotated copy of one in its
 * directory (never through a link: whoever can write the directory
 * could plant one to any file); a regular file either way.
 */
static void
open_log(struct priv *p, const char *path)
{
	int kind = log_path_kind(p->pf, path), fd;
	struct stat sb;
	char why[PATH_MAX + 100];

	if (kind == 0) {
		snprintf(why, sizeof(why), "an open of %.*s: not a source, nor a rotated copy of one", PATH_MAX, path);
		refuse(p, why);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (kind == 2 ? O_NOFOLLOW : 0));
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP) {
			snprintf(why, sizeof(why), "an open of %.*s: a symbolic link", PATH_MAX, path);
			refuse(p, why);
			return;
		}
		reply_fd(p, -e, -1);	/* (ENOENT: not there yet; the follower knows what that means) */
		return;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || fcntl(fd, F_SETFL, 0) != 0) {
		close(fd);
		snprintf(why, sizeof(why), "an open of %.*s: not a regular file", PATH_MAX, path);
		refuse(p, why);
		return;
	}
	reply_fd(p, 0, fd);
}

/* One datagram from the worker. */
static void
request(struct priv *p, const void *buf, size_t len)
{
	const struct fw_backend *fw = p->pf->fw;
	struct msg_hdr h;
	const struct msg_entry *m;
	char why[200];

	if (msg_decode(buf, len, caps_of(fw), &h, &m, why, sizeof(why)) < 0) {
		refuse(p, why);
		return;
	}
	/* each channel its own requests: an open never waits behind the firewall */
	if ((h.type == MSG_OPEN_LOG) != (p->reply_to == p->files)) {
		refuse(p, h.type == MSG_OPEN_LOG ? "an open on the firewall's channel" :
		    "a firewall request on the files' channel");
		return;
	}
	if (h.type == MSG_OPEN_LOG) {
		char path[MSG_PATH_MAX + 1];

		memcpy(path, (const char *)buf + sizeof(h), h.n);
		path[h.n] = '\0';
		open_log(p, path);
		return;
	}
	if (h.type != MSG_FW_APPLY && p->nblock + p->nrelease > 0) {
		refuse(p, "another request in the middle of a change's parts");
		return;
	}
	switch (h.type) {
	case MSG_FW_INIT:
		if (p->worker_inited) {
			refuse(p, "the firewall set up a second time");
			return;
		}
		/* (a worker started again finds it set up: it flushes and puts back what is in force, as at a start) */
		if (!p->inited && fw->init(p->pf->arg, &p->pf->opts, &p->fw_state) < 0) {
			reply(p, -1);
			return;
		}
		p->inited = p->worker_inited = 1;
		reply(p, 0);
		return;
	case MSG_FW_APPLY:
		gather(p, &h, m);
		return;
	case MSG_FW_FLUSH:
		if (!p->worker_inited) {
			refuse(p, "a flush before the firewall was set up");
			return;
		}
		reply(p, finish(p, fw->flush(p->fw_state)));
		return;
	case MSG_FW_FINI:
		if (!p->worker_inited) {
			refuse(p, "a close before the firewall was set up");
			return;
		}
		fw->fini(p->fw_state, (h.flags & MSG_REMOVE) != 0);
		p->inited = p->worker_inited = 0;
		reply(p, 0);
		return;
	default:
		refuse(p, "a message the privileged part does not take");
		return;
	}
}

struct priv *
priv_session_new(const struct priv_fw *pf, int sock, int files, pid_t worker)
{
	struct priv *p = xcalloc(1, sizeof(*p));

	p->pf = pf;
	p->sock = sock;
	p->files = files;
	p->worker = worker;
	return p;
}

void
priv_session_take(struct priv *p, int from, const void *buf, size_t len)
{
	p->reply_to = from;
	if (len > MSG_DATAGRAM_MAX)
		refuse(p, "a message longer than any the worker sends");
	else
		request(p, buf, len);
}

void
priv_session_free(struct priv *p)
{
	if (p == NULL)
		return;
	if (p->inited)
		p->pf->fw->fini(p->fw_state, 0);	/* (the blocks in force stay: the next start reconciles them) */
	free(p->block);
	free(p->release);
	free(p);
}

/* The command line of this process (/proc/self/cmdline), to run a worker again: NULL if unreadable. */
static char **
own_argv(void)
{
	FILE *f = fopen("/proc/self/cmdline", "re");
	char *buf = NULL, **av;
	size_t cap = 0, len = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 > cap)
			buf = xrealloc(buf, cap = (cap + 4096) * 2);
		size_t k = fread(buf + len, 1, cap - len - 1, f);

		if (k == 0)
			break;
		len += k;
	}
	fclose(f);
	if (len == 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	av = xcalloc(n + 3, sizeof(char *));	/* (+ the channel option, + NULL) */
	n = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		av[n++] = buf + i;	/* (buf is av[0]: freed with it, never: the privileged part keeps it) */
	return av;
}

/* The two channels' pairs (the firewall's, the files'): 0, or -1 (logged), nothing left open. */
static int
channels_open(int sv[2], int fv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("privsep: socketpair");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fv) != 0) {
		log_warn("privsep: socketpair");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return 0;
}

static void
channels_close(const int sv[2], const int fv[2])
{
	close(sv[0]);
	close(sv[1]);
	close(fv[0]);
	close(fv[1]);
}

static void
argv_free(char **argv)
{
	if (argv != NULL)
		free(argv[0]);	/* (the buffer all the arguments point into) */
	free(argv);
}

/* Start a worker again: new channels, this program run again with --privsep-channel. The pid, or -1. */
static pid_t
respawn(char *const *argv, int *sock, int *files)
{
	int sv[2], fv[2];
	pid_t pid;
	char opt[64];
	size_t n = 0;

	if (channels_open(sv, fv) < 0)
		return -1;
	while (argv[n] != NULL)
		n++;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_warn("privsep: fork");
		channels_close(sv, fv);
		return -1;
	}
	if (pid == 0) {
		char **av = xcalloc(n + 2, sizeof(char *));
		sigset_t none;

		memcpy(av, argv, n * sizeof(char *));
		snprintf(opt, sizeof(opt), "--privsep-channel=%d,%d", sv[1], fv[1]);
		av[n] = opt;
		close(sv[0]);
		close(fv[0]);
		/* the worker's ends stay open across the exec; the signals as a new process has them */
		if (fcntl(sv[1], F_SETFD, 0) != 0 || fcntl(fv[1], F_SETFD, 0) != 0)
			_exit(EX_OSERR);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", av);
		log_warn("privsep: running the worker again (/proc/self/exe)");
		_exit(EX_OSERR);
	}
	close(sv[1]);
	close(fv[1]);
	*sock = sv[0];
	*files = fv[0];
	return pid;
}

int
priv_serve(int sock, int files, pid_t worker, const struct priv_fw *pf, char *const *argv)
{
	struct priv *p = priv_session_new(pf, sock, files, worker);
	char *buf = xmalloc(MSG_DATAGRAM_MAX);
	sigset_t mask;
	int sigfd, status = 0, open = 1, stopping = 0, restarts = 0;
	int64_t window_start = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 || (sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fatal(EX_OSERR, "privsep: signals");
	for (;;) {
		struct pollfd pfd[3] = { { .fd = sigfd, .events = POLLIN }, { .fd = open ? p->sock : -1, .events = POLLIN },
			{ .fd = open ? p->files : -1, .events = POLLIN } };
		struct signalfd_siginfo si;
		pid_t np;

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			fatal(EX_OSERR, "privsep: poll");
		for (int c = 1; c <= 2; c++) {
			if (!(pfd[c].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* MSG_TRUNC: the datagram's whole length, so an oversized one is seen as such */
			ssize_t k = recv(pfd[c].fd, buf, MSG_DATAGRAM_MAX, MSG_TRUNC | MSG_DONTWAIT);

			if (k > 0)
				priv_session_take(p, pfd[c].fd, buf, (size_t)k);
			else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				open = 0;	/* the worker closed its end: its exit follows */
		}
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo != SIGCHLD) {
				stopping |= si.ssi_signo != SIGHUP;
				kill(p->worker, (int)si.ssi_signo);	/* the worker stops (or reloads) and says so */
			}
		if (waitpid(p->worker, &status, WNOHANG) != p->worker)
			continue;
		if (argv == NULL || stopping || !WIFSIGNALED(status))
			break;
		/* Killed, not by us: started again, unless it keeps dying. */
		if (time(NULL) - window_start > 60) {
			window_start = time(NULL);
			restarts = 0;
		}
		log_warnx("privsep: the worker (pid %ld) was killed by signal %d; starting it again", (long)p->worker,
		    WTERMSIG(status));
		if (++restarts > PRIV_RESTARTS_MAX) {
			log_warnx("privsep: %d restarts within a minute: giving up", PRIV_RESTARTS_MAX);
			break;
		}
		close(p->sock);
		close(p->files);
		p->nblock = p->nrelease = 0;	/* (a change it was sending in parts died with it) */
		p->worker_inited = 0;
		if ((np = respawn(argv, &p->sock, &p->files)) < 0)
			break;
		p->worker = np;
		open = 1;
	}
	free(buf);
	close(sigfd);
	close(p->sock);
	close(p->files);
	if (p->refused > 0)
		log_warnx("privsep: %lu message(s) from the worker were refused", p->refused);
	if (WIFSIGNALED(status))
		log_warnx("privsep: the worker (pid %ld) was killed by signal %d", (long)p->worker, WTERMSIG(status));
	/* (a worker that ended without closing the firewall: closed here, what is in force kept) */
	priv_session_free(p);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int
is_channel(int fd)
{
	struct stat sb;
	int type;
	socklen_t tl = sizeof(type);

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode) && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_SEQPACKET && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

int
privsep_rejoin(const char *user, int sock, int files, char *err, size_t errlen)
{
	if (user == NULL) {
		snprintf(err, errlen, "--privsep-channel without --user");
		return -1;
	}
	if (!is_channel(sock) || !is_channel(files) || sock == files) {
		snprintf(err, errlen, "--privsep-channel %d,%d: not the privileged part's channels", sock, files);
		return -1;
	}
	if (worker_drop(user, getppid(), err, errlen) < 0)
		return -1;
	log_info("privsep: worker pid %ld started again, as %s", (long)getpid(), user);
	return 0;
}

int
privsep_split(const char *user, const struct priv_fw *pf, int *sock, int *files, char *err, size_t errlen)
{
	sigset_t all, old;
	int sv[2], fv[2];
	pid_t pid, parent = getpid();
	char **argv;

	if (worker_user_check(user, err, errlen) < 0) {
		char why[300];

		snprintf(why, sizeof(why), "--user %s", err);
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	argv = own_argv();	/* (read now, while it is certainly this command's) */
	if (channels_open(sv, fv) < 0) {
		snprintf(err, errlen, "privsep: no channels to the worker");
		argv_free(argv);
		return -1;
	}
	/* Blocked across the fork: a signal in between is not lost, it waits for the privileged part's signalfd. */
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGCHLD);
	sigprocmask(SIG_BLOCK, &all, &old);
	fflush(NULL);		/* (nothing buffered before the fork is written twice) */
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "privsep: fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		channels_close(sv, fv);
		argv_free(argv);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close(fv[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		argv_free(argv);
		if (worker_drop(user, parent, err, errlen) < 0)
			fatalx(EX_NOPERM, "%s", err);	/* a worker that kept any privilege does not run */
		*sock = sv[1];
		*files = fv[1];
		return 0;
	}
	close(sv[1]);
	close(fv[1]);
	log_info("privsep: worker pid %ld started, to run as %s; this process (pid %ld) keeps the firewall", (long)pid, user,
	    (long)parent);
	if (argv == NULL)
		log_warnx("privsep: /proc/self/cmdline unreadable: a worker that dies is not started again");
	exit(priv_serve(sv[0], fv[0], pid, pf, argv));
}
