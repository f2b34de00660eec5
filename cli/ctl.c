/*
 * ctl.c - the control socket's plumbing, and "mxguard ctl", its client.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/clock.h"
#include "commands.h"
#include "history.h"

static int
fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int
ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	mode_t old;
	int fd;

	if (fill_addr(&sa, path) < 0)
		return -1;
	/* A stale socket is ours to replace; a file (a mistyped path) is not ours to delete. */
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		log_warnx("control socket: %s exists and is not a socket; not replacing it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_warn("control socket");
		return -1;
	}
	unlink(path);
	old = umask(0177);	/* root-only from the start, not after a chmod race */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		umask(old);
		log_warn("control socket %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	chmod(path, 0600);
	return fd;
}

/* ------------------------------------------------------- the server --- */

struct cconn {
	int fd;
	int writing;		/* 0: reading the request; 1: sending the answer */
	int64_t deadline_ms;
	size_t n;		/* request bytes read */
	char req[CTL_MAXREQ];
	struct outbuf out;	/* the answer (memory only) */
	size_t off;		/* ... bytes of it sent */
	struct ctl_peer peer;	/* who connected (the kernel's word: SO_PEERCRED) */
};

struct ctl_server {
	int lfd;
	struct cconn *c[CTL_MAX_CONNS];
	int n;
};

struct ctl_server *
ctl_server_new(int lfd)
{
	struct ctl_server *cs = xcalloc(1, sizeof(*cs));

	cs->lfd = lfd;
	return cs;
}

static void
cdrop(struct ctl_server *cs, int i)
{
	struct cconn *c = cs->c[i];

	close(c->fd);
	if (c->writing)
		ob_free(&c->out);
	free(c);
	cs->c[i] = cs->c[--cs->n];
}

void
ctl_server_free(struct ctl_server *cs)
{
	if (cs == NULL)
		return;
	while (cs->n > 0)
		cdrop(cs, cs->n - 1);
	free(cs);
}

int
ctl_pollfds(struct ctl_server *cs, struct pollfd *pfd, int max)
{
	int k = 0;

	for (int i = 0; i < cs->n && k < max; i++)
		pfd[k++] = (struct pollfd){ .fd = cs->c[i]->fd, .events = cs->c[i]->writing ? POLLOUT : POLLIN };
	return k;
}

