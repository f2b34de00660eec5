/*
 * test_cluster.c - what a cluster node takes from outside: Redis URLs
 * (cluster/redis.c) and stream entries (cluster/cluster.c), validated like
 * `ctl` input, and the outbox's text form. The real Redis is in
 * tests/sh/test_cluster.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../cluster/cluster.h"
#include "../../cluster/redis.h"

static void
test_urls(void **state)
{
	struct redis_url u;
	char err[300];

	(void)state;
	assert_int_equal(redis_url_parse("redis://127.0.0.1:6379", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.user, "");
	assert_int_equal(redis_url_parse("redis://mx:s3cr:et@[2001:db8::5]:6380/2", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "mx");
	assert_string_equal(u.password, "s3cr:et");	/* the first ':' splits user and password */
	assert_string_equal(u.host, "2001:db8::5");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_int_equal(redis_url_parse("redis://:pw@198.51.100.5:6379", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "pw");
	assert_int_equal(redis_url_parse("sentinel://198.51.100.5:26379,198.51.100.6:26380/mymaster", &u, err,
	    sizeof(err)), 0);
	assert_int_equal(u.nsentinels, 2);
	assert_string_equal(u.shost[1], "198.51.100.6");
	assert_int_equal(u.sport[1], 26380);
	assert_string_equal(u.master, "mymaster");
	{
		static const char *const bad[] = {
			"redis://127.0.0.1", "redis://127.0.0.1:0", "redis://127.0.0.1:65536", "redis://:6379",
			"redis://host:6379/x", "redis://host:6379/", "redis://user@host:6379", "http://host:6379",
			"sentinel://host:26379", "sentinel:///m", "redis://ho st:6379", "redis://h;rm:6379",
			"redis://[2001:db8::5:6379", "",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			err[0] = '\0';
			if (redis_url_parse(bad[i], &u, err, sizeof(err)) == 0)
				fail_msg("'%s' should be refused", bad[i]);
			assert_true(err[0] != '\0');
		}
	}
}

/* An entry's fields as XREAD gives them: name, value, ... */
static int
entry(struct cluster_msg *m, char *why, const char *const *kv)
{
	const char *f[40];
	size_t fl[40];
	int n = 0;

	for (; kv[n] != NULL; n++) {
		f[n] = kv[n];
		fl[n] = strlen(kv[n]);
	}
	return cluster_msg_from_fields(n, f, fl, m, why, 120);
}

