/*
 * pattern.c - compile and run pattern tables (see pattern.h).
 *
 * Group-to-field mapping is resolved at compile time into a small array
 * per entry, so a match costs the regex plus one pass over its groups.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "../common/log.h"
#include "../common/xalloc.h"

/*
 * Backtracking steps per line and pattern: a base plus a few per byte, so
 * a pattern that is linear in the line never hits the limit on a long
 * line (a client can make lines long), while one that backtracks
 * quadratically on hostile text is stopped after linear work.
 */
#define MATCH_LIMIT 20000
#define MATCH_PER_BYTE 16
#define MAX_CAPS 24

enum cap_kind { CAP_FIELD, CAP_IP, CAP_AUX };

struct cap {
	uint16_t group;
	uint8_t kind;		/* enum cap_kind */
	uint8_t field;		/* enum ev_field for CAP_FIELD */
};

struct regex {
	pcre2_code *code;	/* NULL: none */
	int jit;
	int ncaps;
	struct cap caps[MAX_CAPS];
};

struct compiled {
	const struct pattern_def *def;
	size_t leadlen, needlelen;
	size_t rare;		/* the needle's byte that is rarest in log text: searched for first */
	struct regex re;	/* code NULL for known-no-event entries */
	struct regex fb;	/* the fallback, if any */
};

struct pattern_set {
	char *name;
	size_t n;
	struct compiled *c;
	/*
	 * The entries that can match a body by its first byte, in table order:
	 * by_first[byte_start[b] .. byte_start[b + 1]) for first byte b (an
	 * entry whose lead is empty is in every list). Most lines then try one
	 * or two leads instead of the whole table.
	 */
	uint32_t byte_start[257];
	uint16_t *by_first;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
};

/* Where compiling stopped, when it did: the entry, the offset in its source, why. */
struct build_err {
	size_t idx, off;
	char msg[256];
};

/* Named groups to fields; 0 and *e filled for a group that is none. */
static int
map_groups(struct regex *c, const char *src, struct build_err *e)
{
	uint32_t count, entsize;
	PCRE2_SPTR table;

	pcre2_pattern_info(c->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(c->code, PCRE2_INFO_NAMEENTRYSIZE, &entsize);
	pcre2_pattern_info(c->code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *ent = table + i * entsize;
		const char *gname = (const char *)ent + 2;
		struct cap cap = { .group = (uint16_t)(ent[0] << 8 | ent[1]) };
		int f;

		/* (aux: a module's private capture; session: a parser block's join key, kept in the same place) */
		if (strcmp(gname, "ip") == 0)
			cap.kind = CAP_IP;
		else if (strcmp(gname, "aux") == 0 || strcmp(gname, "session") == 0)
			cap.kind = CAP_AUX;
		else if ((f = ev_field_by_name(gname, strlen(gname))) >= 0) {
			cap.kind = CAP_FIELD;
			cap.field = (uint8_t)f;
		} else {
			const char *at = strstr(src, gname);

			e->off = at != NULL ? (size_t)(at - src) : 0;
			snprintf(e->msg, sizeof(e->msg), "group <%s> is not an event field", gname);
			return 0;
		}
		if (c->ncaps == MAX_CAPS) {
			e->off = 0;
			snprintf(e->msg, sizeof(e->msg), "more than %d named groups", MAX_CAPS);
			return 0;
		}
		c->caps[c->ncaps++] = cap;
	}
	return 1;
}

static int
compile(struct regex *re, const char *src, struct build_err *e)
{
	int err;
	PCRE2_SIZE off;

	/* Bytes, not UTF: log text may be any bytes and must never fail to match for that. */
	re->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_DOTALL, &err,
	    &off, NULL);
	if (re->code == NULL) {
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(err, msg, sizeof(msg));
		e->off = (size_t)off;
		snprintf(e->msg, sizeof(e->msg), "%s", (const char *)msg);
		return 0;
	}
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	return map_groups(re, src, e);
}

