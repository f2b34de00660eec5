/*
 * conf.c - recursive-descent parser of the configuration language
 * (docs/RULES.md); its tokens come from conf_lex.c.
 *
 * Errors are collected, not fatal: after one, the parser skips to the next
 * line (or the closing brace of a rule) and goes on, so `mxguard check`
 * can report every mistake of a file at once. Positions are 1-based
 * line:column of the offending token, in the file that holds it (includes
 * are followed). Macros ($name) are expanded by the lexer. What is
 * checked of a whole item or file once read (a rule's completeness, its
 * warnings, the names accepted) is conf_check.c's.
 */
#include "conf.h"

#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cluster/cluster.h"
#include "../common/readfile.h"
#include "../common/xalloc.h"
#include "conf_check.h"
#include "conf_lex.h"

#define MAX_COND_DEPTH 200	/* levels of a condition tree (docs/RULES.md) */
#define DEFAULT_MAX_KEYS 1000000
#define DEFAULT_ESCALATE_MAX (30 * 86400)

/* ---------------------------------------------------------- recovery --- */

/* The line to skip past: the item's, or the error's if that came later. */
static int
skip_line(const struct P *p, int line, const char *file)
{
	return p->err_file == file && p->err_line > line ? p->err_line : line;
}

/*
 * Inside a rule: skip what is left of a broken line, up to the end of the
 * line where the error was, or the rule's closing '}' (not consumed).
 */
void
conf_recover(struct P *p, int line, const char *file)
{
	line = skip_line(p, line, file);
	for (;;) {
		struct token *t = lex_cur(p);

		if (t->t == T_EOF || t->t == T_RBRACE || t->line > line || t->file != file)
			return;
		lex_advance(p);
	}
}

/*
 * At the top level: skip the rest of a broken statement, including any
 * { ... } block it opened, so its contents are not read as statements.
 */
void
conf_recover_top(struct P *p, int line, const char *file)
{
	int depth = 0;

	line = skip_line(p, line, file);
	for (;;) {
		struct token *t = lex_cur(p);

		if (t->t == T_EOF)
			return;
		if (depth == 0 && t->t != T_LBRACE && t->t != T_RBRACE && (t->line > line || t->file != file))
			return;
		if (t->t == T_RBRACE) {
			lex_advance(p);
			if (--depth <= 0)
				return;
			continue;
		}
		if (t->t == T_LBRACE)
			depth++;
		lex_advance(p);
	}
}

/* ------------------------------------------------------------ values --- */

static int
parse_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

/* "90s", "10m", "2h", "7d", "1w", or plain seconds. */
static int
parse_duration(const char *s, int64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t n = strlen(s), i = 0;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (v > 1000000000000ull)
			return 0;
		v = v * 10 + (uint64_t)(s[i++] - '0');
	}
	if (i < n) {
		if (i + 1 != n)
			return 0;
		switch (s[i]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return 0;
		}
	}
	if (v * mul > (uint64_t)100 * 365 * 86400)
		return 0;
	*out = (int64_t)(v * mul);
	return 1;
}

