/*
 * test_privsep.c - the privsep messages (privsep/msg.c) and the
 * privileged part's loop (privsep/priv.c) against a worker that is a real
 * child process: what is taken and what refused, a change of more entries
 * than a datagram holds applied as one transaction, the worker's exit
 * status passed on. (The real daemon, real firewall and forged messages
 * on a real worker's channel: tests/sh/test_privsep.sh.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../privsep/msg.h"
#include "../../privsep/priv.h"

static struct fw_entry
entry(const char *text, int plen, int64_t seconds)
{
	struct fw_entry e = { .plen = plen, .seconds = seconds, .kind = FW_BLOCK };

	assert_true(addr_parse(text, strlen(text), &e.addr));
	return e;
}

static int
decode_one(const struct msg_entry *m, int shapes, char *why, size_t len)
{
	struct fw_entry e;

	return msg_entry_check(m, shapes, &e, why, len);
}

/* A block (or, release 1, a release) of text/plen built and checked as the privileged part checks it. */
static int
check_one(const char *text, int plen, int64_t seconds, int release, char *why, size_t len)
{
	struct fw_entry e = entry(text, plen, seconds);
	struct msg_entry m;

	msg_entry_of(&e, release, &m);
	return decode_one(&m, 0, why, len);
}

static void
test_entries(void **state)
{
	struct fw_entry e = entry("203.0.113.0", 24, 3600), back;
	struct msg_entry m;
	char why[200];

	(void)state;
	/* a block and a release make the same entry again */
	msg_entry_of(&e, 0, &m);
	assert_int_equal(msg_entry_check(&m, 0, &back, why, sizeof(why)), 0);
	assert_memory_equal(&back.addr, &e.addr, sizeof(e.addr));
	assert_int_equal(back.plen, 24);
	assert_int_equal(back.seconds, 3600);
	msg_entry_of(&e, 1, &m);
	assert_int_equal(m.release, 1);
	assert_int_equal(msg_entry_check(&m, 0, &back, why, sizeof(why)), 0);
	/* IPv6 prefix, a limit on a firewall that shapes, not on one that cannot */
	e = entry("2001:db8:1::", 48, 0);
	e.kind = FW_LIMIT;
	e.limit_n = 10;
	e.limit_per = 60;
	msg_entry_of(&e, 0, &m);
	assert_int_equal(msg_entry_check(&m, 1, &back, why, sizeof(why)), 0);
	assert_int_equal(back.limit_n, 10);
	assert_int_equal(msg_entry_check(&m, 0, &back, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "can only block"));
	/* the widest allowed prefixes pass, one bit wider does not */
	assert_int_equal(check_one("10.0.0.0", MSG_V4_PLEN_MIN, 60, 0, why, sizeof(why)), 0);
	assert_int_equal(check_one("0.0.0.0", MSG_V4_PLEN_MIN - 1, 60, 0, why, sizeof(why)), -1);
	assert_int_equal(check_one("2001::", MSG_V6_PLEN_MIN, 60, 0, why, sizeof(why)), 0);
	/* ... but a wide release is taken (it removes, it cannot cut anyone off) */
	assert_int_equal(check_one("0.0.0.0", 0, 0, 1, why, sizeof(why)), 0);
	/* loopback, and a prefix that holds it */
	assert_int_equal(check_one("127.0.0.0", 8, 60, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "loopback"));
	assert_int_equal(check_one("::", 16, 60, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "loopback"));
	/* all of 127.0.0.0/8 is loopback (fuzz_privsep's finding: 127.0.113.9 was taken), and the mapped form */
	{
		static const char *const lo[] = { "127.0.113.9", "127.0.0.53", "127.255.255.255" };

		for (size_t i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
			assert_int_equal(check_one(lo[i], 32, 60, 0, why, sizeof(why)), -1);
		}
	}
	/* (addr_parse makes ::ffff:a.b.c.d IPv4: the mapped form as a worker taken over would send it) */
	e = (struct fw_entry){ .addr = { .family = 6, .b = { [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1 } },
		.plen = 128, .seconds = 60 };
	msg_entry_of(&e, 0, &m);
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), -1);
	e.addr.b[12] = 126;
	msg_entry_of(&e, 0, &m);
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), 0);
	assert_int_equal(check_one("126.0.0.0", 8, 60, 0, why, sizeof(why)), 0);
	assert_int_equal(check_one("128.0.0.0", 8, 60, 0, why, sizeof(why)), 0);
	/* host bits, bytes past an IPv4 address, a prefix too long, durations */
	assert_int_equal(check_one("198.51.100.7", 24, 60, 0, why, sizeof(why)), -1);
	e = entry("198.51.100.7", 32, 60);
	msg_entry_of(&e, 0, &m);
	m.addr[4] = 1;
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), -1);
	m.addr[4] = 0;
	m.plen = 33;
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), -1);
	m.plen = 32;
	m.seconds = -1;
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), -1);
	m.seconds = MSG_SECONDS_MAX + 1;
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), -1);
	m.seconds = MSG_SECONDS_MAX;
	assert_int_equal(decode_one(&m, 0, why, sizeof(why)), 0);
	m.kind = 3;
	assert_int_equal(decode_one(&m, 1, why, sizeof(why)), -1);
	m.kind = FW_BLOCK;
	m.limit_n = 1;
	assert_int_equal(decode_one(&m, 1, why, sizeof(why)), -1);
}

