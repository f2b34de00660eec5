/*
 * event.h - the typed event: the record between the parser and the rules.
 *
 * One log line yields at most one event. Its one-line text form is a JSON
 * object (event_json.h); docs/EVENTS.md lists every type and field. The
 * type names and field names are a contract: rules, replay output and
 * downstream tools rely on them.
 */
#ifndef MXG_EVENT_H
#define MXG_EVENT_H

#include <stdint.h>

#include "../common/addr.h"
#include "../common/span.h"

enum ev_type {
	EV_NONE = 0,
	EV_CONNECT,		/* a client connected */
	EV_DISCONNECT,		/* a session ended; carries command statistics */
	EV_RCPT_UNKNOWN,	/* recipient refused: no such user (harvest signal) */
	EV_RCPT_REJECT,		/* other recipient refusals */
	EV_RELAY_DENIED,	/* relaying refused */
	EV_DNSBL_REJECT,	/* refused because the client is on a DNS blocklist */
	EV_CLIENT_REJECT,	/* client, HELO or sender refused */
	EV_MSG_REJECT,		/* a message refused for its content (milter, header/body checks) */
	EV_AUTH_FAIL,		/* SMTP AUTH failed */
	EV_LOST_CONN,		/* session ended abnormally: lost connection, timeout, hangup */
	EV_PROTOCOL_ERROR,	/* too many errors, non-SMTP command, pipelining, pregreet */
	EV_RATE_LIMITED,	/* the MTA limited the client's rate or concurrency */
	EV_MSG_ACCEPTED,	/* a message from a remote client was queued */
	EV_BOUNCE_IN,		/* an accepted message with the null sender: an incoming bounce */
	EV__COUNT
};

/* Optional fields, in the order they are printed. */
enum ev_field {
	F_PORT,			/* num: client TCP port */
	F_HOST,			/* str: client host name as the MTA logged it */
	F_HELO,			/* str: HELO/EHLO name */
	F_FROM,			/* str: envelope sender, without <>; "" is the null sender */
	F_TO,			/* str: envelope recipient, without <> */
	F_QID,			/* str: queue ID */
	F_SIZE,			/* num: message size in bytes */
	F_NRCPT,		/* num: recipients of the accepted message */
	F_RCPT_OK,		/* num: disconnect statistics, rcpt=OK/TOTAL */
	F_RCPT_TOTAL,
	F_CMD_OK,		/* num: disconnect statistics, commands=OK/TOTAL */
	F_CMD_TOTAL,
	F_AUTH_OK,		/* num: disconnect statistics, auth=OK/TOTAL */
	F_AUTH_TOTAL,
	F_CMD,			/* str: SMTP command refused (RCPT, MAIL, CONNECT, ...) */
	F_STAGE,		/* str: protocol stage of a lost/failed session (CONNECT, EHLO, ...) */
	F_CODE,			/* num: SMTP reply code */
	F_DSN,			/* str: enhanced status code, e.g. 5.1.1 */
	F_REASON,		/* str: reply text or MTA explanation */
	F_DNSBL,		/* str: blocklist domain */
	F_SERVICE,		/* str: MTA service (rate limits) */
	F_LIMIT,		/* str: which limit, e.g. "connection rate" */
	F_COUNT,		/* num: the figure that hit the limit, or a DNSBL rank */
	F_METHOD,		/* str: SASL mechanism */
	F_USER,			/* str: SASL user name */
	F_NODE,			/* str: the host that wrote the log line */
	F__COUNT
};

_Static_assert(F__COUNT <= 30, "struct event's presence masks are 32 bits, 2 kept for EV_DOUBT_*");

/* struct event's doubtful mask beyond one bit per field: */
#define EV_DOUBT_IP (1u << 31)	/* the line's client could not be read: none, or its session's */
#define EV_DOUBT_ANY (1u << 30)	/* read by a fallback pattern: any field left out may be unreadable */

enum ev_kind { FK_STR, FK_NUM };

struct rep_result;

struct event {
	enum ev_type type;
	const char *mta;	/* "postfix", ... (static) */
	uint64_t line;		/* 1-based line number within its input */
	int64_t ts;		/* UTC seconds */
	int32_t usec;		/* -1: the log had no sub-second part */
	struct addr ip;		/* family 0: address not known */
	uint32_t present;	/* bit per enum ev_field */
	uint32_t doubtful;	/* bit per field the line holds but client text made unreadable (ev_doubt) */
	struct span str[F__COUNT];
	int64_t num[F__COUNT];
	struct span aux;	/* MTA-private capture ("aux" group); never printed */
	/* The client's reputation, looked up by the pipeline when rules use it (reputation/rep.h); else NULL. */
	const struct rep_result *rep;
};

const char *ev_type_name(enum ev_type t);
/* EV_NONE if name is not a type. */
enum ev_type ev_type_by_name(const char *name, size_t len);
const char *ev_field_name(enum ev_field f);
enum ev_kind ev_field_kind(enum ev_field f);
/* -1 if name is not a field. */
int ev_field_by_name(const char *name, size_t len);

static inline int
ev_has(const struct event *e, enum ev_field f)
{
	return (e->present >> f) & 1;
}

static inline void
ev_set_str(struct event *e, enum ev_field f, struct span s)
{
	e->str[f] = s;
	e->present |= 1u << f;
}

static inline void
ev_set_num(struct event *e, enum ev_field f, int64_t v)
{
	e->num[f] = v;
	e->present |= 1u << f;
}

static inline void
ev_unset(struct event *e, enum ev_field f)
{
	e->present &= ~(1u << f);
}

/*
 * A field the line holds but that cannot be read with certainty (client
 * text made it ambiguous, or the MTA cut it short): left out, and marked,
 * so that a rule counting distinct values of it counts the event as a new
 * value instead of none - a harvest cannot hide behind unreadable lines.
 */
static inline void
ev_doubt(struct event *e, enum ev_field f)
{
	e->present &= ~(1u << f);
	e->doubtful |= 1u << f;
}

/* Clear for the next line (cheap: only the presence mask and scalars). */
static inline void
ev_reset(struct event *e)
{
	e->type = EV_NONE;
	e->ip.family = 0;
	e->present = 0;
	e->doubtful = 0;
	e->aux = (struct span){ "", 0 };
	e->rep = NULL;
}

#endif
