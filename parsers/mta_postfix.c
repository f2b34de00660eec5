/*
 * mta_postfix.c - Postfix: pattern tables per daemon, plus the queue-ID join.
 *
 * Line shapes: docs/log-formats.md section 1. The tag is
 * postfix[-INSTANCE]/[SERVICE/...]DAEMON and only DAEMON matters. The
 * body may start with a queue ID or "NOQUEUE: ", which is stripped first.
 *
 * Correlation: smtpd's "QID: client=host[ip]" is the only line that ties a
 * message to its client. qmgr's "QID: from=<..>, size=, nrcpt=" then yields
 * msg_accepted (or bounce_in for the null sender). Postfix's own bounces,
 * pickup submissions and content-filter reinjections never come from a
 * remote client and are marked local, so they can never become bounce_in.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/xalloc.h"
#include "mta.h"
#include "mta_text.h"
#include "pattern.h"

/* Client "host[ip]" with optional ":port"; postscreen's "[ip]:port" fits too (empty host). */
#define HIP "(?<host>[^\\s\\[\\]]*)\\[(?<ip>[^\\]\\s]*)\\](?::(?<port>\\d+))?"

/*
 * Reject lines of smtpd, postscreen and cleanup milters: the client's
 * "host[ip]" follows a fixed prefix, so it is taken here; the rest (reply
 * text and the fields Postfix appends) is split in code, from the end of
 * the line (reject_tail), because the client wrote much of it.
 */
#define REJECT_RE(word) word ": (?<cmd>\\S+) from " HIP ": (?<aux>.*)$"

enum op {
	OP_NONE,
	OP_DISCONNECT,		/* parse "ehlo=1 rcpt=0/25 commands=3/28" from aux */
	OP_REJECT,		/* classify by command and reply text */
	OP_TIMEOUT,		/* lost_conn with reason "timeout" */
	OP_CLIENT,		/* remember QID -> client */
	OP_QMGR_FROM,		/* join QID -> client: msg_accepted / bounce_in */
	OP_REMOVED,		/* forget QID */
	OP_LOCAL_ORIGIN,	/* QID is a local submission: never remote */
	OP_BOUNCE_NOTICE,	/* aux is the QID of a bounce Postfix generated */
	OP_DELIVERY_BOUNCED,	/* accept-then-bounce: unknown user at delivery */
	OP_DENYLISTED,		/* postscreen BLACKLISTED/DENYLISTED */
	OP_CHECKS_REJECT,	/* cleanup header/body checks: client from the queue ID */
};

static const struct pattern_def smtpd_defs[] = {
	{ "connect from ", NULL, "connect from " HIP, EV_CONNECT, 0 },
	{ "disconnect from ", NULL, "disconnect from " HIP "(?: (?<aux>.*))?", EV_DISCONNECT, OP_DISCONNECT },
	{ "client=", NULL, "client=" HIP "(?:, sasl_method=(?<method>[^,]*))?"
	    "(?:, sasl_username=(?<user>[^,]*))?(?:.*?, orig_client=(?<aux>\\S+))?", EV_NONE, OP_CLIENT },
	{ "reject: ", NULL, REJECT_RE("reject"), EV_NONE, OP_REJECT },
	{ "milter-reject: ", NULL, REJECT_RE("milter-reject"), EV_NONE, OP_REJECT },
	{ "lost connection after ", NULL, "lost connection after (?<stage>\\S+)(?: \\(\\S+ bytes\\))? from " HIP,
	    EV_LOST_CONN, 0 },
	{ "timeout after ", NULL, "timeout after (?<stage>\\S+)(?: \\(\\S+ bytes\\))? from " HIP,
	    EV_LOST_CONN, OP_TIMEOUT },
	{ "too many errors after ", NULL, "too many errors after (?<stage>\\S+)(?: \\(\\S+ bytes\\))? from " HIP,
	    EV_PROTOCOL_ERROR, 0 },
	{ "improper command pipelining after ", NULL,
	    "improper command pipelining after (?<stage>\\S+) from " HIP "(?:: (?<reason>.*))?", EV_PROTOCOL_ERROR, 0 },
	/*
	 * Warnings that end in client text come first, matched on their whole
	 * fixed prefix: the text may imitate any other warning. The general
	 * ones after them allow only Postfix's own words where the client's
	 * could stand.
	 */
	{ "warning: non-SMTP command from ", NULL, "warning: non-SMTP command from " HIP "(?:: (?<reason>.*))?",
	    EV_PROTOCOL_ERROR, 0 },
	{ "warning: Illegal address syntax from ", NULL, "warning: Illegal address syntax from " HIP
	    " in (?<stage>[A-Z]+) command: (?<reason>.*)", EV_PROTOCOL_ERROR, 0 },
	{ "warning: hostname ", NULL, NULL, EV_NONE, 0 },
	{ "warning: ", "SASL ", "warning: " HIP ": SASL (?<method>[-\\w]+) authentication (?:failed|aborted)"
	    "(?:: ?(?<reason>.*))?", EV_AUTH_FAIL, 0 },
	{ "warning: ", " limit exceeded: ", "warning: (?<limit>[A-Z][a-zA-Z ]{0,48}?) limit exceeded: "
	    "(?<count>\\d+) from " HIP " for service (?<service>[-\\w.]+)$", EV_RATE_LIMITED, 0 },
	/* Understood, nothing to report. */
	{ "reject_warning: ", NULL, NULL, EV_NONE, 0 },
	{ "discard: ", NULL, NULL, EV_NONE, 0 },
	{ "hold: ", NULL, NULL, EV_NONE, 0 },
	{ "filter: ", NULL, NULL, EV_NONE, 0 },
	{ "redirect: ", NULL, NULL, EV_NONE, 0 },
	{ "warn: ", NULL, NULL, EV_NONE, 0 },
	{ "warning: ", "address not listed for hostname", NULL, EV_NONE, 0 },
	{ "warning: TLS library problem", NULL, NULL, EV_NONE, 0 },
	{ "Anonymous TLS connection established", NULL, NULL, EV_NONE, 0 },
	{ "Untrusted TLS connection established", NULL, NULL, EV_NONE, 0 },
	{ "Trusted TLS connection established", NULL, NULL, EV_NONE, 0 },
	{ "Verified TLS connection established", NULL, NULL, EV_NONE, 0 },
	{ "SSL_accept error from ", NULL, NULL, EV_NONE, 0 },
	{ "proxy-accept: ", NULL, NULL, EV_NONE, 0 },
	{ "proxy-reject: ", NULL, NULL, EV_NONE, 0 },
};

