/*
 * test_table.c - CIDR tables: IPv4/IPv6 membership, host bits, negation and
 * re-inclusion, /0, family separation, IPv4-mapped input, duplicates, entry
 * parsing errors, table files, and a randomized longest-prefix-match check
 * against a brute-force linear scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/table.h"
#include "testutil.h"

/* Tables live in *state so that a failed assertion does not leak them. */
static int
free_table(void **state)
{
	table_free(*state);
	*state = NULL;
	return 0;
}

static struct cidr_table *
new_table(void **state, const char *name)
{
	table_free(*state);
	*state = table_new(name);
	assert_non_null(*state);
	return *state;
}

static int
in(const struct cidr_table *t, const char *s)
{
	struct addr a = A(s);

	return table_contains(t, &a);
}

/* Add an entry written as in a config ("[!]ADDR[/LEN]"); returns table_add's result. */
static int
add(struct cidr_table *t, const char *s)
{
	struct addr a;
	int plen = -1, neg = -1;
	char err[200] = "";

	if (!table_parse_entry(s, strlen(s), &a, &plen, &neg, err, sizeof(err)))
		fail_msg("'%s' did not parse: %s", s, err);
	return table_add(t, &a, plen, neg);
}

static void
test_empty_and_name(void **state)
{
	struct cidr_table *t = new_table(state, "trusted");

	assert_string_equal(table_name(t), "trusted");
	assert_int_equal(table_size(t), 0);
	assert_false(in(t, "192.0.2.1"));
	assert_false(in(t, "2001:db8::1"));
	assert_false(in(t, "0.0.0.0"));
	assert_false(in(t, "::"));

	/* an address of no family is never in a table */
	struct addr none;

	memset(&none, 0, sizeof(none));
	add(t, "0.0.0.0/0");
	add(t, "::/0");
	assert_false(table_contains(t, &none));
	table_free(NULL);
}

static void
test_ipv4_membership(void **state)
{
	struct cidr_table *t = new_table(state, "v4");

	assert_int_equal(add(t, "192.0.2.0/24"), 1);
	assert_int_equal(add(t, "10.0.0.0/8"), 1);
	assert_int_equal(add(t, "203.0.113.66"), 1);
	assert_int_equal(add(t, "172.16.0.0/12"), 1);
	assert_int_equal(table_size(t), 4);

	assert_true(in(t, "192.0.2.0"));
	assert_true(in(t, "192.0.2.255"));
	assert_false(in(t, "192.0.3.0"));
	assert_false(in(t, "192.0.1.255"));
	assert_true(in(t, "10.255.255.255"));
	assert_false(in(t, "11.0.0.0"));
	assert_false(in(t, "9.255.255.255"));
	assert_true(in(t, "203.0.113.66"));
	assert_false(in(t, "203.0.113.67"));
	assert_false(in(t, "203.0.113.65"));
	assert_true(in(t, "172.16.0.1"));
	assert_true(in(t, "172.31.255.255"));
	assert_false(in(t, "172.32.0.0"));
	assert_false(in(t, "172.15.255.255"));
}

static void
test_ipv6_membership(void **state)
{
	struct cidr_table *t = new_table(state, "v6");

	assert_int_equal(add(t, "2001:db8:100::/48"), 1);
	assert_int_equal(add(t, "2001:db8:1:2::/64"), 1);
	assert_int_equal(add(t, "::1"), 1);
	assert_int_equal(add(t, "fe80::/10"), 1);
	assert_int_equal(add(t, "2001:db8:ff00::/41"), 1);	/* not on a byte boundary */
	assert_int_equal(table_size(t), 5);

	assert_true(in(t, "2001:db8:100::1"));
	assert_true(in(t, "2001:db8:100:ffff:ffff:ffff:ffff:ffff"));
	assert_false(in(t, "2001:db8:101::"));
	assert_false(in(t, "2001:db8:ff::"));
	assert_true(in(t, "2001:db8:1:2:abcd::1"));
	assert_false(in(t, "2001:db8:1:3::1"));
	assert_true(in(t, "::1"));
	assert_false(in(t, "::2"));
	assert_false(in(t, "::"));
	assert_true(in(t, "fe80::1"));
	assert_true(in(t, "febf:ffff::1"));
	assert_false(in(t, "fec0::1"));
	/* /41: 2001:db8:ff00:: .. 2001:db8:ff7f:ffff:... */
	assert_true(in(t, "2001:db8:ff7f:ffff::1"));
	assert_false(in(t, "2001:db8:ff80::"));
	assert_false(in(t, "2001:db8:feff:ffff::"));
	/* upper case and Sendmail's prefix are the same addresses */
	assert_true(in(t, "2001:DB8:100::ABCD"));
	assert_true(in(t, "IPv6:2001:db8:100::1"));
}

