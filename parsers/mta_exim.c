/*
 * mta_exim.c - Exim: its own mainlog or its syslog lines.
 *
 * Line shapes: docs/log-formats.md section 3. The header code takes the
 * mainlog's date and "[pid]"; in the syslog form the body repeats Exim's
 * date (unless syslog_timestamp = false), stripped here. A 16-character
 * (up to 4.96) or 23-character (4.97+) message ID may follow.
 *
 * Almost every line about a client carries it as H=[name ][(helo) ][ip][:port]
 * or "from ... [ip]:port". Lines of one SMTP session share the child's
 * pid, so the session table (pid -> client) completes what a line leaves
 * out: a reject line without +incoming_port gets the session's port.
 *
 * Reject lines are split in code, not in one regex: after H= come Exim's
 * own fields (I=, X=, CV=, U=, A=, F=<sender>), then the verb ("rejected
 * RCPT <to>: text"). The client address is taken from H= before any
 * client-chosen text, so an address or HELO name cannot move an event to
 * another IP.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "mta.h"
#include "mta_text.h"
#include "pattern.h"

/* "name (helo) [ip]:port", every part but [ip] optional. */
#define XH "(?:(?<host>[^\\s()\\[\\]]+) )?(?:\\((?<helo>[^()]*)\\) )?\\[(?<ip>[^\\]\\s]+)\\](?::(?<port>\\d+))?"
/* An address the client wrote, a quoted local part as one token ("a b"@x). */
#define XADDR "(?:[^\\s\"]++|\"(?:[^\"\\\\]++|\\\\.)*+\")*+"
/* " I=[local ip]:port", written with +incoming_interface. */
#define XI "(?: I=\\[[^\\]\\s]*\\]:\\d+)?"

enum op {
	OP_NONE,
	OP_HLINE,		/* "H=... verb ...": split the rest in code */
	OP_CONNLINE,		/* "SMTP connection from ... <what>" */
	OP_RECEIVED,		/* "<= sender H=... S=n ... for rcpts" */
	OP_TIMEOUT,		/* lost_conn, reason "timeout" */
	OP_UNEXPECTED,		/* lost_conn, reason "unexpected disconnection" */
	OP_REFUSED,		/* "Connection from ... refused: why" */
};