static const struct pattern_def postscreen_defs[] = {
	{ "CONNECT from ", NULL, "CONNECT from " HIP, EV_CONNECT, 0 },
	{ "DISCONNECT ", NULL, "DISCONNECT " HIP, EV_DISCONNECT, 0 },
	{ "reject: ", NULL, REJECT_RE("reject"), EV_NONE, OP_REJECT },
	{ "PREGREET ", NULL, "PREGREET (?<count>\\d+) after \\S+ from " HIP "(?:: (?<reason>.*))?",
	    EV_PROTOCOL_ERROR, 0 },
	{ "HANGUP after ", NULL, "HANGUP after \\S+ from " HIP "(?: in (?<stage>.*))?", EV_LOST_CONN, 0 },
	{ "DNSBL rank ", NULL, "DNSBL rank (?<count>\\d+) for " HIP, EV_DNSBL_REJECT, 0 },
	/* (what the client pipelined follows the ": ": its text, after the address postscreen wrote) */
	{ "COMMAND PIPELINING from ", NULL, "COMMAND PIPELINING from " HIP "(?: after (?<stage>[^\\s:]+))?"
	    "(?:: (?<reason>.*))?", EV_PROTOCOL_ERROR, 0 },
	{ "COMMAND ", " LIMIT from ", "COMMAND (?<limit>\\S+) LIMIT from " HIP "(?: after (?<stage>[^\\s:]+))?",
	    EV_PROTOCOL_ERROR, 0 },
	{ "NON-SMTP COMMAND from ", NULL, "NON-SMTP COMMAND from " HIP "(?: after (?<stage>[^\\s:]+))?"
	    "(?:: (?<reason>.*))?", EV_PROTOCOL_ERROR, 0 },
	{ "BARE NEWLINE from ", NULL, "BARE NEWLINE from " HIP "(?: after (?<stage>[^\\s:]+))?", EV_PROTOCOL_ERROR, 0 },
	{ "BLACKLISTED ", NULL, "BLACKLISTED " HIP, EV_CLIENT_REJECT, OP_DENYLISTED },
	{ "DENYLISTED ", NULL, "DENYLISTED " HIP, EV_CLIENT_REJECT, OP_DENYLISTED },
	{ "PASS ", NULL, NULL, EV_NONE, 0 },
	{ "WHITELISTED ", NULL, NULL, EV_NONE, 0 },
	{ "ALLOWLISTED ", NULL, NULL, EV_NONE, 0 },
	{ "WHITELIST VETO ", NULL, NULL, EV_NONE, 0 },
	{ "ALLOWLIST VETO ", NULL, NULL, EV_NONE, 0 },
	{ "warning: ", NULL, NULL, EV_NONE, 0 },
};

