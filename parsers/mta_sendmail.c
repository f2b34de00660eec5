/*
 * mta_sendmail.c - Sendmail: one pattern table, the queue-ID join, and
 * events held back until their client is known.
 *
 * Line shapes: docs/log-formats.md section 2. Tags sm-mta, sendmail,
 * sm-acceptingconnections (the daemon), sm-msp-queue (local submission
 * queue: nothing about clients). The body starts with a queue ID or
 * "NOQUEUE: ", stripped first.
 *
 * At its default LogLevel 9 Sendmail writes no connect line, and a
 * recipient its local mailer does not know is logged bare,
 * "QID: <x@example.org>... User unknown", with no client on the line. The
 * client comes later, on the transaction's closing "from=..., relay=[ip]"
 * line (or "lost input channel from ..."). Such events are therefore held,
 * keyed by queue ID, and released when a line of the same queue ID names
 * the client: with their own line numbers and times, ahead of that line's
 * own event. A local client (relay=root@localhost, 127.0.0.1) releases
 * nothing: local mail to an unknown user is not a harvest. Held events are
 * bounded (a ring of HELD_MAX) and expire like the queue-ID table; the
 * ones given up are counted.
 *
 * Sendmail writes client-chosen text (addresses, message IDs) before the
 * relay= field it writes itself, so each pattern anchors relay= where
 * Sendmail puts it (last on the line, or followed by ", reject=") and
 * addresses are matched as tokens without spaces or commas: an address
 * built to look like a relay= field cannot move an event to another IP.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "mta.h"
#include "mta_text.h"
#include "pattern.h"

/* "host [ip]", "[ip]", "user@host [ip] (may be forged)"; [IPv6:...] is parsed by addr_parse. */
#define SM_HOST "(?:(?<host>[^\\s\\[\\],]+) )?\\[(?<ip>[^\\]\\s]+)\\](?: \\(may be forged\\))?"
/* "550 5.1.1 text" of reject= */
/*
 * An address the client wrote: a quoted local part ("a> b, c"@x) is one
 * token, so its ">" or "," cannot end the field early (Sendmail also
 * takes unquoted spaces: <a b@x>). Sendmail logs backslashes doubled: the
 * client's \" is \\" in the line, its \\ is \\\\.
 */
#define SM_ADDR "(?:[^,<>\"]++|\"(?:[^\"\\\\]++|\\\\\\\\\\\\\\\\|\\\\\\\\\"|\\\\[^\\\\])*+\")*+"
#define SM_REJ "(?<code>\\d{3}) (?:(?<dsn>\\d\\.\\d{1,3}\\.\\d{1,3}) )?(?<reason>.*)$"

enum op {
	OP_NONE,
	OP_RCPT,		/* check_rcpt reject: classify its text */
	OP_CLASSIFY,		/* other ruleset rejects: DNSBL, rate limit, or the entry's type */
	OP_BARE_UNKNOWN,	/* "<x>... User unknown": client from the queue ID, maybe later */
	OP_FROM,		/* "from=..., nrcpts=N, relay=": msg_accepted / bounce_in */
	OP_FROM_CUT,		/* the same with a sender Sendmail shortened */
	OP_DSN,			/* aux is the queue ID of a bounce Sendmail made: local */
	OP_TIMEOUT,		/* lost_conn, reason "timeout" */
	OP_RCPT_FLOOD,		/* rate_limited, limit "RCPT flood" */
	OP_PREGREET,		/* protocol_error, reason "pre-greeting traffic" */
};

