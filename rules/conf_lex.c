/*
 * conf_lex.c - the configuration language's lexer (see conf_lex.h).
 */
#include "conf_lex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/readfile.h"
#include "../common/xalloc.h"

void
conf_diag(struct P *p, int warning, const char *file, int line, int col, const char *fmt, ...)
{
	char msg[512], full[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s:%d:%d: %s%s", file, line, col, warning ? "warning: " : "", msg);
	if (!warning && p->errors >= MAX_ERRORS)
		return;
	if (!warning) {
		p->errors++;
		p->err_file = file;
		p->err_line = line;
	}
	p->diag(p->arg, warning, full);
	if (!warning && p->errors == MAX_ERRORS) {
		snprintf(full, sizeof(full), "%s:%d:%d: too many errors (%d); the rest of the configuration is not read",
		    file, line, col, MAX_ERRORS);
		p->diag(p->arg, 0, full);
	}
}


int
lex_push_file(struct P *p, const char *path, const struct token *at)
{
	struct src *s;
	struct stat sb;
	char why[PATH_MAX + 128], *buf;
	size_t len;
	int fd;

	if (p->depth >= MAX_INCLUDE_DEPTH) {
		ERR(p, at, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
		return 0;
	}
	fd = rf_open_regular(path, &sb, why, sizeof(why));
	buf = NULL;
	if (fd >= 0 && (buf = rf_read_all(fd, (size_t)sb.st_size, &len)) == NULL)
		snprintf(why, sizeof(why), "cannot read %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (buf == NULL) {
		if (at != NULL)
			ERR(p, at, "%s", why);
		else {
			p->errors++;
			p->diag(p->arg, 0, why);
		}
		return 0;
	}
	for (s = p->src; s != NULL; s = s->up)
		if (s->dev == sb.st_dev && s->ino == sb.st_ino) {
			ERR(p, at, "include loop: %s is already being read", path);
			free(buf);
			return 0;
		}
	s = xcalloc(1, sizeof(*s));
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->path = xstrdup(path);
	s->buf = buf;
	s->len = len;
	s->line = s->col = 1;
	s->up = p->src;
	p->src = s;
	p->depth++;
	p->files = xrealloc(p->files, (size_t)(p->nfiles + 1) * sizeof(*p->files));
	p->files[p->nfiles++] = xstrdup(path);
	return 1;
}

void
lex_pop_file(struct P *p)
{
	struct src *s = p->src;

	p->src = s->up;
	p->depth--;
	for (int i = 0; i < s->nmore; i++)
		free(s->more[i]);
	free(s->more);
	free(s->buf);
	free(s->path);
	free(s);
}

void
lex_push_files(struct P *p, char **paths, int n, const struct token *at)
{
	int i = 0;

	/* The first that can be read is pushed and carries the rest; one that cannot is said and skipped. */
	while (i < n && !lex_push_file(p, paths[i], at))
		free(paths[i++]);
	if (i == n) {
		free(paths);
		return;
	}
	free(paths[i++]);
	p->src->more_at = *at;
	p->src->more_at.text = NULL;
	p->src->nmore = n - i;
	p->src->more = p->src->nmore > 0 ? xmalloc((size_t)p->src->nmore * sizeof(char *)) : NULL;
	for (int k = 0; k < p->src->nmore; k++)
		p->src->more[k] = paths[i + k];
	free(paths);
}

const char *
lex_file_name(struct P *p)
{
	/* The owned copy, which outlives the source buffer. */
	for (int i = p->nfiles - 1; i >= 0; i--)
		if (strcmp(p->files[i], p->src->path) == 0)
			return p->files[i];
	return "?";
}

static int
word_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || ch == '.' || ch == ':' || ch == '-' || ch == '@' || ch == '*';
}

static int
getch(struct src *s)
{
	int ch;

	if (s->pos >= s->len)
		return EOF;
	ch = (unsigned char)s->buf[s->pos++];
	if (ch == '\n') {
		s->line++;
		s->col = 1;
	} else
		s->col++;
	return ch;
}

static int
peekch(const struct src *s, size_t ahead)
{
	return s->pos + ahead < s->len ? (unsigned char)s->buf[s->pos + ahead] : EOF;
}

/*
 * A string after its opening quote q: "..." with \" \\ \n \t escapes, or
 * '...' raw (for regexes: no escapes, so that '\d' is what PCRE2 reads).
 * Either ends at its quote on the same line.
 */
static void
read_string(struct P *p, struct src *s, struct token *t, int q)
{
	size_t cap = 32, n = 0;
	char *b = xmalloc(cap);
	int ch;

	for (;;) {
		ch = getch(s);
		if (ch == EOF || ch == '\n') {
			if (q == '"')
				ERR(p, t, "unterminated string");
			else
				ERR(p, t, "unterminated string (a '...' string ends at a ' on the same line; "
				    "write \\x27 for a ' in a regex)");
			break;
		}
		if (ch == q)
			break;
		if (ch == '\\' && q == '"') {
			ch = getch(s);
			if (ch == 'n')
				ch = '\n';
			else if (ch == 't')
				ch = '\t';
			else if (ch == EOF)
				break;
		}
		if (n + 2 > cap)
			b = xrealloc(b, cap *= 2);
		b[n++] = (char)ch;
	}
	b[n] = '\0';
	t->t = T_STRING;
	t->raw = q == '\'';
	t->text = b;
}

static void lex(struct P *p, struct token *t);

static void
lex_raw(struct P *p, struct token *t)
{
	struct src *s;
	int ch;

again:
	s = p->src;
	t->text = NULL;
	t->raw = 0;
	if (s == NULL) {
		t->t = T_EOF;
		return;
	}
	for (;;) {
		ch = peekch(s, 0);
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ';')
			getch(s);
		else if (ch == '#')
			while ((ch = peekch(s, 0)) != EOF && ch != '\n')
				getch(s);
		else
			break;
	}
	t->file = lex_file_name(p);
	t->line = s->line;
	t->col = s->col;
	if (ch == EOF) {
		if (s->up == NULL) {
			t->t = T_EOF;
			return;
		}
		if (s->nmore > 0) {
			/* the next file of the same include */
			char **more = s->more;
			int nmore = s->nmore;
			struct token at = s->more_at;

			s->more = NULL;
			s->nmore = 0;
			lex_pop_file(p);
			lex_push_files(p, more, nmore, &at);
		} else
			lex_pop_file(p);
		goto again;
	}
	getch(s);
	switch (ch) {
	case '{': t->t = T_LBRACE; return;
	case '}': t->t = T_RBRACE; return;
	case '(': t->t = T_LPAREN; return;
	case ')': t->t = T_RPAREN; return;
	case ',': t->t = T_COMMA; return;
	case '/': t->t = T_SLASH; return;
	case '~': t->t = T_TILDE; return;
	case '=':
		if (peekch(s, 0) == '=')
			getch(s), t->t = T_EQ;
		else
			t->t = T_ASSIGN;
		return;
	case '!':
		if (peekch(s, 0) == '=')
			getch(s), t->t = T_NE;
		else
			t->t = T_BANG;
		return;
	case '>':
		if (peekch(s, 0) == '=')
			getch(s), t->t = T_GE;
		else
			t->t = T_GT;
		return;
	case '<': {
		/* "<name>" is a table; otherwise a comparison. */
		size_t k = 0;

		while (word_char(peekch(s, k)) && peekch(s, k) != ':')
			k++;
		if (k > 0 && peekch(s, k) == '>') {
			t->t = T_TABLE;
			t->text = xmalloc(k + 1);
			for (size_t i = 0; i < k; i++)
				t->text[i] = (char)getch(s);
			t->text[k] = '\0';
			getch(s);
			return;
		}
		if (peekch(s, 0) == '=')
			getch(s), t->t = T_LE;
		else
			t->t = T_LT;
		return;
	}
	case '"':
	case '\'':
		read_string(p, s, t, ch);
		return;
	case '$': {
		size_t k = 0;
		char name[128];
		struct macro *m;

		while (word_char(peekch(s, 0)) && k + 1 < sizeof(name))
			name[k++] = (char)getch(s);
		name[k] = '\0';
		for (m = p->macros; m != NULL; m = m->next)
			if (strcmp(m->name, name) == 0)
				break;
		if (m == NULL) {
			ERR(p, t, "undefined macro $%s", name);
			t->t = T_BAD;
			return;
		}
		t->t = m->value.t;
		t->text = m->value.text ? xstrdup(m->value.text) : NULL;
		return;
	}
	default:
		if (word_char(ch)) {
			size_t cap = 32, n = 0;
			char *b = xmalloc(cap);

			b[n++] = (char)ch;
			while (word_char(peekch(s, 0))) {
				if (n + 2 > cap)
					b = xrealloc(b, cap *= 2);
				b[n++] = (char)getch(s);
			}
			b[n] = '\0';
			t->t = T_WORD;
			t->text = b;
			return;
		}
		ERR(p, t, "unexpected character '%c'", ch >= 0x20 && ch < 0x7f ? ch : '?');
		t->t = T_BAD;
	}
}