static void
test_host_bits_cleared(void **state)
{
	struct cidr_table *t = new_table(state, "h");
	struct addr a = A("10.1.2.3");

	assert_int_equal(table_add(t, &a, 8, 0), 1);
	assert_true(in(t, "10.200.0.1"));
	assert_true(in(t, "10.0.0.0"));
	assert_false(in(t, "11.1.2.3"));
	/* the same prefix written canonically is a duplicate */
	a = A("10.0.0.0");
	assert_int_equal(table_add(t, &a, 8, 0), 0);
	a = A("10.255.255.255");
	assert_int_equal(table_add(t, &a, 8, 0), 0);
	assert_int_equal(table_size(t), 1);

	/* odd lengths: 198.51.100.77/27 is 198.51.100.64 .. .95 */
	a = A("198.51.100.77");
	assert_int_equal(table_add(t, &a, 27, 0), 1);
	assert_true(in(t, "198.51.100.64"));
	assert_true(in(t, "198.51.100.95"));
	assert_false(in(t, "198.51.100.63"));
	assert_false(in(t, "198.51.100.96"));

	a = A("2001:db8:abcd:1234:5678::9");
	assert_int_equal(table_add(t, &a, 36, 0), 1);
	assert_true(in(t, "2001:db8:a000::"));
	assert_true(in(t, "2001:db8:afff:ffff::1"));
	assert_false(in(t, "2001:db8:b000::"));
	assert_false(in(t, "2001:db8:9fff:ffff::"));
	a = A("2001:db8:a000::");
	assert_int_equal(table_add(t, &a, 36, 0), 0);
	assert_int_equal(table_size(t), 3);
}

static void
test_negation(void **state)
{
	struct cidr_table *t = new_table(state, "neg");

	assert_int_equal(add(t, "198.51.100.0/24"), 1);
	assert_int_equal(add(t, "!198.51.100.9"), 1);
	assert_false(in(t, "198.51.100.9"));
	assert_true(in(t, "198.51.100.8"));
	assert_true(in(t, "198.51.100.10"));
	assert_true(in(t, "198.51.100.0"));
	assert_true(in(t, "198.51.100.255"));

	/* a negated prefix, a more specific positive one inside it, and one more negation inside that */
	assert_int_equal(add(t, "!10.0.0.0/8"), 1);
	assert_int_equal(add(t, "10.1.0.0/16"), 1);
	assert_int_equal(add(t, "!10.1.2.0/24"), 1);
	assert_int_equal(add(t, "10.1.2.128/25"), 1);
	assert_false(in(t, "10.0.0.1"));
	assert_false(in(t, "10.2.0.1"));
	assert_true(in(t, "10.1.0.1"));
	assert_true(in(t, "10.1.255.255"));
	assert_false(in(t, "10.1.2.1"));
	assert_false(in(t, "10.1.2.127"));
	assert_true(in(t, "10.1.2.128"));
	assert_true(in(t, "10.1.2.255"));
	assert_true(in(t, "10.1.3.0"));

	/* the same in IPv6 */
	assert_int_equal(add(t, "2001:db8::/32"), 1);
	assert_int_equal(add(t, "!2001:db8:bad::/48"), 1);
	assert_int_equal(add(t, "2001:db8:bad:1::/64"), 1);
	assert_true(in(t, "2001:db8::1"));
	assert_false(in(t, "2001:db8:bad::1"));
	assert_false(in(t, "2001:db8:bad:2::1"));
	assert_true(in(t, "2001:db8:bad:1::1"));
	assert_true(in(t, "2001:db8:bae::1"));

	/* only a negation: nothing is in */
	struct cidr_table *u = table_new("only-neg");

	add(u, "!192.0.2.0/24");
	assert_int_equal(table_contains(u, &(struct addr){ 0 }), 0);
	{
		struct addr a = A("192.0.2.1"), b = A("192.0.3.1");

		assert_false(table_contains(u, &a));
		assert_false(table_contains(u, &b));
	}
	table_free(u);
}