static const struct pattern_def sendmail_defs[] = {
	{ "ruleset=check_rcpt, ", NULL, "(?J)ruleset=check_rcpt, arg1=(?:<(?<to>" SM_ADDR ")>|(?<to>[^\\s,<>]+)), relay=" SM_HOST
	    ", reject=" SM_REJ, EV_RCPT_REJECT, OP_RCPT },
	{ "ruleset=check_mail, ", NULL, "(?J)ruleset=check_mail, arg1=(?:<(?<from>" SM_ADDR ")>|(?<from>[^\\s,<>]+)), relay=" SM_HOST
	    ", reject=" SM_REJ, EV_CLIENT_REJECT, OP_CLASSIFY },
	{ "ruleset=check_relay, ", NULL, "ruleset=check_relay, arg1=(?:\\[[^\\s,]*\\]|(?<host>[^\\s,]*)), arg2=(?<ip>[^\\s,]+), "
	    "relay=[^,]*, reject=" SM_REJ, EV_CLIENT_REJECT, OP_CLASSIFY },
	{ "ruleset=", ", reject=", "ruleset=(?<cmd>\\w+), arg1=\\S*?, relay=" SM_HOST ", reject=" SM_REJ,
	    EV_CLIENT_REJECT, OP_CLASSIFY },
	{ "ruleset=", NULL, NULL, EV_NONE, 0 },		/* quarantine=, discard: nothing to count */
	{ "from=", NULL, "(?J)from=(?:<(?<from>" SM_ADDR ")>|(?<from>[^\\s,<>]*)), size=(?<size>\\d+), class=-?\\d+, nrcpts=(?<nrcpt>\\d+), "
	    ".*, relay=(?:" SM_HOST "|[^\\s\\[\\],]+)$", EV_NONE, OP_FROM },
	/*
	 * Sendmail shortens or cuts a long sender, which can leave a quoted
	 * local part open: then the sender is read by from_shortened().
	 */
	{ "from=<", NULL, "from=<(?<aux>.*), relay=(?:" SM_HOST "|[^\\s\\[\\],]+)$", EV_NONE, OP_FROM_CUT },
	/* Both ends are Sendmail's: the address between them is whatever the client wrote (spaces too). */
	{ "<", ">... ", "<(?<to>.*)>\\.\\.\\. (?<reason>User unknown|No such user(?: here)?)$",
	    EV_RCPT_UNKNOWN, OP_BARE_UNKNOWN },
	{ "lost input channel from ", NULL, "lost input channel from " SM_HOST " to (?<service>\\S+) after "
	    "(?<stage>\\S+)", EV_LOST_CONN, 0 },
	{ "timeout waiting for input from ", NULL, "timeout waiting for input from " SM_HOST
	    " during (?<stage>.+)$", EV_LOST_CONN, OP_TIMEOUT },
	{ "connect from ", NULL, "connect from " SM_HOST "$", EV_CONNECT, 0 },
	{ "AUTH failure (", NULL, "AUTH failure \\((?<method>[^)]*)\\): (?<reason>.*), relay=" SM_HOST "$",
	    EV_AUTH_FAIL, 0 },
	{ "rejecting commands from ", NULL, "rejecting commands from " SM_HOST " due to pre-greeting traffic "
	    "after (?<count>\\d+) seconds", EV_PROTOCOL_ERROR, OP_PREGREET },
	/* Understood, nothing to report: deliveries, TLS and successful AUTH, the daemon's notes
	 * (before the entries that search the whole line: they are the most frequent). */
	{ "to=", NULL, NULL, EV_NONE, 0 },
	{ "STARTTLS", NULL, NULL, EV_NONE, 0 },
	{ "AUTH=", NULL, NULL, EV_NONE, 0 },
	{ "Milter", NULL, NULL, EV_NONE, 0 },
	{ "collect: ", NULL, NULL, EV_NONE, 0 },
	{ "SYSERR", NULL, NULL, EV_NONE, 0 },
	{ "done; ", NULL, NULL, EV_NONE, 0 },
	/* Shapes that do not start with a fixed word. */
	{ "", " did not issue ", SM_HOST " did not issue (?<cmd>\\S+) during connection to (?<service>\\S+)$",
	    EV_DISCONNECT, 0 },
	{ "", ": possible SMTP attack: ", SM_HOST ": possible SMTP attack: command=(?<cmd>[^,\\s]*), "
	    "count=(?<count>\\d+)$", EV_PROTOCOL_ERROR, 0 },
	{ "", ": Possible SMTP RCPT flood", SM_HOST ": Possible SMTP RCPT flood, throttling\\.?$",
	    EV_RATE_LIMITED, OP_RCPT_FLOOD },
	{ "", ": DSN: ", "(?<aux>[0-9A-Za-z]{8,24}): DSN: ", EV_NONE, OP_DSN },
	{ "", " [rejected]", SM_HOST ": (?<cmd>VRFY|EXPN|vrfy|expn)(?: (?<to>.*?))? \\[rejected\\]$", EV_RCPT_REJECT, 0 },
};

