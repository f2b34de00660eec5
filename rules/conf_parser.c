/*
 * conf_parser.c - the parser block of the configuration language:
 *
 *   parser "NAME" {
 *       program "TAG", ...
 *       pattern TYPE|ignore 'REGEX' [contains "TEXT"] [once]
 *       ...
 *   }
 *
 * (docs/RULES.md, "Parser blocks"). Each regex is compiled here once, so
 * that `mxguard check` reports a bad one, a group that is no event field,
 * or a pattern that can never match at the FILE:LINE:COL of the fault;
 * the parser compiles the definitions again (parsers/custom.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../parsers/parser.h"
#include "conf_check.h"
#include "conf_lex.h"

#define MAX_PARSERS 64
#define MAX_PATTERNS 1024
#define MAX_PROGRAMS 32
#define MAX_PROGRAM_LEN 64

/* Where a pattern's regex is, and the column of byte off in it (exact for a '...' string). */
static void
regex_at(const struct custom_pattern *pt, size_t off, struct token *t)
{
	t->t = T_STRING;
	t->text = NULL;
	t->file = pt->file;
	t->line = pt->line;
	t->col = pt->raw ? pt->col + 1 + (int)off : pt->col;
}

struct warn_ctx {
	struct P *p;
	const struct custom_def *d;
};

static void
warn_pattern(void *arg, int i, const char *msg)
{
	struct warn_ctx *w = arg;
	struct token t;

	regex_at(&w->d->pat[i], 0, &t);	/* (w->d: the block, or one pattern of it) */
	WARN(w->p, &t, "parser \"%s\": %s", w->d->name, msg);
}

/* A program tag as syslog writes it before "[PID]: ": no blank, ':' or '['. */
static int
program_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_PROGRAM_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == ':' || s[i] == '[' || s[i] == '(' || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
parse_program(struct P *p, struct custom_def *d)
{
	for (;;) {
		struct token *t = lex_cur(p);

		if (t->t != T_STRING || !program_ok(t->text)) {
			ERR(p, t, "parser \"%s\": program: expected a program tag in quotes (\"dovecot\", "
			    "\"postfix/smtpd\": 1 to %d bytes, no blank, ':', '[' or '('), found %s", d->name,
			    MAX_PROGRAM_LEN, lex_tok_desc(t));
			return 0;
		}
		if (d->nprograms == MAX_PROGRAMS) {
			ERR(p, t, "parser \"%s\": more than %d programs", d->name, MAX_PROGRAMS);
			return 0;
		}
		d->programs = xrealloc(d->programs, (size_t)(d->nprograms + 1) * sizeof(*d->programs));
		d->programs[d->nprograms++] = xstrdup(t->text);
		lex_advance(p);
		if (lex_cur(p)->t != T_COMMA)
			return 1;
		lex_advance(p);
	}
}

static int
parse_pattern(struct P *p, struct custom_def *d)
{
	struct token *t = lex_cur(p);
	struct custom_pattern pt = { 0 };
	enum ev_type type = EV_NONE;

	if (t->t != T_WORD || (strcmp(t->text, "ignore") != 0 &&
	    (type = ev_type_by_name(t->text, strlen(t->text))) == EV_NONE)) {
		char known[512];
		size_t n = 0;

		for (int i = 1; i < EV__COUNT && n < sizeof(known); i++)
			n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i > 1 ? ", " : "",
			    ev_type_name((enum ev_type)i));
		ERR(p, t, "parser \"%s\": pattern: unknown event type %s (known: %s; or ignore: a line understood "
		    "that yields no event; docs/EVENTS.md)", d->name, lex_tok_desc(t), known);
		return 0;
	}
	lex_advance(p);
	t = lex_cur(p);
	if (t->t != T_STRING || t->text[0] == '\0') {
		ERR(p, t, "parser \"%s\": pattern: expected a regex in quotes ('...' takes it as written), found %s",
		    d->name, lex_tok_desc(t));
		return 0;
	}
	if (d->npat == MAX_PATTERNS) {
		ERR(p, t, "parser \"%s\": more than %d patterns", d->name, MAX_PATTERNS);
		return 0;
	}
	pt.type = type;
	pt.regex = xstrdup(t->text);
	pt.file = t->file;
	pt.line = t->line;
	pt.col = t->col;
	pt.raw = t->raw;
	lex_advance(p);
	for (;;) {
		if (lex_accept_word(p, "once")) {
			pt.once = 1;
		} else if (lex_accept_word(p, "contains")) {
			t = lex_cur(p);
			if (t->t != T_STRING || t->text[0] == '\0' || pt.contains != NULL) {
				ERR(p, t, "parser \"%s\": contains: expected one literal text in quotes, found %s", d->name,
				    lex_tok_desc(t));
				free(pt.regex);
				free(pt.contains);
				return 0;
			}
			pt.contains = xstrdup(t->text);
			lex_advance(p);
		} else
			break;
	}
	d->pat = xrealloc(d->pat, (size_t)(d->npat + 1) * sizeof(*d->pat));
	d->pat[d->npat++] = pt;
	return 1;
}

