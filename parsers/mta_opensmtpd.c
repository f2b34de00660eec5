/*
 * mta_opensmtpd.c - OpenSMTPD 6.4+: "SESSION smtp EVENT key=value ...".
 *
 * Line shapes: docs/log-formats.md section 4. Program tag "smtpd" (Postfix's
 * is "postfix/smtpd", so the two never meet). Only the session's
 * "connected" line names the client (address=, host=); the session table
 * (16-hex session ID -> client) gives it to the session's later lines and
 * forgets it at "disconnected". A message is announced by "message
 * msgid=M size= nrcpt=" and its sender appears on its "envelope" lines
 * (one per recipient): the first envelope line of the message yields
 * msg_accepted, or bounce_in for from=<>.
 *
 * The client's own text (the command) comes before the result in
 * failed-command lines, and the result echoes the address; the client
 * address never comes from either, only from the session table.
 *
 * OpenSMTPD 6.0-6.3 wrote "SESSION smtp event=NAME address=A host=H ...":
 * every line of a session names its client, before anything the client
 * wrote (the user name of an authentication line comes first, but strnvis
 * encodes its blanks, so it cannot hold " address="); a message's line
 * comes once per recipient with its sender (6.0 and 6.1 wrote no address
 * there), and only the first of a message counts. The same session table
 * joins them; a line's own address stands in when the session began
 * before the log did.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/xalloc.h"
#include "mta.h"
#include "mta_text.h"
#include "pattern.h"

enum op {
	OP_NONE,
	OP_CONNECTED,		/* remember session -> client */
	OP_FAILED,		/* failed-command: classify by command and result */
	OP_AUTH,		/* authentication result=permfail|tempfail|ok */
	OP_DISCONNECTED,	/* disconnect or lost_conn by reason; forget the session */
	OP_MESSAGE,		/* message msgid= size= nrcpt=: announce */
	OP_ENVELOPE,		/* envelope evpid= from=<>: the announced message's event */
	OP_LEGACY_MESSAGE,	/* 6.0-6.3 "event=message msgid= from= to=", per recipient: the first counts */
};

#define SID "(?<aux>[0-9a-f]{16}) smtp "
/* 6.0-6.3's "address=A host=H " (A as the 6.4 form writes it, [IPv6] or IPv6:...); with (?J) */
#define LADDR "address=(?:\\[(?<ip>[^\\]\\s]+)\\]|(?<ip>\\S+)) host=\\S+ "

static const struct pattern_def smtpd_defs[] = {
	/* 'command="C" result="R"': both may hold the client's text (quotes unescaped), split by split_failed(). */
	{ "", " smtp failed-command ", SID "failed-command command=\"(?<cmd>.*)\"$", EV_NONE, OP_FAILED },
	{ "", " smtp connected ", "(?J)" SID "connected address=(?:\\[(?<ip>[^\\]\\s]+)\\]|(?<ip>\\S+)) "
	    "host=(?:<unknown>|(?<host>\\S+))", EV_CONNECT, OP_CONNECTED },
	{ "", " smtp disconnected ", "(?J)" SID "disconnected reason=(?:\"(?<reason>[^\"]*)\"|(?<reason>\\S+))",
	    EV_NONE, OP_DISCONNECTED },
	{ "", " smtp envelope ", SID "envelope evpid=(?<qid>[0-9a-f]{16}) from=<(?<from>[^<>]*)> "
	    "to=<(?<to>[^<>]*)>$", EV_NONE, OP_ENVELOPE },
	{ "", " smtp message ", SID "message msgid=(?<qid>[0-9a-f]{8}) size=(?<size>\\d+) nrcpt=(?<nrcpt>\\d+)",
	    EV_NONE, OP_MESSAGE },
	{ "", " smtp authentication ", SID "authentication user=(?<user>.*) result=(?<reason>\\S+)$",
	    EV_NONE, OP_AUTH },
	{ "", " smtp bad-input ", SID "bad-input result=\"(?:(?<code>\\d{3})[ -])?"
	    "(?:(?<dsn>\\d\\.\\d{1,3}\\.\\d{1,3}) )?(?<reason>.*)\"$",
	    EV_PROTOCOL_ERROR, 0 },
	/* 6.0-6.3: "event=NAME address=A host=H ..." (see the top of the file). */
	{ "", " smtp event=failed-command ", "(?J)" SID "event=failed-command " LADDR "command=\"(?<cmd>.*)\"$",
	    EV_NONE, OP_FAILED },
	{ "", " smtp event=connected ", "(?J)" SID "event=connected address=(?:\\[(?<ip>[^\\]\\s]+)\\]|(?<ip>\\S+)) "
	    "host=(?:<unknown>|(?<host>\\S+))$", EV_CONNECT, OP_CONNECTED },
	{ "", " smtp event=closed ", "(?J)" SID "event=closed " LADDR "reason=(?:\"(?<reason>[^\"]*)\"|(?<reason>\\S+))$",
	    EV_NONE, OP_DISCONNECTED },
	{ "", " smtp event=message ", "(?J)" SID "event=message (?:" LADDR ")?msgid=(?<qid>[0-9a-f]{8}) "
	    "from=<(?<from>[^<>]*)> to=<(?<to>[^<>]*)> size=(?<size>\\d+) ndest=\\d+ proto=\\S+$",
	    EV_NONE, OP_LEGACY_MESSAGE },
	{ "", " smtp event=authentication ", "(?J)" SID "event=authentication user=(?<user>\\S*) " LADDR
	    "result=(?<reason>\\S+)$", EV_NONE, OP_AUTH },
	{ "", " smtp event=bad-input ", "(?J)" SID "event=bad-input " LADDR
	    "result=\"(?:(?<code>\\d{3})[ -])?(?:(?<dsn>\\d\\.\\d{1,3}\\.\\d{1,3}) )?(?<reason>.*)\"$",
	    EV_PROTOCOL_ERROR, 0 },
	{ "", " smtp event=starttls ", NULL, EV_NONE, 0 },
	{ "", " smtp event=client-cert-check ", NULL, EV_NONE, 0 },
	/* Understood, nothing about the client's conduct. */
	{ "", " smtp tls ", NULL, EV_NONE, 0 },
	{ "", " smtp starttls", NULL, EV_NONE, 0 },
	{ "", " smtp cert-check ", NULL, EV_NONE, 0 },
};

