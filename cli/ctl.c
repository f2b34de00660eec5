/*
 * ctl.c - the control socket's plumbing, and "mxguard ctl", its client.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "../common/log.h"
#include "commands.h"

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
	mode_t old;
	int fd;

	if (fill_addr(&sa, path) < 0)
		return -1;
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

int
ctl_accept(int lfd, char *req, size_t reqlen)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -1;
	/* A client gets one second to send its line: the daemon must not hang on it. */
	while (n + 1 < reqlen) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 1000) <= 0)
			break;
		k = read(fd, req + n, reqlen - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(req, '\n', n) != NULL)
			break;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	return fd;
}

static void
ctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxguard ctl [--socket PATH] [--json] COMMAND\n"
	    "  status | stats | decisions | ban ADDR[/LEN] [for DURATION] [ACTION]\n"
	    "  | unban ADDR[/LEN] | reload | flush\n");
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
	struct sockaddr_un sa;
	char req[CTL_MAXREQ], buf[65536];
	int json = 0, c, fd, failed = 0, first = 1;
	size_t n = 0;
	ssize_t k;

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
	n = (size_t)snprintf(req, sizeof(req), "%s", json ? "--json" : "");
	for (int i = optind; i < argc && n < sizeof(req); i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%s%s", n ? " " : "", argv[i]);
	if (n + 2 >= sizeof(req)) {
		log_warnx("ctl: request too long");
		return EX_USAGE;
	}
	req[n++] = '\n';
	if (fill_addr(&sa, path) < 0)
		return EX_USAGE;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn("ctl: cannot reach the daemon at %s", path);
		return EX_UNAVAILABLE;
	}
	if (write(fd, req, n) != (ssize_t)n) {
		log_warn("ctl: send");
		close(fd);
		return EX_IOERR;
	}
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		if (first && k >= 7 && memcmp(buf, "error: ", 7) == 0)
			failed = 1;
		first = 0;
		fwrite(buf, 1, (size_t)k, failed ? stderr : stdout);
	}
	close(fd);
	return failed ? EX_DATAERR : 0;
}
