/*
 * test_fw.c - the firewall backends' shared helpers: backend options
 * (name, allowed flags, bad names, foreign keys), action names to firewall
 * kinds, entry keys to entries (host bits, IPv4-mapped input, garbage) and
 * back to text, the backend lookup by name and whole --firewall values,
 * and the expiry heap: order, the `now` boundary, growth of the caller's
 * out array, and a long random sequence of adds and pops against a plain
 * list.
 *
 * The command runner (fw_run and friends): output captured whole, exit
 * statuses, and what a daemon must survive — a command that exits without
 * reading 1 MiB of input (EPIPE, not SIGPIPE), one that is not there, one
 * killed by a signal — with no descriptor left behind after 60 of them.
 * Its 10 s timeout is covered by tests/sh/test_daemon_faults.sh.
 */
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../actions/fw.h"
#include "testutil.h"

/* The message of the last failed fw_opts_parse. */
static char err[200];

/*
 * Options for a backend whose name key is key. The struct starts out as
 * junk so that a default the parser forgets to set shows.
 */
static int
opts_key(const char *arg, const char *key, const char *allowed, struct fw_opts *o)
{
	memset(o, 0x5a, sizeof(*o));
	memset(err, 0, sizeof(err));
	return fw_opts_parse(arg, key, allowed, o, err, sizeof(err));
}

static int
opts(const char *arg, const char *allowed, struct fw_opts *o)
{
	return opts_key(arg, "chain", allowed, o);
}

/* arg is refused, and the message names what was wrong (the user has only the message). */
static void
refused_key(const char *arg, const char *key, const char *allowed, const char *culprit)
{
	struct fw_opts o;

	if (opts_key(arg, key, allowed, &o) != -1)
		fail_msg("'%s' (%s=, allowed '%s') accepted, name '%.28s'", arg, key, allowed, o.name);
	if (err[0] == '\0')
		fail_msg("'%s': refused with no message", arg);
	if (strstr(err, culprit) == NULL)
		fail_msg("'%s': message '%s' does not name '%s'", arg, err, culprit);
}

static void
refused(const char *arg, const char *allowed, const char *culprit)
{
	refused_key(arg, "chain", allowed, culprit);
}

static void
test_opts_default(void **state)
{
	struct fw_opts o;

	(void)state;
	assert_int_equal(opts(NULL, "forward reject", &o), 0);
	assert_string_equal(o.name, "mxguard");
	assert_int_equal(o.forward, 0);
	assert_int_equal(o.reject, 0);

	assert_int_equal(opts("", "forward reject", &o), 0);
	assert_string_equal(o.name, "mxguard");
	assert_int_equal(o.forward, 0);
	assert_int_equal(o.reject, 0);
}

static void
test_opts_name(void **state)
{
	struct fw_opts o;

	(void)state;
	assert_int_equal(opts("chain=abc", "", &o), 0);
	assert_string_equal(o.name, "abc");
	assert_int_equal(o.forward, 0);
	assert_int_equal(o.reject, 0);

	/* every character class a name may use; '-' only after the first */
	assert_int_equal(opts("chain=My_chain-2", "", &o), 0);
	assert_string_equal(o.name, "My_chain-2");
	assert_int_equal(opts("chain=_x", "", &o), 0);
	assert_string_equal(o.name, "_x");

	/* the name key is the backend's own word */
	assert_int_equal(opts_key("table=t_1", "table", "", &o), 0);
	assert_string_equal(o.name, "t_1");
	assert_int_equal(opts_key("set=s,forward", "set", "forward", &o), 0);
	assert_string_equal(o.name, "s");
	assert_int_equal(o.forward, 1);
}

