/*
 * conf_lex.h - the configuration language's lexer (rules/conf_lex.c), and
 * the reader's state it shares with the parser (rules/conf.c) and the
 * checks (rules/conf_check.c). Private to those three files; the
 * interface of the configuration is rules/conf.h.
 *
 * The lexer reads tokens on demand from a stack of files (include), expands
 * macros ($name), and reports every diagnostic as FILE:LINE:COL: MESSAGE.
 */
#ifndef MXG_CONF_LEX_H
#define MXG_CONF_LEX_H

#include <sys/types.h>

#include "conf.h"

#define MAX_INCLUDE_DEPTH 16
#define MAX_ERRORS 100

enum tok {
	T_EOF, T_WORD, T_STRING, T_TABLE, T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA,
	T_SLASH, T_BANG, T_ASSIGN, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_TILDE, T_BAD,
};

struct token {
	enum tok t;
	char *text;		/* WORD, STRING, TABLE (name without <>) */
	const char *file;
	int line, col;
	int raw;		/* a STRING in single quotes: its text is the bytes between them, no escapes */
};

struct src {
	char *path;
	dev_t dev;		/* identity of the file, to catch include loops */
	ino_t ino;
	char *buf;
	size_t len, pos;
	int line, col;
	struct src *up;
	/* An include's glob: the files it matched still to read after this one, at this level. */
	char **more;
	int nmore;
	struct token more_at;	/* the include (text NULL), for their errors */
};

/* Fields named in a rule's conditions, for the "never carried" warnings. */
struct fieldref {
	int field;
	const char *file;
	int line, col;
};

struct rule_ctx {
	struct fieldref refs[64];
	int nrefs;
};

struct macro {
	char *name;
	struct token value;
	struct macro *next;
};

struct P {
	struct src *src;
	int depth;
	char **files;		/* every file name read, owned (tokens point here) */
	int nfiles;
	struct token tok;	/* current token */
	int have;		/* tok is valid */
	struct macro *macros;
	struct config *c;
	conf_diag_fn diag;
	void *arg;
	int errors;
	const char *err_file;	/* position of the last error, for recovery */
	int err_line;
	struct rule_ctx *rc;	/* the rule being parsed */
	int nest;		/* parentheses and 'not' open in the condition being parsed */
	int in_atc;		/* parsing an at-connect condition (answered from memory, never waits for DNS) */
	int rule_scores;	/* a rule's condition reads rep.risk, rep.spam or rep.vol (which zones feed) */
	int rule_zones;		/* a rule's condition names a zone ('listed "ZONE"') */
	struct token rep_ref;	/* the first rep.* read (text NULL), for the warning if nothing gives scores */
	int nstmt;		/* statements read (an empty file is said) */
	char bare_num[24];	/* the last duration read, when it was a bare number ("10"), ... */
	struct token bare_at;	/* ... and where (text NULL): "within 10 minutes" is then said precisely */
	int have_rep_ref, rep_ref_field;
};

/* A diagnostic at FILE:LINE:COL (an error unless warning); after MAX_ERRORS errors, the rest are dropped. */
void conf_diag(struct P *p, int warning, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define ERR(p, tk, ...) conf_diag((p), 0, (tk)->file, (tk)->line, (tk)->col, __VA_ARGS__)
#define WARN(p, tk, ...) conf_diag((p), 1, (tk)->file, (tk)->line, (tk)->col, __VA_ARGS__)

/* Read the file at path on top of the current one (an include at token at); 0 after an error. */
int lex_push_file(struct P *p, const char *path, const struct token *at);
/*
 * An include of several files (a glob's matches, in order): read one after
 * the other, each on top of the current file as lex_push_file does. Takes
 * the array of paths (freed here).
 */
void lex_push_files(struct P *p, char **paths, int n, const struct token *at);
void lex_pop_file(struct P *p);
/* The name of the file being read, as kept for the tokens' positions. */
const char *lex_file_name(struct P *p);
/* The current token (read on demand), and moving past it. */
struct token *lex_cur(struct P *p);
void lex_advance(struct P *p);
/* Whether the current token is the word w; accept: and move past it if so. */
int lex_is_word(struct P *p, const char *w);
int lex_accept_word(struct P *p, const char *w);
/* A token as a diagnostic names it. */
const char *lex_tok_desc(const struct token *t);

/* Error recovery (conf.c): skip the rest of a broken line inside a block, or of a top-level statement. */
void conf_recover(struct P *p, int line, const char *file);
void conf_recover_top(struct P *p, int line, const char *file);

/* parser "NAME" { ... } (conf_parser.c), the current token being "parser". */
void conf_parse_parser(struct P *p);
/* The parser blocks' part of conf_free(). */
void conf_free_parsers(struct config *c);

#endif