static const struct pattern_def qmgr_defs[] = {
	/* The sender is the client's text: the greedy match takes Postfix's own fields at the end. */
	{ "from=<", NULL, "from=<(?<from>.*)>, size=(?<size>\\d+), nrcpt=(?<nrcpt>\\d+) \\(queue active\\)$",
	    EV_NONE, OP_QMGR_FROM },
	{ "removed", NULL, NULL, EV_NONE, OP_REMOVED },
};

static const struct pattern_def cleanup_defs[] = {
	{ "milter-reject: ", NULL, REJECT_RE("milter-reject"), EV_NONE, OP_REJECT },
	/* "header|body TEXT from host[ip]; from=<..> ...: 5.7.1 site text": TEXT is the client's. */
	{ "reject: ", NULL, "reject: (?<cmd>header|body) (?<aux>.*)$", EV_MSG_REJECT, OP_CHECKS_REJECT },
};

static const struct pattern_def anvil_defs[] = {
	{ "statistics: max ", " for (", "statistics: (?<limit>max [a-z]+ [a-z]+) (?<count>\\d+)(?:/\\S+)? "
	    "for \\((?<service>[^:)]*):(?<ip>[^)]*)\\)", EV_RATE_LIMITED, 0 },
	{ "statistics: ", NULL, NULL, EV_NONE, 0 },
};

static const struct pattern_def delivery_defs[] = {
	/* "to=<R>, [orig_to=<R0>, ]relay=..., dsn=5.1.1, status=bounced (text)": split by bounced_rcpt(). */
	{ "to=<", "status=bounced", "to=<(?<aux>.*)\\)$", EV_NONE, OP_DELIVERY_BOUNCED },
};

static const struct pattern_def bounce_defs[] = {
	{ "", " notification: ", "(?:sender|postmaster) (?:non-delivery|delivery status|delay) notification: "
	    "(?<aux>\\w+)", EV_NONE, OP_BOUNCE_NOTICE },
};

static const struct pattern_def pickup_defs[] = {
	{ "uid=", NULL, NULL, EV_NONE, OP_LOCAL_ORIGIN },
	{ "sender=", NULL, NULL, EV_NONE, OP_LOCAL_ORIGIN },
};

/*
 * Daemons and their tables. Daemons not listed write nothing about
 * clients (master, pickup aside, smtp, ...): their lines are "known".
 * For daemons marked client_facing, a line no pattern knows is counted as
 * unmatched: that is where an unknown line may hide an attack.
 */
enum daemon { D_SMTPD, D_POSTSCREEN, D_QMGR, D_CLEANUP, D_ANVIL, D_DELIVERY, D_BOUNCE, D_PICKUP, D__COUNT };

static const struct {
	const char *name;
	size_t len;
	enum daemon d;
} daemon_names[] = {
#define DN(s, d) { s, sizeof(s) - 1, d }
	DN("smtpd", D_SMTPD), DN("qmgr", D_QMGR), DN("cleanup", D_CLEANUP),
	DN("postscreen", D_POSTSCREEN), DN("anvil", D_ANVIL), DN("local", D_DELIVERY),
	DN("virtual", D_DELIVERY), DN("lmtp", D_DELIVERY), DN("pipe", D_DELIVERY),
	DN("bounce", D_BOUNCE), DN("pickup", D_PICKUP),
#undef DN
};

static const struct {
	const char *name;
	const struct pattern_def *defs;
	size_t n;
	int client_facing;
} tables[D__COUNT] = {
#define T(d, defs, cf) [d] = { #defs, defs, sizeof(defs) / sizeof(defs[0]), cf }
	T(D_SMTPD, smtpd_defs, 1),
	T(D_POSTSCREEN, postscreen_defs, 1),
	T(D_QMGR, qmgr_defs, 0),
	T(D_CLEANUP, cleanup_defs, 0),
	T(D_ANVIL, anvil_defs, 1),
	T(D_DELIVERY, delivery_defs, 0),
	T(D_BOUNCE, bounce_defs, 0),
	T(D_PICKUP, pickup_defs, 0),
#undef T
};

/*
 * How a reject's reply text maps to an event type. Postfix writes
 * "[<ADDRESS>: ]CATEGORY: detail", where ADDRESS is the recipient, sender or
 * HELO name - text the client chose. The address prefix is therefore
 * skipped exactly (it must equal the logged to=, from= or helo= value)
 * before the category is read at the start of what follows, so a quoted
 * address like <"Sender address rejected"@example.org> cannot change the
 * type of its own rejection. Most frequent first.
 */