/* Another backend's name key is a mistake (a pf option given to iptables), not ignored. */
static void
test_opts_foreign_name_key_rejected(void **state)
{
	(void)state;
	refused("table=x", "forward reject", "table=x");
	refused("set=x", "forward reject", "set=x");
	refused("pool=x", "forward reject", "pool=x");
	refused_key("chain=x", "table", "", "chain=x");
	/* the key must match whole, not as a prefix either way */
	refused("chai=x", "forward reject", "chai=x");
	refused("chains=x", "forward reject", "chains=x");
	refused("CHAIN=x", "forward reject", "CHAIN=x");
	/* the name key without a value is no flag */
	refused("chain", "forward reject", "chain");
}

static void
test_opts_allowed_flags(void **state)
{
	struct fw_opts o;

	(void)state;
	assert_int_equal(opts("forward", "forward reject", &o), 0);
	assert_string_equal(o.name, "mxguard");
	assert_int_equal(o.forward, 1);
	assert_int_equal(o.reject, 0);

	assert_int_equal(opts("reject", "forward reject", &o), 0);
	assert_int_equal(o.forward, 0);
	assert_int_equal(o.reject, 1);

	assert_int_equal(opts("reject,forward", "forward reject", &o), 0);
	assert_int_equal(o.forward, 1);
	assert_int_equal(o.reject, 1);

	/* the list's order and spacing do not matter */
	assert_int_equal(opts("forward", "  reject   forward ", &o), 0);
	assert_int_equal(o.forward, 1);
	assert_int_equal(o.reject, 0);
}

/* A backend that cannot REJECT (or hook FORWARD) must say so, not silently DROP. */
static void
test_opts_flag_not_allowed_rejected(void **state)
{
	(void)state;
	refused("reject", "forward", "reject");
	refused("forward", "reject", "forward");
	refused("forward", "", "forward");
	refused("reject", "", "reject");
	refused("bogus", "forward reject", "bogus");
	/* words match whole */
	refused("forw", "forward reject", "forw");
	refused("forwardx", "forward reject", "forwardx");
	refused("Forward", "forward reject", "Forward");
	/* one bad option spoils the lot */
	refused("chain=x,forward,bogus", "forward reject", "bogus");
	/* an empty option is no flag, even where the list has an empty word (leading space) */
	refused("forward,,reject", " forward reject", "unknown option");
	refused(",", " forward reject", "unknown option");
}

/* Names go into kernel objects and command lines: nothing a shell or a parser would split. */
static void
test_opts_bad_names_rejected(void **state)
{
	static const char *const bad[] = {
		"chain=a;b", "chain=a b", "chain=-x", "chain=", "chain=a/b", "chain=a.b",
		"chain=a$b", "chain=a\"b", "chain=a=b", "chain=a\tb",
		"chain=abcdefghijklmnopqrstuvwxyz012",	/* 29 characters */
		"chain=abcdefghijklmnopqrstuvwxyz0123456789",
	};
	struct fw_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], "forward reject", bad[i] + strlen("chain="));
	/* also after good options, and the name is what the message quotes */
	refused("forward,chain=a;b", "forward", "'a;b'");

	/* 28 characters is the longest name, kept whole */
	assert_int_equal(opts("chain=abcdefghijklmnopqrstuvwxyz01", "", &o), 0);
	assert_string_equal(o.name, "abcdefghijklmnopqrstuvwxyz01");
	assert_int_equal(strlen(o.name), sizeof(o.name) - 1);
	/* a 28-character name followed by more options ends at the comma */
	assert_int_equal(opts("chain=abcdefghijklmnopqrstuvwxyz01,forward", "forward", &o), 0);
	assert_string_equal(o.name, "abcdefghijklmnopqrstuvwxyz01");
	assert_int_equal(o.forward, 1);
}

