/*
 * fuzz_privsep.c - libFuzzer target: arbitrary bytes as the messages of a
 * worker taken over (privsep/msg.h), through the privileged part's own
 * request handling (priv_session_take, as priv_serve calls it).
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length
 * and that many bytes (a length past the input's end: the rest), so a run
 * can set the firewall up, send a change in parts, flush and close in any
 * order. The backend records and checks what it is given: every entry
 * that reaches it must hold what msg.h promises (a known kind, a prefix
 * within the limits, no host bits, no loopback, a duration in range);
 * otherwise the target aborts, and that is a finding. The answers go to a
 * socketpair and are drained.
 */
#include <stddef.h>
#include <stdint.h>
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
	if (!block)
		return;
	must(e->plen >= (e->addr.family == 4 ? MSG_V4_PLEN_MIN : MSG_V6_PLEN_MIN));
	must(!(e->addr.family == 4 && e->addr.b[0] == 127));
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

static const struct fw_backend fake = { .name = "fuzz", .shapes = 1, .init = f_init, .apply = f_apply,
	.flush = f_flush, .fini = f_fini };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 };
	struct priv_fw pf = { .fw = &fake };
	struct priv *p;
	char drain[64];

	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	p = priv_session_new(&pf, sv[0], 1);
	while (size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		priv_session_take(p, data, n);
		data += n;
		size -= n;
		while (recv(sv[1], drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
	}
	priv_session_free(p);
	must(inits == 0);	/* set up at most once per session, and closed */
	return 0;
}