/* Blocks of some ports only: carried whole, and held to what the firewall can do. */
static void
test_ports(void **state)
{
	struct fw_entry e = entry("203.0.113.0", 24, 3600), back;
	struct msg_entry m;
	char why[200];

	(void)state;
	e.ports[0] = 25;
	e.ports[1] = 587;
	e.nports = 2;
	msg_entry_of(&e, 0, &m);
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS, &back, why, sizeof(why)), 0);
	assert_int_equal(back.nports, 2);
	assert_int_equal(back.ports[0], 25);
	assert_int_equal(back.ports[1], 587);
	/* a firewall that cannot hold ports is never given a block of every port instead */
	assert_int_equal(msg_entry_check(&m, MSG_CAP_SHAPES, &back, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot hold ports"));
	/* a worker taken over: a port 0, bytes past the list, too many, ports on a limit */
	m.ports[1] = 0;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS, &back, why, sizeof(why)), -1);
	msg_entry_of(&e, 0, &m);
	m.ports[5] = 443;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS, &back, why, sizeof(why)), -1);
	msg_entry_of(&e, 0, &m);
	m.nports = FW_PORTS_MAX + 1;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS, &back, why, sizeof(why)), -1);
	msg_entry_of(&e, 0, &m);
	m.kind = FW_LIMIT;
	m.limit_n = 1;
	m.limit_per = 60;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS | MSG_CAP_SHAPES, &back, why, sizeof(why)), -1);
	/* a cap on open connections (a limit per 0): only to a firewall that counts them */
	e = entry("203.0.113.0", 24, 3600);
	e.kind = FW_LIMIT;
	e.limit_n = 3;
	e.limit_per = 0;
	msg_entry_of(&e, 0, &m);
	assert_int_equal(msg_entry_check(&m, MSG_CAP_SHAPES | MSG_CAP_CONNS, &back, why, sizeof(why)), 0);
	assert_int_equal(back.limit_n, 3);
	assert_int_equal(back.limit_per, 0);
	assert_int_equal(msg_entry_check(&m, MSG_CAP_SHAPES, &back, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot count"));
	/* ... which may be one that cannot shape (ipset): a cap, yes; a rate, no */
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS | MSG_CAP_CONNS, &back, why, sizeof(why)), 0);
	m.limit_per = 60;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS | MSG_CAP_CONNS, &back, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "can only block"));
	msg_entry_of(&e, 0, &m);
	/* a cap on some ports (pf's): its ports come through, to a firewall that holds ports */
	e.ports[0] = 25;
	e.nports = 1;
	msg_entry_of(&e, 0, &m);
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS | MSG_CAP_CONNS, &back, why, sizeof(why)), 0);
	assert_int_equal(back.nports, 1);
	assert_int_equal(back.ports[0], 25);
	assert_int_equal(msg_entry_check(&m, MSG_CAP_CONNS, &back, why, sizeof(why)), -1);
	e.ports[0] = 0;
	e.nports = 0;
	msg_entry_of(&e, 0, &m);
	/* "whatever the ports" is a release's, never a block's */
	e.nports = 0;
	e.every_scope = 1;
	msg_entry_of(&e, 1, &m);
	assert_int_equal(msg_entry_check(&m, 0, &back, why, sizeof(why)), 0);
	assert_int_equal(back.every_scope, 1);
	msg_entry_of(&e, 0, &m);
	assert_int_equal(m.every_scope, 0);
	m.every_scope = 1;
	assert_int_equal(msg_entry_check(&m, MSG_CAP_PORTS, &back, why, sizeof(why)), -1);
}