#define HELD_MAX 4096
#define HELD_TOMAX 254	/* more than Sendmail logs of an address (SM_SHORT) */
#define HELD_TO_DOUBT 255	/* tolen of a recipient too long to keep: released as doubtful, never cut */
#define HELD_NODEMAX 64

enum held_state { H_FREE, H_WAIT, H_OUT };

/* A held event: what the bare line said, plus (once known) its client. */
struct held {
	int64_t ts;
	int32_t usec;
	uint8_t state;		/* enum held_state */
	uint8_t qidlen, tolen, nodelen, hostlen;
	uint8_t reason;		/* index into held_reasons */
	uint32_t seq;		/* order of arrival (wraps): ring order, also after a reload */
	uint64_t line;
	struct addr ip;
	char qid[CORR_KEYMAX];
	char to[HELD_TOMAX];
	char node[HELD_NODEMAX];
	char host[CORR_HOSTMAX];
};

static const struct span held_reasons[] = {
	SPAN_LIT("User unknown"), SPAN_LIT("No such user"), SPAN_LIT("No such user here"),
};

/* The index of a bare line's reason (one of the pattern's alternatives). */
static uint8_t
held_reason(struct span r)
{
	for (uint8_t i = 0; i < sizeof(held_reasons) / sizeof(held_reasons[0]); i++)
		if (span_eq(r, held_reasons[i].p, held_reasons[i].n))
			return i;
	return 0;
}

struct sendmail_state {
	struct pattern_set *ps;
	struct corr_table *qids;
	int64_t ttl;
	/* Ring of held events, oldest at head; count includes freed slots not yet passed. */
	struct held *held;
	uint32_t head, count, nwait, nout, cursor;
	uint32_t next_seq;
	uint64_t dropped;
};

static int
sendmail_claims(const struct syslog_hdr *h)
{
	struct span t = h->tag;

	return span_eq(t, "sm-mta", 6) || span_eq(t, "sendmail", 8) ||
	    span_eq(t, "sm-acceptingconnections", 23) || span_eq(t, "sm-msp-queue", 12);
}

static void *
sendmail_new(const struct parser_opts *o)
{
	struct sendmail_state *s = xcalloc(1, sizeof(*s));

	s->ps = pattern_set_new("sendmail_defs", sendmail_defs, sizeof(sendmail_defs) / sizeof(sendmail_defs[0]));
	s->ttl = o->corr_ttl ? o->corr_ttl : 24 * 3600;
	s->qids = corr_new(o->corr_capacity ? o->corr_capacity : 32768, s->ttl);
	s->held = xcalloc(HELD_MAX, sizeof(*s->held));
	return s;
}

static void
sendmail_free(void *state)
{
	struct sendmail_state *s = state;

	pattern_set_free(s->ps);
	corr_free(s->qids);
	free(s->held);
	free(s);
}

static struct corr_table *
sendmail_corr(void *state)
{
	return ((struct sendmail_state *)state)->qids;
}

/*
 * "QID: " or "NOQUEUE: ". Sendmail's queue IDs are 14 or more base-60
 * characters (time, sequence, pid); shorter words are not IDs.
 */