static void
test_entries(void **state)
{
	struct cluster_msg m;
	char why[120];
	const char *good[] = { "v", "1", "node", "mx-1.b", "seq", "42", "op", "decide", "key", "203.0.113.0/24",
		"rule", "dha", "action", "block", "ts", "1796574709", "until", "1796578309", "value", "20", "level", "1",
		"later", "ignored", NULL };
	const char *release[] = { "v", "1", "node", "mx2", "seq", "7", "op", "release", "key", "2001:db8::1", NULL };

	(void)state;
	assert_int_equal(entry(&m, why, good), 0);
	assert_int_equal(m.op, CL_DECIDE);
	assert_string_equal(m.node, "mx-1.b");
	assert_int_equal(m.seq, 42);
	assert_string_equal(m.key, "203.0.113.0/24");
	assert_int_equal(m.until, 1796578309);
	assert_int_equal(m.value, 20);
	assert_int_equal(m.kind, CK_CLIENT);	/* (no "kind": a client's) */
	assert_int_equal(entry(&m, why, release), 0);
	assert_int_equal(m.op, CL_RELEASE);
	{
		/* A HELO name, sender or domain: printable ASCII, no space, no capital, at most 48 bytes. */
		const char *kv[sizeof(good) / sizeof(good[0]) + 2];
		static const struct {
			const char *kind, *key;
			int ok;
		} keys[] = {
			{ "helo", "win-3rd8xkq2ltm", 1 }, { "sender", "\"a;b\"@example.net", 1 },
			{ "sender_domain", "example.net", 1 }, { "client", "198.51.100.7", 1 },
			{ "helo", "WIN-3RD8XKQ2LTM", 0 }, { "helo", "a b", 0 }, { "helo", "tab\there", 0 },
			{ "helo", "caf\xc3\xa9", 0 }, { "helo", "", 0 },
			{ "helo", "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh", 0 },	/* 49 */
			{ "client", "win-3rd8xkq2ltm", 0 }, { "domain", "example.net", 0 },
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t n = sizeof(good) / sizeof(good[0]) - 1;

			memcpy(kv, good, sizeof(good));
			kv[9] = keys[i].key;
			kv[n] = "kind";
			kv[n + 1] = keys[i].kind;
			kv[n + 2] = NULL;
			if ((entry(&m, why, kv) == 0) != keys[i].ok)
				fail_msg("kind %s key '%s' should be %s (%s)", keys[i].kind, keys[i].key,
				    keys[i].ok ? "taken" : "refused", why);
			if (keys[i].ok)
				assert_string_equal(cluster_kind_name(m.kind), keys[i].kind);
		}
		/* a release is of a client only */
		memcpy(kv, release, sizeof(release));
		kv[10] = "kind";
		kv[11] = "helo";
		kv[12] = NULL;
		kv[9] = "win-x";
		assert_int_equal(entry(&m, why, kv), -1);
	}
	{
		/* Each bad field alone refuses the entry, with its reason. */
		static const struct {
			int at;
			const char *value, *reason;
		} bad[] = {
			{ 1, "2", "v" }, { 3, "mx 1", "node" }, { 3, "", "node" }, { 3, "mx;rm", "node" },
			{ 5, "0", "seq" }, { 5, "-3", "seq" }, { 5, "4x", "seq" }, { 7, "ban", "op" },
			{ 9, "not-an-address", "key" }, { 9, "203.0.113.0/33", "key" }, { 9, "203.0.113.1;rm -rf", "key" },
			{ 11, "d h a", "rule" }, { 11, "<script>", "rule" }, { 13, "explode", "action" },
			{ 17, "0", "until" }, { 17, "1000", "until" }, { 19, "-1", "value" }, { 21, "99999999999", "level" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char *kv[sizeof(good) / sizeof(good[0])];

			memcpy(kv, good, sizeof(good));
			kv[bad[i].at] = bad[i].value;
			why[0] = '\0';
			if (entry(&m, why, kv) == 0)
				fail_msg("%s = '%s' should be refused", good[bad[i].at - 1], bad[i].value);
			if (strstr(why, bad[i].reason) == NULL && strstr(why, "ts/until") == NULL)
				fail_msg("%s = '%s': the reason '%s' should name %s", good[bad[i].at - 1], bad[i].value, why,
				    bad[i].reason);
		}
	}
	{
		/* A missing version or op, an odd number of fields, a NUL inside a value. */
		const char *nov[] = { "node", "mx", "seq", "1", "op", "release", "key", "198.51.100.1", NULL };
		const char *odd[] = { "v", "1", "node", NULL };
		const char *f[] = { "v", "1", "node", "m\0x", "seq", "1", "op", "release", "key", "198.51.100.1" };
		size_t fl[] = { 1, 1, 4, 3, 3, 1, 2, 7, 3, 12 };

		assert_int_equal(entry(&m, why, nov), -1);
		assert_int_equal(entry(&m, why, odd), -1);
		assert_int_equal(cluster_msg_from_fields(10, f, fl, &m, why, sizeof(why)), -1);
	}
}

static void
test_outbox_text(void **state)
{
	struct cluster_msg m = { .op = CL_DECIDE, .ts = 10, .until = 3610, .value = 7, .level = 2 }, back;
	char text[512];
	size_t n;

	(void)state;
	snprintf(m.rule, sizeof(m.rule), "manual");
	snprintf(m.key, sizeof(m.key), "2001:db8:1::/48");
	snprintf(m.action, sizeof(m.action), "reject");
	n = cluster_msg_pack(&m, text, sizeof(text));
	assert_true(n > 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(cluster_msg_unpack(text, n, &back), 0);
	assert_int_equal(back.op, CL_DECIDE);
	assert_string_equal(back.rule, "manual");
	assert_string_equal(back.key, "2001:db8:1::/48");
	assert_string_equal(back.action, "reject");
	assert_int_equal(back.until, 3610);
	assert_int_equal(back.level, 2);
	/* a string key's kind goes with it */
	m.kind = CK_SENDER_DOMAIN;
	snprintf(m.key, sizeof(m.key), "example.net");
	n = cluster_msg_pack(&m, text, sizeof(text));
	assert_int_equal(cluster_msg_unpack(text, n, &back), 0);
	assert_int_equal(back.kind, CK_SENDER_DOMAIN);
	assert_string_equal(back.key, "example.net");
	assert_int_equal(cluster_msg_unpack("decide r 1.2.3.4 block 1 2 3 4 bogus", 36, &back), -1);
	m.kind = CK_CLIENT;
	snprintf(m.key, sizeof(m.key), "2001:db8:1::/48");
	m.op = CL_RELEASE;
	n = cluster_msg_pack(&m, text, sizeof(text));
	assert_int_equal(cluster_msg_unpack(text, n, &back), 0);
	assert_int_equal(back.op, CL_RELEASE);
	assert_int_equal(cluster_msg_unpack("decide r 1.2.3.4 block 1 2 3", 28, &back), -1);	/* a field short */
	assert_int_equal(cluster_msg_unpack("release 1.2.3.4 x", 17, &back), -1);		/* one too many */
	assert_int_equal(cluster_msg_unpack("decide r 1.2.3.999 block 1 2 3 4", 33, &back), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_outbox_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
