/*
 * fuzz_control.c - libFuzzer target: the control socket's commands
 * (cli/control.c: control_answer, as ctl.c hands it a request line).
 *
 * control.c reaches the daemon only through cli/daemon.h, so this target
 * links it against a daemon of its own: one that answers with figures and
 * texts taken from the input (decision keys are what rules saw: a HELO
 * name or a sender is an attacker's text; a cluster link's state carries
 * Redis's error text) and checks every call control.c makes — a ban's
 * network has no host bits and a prefix within its family, a known action
 * other than limit, a positive duration, and none the guard refused
 * (here: wider than /8) without --force; an unban's key is not empty.
 * After each request the answer is checked: every line ends in a newline,
 * and under --json every line of status, stats, decisions and reputation
 * is exactly one valid JSON object (tests/json_valid.h) or starts with
 * "error: ". A failed check aborts (a finding).
 *
 * Input: one byte of the daemon's switches, then lines: the request (cut
 * to what ctl.c passes: shorter than CTL_MAXREQ, no NUL, CR or LF), then
 * a decision's key, rule, origin, a rule's name, the node's name and the
 * cluster link's text (missing ones are empty or the defaults).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/control.h"
#include "../../cli/ctl.h"
#include "../../cli/daemon.h"
#include "../json_valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	SW_BAN_FAILS = 1 << 0,
	SW_CLUSTER = 1 << 1,
	SW_DNS = 1 << 2,
	SW_UNSHARED = 1 << 3,
	SW_STORE_FAILED = 1 << 4,
	SW_RELOAD_FAILS = 1 << 5,
	SW_COUNTERS = 1 << 6,
	SW_ORIGIN = 1 << 7,
};

#define FIELD_MAX 256

struct daemon {
	unsigned sw;
	char field[6][FIELD_MAX];	/* key, rule, origin, rule name, node, link (also a decision's reason) */
	struct rep_db *rep;
	int forced;		/* the request says --force */
	int guarded;		/* daemon_ban_guard said no to the last prefix */
	struct rule rule;	/* what daemon_rule_conf gives */
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_control: %s\n", what);
		abort();
	}
}

void
daemon_sync(struct daemon *dm)
{
	(void)dm;
}

void
daemon_status(struct daemon *dm, int64_t now, struct daemon_status *st)
{
	(void)now;
	*st = (struct daemon_status){ .sources = 2, .lines = UINT64_MAX, .events = 7, .decisions = 3,
		.active = dm->sw & SW_STORE_FAILED ? -1 : 1, .state_ok = !(dm->sw & SW_STORE_FAILED),
		.unsaved = 1, .fw_pending = 2, .map_ok = !(dm->sw & SW_RELOAD_FAILS) };
}

int
daemon_dns(struct daemon *dm, struct dnsrep_stats *d, struct repwait_stats *w)
{
	if (!(dm->sw & SW_DNS))
		return 0;
	memset(d, 0, sizeof(*d));
	memset(w, 0, sizeof(*w));
	d->lookups = 5;
	w->waiting = UINT64_MAX;
	return 1;
}

int
daemon_cluster(struct daemon *dm, struct daemon_cluster *c)
{
	if (!(dm->sw & SW_CLUSTER))
		return 0;
	*c = (struct daemon_cluster){ .node = dm->field[4], .link = { .link = dm->field[5], .where = dm->field[5],
		.backlog = 9 }, .has_counters = (dm->sw & SW_COUNTERS) != 0, .counters_ready = 1,
		.counters = { .link = dm->field[5], .last_rtt_ms = -1, .max_rtt_ms = INT64_MAX } };
	return 1;
}

int
daemon_nrules(const struct daemon *dm)
{
	(void)dm;
	return 2;
}

const char *
daemon_rule(struct daemon *dm, int i, struct rule_stats *st)
{
	check(i >= 0 && i < 2, "daemon_rule: index out of range");
	*st = (struct rule_stats){ .events = (uint64_t)i, .keys = UINT64_MAX };
	return i == 0 ? dm->field[3] : "harvest";
}