static const unsigned char alnum[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static struct span
strip_qid(struct span *body)
{
	struct span q = { body->p, 0 };
	const unsigned char *b = (const unsigned char *)body->p;
	size_t i = 0, n = body->n < 24 ? body->n : 24;

	if (span_starts(*body, "NOQUEUE: ", 9)) {
		body->p += 9;
		body->n -= 9;
		return q;
	}
	while (i < n && alnum[b[i]])
		i++;
	if (i < 14 || i + 1 >= body->n || body->p[i] != ':' || body->p[i + 1] != ' ')
		return q;
	q.n = i;
	body->p += i + 2;
	body->n -= i + 2;
	return q;
}

static int
is_local(const struct addr *ip)
{
	return ip->family == 0 || addr_is_loopback(ip);
}

/*
 * A check_rcpt reply: "<to>... text", then what the text says. The
 * address is skipped exactly when it is the line's arg1; else (Sendmail
 * shortened it: "ab...yz") the text follows the last ">... ": the echo of
 * the client's address comes before Sendmail's words, never after them.
 */
static enum ev_type
classify_rcpt(struct event *ev)
{
	struct span r = ev->str[F_REASON], t = r, to = ev->str[F_TO];

	if (ev_has(ev, F_TO) && r.n >= to.n + 6 && r.p[0] == '<' && memcmp(r.p + 1, to.p, to.n) == 0 &&
	    memcmp(r.p + 1 + to.n, ">... ", 5) == 0) {
		t.p += to.n + 6;
		t.n -= to.n + 6;
	} else if (r.n > 0 && r.p[0] == '<') {
		for (const char *m = memmem(r.p, r.n, ">... ", 5); m != NULL;
		    m = memmem(m + 1, (size_t)(r.p + r.n - m - 1), ">... ", 5))
			t = (struct span){ m + 5, (size_t)(r.p + r.n - m - 5) };
	}
	if (span_starts(t, "User unknown", 12) || span_starts(t, "No such user", 12))
		return EV_RCPT_UNKNOWN;
	if (span_starts(t, "Relaying denied", 15) || span_starts(t, "Relaying temporarily denied", 27))
		return EV_RELAY_DENIED;
	if (mta_find_dnsbl(t, ev))
		return EV_DNSBL_REJECT;
	if (mta_mentions_rate(t))
		return EV_RATE_LIMITED;
	return EV_RCPT_REJECT;
}

/* ---- held events ---- */

static struct held *
held_at(struct sendmail_state *s, uint32_t k)
{
	return &s->held[(s->head + k) % HELD_MAX];
}

/* Take the oldest slot off the ring; a waiting event in it is given up. */
static void
held_pop(struct sendmail_state *s)
{
	struct held *h = held_at(s, 0);

	if (h->state == H_WAIT) {
		s->nwait--;
		s->dropped++;
	}
	h->state = H_FREE;
	s->head = (s->head + 1) % HELD_MAX;
	s->count--;
}

/* Pass freed slots at the head; give up on waiting ones older than the TTL. */
static void
held_trim(struct sendmail_state *s, int64_t now)
{
	while (s->count > 0 && !(held_at(s, 0)->state == H_WAIT && held_at(s, 0)->ts + s->ttl >= now))
		held_pop(s);
}

static void
copy_span(char *dst, uint8_t *len, size_t max, struct span src)
{
	size_t n = src.n < max ? src.n : max;

	memcpy(dst, src.p, n);
	*len = (uint8_t)n;
}

/* Hold a bare line's event; returns its sequence number. */
static uint32_t
held_add(struct sendmail_state *s, struct span qid, const struct event *ev, uint8_t reason)
{
	struct held *h;

	held_trim(s, ev->ts);
	if (s->count == HELD_MAX)
		held_pop(s);	/* full of waiting events: the oldest goes */
	h = held_at(s, s->count++);
	memset(h, 0, offsetof(struct held, qid));
	h->state = H_WAIT;
	h->ts = ev->ts;
	h->usec = ev->usec;
	h->line = ev->line;
	h->reason = reason;
	h->seq = s->next_seq++;
	copy_span(h->qid, &h->qidlen, CORR_KEYMAX, qid);
	if (ev_has(ev, F_TO) && ev->str[F_TO].n <= HELD_TOMAX)
		copy_span(h->to, &h->tolen, HELD_TOMAX, ev->str[F_TO]);
	else
		h->tolen = HELD_TO_DOUBT;	/* doubtful (or, never from Sendmail, too long to keep) */
	if (ev_has(ev, F_NODE))
		copy_span(h->node, &h->nodelen, HELD_NODEMAX, ev->str[F_NODE]);
	s->nwait++;
	return h->seq;
}

/*
 * The client of qid is known (e a remote client) or local (e NULL): release
 * or drop its held events, the first of which arrived as number first. The
 * ring is in arrival order, so the search starts there (a binary search)
 * and passes only what arrived since: other sessions' events, not the
 * whole ring.
 */
static void
held_settle(struct sendmail_state *s, struct span qid, const struct corr_entry *e, uint32_t first)
{
	uint32_t lo = 0, hi = s->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((int32_t)(held_at(s, mid)->seq - first) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	s->cursor = lo;
	for (uint32_t k = lo; k < s->count && s->nwait > 0; k++) {
		struct held *h = held_at(s, k);

		if (h->state != H_WAIT || h->qidlen != qid.n || memcmp(h->qid, qid.p, qid.n) != 0)
			continue;
		s->nwait--;
		if (e == NULL) {
			h->state = H_FREE;
			s->dropped++;
			continue;
		}
		h->state = H_OUT;
		h->ip = e->ip;
		memcpy(h->host, e->host, e->hostlen);
		h->hostlen = e->hostlen;
		s->nout++;
	}
}

static int
sendmail_released(void *state, struct event *ev)
{
	struct sendmail_state *s = state;

	for (; s->nout > 0 && s->cursor < s->count; s->cursor++) {
		struct held *h = held_at(s, s->cursor);

		if (h->state != H_OUT)
			continue;
		h->state = H_FREE;	/* the slot stays untouched until the next line */
		s->nout--;
		ev_reset(ev);
		ev->mta = "sendmail";
		ev->type = EV_RCPT_UNKNOWN;
		ev->line = h->line;
		ev->ts = h->ts;
		ev->usec = h->usec;
		ev->ip = h->ip;
		if (h->hostlen)
			ev_set_str(ev, F_HOST, (struct span){ h->host, h->hostlen });
		if (h->tolen == HELD_TO_DOUBT)
			ev_doubt(ev, F_TO);
		else
			ev_set_str(ev, F_TO, (struct span){ h->to, h->tolen });
		ev_set_str(ev, F_QID, (struct span){ h->qid, h->qidlen });
		ev_set_str(ev, F_CMD, SPAN_LIT("RCPT"));
		ev_set_str(ev, F_REASON, held_reasons[h->reason]);
		if (h->nodelen)
			ev_set_str(ev, F_NODE, (struct span){ h->node, h->nodelen });
		s->cursor++;
		return 1;
	}
	s->nout = 0;
	return 0;
}

/* The waiting events, oldest first, as an array of struct held (the layout is this build's). */
static void *
sendmail_save(void *state, size_t *len)
{
	struct sendmail_state *s = state;
	struct held *out = xmalloc((size_t)s->nwait * sizeof(*out) + 1);
	size_t n = 0;

	for (uint32_t k = 0; k < s->count; k++)
		if (held_at(s, k)->state == H_WAIT)
			out[n++] = *held_at(s, k);
	*len = n * sizeof(*out);
	return out;
}

static int
sendmail_load(void *state, const void *blob, size_t len)
{
	struct sendmail_state *s = state;
	size_t n = len / sizeof(struct held);

	if (len % sizeof(struct held) != 0 || n > HELD_MAX)
		return 0;
	s->head = s->count = s->nwait = s->nout = s->cursor = 0;
	memcpy(s->held, blob, len);
	for (size_t k = 0; k < n; k++) {
		struct held *h = &s->held[k];

		if (h->state != H_WAIT || h->qidlen > CORR_KEYMAX || (h->tolen > HELD_TOMAX && h->tolen != HELD_TO_DOUBT) ||
		    h->nodelen > HELD_NODEMAX || h->hostlen > CORR_HOSTMAX ||
		    h->reason >= sizeof(held_reasons) / sizeof(held_reasons[0]))
			return 0;	/* not a blob this build wrote */
	}
	s->count = s->nwait = (uint32_t)n;
	s->next_seq = n > 0 ? s->held[n - 1].seq + 1 : 0;
	return 1;
}

/* A line of qid (entry e) names its client: remember it, and settle what waits for it. */
static void
note_client(struct sendmail_state *s, struct span qid, const struct event *ev, struct corr_entry *e)
{
	if (e->ip.family != 0 || (e->flags & CORR_LOCAL))
		return;	/* known already: the first line that named it wins */
	e->ip = ev->ip;
	if (is_local(&ev->ip))
		e->flags |= CORR_LOCAL;
	if (ev_has(ev, F_HOST) && ev->str[F_HOST].n <= CORR_HOSTMAX) {
		memcpy(e->host, ev->str[F_HOST].p, ev->str[F_HOST].n);
		e->hostlen = (uint8_t)ev->str[F_HOST].n;
	}
	if (e->flags & CORR_HELD) {
		e->flags &= (uint8_t)~CORR_HELD;
		held_settle(s, qid, (e->flags & CORR_LOCAL) ? NULL : e, e->aux[0]);
	}
}

/* 1 if the ruleset line's "arg1=<address>" ends where an address can, right before ", relay=". */
static int
arg1_delimited(struct span body)
{
	const char *a = memmem(body.p, body.n, ", arg1=<", 8);
	long e;

	if (a == NULL || (e = mta_addr_end_logged(body, (size_t)(a - body.p) + 8)) < 0)
		return 0;
	return span_starts((struct span){ body.p + e + 1, body.n - (size_t)e - 1 }, ", relay=", 8);
}

/*
 * Sendmail logs an address longer than SM_SHORT bytes as its first and
 * last SM_SHORT / 2 - 1 bytes (about) joined by "...": not the address,
 * and the same for every long address that shares its ends - doubtful.
 */
#define SM_SHORT 201
static int
shortened(const struct event *ev, enum ev_field f)
{
	struct span a = ev->str[f];
	size_t raw = 0, dots = 0;

	if (!ev_has(ev, f) || a.n < SM_SHORT)
		return 0;
	/* Sendmail cuts, then doubles the backslashes: count in the bytes it cut. */
	for (size_t i = 0; i < a.n; i++, raw++) {
		if (a.p[i] == '\\' && i + 1 < a.n && a.p[i + 1] == '\\')
			i++;
		else if (a.p[i] == '.' && i + 2 < a.n && a.p[i + 1] == '.' && a.p[i + 2] == '.' &&
		    raw >= SM_SHORT / 2 - 3 && raw <= SM_SHORT / 2)
			dots = 1;
	}
	return dots && raw == SM_SHORT;
}

/* Digits at *p (advanced past them) into *v; 0 if none. */
static int
take_num(const char **p, const char *end, int64_t *v)
{
	const char *q = *p;

	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && *v < 1000000000000)
		*v = *v * 10 + (*q++ - '0');
	if (q == *p)
		return 0;
	*p = q;
	return 1;
}

/*
 * A from= line whose sender Sendmail shortened ("first...last") or cut
 * (a long one, quote and ">" lost): the sender is doubtful, and size= and nrcpts= are Sendmail's only where one
 * place in the line can be theirs (the shortened sender and the message ID
 * after them are the client's text); else they are left out, and the line
 * counts as a message - a flood cannot hide behind long senders.
 */
static void
from_shortened(struct event *ev)
{
	static const char mark[] = ", size=";	/* (a cut sender lost its ">" too) */
	const char *p = ev->aux.p, *end = ev->aux.p + ev->aux.n, *m;
	int64_t size = 0, nrcpt = 0;
	int found = 0;

	ev_doubt(ev, F_FROM);
	for (m = p; (m = memmem(m, (size_t)(end - m), mark, sizeof(mark) - 1)) != NULL; m++) {
		const char *q = m + sizeof(mark) - 1;
		int64_t sz, cl, nr;

		if (!take_num(&q, end, &sz) || end - q < 8 || memcmp(q, ", class=", 8) != 0)
			continue;
		q += 8;
		if (q < end && *q == '-')
			q++;
		if (!take_num(&q, end, &cl) || end - q < 9 || memcmp(q, ", nrcpts=", 9) != 0)
			continue;
		q += 9;
		if (!take_num(&q, end, &nr))
			continue;
		size = sz;
		nrcpt = nr;
		found++;
	}
	if (found == 1) {
		ev_set_num(ev, F_SIZE, size);
		ev_set_num(ev, F_NRCPT, nrcpt);
	} else {
		ev_doubt(ev, F_SIZE);
		ev_doubt(ev, F_NRCPT);
	}
}

static enum mta_result
sendmail_parse(void *state, const struct syslog_hdr *h, struct event *ev, struct parser_stats *st)
{
	struct sendmail_state *s = state;
	struct span body = h->body, qid = strip_qid(&body);
	struct corr_entry *e;
	const struct pattern_def *def;
	enum mta_result res = MTA_EVENT;
	int idx;

	s->nout = 0;
	/*
	 * A ruleset line has client text on both sides of relay= (arg1, and
	 * reject= echoing it). Unless arg1 is an address read to its end (a
	 * quoted local part as one token) with Sendmail's relay= right after
	 * it, two relay= fields mean the client wrote one: which is Sendmail's
	 * cannot be known, so the line names nobody.
	 */
	if (span_starts(body, "ruleset=", 8) && !arg1_delimited(body)) {
		const char *r = memmem(body.p, body.n, ", relay=", 8);

		if (r != NULL && memmem(r + 8, (size_t)(body.p + body.n - r - 8), ", relay=", 8) != NULL) {
			res = MTA_UNMATCHED;
			goto out;
		}
	}
	idx = pattern_set_match(s->ps, body, ev, &st->limit_hits);
	if (idx < 0) {
		res = mta_names_client(body) ? MTA_UNMATCHED : MTA_KNOWN;
		goto out;
	}
	def = pattern_set_def(s->ps, idx);
	ev->type = def->type;
	if (qid.n > 0)
		ev_set_str(ev, F_QID, qid);
	if (shortened(ev, F_TO))
		ev_doubt(ev, F_TO);
	if (shortened(ev, F_FROM))
		ev_doubt(ev, F_FROM);

	switch ((enum op)def->op) {
	case OP_NONE:
		break;
	case OP_RCPT:
		ev_set_str(ev, F_CMD, SPAN_LIT("RCPT"));
		ev->type = classify_rcpt(ev);
		break;
	case OP_CLASSIFY:
		if (mta_find_dnsbl(ev->str[F_REASON], ev))
			ev->type = EV_DNSBL_REJECT;
		else if (mta_mentions_rate(ev->str[F_REASON]))
			ev->type = EV_RATE_LIMITED;
		break;
	case OP_TIMEOUT:
		ev_set_str(ev, F_REASON, SPAN_LIT("timeout"));
		break;
	case OP_RCPT_FLOOD:
		ev_set_str(ev, F_LIMIT, SPAN_LIT("RCPT flood"));
		break;
	case OP_PREGREET:
		ev_set_str(ev, F_REASON, SPAN_LIT("pre-greeting traffic"));
		break;
	case OP_BARE_UNKNOWN:
		ev_set_str(ev, F_CMD, SPAN_LIT("RCPT"));
		e = corr_get(s->qids, qid, ev->ts);
		if (e != NULL && (e->flags & CORR_LOCAL)) {
			res = MTA_KNOWN;
			goto out;
		}
		if (e != NULL && e->ip.family != 0) {
			ev->ip = e->ip;
			if (e->hostlen)
				ev_set_str(ev, F_HOST, (struct span){ e->host, e->hostlen });
			goto out;
		}
		if (qid.n == 0 || (e == NULL && (e = corr_put(s->qids, qid, ev->ts)) == NULL)) {
			res = MTA_KNOWN;	/* nothing to join on */
			goto out;
		}
		{
			uint32_t seq = held_add(s, qid, ev, held_reason(ev->str[F_REASON]));

			if (!(e->flags & CORR_HELD))
				e->aux[0] = seq;	/* where its held events begin */
		}
		e->flags |= CORR_HELD;
		res = MTA_KNOWN;
		goto out;
	case OP_FROM_CUT:
		from_shortened(ev);
		/* fall through */
	case OP_FROM:
		/* An entry only if an earlier line made one (held events, DSN, abort): this line ends it. */
		e = qid.n > 0 ? corr_get(s->qids, qid, ev->ts) : NULL;
		if (e != NULL)
			note_client(s, qid, ev, e);
		/*
		 * Sendmail writes this line for every transaction, also one that
		 * never became a message: all recipients refused (nrcpts=0), the
		 * client gone before DATA (size=0: an accepted message has at
		 * least Sendmail's Received: header), or cut off during DATA (a
		 * lost input channel or timeout line of this queue ID came first).
		 */
		if (qid.n == 0 || is_local(&ev->ip) || (ev_has(ev, F_NRCPT) && ev->num[F_NRCPT] == 0) ||
		    (ev_has(ev, F_SIZE) && ev->num[F_SIZE] == 0) || (e != NULL && (e->flags & (CORR_LOCAL | CORR_ABORTED))))
			res = MTA_KNOWN;
		else
			ev->type = ev_has(ev, F_FROM) && ev->str[F_FROM].n == 0 ? EV_BOUNCE_IN : EV_MSG_ACCEPTED;
		/*
		 * The line closes the transaction (its recipients came before it,
		 * and what waited for it is settled): the queue ID is forgotten, so
		 * the table holds only open transactions, as Postfix's "removed".
		 */
		if (e != NULL)
			corr_del(s->qids, qid);
		goto out;
	case OP_DSN:
		if ((e = corr_put(s->qids, ev->aux, ev->ts)) != NULL)
			e->flags |= CORR_LOCAL;
		res = MTA_KNOWN;
		goto out;
	}
	/*
	 * Remember the client of an open transaction (its rejects and aborts
	 * come before the from= line that closes it); a line that ends a
	 * session without one ("did not issue MAIL", an AUTH failure) makes no
	 * entry, it only settles one that exists.
	 */
	if (qid.n > 0 && ev->ip.family != 0) {
		int opens = def->op == OP_RCPT || def->op == OP_CLASSIFY || ev->type == EV_LOST_CONN;

		if ((e = corr_get(s->qids, qid, ev->ts)) == NULL && opens)
			e = corr_put(s->qids, qid, ev->ts);
		if (e != NULL) {
			note_client(s, qid, ev, e);
			if (ev->type == EV_LOST_CONN)
				e->flags |= CORR_ABORTED;
		}
	}
	if (ev->type == EV_NONE)
		res = MTA_KNOWN;
out:
	st->held = s->nwait;
	st->held_dropped = s->dropped;
	return res;
}

const struct mta mta_sendmail = {
	.name = "sendmail",
	.claims = sendmail_claims,
	.state_new = sendmail_new,
	.state_free = sendmail_free,
	.parse = sendmail_parse,
	.released = sendmail_released,
	.save = sendmail_save,
	.load = sendmail_load,
	.corr = sendmail_corr,
};