/* Send what the socket takes now. 1: all sent (close it), 0: more later, -1: the client is gone. */
static int
send_some(struct cconn *c)
{
	while (c->off < c->out.len) {
		ssize_t k = send(c->fd, c->out.p + c->off, c->out.len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->off += (size_t)k;
	}
	return 1;
}

/*
 * Read what has come. Once the request line is whole (or the client shut
 * its side, or it is too long), answer it and start sending.
 * 1: done (close it), 0: more later, -1: close it.
 */
static int
step(struct cconn *c, int64_t ms, ctl_handler h, void *arg)
{
	if (!c->writing) {
		int eof = 0;
		char *nl;

		for (;;) {
			ssize_t k = read(c->fd, c->req + c->n, sizeof(c->req) - 1 - c->n);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (k <= 0) {
				eof = 1;
				break;
			}
			c->n += (size_t)k;
			if (memchr(c->req, '\n', c->n) != NULL || c->n == sizeof(c->req) - 1)
				break;
		}
		c->req[c->n] = '\0';
		nl = memchr(c->req, '\n', c->n);
		if (nl == NULL && !eof && c->n < sizeof(c->req) - 1)
			return 0;		/* the rest of the line is still coming */
		if (nl == NULL && c->n == 0)
			return -1;		/* closed without asking */
		ob_init(&c->out, -1, 4096);
		c->writing = 1;
		c->off = 0;
		c->deadline_ms = ms + CTL_WRITE_MS;
		if (nl == NULL && !eof)
			OB_LIT(&c->out, "error: request too long\n");
		else {
			c->req[strcspn(c->req, "\r\n")] = '\0';
			h(arg, &c->peer, c->req, &c->out);
		}
	}
	return send_some(c);
}

/* Who gives way first when the table is full: 0 silent, 1 sending its request, 2 being answered. */
static int
rank(const struct cconn *c)
{
	return c->writing ? 2 : c->n > 0;
}

void
ctl_serve(struct ctl_server *cs, short lrevents, const struct pollfd *pfd, int n, ctl_handler h, void *arg)
{
	int64_t ms = mono_ms();

	/* Clients first (their order matches pfd), from the end so cdrop() keeps indexes. */
	for (int i = (n < cs->n ? n : cs->n) - 1; i >= 0; i--)
		if (pfd[i].revents != 0 && step(cs->c[i], ms, h, arg) != 0)
			cdrop(cs, i);
	/* Deadlines: for the whole request, and for the whole answer. */
	for (int i = cs->n - 1; i >= 0; i--)
		if (ms > cs->c[i]->deadline_ms) {
			log_debug("ctl: a client took too long %s; closed", cs->c[i]->writing ? "to read its answer" :
			    "to send its request");
			cdrop(cs, i);
		}
	if (!(lrevents & POLLIN))
		return;
	for (int accepted = 0; accepted < 64; accepted++) {
		int fd = accept4(cs->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct cconn *c;

		if (fd < 0)
			break;
		if (cs->n == CTL_MAX_CONNS) {
			/*
			 * Full: a client that has sent nothing gives way first, then
			 * one still sending, then one being answered; the oldest of
			 * its kind. A flood of idle connections thus churns through
			 * itself and leaves the clients that asked something alone.
			 */
			int old = 0;

			for (int i = 1; i < cs->n; i++)
				if (rank(cs->c[i]) < rank(cs->c[old]) ||
				    (rank(cs->c[i]) == rank(cs->c[old]) && cs->c[i]->deadline_ms < cs->c[old]->deadline_ms))
					old = i;
			log_debug("ctl: %d clients waiting; closing one", CTL_MAX_CONNS);
			cdrop(cs, old);
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		{
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			/* (the uid is the kernel's; a failure leaves uid -1, "not known") */
			c->peer.uid = (uid_t)-1;
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0) {
				c->peer.uid = cr.uid;
				c->peer.pid = cr.pid;
			}
		}
		c->deadline_ms = ms + CTL_READ_MS;
		/* A client like mxguard ctl has sent its line already: answered now, it never waits. */
		if (step(c, ms, h, arg) != 0) {
			close(c->fd);
			if (c->writing)
				ob_free(&c->out);
			free(c);
			continue;
		}
		cs->c[cs->n++] = c;
	}
}

/* ------------------------------------------------------- the client --- */

static void
ctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard ctl [--socket PATH] [--json] COMMAND\n"
	    "  status [RULE]            the daemon, or one rule: threshold, keys, decisions in force\n"
	    "  stats                    every rule's figures\n"
	    "  decisions [ADDR[/LEN] | RULE]\n"
	    "                           decisions in force (those holding ADDR, or RULE's): time left, why\n"
	    "  ban ADDR[/LEN] [for DURATION] [ACTION] [--force]\n"
	    "                           a manual decision (refused for /0, prefixes wider than 'set widest-ban',\n"
	    "                           trusted addresses and this host's own unless --force)\n"
	    "  unban ADDR[/LEN]         release every decision whose prefix holds it (or a key as listed)\n"
	    "  reputation ADDR...       what the feeds and zones say of addresses\n"
	    "  history [--file PATH] [ADDR[/LEN] | RULE]\n"
	    "                           the decision log: bans, unbans, expiries, flushes, reloads, and who\n"
	    "                           (rotated copies too; the daemon's log, or --file)\n"
	    "  metrics | reload | flush\n"
	    "Exit status: 0; 64 for a word a command does not take; 65 when the daemon refuses; 69 unreachable.\n");
}

/*
 * One request line to the daemon at path. The answer goes to stdout (to
 * stderr if it is an error), or into capture (NUL-terminated, cut at cap)
 * when capture is not NULL. The exit status: 0, EX_USAGE (a word the
 * command does not take), EX_DATAERR (refused), EX_UNAVAILABLE, EX_IOERR.
 */