static void
lex(struct P *p, struct token *t)
{
	/* A file that is all errors (a generated one) is not reported line by line for ever. */
	if (p->errors >= MAX_ERRORS) {
		t->t = T_EOF;
		t->text = NULL;
		t->file = p->err_file;
		t->line = p->err_line;
		t->col = 1;
		return;
	}
	lex_raw(p, t);
}

/* The current token (read on demand). */
struct token *
lex_cur(struct P *p)
{
	if (!p->have) {
		lex(p, &p->tok);
		p->have = 1;
	}
	return &p->tok;
}

void
lex_advance(struct P *p)
{
	lex_cur(p);
	free(p->tok.text);
	p->tok.text = NULL;
	p->have = 0;
}

int
lex_is_word(struct P *p, const char *w)
{
	struct token *t = lex_cur(p);

	return t->t == T_WORD && strcmp(t->text, w) == 0;
}

int
lex_accept_word(struct P *p, const char *w)
{
	if (!lex_is_word(p, w))
		return 0;
	lex_advance(p);
	return 1;
}

const char *
lex_tok_desc(const struct token *t)
{
	static const char *const names[] = {
		[T_EOF] = "end of file", [T_LBRACE] = "'{'", [T_RBRACE] = "'}'", [T_LPAREN] = "'('",
		[T_RPAREN] = "')'", [T_COMMA] = "','", [T_SLASH] = "'/'", [T_BANG] = "'!'",
		[T_ASSIGN] = "'='", [T_EQ] = "'=='", [T_NE] = "'!='", [T_LT] = "'<'", [T_LE] = "'<='",
		[T_GT] = "'>'", [T_GE] = "'>='", [T_TILDE] = "'~'", [T_BAD] = "bad input",
	};

	if (t->t == T_WORD || t->t == T_STRING || t->t == T_TABLE)
		return t->text;
	return names[t->t];
}