static void
test_zero_prefix(void **state)
{
	struct cidr_table *t = new_table(state, "zero");

	assert_int_equal(add(t, "0.0.0.0/0"), 1);
	assert_true(in(t, "0.0.0.0"));
	assert_true(in(t, "255.255.255.255"));
	assert_true(in(t, "192.0.2.1"));
	assert_false(in(t, "::"));
	assert_false(in(t, "2001:db8::1"));

	/* host bits of a /0 are all host bits */
	{
		struct addr a = A("203.0.113.9");

		assert_int_equal(table_add(t, &a, 0, 0), 0);
		assert_int_equal(table_size(t), 1);
	}

	assert_int_equal(add(t, "!192.0.2.0/24"), 1);
	assert_false(in(t, "192.0.2.1"));
	assert_true(in(t, "192.0.3.1"));

	assert_int_equal(add(t, "::/0"), 1);
	assert_true(in(t, "::"));
	assert_true(in(t, "2001:db8::1"));
	assert_true(in(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));

	/* "everything but": a negated /0 with exceptions */
	struct cidr_table *u = table_new("allbut");

	add(u, "!::/0");
	add(u, "2001:db8::/32");
	{
		struct addr a = A("2001:db8::5"), b = A("2001:db9::5");

		assert_true(table_contains(u, &a));
		assert_false(table_contains(u, &b));
	}
	table_free(u);
}

static void
test_families_separate(void **state)
{
	struct cidr_table *t = new_table(state, "fam");

	/* IPv6 102:304:: has the same first four bytes as IPv4 1.2.3.4 */
	assert_int_equal(add(t, "1.2.3.4"), 1);
	assert_false(in(t, "102:304::"));
	assert_false(in(t, "102:304::1"));
	assert_true(in(t, "1.2.3.4"));

	assert_int_equal(add(t, "506:708::/32"), 1);
	assert_false(in(t, "5.6.7.8"));
	assert_true(in(t, "506:708::1"));

	/* two /8 entries with equal bytes in both families are two entries */
	assert_int_equal(add(t, "32.0.0.0/8"), 1);
	assert_int_equal(add(t, "2000::/8"), 1);
	assert_int_equal(table_size(t), 4);
	assert_true(in(t, "32.1.2.3"));
	assert_true(in(t, "20ff::1"));

	/* IPv4 /0 never matches IPv6 and vice versa */
	struct cidr_table *u = table_new("v4all");

	add(u, "0.0.0.0/0");
	{
		struct addr a = A("::"), b = A("::1.2.3.4");

		assert_false(table_contains(u, &a));
		assert_false(table_contains(u, &b));	/* IPv4-compatible is IPv6, not IPv4 */
	}
	table_free(u);
	u = table_new("v6all");
	add(u, "::/0");
	{
		struct addr a = A("0.0.0.0"), b = A("192.0.2.1");

		assert_false(table_contains(u, &a));
		assert_false(table_contains(u, &b));
	}
	table_free(u);
}

static void
test_ipv4_mapped(void **state)
{
	struct cidr_table *t = new_table(state, "mapped");

	assert_int_equal(add(t, "198.51.100.0/24"), 1);
	assert_true(in(t, "::ffff:198.51.100.7"));
	assert_true(in(t, "::FFFF:198.51.100.200"));
	assert_false(in(t, "::ffff:198.51.101.7"));

	/* a mapped entry is an IPv4 /32 */
	assert_int_equal(add(t, "::ffff:203.0.113.5"), 1);
	assert_true(in(t, "203.0.113.5"));
	assert_false(in(t, "203.0.113.6"));
	/* and the IPv4 form of it is a duplicate */
	assert_int_equal(add(t, "203.0.113.5"), 0);
	assert_int_equal(table_size(t), 2);
	{
		struct addr a;
		int plen, neg;
		char err[100];

		assert_int_equal(table_parse_entry("::ffff:203.0.113.5", 18, &a, &plen, &neg, err, sizeof(err)), 1);
		assert_int_equal(a.family, 4);
		assert_int_equal(plen, 32);
		assert_int_equal(neg, 0);
	}
}

