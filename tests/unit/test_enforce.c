/*
 * test_enforce.c - what a decision becomes at the firewall and in the
 * MTA's map (actions/enforce.c): client keys and prefixes of both
 * families, a limit's rate from its rule, a rule gone since a reload, a
 * backend that can only block, and keys of every kind for the map.
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

#include "../../actions/enforce.h"

static const char policy[] =
    "rule \"slow\" {\n    on connect\n    when count >= 5 within 1m\n    do limit 10 per 1m for 1h\n}\n"
    "rule \"cap\" {\n    on connect\n    when count >= 5 within 1m\n    do limit 3 connections for 1h\n}\n"
    "rule \"helo\" {\n    on rcpt_unknown\n    by helo\n    when count >= 5 within 1m\n    do reject for 1h\n}\n"
    "rule \"rcpt\" {\n    on rcpt_unknown\n    by recipient\n    when count >= 5 within 1m\n    do defer for 1h\n}\n"
    "rule \"dha\" {\n    on rcpt_unknown\n    when distinct to >= 10 within 1h\n    do block for 1h\n}\n";

static void
diag(void *arg, int warning, const char *msg)
{
	(void)arg;
	(void)warning;
	fail_msg("configuration: %s", msg);
}

/* The backends by name, as --firewall takes them: nftables shapes, pf can only block. */
static const struct fw_backend *
backend(const char *name)
{
	const char *arg;
	const struct fw_backend *b = fw_by_name(name, &arg);

	assert_non_null(b);
	return b;
}

/* The policy, after a first line (a setting, or nothing). */
static struct config *
load(const char *first)
{
	char path[] = "/tmp/test_enforce.XXXXXX";
	int fd = mkstemp(path);
	struct config *c;

	if (fd < 0 || write(fd, first, strlen(first)) != (ssize_t)strlen(first) ||
	    write(fd, policy, sizeof(policy) - 1) != (ssize_t)(sizeof(policy) - 1))
		return NULL;
	close(fd);
	c = conf_load(path, diag, NULL);
	unlink(path);
	return c;
}

static int
setup(void **state)
{
	*state = load("");
	return *state == NULL ? -1 : 0;
}

/* pf's cap is a pass rule of its anchor: on the ports of 'set ports', which its entry carries. */
static void
test_pf_cap(void **state)
{
	struct config *c = load("set ports 25, 587\n");
	struct fw_entry e;
	char why[256];

	(void)state;
	assert_non_null(c);
	assert_null(enforce_ports_ok(c, backend("pf"), why, sizeof(why)));
	assert_int_equal(enforce_fw_entry(c, backend("pf"), "cap", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.kind, FW_LIMIT);
	assert_int_equal(e.limit_n, 3);
	assert_int_equal(e.limit_per, 0);
	assert_int_equal(e.nports, 2);
	assert_int_equal(e.ports[0], 25);
	assert_int_equal(e.ports[1], 587);
	/* nftables caps every port: no ports in its entry */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "cap", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.nports, 0);
	conf_free(c);
	/* without 'set ports' the configuration is refused for pf, saying what to add */
	c = load("");
	assert_non_null(c);
	assert_non_null(enforce_ports_ok(c, backend("pf"), why, sizeof(why)));
	assert_non_null(strstr(why, "add 'set ports'"));
	assert_null(enforce_ports_ok(c, backend("nftables"), why, sizeof(why)));
	conf_free(c);
}

static int
teardown(void **state)
{
	conf_free(*state);
	return 0;
}