/* A unit written as a word of its own ("10 minutes"): 's', 'm', 'h', 'd' or 'w', else 0. */
static char
unit_word(const char *w)
{
	static const struct { const char *word; char unit; } u[] = {
		{ "s", 's' }, { "sec", 's' }, { "secs", 's' }, { "second", 's' }, { "seconds", 's' },
		{ "m", 'm' }, { "min", 'm' }, { "mins", 'm' }, { "minute", 'm' }, { "minutes", 'm' },
		{ "h", 'h' }, { "hour", 'h' }, { "hours", 'h' }, { "d", 'd' }, { "day", 'd' }, { "days", 'd' },
		{ "w", 'w' }, { "week", 'w' }, { "weeks", 'w' },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (strcasecmp(w, u[i].word) == 0)
			return u[i].unit;
	return 0;
}

static int
expect_duration(struct P *p, const char *what, int64_t *out)
{
	struct token *t = lex_cur(p);
	size_t n;

	if (t->t != T_WORD || !parse_duration(t->text, out)) {
		ERR(p, t, "%s: expected a duration such as 90s, 10m, 2h, 7d, found %s", what, lex_tok_desc(t));
		return 0;
	}
	/* A bare number (seconds): remembered, in case a unit follows as a word of its own ("10 minutes"). */
	n = strlen(t->text);
	if (t->text[n - 1] >= '0' && t->text[n - 1] <= '9' && n < sizeof(p->bare_num)) {
		memcpy(p->bare_num, t->text, n + 1);
		p->bare_at = *t;
		p->bare_at.text = NULL;
	} else
		p->bare_num[0] = '\0';
	lex_advance(p);
	return 1;
}

/*
 * The word at `at` is a unit written apart from the number just before it
 * on the same line ("within 10 minutes"): an error saying how to write it,
 * and 1; else 0 (nothing said).
 */
static int
unit_apart(struct P *p, const struct token *at)
{
	char unit;

	if (at->t != T_WORD || p->bare_num[0] == '\0' || at->file != p->bare_at.file || at->line != p->bare_at.line ||
	    (unit = unit_word(at->text)) == 0)
		return 0;
	ERR(p, &p->bare_at, "'%s %s' is two words: a duration is one, its unit right after the number: %s%c",
	    p->bare_num, at->text, p->bare_num, unit);
	p->bare_num[0] = '\0';
	return 1;
}

static int
expect_uint(struct P *p, const char *what, uint64_t max, uint64_t *out)
{
	struct token *t = lex_cur(p);

	if (t->t != T_WORD || !parse_uint(t->text, out) || *out > max) {
		ERR(p, t, "%s: expected a number up to %llu, found %s", what, (unsigned long long)max,
		    lex_tok_desc(t));
		return 0;
	}
	lex_advance(p);
	return 1;
}

/* "ipv4 /N" or "ipv6 /N" at the cursor (the word checked by the caller): its family and length, 1; or 0 (reported). */
static int
prefix_spec(struct P *p, int *v6, uint64_t *len)
{
	*v6 = lex_cur(p)->text[3] == '6';
	lex_advance(p);
	if (lex_cur(p)->t != T_SLASH) {
		ERR(p, lex_cur(p), "expected '/LENGTH' after ipv%c", *v6 ? '6' : '4');
		return 0;
	}
	lex_advance(p);
	return expect_uint(p, "prefix length", *v6 ? 128 : 32, len);
}

static struct cidr_table *
find_table(struct P *p, const char *name)
{
	for (int i = 0; i < p->c->ntables; i++)
		if (strcmp(table_name(p->c->tables[i]), name) == 0)
			return p->c->tables[i];
	return NULL;
}

/* -------------------------------------------------------- conditions --- */

static struct cond *parse_or(struct P *p, int *depth);
static struct zone_spec *find_zone(struct P *p, const char *name);

static int
cmp_op(enum tok t, enum cond_op *op)
{
	switch (t) {
	case T_EQ: *op = C_EQ; return 1;
	case T_NE: *op = C_NE; return 1;
	case T_LT: *op = C_LT; return 1;
	case T_LE: *op = C_LE; return 1;
	case T_GT: *op = C_GT; return 1;
	case T_GE: *op = C_GE; return 1;
	default: return 0;
	}
}

/*
 * Conditions are trees that the parser, cond_eval() and cond_free() walk
 * by recursion: their depth is bounded, so a hostile or generated file
 * (50,000 nested parentheses) is an error, not a stack overflow that
 * kills the daemon at reload. *depth is the depth of the returned tree.
 */
static int
too_deep(struct P *p, const struct token *at, int depth)
{
	if (depth <= MAX_COND_DEPTH)
		return 0;
	ERR(p, at, "condition nested deeper than %d (parentheses, 'not', 'and'/'or' terms)", MAX_COND_DEPTH);
	return 1;
}

static struct cond *
parse_primary(struct P *p, int *depth)
{
	struct token *t = lex_cur(p);
	struct token at;
	enum cond_op op;
	int field;
	struct cond *c;

	*depth = 1;
	if (t->t == T_LPAREN || (t->t == T_WORD && strcmp(t->text, "not") == 0)) {
		/* The parser's own recursion: checked before going down. */
		at = *t;
		at.text = NULL;
		if (too_deep(p, &at, p->nest + 1))
			return NULL;
	}
	if (t->t == T_LPAREN) {
		lex_advance(p);
		p->nest++;
		c = parse_or(p, depth);
		p->nest--;
		if (c == NULL)
			return NULL;
		if (lex_cur(p)->t != T_RPAREN) {
			ERR(p, lex_cur(p), "expected ')', found %s", lex_tok_desc(lex_cur(p)));
			cond_free(c);
			return NULL;
		}
		lex_advance(p);
		return c;
	}
	if (t->t == T_WORD && strcmp(t->text, "not") == 0) {
		lex_advance(p);
		p->nest++;
		c = parse_primary(p, depth);
		p->nest--;
		if (c == NULL)
			return NULL;
		if (too_deep(p, &at, ++*depth)) {
			cond_free(c);
			return NULL;
		}
		return cond_logic(C_NOT, c, NULL);
	}
	if (t->t != T_WORD) {
		ERR(p, t, "expected a field name, found %s", lex_tok_desc(t));
		return NULL;
	}
	if (strcmp(t->text, "listed") == 0) {
		int i;

		lex_advance(p);
		t = lex_cur(p);
		if (t->t != T_STRING && t->t != T_WORD) {
			ERR(p, t, "expected a feed name after 'listed', found %s", lex_tok_desc(t));
			return NULL;
		}
		for (i = 0; i < p->c->nfeeds && strcmp(p->c->feeds[i]->name, t->text) != 0; i++)
			;
		if (i == p->c->nfeeds && find_zone(p, t->text) != NULL) {
			int z = 0;

			if (p->in_atc) {
				/* Said, not accepted: at-connect never waits, so the condition could not hold when it matters. */
				ERR(p, t, "at-connect: \"%s\" is a DNS zone: a client's first lookup is answered from memory, "
				    "without waiting for DNS (feeds only)", t->text);
				lex_advance(p);
				return NULL;
			}
			while (strcmp(p->c->zones[z]->name, t->text) != 0)
				z++;
			lex_advance(p);
			p->rule_zones = 1;
			p->c->uses_rep = 1;
			return cond_listed_zone(z);
		}
		if (i == p->c->nfeeds) {
			ERR(p, t, "unknown feed or zone \"%s\" (define a feed or zone before the rules that use it)", t->text);
			lex_advance(p);
			return NULL;
		}
		lex_advance(p);
		p->c->uses_rep = 1;
		return cond_listed(i);
	}
	if ((field = cond_field_by_name(t->text)) < 0) {
		char known[1024];
		size_t n = 0;

		for (int f = 0; f < CF__COUNT && n < sizeof(known); f++)
			n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", f ? ", " : "", cond_field_name(f));
		ERR(p, t, "unknown field '%s' (known: %s; docs/EVENTS.md)", t->text, known);
		return NULL;
	}
	at = *t;
	at.text = NULL;
	if (p->rc != NULL && p->rc->nrefs < (int)(sizeof(p->rc->refs) / sizeof(p->rc->refs[0])))
		p->rc->refs[p->rc->nrefs++] = (struct fieldref){ field, at.file, at.line, at.col };
	lex_advance(p);
	t = lex_cur(p);
	if (t->t == T_WORD && strcmp(t->text, "in") == 0) {
		struct cidr_table *tab;

		lex_advance(p);
		t = lex_cur(p);
		if (field != CF_IP) {
			ERR(p, &at, "only 'client' can be looked up in a table");
			return NULL;
		}
		if (t->t != T_TABLE) {
			ERR(p, t, "expected a table such as <trusted>, found %s", lex_tok_desc(t));
			return NULL;
		}
		if ((tab = find_table(p, t->text)) == NULL) {
			ERR(p, t, "unknown table <%s> (define a table before the rules that use it)", t->text);
			lex_advance(p);
			return NULL;
		}
		lex_advance(p);
		return cond_in_table(field, tab);
	}
	if ((t->t == T_WORD && strcmp(t->text, "matches") == 0) || t->t == T_TILDE) {
		char err[256];

		lex_advance(p);
		t = lex_cur(p);
		if (t->t != T_STRING) {
			ERR(p, t, "expected a quoted regular expression, found %s", lex_tok_desc(t));
			return NULL;
		}
		if (cond_field_numeric(field)) {
			ERR(p, &at, "'%s' is a number: compare it with == != < <= > >=", cond_field_name(field));
			lex_advance(p);
			return NULL;
		}
		c = cond_match(field, t->text, err, sizeof(err));
		if (c == NULL)
			ERR(p, t, "%s", err);
		lex_advance(p);
		return c;
	}
	if (!cmp_op(t->t, &op)) {
		ERR(p, t, "expected == != < <= > >= 'in' or 'matches' after '%s', found %s",
		    cond_field_name(field), lex_tok_desc(t));
		return NULL;
	}
	lex_advance(p);
	t = lex_cur(p);
	if (t->t != T_WORD && t->t != T_STRING) {
		ERR(p, t, "expected a value, found %s", lex_tok_desc(t));
		return NULL;
	}
	if (cond_field_numeric(field)) {
		uint64_t v;

		if (cond_field_rep(field)) {
			if (!p->have_rep_ref) {
				p->rep_ref = at;
				p->rep_ref_field = field;
				p->have_rep_ref = 1;
			}
			p->rule_scores |= !p->in_atc;
			p->c->uses_rep = 1;
		}
		if (t->t != T_WORD || !parse_uint(t->text, &v) || v > INT64_MAX) {
			ERR(p, t, "'%s' is a number; '%s' is not", cond_field_name(field), t->text);
			lex_advance(p);
			return NULL;
		}
		lex_advance(p);
		return cond_cmp_num(field, op, (int64_t)v);
	}
	if (field == CF_IP && op != C_EQ && op != C_NE) {
		ERR(p, t, "compare 'client' with == or !=, or use 'client in <table>'");
		lex_advance(p);
		return NULL;
	}
	c = cond_cmp_str(field, op, t->text);
	lex_advance(p);
	return c;
}

/* LEFT { WORD LEFT }: a left-associative chain of "and" or "or" (each term one level deeper). */
static struct cond *
parse_chain(struct P *p, const char *word, enum cond_op op, struct cond *(*operand)(struct P *, int *),
    int *depth)
{
	struct cond *a = operand(p, depth), *b;
	int db;

	while (a != NULL && lex_is_word(p, word)) {
		struct token at = *lex_cur(p);

		at.text = NULL;
		lex_advance(p);
		if ((b = operand(p, &db)) == NULL) {
			cond_free(a);
			return NULL;
		}
		a = cond_logic(op, a, b);
		*depth = (*depth > db ? *depth : db) + 1;
		if (too_deep(p, &at, *depth)) {
			cond_free(a);
			return NULL;
		}
	}
	return a;
}

static struct cond *
parse_and(struct P *p, int *depth)
{
	return parse_chain(p, "and", C_AND, parse_primary, depth);
}

static struct cond *
parse_or(struct P *p, int *depth)
{
	return parse_chain(p, "or", C_OR, parse_and, depth);
}

/* ------------------------------------------------------------- rules --- */

static const char *const action_names[] = {
	[A_BLOCK] = "block", [A_REJECT] = "reject", [A_DEFER] = "defer", [A_DISCARD] = "discard",
	[A_HOLD] = "hold", [A_TARPIT] = "tarpit", [A_LIMIT] = "limit", [A_LOG] = "log",
};

static const char *const key_names[] = {
	[KEY_CLIENT] = "client", [KEY_HELO] = "helo", [KEY_SENDER] = "sender",
	[KEY_SENDER_DOMAIN] = "sender_domain", [KEY_RECIPIENT] = "recipient", [KEY_GLOBAL] = "global",
};

const char *
action_name(enum action a)
{
	return action_names[a];
}

int
action_by_name(const char *name)
{
	for (int k = 0; k <= A_LOG; k++)
		if (strcmp(name, action_names[k]) == 0)
			return k;
	return -1;
}

int
conf_parse_duration(const char *s, int64_t *out)
{
	return parse_duration(s, out);
}

void
conf_format_duration(int64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0 && s >= 86400)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0 && s >= 3600)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0 && s >= 60)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

const char *
key_kind_name(enum key_kind k)
{
	return key_names[k];
}

/* "client [ipv4 /N] [ipv6 /N]", with or without parentheses and commas. */
static int
parse_by(struct P *p, struct rule *r)
{
	struct token *t = lex_cur(p);
	int paren = 0;

	if (t->t != T_WORD) {
		ERR(p, t, "expected client, helo, sender, sender_domain, recipient or global after 'by'");
		return 0;
	}
	for (int k = 0; k <= KEY_GLOBAL; k++)
		if (strcmp(t->text, key_names[k]) == 0) {
			r->key = (enum key_kind)k;
			lex_advance(p);
			goto known;
		}
	ERR(p, t, "cannot aggregate by '%s': use client, helo, sender, sender_domain, recipient or global",
	    t->text);
	return 0;
known:
	if (r->key != KEY_CLIENT)
		return 1;
	if (lex_cur(p)->t == T_LPAREN) {
		paren = 1;
		lex_advance(p);
	}
	for (;;) {
		int v6;
		uint64_t len;

		t = lex_cur(p);
		if (t->t == T_COMMA) {
			lex_advance(p);
			continue;
		}
		if (t->t != T_WORD || (strcmp(t->text, "ipv4") != 0 && strcmp(t->text, "ipv6") != 0))
			break;
		if (!prefix_spec(p, &v6, &len))
			return 0;
		if (v6)
			r->v6len = (int)len;
		else
			r->v4len = (int)len;
	}
	if (paren) {
		if (lex_cur(p)->t != T_RPAREN) {
			ERR(p, lex_cur(p), "expected ')', found %s", lex_tok_desc(lex_cur(p)));
			return 0;
		}
		lex_advance(p);
	}
	return 1;
}

/*
 * "count >= N within D", "distinct FIELD >= N within D", "sum FIELD >= N
 * within D"; "distinct client [ipv4 /N] [ipv6 /N]" counts prefixes, not
 * addresses (issue 12: the /64s a harvest rotates through).
 */
