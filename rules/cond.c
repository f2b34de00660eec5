/*
 * cond.c - rule conditions: a small expression tree over event values.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "cond.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../reputation/rep.h"

struct cond {
	enum cond_op op;
	int field;
	struct cond *a, *b;		/* C_AND, C_OR, C_NOT */
	char *str;			/* string comparison value */
	size_t len;
	int64_t num;			/* numeric comparison value */
	int numeric;
	const struct cidr_table *table;	/* C_IN */
	pcre2_code *re;			/* C_MATCH */
	pcre2_match_data *md;
};

static const char *const extra_names[] = {
	[CF_IP - F__COUNT] = "client",
	[CF_MTA - F__COUNT] = "mta",
	[CF_SENDER_DOMAIN - F__COUNT] = "sender_domain",
	[CF_RECIPIENT_DOMAIN - F__COUNT] = "recipient_domain",
	[CF_REP_RISK - F__COUNT] = "rep.risk",
	[CF_REP_SPAM - F__COUNT] = "rep.spam",
	[CF_REP_VOL - F__COUNT] = "rep.vol",
};

int
cond_field_by_name(const char *name)
{
	int f = ev_field_by_name(name, strlen(name));

	if (f >= 0)
		return f;
	if (strcmp(name, "ip") == 0)
		return CF_IP;
	for (int i = F__COUNT; i < CF__COUNT; i++)
		if (strcmp(name, extra_names[i - F__COUNT]) == 0)
			return i;
	return -1;
}

const char *
cond_field_name(int field)
{
	return field < F__COUNT ? ev_field_name((enum ev_field)field) : extra_names[field - F__COUNT];
}

int
cond_field_numeric(int field)
{
	return (field < F__COUNT && ev_field_kind((enum ev_field)field) == FK_NUM) || cond_field_rep(field);
}

int
cond_field_rep(int field)
{
	return field == CF_REP_RISK || field == CF_REP_SPAM || field == CF_REP_VOL;
}

/*
 * Which fields each event type can carry (docs/EVENTS.md). Only used to
 * warn about conditions that can never hold.
 */
#define B(f) (1u << (f))
#define CLIENT (B(F_PORT) | B(F_HOST) | B(F_NODE))
#define ENVELOPE (B(F_HELO) | B(F_FROM) | B(F_TO) | B(F_QID))
#define REPLY (B(F_CMD) | B(F_CODE) | B(F_DSN) | B(F_REASON))
static const uint32_t carried[EV__COUNT] = {
	[EV_CONNECT] = CLIENT,
	[EV_DISCONNECT] = CLIENT | B(F_RCPT_OK) | B(F_RCPT_TOTAL) | B(F_CMD_OK) | B(F_CMD_TOTAL) |
	    B(F_AUTH_OK) | B(F_AUTH_TOTAL),
	[EV_RCPT_UNKNOWN] = CLIENT | ENVELOPE | REPLY | B(F_STAGE),
	[EV_RCPT_REJECT] = CLIENT | ENVELOPE | REPLY,
	[EV_RELAY_DENIED] = CLIENT | ENVELOPE | REPLY,
	[EV_DNSBL_REJECT] = CLIENT | ENVELOPE | REPLY | B(F_DNSBL) | B(F_COUNT),
	[EV_CLIENT_REJECT] = CLIENT | ENVELOPE | REPLY,
	[EV_MSG_REJECT] = CLIENT | ENVELOPE | REPLY,
	[EV_AUTH_FAIL] = CLIENT | B(F_METHOD) | B(F_USER) | B(F_REASON),
	[EV_LOST_CONN] = CLIENT | B(F_QID) | B(F_STAGE) | B(F_REASON),
	[EV_PROTOCOL_ERROR] = CLIENT | B(F_STAGE) | B(F_REASON) | B(F_LIMIT) | B(F_COUNT),
	[EV_RATE_LIMITED] = CLIENT | REPLY | B(F_SERVICE) | B(F_LIMIT) | B(F_COUNT),
	[EV_MSG_ACCEPTED] = CLIENT | B(F_FROM) | B(F_QID) | B(F_SIZE) | B(F_NRCPT),
	[EV_BOUNCE_IN] = CLIENT | B(F_FROM) | B(F_QID) | B(F_SIZE) | B(F_NRCPT),
};

int
cond_field_carried(int field, enum ev_type type)
{
	uint32_t m = carried[type];

	switch (field) {
	case CF_IP:
	case CF_MTA:
	case CF_REP_RISK:
	case CF_REP_SPAM:
	case CF_REP_VOL:
		return 1;
	case CF_SENDER_DOMAIN:
		return (m >> F_FROM) & 1;
	case CF_RECIPIENT_DOMAIN:
		return (m >> F_TO) & 1;
	default:
		return (m >> field) & 1;
	}
}

static struct cond *
node(enum cond_op op, int field)
{
	struct cond *c = xcalloc(1, sizeof(*c));

	c->op = op;
	c->field = field;
	return c;
}

struct cond *
cond_logic(enum cond_op op, struct cond *a, struct cond *b)
{
	struct cond *c = node(op, -1);

	c->a = a;
	c->b = b;
	return c;
}