static void
index_first_bytes(struct pattern_set *ps)
{
	size_t total = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned b = 0; b < 256; b++) {
			if (pass == 0)
				ps->byte_start[b] = (uint32_t)total;
			else
				total = ps->byte_start[b];
			for (size_t i = 0; i < ps->n; i++) {
				const struct compiled *c = &ps->c[i];

				if (c->leadlen > 0 && (unsigned char)c->def->lead[0] != b)
					continue;
				if (pass == 1)
					ps->by_first[total] = (uint16_t)i;
				total++;
			}
		}
		if (pass == 0) {
			ps->byte_start[256] = (uint32_t)total;
			ps->by_first = xcalloc(total ? total : 1, sizeof(*ps->by_first));
		}
	}
}

/*
 * How common a byte is in mail logs, roughly: blanks and lower-case letters
 * most, then digits, dots and the like; other punctuation and upper case
 * least. A needle is searched for by its rarest byte (memchr, then a
 * compare around each hit): most lines hold that byte once or never, where
 * memmem would set up a search for every line.
 */
static int
commonness(unsigned char c)
{
	if (c == ' ' || (c >= 'a' && c <= 'z'))
		return 3;
	if ((c >= '0' && c <= '9') || c == '.' || c == ',' || c == ':' || c == '-' || c == '_' || c == '/')
		return 2;
	if (c >= 'A' && c <= 'Z')
		return 1;
	return 0;
}

static size_t
rarest(const char *needle, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (commonness((unsigned char)needle[i]) < commonness((unsigned char)needle[best]))
			best = i;
	return best;
}

/* The set, or NULL and *e (entry, offset, message) at the first entry that does not compile. */
static struct pattern_set *
build(const char *name, const struct pattern_def *defs, size_t n, struct build_err *e)
{
	struct pattern_set *ps = xcalloc(1, sizeof(*ps));

	ps->name = xstrdup(name);
	ps->n = n;
	ps->c = xcalloc(n, sizeof(*ps->c));
	for (size_t i = 0; i < n; i++) {
		struct compiled *c = &ps->c[i];

		c->def = &defs[i];
		c->leadlen = strlen(defs[i].lead);
		c->needlelen = defs[i].needle ? strlen(defs[i].needle) : 0;
		c->rare = rarest(defs[i].needle, c->needlelen);
		e->idx = i;
		if ((defs[i].regex != NULL && !compile(&c->re, defs[i].regex, e)) ||
		    (defs[i].fallback != NULL && !compile(&c->fb, defs[i].fallback, e))) {
			pattern_set_free(ps);
			return NULL;
		}
	}
	if (n > UINT16_MAX) {
		snprintf(e->msg, sizeof(e->msg), "more than %u entries", UINT16_MAX);
		e->off = 0;
		pattern_set_free(ps);
		return NULL;
	}
	index_first_bytes(ps);
	ps->md = pcre2_match_data_create(MAX_CAPS * 2, NULL);
	ps->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(ps->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(ps->mctx, MATCH_LIMIT);
	ps->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	pcre2_jit_stack_assign(ps->mctx, NULL, ps->jstack);
	return ps;
}

struct pattern_set *
pattern_set_new(const char *name, const struct pattern_def *defs, size_t n)
{
	struct build_err e = { 0 };
	struct pattern_set *ps = build(name, defs, n, &e);

	if (ps == NULL)
		fatalx(EX_SOFTWARE, "pattern %s[%zu] at offset %zu: %s", name, e.idx, e.off, e.msg);
	return ps;
}

struct pattern_set *
pattern_set_try(const char *name, const struct pattern_def *defs, size_t n, size_t *idx, size_t *off,
    char *msg, size_t msglen)
{
	struct build_err e = { 0 };
	struct pattern_set *ps = build(name, defs, n, &e);

	if (ps == NULL) {
		*idx = e.idx;
		*off = e.off;
		snprintf(msg, msglen, "%s", e.msg);
	}
	return ps;
}

void
pattern_set_free(struct pattern_set *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		pcre2_code_free(ps->c[i].re.code);
		pcre2_code_free(ps->c[i].fb.code);
	}
	pcre2_match_data_free(ps->md);
	pcre2_match_context_free(ps->mctx);
	pcre2_jit_stack_free(ps->jstack);
	free(ps->c);
	free(ps->by_first);
	free(ps->name);
	free(ps);
}