static int
parse_when(struct P *p, struct rule *r)
{
	struct token *t = lex_cur(p);
	int gt;

	if (lex_accept_word(p, "count"))
		r->measure = M_COUNT;
	else if (lex_is_word(p, "distinct") || lex_is_word(p, "sum")) {
		r->measure = lex_is_word(p, "sum") ? M_SUM : M_DISTINCT;
		lex_advance(p);
		t = lex_cur(p);
		if (t->t != T_WORD || (r->field = cond_field_by_name(t->text)) < 0) {
			ERR(p, t, "expected a field name after %s, found %s",
			    r->measure == M_SUM ? "sum" : "distinct", lex_tok_desc(t));
			return 0;
		}
		if (r->measure == M_SUM && !cond_field_numeric(r->field)) {
			ERR(p, t, "'sum %s': %s is not a number", t->text, t->text);
			return 0;
		}
		if (p->rc->nrefs < (int)(sizeof(p->rc->refs) / sizeof(p->rc->refs[0])))
			p->rc->refs[p->rc->nrefs++] = (struct fieldref){ r->field, t->file, t->line, t->col };
		lex_advance(p);
		while (r->measure == M_DISTINCT && r->field == CF_IP && (lex_is_word(p, "ipv4") || lex_is_word(p, "ipv6"))) {
			int v6;
			uint64_t len;

			if (!prefix_spec(p, &v6, &len))
				return 0;
			*(v6 ? &r->dv6len : &r->dv4len) = (int)len;
		}
	} else {
		ERR(p, t, "expected count, distinct FIELD or sum FIELD after 'when', found %s", lex_tok_desc(t));
		return 0;
	}
	t = lex_cur(p);
	if (t->t != T_GE && t->t != T_GT) {
		ERR(p, t, "expected >= or > and a threshold, found %s", lex_tok_desc(t));
		return 0;
	}
	gt = t->t == T_GT;
	lex_advance(p);
	if (!expect_uint(p, "threshold", UINT32_MAX - 1, &r->threshold))
		return 0;
	r->threshold += (uint64_t)gt;
	if (!lex_accept_word(p, "within")) {
		ERR(p, lex_cur(p), "expected 'within DURATION', found %s", lex_tok_desc(lex_cur(p)));
		return 0;
	}
	if (!expect_duration(p, "window", &r->window))
		return 0;
	if (r->window < 1) {
		ERR(p, t, "the window must be at least 1s");
		return 0;
	}
	return 1;
}


static int parse_ports(struct P *p, struct port_list *l);
/* "ACTION [for D] [escalate xN [max D]]", ACTION may be "limit N per D" or "limit N connections". */
static int
parse_do(struct P *p, struct rule *r)
{
	struct token *t = lex_cur(p);
	int k;

	if (t->t != T_WORD)
		goto bad;
	for (k = 0; k <= A_LOG; k++)
		if (strcmp(t->text, action_names[k]) == 0)
			break;
	if (k > A_LOG)
		goto bad;
	r->action = (enum action)k;
	lex_advance(p);
	if (r->action == A_LIMIT) {
		uint64_t n;

		if (!expect_uint(p, "limit", 1000000, &n))
			return 0;
		r->limit_n = (uint32_t)n;
		if (lex_accept_word(p, "connections") || lex_accept_word(p, "connection")) {
			/* "limit N connections": at most N at once (a cap, limit_per 0), not N per period */
			r->limit_per = 0;
		} else if (!lex_accept_word(p, "per")) {
			ERR(p, lex_cur(p), "expected 'per DURATION' (a rate) or 'connections' (a cap on those open at "
			    "once) after 'limit %u'", r->limit_n);
			return 0;
		} else if (!expect_duration(p, "limit period", &r->limit_per))
			return 0;
	}
	if (lex_accept_word(p, "for")) {
		struct token d = *lex_cur(p);

		d.text = NULL;
		if (!expect_duration(p, "action duration", &r->duration))
			return 0;
		if (r->duration == 0) {
			ERR(p, &d, "for 0s: an action lasts at least one second ('do log' records without acting)");
			return 0;
		}
	}
	if (lex_accept_word(p, "escalate")) {
		t = lex_cur(p);
		uint64_t f;

		if (t->t != T_WORD || t->text[0] != 'x' || !parse_uint(t->text + 1, &f) || f < 2 || f > 100) {
			ERR(p, t, "expected a factor such as x2 or x4 after 'escalate', found %s", lex_tok_desc(t));
			return 0;
		}
		r->escalate = (uint32_t)f;
		lex_advance(p);
		if (lex_accept_word(p, "max") && !expect_duration(p, "escalation cap", &r->escalate_max))
			return 0;
	}
	return 1;
bad:
	ERR(p, t, "unknown action %s: use block, reject, defer, discard, hold, tarpit, limit N per D, limit N "
	    "connections or log",
	    lex_tok_desc(t));
	return 0;
}

static void
free_rule(struct rule *r)
{
	if (r == NULL)
		return;
	cond_free(r->where);
	for (int i = 0; i < r->nunless; i++)
		cond_free(r->unless[i]);
	free(r->unless);
	free(r->name);
	free(r->file);
	free(r);
}

static void
parse_rule(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct rule *r = xcalloc(1, sizeof(*r));
	struct rule_ctx rc = { .nrefs = 0 };
	int have_on = 0, have_when = 0, have_do = 0, ok = 1, where_depth = 0;

	at.text = NULL;
	lex_advance(p);			/* "rule" */
	t = lex_cur(p);
	if (t->t != T_STRING && t->t != T_WORD) {
		ERR(p, t, "expected the rule's name in quotes after 'rule'");
		conf_recover_top(p, at.line, at.file);
		free(r);
		return;
	}
	if (!conf_name_ok(p, t, "rule", t->text))
		ok = 0;
	r->name = xstrdup(t->text);
	r->file = xstrdup(at.file);
	r->line = at.line;
	r->key = KEY_CLIENT;
	r->v4len = 32;
	r->v6len = 64;
	r->dv4len = 32;
	r->dv6len = 128;
	r->escalate = 1;
	r->max_keys = p->c->max_keys;
	lex_advance(p);
	if (!conf_rule_name_free(p, &at, r->name))
		ok = 0;
	if (lex_cur(p)->t != T_LBRACE) {
		ERR(p, lex_cur(p), "expected '{' after rule \"%s\", found %s", r->name, lex_tok_desc(lex_cur(p)));
		free_rule(r);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	p->rc = &rc;
	for (;;) {
		struct token item = *lex_cur(p);
		int good = 1;

		item.text = NULL;
		if (item.t == T_RBRACE) {
			lex_advance(p);
			break;
		}
		if (item.t == T_EOF) {
			ERR(p, &at, "rule \"%s\" is not closed with '}'", r->name);
			ok = 0;
			break;
		}
		if (lex_accept_word(p, "on")) {
			do {
				enum ev_type et;

				t = lex_cur(p);
				if (t->t != T_WORD || (et = ev_type_by_name(t->text, strlen(t->text))) == EV_NONE) {
					char known[512];
					size_t n = 0;

					for (int i = 1; i < EV__COUNT && n < sizeof(known); i++)
						n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i > 1 ? ", " : "",
						    ev_type_name((enum ev_type)i));
					ERR(p, t, "unknown event type %s (known: %s; docs/EVENTS.md)", lex_tok_desc(t), known);
					good = 0;
					break;
				}
				r->types |= 1u << et;
				lex_advance(p);
			} while (lex_cur(p)->t == T_COMMA && (lex_advance(p), 1));
			have_on = 1;
		} else if (lex_accept_word(p, "where")) {
			int d;
			struct cond *c = parse_or(p, &d);

			/* Several 'where' lines are one condition: its depth is bounded too. */
			if (c == NULL)
				good = 0;
			else if (r->where != NULL) {
				r->where = cond_logic(C_AND, r->where, c);
				where_depth = (where_depth > d ? where_depth : d) + 1;
				if (too_deep(p, &item, where_depth))
					good = 0;
			} else {
				r->where = c;
				where_depth = d;
			}
		} else if (lex_accept_word(p, "unless")) {
			int d;
			struct cond *c = parse_or(p, &d);

			if (c == NULL)
				good = 0;
			else {
				r->unless = xrealloc(r->unless, (size_t)(r->nunless + 1) * sizeof(*r->unless));
				r->unless[r->nunless++] = c;
			}
		} else if (lex_accept_word(p, "by")) {
			good = parse_by(p, r);
		} else if (lex_accept_word(p, "when")) {
			good = parse_when(p, r);
			have_when = good;
		} else if (lex_accept_word(p, "do")) {
			good = parse_do(p, r);
			have_do = good;
		} else if (lex_accept_word(p, "max-keys")) {
			uint64_t n;

			good = expect_uint(p, "max-keys", 100000000, &n);
			if (good && n < 16) {
				ERR(p, &item, "max-keys must be at least 16");
				good = 0;
			}
			r->max_keys = (uint32_t)n;
		} else if (lex_accept_word(p, "ports")) {
			/* the TCP ports its firewall blocks hold (docs/FIREWALL.md, "Ports") */
			if (r->ports.n > 0 || r->ports.all) {
				ERR(p, &item, "a second 'ports' line");
				good = 0;
			} else
				good = parse_ports(p, &r->ports);
		} else if (lex_accept_word(p, "scope")) {
			/* scope local (the default) or cluster: counted across every node (docs/CLUSTER.md) */
			if (lex_accept_word(p, "local"))
				r->scope = SCOPE_LOCAL;
			else if (lex_accept_word(p, "cluster"))
				r->scope = SCOPE_CLUSTER;
			else {
				ERR(p, lex_cur(p), "expected local or cluster after scope, found %s", lex_tok_desc(lex_cur(p)));
				good = 0;
			}
		} else {
			if (!unit_apart(p, lex_cur(p)))
				ERR(p, &item, "unknown rule line %s: expected on, where, by, when, unless, do, ports, scope "
				    "or max-keys", lex_tok_desc(lex_cur(p)));
			good = 0;
		}
		if (!good) {
			ok = 0;
			conf_recover(p, item.line, item.file);
		}
	}
	p->rc = NULL;
	if (ok && r->ports.n > 0 && r->action != A_BLOCK) {
		/* (a limit, a tarpit, a map's answer: none of them is a port's) */
		ERR(p, &at, "rule %s: 'ports' limits a firewall block to those ports, and this rule does not block (it "
		    "does %s)", r->name, action_name(r->action));
		ok = 0;
	}
	if (ok && r->escalate > 1 && r->escalate_max == 0)
		r->escalate_max = r->duration > DEFAULT_ESCALATE_MAX ? r->duration : DEFAULT_ESCALATE_MAX;
	if (!ok || !conf_check_rule(p, r, &at, &rc, &(struct rule_lines){ .on = have_on, .when = have_when,
	    .do_ = have_do })) {
		free_rule(r);
		return;
	}
	p->c->ncluster_rules += r->scope == SCOPE_CLUSTER;
	p->c->rules = xrealloc(p->c->rules, (size_t)(p->c->nrules + 1) * sizeof(*p->c->rules));
	p->c->rules[p->c->nrules++] = r;
}