static void
test_opts_combination(void **state)
{
	struct fw_opts o;

	(void)state;
	assert_int_equal(opts("chain=x,forward,reject", "forward reject", &o), 0);
	assert_string_equal(o.name, "x");
	assert_int_equal(o.forward, 1);
	assert_int_equal(o.reject, 1);

	/* the name need not come first, and stops at the next comma */
	assert_int_equal(opts("reject,chain=mx_1,forward", "forward reject", &o), 0);
	assert_string_equal(o.name, "mx_1");
	assert_int_equal(o.forward, 1);
	assert_int_equal(o.reject, 1);

	assert_int_equal(opts("chain=ab,reject", "forward reject", &o), 0);
	assert_string_equal(o.name, "ab");
	assert_int_equal(o.forward, 0);
	assert_int_equal(o.reject, 1);
}

/* Flags are bare words: "forward=0" must not be read as forward on. */
static void
test_opts_flag_with_value_rejected(void **state)
{
	(void)state;
	refused("forward=1", "forward reject", "forward=1");
	refused("forward=0", "forward reject", "forward=0");
	refused("reject=", "forward reject", "reject=");
	refused("chain=x,reject=yes", "forward reject", "reject=yes");
}

static void
test_kind_of(void **state)
{
	(void)state;
	assert_int_equal(fw_kind_of("block"), FW_BLOCK);
	assert_int_equal(fw_kind_of("limit"), FW_LIMIT);
	assert_int_equal(fw_kind_of("tarpit"), FW_TARPIT);
	/* actions the firewall has no part in */
	assert_int_equal(fw_kind_of("reject"), -1);
	assert_int_equal(fw_kind_of("log"), -1);
	assert_int_equal(fw_kind_of(""), -1);
	/* whole words only */
	assert_int_equal(fw_kind_of("bloc"), -1);
	assert_int_equal(fw_kind_of("blocks"), -1);
	assert_int_equal(fw_kind_of("Block"), -1);
}

/* An entry from a key the test knows to be good. */
static struct fw_entry
entry(const char *key, int64_t seconds)
{
	struct fw_entry e;

	if (!fw_entry_parse(key, seconds, &e))
		fail_msg("'%s' did not parse", key);
	return e;
}

/* e's address is exactly the address written as s (all 16 bytes: no stray host bits). */
static void
assert_addr(const struct fw_entry *e, const char *s)
{
	struct addr want = A(s);

	if (memcmp(&e->addr, &want, sizeof(want)) != 0) {
		char buf[ADDR_STRLEN];

		addr_format(&e->addr, buf);
		fail_msg("address %s (family %d), want %s", buf, e->addr.family, s);
	}
}

static void
test_entry_parse_host(void **state)
{
	struct fw_entry e;

	(void)state;
	/* junk first: everything the parse does not set must come out zero */
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(fw_entry_parse("203.0.113.7", 600, &e), 1);
	assert_int_equal(e.addr.family, 4);
	assert_int_equal(e.plen, 32);
	assert_addr(&e, "203.0.113.7");
	assert_int_equal(e.seconds, 600);
	assert_int_equal(e.kind, FW_BLOCK);
	assert_int_equal(e.limit_n, 0);
	assert_int_equal(e.limit_per, 0);

	e = entry("2001:db8::1", 0);
	assert_int_equal(e.addr.family, 6);
	assert_int_equal(e.plen, 128);
	assert_addr(&e, "2001:db8::1");
	assert_int_equal(e.seconds, 0);
}