static void
test_frames(void **state)
{
	char buf[sizeof(struct msg_hdr) + 2 * sizeof(struct msg_entry)], why[200];
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_FW_APPLY, .n = 2 }, out;
	const struct msg_entry *ents;
	struct fw_entry e = entry("203.0.113.9", 32, 60);

	(void)state;
	memcpy(buf, &h, sizeof(h));
	msg_entry_of(&e, 0, (struct msg_entry *)(void *)(buf + sizeof(h)));
	msg_entry_of(&e, 1, (struct msg_entry *)(void *)(buf + sizeof(h) + sizeof(struct msg_entry)));
	assert_int_equal(msg_decode(buf, sizeof(buf), 0, &out, &ents, why, sizeof(why)), 0);
	assert_int_equal(out.n, 2);
	assert_non_null(ents);
	/* one byte short, one entry claimed too many, a bad entry among good ones */
	assert_int_equal(msg_decode(buf, sizeof(buf) - 1, 0, &out, &ents, why, sizeof(why)), -1);
	h.n = 3;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(msg_decode(buf, sizeof(buf), 0, &out, &ents, why, sizeof(why)), -1);
	h.n = 2;
	memcpy(buf, &h, sizeof(h));
	buf[sizeof(h) + sizeof(struct msg_entry) + 2] = 9;	/* the second entry's family */
	assert_int_equal(msg_decode(buf, sizeof(buf), 0, &out, &ents, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "entry 1"));
	/* requests without a body: a body, a count, a flag they do not have */
	h = (struct msg_hdr){ .magic = MSG_MAGIC, .type = MSG_FW_FLUSH };
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), 0);
	h.n = 1;
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), -1);
	h.n = 0;
	h.flags = MSG_REMOVE;
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), -1);
	h.type = MSG_FW_FINI;
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), 0);
	/* a reply is not a request; a wrong magic; unknown types */
	h = (struct msg_hdr){ .magic = MSG_MAGIC, .type = MSG_RESULT };
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), -1);
	h = (struct msg_hdr){ .magic = ~MSG_MAGIC, .type = MSG_FW_INIT };
	assert_int_equal(msg_decode(&h, sizeof(h), 0, &out, &ents, why, sizeof(why)), -1);
	assert_int_equal(msg_decode(&h, 3, 0, &out, &ents, why, sizeof(why)), -1);
}

/* ---- the privileged part's loop, against a recording backend and a real child as the worker ---- */

static struct {
	int inits, applies, flushes, finis, removes;
	int nblock, nrelease;	/* of the last apply */
	struct fw_entry first, last;
} rec;

static int
rec_init(const char *arg, const struct fw_opts *o, void **st)
{
	(void)arg;
	(void)o;
	*st = &rec;
	rec.inits++;
	return 0;
}

static int
rec_apply(void *st, const struct fw_entry *b, int nb, const struct fw_entry *r, int nr)
{
	(void)st;
	rec.applies++;
	rec.nblock = nb;
	rec.nrelease = nr;
	if (nb > 0) {
		rec.first = b[0];
		rec.last = b[nb - 1];
	}
	(void)r;
	return 0;
}

static int
rec_flush(void *st)
{
	(void)st;
	rec.flushes++;
	return 0;
}

static void
rec_fini(void *st, int remove)
{
	(void)st;
	rec.finis++;
	rec.removes += remove;
}

static const struct fw_backend recorder = { .name = "recorder", .shapes = 0, .init = rec_init, .apply = rec_apply,
	.flush = rec_flush, .fini = rec_fini };