static void
test_duplicates(void **state)
{
	struct cidr_table *t = new_table(state, "dup");
	struct addr a = A("192.0.2.0");

	assert_int_equal(table_add(t, &a, 24, 0), 1);
	assert_int_equal(table_add(t, &a, 24, 0), 0);
	assert_int_equal(table_size(t), 1);
	/* same address, other length: another entry */
	assert_int_equal(table_add(t, &a, 25, 0), 1);
	assert_int_equal(table_size(t), 2);

	/* a duplicate updates the negation */
	assert_true(in(t, "192.0.2.200"));
	assert_int_equal(table_add(t, &a, 24, 1), 0);
	assert_false(in(t, "192.0.2.200"));
	assert_true(in(t, "192.0.2.100"));	/* the /25 is still positive */
	assert_int_equal(table_add(t, &a, 24, 0), 0);
	assert_true(in(t, "192.0.2.200"));
	assert_int_equal(table_size(t), 2);

	a = A("2001:db8::");
	assert_int_equal(table_add(t, &a, 32, 0), 1);
	assert_int_equal(table_add(t, &a, 32, 0), 0);
	assert_int_equal(table_add(t, &a, 32, 1), 0);
	assert_false(in(t, "2001:db8::1"));
	assert_int_equal(table_size(t), 3);

	/* many duplicates do not grow anything */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(table_add(t, &a, 32, i & 1), 0);
	assert_int_equal(table_size(t), 3);
}

static void
parse_ok(const char *s, size_t n, int family, const char *canon_addr, int plen, int neg)
{
	struct addr a, want = A(canon_addr);
	int p = -1, ng = -1;
	char err[200] = "";

	if (!table_parse_entry(s, n, &a, &p, &ng, err, sizeof(err)))
		fail_msg("'%.*s' should parse: %s", (int)n, s, err);
	assert_int_equal(a.family, family);
	assert_memory_equal(a.b, want.b, family == 4 ? 4 : 16);
	assert_int_equal(p, plen);
	assert_int_equal(ng, neg);
}

static void
test_parse_entry_ok(void **state)
{
	(void)state;
	parse_ok("10.0.0.0/8", 10, 4, "10.0.0.0", 8, 0);
	parse_ok("!198.51.100.9", 13, 4, "198.51.100.9", 32, 1);
	parse_ok("198.51.100.9", 12, 4, "198.51.100.9", 32, 0);
	parse_ok("2001:db8::/32", 13, 6, "2001:db8::", 32, 0);
	parse_ok("!2001:db8:bad::/48", 18, 6, "2001:db8:bad::", 48, 1);
	parse_ok("::1", 3, 6, "::1", 128, 0);
	parse_ok("0.0.0.0/0", 9, 4, "0.0.0.0", 0, 0);
	parse_ok("::/0", 4, 6, "::", 0, 0);
	parse_ok("10.0.0.0/32", 11, 4, "10.0.0.0", 32, 0);
	parse_ok("::/128", 6, 6, "::", 128, 0);
	/* n bytes, not NUL-terminated: what follows is not read */
	parse_ok("10.0.0.0/8XYZ", 10, 4, "10.0.0.0", 8, 0);
	parse_ok("192.0.2.1,", 9, 4, "192.0.2.1", 32, 0);
	parse_ok("10.0.0.0/24", 10, 4, "10.0.0.0", 2, 0);	/* n cuts "/24" to "/2" */
}

static void
parse_bad(const char *s, size_t n)
{
	struct addr a;
	int p, ng;
	char err[200] = "";

	if (table_parse_entry(s, n, &a, &p, &ng, err, sizeof(err)))
		fail_msg("'%.*s' (%zu bytes) should be an error", (int)n, s, n);
	if (err[0] == '\0')
		fail_msg("'%.*s': no error message", (int)n, s);
}

