/* event.c - names of event types and fields (the JSON contract). */
#include "event.h"

#include <string.h>

static const char *const type_names[EV__COUNT] = {
	[EV_NONE] = "none",
	[EV_CONNECT] = "connect",
	[EV_DISCONNECT] = "disconnect",
	[EV_RCPT_UNKNOWN] = "rcpt_unknown",
	[EV_RCPT_REJECT] = "rcpt_reject",
	[EV_RELAY_DENIED] = "relay_denied",
	[EV_DNSBL_REJECT] = "dnsbl_reject",
	[EV_CLIENT_REJECT] = "client_reject",
	[EV_MSG_REJECT] = "msg_reject",
	[EV_AUTH_FAIL] = "auth_fail",
	[EV_LOST_CONN] = "lost_conn",
	[EV_PROTOCOL_ERROR] = "protocol_error",
	[EV_RATE_LIMITED] = "rate_limited",
	[EV_MSG_ACCEPTED] = "msg_accepted",
	[EV_BOUNCE_IN] = "bounce_in",
};

static const struct {
	const char *name;
	enum ev_kind kind;
} fields[F__COUNT] = {
	[F_PORT] = { "port", FK_NUM },
	[F_HOST] = { "host", FK_STR },
	[F_HELO] = { "helo", FK_STR },
	[F_FROM] = { "from", FK_STR },
	[F_TO] = { "to", FK_STR },
	[F_QID] = { "qid", FK_STR },
	[F_SIZE] = { "size", FK_NUM },
	[F_NRCPT] = { "nrcpt", FK_NUM },
	[F_RCPT_OK] = { "rcpt_ok", FK_NUM },
	[F_RCPT_TOTAL] = { "rcpt_total", FK_NUM },
	[F_CMD_OK] = { "cmd_ok", FK_NUM },
	[F_CMD_TOTAL] = { "cmd_total", FK_NUM },
	[F_AUTH_OK] = { "auth_ok", FK_NUM },
	[F_AUTH_TOTAL] = { "auth_total", FK_NUM },
	[F_CMD] = { "cmd", FK_STR },
	[F_STAGE] = { "stage", FK_STR },
	[F_CODE] = { "code", FK_NUM },
	[F_DSN] = { "dsn", FK_STR },
	[F_REASON] = { "reason", FK_STR },
	[F_DNSBL] = { "dnsbl", FK_STR },
	[F_SERVICE] = { "service", FK_STR },
	[F_LIMIT] = { "limit", FK_STR },
	[F_COUNT] = { "count", FK_NUM },
	[F_METHOD] = { "method", FK_STR },
	[F_USER] = { "user", FK_STR },
	[F_NODE] = { "node", FK_STR },
};

const char *
ev_type_name(enum ev_type t)
{
	return (unsigned)t < EV__COUNT ? type_names[t] : "none";
}

enum ev_type
ev_type_by_name(const char *name, size_t len)
{
	for (int t = 1; t < EV__COUNT; t++)
		if (strlen(type_names[t]) == len && memcmp(type_names[t], name, len) == 0)
			return (enum ev_type)t;
	return EV_NONE;
}

const char *
ev_field_name(enum ev_field f)
{
	return fields[f].name;
}

enum ev_kind
ev_field_kind(enum ev_field f)
{
	return fields[f].kind;
}

int
ev_field_by_name(const char *name, size_t len)
{
	for (int f = 0; f < F__COUNT; f++)
		if (strlen(fields[f].name) == len && memcmp(fields[f].name, name, len) == 0)
			return f;
	return -1;
}