int
daemon_rule_index(const struct daemon *dm, const char *name)
{
	return strcmp(name, dm->field[3]) == 0 ? 0 : strcmp(name, "harvest") == 0 ? 1 : -1;
}

const struct rule *
daemon_rule_conf(const struct daemon *dm, int i)
{
	check(i >= 0 && i < 2, "daemon_rule_conf: index out of range");
	return &dm->rule;
}

/* No to prefixes wider than /8 (the real one: /0, widest-ban, trusted, this host's). */
int
daemon_ban_guard(struct daemon *dm, const struct addr *net, int plen, char *why, size_t whylen)
{
	check(net->family == 4 || net->family == 6, "ban_guard: not an address");
	dm->guarded = plen < 8;
	if (dm->guarded)
		snprintf(why, whylen, "/%d is too wide", plen);
	return dm->guarded;
}

void
daemon_reputation(struct daemon *dm, const struct addr *a, int64_t now, struct rep_result *r)
{
	check(a->family == 4 || a->family == 6, "daemon_reputation: not an address");
	rep_lookup(dm->rep, a, now, r);
}

int
daemon_ban(struct daemon *dm, const struct addr *net, int plen, enum action act, int64_t dur, int64_t now,
    char *key, size_t keysz, const struct audit_who *who)
{
	struct addr masked = *net;

	(void)now;
	check(who->by == BY_CTL && who->uid == 0 && who->pid == 4242, "ban: not the caller's credentials");
	check(net->family == 4 || net->family == 6, "ban: not an address");
	check(plen >= 0 && plen <= (net->family == 4 ? 32 : 128), "ban: prefix length outside its family");
	addr_mask(&masked, plen);
	check(memcmp(&masked, net, sizeof(masked)) == 0, "ban: host bits set");
	check((int)act >= A_BLOCK && (int)act <= A_LOG && act != A_LIMIT, "ban: not an action a ban takes");
	check(dur > 0, "ban: duration not positive");
	check(keysz >= ADDR_STRLEN + 4, "ban: key buffer too small");
	check(!dm->guarded || dm->forced, "ban: a prefix the guard refused went through without --force");
	if (dm->sw & SW_BAN_FAILS)
		return -1;
	snprintf(key, keysz, "%s", dm->field[0]);
	return 0;
}

long
daemon_unban(struct daemon *dm, const char *key, int64_t now, int *unshared, const struct audit_who *who)
{
	(void)now;
	check(who->by == BY_CTL && who->uid == 0 && who->pid == 4242, "unban: not the caller's credentials");
	check(*key != '\0' && strlen(key) < CTL_MAXREQ, "unban: empty or overlong key");
	*unshared = (dm->sw & SW_UNSHARED) != 0;
	return dm->sw & SW_STORE_FAILED ? -1 : 1;
}

long
daemon_flush(struct daemon *dm, int64_t now, const struct audit_who *who)
{
	(void)now;
	check(who->by == BY_CTL && who->uid == 0 && who->pid == 4242, "flush: not the caller's credentials");
	return dm->sw & SW_STORE_FAILED ? -1 : 4;
}

int
daemon_reload(struct daemon *dm, const struct audit_who *who)
{
	check(who->by == BY_CTL && who->uid == 0 && who->pid == 4242, "reload: not the caller's credentials");
	return !(dm->sw & SW_RELOAD_FAILS);
}

const char *
daemon_decision_log(const struct daemon *dm)
{
	return dm->sw & SW_ORIGIN ? NULL : "/var/log/mxguard/decisions.log";
}

const char *
daemon_conffile(const struct daemon *dm)
{
	return dm->sw & SW_ORIGIN ? NULL : "/etc/mxguard/mxguard.conf";
}

void
daemon_metrics(struct daemon *dm, struct outbuf *ob, int64_t now)
{
	(void)dm;
	(void)now;
	OB_LIT(ob, "# TYPE mxguard_lines_read_total counter\nmxguard_lines_read_total 1\n");
}

