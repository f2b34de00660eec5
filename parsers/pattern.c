/*
 * pattern.c - compile and run pattern tables (see pattern.h).
 *
 * Group-to-field mapping is resolved at compile time into a small array
 * per entry, so a match costs the regex plus one pass over its groups.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <pcre2.h>
#include <string.h>
#include <sysexits.h>

#include "../common/log.h"
#include "../common/xalloc.h"

#define MATCH_LIMIT 20000	/* backtracking steps per line and pattern */
#define MAX_CAPS 24

enum cap_kind { CAP_FIELD, CAP_IP, CAP_AUX };

struct cap {
	uint16_t group;
	uint8_t kind;		/* enum cap_kind */
	uint8_t field;		/* enum ev_field for CAP_FIELD */
};

struct compiled {
	const struct pattern_def *def;
	size_t leadlen, needlelen;
	pcre2_code *code;	/* NULL for known-no-event entries */
	int jit;
	int ncaps;
	struct cap caps[MAX_CAPS];
};

struct pattern_set {
	char *name;
	size_t n;
	struct compiled *c;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
};

static void
map_groups(struct pattern_set *ps, struct compiled *c, size_t idx)
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

		if (strcmp(gname, "ip") == 0)
			cap.kind = CAP_IP;
		else if (strcmp(gname, "aux") == 0)
			cap.kind = CAP_AUX;
		else if ((f = ev_field_by_name(gname, strlen(gname))) >= 0) {
			cap.kind = CAP_FIELD;
			cap.field = (uint8_t)f;
		} else
			fatalx(EX_SOFTWARE, "pattern %s[%zu]: group <%s> is not an event field",
			    ps->name, idx, gname);
		if (c->ncaps == MAX_CAPS)
			fatalx(EX_SOFTWARE, "pattern %s[%zu]: too many groups", ps->name, idx);
		c->caps[c->ncaps++] = cap;
	}
}

struct pattern_set *
pattern_set_new(const char *name, const struct pattern_def *defs, size_t n)
{
	struct pattern_set *ps = xcalloc(1, sizeof(*ps));

	ps->name = xstrdup(name);
	ps->n = n;
	ps->c = xcalloc(n, sizeof(*ps->c));
	for (size_t i = 0; i < n; i++) {
		struct compiled *c = &ps->c[i];
		int err;
		PCRE2_SIZE off;

		c->def = &defs[i];
		c->leadlen = strlen(defs[i].lead);
		c->needlelen = defs[i].needle ? strlen(defs[i].needle) : 0;
		if (defs[i].regex == NULL)
			continue;
		/* Bytes, not UTF: log text may be any bytes and must never fail to match for that. */
		c->code = pcre2_compile((PCRE2_SPTR)defs[i].regex, PCRE2_ZERO_TERMINATED,
		    PCRE2_ANCHORED | PCRE2_DOTALL, &err, &off, NULL);
		if (c->code == NULL) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(err, msg, sizeof(msg));
			fatalx(EX_SOFTWARE, "pattern %s[%zu] at offset %zu: %s", name, i, (size_t)off, msg);
		}
		c->jit = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0;
		map_groups(ps, c, i);
	}
	ps->md = pcre2_match_data_create(MAX_CAPS * 2, NULL);
	ps->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(ps->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(ps->mctx, MATCH_LIMIT);
	ps->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	pcre2_jit_stack_assign(ps->mctx, NULL, ps->jstack);
	return ps;
}

void
pattern_set_free(struct pattern_set *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++)
		pcre2_code_free(ps->c[i].code);
	pcre2_match_data_free(ps->md);
	pcre2_match_context_free(ps->mctx);
	pcre2_jit_stack_free(ps->jstack);
	free(ps->c);
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
fill(const struct compiled *c, const PCRE2_SIZE *ov, uint32_t rc, struct span body,
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

/* Leads are short literals: a byte loop beats a call to memcmp here. */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

int
pattern_set_match(struct pattern_set *ps, struct span body, struct event *ev,
    uint64_t *limit_hits)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct compiled *c = &ps->c[i];
		int rc;

		if (body.n < c->leadlen || !same_bytes(body.p, c->def->lead, c->leadlen))
			continue;
		if (c->needlelen && memmem(body.p, body.n, c->def->needle, c->needlelen) == NULL)
			continue;
		if (c->code == NULL)
			return (int)i;
		if (c->jit)
			rc = pcre2_jit_match(c->code, (PCRE2_SPTR)body.p, body.n, 0, 0, ps->md, ps->mctx);
		else
			rc = pcre2_match(c->code, (PCRE2_SPTR)body.p, body.n, 0, 0, ps->md, ps->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			if (limit_hits != NULL)
				(*limit_hits)++;
			continue;
		}
		fill(c, pcre2_get_ovector_pointer(ps->md), (uint32_t)rc, body, ev);
		return (int)i;
	}
	return -1;
}

const struct pattern_def *
pattern_set_def(const struct pattern_set *ps, int idx)
{
	return ps->c[idx].def;
}