static int
parse_num(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 1;
}

static void
fill(const struct regex *c, const PCRE2_SIZE *ov, uint32_t rc, struct span body,
    struct event *ev)
{
	for (int i = 0; i < c->ncaps; i++) {
		const struct cap *cap = &c->caps[i];
		struct span s;
		int64_t v;

		if (cap->group >= rc || ov[2 * cap->group] == PCRE2_UNSET)
			continue;
		s.p = body.p + ov[2 * cap->group];
		s.n = ov[2 * cap->group + 1] - ov[2 * cap->group];
		switch (cap->kind) {
		case CAP_IP:
			addr_parse(s.p, s.n, &ev->ip);
			break;
		case CAP_AUX:
			ev->aux = s;
			break;
		default:
			if (ev_field_kind((enum ev_field)cap->field) == FK_NUM) {
				if (parse_num(s.p, s.n, &v))
					ev_set_num(ev, (enum ev_field)cap->field, v);
			} else
				ev_set_str(ev, (enum ev_field)cap->field, s);
		}
	}
}

/* 1 if body holds the entry's needle. */
static int
has_needle(const struct compiled *c, struct span body)
{
	const char *nd = c->def->needle, *p = body.p + c->rare, *end = body.p + body.n;
	size_t n = c->needlelen, tail = n - c->rare;

	if (body.n < n)
		return 0;
	/* (a hit of the rare byte at p is a match if the needle fits around it) */
	while (p + tail <= end && (p = memchr(p, nd[c->rare], (size_t)(end - p) - tail + 1)) != NULL) {
		if (memcmp(p - c->rare, nd, n) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* Leads are short literals: a byte loop beats a call to memcmp here. */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* pcre2's result: > 0 matched, PCRE2_ERROR_NOMATCH, or another error (a limit). */
static int
run(struct pattern_set *ps, const struct regex *re, struct span body)
{
	if (re->jit)
		return pcre2_jit_match(re->code, (PCRE2_SPTR)body.p, body.n, 0, 0, ps->md, ps->mctx);
	return pcre2_match(re->code, (PCRE2_SPTR)body.p, body.n, 0, 0, ps->md, ps->mctx);
}

int
pattern_set_match(struct pattern_set *ps, struct span body, struct event *ev, uint64_t *limit_hits)
{
	/* once per line, not per regex tried: the limit depends on the line only */
	unsigned first = body.n > 0 ? (unsigned char)body.p[0] : 0;
	const uint16_t *cand = ps->by_first + ps->byte_start[first];
	size_t ncand = ps->byte_start[first + 1] - ps->byte_start[first];

	pcre2_set_match_limit(ps->mctx, (uint32_t)(MATCH_LIMIT + MATCH_PER_BYTE * body.n));
	for (size_t k = 0; k < ncand; k++) {
		size_t i = cand[k];
		const struct compiled *c = &ps->c[i];
		const struct regex *re = &c->re;
		int rc;

		if (body.n < c->leadlen || !same_bytes(body.p, c->def->lead, c->leadlen))
			continue;
		if (c->needlelen && !has_needle(c, body))
			continue;
		if (re->code == NULL)
			return (int)i;
		rc = run(ps, re, body);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			if (limit_hits != NULL)
				(*limit_hits)++;
			if (c->fb.code == NULL || (rc = run(ps, &c->fb, body)) <= 0)
				continue;
			re = &c->fb;
			ev->doubtful |= EV_DOUBT_ANY;
		}
		fill(re, pcre2_get_ovector_pointer(ps->md), (uint32_t)rc, body, ev);
		return (int)i;
	}
	return -1;
}

const struct pattern_def *
pattern_set_def(const struct pattern_set *ps, int idx)
{
	return ps->c[idx].def;
}