/*
 * The block read: everything the parser would refuse is said here, at the
 * fault - each pattern's on its own, so that every broken one is reported;
 * the block's own faults (no program, no pattern) only when its lines
 * were read without error (a broken program line is no missing one).
 */
static void
check_block(struct P *p, const struct token *at, const struct custom_def *d, int clean)
{
	struct warn_ctx w = { p, d };
	char msg[400];
	size_t off;
	int i;

	if (clean && (d->nprograms == 0 || d->npat == 0)) {
		(void)custom_check(d, &i, &off, msg, sizeof(msg), NULL, NULL);
		ERR(p, at, "%s", msg);
		return;
	}
	static char *placeholder[] = { "-" };	/* (a block without programs: that is another error) */

	for (int k = 0; k < d->npat; k++) {
		struct custom_def one = *d;
		struct token t;

		one.pat = &d->pat[k];
		one.npat = 1;
		if (one.nprograms == 0) {
			one.nprograms = 1;
			one.programs = placeholder;
		}
		w.d = &one;
		if (custom_check(&one, &i, &off, msg, sizeof(msg), warn_pattern, &w))
			continue;
		regex_at(&d->pat[k], off, &t);
		ERR(p, &t, "parser \"%s\": pattern: %s%s", d->name, msg, d->pat[k].raw || off == 0 ? "" :
		    " (at that byte of the regex; a '...' string would give its column)");
	}
}

void
conf_parse_parser(struct P *p)
{
	struct token at = *lex_cur(p), *t;
	struct custom_def *d;
	int errors = p->errors;

	at.text = NULL;
	lex_advance(p);			/* "parser" */
	t = lex_cur(p);
	if ((t->t != T_STRING && t->t != T_WORD) || !conf_name_ok(p, t, "parser", t->text)) {
		if (t->t != T_STRING && t->t != T_WORD)
			ERR(p, t, "expected a parser name after 'parser'");
		conf_recover_top(p, at.line, at.file);
		return;
	}
	/* (the name is the events' "mta": it must say which set understood the line) */
	if (parser_mta_by_name(t->text) >= 0) {
		ERR(p, t, "\"%s\" is the name of a built-in module: name the parser after what it reads", t->text);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	for (int i = 0; i < p->c->nparsers; i++)
		if (strcmp(p->c->parsers[i].name, t->text) == 0) {
			ERR(p, t, "parser \"%s\" is already defined", t->text);
			conf_recover_top(p, at.line, at.file);
			return;
		}
	if (p->c->nparsers == MAX_PARSERS) {
		ERR(p, t, "more than %d parser blocks", MAX_PARSERS);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	p->c->parsers = xrealloc(p->c->parsers, (size_t)(p->c->nparsers + 1) * sizeof(*p->c->parsers));
	d = &p->c->parsers[p->c->nparsers++];
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(t->text);
	lex_advance(p);
	if (lex_cur(p)->t != T_LBRACE) {
		ERR(p, lex_cur(p), "expected '{' after parser \"%s\"", d->name);
		conf_recover_top(p, at.line, at.file);
		return;
	}
	lex_advance(p);
	while (lex_cur(p)->t != T_RBRACE && lex_cur(p)->t != T_EOF) {
		struct token item = *lex_cur(p);
		int ok;

		item.text = NULL;
		if (lex_accept_word(p, "program"))
			ok = parse_program(p, d);
		else if (lex_accept_word(p, "pattern"))
			ok = parse_pattern(p, d);
		else {
			ERR(p, lex_cur(p), "parser \"%s\": expected program or pattern, found %s", d->name,
			    lex_tok_desc(lex_cur(p)));
			ok = 0;
		}
		if (!ok)
			conf_recover(p, item.line, item.file);
	}
	if (lex_cur(p)->t != T_RBRACE) {
		ERR(p, lex_cur(p), "parser \"%s\": expected '}'", d->name);
		return;
	}
	lex_advance(p);
	check_block(p, &at, d, p->errors == errors);
	for (int k = 0; k < d->npat; k++)
		d->pat[k].file = NULL;	/* (the lexer's: it is freed with it; only messages used it) */
}

void
conf_free_parsers(struct config *c)
{
	for (int i = 0; i < c->nparsers; i++) {
		struct custom_def *d = &c->parsers[i];

		for (int k = 0; k < d->nprograms; k++)
			free(d->programs[k]);
		for (int k = 0; k < d->npat; k++) {
			free(d->pat[k].regex);
			free(d->pat[k].contains);
		}
		free(d->programs);
		free(d->pat);
		free(d->name);
	}
	free(c->parsers);
}