/* A prefix is the network: the backends compare and delete by the exact key. */
static void
test_entry_parse_clears_host_bits(void **state)
{
	struct fw_entry e;

	(void)state;
	e = entry("203.0.113.77/24", 60);
	assert_int_equal(e.addr.family, 4);
	assert_int_equal(e.plen, 24);
	assert_addr(&e, "203.0.113.0");
	assert_int_equal(e.seconds, 60);

	/* prefix lengths that split a byte */
	e = entry("198.51.100.255/25", 0);
	assert_int_equal(e.plen, 25);
	assert_addr(&e, "198.51.100.128");
	e = entry("198.51.100.255/31", 0);
	assert_addr(&e, "198.51.100.254");
	e = entry("203.0.113.77/32", 0);
	assert_addr(&e, "203.0.113.77");
	e = entry("203.0.113.77/0", 0);
	assert_int_equal(e.plen, 0);
	assert_addr(&e, "0.0.0.0");

	e = entry("2001:db8:1:2:3::9/64", 0);
	assert_int_equal(e.addr.family, 6);
	assert_int_equal(e.plen, 64);
	assert_addr(&e, "2001:db8:1:2::");
	/* 2001:db8:1:2ff:: in /56 keeps the 02 of the 4th group, in /60 the 2f */
	e = entry("2001:db8:1:2ff:ffff::1/56", 0);
	assert_addr(&e, "2001:db8:1:200::");
	e = entry("2001:db8:1:2ff:ffff::1/60", 0);
	assert_addr(&e, "2001:db8:1:2f0::");
	e = entry("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/127", 0);
	assert_addr(&e, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe");
	e = entry("2001:db8::1/32", 0);
	assert_addr(&e, "2001:db8::");
}

/* addr_parse stores ::ffff:a.b.c.d as IPv4 (addr.h), so the firewall gets one key per host. */
static void
test_entry_parse_ipv4_mapped(void **state)
{
	struct fw_entry e;

	(void)state;
	e = entry("::ffff:198.51.100.1", 0);
	assert_int_equal(e.addr.family, 4);
	assert_int_equal(e.plen, 32);
	assert_addr(&e, "198.51.100.1");

	/* a prefix on it then counts in IPv4 bits */
	e = entry("::ffff:198.51.100.77/24", 0);
	assert_int_equal(e.addr.family, 4);
	assert_int_equal(e.plen, 24);
	assert_addr(&e, "198.51.100.0");
}

static void
test_entry_parse_garbage(void **state)
{
	static const char *const bad[] = {
		"x", "", "203.0.113.7/33", "!203.0.113.7", "!203.0.113.0/24", "203.0.113.7/",
		"203.0.113.7/-1", "203.0.113.7/2x", "203.0.113.256", "203.0.113", "203.0.113.7 ",
		" 203.0.113.7", "2001:db8::/129", "2001:db8::1%eth0", "203.0.113.7/24/24",
	};
	struct fw_entry e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fw_entry_parse(bad[i], 0, &e) != 0)
			fail_msg("'%s' parsed (family %d, plen %d)", bad[i], e.addr.family, e.plen);
}

/* fw_entry_text into a buffer of exactly the documented size (ASan sees an overrun). */
static const char *
text(const struct fw_entry *e)
{
	static char buf[ADDR_STRLEN + 4];

	fw_entry_text(e, buf);
	return buf;
}

static void
test_entry_text_round_trip(void **state)
{
	static const char *const keys[] = {
		"203.0.113.0/24", "203.0.113.7/32", "198.51.100.128/25", "0.0.0.0/0",
		"2001:db8:1:2::/64", "2001:db8::/32", "2001:db8::1/128", "::/0",
		/* the longest text a buffer of ADDR_STRLEN + 4 has to hold here */
		"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128",
	};
	struct fw_entry e, back;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		e = entry(keys[i], 0);
		assert_string_equal(text(&e), keys[i]);
		back = entry(text(&e), 0);
		assert_memory_equal(&back, &e, sizeof(e));
	}

	/* what the parse changed comes out canonical */
	e = entry("203.0.113.77/24", 0);
	assert_string_equal(text(&e), "203.0.113.0/24");
	e = entry("203.0.113.7", 0);
	assert_string_equal(text(&e), "203.0.113.7/32");
	e = entry("2001:DB8:0:0:1:2:3:9/64", 0);
	assert_string_equal(text(&e), "2001:db8::/64");
	e = entry("::ffff:198.51.100.1", 0);
	assert_string_equal(text(&e), "198.51.100.1/32");
}

