/* custom.c - parser blocks of the configuration; see custom.h. */
#include "custom.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../common/hash.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "corr.h"
#include "pattern.h"

struct custom {
	struct custom_def def;		/* a copy of the configuration's: a reload frees that */
	size_t *proglen;
	struct pattern_def *defs;	/* lead into leads[], needle and regex into def's strings */
	char (*leads)[CUSTOM_LEAD_MAX + 1];
	struct pattern_set *ps;
	struct corr_table *sessions;	/* NULL: no pattern names a session */
	struct hash_key key;		/* for session IDs longer than the table's keys */
};

/* -------------------------------------------------------- the lead --- */

/* 1 if the regex has a '|' outside every group and class: then no literal starts every match. */
static int
top_alternation(const char *re)
{
	int depth = 0;

	for (const char *p = re; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == 'Q') {	/* \Q...\E: literal */
				const char *e = strstr(p + 2, "\\E");

				if (e == NULL)
					return 0;
				p = e + 1;
			} else if (p[1] != '\0')
				p++;
		} else if (*p == '[') {	/* a class: ']' first is literal, escapes inside */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			if (*p == '\0')
				return 0;
		} else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == '|' && depth == 0)
			return 1;
	}
	return 0;
}

void
custom_lead(const char *re, char out[CUSTOM_LEAD_MAX + 1])
{
	size_t n = 0;
	const char *p = re;

	out[0] = '\0';
	if (top_alternation(re))
		return;
	if (*p == '^')
		p++;
	while (*p != '\0' && n < CUSTOM_LEAD_MAX) {
		char c;
		const char *next;

		if (*p == '\\') {
			/* \ before a letter or digit is a class, an assertion or a reference: the literal ends */
			if (p[1] == '\0' || isalnum((unsigned char)p[1]))
				break;
			c = p[1];
			next = p + 2;
		} else if (strchr(".[]()|?*+{}^$", *p) != NULL)
			break;
		else {
			c = *p;
			next = p + 1;
		}
		/* A quantifier after it: optional or repeated ('?', '*', '{0,...}'): not part of every match. */
		if (*next == '?' || *next == '*' || *next == '{')
			break;
		out[n++] = c;
		if (*next == '+')	/* at least once: it is there, what follows is not known */
			break;
		p = next;
	}
	out[n] = '\0';
}

/* ------------------------------------------------------- checking --- */

/* 1 if the regex (source) names a group called name. */
static int
names_group(const char *re, const char *name)
{
	char a[48], b[48], c[48];

	snprintf(a, sizeof(a), "(?<%s>", name);
	snprintf(b, sizeof(b), "(?P<%s>", name);
	snprintf(c, sizeof(c), "(?'%s'", name);
	return strstr(re, a) != NULL || strstr(re, b) != NULL || strstr(re, c) != NULL;
}

/* d's patterns as a pattern table's entries (their leads written into leads[]). */
static void
fill_defs(const struct custom_def *d, char (*leads)[CUSTOM_LEAD_MAX + 1], struct pattern_def *defs)
{
	for (int i = 0; i < d->npat; i++) {
		custom_lead(d->pat[i].regex, leads[i]);
		defs[i] = (struct pattern_def){ .lead = leads[i], .needle = d->pat[i].contains,
			.regex = d->pat[i].regex, .type = d->pat[i].type, .op = i };
	}
}

int
custom_check(const struct custom_def *d, int *pat, size_t *off, char *msg, size_t msglen,
    void (*warn)(void *arg, int pat, const char *msg), void *arg)
{
	char (*leads)[CUSTOM_LEAD_MAX + 1] = xcalloc((size_t)d->npat + 1, sizeof(*leads));
	struct pattern_def *defs = xcalloc((size_t)d->npat + 1, sizeof(*defs));
	struct pattern_set *ps;
	size_t idx = 0;
	int ok = 0;

	*pat = -1;
	*off = 0;
	fill_defs(d, leads, defs);
	if (d->nprograms == 0) {
		snprintf(msg, msglen, "parser \"%s\" claims no program: add 'program \"NAME\"' (the log's program tag)",
		    d->name);
		goto out;
	}
	if (d->npat == 0) {
		snprintf(msg, msglen, "parser \"%s\" has no pattern", d->name);
		goto out;
	}
	if ((ps = pattern_set_try(d->name, defs, (size_t)d->npat, &idx, off, msg, msglen)) == NULL) {
		*pat = (int)idx;
		goto out;
	}
	pattern_set_free(ps);
	for (int i = 0; i < d->npat; i++) {
		const struct custom_pattern *p = &d->pat[i];
		int session = names_group(p->regex, "session"), ip = names_group(p->regex, "ip");

		*pat = i;
		if (names_group(p->regex, "aux")) {
			*off = (size_t)(strstr(p->regex, "aux") - p->regex);
			snprintf(msg, msglen, "group <aux> is not an event field (the client is <ip>, a join key <session>)");
			goto out;
		}
		/* The body is what follows "TAG[PID]: ": a pattern that starts with the tag never matches. */
		for (int k = 0; k < d->nprograms; k++) {
			size_t n = strlen(d->programs[k]);

			if (strncmp(leads[i], d->programs[k], n) == 0 && (leads[i][n] == ':' || leads[i][n] == '[')) {
				snprintf(msg, msglen, "this pattern can never match: a line's body starts after its "
				    "program tag, and this one starts with the tag \"%.*s\"", (int)n + 1, leads[i]);
				goto out;
			}
		}
		if (p->once && !session) {
			snprintf(msg, msglen, "'once' needs a session: the pattern has no (?<session>...) group");
			goto out;
		}
		if (p->type != EV_NONE && !ip && !session && warn != NULL)
			warn(arg, i, "this pattern's events name no client (no (?<ip>...) or (?<session>...) group): "
			    "rules by client never count them");
	}
	*pat = -1;
	ok = 1;
out:
	free(defs);
	free(leads);
	return ok;
}