static const struct {
	const char *prefix;
	size_t len;
	enum ev_type type;
} reject_categories[] = {
#define RC(s, t) { s, sizeof(s) - 1, t }
	RC("Recipient address rejected: ", EV_RCPT_REJECT),	/* refined by recipient_unknown() */
	RC("Relay access denied", EV_RELAY_DENIED),
	RC("Service unavailable; ", EV_DNSBL_REJECT),		/* "...; Client host [ip] blocked using D" */
	RC("Sender address rejected: ", EV_CLIENT_REJECT),
	RC("Client host rejected: ", EV_CLIENT_REJECT),
	RC("Helo command rejected: ", EV_CLIENT_REJECT),
	RC("too many connections", EV_RATE_LIMITED),		/* postscreen */
	RC("all server ports busy", EV_NONE),			/* the server's condition, not the client's */
#undef RC
};

/* The length of the category at the start of t (its index in *i), or 0 if t names none. */
static size_t
category_at(struct span t, size_t *i)
{
	for (*i = 0; *i < sizeof(reject_categories) / sizeof(reject_categories[0]); (*i)++)
		if (span_starts(t, reject_categories[*i].prefix, reject_categories[*i].len))
			return reject_categories[*i].len;
	return 0;
}

struct postfix_state {
	struct pattern_set *ps[D__COUNT];
	struct corr_table *qids;
};

static int
postfix_claims(const struct syslog_hdr *h)
{
	/* "postfix/..." or "postfix-INSTANCE/..." */
	return h->tag.n > 8 && memcmp(h->tag.p, "postfix", 7) == 0 &&
	    (h->tag.p[7] == '/' || h->tag.p[7] == '-');
}

static void *
postfix_new(const struct parser_opts *o)
{
	struct postfix_state *s = xcalloc(1, sizeof(*s));

	for (int d = 0; d < D__COUNT; d++)
		s->ps[d] = pattern_set_new(tables[d].name, tables[d].defs, tables[d].n);
	s->qids = corr_new(o->corr_capacity ? o->corr_capacity : 32768,
	    o->corr_ttl ? o->corr_ttl : 24 * 3600);
	return s;
}

static void
postfix_free(void *state)
{
	struct postfix_state *s = state;

	for (int d = 0; d < D__COUNT; d++)
		pattern_set_free(s->ps[d]);
	corr_free(s->qids);
	free(s);
}

static struct corr_table *
postfix_corr(void *state)
{
	return ((struct postfix_state *)state)->qids;
}

static int
daemon_of(struct span tag)
{
	const char *slash = memrchr(tag.p, '/', tag.n);
	struct span d;

	if (slash == NULL)
		return -1;
	d.p = slash + 1;
	d.n = tag.n - (size_t)(d.p - tag.p);
	for (size_t i = 0; i < sizeof(daemon_names) / sizeof(daemon_names[0]); i++)
		if (d.n == daemon_names[i].len && d.p[0] == daemon_names[i].name[0] &&
		    memcmp(d.p, daemon_names[i].name, d.n) == 0)
			return (int)daemon_names[i].d;
	return -1;
}

/*
 * Split "QID: " or "NOQUEUE: " off the body. Short IDs are upper-case hex;
 * long IDs (enable_long_queue_ids) are 10 base-52 characters, 'z', then
 * the inode in base 51. Anything else ("warning: ") is not a queue ID.
 */
#define QC_ALNUM 1
#define QC_HEX 2		/* upper-case hex: short queue IDs */
static const unsigned char qid_class[256] = {
	['0' ... '9'] = QC_ALNUM | QC_HEX,
	['A' ... 'F'] = QC_ALNUM | QC_HEX,
	['G' ... 'Z'] = QC_ALNUM,
	['a' ... 'z'] = QC_ALNUM,
};

static struct span
strip_qid(struct span *body)
{
	struct span q = { body->p, 0 };
	const unsigned char *s = (const unsigned char *)body->p;
	size_t i = 0, n = body->n;
	unsigned hex = QC_HEX;

	if (span_starts(*body, "NOQUEUE: ", 9)) {
		body->p += 9;
		body->n -= 9;
		return q;
	}
	while (i < n && i < 24 && (qid_class[s[i]] & QC_ALNUM)) {
		hex &= qid_class[s[i]];
		i++;
	}
	if (i + 1 >= n || body->p[i] != ':' || body->p[i + 1] != ' ')
		return q;
	if (!((hex && i >= 5) || (i >= 12 && body->p[10] == 'z')))
		return q;
	q.n = i;
	body->p += i + 2;
	body->n -= i + 2;
	return q;
}

/* Client fields common to every event: drop Postfix's "unknown" placeholder. */
static void
tidy_client(struct event *ev)
{
	if (ev_has(ev, F_HOST) && (ev->str[F_HOST].n == 0 || span_eq(ev->str[F_HOST], "unknown", 7)))
		ev_unset(ev, F_HOST);
}