struct smtpd_state {
	struct pattern_set *ps;
	struct corr_table *sessions;
};

static int
smtpd_claims(const struct syslog_hdr *h)
{
	return span_eq(h->tag, "smtpd", 5);
}

static void *
smtpd_new(const struct parser_opts *o)
{
	struct smtpd_state *s = xcalloc(1, sizeof(*s));

	s->ps = pattern_set_new("opensmtpd_defs", smtpd_defs, sizeof(smtpd_defs) / sizeof(smtpd_defs[0]));
	s->sessions = corr_new(o->corr_capacity ? o->corr_capacity : 32768, o->corr_ttl ? o->corr_ttl : 24 * 3600);
	return s;
}

static void
smtpd_free(void *state)
{
	struct smtpd_state *s = state;

	pattern_set_free(s->ps);
	corr_free(s->sessions);
	free(s);
}

static struct corr_table *
smtpd_corr(void *state)
{
	return ((struct smtpd_state *)state)->sessions;
}

static uint32_t
hex32(struct span s)
{
	uint32_t v = 0;

	for (size_t i = 0; i < s.n && i < 8; i++) {
		char c = s.p[i];

		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return v;
}

static int
starts_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n >= n && strncasecmp(s.p, lit, n) == 0;
}

/* What OpenSMTPD writes between a failed command and its reply. */
static const char reply_sep_text[] = "\" result=\"";
#define REPLY_SEP_LEN (sizeof(reply_sep_text) - 1)

/* The first reply_sep_text at or after a.p[from] that a reply code follows, or NULL. */
static const char *
reply_sep(struct span a, size_t from)
{
	const char *p, *r;

	for (; (p = memmem(a.p + from, a.n - from, reply_sep_text, REPLY_SEP_LEN)) != NULL;
	    from = (size_t)(p - a.p) + 1) {
		r = p + REPLY_SEP_LEN;
		if (a.p + a.n - r >= 4 && r[0] >= '2' && r[0] <= '5' && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' &&
		    r[2] <= '9' && (r[3] == ' ' || r[3] == '-'))
			return p;
	}
	return NULL;
}

/*
 * cmd holds 'C" result="R': the client's command, then OpenSMTPD's reply,
 * which may echo the command's address. Neither escapes a quote, so the
 * separator is found after the address of a MAIL or RCPT command, read as
 * an address; for other commands (whose type the reply does not change) at
 * the first separator a reply code follows - a client's command may hold
 * separators of its own, followed by anything ('GET /x" result="2"
 * result="500 ...'). Sets cmd, code, dsn and reason; 0 if there is no
 * reply, 2 if another separator with a code follows (then which reply is
 * OpenSMTPD's is not known: the caller marks code, dsn and reason doubtful).
 */