/* ------------------------------------------------------ compiled --- */

struct custom *
custom_new(const struct custom_def *d, const struct parser_opts *o)
{
	struct custom *c = xcalloc(1, sizeof(*c));
	struct custom_def *own = &c->def;
	int session = 0;

	own->name = xstrdup(d->name);
	own->nprograms = d->nprograms;
	own->programs = xcalloc((size_t)d->nprograms + 1, sizeof(*own->programs));
	c->proglen = xcalloc((size_t)d->nprograms + 1, sizeof(*c->proglen));
	for (int i = 0; i < d->nprograms; i++) {
		own->programs[i] = xstrdup(d->programs[i]);
		c->proglen[i] = strlen(d->programs[i]);
	}
	own->npat = d->npat;
	own->pat = xcalloc((size_t)d->npat + 1, sizeof(*own->pat));
	for (int i = 0; i < d->npat; i++) {
		own->pat[i] = (struct custom_pattern){ .regex = xstrdup(d->pat[i].regex), .type = d->pat[i].type,
			.once = d->pat[i].once, .contains = d->pat[i].contains ? xstrdup(d->pat[i].contains) : NULL };
		session |= names_group(own->pat[i].regex, "session");
	}
	c->leads = xcalloc((size_t)d->npat + 1, sizeof(*c->leads));
	c->defs = xcalloc((size_t)d->npat + 1, sizeof(*c->defs));
	fill_defs(own, c->leads, c->defs);
	/* (checked when the configuration was read: a failure here is a bug, and fatal) */
	c->ps = pattern_set_new(own->name, c->defs, (size_t)own->npat);
	c->key = hash_process_key();
	if (session)
		c->sessions = corr_new(o->corr_capacity ? o->corr_capacity : 32768, o->corr_ttl ? o->corr_ttl : 24 * 3600);
	return c;
}

void
custom_free(struct custom *c)
{
	if (c == NULL)
		return;
	pattern_set_free(c->ps);
	corr_free(c->sessions);
	for (int i = 0; i < c->def.nprograms; i++)
		free(c->def.programs[i]);
	for (int i = 0; i < c->def.npat; i++) {
		free(c->def.pat[i].regex);
		free(c->def.pat[i].contains);
	}
	free(c->def.programs);
	free(c->def.pat);
	free(c->def.name);
	free(c->proglen);
	free(c->defs);
	free(c->leads);
	free(c);
}

void
custom_take_sessions(struct custom *to, struct custom *from)
{
	struct corr_table *t;

	if (to->sessions == NULL || from->sessions == NULL)
		return;
	t = to->sessions;
	to->sessions = from->sessions;
	from->sessions = t;
	to->key = from->key;	/* (the table's long IDs are hashed under it) */
}

struct hash_key
custom_fold_key(const struct custom *c)
{
	return c->key;
}

void
custom_set_fold_key(struct custom *c, struct hash_key k)
{
	c->key = k;
}

const char *
custom_name(const struct custom *c)
{
	return c->def.name;
}

struct corr_table *
custom_corr(struct custom *c)
{
	return c->sessions;
}

int
custom_claims(const struct custom *c, struct span tag)
{
	for (int i = 0; i < c->def.nprograms; i++) {
		size_t n = c->proglen[i];

		/* Dovecot's own log writes "auth-worker(1234):", its pid in parentheses */
		if (tag.n >= n && memcmp(tag.p, c->def.programs[i], n) == 0 && (tag.n == n || tag.p[n] == '('))
			return 1;
	}
	return 0;
}

int
custom_parse(struct custom *c, const struct syslog_hdr *h, struct event *ev, uint64_t *limit_hits)
{
	int i = pattern_set_match(c->ps, h->body, ev, limit_hits);
	enum ev_type type;

	if (i < 0)
		return -1;
	type = c->defs[i].type;
	ev->type = type;
	if (c->sessions != NULL && ev->aux.n > 0) {
		struct span id = ev->aux;
		char folded[17];

		/*
		 * A longer ID (Dovecot's for an IPv6 client: 32 bytes) is kept as
		 * its keyed hash: a public fold could be aimed at another
		 * session's. (The key is saved with the table: custom_fold_key.)
		 */
		if (id.n > CORR_KEYMAX) {
			snprintf(folded, sizeof(folded), "%016llx",
			    (unsigned long long)hash_bytes(&c->key, id.p, id.n));
			id = (struct span){ folded, 16 };
		}
		struct corr_entry *e = corr_get(c->sessions, id, ev->ts);

		if (ev->ip.family != 0) {
			/* (IDs are reused: another client under the same ID starts a new session) */
			if (e == NULL || !addr_equal(&e->ip, &ev->ip)) {
				if ((e = corr_put(c->sessions, id, ev->ts)) != NULL)
					e->ip = ev->ip;
			}
		} else if (e != NULL)
			ev->ip = e->ip;
		else if (type != EV_NONE)
			ev->doubtful |= EV_DOUBT_IP;	/* its session's client is not known */
		if (type != EV_NONE && e != NULL) {
			if (c->def.pat[i].once && (e->flags & CORR_EMITTED))
				return 0;	/* an earlier line of the session counted already */
			e->flags |= CORR_EMITTED;
		}
	}
	return type != EV_NONE;
}