static int
ask(const char *path, const char *req, size_t n, char *capture, size_t cap)
{
	struct sockaddr_un sa;
	struct timeval tmo = { .tv_sec = 30 };
	char buf[65536];
	int fd, failed = 0, first = 1;
	size_t got = 0;
	ssize_t k;

	if (fill_addr(&sa, path) < 0)
		return EX_USAGE;
	/*
	 * A daemon that is stuck (or a socket that is not one) must not hang
	 * scripts that call us: connecting, sending and each read get 30 s.
	 */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (capture == NULL)
			log_warn("ctl: cannot reach the daemon at %s", path);
		if (fd >= 0)
			close(fd);
		return EX_UNAVAILABLE;
	}
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		log_warn("ctl: send");
		close(fd);
		return EX_IOERR;
	}
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		if (first && k >= 7 && memcmp(buf, "error: ", 7) == 0)
			failed = k >= 14 && memcmp(buf, "error: usage: ", 14) == 0 ? EX_USAGE : EX_DATAERR;
		first = 0;
		if (capture != NULL) {
			size_t take = (size_t)k < cap - 1 - got ? (size_t)k : cap - 1 - got;

			memcpy(capture + got, buf, take);
			got += take;
		} else
			fwrite(buf, 1, (size_t)k, failed ? stderr : stdout);
	}
	if (capture != NULL)
		capture[got] = '\0';
	if (k < 0) {
		log_warn("ctl: no complete answer from the daemon");
		close(fd);
		return EX_UNAVAILABLE;
	}
	close(fd);
	return failed;
}

#define HISTORY_USAGE "history [--file PATH] [ADDR[/LEN] | RULE]"

/*
 * "history [--file PATH] [ADDR[/LEN] | RULE]": the decision log, read here
 * (history.h). Its path is the daemon's (asked: "decision-log"); with the
 * daemon stopped, the default one; --file names another.
 */
static int
ctl_history(const char *sock, int json, int argc, char **argv)
{
	char answer[4200];
	const char *file = NULL, *filter = NULL;
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && file == NULL)
			file = argv[++i];
		else if (argv[i][0] != '-' && filter == NULL)
			filter = argv[i];
		else {
			fprintf(stderr, "mxguard ctl: error: usage: " HISTORY_USAGE ": '%s' is not taken here\n", argv[i]);
			return EX_USAGE;
		}
	}
	if (file == NULL) {
		rc = ask(sock, "decision-log\n", 13, answer, sizeof(answer));
		if (rc == EX_UNAVAILABLE) {
			file = CTL_DECISION_LOG_DEFAULT;
			fprintf(stderr, "mxguard ctl: history: no daemon answers at %s; reading %s\n", sock, file);
		} else if (rc != 0) {
			fprintf(stderr, "mxguard ctl: %s", answer);
			return rc;
		} else {
			answer[strcspn(answer, "\n")] = '\0';
			file = answer;
		}
	}
	return history_show(file, filter, json, stdout);
}

int
cmd_ctl(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_SOCKET_DEFAULT;
	char req[CTL_MAXREQ];
	int json = 0, c;
	size_t n = 0;

	/* "+": stop at the command, whose own words may look like options. */
	while ((c = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = 1; break;
		case 'h': ctl_usage(stdout); return 0;
		default: ctl_usage(stderr); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[optind], "history") == 0)
		return ctl_history(path, json, argc - optind - 1, argv + optind + 1);
	n = (size_t)snprintf(req, sizeof(req), "%s", json ? "--json" : "");
	for (int i = optind; i < argc && n < sizeof(req); i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%s%s", n ? " " : "", argv[i]);
	if (n + 2 >= sizeof(req)) {
		log_warnx("ctl: request too long");
		return EX_USAGE;
	}
	req[n++] = '\n';
	return ask(path, req, n, NULL, 0);
}