static const struct pattern_def exim_defs[] = {
	{ "H=", NULL, "H=" XH "(?<aux>.*)$", EV_NONE, OP_HLINE },
	{ "<= ", " H=", "<= (?<from>" XADDR ") (?:R=\\S+ )?(?:U=\\S+ )?H=" XH "(?<aux>.*)$", EV_NONE, OP_RECEIVED },
	{ "SMTP connection from ", NULL, "SMTP connection from " XH XI "(?<aux>.*)$", EV_NONE, OP_CONNLINE },
	{ "no MAIL in SMTP connection from ", NULL, "no MAIL in SMTP connection from " XH XI "(?: D=\\S+)?"
	    "(?: C=(?<aux>\\S+))?", EV_DISCONNECT, 0 },
	{ "unexpected disconnection while reading SMTP command from ", NULL,
	    "unexpected disconnection while reading SMTP command from " XH XI "(?: \\((?<reason>.*)\\))?",
	    EV_LOST_CONN, OP_UNEXPECTED },
	{ "SMTP command timeout on ", NULL, "SMTP command timeout on (?:TLS )?connection from " XH,
	    EV_LOST_CONN, OP_TIMEOUT },
	{ "SMTP data timeout ", NULL, "SMTP data timeout \\(message abandoned\\) on (?:TLS )?connection from " XH,
	    EV_LOST_CONN, OP_TIMEOUT },
	{ "SMTP call from ", " dropped: ", "SMTP call from " XH XI " dropped: (?<reason>.*)$", EV_PROTOCOL_ERROR, 0 },
	{ "SMTP protocol error in \"", NULL, "SMTP protocol error in \"(?<cmd>.*?)\" H=" XH XI " (?<reason>.*)$",
	    EV_PROTOCOL_ERROR, 0 },
	{ "SMTP syntax error in \"", NULL, "SMTP syntax error in \"(?<cmd>.*?)\" H=" XH XI " (?<reason>.*)$",
	    EV_PROTOCOL_ERROR, 0 },
	{ "SMTP protocol synchronization error (", NULL, "SMTP protocol synchronization error \\((?<reason>[^)]*)\\): "
	    "rejected (?:connection from|\".*?\") H=" XH, EV_PROTOCOL_ERROR, 0 },
	{ "Connection from ", " refused", "Connection from " XH XI " refused: (?<reason>.*)$", EV_NONE, OP_REFUSED },
	{ "rejected EHLO from ", NULL, "rejected EHLO from " XH XI ": (?<reason>.*)$", EV_CLIENT_REJECT, 0 },
	{ "rejected HELO from ", NULL, "rejected HELO from " XH XI ": (?<reason>.*)$", EV_CLIENT_REJECT, 0 },
	/* Understood, nothing to report: deliveries, queue runs, the daemon's own notes. */
	{ "<= ", NULL, NULL, EV_NONE, 0 },	/* local submissions and bounces: no H= */
	{ "=> ", NULL, NULL, EV_NONE, 0 },
	{ "-> ", NULL, NULL, EV_NONE, 0 },
	{ "*> ", NULL, NULL, EV_NONE, 0 },
	{ "** ", NULL, NULL, EV_NONE, 0 },
	{ "== ", NULL, NULL, EV_NONE, 0 },
	{ "SMTP error from remote ", NULL, NULL, EV_NONE, 0 },
	{ "TLS error on ", NULL, NULL, EV_NONE, 0 },
	{ "sender verify ", NULL, NULL, EV_NONE, 0 },
	{ "exim ", " daemon started", NULL, EV_NONE, 0 },
	{ "Start queue run", NULL, NULL, EV_NONE, 0 },
	{ "End queue run", NULL, NULL, EV_NONE, 0 },
	/* Last: it searches the whole line. */
	/* (some Exim versions write "for H=(helo) [ip]", most "for (helo) [ip]") */
	{ "", " authenticator failed for ", "(?<method>\\S+) authenticator failed for (?:H=)?" XH XI
	    ": (?:(?<code>\\d{3}) )?(?<reason>.*?)(?: \\(set_id=(?<user>.*)\\))?$", EV_AUTH_FAIL, 0,
	    "(?<method>\\S+) authenticator failed for (?:H=)?" XH },
};

struct exim_state {
	struct pattern_set *ps;
	struct corr_table *sessions;	/* pid -> client of the SMTP session */
};

static int
exim_claims(const struct syslog_hdr *h)
{
	return h->form == HDR_EXIM_MAINLOG || span_eq(h->tag, "exim", 4) || span_eq(h->tag, "exim4", 5);
}

static void *
exim_new(const struct parser_opts *o)
{
	struct exim_state *s = xcalloc(1, sizeof(*s));

	s->ps = pattern_set_new("exim_defs", exim_defs, sizeof(exim_defs) / sizeof(exim_defs[0]));
	/* A session lasts minutes; pids are reused, so entries live one hour. */
	s->sessions = corr_new(o->corr_capacity ? o->corr_capacity : 32768, o->corr_ttl ? o->corr_ttl : 3600);
	return s;
}

static void
exim_free(void *state)
{
	struct exim_state *s = state;

	pattern_set_free(s->ps);
	corr_free(s->sessions);
	free(s);
}