/* The child's side: send one request, read its answer's rc (-2: none). */
static int
ask(int s, const void *msg, size_t len)
{
	struct msg_hdr h;

	if (send(s, msg, len, 0) != (ssize_t)len || recv(s, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != MSG_MAGIC || h.type != MSG_RESULT)
		return -2;
	return h.rc;
}

#define N_ENTRIES 2500	/* three datagrams */

/* The worker: a change of N_ENTRIES blocks and one release in parts, then a flush and a close. */
static int
worker(int s, int f)
{
	static char buf[MSG_DATAGRAM_MAX];
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_FW_INIT };
	int sent = 0, total = N_ENTRIES + 1;

	if (ask(f, &h, sizeof(h)) != -EACCES)	/* the firewall's requests on the files' channel: refused */
		return 9;
	if (ask(s, &h, sizeof(h)) != 0)
		return 10;
	h.type = MSG_FW_FLUSH;
	while (sent < total) {
		int n = total - sent > MSG_ENTRIES_MAX ? MSG_ENTRIES_MAX : total - sent;
		struct msg_hdr a = { .magic = MSG_MAGIC, .type = MSG_FW_APPLY, .n = (uint32_t)n,
			.flags = sent + n < total ? MSG_MORE_FOLLOWS : 0 };

		memcpy(buf, &a, sizeof(a));
		for (int i = 0; i < n; i++) {
			int k = sent + i;
			struct fw_entry e = { .addr = { .family = 4, .b = { 198, 51, (uint8_t)(k >> 8), (uint8_t)k } },
				.plen = 32, .seconds = 60 + k };

			msg_entry_of(&e, k == total - 1, (struct msg_entry *)(void *)(buf + sizeof(a)) + i);
		}
		if (ask(s, buf, sizeof(a) + (size_t)n * sizeof(struct msg_entry)) != 0)
			return 11;
		sent += n;
	}
	if (ask(s, &h, sizeof(h)) != 0)
		return 12;
	h.type = MSG_FW_INIT;
	if (ask(s, &h, sizeof(h)) != -1)	/* a second set-up: refused */
		return 13;
	h.type = MSG_FW_FINI;
	h.flags = MSG_REMOVE;
	if (ask(s, &h, sizeof(h)) != 0)
		return 14;
	return 42;
}

/* A child as the worker: fn gets its ends of the firewall's and the files' channels. */
static pid_t
start_worker(int *s, int *f, int (*fn)(int, int))
{
	int sv[2], fv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		close(fv[0]);
		_exit(fn(sv[1], fv[1]));
	}
	close(sv[1]);
	close(fv[1]);
	*s = sv[0];
	*f = fv[0];
	return pid;
}

static void
test_serve(void **state)
{
	struct priv_fw pf = { .fw = &recorder };
	int s, f;
	pid_t pid;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	pid = start_worker(&s, &f, worker);
	/* the worker's status comes back: 42 is its "all answers as expected" */
	assert_int_equal(priv_serve(s, f, pid, &pf, NULL), 42);
	assert_int_equal(rec.inits, 1);
	assert_int_equal(rec.applies, 1);	/* three datagrams, one transaction */
	assert_int_equal(rec.nblock, N_ENTRIES);
	assert_int_equal(rec.nrelease, 1);
	assert_int_equal(rec.first.addr.b[3], 0);
	assert_int_equal(rec.last.seconds, 60 + N_ENTRIES - 1);
	assert_int_equal(rec.flushes, 1);
	assert_int_equal(rec.finis, 1);
	assert_int_equal(rec.removes, 1);
}

/* A worker that starts a change in parts, then sends a bad part: nothing of it is applied. */
static int
worker_bad_part(int s, int f)
{
	char buf[sizeof(struct msg_hdr) + sizeof(struct msg_entry)];
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_FW_INIT };
	struct msg_hdr a = { .magic = MSG_MAGIC, .type = MSG_FW_APPLY, .n = 1, .flags = MSG_MORE_FOLLOWS };
	struct fw_entry e = { .addr = { .family = 4, .b = { 203, 0, 113, 1 } }, .plen = 32, .seconds = 60 };

	(void)f;
	if (ask(s, &h, sizeof(h)) != 0)
		return 10;
	memcpy(buf, &a, sizeof(a));
	msg_entry_of(&e, 0, (struct msg_entry *)(void *)(buf + sizeof(a)));
	if (ask(s, buf, sizeof(buf)) != 0)
		return 11;
	((struct msg_entry *)(void *)(buf + sizeof(a)))->plen = 0;	/* 0.0.0.0/0 with host bits: refused */
	a.flags = 0;
	memcpy(buf, &a, sizeof(a));
	if (ask(s, buf, sizeof(buf)) != -1)
		return 12;
	/* after it, a good one-part change: only it is applied */
	((struct msg_entry *)(void *)(buf + sizeof(a)))->plen = 32;
	if (ask(s, buf, sizeof(buf)) != 0)
		return 13;
	raise(SIGKILL);		/* and it dies: the status says so */
	return 14;
}

