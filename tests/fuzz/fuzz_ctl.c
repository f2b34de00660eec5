/*
 * fuzz_ctl.c - libFuzzer target: arbitrary bytes as a control socket
 * client's stream (cli/ctl.c).
 *
 * The control socket is root's (mode 0600), but docs/ARCHITECTURE.md does
 * not trust its clients to frame requests well either: a script that
 * writes garbage, no newline, a NUL, a line too long, or closes early
 * must neither stall nor crash the daemon's loop. Each input is written
 * to a real listener (a Unix socket in /tmp, never a network) and served
 * by ctl_serve() as the daemon does, with a handler that checks what the
 * framing hands it — a NUL-terminated line shorter than CTL_MAXREQ, with
 * no CR or LF — and answers with a copy of it. (The commands themselves,
 * cli/control.c, are fuzz_control's.)
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../cli/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctl_server *cs;
static int lfd = -1;
static char path[108];
static unsigned long requests;

static void
cleanup(void)
{
	ctl_server_free(cs);
	if (lfd >= 0)
		close(lfd);
	unlink(path);
}

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mxguard-fuzz-ctl-%d.sock", (int)getpid());
	if ((lfd = ctl_listen(path)) < 0)
		abort();
	cs = ctl_server_new(lfd);
	atexit(cleanup);
}

static void
handler(void *arg, const struct ctl_peer *peer, char *req, struct outbuf *out)
{
	size_t n = strlen(req);

	(void)arg;
	if (n >= CTL_MAXREQ || strpbrk(req, "\r\n") != NULL)
		abort();
	if (peer->uid != getuid() || peer->pid != getpid())
		abort();	/* (the clients are this process: the kernel's credentials say so) */
	requests++;
	OB_LIT(out, "echo ");
	ob_put(out, req, n);
	OB_LIT(out, "\n");
}

/* One round of the server: accept, read, answer, deadlines. Returns the clients polled. */
static int
serve(void)
{
	struct pollfd pfd[1 + CTL_MAX_CONNS];
	int n;

	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	n = ctl_pollfds(cs, pfd + 1, CTL_MAX_CONNS);
	if (poll(pfd, (nfds_t)(1 + n), 0) < 0)
		return -1;
	ctl_serve(cs, pfd[0].revents, pfd + 1, n, handler, NULL);
	return n;
}

static void
drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t off = 0;
	int fd;

	if (cs == NULL)
		setup();
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return 0;
	}
	serve();		/* accept it */
	for (int round = 0; round < 64 && off < size; round++) {
		ssize_t k = write(fd, data + off, size - off);

		if (k < 0 && errno != EAGAIN && errno != EINTR)
			break;	/* the server answered and closed it */
		if (k > 0)
			off += (size_t)k;
		serve();
		drain(fd);
	}
	shutdown(fd, SHUT_WR);	/* a request without a newline is answered at the client's end of input */
	for (int round = 0; round < 64 && serve() > 0; round++)
		drain(fd);
	close(fd);
	/* Until the server has dropped the connection: none may be left behind. */
	for (int round = 0; round < 64 && serve() > 0; round++)
		;
	if (serve() > 0)
		abort();
	return 0;
}