static void
test_by_name(void **state)
{
	const struct fw_backend *b;
	const char *arg = "junk";

	(void)state;
	b = fw_by_name("nftables", &arg);
	assert_non_null(b);
	assert_string_equal(b->name, "nftables");
	assert_null(arg);

	b = fw_by_name("iptables:chain=x,reject", &arg);
	assert_non_null(b);
	assert_string_equal(b->name, "iptables");
	assert_string_equal(arg, "chain=x,reject");

	/* "exec:" with nothing after it: an empty ARG, not none */
	b = fw_by_name("exec:", &arg);
	assert_non_null(b);
	assert_string_equal(b->name, "exec");
	assert_non_null(arg);
	assert_string_equal(arg, "");

	/* names match whole */
	assert_null(fw_by_name("nft", &arg));
	assert_null(fw_by_name("nftables2", &arg));
	assert_null(fw_by_name("ipfx:x", &arg));
	/* ipf and ipfw share a prefix: each finds its own */
	b = fw_by_name("ipf:pool=p", &arg);
	assert_non_null(b);
	assert_string_equal(b->name, "ipf");
	b = fw_by_name("ipfw", &arg);
	assert_non_null(b);
	assert_string_equal(b->name, "ipfw");
	assert_null(fw_by_name("", &arg));
	assert_null(fw_by_name(":x", &arg));
}