const char *
daemon_decision_state(struct daemon *dm, const struct stored_decision *d)
{
	(void)d;
	return dm->sw & SW_UNSHARED ? "pending" : "";
}

int
daemon_list_decisions(struct daemon *dm, int64_t now, store_decision_fn fn, void *arg)
{
	struct stored_decision d = { .rule = dm->field[1], .key = dm->field[0], .action = "reject", .ts = now,
		.until = INT64_MAX / 2, .value = UINT64_MAX, .level = UINT32_MAX,
		.origin = dm->sw & SW_ORIGIN ? dm->field[2] : NULL, .reason = dm->sw & SW_COUNTERS ? dm->field[5] : NULL };

	fn(arg, &d);
	d.origin = NULL;
	d.key = "198.51.100.0/24";
	fn(arg, &d);
	return dm->sw & SW_STORE_FAILED ? -1 : 0;
}

/* Every line of the answer ends in a newline; under --json (of the commands that answer JSON) each is an object. */
static void
check_answer(const char *req, const struct outbuf *out)
{
	int json = strncmp(req, "--json ", 7) == 0;
	const char *cmd = req + (json ? 7 : 0);
	size_t clen = strcspn(cmd, " ");

	if (out->len == 0)
		return;
	check(out->p[out->len - 1] == '\n', "answer: last line without a newline");
	if (!json)
		return;
	/* (status RULE too: one object, its decisions in an array) */
	if (!((clen == 6 && memcmp(cmd, "status", 6) == 0) || (clen == 5 && memcmp(cmd, "stats", 5) == 0) ||
	    (clen == 9 && memcmp(cmd, "decisions", 9) == 0) || (clen == 10 && memcmp(cmd, "reputation", 10) == 0)))
		return;
	for (const char *p = out->p, *end = out->p + out->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		check(nl != NULL, "answer: line without a newline");
		if (!((size_t)(nl - p) >= 7 && memcmp(p, "error: ", 7) == 0))
			check(json_valid_object(p, (size_t)(nl - p)), "answer: a --json line that is not one JSON object");
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon dm;
	char req[CTL_MAXREQ], copy[CTL_MAXREQ];
	struct outbuf out;
	size_t i = 1, n = 0;

	if (size < 1)
		return 0;
	if (dm.rep == NULL)
		dm.rep = rep_new();
	dm.sw = data[0];
	/* The request, framed as ctl.c frames it. */
	while (i < size && data[i] != '\n' && n < sizeof(req) - 1) {
		if (data[i] != '\0' && data[i] != '\r')
			req[n++] = (char)data[i];
		i++;
	}
	req[n] = '\0';
	while (i < size && data[i] != '\n')
		i++;
	/* The daemon's texts. */
	for (int f = 0; f < 6; f++) {
		size_t m = 0;

		if (i < size)
			i++;	/* the newline */
		while (i < size && data[i] != '\n' && m < FIELD_MAX - 1) {
			if (data[i] != '\0')
				dm.field[f][m++] = (char)data[i];
			i++;
		}
		dm.field[f][m] = '\0';
	}
	if (dm.field[0][0] == '\0')
		snprintf(dm.field[0], FIELD_MAX, "203.0.113.5");
	memcpy(copy, req, n + 1);	/* control_answer cuts the line into words */
	dm.forced = strstr(req, "--force") != NULL;
	dm.guarded = 0;
	dm.rule = (struct rule){ .name = dm.field[3], .key = (enum key_kind)(data[0] % 6), .measure = (enum measure)(data[0] % 3),
		.threshold = data[0], .window = (int64_t)data[0] * 60, .action = (enum action)(data[0] % 8), .duration = 3600 };
	ob_init(&out, -1, 256);
	control_answer(&dm, &(struct ctl_peer){ .uid = 0, .pid = 4242 }, req, &out);
	check_answer(copy, &out);
	ob_free(&out);
	return 0;
}