/* "ehlo=1 mail=1 rcpt=0/25 data=0/1 quit=1 commands=3/28": the counters rules use. */
static void
disconnect_stats(struct event *ev)
{
	static const struct {
		const char *name;
		size_t len;
		enum ev_field ok, total;
	} want[] = {
		{ "rcpt=", 5, F_RCPT_OK, F_RCPT_TOTAL },
		{ "commands=", 9, F_CMD_OK, F_CMD_TOTAL },
		{ "auth=", 5, F_AUTH_OK, F_AUTH_TOTAL },
	};
	const char *p = ev->aux.p, *end;

	if (ev->aux.n == 0)
		return;		/* "disconnect from host[ip]" without statistics (Postfix < 3.0) */
	end = p + ev->aux.n;
	while (p < end) {
		const char *tok = p, *sp = memchr(p, ' ', (size_t)(end - p));
		const char *tend = sp ? sp : end;

		p = sp ? sp + 1 : end;
		for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
			int64_t a = 0, b = -1, *cur = &a;
			const char *q;

			if ((size_t)(tend - tok) <= want[w].len || memcmp(tok, want[w].name, want[w].len) != 0)
				continue;
			for (q = tok + want[w].len; q < tend; q++) {
				if (*q == '/' && cur == &a) {
					cur = &b;
					b = 0;
				} else if (*q >= '0' && *q <= '9' && *cur < 1000000000)
					*cur = *cur * 10 + (*q - '0');
				else
					break;
			}
			if (q != tend)
				break;
			ev_set_num(ev, want[w].ok, a);
			ev_set_num(ev, want[w].total, b < 0 ? a : b);
		}
	}
}

/* The fields reject_tail reads, as a mask of struct event's bits. */
#define TAIL_FIELDS (1u << F_FROM | 1u << F_TO | 1u << F_HELO)

/* Remove a trailing "," (postscreen separates its fields with ", "). */
static size_t
uncomma(struct span r, size_t e)
{
	return e > 0 && r.p[e - 1] == ',' ? e - 1 : e;
}

/*
 * The fields Postfix appends to a reject: "; from=<S> to=<R> proto=P
 * helo=<H>", each optional, in that order (postscreen: ", " between
 * them). S and R are the client's addresses, quoted where they hold
 * specials, so they are read from the end of the line backwards, where
 * Postfix's own structure is: helo first (Postfix writes '<', '>' and
 * spaces of a HELO name as '?', so its "<" is the line's last), then the
 * proto word, then each address from its closing ">" to its opening "<",
 * stepping over a quoted local part. Fields go into ev; the length of the
 * reply text before "; " is returned, r.n when the line has no fields, or
 * -1 when the end of the line is not what Postfix writes (a line cut
 * short, or client text no MTA would write): then the three are doubtful.
 */
static long
reject_tail(struct span r, struct event *ev)
{
	static const struct {
		const char *name;
		size_t len;
		enum ev_field f;
	} addrs[] = { { " to=", 4, F_TO }, { " from=", 6, F_FROM } };
	size_t e = r.n, k;
	int cut = 0;
	const char *lt, *sp;

	if (e > 0 && r.p[e - 1] == '>' && (lt = memrchr(r.p, '<', e)) != NULL && lt - r.p >= 6 &&
	    memcmp(lt - 6, " helo=", 6) == 0) {
		ev_set_str(ev, F_HELO, (struct span){ lt + 1, (size_t)(r.p + e - 1 - lt - 1) });
		e = uncomma(r, (size_t)(lt - 6 - r.p));
		cut = 1;
	}
	if ((sp = memrchr(r.p, ' ', e)) != NULL && (size_t)(r.p + e - sp) > 7 && memcmp(sp, " proto=", 7) == 0) {
		for (k = (size_t)(sp - r.p) + 7; k < e && ((r.p[k] >= 'A' && r.p[k] <= 'Z') || r.p[k] == '-'); k++)
			;
		if (k == e) {
			e = uncomma(r, (size_t)(sp - r.p));
			cut = 1;
		}
	}
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		long o;

		if (e == 0 || r.p[e - 1] != '>')
			break;
		if ((o = mta_addr_start(r, e - 1)) < 0 || (size_t)o < addrs[i].len ||
		    memcmp(r.p + o - addrs[i].len, addrs[i].name, addrs[i].len) != 0)
			continue;
		ev_set_str(ev, addrs[i].f, (struct span){ r.p + o + 1, e - 2 - (size_t)o });
		e = uncomma(r, (size_t)o - addrs[i].len);
		cut = 1;
	}
	if (!cut)
		return (long)r.n;
	if (e > 0 && r.p[e - 1] == ';')
		return (long)e - 1;
	ev_doubt(ev, F_FROM);
	ev_doubt(ev, F_TO);
	ev_doubt(ev, F_HELO);
	return -1;
}

