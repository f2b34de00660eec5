/*
 * fuzz_socketmap.c - libFuzzer target: arbitrary bytes as socketmap
 * requests (actions/socketmap.c).
 *
 * The socket is mode 0660 for the MTA's group, but docs/MAPS.md does not
 * trust its local clients either: any process of that group (or a
 * compromised smtpd) can write anything to it. Each input goes two ways:
 *
 *  - straight to smap_answer() as one "NAME KEY" request, at most REQ_MAX
 *    (4096) bytes: the bound serve_conn() enforces before it calls it
 *    (smap_answer copies the key into a 4097-byte buffer, so a longer
 *    request is outside its contract, not a finding);
 *  - as the byte stream of a connection to a real listener (a Unix socket
 *    in /tmp, never a network), through smap_serve(): the netstring reader
 *    (serve_conn) is static, smap_serve is the nearest public function.
 *
 * The decision map holds a few client, HELO, sender and sender-domain
 * keys of every kind of action, so lookups hit as well as miss.
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

#include "../../actions/dmap.h"
#include "../../actions/socketmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1796551200		/* 2026-12-06T10:00:00Z */
#define REQ_MAX 4096		/* actions/socketmap.c */

static struct dmap *m;
static struct smap *s;
static char path[108];

static void
put(enum dmap_kind kind, const char *key, enum dmap_action action, uint32_t n, uint32_t per)
{
	struct dmap_hit h = { .action = action, .until = NOW + 3600, .limit_n = n, .limit_per = per };

	snprintf(h.rule, sizeof(h.rule), "fuzz-%d", (int)action);
	if (!dmap_put(m, kind, key, &h))
		abort();
}

static void
cleanup(void)
{
	smap_close(s);		/* (removes the socket) */
}

static void
setup(void)
{
	struct smap_opts o = { 0 };

	m = dmap_new(64);
	put(DK_CLIENT, "203.0.113.5", DM_BLOCK, 0, 0);
	put(DK_CLIENT, "203.0.113.6", DM_REJECT, 0, 0);
	put(DK_CLIENT, "198.51.100.0/24", DM_DEFER, 0, 0);
	put(DK_CLIENT, "198.51.100.7", DM_TARPIT, 0, 0);
	put(DK_CLIENT, "198.51.100.8", DM_LIMIT, 2, 60);
	put(DK_CLIENT, "2001:db8:1::/48", DM_DISCARD, 0, 0);
	put(DK_CLIENT, "2001:db8:2::5", DM_HOLD, 0, 0);
	put(DK_HELO, "bad.example", DM_REJECT, 0, 0);
	put(DK_SENDER, "spam@bad.example", DM_DEFER, 0, 0);
	put(DK_SENDER_DOMAIN, "bad.example", DM_BLOCK, 0, 0);
	for (int i = 0; i < 3; i++) {
		struct addr a;

		if (addr_parse("198.51.100.8", 12, &a))
			dmap_count_message(m, &a, NOW - i);
	}
	snprintf(path, sizeof(path), "/tmp/mxguard-fuzz-smap-%d.sock", (int)getpid());
	s = smap_listen(path, &o, m);
	atexit(cleanup);
}

/* One round of the server: accept, read, answer, deadlines. */
static int
serve(void)
{
	struct pollfd pfd[1 + SMAP_MAX_CONNS];
	int n = smap_pollfds(s, pfd, 1 + SMAP_MAX_CONNS);

	if (poll(pfd, (nfds_t)n, 0) < 0)
		return -1;
	smap_serve(s, pfd, n, NOW);
	return n;
}

static void
drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
through_socket(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t off = 0;
	int fd;

	if (s == NULL)
		return;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	serve();		/* accept it */
	/* The request bytes, answered as they come; replies read so the server never stalls. */
	for (int round = 0; round < 64 && off < size; round++) {
		ssize_t k = write(fd, data + off, size - off);

		if (k < 0 && errno != EAGAIN && errno != EINTR)
			break;	/* the server closed it (bad framing) */
		if (k > 0)
			off += (size_t)k;
		serve();
		drain(fd);
	}
	close(fd);
	/* Until the server has seen the close and dropped the connection. */
	for (int round = 0; round < 64 && serve() > 1; round++)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[512];
	size_t n = size > REQ_MAX ? REQ_MAX : size;

	if (m == NULL)
		setup();
	memset(out, 0x55, sizeof(out));
	smap_answer(m, (const char *)data, n, NOW, out, sizeof(out));
	/* A reply is NUL-terminated and one of the protocol's three kinds. */
	if (memchr(out, '\0', sizeof(out)) == NULL ||
	    (strncmp(out, "OK ", 3) != 0 && strncmp(out, "NOTFOUND ", 9) != 0 && strncmp(out, "PERM ", 5) != 0))
		abort();
	through_socket(data, size);
	return 0;
}