static int
split_failed(struct event *ev)
{
	struct span a = ev->str[F_CMD], r;
	size_t from = 0, k;
	const char *p;
	long e = -1;
	int again;

	if (starts_ci(a, "RCPT TO:<"))
		e = mta_addr_end_logged(a, 9);
	else if (starts_ci(a, "MAIL FROM:<"))
		e = mta_addr_end_logged(a, 11);
	if (e >= 0)
		from = (size_t)e + 1;
	if ((p = reply_sep(a, from)) == NULL)
		return 0;
	again = reply_sep(a, (size_t)(p - a.p) + 1) != NULL;
	r = (struct span){ p + REPLY_SEP_LEN, (size_t)(a.p + a.n - p) - REPLY_SEP_LEN };
	ev_set_str(ev, F_CMD, (struct span){ a.p, (size_t)(p - a.p) });
	ev_set_num(ev, F_CODE, (r.p[0] - '0') * 100 + (r.p[1] - '0') * 10 + (r.p[2] - '0'));
	r.p += 4;
	r.n -= 4;
	/* d.ddd.ddd */
	for (k = 0; k < r.n && ((r.p[k] >= '0' && r.p[k] <= '9') || r.p[k] == '.'); k++)
		;
	if (k >= 5 && k <= 9 && k < r.n && r.p[k] == ' ' && r.p[1] == '.') {
		ev_set_str(ev, F_DSN, (struct span){ r.p, k });
		r.p += k + 1;
		r.n -= k + 1;
	}
	ev_set_str(ev, F_REASON, r);
	return again ? 2 : 1;
}

/* "RCPT TO:<x> " -> RCPT, to = x; "MAIL FROM:<x>" -> MAIL; "" -> CONNECT. */
static enum ev_type
classify_failed(struct event *ev)
{
	struct span c = ev->str[F_CMD], r = ev->str[F_REASON];
	long e;

	if (c.n == 0) {
		ev_set_str(ev, F_CMD, SPAN_LIT("CONNECT"));	/* a connect-time filter refused it */
		return EV_CLIENT_REJECT;
	}
	if (starts_ci(c, "RCPT TO:")) {
		ev_set_str(ev, F_CMD, SPAN_LIT("RCPT"));
		if (starts_ci(c, "RCPT TO:<") && (e = mta_addr_end_logged(c, 9)) >= 0)
			ev_set_str(ev, F_TO, (struct span){ c.p + 9, (size_t)e - 9 });
		else
			ev_doubt(ev, F_TO);	/* an address no MTA would write back: where it ends is not known */
		if (starts_ci(r, "Invalid recipient") || starts_ci(r, "Recipient unknown") || starts_ci(r, "User unknown"))
			return EV_RCPT_UNKNOWN;
		if (memmem(r.p, r.n, "elay", 4) != NULL)
			return EV_RELAY_DENIED;
		return EV_RCPT_REJECT;
	}
	if (starts_ci(c, "MAIL FROM:")) {
		ev_set_str(ev, F_CMD, SPAN_LIT("MAIL"));
		if (starts_ci(c, "MAIL FROM:<") && (e = mta_addr_end_logged(c, 11)) >= 0)
			ev_set_str(ev, F_FROM, (struct span){ c.p + 11, (size_t)e - 11 });
		return EV_CLIENT_REJECT;
	}
	if (starts_ci(c, "DATA") || starts_ci(c, "BDAT")) {
		ev_set_str(ev, F_CMD, SPAN_LIT("DATA"));
		return EV_MSG_REJECT;
	}
	if (starts_ci(c, "AUTH")) {
		ev_set_str(ev, F_CMD, SPAN_LIT("AUTH"));
		return EV_PROTOCOL_ERROR;	/* AUTH where it is not offered; wrong passwords are "authentication" lines */
	}
	if (starts_ci(c, "HELO") || starts_ci(c, "EHLO")) {
		ev_set_str(ev, F_CMD, (struct span){ c.p, 4 });
		return EV_CLIENT_REJECT;
	}
	{
		size_t n = 0;

		while (n < c.n && n < 16 && c.p[n] != ' ' && c.p[n] != ':')
			n++;
		ev_set_str(ev, F_CMD, (struct span){ c.p, n });
	}
	return EV_PROTOCOL_ERROR;	/* unknown or out-of-sequence commands */
}