/* "[550 ][5.1.1 ]text": the reply of a reject, after its fields were split off. */
static void
reply_fields(struct span r, struct event *ev)
{
	if (r.n > 4 && r.p[3] == ' ' && r.p[0] >= '2' && r.p[0] <= '5' && r.p[1] >= '0' && r.p[1] <= '9' &&
	    r.p[2] >= '0' && r.p[2] <= '9') {
		ev_set_num(ev, F_CODE, (r.p[0] - '0') * 100 + (r.p[1] - '0') * 10 + (r.p[2] - '0'));
		r.p += 4;
		r.n -= 4;
	}
	/* d.ddd.ddd */
	if (r.n > 5 && r.p[0] >= '2' && r.p[0] <= '5' && r.p[1] == '.') {
		size_t i = 2, a = 0, b = 0;

		for (; i < r.n && r.p[i] >= '0' && r.p[i] <= '9'; i++)
			a++;
		if (i < r.n && r.p[i] == '.' && a >= 1 && a <= 3)
			for (i++; i < r.n && r.p[i] >= '0' && r.p[i] <= '9'; i++)
				b++;
		if (b >= 1 && b <= 3 && i < r.n && r.p[i] == ' ') {
			ev_set_str(ev, F_DSN, (struct span){ r.p, i });
			r.p += i + 1;
			r.n -= i + 1;
		}
	}
	ev_set_str(ev, F_REASON, r);
}

/*
 * Skip "<ADDRESS>: " at the start of a reply. Postfix writes there the
 * recipient, sender or HELO name of the line's own fields, with a quoted
 * local part unquoted ("a> b"@x becomes a> b@x), so the prefix is skipped
 * exactly when it equals one of them. Otherwise (a CONNECT's
 * <unknown[ip]>, a line whose fields could not be read) the text goes on
 * after the last ">: " that a category follows: what a client wrote comes
 * before Postfix's own words, never after them.
 */
static struct span
skip_address_prefix(struct span r, const struct event *ev)
{
	static const enum ev_field cand[] = { F_TO, F_FROM, F_HELO };
	struct span in = { r.p + 1, r.n - 1 }, t;
	const char *best = NULL;
	size_t idx;

	if (r.n == 0 || r.p[0] != '<')
		return r;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		struct span a = ev->str[cand[i]];
		long k;

		if (!ev_has(ev, cand[i]))
			continue;
		k = cand[i] == F_HELO ? (span_starts(in, a.p, a.n) ? (long)a.n : -1) : mta_addr_unquoted_prefix(a, in);
		if (k >= 0 && in.n >= (size_t)k + 3 && memcmp(in.p + k, ">: ", 3) == 0)
			return (struct span){ in.p + k + 3, in.n - (size_t)k - 3 };
	}
	for (const char *e = memmem(r.p, r.n, ">: ", 3); e != NULL;
	    e = memmem(e + 1, (size_t)(r.p + r.n - e - 1), ">: ", 3)) {
		t = (struct span){ e + 3, (size_t)(r.p + r.n - e - 3) };
		if (category_at(t, &idx))
			best = e + 3;
	}
	if (best == NULL && (best = memmem(r.p, r.n, ">: ", 3)) != NULL)
		best += 3;
	return best ? (struct span){ best, (size_t)(r.p + r.n - best) } : r;
}

/* The detail after "Recipient address rejected: " that means "no such user". */
static int
recipient_unknown(struct span d)
{
	return span_starts(d, "User unknown", 12) || span_starts(d, "undeliverable address", 21);
}

static enum ev_type
classify_reject(struct event *ev)
{
	struct span r = ev_has(ev, F_REASON) ? ev->str[F_REASON] : (struct span){ "", 0 };
	struct span cmd = ev_has(ev, F_CMD) ? ev->str[F_CMD] : (struct span){ "", 0 };
	int rcpt_cmd = span_eq(cmd, "RCPT", 4) || span_eq(cmd, "VRFY", 4);
	struct span t = skip_address_prefix(r, ev);
	size_t i;

	if (category_at(t, &i)) {
		switch (reject_categories[i].type) {
		case EV_RCPT_REJECT: {
			struct span d = { t.p + reject_categories[i].len, t.n - reject_categories[i].len };

			return rcpt_cmd && recipient_unknown(d) ? EV_RCPT_UNKNOWN : EV_RCPT_REJECT;
		}
		case EV_DNSBL_REJECT:
			if (mta_find_dnsbl(t, ev))
				return EV_DNSBL_REJECT;
			break;	/* another "Service unavailable": decided by the command */
		default:
			return reject_categories[i].type;
		}
	}
	/* Sites can reword DNSBL replies (rbl_reply_maps); "blocked using" stays. */
	if (mta_find_dnsbl(t, ev))
		return EV_DNSBL_REJECT;
	if (rcpt_cmd)
		return EV_RCPT_REJECT;
	if (span_eq(cmd, "DATA", 4) || span_eq(cmd, "BDAT", 4) || span_eq(cmd, "END-OF-MESSAGE", 14))
		return EV_MSG_REJECT;
	return EV_CLIENT_REJECT;
}