static void
test_parse_entry_errors(void **state)
{
	(void)state;
	parse_bad("300.1.2.3", 9);
	parse_bad("example.org", 11);
	parse_bad("10.0.0.0/33", 11);
	parse_bad("10.0.0.0/99999999999", 20);
	parse_bad("2001:db8::/129", 14);
	parse_bad("2001:db8::/1280", 15);
	parse_bad("10.0.0.0/", 9);
	parse_bad("10.0.0.0/24", 9);	/* cut after the slash */
	parse_bad("!", 1);
	parse_bad("", 0);
	parse_bad("!/8", 3);
	parse_bad("/8", 2);
	parse_bad("10.0.0.0/8x", 11);
	parse_bad("10.0.0.0/-1", 11);
	parse_bad("10.0.0.0/ 8", 11);
	parse_bad("!!10.0.0.0", 10);
	parse_bad("10.0.0.0//8", 11);
	parse_bad("2001:db8::1%eth0", 16);

	/* the message says what is wrong */
	{
		struct addr a;
		int p, ng;
		char err[200] = "";

		assert_int_equal(table_parse_entry("10.0.0.0/33", 11, &a, &p, &ng, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "32"));
		assert_int_equal(table_parse_entry("2001:db8::/129", 14, &a, &p, &ng, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "128"));
		assert_int_equal(table_parse_entry("bogus", 5, &a, &p, &ng, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "bogus"));
		/* a tiny buffer is not overrun */
		char tiny[8];

		memset(tiny, 'x', sizeof(tiny));
		assert_int_equal(table_parse_entry("bogus-and-long", 14, &a, &p, &ng, tiny, 4), 0);
		assert_int_equal(tiny[3], '\0');
		assert_int_equal(tiny[4], 'x');
	}
}

/* ------------------------------------------------------------ files --- */

static char tmpdir[64];