/* ------------------------------------------------------------ tables --- */

/* A file named in the configuration: relative paths are relative to the file that names it. */
static void
resolve_path(const struct token *t, char *out, size_t outlen)
{
	char *d;

	if (t->text[0] == '/') {
		snprintf(out, outlen, "%s", t->text);
		return;
	}
	d = xstrdup(t->file);
	snprintf(out, outlen, "%s/%s", dirname(d), t->text);
	free(d);
}

/* A table file's bad entries, each said at the table statement with the file's line. */
struct bad_entries {
	struct P *p;
	struct token at;
	struct cidr_table *tab;
	const char *path;
	int n;
};

static void
bad_entry(void *arg, long line, const char *msg)
{
	struct bad_entries *b = arg;

	b->n++;
	ERR(b->p, &b->at, "table <%s>: %s:%ld: %s", table_name(b->tab), b->path, line, msg);
}

static void
parse_table(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct cidr_table *tab;
	char err[300];

	at.text = NULL;
	lex_advance(p);			/* "table" */
	t = lex_cur(p);
	if (t->t != T_TABLE) {
		ERR(p, t, "expected a table name such as <trusted> after 'table'");
		conf_recover_top(p, at.line, at.file);
		return;
	}
	if (!conf_name_ok(p, t, "table", t->text)) {
		conf_recover_top(p, at.line, at.file);
		return;
	}
	if (find_table(p, t->text) != NULL) {
		ERR(p, t, "table <%s> is already defined", t->text);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	tab = table_new(t->text);
	p->c->tables = xrealloc(p->c->tables, (size_t)(p->c->ntables + 1) * sizeof(*p->c->tables));
	p->c->tables[p->c->ntables++] = tab;
	lex_advance(p);
	if (lex_accept_word(p, "file")) {
		t = lex_cur(p);
		if (t->t != T_STRING) {
			ERR(p, t, "expected a quoted file name after 'file'");
			conf_recover_top(p, at.line, at.file);
			return;
		}
		char path[PATH_MAX];

		resolve_path(t, path, sizeof(path));
		/*
		 * Only a regular file, checked first (a FIFO must not hang us,
		 * a directory must not read as an empty table); table.c then
		 * reads it by name. Who could swap the file in between could
		 * as well edit the configuration.
		 */
		{
			struct stat sb;
			char why[PATH_MAX + 128];
			int fd = rf_open_regular(path, &sb, why, sizeof(why));

			if (fd < 0)
				ERR(p, t, "table <%s>: %s", table_name(tab), why);
			else {
				struct bad_entries b = { .p = p, .at = *t, .tab = tab, .path = path };

				close(fd);
				b.at.text = NULL;
				if (table_load_file(tab, path, bad_entry, &b, err, sizeof(err)) < 0 && b.n == 0)
					ERR(p, t, "table <%s>: %s", table_name(tab), err);
			}
		}
		lex_advance(p);
		return;
	}
	if (lex_cur(p)->t != T_LBRACE) {
		ERR(p, lex_cur(p), "expected '{ ADDRESS, ... }' or 'file \"PATH\"' after table <%s>", table_name(tab));
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	for (;;) {
		struct token e;
		char text[128];
		int neg = 0, plen;
		struct addr a;

		t = lex_cur(p);
		if (t->t == T_COMMA) {
			lex_advance(p);
			continue;
		}
		if (t->t == T_RBRACE) {
			lex_advance(p);
			return;
		}
		if (t->t == T_EOF) {
			ERR(p, &at, "table <%s> is not closed with '}'", table_name(tab));
			return;
		}
		e = *t;
		e.text = NULL;
		if (t->t == T_BANG) {
			neg = 1;
			lex_advance(p);
			t = lex_cur(p);
		}
		if (t->t != T_WORD && t->t != T_STRING) {
			ERR(p, t, "expected an address or prefix in table <%s>, found %s", table_name(tab),
			    lex_tok_desc(t));
			if (t->t != T_RBRACE && t->t != T_EOF)
				lex_advance(p);
			continue;
		}
		/* an entry cut to fit would be another entry ("/0008" cut to "/0"): too long is an error */
		int fit = snprintf(text, sizeof(text), "%s%s", neg ? "!" : "", t->text) < (int)sizeof(text);

		lex_advance(p);
		if (lex_cur(p)->t == T_SLASH) {
			lex_advance(p);
			t = lex_cur(p);
			if (t->t == T_WORD) {
				size_t l = strlen(text);

				fit = fit && snprintf(text + l, sizeof(text) - l, "/%s", t->text) < (int)(sizeof(text) - l);
				lex_advance(p);
			} else
				fit = fit && snprintf(text + strlen(text), sizeof(text) - strlen(text), "/") == 1;
		}
		if (!fit)
			ERR(p, &e, "table <%s>: an entry of more than %zu characters", table_name(tab), sizeof(text) - 1);
		else if (!table_parse_entry(text, strlen(text), &a, &plen, &neg, err, sizeof(err)))
			ERR(p, &e, "table <%s>: %s", table_name(tab), err);
		else
			table_add(tab, &a, plen, neg);
	}
}

/* ------------------------------------------------------------- files --- */

/* ------------------------------------------------------------- feeds --- */

static struct feed_spec *
find_feed(struct P *p, const char *name)
{
	for (int i = 0; i < p->c->nfeeds; i++)
		if (strcmp(p->c->feeds[i]->name, name) == 0)
			return p->c->feeds[i];
	return NULL;
}

static struct zone_spec *
find_zone(struct P *p, const char *name)
{
	for (int i = 0; i < p->c->nzones; i++)
		if (strcmp(p->c->zones[i]->name, name) == 0)
			return p->c->zones[i];
	return NULL;
}

/* "risk N", "spam N" or "vol N" at the cursor: into the score slot; 0 if none of them (nothing read). */
static int
parse_score(struct P *p, int8_t *risk, int8_t *spam, int8_t *vol, int *ok)
{
	uint64_t n;

	if (lex_is_word(p, "risk")) {
		lex_advance(p);
		*ok = expect_uint(p, "risk (0 to 10)", 10, &n);
		*risk = *ok ? (int8_t)n : *risk;
	} else if (lex_is_word(p, "spam") || lex_is_word(p, "vol")) {
		int8_t *slot = lex_is_word(p, "spam") ? spam : vol;

		lex_advance(p);
		*ok = expect_uint(p, slot == spam ? "spam (0 to 100)" : "vol (0 to 100)", 100, &n);
		*slot = *ok ? (int8_t)n : *slot;
	} else
		return 0;
	return 1;
}

/* "value "127.0.0.N" [risk N] [spam N] [vol N]" after the word: one more answer mapped to scores. 1, or 0 (reported). */
static int
parse_value(struct P *p, const char *what, const char *name, struct feed_value *values, int *nvalues)
{
	struct token *t = lex_cur(p);
	struct feed_value *v;
	struct addr a;
	int ok = 1;

	if (t->t != T_STRING || !addr_parse(t->text, strlen(t->text), &a) || a.family != 4 || a.b[0] != 127) {
		ERR(p, t, "%s \"%s\": value: expected an answer such as \"127.0.0.2\", found %s", what, name, lex_tok_desc(t));
		return 0;
	}
	if (*nvalues == FEED_VALUES_MAX) {
		ERR(p, t, "%s \"%s\": more than %d values", what, name, FEED_VALUES_MAX);
		return 0;
	}
	v = &values[(*nvalues)++];
	v->a = (uint32_t)a.b[0] << 24 | (uint32_t)a.b[1] << 16 | (uint32_t)a.b[2] << 8 | a.b[3];
	v->risk = v->spam = v->vol = FEED_SCORE_NONE;
	lex_advance(p);
	while (ok && parse_score(p, &v->risk, &v->spam, &v->vol, &ok))
		;
	return ok;
}

/* "0.5", "1", "1.0": a weight in (0, 1]; 0 if the text is not one. */
static int
parse_weight(const char *s, double *w)
{
	char *end;
	double v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0) || v > 1)
		return 0;
	*w = v;
	return 1;
}

/*
 * feed "NAME" { file "PATH"  format FORMAT  [risk N] [spam N] [vol N]
 *               [value "127.0.0.N" [risk N] [spam N] [vol N]]...  [weight W] }
 * The file is checked to be there and regular; its contents are read by
 * whoever uses the feed (check, replay, run), which reports FILE:LINE.
 */