static void
remember_client(struct postfix_state *s, struct span qid, const struct event *ev)
{
	struct corr_entry *e = corr_put(s->qids, qid, ev->ts);

	if (e == NULL)
		return;
	e->ip = ev->ip;
	e->port = ev_has(ev, F_PORT) && ev->num[F_PORT] < 65536 ? (uint16_t)ev->num[F_PORT] : 0;
	/* Reinjected by a content filter (XFORWARD), or from this host: not a remote arrival. */
	if (ev->aux.n > 0 || ev->ip.family == 0 || addr_is_loopback(&ev->ip))
		e->flags |= CORR_LOCAL;
	if (ev_has(ev, F_HOST) && ev->str[F_HOST].n <= CORR_HOSTMAX) {
		memcpy(e->host, ev->str[F_HOST].p, ev->str[F_HOST].n);
		e->hostlen = (uint8_t)ev->str[F_HOST].n;
	}
}

/* Copy the client of a queue ID into the event. 0 if there is no remote client. */
static int
join_client(struct postfix_state *s, struct span qid, struct event *ev, struct corr_entry **out)
{
	struct corr_entry *e = corr_get(s->qids, qid, ev->ts);

	if (e == NULL || (e->flags & CORR_LOCAL))
		return 0;
	ev->ip = e->ip;
	if (e->port)
		ev_set_num(ev, F_PORT, e->port);
	if (e->hostlen)
		ev_set_str(ev, F_HOST, (struct span){ e->host, e->hostlen });
	*out = e;
	return 1;
}

/*
 * " from host[ip]" at the end of t: ip and host into ev, 1; else 0. The
 * host name is one Postfix checked (no space or brackets).
 */
static int
client_at_end(struct span t, struct event *ev)
{
	const char *lb, *sp;

	if (t.n < 9 || t.p[t.n - 1] != ']' || (lb = memrchr(t.p, '[', t.n)) == NULL)
		return 0;
	for (sp = lb; sp > t.p && sp[-1] != ' ' && sp[-1] != ']'; sp--)
		;
	if (sp - t.p < 6 || memcmp(sp - 6, " from ", 6) != 0 ||
	    !addr_parse(lb + 1, (size_t)(t.p + t.n - 1 - lb - 1), &ev->ip))
		return 0;
	if (lb > sp)
		ev_set_str(ev, F_HOST, (struct span){ sp, (size_t)(lb - sp) });
	return 1;
}

/*
 * cleanup's "header|body TEXT from host[ip]; from=<S> ...: 5.7.1 site
 * text". TEXT is the client's and may imitate all that follows it; the
 * site text at the end is the administrator's. So the fields are those
 * that end at the last ": " from which reject_tail reads back to a
 * "; " after " from host[ip]". The client is the queue ID's (smtpd's
 * client= line); without one, the line's own host[ip] only when the line
 * holds a single "]; from=<": else which one Postfix wrote cannot be
 * known, and the event names nobody.
 */
static void
checks_reject(struct postfix_state *s, struct span qid, struct event *ev)
{
	struct span a = ev->aux, pre;
	struct corr_entry *e = NULL;
	struct addr text_ip = { 0 };
	const char *c, *m;
	int n = 0;
	long k = -1;

	for (c = a.p + a.n - 2; c >= a.p && k < 0; c--) {
		if (c[0] != ':' || c[1] != ' ')
			continue;
		pre = (struct span){ a.p, (size_t)(c - a.p) };
		if ((k = reject_tail(pre, ev)) < 0 || k == (long)pre.n ||
		    !client_at_end((struct span){ a.p, (size_t)k }, ev)) {
			/* not the fields' end: forget what this try set or doubted (decided after the loop) */
			ev->present &= ~TAIL_FIELDS;
			ev->doubtful &= ~TAIL_FIELDS;
			k = -1;
			continue;
		}
		reply_fields((struct span){ c + 2, (size_t)(a.p + a.n - c - 2) }, ev);
	}
	text_ip = ev->ip;
	ev->ip.family = 0;
	ev_unset(ev, F_HOST);
	if (qid.n > 0 && join_client(s, qid, ev, &e))
		return;
	for (m = a.p; (m = memmem(m, (size_t)(a.p + a.n - m), "]; from=<", 9)) != NULL; m++)
		n++;
	if (k >= 0 && n == 1)
		ev->ip = text_ip;
	else
		ev->doubtful |= EV_DOUBT_IP;
	if (k < 0)
		ev->doubtful |= TAIL_FIELDS;
}