static int
mk_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_table.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
rm_tmpdir(void **state)
{
	char cmd[128];

	free_table(state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

static void
test_load_file(void **state)
{
	struct cidr_table *t = new_table(state, "file");
	char path[128], err[300] = "";

	snprintf(path, sizeof(path), "%s/nets.txt", tmpdir);
	write_file(path,
	    "# trusted networks\n"
	    "\n"
	    "192.0.2.0/24\n"
	    "   198.51.100.0/24, !198.51.100.9   # the odd one out\n"
	    "2001:db8:100::/48,2001:db8:200::/48,,\n"
	    "\t\n"
	    "203.0.113.5 203.0.113.6\t203.0.113.7\r\n"
	    "#10.0.0.0/8\n"
	    "192.0.2.0/24\n"		/* a duplicate: not counted */
	    "::ffff:203.0.113.200");	/* no final newline */
	assert_int_equal(table_load_file(t, path, NULL, NULL, err, sizeof(err)), 9);
	assert_int_equal(table_size(t), 9);
	assert_true(in(t, "192.0.2.1"));
	assert_true(in(t, "198.51.100.8"));
	assert_false(in(t, "198.51.100.9"));
	assert_true(in(t, "2001:db8:100::1"));
	assert_true(in(t, "2001:db8:200::1"));
	assert_false(in(t, "2001:db8:300::1"));
	assert_true(in(t, "203.0.113.5"));
	assert_true(in(t, "203.0.113.6"));
	assert_true(in(t, "203.0.113.7"));
	assert_false(in(t, "203.0.113.8"));
	assert_false(in(t, "10.0.0.1"));
	assert_true(in(t, "203.0.113.200"));

	/* an empty file and a comments-only file add nothing */
	struct cidr_table *u = table_new("empty");

	write_file(path, "");
	assert_int_equal(table_load_file(u, path, NULL, NULL, err, sizeof(err)), 0);
	write_file(path, "# nothing\n\n   # here\n,,,\n");
	assert_int_equal(table_load_file(u, path, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(table_size(u), 0);
	table_free(u);
}

/* The bad lines table_load_file reports. */
struct seen_bad {
	long line[8];
	int n;
};

static void
note_bad(void *arg, long line, const char *msg)
{
	struct seen_bad *sb = arg;

	assert_true(msg[0] != '\0');
	if (sb->n < 8)
		sb->line[sb->n] = line;
	sb->n++;
}

static void
test_load_file_errors(void **state)
{
	struct cidr_table *t = new_table(state, "bad");
	char path[128], want[160], err[300];

	snprintf(path, sizeof(path), "%s/bad.txt", tmpdir);
	write_file(path,
	    "# line 1\n"
	    "192.0.2.0/24\n"
	    "\n"
	    "198.51.100.0/24, 10.0.0.0/33\n"
	    "203.0.113.1\n");
	memset(err, 0, sizeof(err));
	assert_int_equal(table_load_file(t, path, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' should start with '%s'", err, want);
	assert_true(strlen(err) > strlen(want) + 2);	/* and say something */

	/* an unparsable address on line 2 */
	write_file(path, "192.0.2.0/24\n  not-an-address\n");
	assert_int_equal(table_load_file(t, path, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' should start with '%s'", err, want);
	assert_non_null(strstr(err, "not-an-address"));

	/* "!" alone, after a comment-only line */
	write_file(path, "# x\n!\n");
	assert_int_equal(table_load_file(t, path, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' should start with '%s'", err, want);

	/* every bad entry is handed over with its line, not only the first */
	{
		struct seen_bad sb = { .n = 0 };

		write_file(path, "bogus\n203.0.113.0/24\n203.0.113.0/33 198.51.100.1\n\n# c\nnope, !\n");
		assert_int_equal(table_load_file(t, path, note_bad, &sb, err, sizeof(err)), -1);
		assert_int_equal(sb.n, 4);
		assert_int_equal(sb.line[0], 1);
		assert_int_equal(sb.line[1], 3);
		assert_int_equal(sb.line[2], 6);
		assert_int_equal(sb.line[3], 6);
		snprintf(want, sizeof(want), "%s:1:", path);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("error '%s' should start with '%s' (the first bad line)", err, want);
	}

	/* a missing file */
	snprintf(path, sizeof(path), "%s/missing.txt", tmpdir);
	err[0] = '\0';
	assert_int_equal(table_load_file(t, path, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing.txt"));
}

/* ------------------------------------------------- randomized check --- */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Addresses as 128-bit numbers (IPv4 in the top 32 bits of hi). */
struct u128 {
	uint64_t hi, lo;
};

struct model_entry {
	struct u128 net, mask;
	int plen, neg;
};

static struct u128
mask_of(int plen)
{
	struct u128 m;

	m.hi = plen <= 0 ? 0 : plen >= 64 ? ~0ull : ~0ull << (64 - plen);
	m.lo = plen <= 64 ? 0 : plen >= 128 ? ~0ull : ~0ull << (128 - plen);
	return m;
}

static struct u128
and128(struct u128 a, struct u128 m)
{
	return (struct u128){ a.hi & m.hi, a.lo & m.lo };
}

static struct u128
from_addr(const struct addr *a)
{
	struct u128 v = { 0, 0 };
	int bytes = a->family == 4 ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		if (i < 8)
			v.hi |= (uint64_t)a->b[i] << (56 - 8 * i);
		else
			v.lo |= (uint64_t)a->b[i] << (56 - 8 * (i - 8));
	}
	return v;
}

static struct addr
to_addr(struct u128 v, int family)
{
	struct addr a;
	int bytes = family == 4 ? 4 : 16;

	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	for (int i = 0; i < bytes; i++)
		a.b[i] = (uint8_t)(i < 8 ? v.hi >> (56 - 8 * i) : v.lo >> (56 - 8 * (i - 8)));
	return a;
}

static struct u128
random_addr(int family)
{
	struct u128 v = { rnd(), rnd() };

	if (family == 4) {
		v.hi &= 0xffffffff00000000ull;
		v.lo = 0;
	}
	return v;
}

/* Brute force: the longest entry covering v (ties: the same prefix, one entry). */
static int
model_contains(const struct model_entry *m, int n, struct u128 v)
{
	int best = -1, neg = 1;

	for (int i = 0; i < n; i++) {
		if (m[i].plen <= best)
			continue;
		if ((v.hi & m[i].mask.hi) == m[i].net.hi && (v.lo & m[i].mask.lo) == m[i].net.lo) {
			best = m[i].plen;
			neg = m[i].neg;
		}
	}
	return best >= 0 && !neg;
}

static void
random_lpm(void **state, int family, uint64_t seed)
{
	enum { NPREFIX = 2000, NLOOKUP = 100000 };
	struct cidr_table *t = new_table(state, family == 4 ? "rand4" : "rand6");
	struct model_entry *m = calloc(NPREFIX, sizeof(*m));
	int n = 0, bits = family == 4 ? 32 : 128, hits = 0;

	assert_non_null(m);
	rng_state = seed;
	for (int k = 0; k < NPREFIX; k++) {
		struct u128 v = random_addr(family);
		int plen, neg = rnd() % 4 == 0, dup = -1, r;
		struct addr a;

		if (n > 0 && rnd() % 10 < 6) {
			/* nest inside an existing entry: deep chains of covering prefixes */
			const struct model_entry *e = &m[rnd() % (uint64_t)n];
			int room = bits - e->plen;

			if (room == 0)
				plen = bits;
			else
				plen = e->plen + 1 + (int)(rnd() % (uint64_t)(room < 24 ? room : 24));
			/* keep the parent's bits, random host bits */
			{
				struct u128 pm = e->mask;

				v.hi = (e->net.hi & pm.hi) | (v.hi & ~pm.hi);
				v.lo = (e->net.lo & pm.lo) | (v.lo & ~pm.lo);
				if (family == 4) {
					v.hi &= 0xffffffff00000000ull;
					v.lo = 0;
				}
			}
		} else if (rnd() % 50 == 0) {
			plen = (int)(rnd() % 8);	/* rare very short prefixes */
		} else {
			plen = 8 + (int)(rnd() % (uint64_t)(bits - 7));
		}
		if (family == 4)
			plen = plen > 32 ? 32 : plen;
		a = to_addr(v, family);	/* host bits set: table_add must clear them */
		r = table_add(t, &a, plen, neg);
		for (int i = 0; i < n; i++) {
			struct u128 net = and128(v, mask_of(plen));

			if (m[i].plen == plen && m[i].net.hi == net.hi && m[i].net.lo == net.lo)
				dup = i;
		}
		if (dup >= 0) {
			m[dup].neg = neg;
			if (r != 0)
				fail_msg("entry %d: duplicate /%d added again (returned %d)", k, plen, r);
		} else {
			m[n].mask = mask_of(plen);
			m[n].net = and128(v, m[n].mask);
			m[n].plen = plen;
			m[n].neg = neg;
			n++;
			if (r != 1)
				fail_msg("entry %d: new /%d not added (returned %d)", k, plen, r);
		}
	}
	assert_int_equal(table_size(t), (size_t)n);

	for (int k = 0; k < NLOOKUP; k++) {
		struct u128 v;
		struct addr a;
		unsigned kind = (unsigned)(rnd() % 4);
		int got, want;

		if (kind == 3) {
			v = random_addr(family);
		} else {
			const struct model_entry *e = &m[rnd() % (uint64_t)n];
			struct u128 r = random_addr(family);

			v.hi = e->net.hi | (r.hi & ~e->mask.hi);
			v.lo = e->net.lo | (r.lo & ~e->mask.lo);
			if (kind == 2 && e->plen > 0) {
				/* flip the last network bit: just outside this prefix */
				int bit = e->plen - 1;

				if (bit < 64)
					v.hi ^= 1ull << (63 - bit);
				else
					v.lo ^= 1ull << (127 - bit);
			}
			if (family == 4) {
				v.hi &= 0xffffffff00000000ull;
				v.lo = 0;
			}
		}
		a = to_addr(v, family);
		got = table_contains(t, &a);
		want = model_contains(m, n, from_addr(&a));
		hits += want;
		if (got != want) {
			char buf[ADDR_STRLEN];

			addr_format(&a, buf);
			fail_msg("lookup %d: %s: table says %d, brute force says %d", k, buf, got, want);
		}
	}
	/* the mix is meaningful: many hits and many misses */
	assert_true(hits > NLOOKUP / 10);
	assert_true(hits < NLOOKUP - NLOOKUP / 10);
	free(m);
}

static void
test_random_lpm_ipv4(void **state)
{
	random_lpm(state, 4, 20241030);
}

static void
test_random_lpm_ipv6(void **state)
{
	random_lpm(state, 6, 42);
}

/* The first plen bits of a and b (of a family's width) are equal. */
static int
same_prefix(const uint8_t *a, const uint8_t *b, int plen)
{
	for (int bit = 0; bit < plen; bit++)
		if (((a[bit / 8] ^ b[bit / 8]) >> (7 - bit % 8)) & 1)
			return 0;
	return 1;
}

/*
 * table_overlaps against the plain definition (an entry, not a negation,
 * whose prefix and the asked one agree on their shorter length), on random
 * tables and prefixes clustered so that every case comes up, the table
 * changed between rounds (the sorted cache must follow).
 */
static void
test_random_overlaps(void **state)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		int width = fam == 4 ? 32 : 128;
		struct cidr_table *t = table_new("o");
		struct { struct addr a; int plen, neg; } e[400];
		int n = 0;

		*state = t;
		rng_seed(7 + (uint64_t)fam);
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < 100; i++, n++) {
				e[n].a = (struct addr){ .family = (uint8_t)fam };
				e[n].a.b[0] = (uint8_t)(rng() % 4);	/* clustered: overlaps happen */
				for (int k = 1; k < width / 8; k++)
					e[n].a.b[k] = (uint8_t)rng();
				e[n].plen = (int)(rng() % (unsigned)(width + 1));
				e[n].neg = rng() % 8 == 0;
				for (int bit = e[n].plen; bit < width; bit++)
					e[n].a.b[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
				table_add(t, &e[n].a, e[n].plen, e[n].neg);
			}
			for (int q = 0; q < 2000; q++) {
				struct addr a = { .family = (uint8_t)fam };
				int plen = (int)(rng() % (unsigned)(width + 1)), want = 0;

				if (q % 2)
					a = e[rng() % (unsigned)n].a;	/* near an entry */
				else {
					a.b[0] = (uint8_t)(rng() % 4);
					for (int k = 1; k < width / 8; k++)
						a.b[k] = (uint8_t)rng();
				}
				for (int i = 0; i < n; i++) {
					int neg = e[i].neg, j;

					/* the last add of the same prefix decides its negation */
					for (j = i + 1; j < n; j++)
						if (e[j].plen == e[i].plen && memcmp(e[j].a.b, e[i].a.b, 16) == 0)
							break;
					if (j < n)
						continue;
					if (!neg && same_prefix(a.b, e[i].a.b, plen < e[i].plen ? plen : e[i].plen))
						want = 1;
				}
				if (table_overlaps(t, &a, plen) != want)
					fail_msg("IPv%d round %d query %d /%d: overlaps %d, want %d", fam, round, q, plen, !want,
					    want);
			}
		}
		table_free(t);
		*state = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_empty_and_name, free_table),
		cmocka_unit_test_teardown(test_ipv4_membership, free_table),
		cmocka_unit_test_teardown(test_ipv6_membership, free_table),
		cmocka_unit_test_teardown(test_host_bits_cleared, free_table),
		cmocka_unit_test_teardown(test_negation, free_table),
		cmocka_unit_test_teardown(test_zero_prefix, free_table),
		cmocka_unit_test_teardown(test_families_separate, free_table),
		cmocka_unit_test_teardown(test_ipv4_mapped, free_table),
		cmocka_unit_test_teardown(test_duplicates, free_table),
		cmocka_unit_test(test_parse_entry_ok),
		cmocka_unit_test(test_parse_entry_errors),
		cmocka_unit_test_setup_teardown(test_load_file, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_file_errors, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_teardown(test_random_lpm_ipv4, free_table),
		cmocka_unit_test_teardown(test_random_lpm_ipv6, free_table),
		cmocka_unit_test_teardown(test_random_overlaps, free_table),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
