/*
 * cond.h - conditions of rules ("where", "unless") and the event values
 * they and the aggregation keys read.
 *
 * A comparison on a field the event does not carry is false (so "not"
 * of it is true). Strings compare exactly; "matches" takes a PCRE2
 * regex. The values "<>" and "" both mean the null sender.
 */
#ifndef MXG_COND_H
#define MXG_COND_H

#include <stdint.h>

#include "../parsers/event.h"
#include "../common/table.h"

/* Event fields plus values derived from them. */
enum cond_field_extra {
	CF_IP = F__COUNT,	/* the client address ("client" or "ip") */
	CF_MTA,			/* "postfix", ... */
	CF_SENDER_DOMAIN,	/* the part of "from" after the last '@' */
	CF_RECIPIENT_DOMAIN,	/* the part of "to" after the last '@' */
	CF_REP_RISK,		/* the client's reputation ("rep.risk", "rep.spam", "rep.vol"): */
	CF_REP_SPAM,		/* unknown compares false, like a field the event does not carry */
	CF_REP_VOL,
	CF__COUNT
};

enum cond_op { C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IN, C_MATCH, C_LISTED, C_ZLISTED };

struct cond;

/* -1 if name is not a field; "client" and "ip" both name CF_IP. */
int cond_field_by_name(const char *name);
const char *cond_field_name(int field);
/* 1 if the field holds numbers. */
int cond_field_numeric(int field);
/* 1 if an event of this type can carry the field (for warnings). */
int cond_field_carried(int field, enum ev_type type);

struct cond *cond_logic(enum cond_op op, struct cond *a, struct cond *b);
struct cond *cond_cmp_str(int field, enum cond_op op, const char *value);
struct cond *cond_cmp_num(int field, enum cond_op op, int64_t value);
struct cond *cond_in_table(int field, const struct cidr_table *t);
/* 'listed "NAME"': the client has an entry in feed number feed (the configuration's order). */
struct cond *cond_listed(int feed);
/* 'listed "NAME"' of a DNS zone: zone number zone answered "listed" for the client (unknown is not listed). */
struct cond *cond_listed_zone(int zone);
/* 1 if the field is one of the client's reputation scores. */
int cond_field_rep(int field);
/* NULL and a message in err if the regex does not compile. */
struct cond *cond_match(int field, const char *regex, char *err, size_t errlen);
void cond_free(struct cond *c);

int cond_eval(const struct cond *c, const struct event *ev);

/*
 * The string value of a field in ev (the derived domains included);
 * returns 0 if the event does not carry it.
 */
int cond_str_value(const struct event *ev, int field, struct span *out);

#endif