static void
test_firewall(void **state)
{
	const struct config *c = *state;
	struct fw_entry e;

	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "203.0.113.7", NULL, 0, 600, &e), ENF_FW_OK);
	assert_int_equal(e.kind, FW_BLOCK);
	assert_int_equal(e.seconds, 600);
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "manual", "block", "2001:db8:1::/48", NULL, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.plen, 48);
	/* a limit takes its rule's rate */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "slow", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.kind, FW_LIMIT);
	assert_int_equal(e.limit_n, 10);
	assert_int_equal(e.limit_per, 60);
	/* ... and without its rule (gone since a reload) there is no rate to enforce */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "gone", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_NONE);
	/* a backend that can only block: limits and tarpits are recorded, not enforced */
	assert_int_equal(enforce_fw_entry(c, backend("pf"), "slow", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_CANNOT_SHAPE);
	assert_int_equal(enforce_fw_entry(c, backend("pf"), "x", "tarpit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_CANNOT_SHAPE);
	assert_int_equal(enforce_fw_entry(c, backend("pf"), "dha", "block", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	/* a cap on open connections: held by a backend that counts them even if it cannot shape (ipset) */
	assert_int_equal(enforce_fw_entry(c, backend("ipset"), "cap", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.kind, FW_LIMIT);
	assert_int_equal(e.limit_n, 3);
	assert_int_equal(e.limit_per, 0);
	assert_int_equal(enforce_fw_entry(c, backend("ipset"), "slow", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_CANNOT_SHAPE);
	assert_int_equal(enforce_fw_entry(c, backend("iptables"), "cap", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_OK);
	/* pf caps on the ports of 'set ports' only, and there are none here (refused at start) */
	assert_int_equal(enforce_fw_entry(c, backend("pf"), "cap", "limit", "198.51.100.9", NULL, 0, 60, &e), ENF_FW_NONE);
	/* not a client key, or an action the firewall has no part in */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "helo", "block", "mail.example.net", NULL, 0, 60, &e), ENF_FW_NONE);
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "helo", "reject", "203.0.113.7", NULL, 0, 60, &e), ENF_FW_NONE);
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "203.0.113.7/33", NULL, 0, 60, &e), ENF_FW_NONE);
}

/* The engine's network is taken as it is: the key's text is not read again. */
static void
test_typed(void **state)
{
	const struct config *c = *state;
	struct addr net = { .family = 4, .b = { 203, 0, 113, 77 } }, v6 = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 } };
	struct fw_entry e;

	/* a text that does not parse: the network decides (host bits cleared) */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "not an address", &net, 24, 60, &e), ENF_FW_OK);
	assert_int_equal(e.addr.family, 4);
	assert_int_equal(e.plen, 24);
	assert_int_equal(e.addr.b[3], 0);
	assert_int_equal(e.addr.b[2], 113);
	assert_int_equal(e.seconds, 60);
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "", &v6, 48, 60, &e), ENF_FW_OK);
	assert_int_equal(e.addr.family, 6);
	assert_int_equal(e.plen, 48);
	/* a prefix length its family cannot have: no entry */
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "203.0.113.77", &net, 33, 60, &e), ENF_FW_NONE);
	/* no network (family 0): the text, as before */
	net.family = 0;
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "block", "198.51.100.3", &net, 0, 60, &e), ENF_FW_OK);
	assert_int_equal(e.addr.b[0], 198);
	assert_int_equal(e.plen, 32);
	/* the action still decides whether the firewall has a part */
	net.family = 4;
	assert_int_equal(enforce_fw_entry(c, backend("nftables"), "dha", "reject", "x", &net, 32, 60, &e), ENF_FW_NONE);
}

static void
test_map(void **state)
{
	const struct config *c = *state;
	enum dmap_kind kind;
	struct dmap_hit h;

	assert_int_equal(enforce_map_entry(c, "helo", "reject", 5000, &kind, &h), 1);
	assert_int_equal(kind, DK_HELO);
	assert_int_equal(h.until, 5000);
	assert_string_equal(h.rule, "helo");
	assert_int_equal(enforce_map_entry(c, "slow", "limit", 5000, &kind, &h), 1);
	assert_int_equal(kind, DK_CLIENT);
	assert_int_equal(h.action, DM_LIMIT);
	assert_int_equal(h.limit_n, 10);
	assert_int_equal(h.limit_per, 60);
	/* a manual ban, a rule gone: a client key */
	assert_int_equal(enforce_map_entry(c, "manual", "defer", 5000, &kind, &h), 1);
	assert_int_equal(kind, DK_CLIENT);
	/* keyed by recipient: nothing an MTA's client, HELO or sender lookup matches */
	assert_int_equal(enforce_map_entry(c, "rcpt", "defer", 5000, &kind, &h), 0);
	/* an action the map does not carry */
	assert_int_equal(enforce_map_entry(c, "dha", "log", 5000, &kind, &h), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_firewall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map, setup, teardown),
		cmocka_unit_test(test_pf_cap),
	};

	return cmocka_run_group_tests_name("enforce", tests, NULL, NULL);
}