static struct corr_table *
exim_corr(void *state)
{
	return ((struct exim_state *)state)->sessions;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_b62(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* "2024-01-09 22:47:31[.912] [pid] " of the syslog form (the header took the syslog date). */
static void
strip_date(struct span *b, long *pid)
{
	size_t i = 19;

	if (b->n < 20 || !is_digit(b->p[0]) || b->p[4] != '-' || b->p[10] != ' ' || b->p[13] != ':')
		return;
	if (b->p[i] == '.')
		for (i++; i < b->n && is_digit(b->p[i]); i++)
			;
	if (i >= b->n || b->p[i] != ' ')
		return;
	i++;
	if (i < b->n && b->p[i] == '[') {
		size_t j = i + 1;
		long v = 0;

		while (j < b->n && is_digit(b->p[j]) && v < 100000000)
			v = v * 10 + (b->p[j++] - '0');
		if (j + 1 < b->n && b->p[j] == ']' && b->p[j + 1] == ' ' && j > i + 1) {
			*pid = v;
			i = j + 2;
		}
	}
	b->p += i;
	b->n -= i;
}

/* "1s4Kp1-0005Jd-7Q " (6-6-2) or "1tGx7e-00000002Kq8-0Ab1 " (6-11-4). */
static struct span
strip_msgid(struct span *b)
{
	static const size_t shapes[2][3] = { { 6, 6, 2 }, { 6, 11, 4 } };
	struct span id = { b->p, 0 };

	for (int s = 0; s < 2; s++) {
		size_t len = shapes[s][0] + shapes[s][1] + shapes[s][2] + 2, i = 0, ok = 1;

		if (b->n <= len || b->p[len] != ' ')
			continue;
		for (int part = 0; part < 3 && ok; part++) {
			for (size_t k = 0; k < shapes[s][part]; k++, i++)
				ok &= (size_t)is_b62(b->p[i]);
			if (part < 2)
				ok &= b->p[i++] == '-';
		}
		if (!ok)
			continue;
		id.n = len;
		b->p += len + 1;
		b->n -= len + 1;
		return id;
	}
	return id;
}

/* s starts with the string literal lit (its length known at compile time: these run per line). */
#define starts(s, lit) span_starts((s), (lit), sizeof(lit) - 1)

static void
advance(struct span *s, size_t k)
{
	s->p += k;
	s->n -= k;
}

/* The recipient's reply texts that mean "no such user" (Exim's default, and common ACL wordings). */
static int
unknown_user(struct span r)
{
	static const struct span texts[] = {
		SPAN_LIT("Unrouteable address"), SPAN_LIT("Unknown user"), SPAN_LIT("unknown user"),
		SPAN_LIT("No Such User Here"), SPAN_LIT("No such user"), SPAN_LIT("User unknown"),
		SPAN_LIT("user unknown"), SPAN_LIT("Invalid recipient"), SPAN_LIT("Recipient unknown"),
		SPAN_LIT("Unknown local part"),
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (span_starts(r, texts[i].p, texts[i].n))
			return 1;
	return 0;
}

/*
 * "<addr>: text" after a verb: addr into field f (if keep), text into
 * reason. The address is the client's, read as one (a quoted local part
 * may hold ">: Unknown user"). Exim logs the command's argument cut to
 * EXIM_ARGMAX bytes: when the address does not end within them, the text
 * follows the cut and f is left out (doubtful: counted, never guessed).
 * Anything else is kept whole in the reason.
 */
#define EXIM_ARGMAX 100
static void
addr_and_reason(struct span r, struct event *ev, enum ev_field f, int keep)
{
	long gt;

	if (r.n > 0 && r.p[0] == '<') {
		/* (within the cut, a '>' with no quote before it ends the address: Exim took it whole) */
		const char *e = memchr(r.p, '>', r.n < EXIM_ARGMAX ? r.n : EXIM_ARGMAX);

		gt = e != NULL && memchr(r.p, '"', (size_t)(e - r.p)) == NULL ? e - r.p : mta_addr_end(r, 1);
		if (gt >= 0 && (size_t)gt + 3 <= r.n && r.p[gt + 1] == ':' && r.p[gt + 2] == ' ') {
			if (keep)
				ev_set_str(ev, f, (struct span){ r.p + 1, (size_t)gt - 1 });
			advance(&r, (size_t)gt + 1);
		} else if (r.n > EXIM_ARGMAX + 2 && r.p[EXIM_ARGMAX] == ':' && r.p[EXIM_ARGMAX + 1] == ' ') {
			if (keep)
				ev_doubt(ev, f);
			advance(&r, EXIM_ARGMAX);
		}
	}
	if (starts(r, ": "))
		advance(&r, 2);
	if (r.n > 0)
		ev_set_str(ev, F_REASON, r);
}

/* After a refusal's verb: DNSBL and rate limits win over the verb's own type. */
static enum ev_type
refine(struct event *ev, enum ev_type t)
{
	struct span r = ev_has(ev, F_REASON) ? ev->str[F_REASON] : (struct span){ "", 0 };

	if (mta_find_dnsbl(r, ev))
		return EV_DNSBL_REJECT;
	if (mta_mentions_rate(r))
		return EV_RATE_LIMITED;
	return t;
}

/*
 * The rest of an "H=host [ip] ..." line. Exim's own fields come first
 * (I=, X=, CV=, DN=, U=, A=, P=, F=<sender>), then what happened.
 */
static enum mta_result
h_line(struct span r, struct event *ev)
{
	if (r.n > 0 && r.p[0] == ':')
		return MTA_KNOWN;	/* "H=mx.example.net [ip]: SMTP error ...": an outgoing delivery */
	while (r.n > 1 && r.p[0] == ' ' && r.p[1] >= 'A' && r.p[1] <= 'Z') {
		size_t k = 1;

		while (k < r.n && ((r.p[k] >= 'A' && r.p[k] <= 'Z') || is_digit(r.p[k])))
			k++;
		if (k >= r.n || r.p[k] != '=')
			break;
		if (k == 2 && r.p[1] == 'F' && k + 1 < r.n && r.p[k + 1] == '<') {
			/*
			 * The sender is the client's: a quoted local part may hold ">"
			 * and field-like text. Without a quote before the first ">"
			 * that ">" ends it (Exim took the address: no space or "<" in
			 * it), and this runs on every reject line: one memchr() more.
			 */
			const char *e = memchr(r.p + k + 2, '>', r.n - k - 2);
			long gt = e != NULL && memchr(r.p + k + 2, '"', (size_t)(e - r.p) - k - 2) == NULL ?
			    e - r.p : mta_addr_end(r, k + 2);

			if (gt < 0)
				return MTA_UNMATCHED;
			ev_set_str(ev, F_FROM, (struct span){ r.p + k + 2, (size_t)gt - k - 2 });
			advance(&r, (size_t)gt + 1);
			continue;
		}
		while (k < r.n && r.p[k] != ' ')
			k++;
		advance(&r, k);
	}
	if (!starts(r, " "))
		return MTA_UNMATCHED;
	advance(&r, 1);
	if (starts(r, "temporarily "))	/* a 4xx: the same refusal, classified alike */
		advance(&r, 12);
	if (starts(r, "rejected RCPT ")) {
		advance(&r, 14);
		ev_set_str(ev, F_CMD, SPAN_LIT("RCPT"));
		addr_and_reason(r, ev, F_TO, 1);
		struct span why = ev_has(ev, F_REASON) ? ev->str[F_REASON] : (struct span){ "", 0 };

		if (unknown_user(why))
			ev->type = EV_RCPT_UNKNOWN;
		else if (starts(why, "relay not permitted") || starts(why, "Relay not permitted") ||
		    starts(why, "relaying denied") || starts(why, "Relaying denied"))
			ev->type = EV_RELAY_DENIED;
		else if (starts(why, "Sender verify failed") || starts(why, "sender verify failed"))
			ev->type = EV_CLIENT_REJECT;
		else
			ev->type = refine(ev, EV_RCPT_REJECT);
		return MTA_EVENT;
	}
	if (starts(r, "rejected MAIL ")) {
		advance(&r, 14);
		ev_set_str(ev, F_CMD, SPAN_LIT("MAIL"));
		addr_and_reason(r, ev, F_FROM, !ev_has(ev, F_FROM));
		ev->type = refine(ev, EV_CLIENT_REJECT);
		return MTA_EVENT;
	}
	if (starts(r, "rejected connection in ")) {
		const char *c = memmem(r.p, r.n, " ACL", 4);

		ev_set_str(ev, F_CMD, SPAN_LIT("CONNECT"));
		if (c != NULL) {
			advance(&r, (size_t)(c + 4 - r.p));
			addr_and_reason(r, ev, F_TO, 0);
		}
		if (ev_has(ev, F_REASON) && ev->str[F_REASON].n >= 2 && ev->str[F_REASON].p[0] == '"' &&
		    ev->str[F_REASON].p[ev->str[F_REASON].n - 1] == '"')
			ev->str[F_REASON] = (struct span){ ev->str[F_REASON].p + 1, ev->str[F_REASON].n - 2 };
		ev->type = refine(ev, EV_CLIENT_REJECT);
		return MTA_EVENT;
	}
	if (starts(r, "rejected after DATA") || starts(r, "rejected DATA") || starts(r, "rejected after BDAT")) {
		const char *c = memmem(r.p, r.n, ": ", 2);

		ev_set_str(ev, F_CMD, SPAN_LIT("DATA"));
		if (c != NULL)
			ev_set_str(ev, F_REASON, (struct span){ c + 2, (size_t)(r.p + r.n - c - 2) });
		ev->type = EV_MSG_REJECT;
		return MTA_EVENT;
	}
	if (starts(r, "rejected VRFY ") || starts(r, "rejected EXPN ")) {
		ev_set_str(ev, F_CMD, (struct span){ r.p + 9, 4 });
		advance(&r, 14);
		addr_and_reason(r, ev, F_TO, 1);
		ev->type = unknown_user(ev_has(ev, F_REASON) ? ev->str[F_REASON] : r) ? EV_RCPT_UNKNOWN : EV_RCPT_REJECT;
		return MTA_EVENT;
	}
	if (starts(r, "rejected ")) {	/* EHLO/HELO and other commands */
		const char *c = memmem(r.p, r.n, ": ", 2);

		if (c != NULL)
			ev_set_str(ev, F_REASON, (struct span){ c + 2, (size_t)(r.p + r.n - c - 2) });
		ev->type = refine(ev, EV_CLIENT_REJECT);
		return MTA_EVENT;
	}
	if (starts(r, "sender verify ") || starts(r, "Warning: ") || starts(r, "incomplete transaction") ||
	    starts(r, "remote host used my name") || starts(r, "rejected") || starts(r, "dropped") ||
	    starts(r, "Ratelimit") || starts(r, "ratelimit"))
		return MTA_KNOWN;
	return MTA_UNMATCHED;
}

/* After "SMTP connection from HOST [ip]:port I=...": what became of it. */
static enum mta_result
conn_line(struct span r, struct event *ev)
{
	if (starts(r, " (TCP/IP connection count = ")) {
		int64_t v = 0;

		for (advance(&r, 28); r.n > 0 && is_digit(r.p[0]) && v < 1000000000; advance(&r, 1))
			v = v * 10 + (r.p[0] - '0');
		ev_set_num(ev, F_COUNT, v);
		ev->type = EV_CONNECT;
		return MTA_EVENT;
	}
	if (starts(r, " closed by QUIT")) {
		ev->type = EV_DISCONNECT;
		return MTA_EVENT;
	}
	if (starts(r, " lost")) {
		advance(&r, 5);
		/* "lost D=0s", "lost while reading message data" */
		if (starts(r, " while ")) {
			advance(&r, 1);
			ev_set_str(ev, F_REASON, r);
		}
		ev->type = EV_LOST_CONN;
		return MTA_EVENT;
	}
	if (starts(r, " closed by DROP in ACL")) {
		/* The server ended it (a "drop" verb, after a refusal counted on its own line). */
		ev_set_str(ev, F_REASON, SPAN_LIT("DROP in ACL"));
		ev->type = EV_DISCONNECT;
		return MTA_EVENT;
	}
	if (starts(r, " D="))
		return MTA_KNOWN;
	return MTA_UNMATCHED;
}

/* "<= sender H=... S=size ... for a b": the received message. */
static enum mta_result
received(struct span r, struct event *ev)
{
	const char *sz = memmem(r.p, r.n, " S=", 3), *f;

	if (ev->ip.family == 0 || addr_is_loopback(&ev->ip))
		return MTA_KNOWN;	/* local submission or reinjection */
	if (sz != NULL) {
		int64_t v = 0;

		for (sz += 3; sz < r.p + r.n && is_digit(*sz) && v < 1000000000000; sz++)
			v = v * 10 + (*sz - '0');
		ev_set_num(ev, F_SIZE, v);
	}
	/* +received_recipients: " for a b c" ends the line (after T="subject", so the last " for "). */
	for (f = r.p + r.n - 5; f >= r.p; f--)
		if (memcmp(f, " for ", 5) == 0)
			break;
	if (f >= r.p && memchr(f, '"', (size_t)(r.p + r.n - f)) == NULL) {
		int64_t n = 1;

		for (const char *q = f + 5; q < r.p + r.n; q++)
			n += *q == ' ';
		ev_set_num(ev, F_NRCPT, n);
	}
	if (span_eq(ev->str[F_FROM], "<>", 2))
		ev->str[F_FROM].n = 0;
	ev->type = ev->str[F_FROM].n == 0 ? EV_BOUNCE_IN : EV_MSG_ACCEPTED;
	return MTA_EVENT;
}

/*
 * The session table's key: the pid's bytes as they are (no decimal text to
 * make: this runs for nearly every line). Keys are compared, never shown.
 */
static struct span
pid_key(long pid, char key[24])
{
	memcpy(key, &pid, sizeof(pid));
	return (struct span){ key, sizeof(pid) };
}

/* Fill the port and host a line leaves out from its session (same pid, same client). */
static void
session_join(struct exim_state *s, long pid, struct event *ev)
{
	char key[24];
	struct span k;
	struct corr_entry *e;

	if (pid < 0 || ev->ip.family == 0)
		return;
	k = pid_key(pid, key);
	e = corr_get(s->sessions, k, ev->ts);
	if (e != NULL && e->ip.family == ev->ip.family &&
	    memcmp(e->ip.b, ev->ip.b, ev->ip.family == 4 ? 4 : 16) == 0) {
		if (!ev_has(ev, F_PORT) && e->port)
			ev_set_num(ev, F_PORT, e->port);
		if (!ev_has(ev, F_HOST) && e->hostlen)
			ev_set_str(ev, F_HOST, (struct span){ e->host, e->hostlen });
		if (ev_has(ev, F_PORT) && !e->port && ev->num[F_PORT] < 65536)
			e->port = (uint16_t)ev->num[F_PORT];
		return;
	}
	if (ev->type == EV_CONNECT)
		return;	/* the daemon's line, not the session's pid */
	if ((e = corr_put(s->sessions, k, ev->ts)) == NULL)
		return;
	e->ip = ev->ip;
	if (ev_has(ev, F_PORT) && ev->num[F_PORT] < 65536)
		e->port = (uint16_t)ev->num[F_PORT];
	if (ev_has(ev, F_HOST) && ev->str[F_HOST].n <= CORR_HOSTMAX) {
		memcpy(e->host, ev->str[F_HOST].p, ev->str[F_HOST].n);
		e->hostlen = (uint8_t)ev->str[F_HOST].n;
	}
}

/*
 * A protocol or syntax error line whose client text holds an H= of its
 * own: a protocol_error of the session's client, known from the same
 * pid's earlier lines; with none known, the line names nobody.
 */
static enum mta_result
session_client(struct exim_state *s, long pid, struct event *ev)
{
	char key[24];
	struct corr_entry *e = pid >= 0 ? corr_get(s->sessions, pid_key(pid, key), ev->ts) : NULL;

	if (e == NULL)
		return MTA_UNMATCHED;
	ev->type = EV_PROTOCOL_ERROR;
	ev->ip = e->ip;
	if (e->port)
		ev_set_num(ev, F_PORT, e->port);
	if (e->hostlen)
		ev_set_str(ev, F_HOST, (struct span){ e->host, e->hostlen });
	ev->doubtful |= EV_DOUBT_IP;
	return MTA_EVENT;
}

static enum mta_result
exim_parse(void *state, const struct syslog_hdr *h, struct event *ev, struct parser_stats *st)
{
	struct exim_state *s = state;
	struct span body = h->body, id;
	long pid = h->pid;
	const struct pattern_def *def;
	enum mta_result res = MTA_EVENT;
	int idx;

	if (h->form != HDR_EXIM_MAINLOG)
		strip_date(&body, &pid);
	id = strip_msgid(&body);
	/*
	 * Protocol and syntax error lines quote the client's command before
	 * H=, and Exim's reason after it may echo more of it. A second " H="
	 * means the client wrote one, and which is Exim's cannot be read from
	 * the line: Exim 4.98 and later escape a quote in the command (\"),
	 * but 4.96 and earlier write it as it came, so a client can write
	 * both an unescaped quote with an H= of its choice and a backslash
	 * before Exim's own quote. Such a line is the session's client (the
	 * same pid's earlier lines), or nobody.
	 */
	if (span_starts(body, "SMTP protocol ", 14) || span_starts(body, "SMTP syntax ", 12)) {
		const char *h1 = memmem(body.p, body.n, " H=", 3);

		if (h1 != NULL && memmem(h1 + 3, (size_t)(body.p + body.n - h1 - 3), " H=", 3) != NULL)
			return session_client(s, pid, ev);
	}
	idx = pattern_set_match(s->ps, body, ev, &st->limit_hits);
	if (idx < 0)
		return mta_names_client(body) ? MTA_UNMATCHED : MTA_KNOWN;
	def = pattern_set_def(s->ps, idx);
	ev->type = def->type;
	if (id.n > 0)
		ev_set_str(ev, F_QID, id);
	switch ((enum op)def->op) {
	case OP_NONE:
		break;
	case OP_HLINE:
		res = h_line(ev->aux, ev);
		break;
	case OP_CONNLINE:
		res = conn_line(ev->aux, ev);
		break;
	case OP_RECEIVED:
		res = received(ev->aux, ev);
		break;
	case OP_TIMEOUT:
		ev_set_str(ev, F_REASON, SPAN_LIT("timeout"));
		break;
	case OP_UNEXPECTED:
		if (!ev_has(ev, F_REASON))
			ev_set_str(ev, F_REASON, SPAN_LIT("unexpected disconnection"));
		break;
	case OP_REFUSED:
		if (!mta_mentions_rate(ev->str[F_REASON]))
			return MTA_KNOWN;	/* load average, queue size: the server's condition */
		ev_set_str(ev, F_LIMIT, SPAN_LIT("connections"));
		ev->type = EV_RATE_LIMITED;
		break;
	}
	if (res != MTA_EVENT || ev->type == EV_NONE)
		return res == MTA_EVENT ? MTA_KNOWN : res;
	if (ev_has(ev, F_HELO) && ev->str[F_HELO].n == 0)
		ev_unset(ev, F_HELO);
	session_join(s, pid, ev);
	return MTA_EVENT;
}

const struct mta mta_exim = {
	.name = "exim",
	.claims = exim_claims,
	.state_new = exim_new,
	.state_free = exim_free,
	.parse = exim_parse,
	.corr = exim_corr,
};