/*
 * A delivery agent's "to=<R>, [orig_to=<R0>, ]relay=.., delay=..,
 * delays=.., dsn=5.1.1, status=bounced (remote text": the recipients are
 * the client's, read as addresses; the fields between them and dsn= are
 * Postfix's. 1 if the line is such an unknown-user bounce (fields set).
 */
static int
bounced_rcpt(struct event *ev)
{
	struct span a = ev->aux;
	long e = mta_addr_end(a, 0), o;
	const char *d;

	if (e < 0)
		return 0;
	ev_set_str(ev, F_TO, (struct span){ a.p, (size_t)e });
	a.p += e + 1;
	a.n -= (size_t)e + 1;
	if (span_starts(a, ", orig_to=<", 11) && (o = mta_addr_end((struct span){ a.p + 11, a.n - 11 }, 0)) >= 0) {
		a.p += 11 + o + 1;
		a.n -= 11 + (size_t)o + 1;
	}
	if (!span_starts(a, ", relay=", 8) || (d = memmem(a.p, a.n, ", dsn=", 6)) == NULL)
		return 0;
	a.n -= (size_t)(d - a.p);
	a.p = d;
	if (!span_starts(a, ", dsn=5.1.1, status=bounced (", 29))
		return 0;
	ev_set_str(ev, F_DSN, (struct span){ a.p + 6, 5 });
	ev_set_str(ev, F_REASON, (struct span){ a.p + 29, a.n - 29 });
	return 1;
}

static enum mta_result
postfix_parse(void *state, const struct syslog_hdr *h, struct event *ev, struct parser_stats *st)
{
	struct postfix_state *s = state;
	struct span body = h->body, qid;
	struct corr_entry *e;
	const struct pattern_def *def;
	int d = daemon_of(h->tag), idx;

	if (d < 0)
		return MTA_KNOWN;
	qid = strip_qid(&body);
	idx = pattern_set_match(s->ps[d], body, ev, &st->limit_hits);
	if (idx < 0)
		return tables[d].client_facing ? MTA_UNMATCHED : MTA_KNOWN;
	def = pattern_set_def(s->ps[d], idx);
	ev->type = def->type;
	if (qid.n > 0)
		ev_set_str(ev, F_QID, qid);

	switch ((enum op)def->op) {
	case OP_NONE:
		break;
	case OP_DISCONNECT:
		disconnect_stats(ev);
		break;
	case OP_REJECT: {
		long n = reject_tail(ev->aux, ev);

		reply_fields((struct span){ ev->aux.p, n < 0 ? ev->aux.n : (size_t)n }, ev);
		ev->type = classify_reject(ev);
		break;
	}
	case OP_CHECKS_REJECT:
		checks_reject(s, qid, ev);
		break;
	case OP_TIMEOUT:
		ev_set_str(ev, F_REASON, SPAN_LIT("timeout"));
		break;
	case OP_DENYLISTED:
		ev_set_str(ev, F_REASON, SPAN_LIT("denylisted"));
		break;
	case OP_CLIENT:
		tidy_client(ev);
		remember_client(s, qid, ev);
		return MTA_KNOWN;
	case OP_QMGR_FROM:
		e = NULL;
		if (!join_client(s, qid, ev, &e) || (e->flags & CORR_EMITTED))
			return MTA_KNOWN;	/* local, unknown, or deferred mail re-entering the queue */
		e->flags |= CORR_EMITTED;
		ev->type = ev->str[F_FROM].n == 0 ? EV_BOUNCE_IN : EV_MSG_ACCEPTED;
		return MTA_EVENT;
	case OP_REMOVED:
		corr_del(s->qids, qid);
		return MTA_KNOWN;
	case OP_LOCAL_ORIGIN:
		if ((e = corr_put(s->qids, qid, ev->ts)) != NULL)
			e->flags |= CORR_LOCAL;
		return MTA_KNOWN;
	case OP_BOUNCE_NOTICE:
		if ((e = corr_put(s->qids, ev->aux, ev->ts)) != NULL)
			e->flags |= CORR_LOCAL;
		return MTA_KNOWN;
	case OP_DELIVERY_BOUNCED:
		e = NULL;
		if (!bounced_rcpt(ev) || !join_client(s, qid, ev, &e))
			return MTA_KNOWN;
		ev->type = EV_RCPT_UNKNOWN;
		return MTA_EVENT;
	}
	if (ev->type == EV_NONE)
		return MTA_KNOWN;
	tidy_client(ev);
	return MTA_EVENT;
}

const struct mta mta_postfix = {
	.name = "postfix",
	.claims = postfix_claims,
	.state_new = postfix_new,
	.state_free = postfix_free,
	.parse = postfix_parse,
	.corr = postfix_corr,
};
