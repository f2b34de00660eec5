/*
 * conf_check.h - the configuration's checks (rules/conf_check.c): the
 * names it accepts, and what is checked once a whole rule or the whole
 * file is read — a rule's required lines, its action's duration, its
 * escalation cap, a name used twice, and the warnings for what can never
 * take effect (a field none of the rule's events carries, a key they never
 * have, threshold 0, rep.* with no feed or zone, trusting every address, an
 * empty file). Private to the reader
 * (conf_lex.c, conf.c, conf_check.c); the interface is rules/conf.h.
 */
#ifndef MXG_CONF_CHECK_H
#define MXG_CONF_CHECK_H

#include "conf_lex.h"

#define MAX_NAME 32		/* characters of a rule, table, feed or zone name */

/*
 * Rule, table, feed and zone names: letters, digits, '_', '-' and '.',
 * starting with a letter or digit, at most MAX_NAME characters; an error
 * at `at` (naming `what`) if not. 1 if it is one.
 */
int conf_name_ok(struct P *p, const struct token *at, const char *what, const char *name);
/* A Unix user or group name as useradd takes it. */
int conf_group_ok(const char *g);
/* A DNS name: labels of 1-63 letters, digits, '-' and '_', at most 200 bytes. */
int conf_dns_name_ok(const char *s);
/* 1 if no rule read so far has this name, else an error at `at` and 0. */
int conf_rule_name_free(struct P *p, const struct token *at, const char *name);

/* Which lines a rule's block had. */
struct rule_lines {
	int on, when, do_;
};

/*
 * A rule whose block was read without error: 1 if it is whole (else an
 * error at `at`, the rule's start, and 0), with its warnings said.
 */
int conf_check_rule(struct P *p, struct rule *r, const struct token *at, const struct rule_ctx *rc,
    const struct rule_lines *lines);
/* "trust <NAME>": a warning if the table holds every address of a family (no client of it would count). */
struct cidr_table;
void conf_check_trust(struct P *p, const struct token *at, const struct cidr_table *tab);
/* Once the whole file is read: its own warnings. */
void conf_check_file(struct P *p);

#endif
