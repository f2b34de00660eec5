/*
 * fuzz_privsep.c - libFuzzer target: arbitrary bytes as the messages of a
 * worker taken over (privsep/msg.h), through the privileged part's own
 * request handling (priv_session_take, as priv_serve calls it).
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length
 * and that many bytes (a length past the input's end: the rest); the
 * length's top bit sends it on the files' channel instead of the
 * firewall's. So a run can set the firewall up, send a change in parts,
 * flush, close and open files in any order. The backend records and checks
 * what it is given: every entry that reaches it must hold what msg.h
 * promises (a known kind, a prefix within the limits, no host bits, no
 * loopback, a duration in range); otherwise the target aborts, and that is
 * a finding. The one source is a file in /tmp (with a rotated copy): opens
 * are real. The answers go to socketpairs and are drained, their
 * descriptors closed (a descriptor left open is a leak libFuzzer's
 * -rss_limit and the fd count would show; checked: at most one per answer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../privsep/msg.h"
#include "../../privsep/priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inits;

static void
must(int cond)
{
	if (!cond)
		abort();
}

static void
entry_ok(const struct fw_entry *e, int block)
{
	struct addr m = e->addr;

	must(e->addr.family == 4 || e->addr.family == 6);
	must(e->plen >= 0 && e->plen <= (e->addr.family == 4 ? 32 : 128));
	addr_mask(&m, e->plen);
	must(memcmp(&m, &e->addr, sizeof(m)) == 0);
	must(e->kind == FW_BLOCK || e->kind == FW_LIMIT || e->kind == FW_TARPIT);
	/* ports: a block's or a cap's only, none 0, nothing past the list; "whatever the ports" only on a release */
	must(e->nports <= FW_PORTS_MAX && (e->nports == 0 || e->kind == FW_BLOCK ||
	    (e->kind == FW_LIMIT && e->limit_per == 0)));
	for (int i = 0; i < FW_PORTS_MAX; i++)
		must(i < e->nports ? e->ports[i] != 0 : e->ports[i] == 0);
	must(e->every_scope <= 1 && !(block && e->every_scope));
	if (!block)
		return;
	must(e->plen >= (e->addr.family == 4 ? MSG_V4_PLEN_MIN : MSG_V6_PLEN_MIN));
	/* nothing of 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
	must(!(e->addr.family == 4 && e->addr.b[0] == 127));
	if (e->addr.family == 6) {
		static const uint8_t lo[16] = { [15] = 1 }, mapped[13] = { [10] = 0xff, [11] = 0xff, [12] = 127 };
		struct addr a = { .family = 6 };

		memcpy(a.b, lo, 16);
		addr_mask(&a, e->plen);
		must(memcmp(a.b, e->addr.b, 16) != 0);
		memset(a.b, 0, 16);
		memcpy(a.b, mapped, 13);
		addr_mask(&a, e->plen < 104 ? e->plen : 104);
		m = e->addr;
		addr_mask(&m, e->plen < 104 ? e->plen : 104);
		must(memcmp(a.b, m.b, 16) != 0);
	}
	must(e->seconds >= 0 && e->seconds <= MSG_SECONDS_MAX);
	if (e->kind == FW_LIMIT)
		must(e->limit_n >= 1 && e->limit_n <= FW_LIMIT_N_MAX && e->limit_per >= 1 &&
		    e->limit_per <= FW_LIMIT_PER_MAX);
}

static int
f_init(const char *arg, const struct fw_opts *o, void **st)
{
	(void)arg;
	(void)o;
	*st = &inits;
	inits++;
	return 0;
}

static int
f_apply(void *st, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr)
{
	must(st == &inits);
	for (int i = 0; i < nb; i++)
		entry_ok(&b[i], 1);
	for (int i = 0; i < nr; i++)
		entry_ok(&r[i], 0);
	return nb % 3 == 2 ? -1 : 0;	/* a firewall that fails now and then */
}

static int
f_flush(void *st)
{
	must(st == &inits);
	return 0;
}

static void
f_fini(void *st, int remove)
{
	(void)remove;
	must(st == &inits);
	inits--;
}

static const struct fw_backend fake = { .name = "fuzz", .shapes = 1, .ports = 1, .init = f_init, .apply = f_apply,
	.flush = f_flush, .fini = f_fini };

/* Read every answer waiting on s, closing the descriptors they carry. */
static void
drain(int s)
{
	for (;;) {
		char b[64];
		union {
			struct cmsghdr c;
			char buf[CMSG_SPACE(4 * sizeof(int))];
		} u;
		struct iovec iov = { b, sizeof(b) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };

		if (recvmsg(s, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			int fd;

			must(c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)));
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			close(fd);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 }, fv[2] = { -1, -1 };
	static char *sources[1];
	struct priv_fw pf = { .fw = &fake, .sources = sources, .nsources = 1 };
	struct priv *p;

	if (sv[0] < 0) {
		FILE *f;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fv) != 0)
			abort();
		sources[0] = "/tmp/mxg-fuzz-privsep.log";
		if ((f = fopen(sources[0], "w")) == NULL || fclose(f) != 0 ||
		    (f = fopen("/tmp/mxg-fuzz-privsep.log.1", "w")) == NULL || fclose(f) != 0)
			abort();
	}
	p = priv_session_new(&pf, sv[0], fv[0], 1);
	while (size >= 2) {
		size_t n = ((size_t)data[0] | (size_t)data[1] << 8) & 0x7fff;
		int files = (data[1] & 0x80) != 0;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		priv_session_take(p, files ? fv[0] : sv[0], data, n);
		data += n;
		size -= n;
		drain(sv[1]);
		drain(fv[1]);
	}
	priv_session_free(p);
	must(inits == 0);	/* set up at most once per session, and closed */
	return 0;
}