static void
test_bad_part(void **state)
{
	struct priv_fw pf = { .fw = &recorder };
	int s, f;
	pid_t pid;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	pid = start_worker(&s, &f, worker_bad_part);
	assert_int_equal(priv_serve(s, f, pid, &pf, NULL), 128 + SIGKILL);
	assert_int_equal(rec.applies, 1);
	assert_int_equal(rec.nblock, 1);
	/* killed without a close: the firewall is closed keeping what is in force */
	assert_int_equal(rec.finis, 1);
	assert_int_equal(rec.removes, 0);
}

/* ---- logs opened by the privileged part ---- */

static char dir[64], src[128];

/* Ask for path on the files' channel: the descriptor, or -errno (-1000: no proper answer). */
static int
open_via(int f, const char *path)
{
	size_t n = strlen(path);
	char buf[sizeof(struct msg_hdr) + 4096];
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_OPEN_LOG, .n = (uint32_t)n };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	int fd = -1;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), path, n);
	if (send(f, buf, sizeof(h) + n, 0) < 0 || recvmsg(f, &mh, 0) != (ssize_t)sizeof(h) || h.type != MSG_RESULT)
		return -1000;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return h.rc == 0 && fd >= 0 ? fd : h.rc;
}

static int
read_is(int fd, const char *want)
{
	char got[64] = "";
	ssize_t k = fd >= 0 ? read(fd, got, sizeof(got) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return k == (ssize_t)strlen(want) && memcmp(got, want, (size_t)k) == 0;
}

static int
worker_opens(int s, int f)
{
	char p[256];
	struct msg_hdr h = { .magic = MSG_MAGIC, .type = MSG_FW_INIT };

	if (!read_is(open_via(f, src), "current\n"))
		return 10;
	snprintf(p, sizeof(p), "%s.1", src);
	if (!read_is(open_via(f, p), "rotated\n"))
		return 11;
	snprintf(p, sizeof(p), "%s.2", src);	/* a rotated name, not there: ENOENT comes back */
	if (open_via(f, p) != -ENOENT)
		return 12;
	snprintf(p, sizeof(p), "%s.3", src);	/* a planted link to another file: refused */
	if (open_via(f, p) != -EACCES)
		return 13;
	snprintf(p, sizeof(p), "%s/other.log", dir);	/* not a source's name */
	if (open_via(f, p) != -EACCES)
		return 14;
	snprintf(p, sizeof(p), "%s/../%s/mail.log", dir, dir + 5);	/* the same file by another path */
	if (open_via(f, p) != -EACCES)
		return 15;
	if (open_via(f, "/etc/passwd") != -EACCES || open_via(f, "/dev/null") != -EACCES)
		return 16;
	snprintf(p, sizeof(p), "%s.gz", src);	/* compressed copies are not read */
	if (open_via(f, p) != -EACCES)
		return 17;
	if (open_via(s, src) != -1)	/* an open on the firewall's channel: refused */
		return 18;
	(void)h;
	return 42;
}

static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_open_logs(void **state)
{
	char *const sources[] = { src };
	struct priv_fw pf = { .fw = &recorder, .sources = sources, .nsources = 1 };
	char p[256];
	int s, f;
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mxg-privsep-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/mail.log", dir);
	put_file(src, "current\n");
	snprintf(p, sizeof(p), "%s.1", src);
	put_file(p, "rotated\n");
	snprintf(p, sizeof(p), "%s.gz", src);
	put_file(p, "packed\n");
	snprintf(p, sizeof(p), "%s/other.log", dir);
	put_file(p, "other\n");
	snprintf(p, sizeof(p), "%s.3", src);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	pid = start_worker(&s, &f, worker_opens);
	assert_int_equal(priv_serve(s, f, pid, &pf, NULL), 42);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_bad_part),
		cmocka_unit_test(test_open_logs),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("privsep", tests, NULL, NULL);
}