static enum mta_result
smtpd_parse(void *state, const struct syslog_hdr *h, struct event *ev, struct parser_stats *st)
{
	struct smtpd_state *s = state;
	struct corr_entry *e;
	const struct pattern_def *def;
	struct span sid;
	int split, idx = pattern_set_match(s->ps, h->body, ev, &st->limit_hits);

	if (idx < 0)
		/* "SESSION smtp ..." lines we do not know; other lines (info:, mda, mta, warn:) are not about clients. */
		return h->body.n > 22 && memcmp(h->body.p + 16, " smtp ", 6) == 0 ? MTA_UNMATCHED : MTA_KNOWN;
	def = pattern_set_def(s->ps, idx);
	if (def->regex == NULL)
		return MTA_KNOWN;
	ev->type = def->type;
	sid = ev->aux;
	if ((enum op)def->op == OP_CONNECTED) {
		if (ev->ip.family == 0) {
			/* address=local (or an unparsable one): a local session, never counted */
			if ((e = corr_put(s->sessions, sid, ev->ts)) != NULL)
				e->flags |= CORR_LOCAL;
			return MTA_KNOWN;
		}
		if ((e = corr_put(s->sessions, sid, ev->ts)) != NULL) {
			e->ip = ev->ip;
			if (addr_is_loopback(&ev->ip))
				e->flags |= CORR_LOCAL;
			if (ev_has(ev, F_HOST) && ev->str[F_HOST].n <= CORR_HOSTMAX) {
				memcpy(e->host, ev->str[F_HOST].p, ev->str[F_HOST].n);
				e->hostlen = (uint8_t)ev->str[F_HOST].n;
			}
		}
		return addr_is_loopback(&ev->ip) ? MTA_KNOWN : MTA_EVENT;
	}
	e = corr_get(s->sessions, sid, ev->ts);
	if (e != NULL && (e->flags & CORR_LOCAL)) {
		if ((enum op)def->op == OP_DISCONNECTED)
			corr_del(s->sessions, sid);
		return MTA_KNOWN;
	}
	if (e != NULL) {
		ev->ip = e->ip;
		if (e->hostlen)
			ev_set_str(ev, F_HOST, (struct span){ e->host, e->hostlen });
	}
	switch ((enum op)def->op) {
	case OP_NONE:
	case OP_CONNECTED:
		break;
	case OP_FAILED:
		if ((split = split_failed(ev)) == 0)
			return MTA_UNMATCHED;
		ev->type = classify_failed(ev);
		if (split == 2) {
			ev_doubt(ev, F_CODE);
			ev_doubt(ev, F_DSN);
			ev_doubt(ev, F_REASON);
		}
		break;
	case OP_AUTH:
		if (span_eq(ev->str[F_REASON], "ok", 2))
			return MTA_KNOWN;
		ev->type = EV_AUTH_FAIL;
		break;
	case OP_DISCONNECTED:
		ev->type = span_eq(ev->str[F_REASON], "quit", 4) ? EV_DISCONNECT : EV_LOST_CONN;
		if (ev->type == EV_DISCONNECT)
			ev_unset(ev, F_REASON);
		corr_del(s->sessions, sid);	/* ev's host points into the freed slot: still intact until the next put */
		break;
	case OP_MESSAGE:
		if (e != NULL) {
			e->flags |= CORR_MSG;
			e->aux[0] = hex32(ev->str[F_QID]);
			e->aux[1] = (uint32_t)(ev->num[F_SIZE] > UINT32_MAX ? UINT32_MAX : ev->num[F_SIZE]);
			e->aux[2] = (uint32_t)(ev->num[F_NRCPT] > UINT32_MAX ? UINT32_MAX : ev->num[F_NRCPT]);
		}
		return MTA_KNOWN;
	case OP_ENVELOPE:
		/* The first envelope of the announced message (its evpid starts with the msgid). */
		if (e == NULL || !(e->flags & CORR_MSG) || hex32(ev->str[F_QID]) != e->aux[0])
			return MTA_KNOWN;
		e->flags &= (uint8_t)~CORR_MSG;
		ev_set_num(ev, F_SIZE, e->aux[1]);
		ev_set_num(ev, F_NRCPT, e->aux[2]);
		ev_unset(ev, F_TO);
		ev->type = ev->str[F_FROM].n == 0 ? EV_BOUNCE_IN : EV_MSG_ACCEPTED;
		break;
	case OP_LEGACY_MESSAGE:
		/* one line per recipient: the message counts at its first (its session remembers which it was) */
		if (e == NULL && ev->ip.family != 0 && (e = corr_put(s->sessions, sid, ev->ts)) != NULL)
			e->ip = ev->ip;	/* (a session from before the log: its own address, as the line says) */
		if (e != NULL && (e->flags & CORR_EMITTED) && e->aux[0] == hex32(ev->str[F_QID]))
			return MTA_KNOWN;
		if (e != NULL) {
			e->flags |= CORR_EMITTED;
			e->aux[0] = hex32(ev->str[F_QID]);
		}
		ev_unset(ev, F_TO);
		ev->type = ev->str[F_FROM].n == 0 ? EV_BOUNCE_IN : EV_MSG_ACCEPTED;
		break;
	}
	return ev->type == EV_NONE ? MTA_KNOWN : MTA_EVENT;
}

const struct mta mta_opensmtpd = {
	.name = "opensmtpd",
	.claims = smtpd_claims,
	.state_new = smtpd_new,
	.state_free = smtpd_free,
	.parse = smtpd_parse,
	.corr = smtpd_corr,
};