static void
parse_feed(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct feed_spec *f;
	int have_format = 0;

	at.text = NULL;
	lex_advance(p);			/* "feed" */
	t = lex_cur(p);
	if ((t->t != T_STRING && t->t != T_WORD) || !conf_name_ok(p, t, "feed", t->text)) {
		if (t->t != T_STRING && t->t != T_WORD)
			ERR(p, t, "expected a feed name after 'feed'");
		conf_recover_top(p, at.line, at.file);
		return;
	}
	if (find_feed(p, t->text) != NULL || find_zone(p, t->text) != NULL) {
		ERR(p, t, "feed \"%s\" is already defined", t->text);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	f = xcalloc(1, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", t->text);
	f->risk = f->spam = f->vol = FEED_SCORE_NONE;
	f->weight = 1;
	{
		char where[PATH_MAX + 32];

		snprintf(where, sizeof(where), "%s:%d:%d", at.file, at.line, at.col);
		f->at = xstrdup(where);
	}
	p->c->feeds = xrealloc(p->c->feeds, (size_t)(p->c->nfeeds + 1) * sizeof(*p->c->feeds));
	p->c->feeds[p->c->nfeeds++] = f;
	lex_advance(p);
	if (lex_cur(p)->t != T_LBRACE) {
		ERR(p, lex_cur(p), "expected '{' after feed \"%s\"", f->name);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	while (lex_cur(p)->t != T_RBRACE && lex_cur(p)->t != T_EOF) {
		struct token item = *lex_cur(p);
		int ok = 1;

		item.text = NULL;
		if (lex_accept_word(p, "file")) {
			char path[PATH_MAX], why[PATH_MAX + 128];
			struct stat sb;
			int fd;

			t = lex_cur(p);
			if (t->t != T_STRING) {
				ERR(p, t, "expected a quoted file name after 'file'");
				ok = 0;
			} else {
				resolve_path(t, path, sizeof(path));
				if ((fd = rf_open_regular(path, &sb, why, sizeof(why))) < 0)
					ERR(p, t, "feed \"%s\": %s", f->name, why);
				else
					close(fd);
				free(f->path);
				f->path = xstrdup(path);
				lex_advance(p);
			}
		} else if (lex_accept_word(p, "format")) {
			int fmt;

			t = lex_cur(p);
			if (t->t != T_WORD || (fmt = feed_format_by_name(t->text)) < 0) {
				ERR(p, t, "feed \"%s\": format: expected csv, list, drop, drop-json, ip4set, ip4trie or "
				    "ip6trie, found %s", f->name, lex_tok_desc(t));
				ok = 0;
			} else {
				f->format = (enum feed_format)fmt;
				have_format = 1;
				lex_advance(p);
			}
		} else if (lex_accept_word(p, "preload")) {
			uint64_t n;

			f->preload = 1;
			f->preload_risk = FEED_SCORE_NONE;
			if (lex_is_word(p, "risk")) {
				lex_advance(p);
				if (lex_cur(p)->t != T_GE) {
					ERR(p, lex_cur(p), "feed \"%s\": preload risk: expected '>= N', found %s", f->name,
					    lex_tok_desc(lex_cur(p)));
					ok = 0;
				} else {
					lex_advance(p);
					if ((ok = expect_uint(p, "preload risk (0 to 10)", 10, &n)))
						f->preload_risk = (int8_t)n;
				}
			}
		} else if (lex_accept_word(p, "weight")) {
			t = lex_cur(p);
			if (t->t != T_WORD || !parse_weight(t->text, &f->weight)) {
				ERR(p, t, "feed \"%s\": weight: expected a number above 0 and at most 1, found %s", f->name,
				    lex_tok_desc(t));
				ok = 0;
			} else
				lex_advance(p);
		} else if (lex_accept_word(p, "value")) {
			ok = parse_value(p, "feed", f->name, f->values, &f->nvalues);
		} else if (!parse_score(p, &f->risk, &f->spam, &f->vol, &ok)) {
			ERR(p, lex_cur(p), "feed \"%s\": expected file, format, risk, spam, vol, value, weight or preload, found %s",
			    f->name, lex_tok_desc(lex_cur(p)));
			ok = 0;
		}
		if (!ok)
			conf_recover(p, item.line, item.file);
	}
	if (lex_cur(p)->t != T_RBRACE) {
		ERR(p, lex_cur(p), "feed \"%s\": expected '}'", f->name);
		return;
	}
	if (f->path == NULL)
		ERR(p, &at, "feed \"%s\" needs a file \"PATH\"", f->name);
	if (!have_format)
		ERR(p, &at, "feed \"%s\" needs a format (csv, list, drop, drop-json, ip4set, ip4trie, ip6trie)", f->name);
	if (f->nvalues > 0 && f->format != FEED_IP4SET && f->format != FEED_IP4TRIE && f->format != FEED_IP6TRIE)
		ERR(p, &at, "feed \"%s\": value applies to rbldnsd zone files (ip4set, ip4trie, ip6trie) only", f->name);
	lex_advance(p);
}

/*
 * zone "NAME" { domain "bl.example" [server "ADDR"] [port N] [timeout DURATION]
 *               [risk N] [spam N] [vol N] [value "127.0.0.N" ...]... [cache N] }
 */
static void
parse_zone(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct zone_spec *z;
	char where[PATH_MAX + 32];

	at.text = NULL;
	lex_advance(p);			/* "zone" */
	t = lex_cur(p);
	if ((t->t != T_STRING && t->t != T_WORD) || !conf_name_ok(p, t, "zone", t->text)) {
		if (t->t != T_STRING && t->t != T_WORD)
			ERR(p, t, "expected a zone name after 'zone'");
		conf_recover_top(p, at.line, at.file);
		return;
	}
	if (find_feed(p, t->text) != NULL || find_zone(p, t->text) != NULL) {
		ERR(p, t, "\"%s\" is already a feed or zone", t->text);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	z = xcalloc(1, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", t->text);
	z->risk = z->spam = z->vol = FEED_SCORE_NONE;
	z->port = 53;
	z->timeout_ms = 2000;
	z->cache_max = 100000;
	snprintf(where, sizeof(where), "%s:%d:%d", at.file, at.line, at.col);
	z->at = xstrdup(where);
	p->c->zones = xrealloc(p->c->zones, (size_t)(p->c->nzones + 1) * sizeof(*p->c->zones));
	p->c->zones[p->c->nzones++] = z;
	lex_advance(p);
	if (lex_cur(p)->t != T_LBRACE) {
		ERR(p, lex_cur(p), "expected '{' after zone \"%s\"", z->name);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	while (lex_cur(p)->t != T_RBRACE && lex_cur(p)->t != T_EOF) {
		struct token item = *lex_cur(p);
		uint64_t n;
		int ok = 1;

		item.text = NULL;
		if (lex_accept_word(p, "domain")) {
			t = lex_cur(p);
			if (t->t != T_STRING || !conf_dns_name_ok(t->text)) {
				ERR(p, t, "zone \"%s\": domain: expected a DNS name such as \"bl.example\", found %s", z->name,
				    lex_tok_desc(t));
				ok = 0;
			} else {
				snprintf(z->domain, sizeof(z->domain), "%s", t->text);
				lex_advance(p);
			}
		} else if (lex_accept_word(p, "server")) {
			struct addr a;

			t = lex_cur(p);
			if (t->t != T_STRING || !addr_parse(t->text, strlen(t->text), &a)) {
				ERR(p, t, "zone \"%s\": server: expected an IPv4 or IPv6 address in quotes, found %s", z->name,
				    lex_tok_desc(t));
				ok = 0;
			} else {
				addr_format(&a, z->server);
				lex_advance(p);
			}
		} else if (lex_accept_word(p, "port")) {
			if ((ok = expect_uint(p, "port", 65535, &n)) && n == 0) {
				ERR(p, &item, "zone \"%s\": port 0", z->name);
				ok = 0;
			} else if (ok)
				z->port = (uint16_t)n;
		} else if (lex_accept_word(p, "timeout")) {
			int64_t d;

			if ((ok = expect_duration(p, "timeout", &d)) && (d < 1 || d > 60)) {
				ERR(p, &item, "zone \"%s\": timeout between 1s and 60s", z->name);
				ok = 0;
			} else if (ok)
				z->timeout_ms = (int)d * 1000;
		} else if (lex_accept_word(p, "cache")) {
			if ((ok = expect_uint(p, "cache (answers kept)", 10000000, &n)))
				z->cache_max = (uint32_t)n;
		} else if (lex_accept_word(p, "value")) {
			ok = parse_value(p, "zone", z->name, z->values, &z->nvalues);
		} else if (lex_accept_word(p, "family")) {
			/* "family ipv4|ipv6": a DNSBL of one family is not asked about the other's clients */
			if (lex_accept_word(p, "ipv4"))
				z->family = 4;
			else if (lex_accept_word(p, "ipv6"))
				z->family = 6;
			else {
				ERR(p, lex_cur(p), "zone \"%s\": family: expected ipv4 or ipv6, found %s", z->name,
				    lex_tok_desc(lex_cur(p)));
				ok = 0;
			}
		} else if (!parse_score(p, &z->risk, &z->spam, &z->vol, &ok)) {
			ERR(p, lex_cur(p), "zone \"%s\": expected domain, server, port, timeout, family, risk, spam, vol, "
			    "value or cache, found %s", z->name, lex_tok_desc(lex_cur(p)));
			ok = 0;
		}
		if (!ok)
			conf_recover(p, item.line, item.file);
	}
	if (lex_cur(p)->t != T_RBRACE) {
		ERR(p, lex_cur(p), "zone \"%s\": expected '}'", z->name);
		return;
	}
	if (z->domain[0] == '\0')
		ERR(p, &at, "zone \"%s\" needs a domain \"NAME\"", z->name);
	if (p->c->nzones > DNSREP_ZONES_MAX)
		ERR(p, &at, "more than %d zones", DNSREP_ZONES_MAX);
	lex_advance(p);
}

/*
 * at-connect reject|defer|tarpit where CONDITION: the condition may read
 * only what is known at a client's first lookup — the client, its
 * reputation, its listings, the tables it is in.
 */
static void
parse_at_connect(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct rule_ctx rc = { .nrefs = 0 };
	struct at_connect *a;
	struct cond *c;
	int act, d;

	at.text = NULL;
	lex_advance(p);			/* "at-connect" */
	t = lex_cur(p);
	if (t->t != T_WORD || (act = action_by_name(t->text)) < 0 ||
	    (act != A_REJECT && act != A_DEFER && act != A_TARPIT)) {
		ERR(p, t, "at-connect: expected reject, defer or tarpit, found %s", lex_tok_desc(t));
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	if (!lex_accept_word(p, "where")) {
		ERR(p, lex_cur(p), "at-connect %s: expected 'where CONDITION'", action_name((enum action)act));
		conf_recover_top(p, at.line, at.file);
		return;
	}
	p->rc = &rc;
	p->in_atc = 1;
	c = parse_or(p, &d);
	p->in_atc = 0;
	p->rc = NULL;
	if (c == NULL) {
		conf_recover_top(p, at.line, at.file);
		return;
	}
	for (int i = 0; i < rc.nrefs; i++)
		if (rc.refs[i].field != CF_IP && !cond_field_rep(rc.refs[i].field)) {
			conf_diag(p, 0, rc.refs[i].file, rc.refs[i].line, rc.refs[i].col,
			    "at-connect: '%s' is not known at a client's first lookup (only client, rep.risk, rep.spam, "
			    "rep.vol and listed are)", cond_field_name(rc.refs[i].field));
			cond_free(c);
			return;
		}
	p->c->atc = xrealloc(p->c->atc, (size_t)(p->c->natc + 1) * sizeof(*p->c->atc));
	a = &p->c->atc[p->c->natc++];
	a->action = (enum action)act;
	a->where = c;
	{
		char where[PATH_MAX + 32];

		snprintf(where, sizeof(where), "%s:%d:%d", at.file, at.line, at.col);
		a->at = xstrdup(where);
	}
	p->c->uses_rep = 1;
}

/* The mail host's own services, known without /etc/services; 0 if name is none of them. */
static uint16_t
mail_port(const char *name)
{
	static const struct {
		const char *name;
		uint16_t port;
	} known[] = { { "smtp", 25 }, { "submission", 587 }, { "submissions", 465 }, { "smtps", 465 },
		{ "imap", 143 }, { "imap2", 143 }, { "imaps", 993 }, { "pop3", 110 }, { "pop3s", 995 }, { "sieve", 4190 } };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0)
			return known[i].port;
	return 0;
}

/*
 * "ports NAME|NUMBER, ..." (the word "ports" read): TCP ports by number or
 * by their name in /etc/services (smtp, submission, submissions), or "all".
 * 1 if read (into *l), else 0 with the error said.
 */
static int
parse_ports(struct P *p, struct port_list *l)
{
	memset(l, 0, sizeof(*l));
	if (lex_accept_word(p, "all")) {
		l->all = 1;
		return 1;
	}
	do {
		const struct token *t = lex_cur(p);
		uint64_t n = 0;
		struct servent *se;

		if (t->t != T_WORD) {
			ERR(p, t, "ports: expected a port's number or name (smtp, submission, submissions), found %s",
			    lex_tok_desc(t));
			return 0;
		}
		if (parse_uint(t->text, &n)) {
			if (n < 1 || n > 65535) {
				ERR(p, t, "ports: %s is not a port (1 to 65535)", t->text);
				return 0;
			}
		} else if ((se = getservbyname(t->text, "tcp")) != NULL) {
			n = ntohs((uint16_t)se->s_port);
		} else if ((n = mail_port(t->text)) != 0) {
			/* (a host without /etc/services: netbase is not in a minimal Debian) */
		} else {
			ERR(p, t, "ports: unknown service '%s' (not in /etc/services for tcp; give its number)", t->text);
			return 0;
		}
		for (int i = 0; i < l->n; i++)
			if (l->port[i] == n) {
				ERR(p, t, "ports: %s is given twice", t->text);
				return 0;
			}
		if (l->n == PORTS_MAX) {
			ERR(p, t, "ports: at most %d ports", PORTS_MAX);
			return 0;
		}
		l->port[l->n++] = (uint16_t)n;
		lex_advance(p);
	} while (lex_cur(p)->t == T_COMMA && (lex_advance(p), 1));
	return 1;
}

/*
 * "source journal [directory "PATH"] [unit "U"[, "U"...]]": the systemd
 * journal (tail/journal.h), every entry or those journald attributes to
 * the units; one per configuration.
 */
static void
parse_journal_source(struct P *p, const struct token *at)
{
	int dir_seen = 0;

	lex_advance(p);		/* "journal" */
	if (p->c->journal) {
		ERR(p, at, "a second 'source journal': one journal source per configuration (name every unit in it)");
		conf_recover_top(p, at->line, at->file);
		return;
	}
	p->c->journal = 1;
	for (;;) {
		const struct token *t = lex_cur(p);
		char path[PATH_MAX];

		if (t->line != at->line || t->file != at->file)
			return;
		if (lex_accept_word(p, "directory")) {
			t = lex_cur(p);
			if (dir_seen || t->t != T_STRING || t->text[0] == '\0') {
				ERR(p, t, dir_seen ? "source journal: directory given twice" :
				    "source journal: expected a directory in quotes after 'directory'");
				conf_recover_top(p, at->line, at->file);
				return;
			}
			dir_seen = 1;
			resolve_path(t, path, sizeof(path));
			p->c->journal_dir = xstrdup(path);
			lex_advance(p);
		} else if (lex_accept_word(p, "unit")) {
			do {
				t = lex_cur(p);
				if (t->t != T_STRING || t->text[0] == '\0' || strchr(t->text, '=') != NULL ||
				    strlen(t->text) > 256) {
					ERR(p, t, "source journal: expected a systemd unit's name in quotes after 'unit' "
					    "(\"postfix@-.service\")");
					conf_recover_top(p, at->line, at->file);
					return;
				}
				p->c->journal_units = xrealloc(p->c->journal_units,
				    (size_t)(p->c->njournal_units + 1) * sizeof(char *));
				p->c->journal_units[p->c->njournal_units++] = xstrdup(t->text);
				lex_advance(p);
			} while (lex_cur(p)->t == T_COMMA && (lex_advance(p), 1));
		} else {
			ERR(p, t, "source journal: unexpected %s (expected directory \"PATH\" or unit \"NAME\", ...)",
			    lex_tok_desc(t));
			conf_recover_top(p, at->line, at->file);
			return;
		}
	}
}

static void
parse_statements(struct P *p)
{
	for (;;) {
		struct token *t = lex_cur(p), at = *t;

		at.text = NULL;
		if (t->t == T_EOF)
			return;
		p->nstmt++;
		if (t->t == T_WORD && strcmp(t->text, "rule") == 0)
			parse_rule(p);
		else if (t->t == T_WORD && strcmp(t->text, "table") == 0)
			parse_table(p);
		else if (t->t == T_WORD && strcmp(t->text, "feed") == 0)
			parse_feed(p);
		else if (t->t == T_WORD && strcmp(t->text, "at-connect") == 0)
			parse_at_connect(p);
		else if (t->t == T_WORD && strcmp(t->text, "zone") == 0)
			parse_zone(p);
		else if (t->t == T_WORD && strcmp(t->text, "parser") == 0)
			conf_parse_parser(p);
		else if (t->t == T_WORD && strcmp(t->text, "include") == 0) {
			lex_advance(p);
			t = lex_cur(p);
			if (t->t != T_STRING) {
				ERR(p, t, "expected a quoted file name after 'include'");
				conf_recover_top(p, at.line, at.file);
				continue;
			}
			char path[PATH_MAX];

			resolve_path(t, path, sizeof(path));
			struct token inc = *t;

			inc.text = NULL;
			if (strpbrk(path, "*?[") != NULL) {
				/* an include of a pattern (conf.d, "*.conf"): every match, in order (glob sorts them) */
				glob_t g;
				int rc = glob(path, 0, NULL, &g);
				char **paths;

				if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
					WARN(p, &inc, "include \"%s\" matches no file: nothing is read from it", path);
					globfree(&g);
					lex_advance(p);
					continue;
				}
				if (rc != 0) {
					ERR(p, &inc, "include \"%s\": %s", path, rc == GLOB_ABORTED ?
					    "a directory of the pattern cannot be read" : "the pattern cannot be expanded");
					globfree(&g);
					lex_advance(p);
					continue;
				}
				paths = xmalloc(g.gl_pathc * sizeof(char *));
				for (size_t i = 0; i < g.gl_pathc; i++)
					paths[i] = xstrdup(g.gl_pathv[i]);
				lex_advance(p);
				lex_push_files(p, paths, (int)g.gl_pathc, &inc);
				globfree(&g);
				continue;
			}
			/* Drop the token before switching files, so the next one comes from the include. */
			lex_advance(p);
			lex_push_file(p, path, &inc);
		} else if (t->t == T_WORD && strcmp(t->text, "trust") == 0) {
			lex_advance(p);
			do {
				struct cidr_table *tab;

				t = lex_cur(p);
				if (t->t != T_TABLE) {
					ERR(p, t, "expected a table such as <trusted> after 'trust'");
					conf_recover_top(p, at.line, at.file);
					break;
				}
				if ((tab = find_table(p, t->text)) == NULL)
					ERR(p, t, "unknown table <%s>", t->text);
				else {
					p->c->trusted = xrealloc(p->c->trusted,
					    (size_t)(p->c->ntrusted + 1) * sizeof(*p->c->trusted));
					p->c->trusted[p->c->ntrusted++] = tab;
					conf_check_trust(p, t, tab);
				}
				lex_advance(p);
			} while (lex_cur(p)->t == T_COMMA && (lex_advance(p), 1));
		} else if (t->t == T_WORD && strcmp(t->text, "source") == 0) {
			lex_advance(p);
			t = lex_cur(p);
			if (t->t == T_WORD && strcmp(t->text, "journal") == 0) {
				parse_journal_source(p, &at);
				continue;
			}
			if (t->t != T_STRING || t->text[0] != '/') {
				ERR(p, t, "expected the absolute path of a log file in quotes, or journal, after 'source'");
				conf_recover_top(p, at.line, at.file);
				continue;
			}
			p->c->sources = xrealloc(p->c->sources, (size_t)(p->c->nsources + 1) * sizeof(char *));
			p->c->sources[p->c->nsources++] = xstrdup(t->text);
			lex_advance(p);
		} else if (t->t == T_WORD && strcmp(t->text, "set") == 0) {
			lex_advance(p);
			if (lex_accept_word(p, "max-keys")) {
				uint64_t n;

				if (expect_uint(p, "max-keys", 100000000, &n)) {
					if (n < 16)
						ERR(p, &at, "max-keys must be at least 16");
					else
						p->c->max_keys = (uint32_t)n;
				} else
					conf_recover_top(p, at.line, at.file);
			} else if (lex_accept_word(p, "widest-ban")) {
				/* "set widest-ban ipv4 /16 ipv6 /32": the widest prefix 'ctl ban' takes without --force */
				int any = 0, bad = 0;

				while (!bad && (lex_is_word(p, "ipv4") || lex_is_word(p, "ipv6"))) {
					int v6;
					uint64_t len = 0;
					struct token fam = *lex_cur(p);

					fam.text = NULL;
					if (!prefix_spec(p, &v6, &len)) {
						bad = 1;	/* (said why) */
					} else if (len == 0) {
						ERR(p, &fam, "set widest-ban: /0 would let 'ctl ban' take every address: use /1 or longer");
						bad = 1;
					} else if (v6)
						p->c->widest_ban_v6 = (int)len;
					else
						p->c->widest_ban_v4 = (int)len;
					any = 1;
				}
				if (!bad && !any)
					ERR(p, lex_cur(p), "set widest-ban: expected ipv4 /LEN and/or ipv6 /LEN, found %s",
					    lex_tok_desc(lex_cur(p)));
				if (bad || !any)
					conf_recover_top(p, at.line, at.file);
			} else if (lex_accept_word(p, "log")) {
				if (lex_accept_word(p, "syslog")) {
					char where[PATH_MAX + 32];

					snprintf(where, sizeof(where), "%s:%d:%d", at.file, at.line, at.col);
					free(p->c->log_at);
					p->c->log_at = xstrdup(where);
					p->c->log_syslog = 1;
				} else if (lex_accept_word(p, "stderr"))
					p->c->log_syslog = 0;
				else {
					ERR(p, lex_cur(p), "set log: expected syslog or stderr, found %s", lex_tok_desc(lex_cur(p)));
					conf_recover_top(p, at.line, at.file);
				}
			} else if (lex_accept_word(p, "firewall")) {
				/* "set firewall "NAME[:OPTIONS]" [remove-on-exit]": checked by the firewall stage. */
				const struct token *v = lex_cur(p);
				char where[PATH_MAX + 32];

				if (v->t != T_STRING || v->text[0] == '\0') {
					ERR(p, v, "set firewall: expected the backend in quotes, such as \"nftables\" or "
					    "\"iptables:chain=mxguard\"");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				snprintf(where, sizeof(where), "%s:%d:%d", v->file, v->line, v->col);
				free(p->c->firewall);
				free(p->c->firewall_at);
				p->c->firewall = xstrdup(v->text);
				p->c->firewall_at = xstrdup(where);
				lex_advance(p);
				p->c->firewall_remove = lex_accept_word(p, "remove-on-exit");
			} else if (lex_accept_word(p, "user")) {
				/* "set user "NAME"": run's worker as NAME (privsep/); the user is looked up at start */
				const struct token *v = lex_cur(p);
				char where[PATH_MAX + 32];
				size_t n = v->t == T_STRING ? strlen(v->text) : 0;

				if (v->t != T_STRING || n == 0 || n > 32 || strspn(v->text,
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n || v->text[0] == '-') {
					ERR(p, v, "set user: expected a user name in quotes, such as \"mxguard\"");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				snprintf(where, sizeof(where), "%s:%d:%d", v->file, v->line, v->col);
				free(p->c->user);
				free(p->c->user_at);
				p->c->user = xstrdup(v->text);
				p->c->user_at = xstrdup(where);
				lex_advance(p);
			} else if (lex_accept_word(p, "socketmap")) {
				const struct token *v = lex_cur(p);

				if (v->t != T_STRING || v->text[0] != '/') {
					ERR(p, v, "set socketmap: expected the absolute path of a Unix socket in quotes");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				free(p->c->socketmap);
				p->c->socketmap = xstrdup(v->text);
				lex_advance(p);
				/* "[group "NAME"] [idle DURATION]": who may connect, how long an idle one stays. */
				for (;;) {
					if (lex_accept_word(p, "group")) {
						v = lex_cur(p);
						if (v->t != T_STRING || !conf_group_ok(v->text)) {
							ERR(p, v, "set socketmap: expected a group name in quotes after 'group'");
							conf_recover_top(p, at.line, at.file);
							break;
						}
						free(p->c->socketmap_group);
						p->c->socketmap_group = xstrdup(v->text);
						lex_advance(p);
					} else if (lex_accept_word(p, "idle")) {
						struct token d = *lex_cur(p);
						int64_t idle;

						d.text = NULL;
						if (!expect_duration(p, "set socketmap idle", &idle)) {
							conf_recover_top(p, at.line, at.file);
							break;
						}
						if (idle < 1)
							ERR(p, &d, "set socketmap: idle must be at least 1s");
						p->c->socketmap_idle = idle;
					} else
						break;
				}
			} else if (lex_accept_word(p, "map-file")) {
				const struct token *v = lex_cur(p);

				if (v->t != T_STRING || (strncmp(v->text, "cidr:/", 6) != 0 &&
				    strncmp(v->text, "hash:/", 6) != 0 && strncmp(v->text, "lmdb:/", 6) != 0 &&
				    strncmp(v->text, "exim:/", 6) != 0 && strncmp(v->text, "sendmail:/", 10) != 0)) {
					ERR(p, v, "set map-file: expected \"cidr:/PATH\", \"hash:/PATH\", \"lmdb:/PATH\", "
					    "\"exim:/PATH\" or \"sendmail:/PATH\"");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				/* One map file per daemon: a second one would silently replace the first. */
				if (p->c->mapfile != NULL) {
					ERR(p, v, "set map-file: already set at %s (one map file per daemon)", p->c->mapfile_at);
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				{
					char where[PATH_MAX + 32];

					snprintf(where, sizeof(where), "%s:%d:%d", v->file, v->line, v->col);
					p->c->mapfile_at = xstrdup(where);
				}
				p->c->mapfile = xstrdup(v->text);
				lex_advance(p);
			} else if (lex_accept_word(p, "cluster")) {
				/* "set cluster "redis://..."|"sentinel://..." [password-file "PATH"]" (docs/CLUSTER.md) */
				const struct token *v = lex_cur(p);
				struct redis_url u;
				char why[300], where[PATH_MAX + 32];

				if (v->t != T_STRING || redis_url_parse(v->text, &u, why, sizeof(why)) < 0) {
					ERR(p, v, "set cluster: %s", v->t == T_STRING ? why :
					    "expected \"redis://[USER:PASSWORD@]HOST:PORT[/DB]\" or "
					    "\"sentinel://HOST:PORT[,HOST:PORT...]/MASTER\"");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				snprintf(where, sizeof(where), "%s:%d:%d", v->file, v->line, v->col);
				free(p->c->cluster);
				free(p->c->cluster_at);
				p->c->cluster = xstrdup(v->text);
				p->c->cluster_at = xstrdup(where);
				lex_advance(p);
				if (lex_accept_word(p, "password-file")) {
					char path[PATH_MAX];

					v = lex_cur(p);
					if (v->t != T_STRING || v->text[0] == '\0') {
						ERR(p, v, "set cluster: expected a file name in quotes after 'password-file'");
						conf_recover_top(p, at.line, at.file);
						continue;
					}
					resolve_path(v, path, sizeof(path));
					free(p->c->cluster_password_file);
					p->c->cluster_password_file = xstrdup(path);
					lex_advance(p);
				}
			} else if (lex_accept_word(p, "node")) {
				const struct token *v = lex_cur(p);

				if (v->t != T_STRING || !cluster_node_name_ok(v->text)) {
					ERR(p, v, "set node: expected a name in quotes (1 to %d letters, digits, '.', '_', '-')",
					    CLUSTER_NODE_MAX);
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				free(p->c->node);
				p->c->node = xstrdup(v->text);
				lex_advance(p);
			} else if (lex_accept_word(p, "report-dir")) {
				/* "set report-dir "PATH" [interval DURATION] [keep DURATION] [svg]" (docs/REPORTS.md) */
				const struct token *v = lex_cur(p);
				char path[PATH_MAX], where[PATH_MAX + 32];
				int bad = 0;

				if (v->t != T_STRING || v->text[0] == '\0') {
					ERR(p, v, "set report-dir: expected a directory in quotes");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				resolve_path(v, path, sizeof(path));
				snprintf(where, sizeof(where), "%s:%d:%d", v->file, v->line, v->col);
				free(p->c->report_dir);
				free(p->c->report_at);
				p->c->report_dir = xstrdup(path);
				p->c->report_at = xstrdup(where);
				p->c->report_interval = 0;
				p->c->report_keep = 0;
				p->c->report_svg = 0;
				lex_advance(p);
				for (;;) {
					if (lex_accept_word(p, "interval")) {
						const struct token *d = lex_cur(p);

						if (!expect_duration(p, "interval", &p->c->report_interval)) {
							bad = 1;
							break;
						}
						if (p->c->report_interval % 60 != 0 || 86400 % p->c->report_interval != 0) {
							ERR(p, d, "set report-dir: the interval must divide a day into whole minutes "
							    "(1m, 5m, 15m, 1h, ...)");
							bad = 1;
							break;
						}
					} else if (lex_accept_word(p, "keep")) {
						if (!expect_duration(p, "keep", &p->c->report_keep)) {
							bad = 1;
							break;
						}
					} else if (lex_accept_word(p, "svg")) {
						p->c->report_svg = 1;
					} else
						break;
				}
				if (bad)
					conf_recover_top(p, at.line, at.file);
			} else if (lex_accept_word(p, "metrics-file")) {
				/* "set metrics-file "PATH"": the Prometheus textfile (node_exporter's collector reads *.prom) */
				const struct token *v = lex_cur(p);
				char path[PATH_MAX];

				if (v->t != T_STRING || v->text[0] == '\0') {
					ERR(p, v, "set metrics-file: expected a file name in quotes");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				resolve_path(v, path, sizeof(path));
				free(p->c->metrics_file);
				p->c->metrics_file = xstrdup(path);
				lex_advance(p);
			} else if (lex_accept_word(p, "ports")) {
				/* "set ports smtp, submission, submissions": every firewall block holds those ports only */
				char where[600];

				if (p->c->ports.n > 0 || p->c->ports.all) {
					ERR(p, &at, "a second 'set ports'");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				if (!parse_ports(p, &p->c->ports)) {
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				snprintf(where, sizeof(where), "%s:%d:%d", at.file, at.line, at.col);
				free(p->c->ports_at);
				p->c->ports_at = xstrdup(where);
			} else if (lex_accept_word(p, "decision-log")) {
				/* "set decision-log "PATH"" or "set decision-log off": the audit trail (cli/audit.h) */
				const struct token *v = lex_cur(p);
				char path[PATH_MAX];

				if (v->t == T_WORD && strcmp(v->text, "off") == 0) {
					free(p->c->decision_log);
					p->c->decision_log = xstrdup("off");
					lex_advance(p);
					continue;
				}
				if (v->t != T_STRING || v->text[0] == '\0') {
					ERR(p, v, "set decision-log: expected a file name in quotes, or off");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				resolve_path(v, path, sizeof(path));
				free(p->c->decision_log);
				p->c->decision_log = xstrdup(path);
				lex_advance(p);
			} else if (lex_accept_word(p, "rrdcached")) {
				/* "set rrdcached "unix:/run/rrdcached.sock"": the RRD's updates go through rrdcached */
				const struct token *v = lex_cur(p);

				if (v->t != T_STRING || (strncmp(v->text, "unix:/", 6) != 0 && v->text[0] != '/')) {
					ERR(p, v, "set rrdcached: expected \"unix:/PATH\" (rrdcached's socket)");
					conf_recover_top(p, at.line, at.file);
					continue;
				}
				free(p->c->rrdcached);
				p->c->rrdcached = xstrdup(v->text);
				lex_advance(p);
			} else {
				ERR(p, lex_cur(p), "unknown setting %s (known: max-keys, widest-ban, log, firewall, socketmap, "
				    "map-file, cluster, node, report-dir, rrdcached, metrics-file, decision-log, ports, user)",
				    lex_tok_desc(lex_cur(p)));
				conf_recover_top(p, at.line, at.file);
			}
		} else if (t->t == T_WORD) {
			/* NAME = VALUE: a macro. */
			char *name = xstrdup(t->text);

			lex_advance(p);
			if (lex_cur(p)->t != T_ASSIGN) {
				ERR(p, &at, "unknown statement '%s': expected rule, table, trust, source, set, "
				    "include, feed, zone, parser, at-connect or NAME = VALUE", name);
				free(name);
				conf_recover_top(p, at.line, at.file);
				continue;
			}
			lex_advance(p);
			t = lex_cur(p);
			if (t->t != T_STRING && t->t != T_WORD) {
				ERR(p, t, "expected a value after '%s ='", name);
				free(name);
				conf_recover_top(p, at.line, at.file);
				continue;
			}
			struct macro *m = xcalloc(1, sizeof(*m));

			m->name = name;
			m->value = *t;
			m->value.text = xstrdup(t->text);
			m->next = p->macros;
			p->macros = m;
			lex_advance(p);
		} else {
			ERR(p, t, "unexpected %s at the start of a statement", lex_tok_desc(t));
			lex_advance(p);
			conf_recover_top(p, at.line, at.file);
		}
	}
}

int
conf_rule_index(const struct config *c, const char *name)
{
	for (int i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i]->name, name) == 0)
			return i;
	return -1;
}

const struct rule *
conf_rule_named(const struct config *c, const char *name)
{
	int k = conf_rule_index(c, name);

	return k >= 0 ? c->rules[k] : NULL;
}

struct config *
conf_empty(void)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->max_keys = DEFAULT_MAX_KEYS;
	c->widest_ban_v4 = DEFAULT_WIDEST_BAN_V4;
	c->widest_ban_v6 = DEFAULT_WIDEST_BAN_V6;
	return c;
}

struct config *
conf_load(const char *path, conf_diag_fn diagfn, void *arg)
{
	struct P p = { .diag = diagfn, .arg = arg };

	p.c = xcalloc(1, sizeof(*p.c));
	p.c->max_keys = DEFAULT_MAX_KEYS;
	p.c->widest_ban_v4 = DEFAULT_WIDEST_BAN_V4;
	p.c->widest_ban_v6 = DEFAULT_WIDEST_BAN_V6;
	if (lex_push_file(&p, path, NULL))
		parse_statements(&p);
	lex_advance(&p);
	conf_check_file(&p);
	/* Zones are asked per event when a rule reads what they give: their listings, or the scores. */
	p.c->uses_zones = p.c->nzones > 0 && (p.rule_zones || p.rule_scores);
	while (p.src != NULL)
		lex_pop_file(&p);
	while (p.macros != NULL) {
		struct macro *m = p.macros;

		p.macros = m->next;
		free(m->name);
		free(m->value.text);
		free(m);
	}
	for (int i = 0; i < p.nfiles; i++)
		free(p.files[i]);
	free(p.files);
	if (p.errors > 0) {
		conf_free(p.c);
		return NULL;
	}
	return p.c;
}

void
conf_free(struct config *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nrules; i++)
		free_rule(c->rules[i]);
	conf_free_parsers(c);
	for (int i = 0; i < c->ntables; i++)
		table_free(c->tables[i]);
	for (int i = 0; i < c->nsources; i++)
		free(c->sources[i]);
	free(c->sources);
	free(c->firewall);
	free(c->firewall_at);
	free(c->log_at);
	free(c->user);
	free(c->user_at);
	free(c->socketmap);
	free(c->socketmap_group);
	free(c->cluster);
	free(c->cluster_at);
	free(c->cluster_password_file);
	free(c->node);
	free(c->mapfile);
	free(c->mapfile_at);
	free(c->report_dir);
	free(c->report_at);
	free(c->rrdcached);
	free(c->metrics_file);
	free(c->decision_log);
	free(c->journal_dir);
	free(c->ports_at);
	for (int i = 0; i < c->njournal_units; i++)
		free(c->journal_units[i]);
	free(c->journal_units);
	for (int i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i]->path);
		free(c->feeds[i]->at);
		free(c->feeds[i]);
	}
	free(c->feeds);
	for (int i = 0; i < c->nzones; i++) {
		free(c->zones[i]->at);
		free(c->zones[i]);
	}
	free(c->zones);
	for (int i = 0; i < c->natc; i++) {
		cond_free(c->atc[i].where);
		free(c->atc[i].at);
	}
	free(c->atc);
	free(c->rules);
	free(c->tables);
	free(c->trusted);
	free(c);
}