/* A --firewall value, checked against the options table of docs/FIREWALL.md. */
static void
spec_ok(const char *spec, const char *backend, const char *name, int forward, int reject)
{
	const struct fw_backend *b = NULL;
	const char *arg = NULL;
	struct fw_opts o;

	memset(&o, 0x5a, sizeof(o));
	memset(err, 0, sizeof(err));
	if (fw_spec_parse(spec, &b, &arg, &o, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", spec, err);
	assert_non_null(b);
	assert_string_equal(b->name, backend);
	assert_string_equal(o.name, name);
	assert_int_equal(o.forward, forward);
	assert_int_equal(o.reject, reject);
}

/* Refused, and the message says which backend and what (it is all the user sees, exit 64). */
static void
spec_refused(const char *spec, const char *culprit)
{
	const struct fw_backend *b;
	const char *arg;
	struct fw_opts o;

	memset(err, 0, sizeof(err));
	if (fw_spec_parse(spec, &b, &arg, &o, err, sizeof(err)) != -1)
		fail_msg("'%s' accepted", spec);
	if (strstr(err, culprit) == NULL)
		fail_msg("'%s': message '%s' does not name '%s'", spec, err, culprit);
}

static void
test_spec_parse(void **state)
{
	const struct fw_backend *b = NULL;
	const char *arg = "junk";
	struct fw_opts o;

	(void)state;
	spec_ok("iptables", "iptables", "mxguard", 0, 0);
	spec_ok("iptables:chain=mxg,forward,reject", "iptables", "mxg", 1, 1);
	spec_ok("nftables:table=t,forward", "nftables", "t", 1, 0);
	spec_ok("ipset:set=s,forward", "ipset", "s", 1, 0);
	spec_ok("pf:table=t", "pf", "t", 0, 0);
	spec_ok("ipfw:table=t", "ipfw", "t", 0, 0);
	spec_ok("ipf:pool=p", "ipf", "p", 0, 0);

	/* each backend its own name key and flags */
	spec_refused("nftables:chain=x", "nftables: ");
	spec_refused("nftables:chain=x", "chain=x");
	spec_refused("nftables:reject", "reject");
	spec_refused("iptables:table=x", "iptables: ");
	spec_refused("ipset:reject", "ipset: ");
	spec_refused("pf:forward", "pf: ");
	spec_refused("ipfw:set=x", "ipfw: ");
	spec_refused("ipf:table=x", "ipf: ");
	spec_refused("iptables:chain=a;b", "'a;b'");

	spec_refused("bogus", "'bogus'");
	spec_refused("bogus:chain=x", "'bogus'");
	spec_refused("nft:table=x", "'nft'");

	/* exec's arg is the helper, by absolute path only (no PATH search for a root helper) */
	assert_int_equal(fw_spec_parse("exec:/usr/local/libexec/mxg-fw", &b, &arg, &o, err, sizeof(err)), 0);
	assert_string_equal(b->name, "exec");
	assert_string_equal(arg, "/usr/local/libexec/mxg-fw");
	spec_refused("exec:mxg-fw", "absolute");
	spec_refused("exec:", "absolute");
	spec_refused("exec", "absolute");

	assert_int_equal(fw_spec_parse("none", &b, &arg, &o, err, sizeof(err)), 0);
	assert_string_equal(b->name, "none");
	assert_null(arg);
}

/* The heap and the caller's out array live in *state so that a failed assertion does not leak them. */
struct xfix {
	struct fw_expiry *x;
	struct fw_entry *out;
	int cap;
};

static int
setup_expiry(void **state)
{
	struct xfix *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->x = fw_expiry_new()) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
free_expiry(void **state)
{
	struct xfix *f = *state;

	if (f != NULL) {
		fw_expiry_free(f->x);
		free(f->out);
		free(f);
	}
	*state = NULL;
	return 0;
}

/* A distinct entry per id: the id in limit_n, its expiry in seconds, and a documentation address. */
static struct fw_entry
tagged(uint32_t id, int64_t when)
{
	struct fw_entry e;
	char key[64];

	if (id % 2)
		snprintf(key, sizeof(key), "203.0.113.%u", id % 256);
	else
		snprintf(key, sizeof(key), "2001:db8::%x:%x/%u", id >> 16, id & 0xffff, 64 + id % 65);
	e = entry(key, when);
	e.kind = (enum fw_kind)(id % 3);
	e.limit_n = id;
	e.limit_per = id % 86400 + 1;
	return e;
}

static void
add(struct xfix *f, uint32_t id, int64_t when)
{
	struct fw_entry e = tagged(id, when);

	fw_expiry_add(f->x, when, &e);
}

static int
due(struct xfix *f, int64_t now)
{
	int k = fw_expiry_due(f->x, now, &f->out, &f->cap);

	assert_true(k >= 0);
	assert_true(k <= f->cap);
	return k;
}

static void
test_expiry_empty(void **state)
{
	struct xfix *f = *state;

	assert_int_equal(due(f, 0), 0);
	assert_int_equal(due(f, INT64_MAX), 0);
	/* freeing nothing is fine too */
	fw_expiry_free(NULL);
}

static void
test_expiry_order(void **state)
{
	struct xfix *f = *state;
	struct fw_entry want;

	add(f, 50, 1050);
	add(f, 10, 1010);
	add(f, 30, 1030);
	add(f, 20, 1020);
	add(f, 40, 1040);

	/* nothing due yet, and asking took nothing out */
	assert_int_equal(due(f, 0), 0);
	assert_int_equal(due(f, 1009), 0);

	assert_int_equal(due(f, 1025), 2);
	assert_int_equal(f->out[0].limit_n, 10);
	assert_int_equal(f->out[1].limit_n, 20);
	/* the entries come back whole */
	want = tagged(10, 1010);
	assert_memory_equal(&f->out[0], &want, sizeof(want));
	want = tagged(20, 1020);
	assert_memory_equal(&f->out[1], &want, sizeof(want));
	/* popped once only */
	assert_int_equal(due(f, 1025), 0);

	/* due at exactly `now` counts */
	assert_int_equal(due(f, 1040), 2);
	assert_int_equal(f->out[0].limit_n, 30);
	assert_int_equal(f->out[1].limit_n, 40);

	/* one added later, earlier than the one left, comes out first */
	add(f, 45, 1045);
	assert_int_equal(due(f, 1044), 0);
	assert_int_equal(due(f, INT64_MAX), 2);
	assert_int_equal(f->out[0].limit_n, 45);
	assert_int_equal(f->out[1].limit_n, 50);
	assert_int_equal(due(f, INT64_MAX), 0);

	/* equal times: both come out, and the heap still works after */
	add(f, 1, 2000);
	add(f, 2, 2000);
	add(f, 3, 1999);
	assert_int_equal(due(f, 1999), 1);
	assert_int_equal(f->out[0].limit_n, 3);
	assert_int_equal(due(f, 2000), 2);
	assert_true((f->out[0].limit_n == 1 && f->out[1].limit_n == 2) ||
	    (f->out[0].limit_n == 2 && f->out[1].limit_n == 1));
}

#define NMANY 1000

/* Check a batch of k popped entries: each due, in time order, not seen before. */
static void
check_batch(struct xfix *f, int k, int64_t now, int64_t *last, const int64_t *when, char *seen)
{
	for (int i = 0; i < k; i++) {
		uint32_t id = f->out[i].limit_n;

		assert_true(id < NMANY);
		if (seen[id])
			fail_msg("entry %u popped twice", id);
		seen[id] = 1;
		/* the entry is the one added with this id, whole */
		struct fw_entry want = tagged(id, when[id]);

		assert_memory_equal(&f->out[i], &want, sizeof(want));
		if (when[id] > now)
			fail_msg("entry %u (due %lld) popped at %lld", id, (long long)when[id], (long long)now);
		if (when[id] < *last)
			fail_msg("entry %u (due %lld) popped after one due %lld", id, (long long)when[id],
			    (long long)*last);
		*last = when[id];
	}
}

/* 1000 entries with random times, all due at once: the out array grows from the caller's 4. */
static void
test_expiry_many_at_once(void **state)
{
	struct xfix *f = *state;
	int64_t when[NMANY], last = INT64_MIN;
	char seen[NMANY] = { 0 };

	rng_seed(20241101);
	for (uint32_t id = 0; id < NMANY; id++) {
		when[id] = 1700000000 + rng_below(500);		/* many equal times */
		add(f, id, when[id]);
	}
	f->out = malloc(4 * sizeof(*f->out));
	assert_non_null(f->out);
	f->cap = 4;

	assert_int_equal(due(f, 1700000000 - 1), 0);
	assert_int_equal(due(f, 1700000000 + 500), NMANY);
	assert_true(f->cap >= NMANY);
	check_batch(f, NMANY, 1700000000 + 500, &last, when, seen);
	assert_int_equal(due(f, INT64_MAX), 0);
}

/* The same in batches: each batch is exactly what fell due since the last one. */
static void
test_expiry_many_in_batches(void **state)
{
	struct xfix *f = *state;
	int64_t when[NMANY], last = INT64_MIN, now;
	char seen[NMANY] = { 0 };
	int total = 0;

	rng_seed(7);
	for (uint32_t id = 0; id < NMANY; id++) {
		when[id] = (int64_t)rng_below(100000);
		add(f, id, when[id]);
	}
	for (now = -1; now < 100000 + 3000; now += 1 + rng_below(3000)) {
		int k = due(f, now), want = 0;

		check_batch(f, k, now, &last, when, seen);
		total += k;
		for (int id = 0; id < NMANY; id++)
			want += when[id] <= now;
		assert_int_equal(total, want);
	}
	assert_int_equal(total, NMANY);
	for (int id = 0; id < NMANY; id++)
		assert_true(seen[id]);
}

/* Adds and pops interleaved, times around a moving clock, against a plain list of what is pending. */
static void
test_expiry_random_vs_model(void **state)
{
	struct xfix *f = *state;
	int64_t when[NMANY], now = 1000, last;
	char pending[NMANY] = { 0 }, seen[NMANY] = { 0 };
	uint32_t next = 0;
	int npending = 0;

	rng_seed(0x6d786775617264ull);
	while (next < NMANY || npending > 0) {
		if (next < NMANY && rng_below(3) != 0) {
			/* mostly in the future, some already due (a short block added late) */
			when[next] = now - 50 + rng_below(2000);
			add(f, next, when[next]);
			pending[next++] = 1;
			npending++;
			continue;
		}
		now += rng_below(next < NMANY ? 200 : 2000);

		int k = due(f, now), want = 0;

		/* the heap pops in order within a batch; across batches, later adds may be earlier */
		last = INT64_MIN;
		memset(seen, 0, sizeof(seen));
		check_batch(f, k, now, &last, when, seen);
		for (uint32_t id = 0; id < next; id++) {
			if (pending[id] && when[id] <= now) {
				if (!seen[id])
					fail_msg("entry %u due %lld not popped at %lld", id, (long long)when[id],
					    (long long)now);
				pending[id] = 0;
				want++;
			} else if (seen[id])
				fail_msg("entry %u popped but not pending", id);
		}
		assert_int_equal(k, want);
		npending -= k;
	}
	assert_int_equal(due(f, INT64_MAX), 0);
}

/* Open descriptors of this process. */
static int
nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_run_output(void **state)
{
	char *argv[] = { "sh", "-c", "printf 'a\\nb'; head -c 100000 /dev/zero | tr '\\0' x", NULL };
	char *out = NULL;

	(void)state;
	assert_int_equal(fw_run_output(argv, &out), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), 3 + 100000);	/* more than a pipe holds: read while it runs */
	assert_memory_equal(out, "a\nbx", 4);
	free(out);
}

static void
test_run_failures_leave_nothing(void **state)
{
	size_t len = 1 << 20;
	char *big = malloc(len);
	char *exits[] = { "sh", "-c", "exit 3", NULL };			/* never reads its input */
	char *missing[] = { "/nonexistent/mxguard-no-such-tool", NULL };
	char *killed[] = { "sh", "-c", "kill -9 $$", NULL };
	char *ok[] = { "sh", "-c", "cat > /dev/null", NULL };
	char *out = NULL;
	int before;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	before = nfds();
	for (int i = 0; i < 20; i++) {
		assert_int_equal(fw_run_input(exits, big, len), -1);
		assert_int_equal(fw_try(missing), -1);
		assert_int_equal(fw_run_output(killed, &out), -1);
		free(out);
		out = NULL;
	}
	assert_int_equal(fw_run_input(ok, big, len), 0);	/* all of it read: success */
	assert_int_equal(nfds(), before);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_default),
		cmocka_unit_test(test_opts_name),
		cmocka_unit_test(test_opts_foreign_name_key_rejected),
		cmocka_unit_test(test_opts_allowed_flags),
		cmocka_unit_test(test_opts_flag_not_allowed_rejected),
		cmocka_unit_test(test_opts_bad_names_rejected),
		cmocka_unit_test(test_opts_combination),
		cmocka_unit_test(test_opts_flag_with_value_rejected),
		cmocka_unit_test(test_kind_of),
		cmocka_unit_test(test_entry_parse_host),
		cmocka_unit_test(test_entry_parse_clears_host_bits),
		cmocka_unit_test(test_entry_parse_ipv4_mapped),
		cmocka_unit_test(test_entry_parse_garbage),
		cmocka_unit_test(test_entry_text_round_trip),
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test_setup_teardown(test_expiry_empty, setup_expiry, free_expiry),
		cmocka_unit_test_setup_teardown(test_expiry_order, setup_expiry, free_expiry),
		cmocka_unit_test_setup_teardown(test_expiry_many_at_once, setup_expiry, free_expiry),
		cmocka_unit_test_setup_teardown(test_expiry_many_in_batches, setup_expiry, free_expiry),
		cmocka_unit_test_setup_teardown(test_expiry_random_vs_model, setup_expiry, free_expiry),
		cmocka_unit_test(test_run_output),
		cmocka_unit_test(test_run_failures_leave_nothing),
	};

	return cmocka_run_group_tests_name("fw", tests, NULL, NULL);
}