struct cond *
cond_cmp_str(int field, enum cond_op op, const char *value)
{
	struct cond *c = node(op, field);

	/* "<>" is how people write the null sender; events hold it as "". */
	if ((field == F_FROM || field == F_TO) && strcmp(value, "<>") == 0)
		value = "";
	c->str = xstrdup(value);
	c->len = strlen(value);
	return c;
}

struct cond *
cond_cmp_num(int field, enum cond_op op, int64_t value)
{
	struct cond *c = node(op, field);

	c->num = value;
	c->numeric = 1;
	return c;
}

struct cond *
cond_in_table(int field, const struct cidr_table *t)
{
	struct cond *c = node(C_IN, field);

	c->table = t;
	return c;
}

struct cond *
cond_listed(int feed)
{
	struct cond *c = node(C_LISTED, -1);

	c->num = feed;
	return c;
}

struct cond *
cond_listed_zone(int zone)
{
	struct cond *c = node(C_ZLISTED, -1);

	c->num = zone;
	return c;
}

struct cond *
cond_match(int field, const char *regex, char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
	struct cond *c;

	if (re == NULL) {
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "bad regex at offset %zu: %s", (size_t)off, (char *)msg);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	c = node(C_MATCH, field);
	c->re = re;
	c->md = pcre2_match_data_create_from_pattern(re, NULL);
	return c;
}

void
cond_free(struct cond *c)
{
	if (c == NULL)
		return;
	cond_free(c->a);
	cond_free(c->b);
	free(c->str);
	if (c->re != NULL) {
		pcre2_match_data_free(c->md);
		pcre2_code_free(c->re);
	}
	free(c);
}

static struct span
domain_of(struct span addr)
{
	const char *at = memrchr(addr.p, '@', addr.n);

	if (at == NULL)
		return (struct span){ addr.p + addr.n, 0 };
	return (struct span){ at + 1, addr.n - (size_t)(at + 1 - addr.p) };
}

int
cond_str_value(const struct event *ev, int field, struct span *out)
{
	switch (field) {
	case CF_MTA:
		*out = (struct span){ ev->mta, strlen(ev->mta) };
		return 1;
	case CF_SENDER_DOMAIN:
		if (!ev_has(ev, F_FROM))
			return 0;
		*out = domain_of(ev->str[F_FROM]);
		return 1;
	case CF_RECIPIENT_DOMAIN:
		if (!ev_has(ev, F_TO))
			return 0;
		*out = domain_of(ev->str[F_TO]);
		return 1;
	default:
		if (field >= F__COUNT || !ev_has(ev, (enum ev_field)field) ||
		    ev_field_kind((enum ev_field)field) != FK_STR)
			return 0;
		*out = ev->str[field];
		return 1;
	}
}

static int
cmp_result(enum cond_op op, int cmp)
{
	switch (op) {
	case C_EQ: return cmp == 0;
	case C_NE: return cmp != 0;
	case C_LT: return cmp < 0;
	case C_LE: return cmp <= 0;
	case C_GT: return cmp > 0;
	case C_GE: return cmp >= 0;
	default: return 0;
	}
}

/* The text of a field; for the client, its canonical address, written into buf. */
static int
field_text(const struct event *ev, int field, char buf[ADDR_STRLEN], struct span *out)
{
	if (field != CF_IP)
		return cond_str_value(ev, field, out);
	if (ev->ip.family == 0)
		return 0;
	*out = (struct span){ buf, addr_format(&ev->ip, buf) };
	return 1;
}

int
cond_eval(const struct cond *c, const struct event *ev)
{
	char buf[ADDR_STRLEN];
	struct span s;
	int r;

	switch (c->op) {
	case C_AND:
		return cond_eval(c->a, ev) && cond_eval(c->b, ev);
	case C_OR:
		return cond_eval(c->a, ev) || cond_eval(c->b, ev);
	case C_NOT:
		return !cond_eval(c->a, ev);
	case C_IN:
		return ev->ip.family != 0 && table_contains(c->table, &ev->ip);
	case C_LISTED:
		return ev->rep != NULL && ((ev->rep->listed >> c->num) & 1);
	case C_ZLISTED:
		return ev->rep != NULL && ((ev->rep->zlisted >> c->num) & 1);
	case C_MATCH:
		return field_text(ev, c->field, buf, &s) &&
		    pcre2_match(c->re, (PCRE2_SPTR)s.p, s.n, 0, 0, c->md, NULL) >= 0;
	default:
		break;
	}
	if (c->numeric) {
		int64_t v;

		if (cond_field_rep(c->field)) {
			if (ev->rep == NULL || ev->rep->score[c->field - CF_REP_RISK] == REP_UNKNOWN)
				return 0;
			v = ev->rep->score[c->field - CF_REP_RISK];
		} else if (c->field >= F__COUNT || !ev_has(ev, (enum ev_field)c->field))
			return 0;
		else
			v = ev->num[c->field];
		return cmp_result(c->op, v < c->num ? -1 : v > c->num);
	}
	if (!field_text(ev, c->field, buf, &s))
		return 0;
	r = memcmp(s.p, c->str, s.n < c->len ? s.n : c->len);
	return cmp_result(c->op, r != 0 ? r : (s.n > c->len) - (s.n < c->len));
}
