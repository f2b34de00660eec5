/* parser.c - header split and routing to MTA modules; see parser.h. */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "custom.h"
#include "mta.h"
#include "syslog_hdr.h"

/* Every MTA module mxguard has, in routing order. */
static const struct mta *const all_mtas[] = {
	&mta_postfix,
	&mta_sendmail,
	&mta_exim,
	&mta_opensmtpd,
};
#define NMTAS (sizeof(all_mtas) / sizeof(all_mtas[0]))

static const char *const mta_names[] = {
	[PARSER_MTA_AUTO] = "auto",
	[PARSER_MTA_POSTFIX] = "postfix",
	[PARSER_MTA_SENDMAIL] = "sendmail",
	[PARSER_MTA_EXIM] = "exim",
	[PARSER_MTA_OPENSMTPD] = "opensmtpd",
};

struct parser {
	struct parser_opts o;
	struct hdr_clock *clock;
	size_t n;
	struct {
		const struct mta *m;
		void *state;
	} mta[NMTAS];
	struct custom **custom;		/* the configuration's parser blocks, in its order */
	int ncustom;
	/*
	 * The blocks' programs by their first three bytes (a 256-bit set of a
	 * hash of them): a line whose tag is in none goes straight to the
	 * built-in modules, without comparing it with every program of every
	 * block. all_tags: a program shorter than three bytes, no filter.
	 */
	uint64_t tag_set[4];
	int all_tags;
	struct parser_stats st;
	/* Events of the current line still to hand out (parser_next). */
	int releasing;		/* index into mta[] whose released events are pending, or -1 */
	int own_pending;	/* the line's own event waits behind them */
	struct event own;
	struct event rel;	/* the first released event, before it is handed out */
	parser_unmatched_fn unmatched_fn;	/* (NULL: the daemon and replay only count them) */
	void *unmatched_arg;
};

int
parser_mta_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(mta_names) / sizeof(mta_names[0]); i++)
		if (strcmp(name, mta_names[i]) == 0)
			return (int)i;
	return -1;
}

struct parser *
parser_new(const struct parser_opts *o)
{
	struct parser *p = xcalloc(1, sizeof(*p));

	p->o = *o;
	for (size_t i = 0; i < NMTAS; i++) {
		if (o->mta != PARSER_MTA_AUTO && strcmp(all_mtas[i]->name, mta_names[o->mta]) != 0)
			continue;
		p->mta[p->n].m = all_mtas[i];
		p->mta[p->n].state = all_mtas[i]->state_new(o);
		p->n++;
	}
	p->o.custom = NULL;	/* (not kept: a reload frees them) */
	p->o.ncustom = 0;
	parser_set_custom(p, o->custom, o->ncustom);
	p->clock = hdr_clock_new(time(NULL), o->year);
	p->releasing = -1;
	return p;
}

static unsigned
tag_slot(const char *b)
{
	return ((unsigned char)b[0] * 961u + (unsigned char)b[1] * 31u + (unsigned char)b[2]) & 255u;
}

/* The set of the blocks' programs by their first three bytes: one bit a slot. */
static void
tag_add(uint64_t *set, const char *b)
{
	unsigned s = tag_slot(b);

	set[s >> 6] |= 1ull << (s & 63);
}

static int
tag_in(const uint64_t *set, const char *b)
{
	unsigned s = tag_slot(b);

	return (int)(set[s >> 6] >> (s & 63) & 1);
}

void
parser_set_custom(struct parser *p, const struct custom_def *defs, int n)
{
	struct custom **nc = xcalloc((size_t)n + 1, sizeof(*nc));

	memset(p->tag_set, 0, sizeof(p->tag_set));
	p->all_tags = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < defs[i].nprograms; k++) {
			const char *prog = defs[i].programs[k];

			if (strlen(prog) < 3)
				p->all_tags = 1;
			else
				tag_add(p->tag_set, prog);
		}

	for (int i = 0; i < n; i++) {
		nc[i] = custom_new(&defs[i], &p->o);
		/* The same block's sessions go on (their clients are still the same). */
		for (int j = 0; j < p->ncustom; j++)
			if (strcmp(custom_name(p->custom[j]), custom_name(nc[i])) == 0) {
				custom_take_sessions(nc[i], p->custom[j]);
				break;
			}
	}
	for (int j = 0; j < p->ncustom; j++)
		custom_free(p->custom[j]);
	free(p->custom);
	p->custom = nc;
	p->ncustom = n;
}

void
parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		p->mta[i].m->state_free(p->mta[i].state);
	parser_set_custom(p, NULL, 0);
	free(p->custom);
	hdr_clock_free(p->clock);
	free(p);
}

void
parser_begin_input(struct parser *p, time_t ref)
{
	hdr_clock_free(p->clock);
	p->clock = hdr_clock_new(ref, p->o.year);
}

static void
count_event(struct parser *p, const struct event *ev)
{
	p->st.events++;
	p->st.by_type[ev->type]++;
	if (ev->doubtful)
		p->st.doubtful++;
}

/* What every event of a line starts with. */
static void
preset(struct event *ev, const char *mta, uint64_t lineno, const struct syslog_hdr *h)
{
	ev_reset(ev);
	ev->mta = mta;
	ev->line = lineno;
	ev->ts = h->ts;
	ev->usec = h->usec;
	if (h->host.n > 0)
		ev_set_str(ev, F_NODE, h->host);
}

int
parser_line(struct parser *p, const char *line, size_t n, uint64_t lineno, struct event *ev)
{
	struct syslog_hdr h;

	p->st.lines++;
	p->releasing = -1;
	p->own_pending = 0;
	if (!syslog_hdr_parse(p->clock, line, n, &h)) {
		p->st.bad_header++;
		return 0;
	}
	const char *claimed = NULL;	/* the first parser block that claims the tag, if any */
	int blocks = p->ncustom;

	if (blocks > 0 && !p->all_tags && (h.tag.n < 3 || !tag_in(p->tag_set, h.tag.p)))
		blocks = 0;	/* (no block's program starts so) */
	for (int i = 0; i < blocks; i++) {
		struct custom *c = p->custom[i];

		if (!custom_claims(c, h.tag))
			continue;
		preset(ev, custom_name(c), lineno, &h);
		switch (custom_parse(c, &h, ev, &p->st.limit_hits)) {
		case 1:
			count_event(p, ev);
			return 1;
		case 0:
			p->st.known++;
			return 0;
		default:
			if (claimed == NULL)
				claimed = custom_name(c);
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;
		int got = 0;

		if (!m->claims(&h))
			continue;
		preset(ev, m->name, lineno, &h);
		switch (m->parse(p->mta[i].state, &h, ev, &p->st)) {
		case MTA_EVENT:
			count_event(p, ev);
			got = 1;
			break;
		case MTA_KNOWN:
			p->st.known++;
			break;
		case MTA_UNMATCHED:
			p->st.unmatched++;
			if (p->unmatched_fn != NULL)
				p->unmatched_fn(p->unmatched_arg, m->name, h.tag, h.body, (struct span){ line, n });
			break;
		}
		/* Usually the line released nothing: *ev is handed out as it is, uncopied. */
		if (m->released == NULL || !m->released(p->mta[i].state, &p->rel))
			return got;
		/* Held events are older than the line's own: they go first. */
		if (got) {
			p->own = *ev;
			p->own_pending = 1;
		}
		*ev = p->rel;
		count_event(p, ev);
		p->releasing = (int)i;
		return 1;
	}
	if (claimed != NULL) {
		/* (a program no built-in module reads: its blocks had no pattern for the line) */
		p->st.unmatched++;
		if (p->unmatched_fn != NULL)
			p->unmatched_fn(p->unmatched_arg, claimed, h.tag, h.body, (struct span){ line, n });
		return 0;
	}
	p->st.other_program++;
	return 0;
}

int
parser_next(struct parser *p, struct event *ev)
{
	if (p->releasing >= 0) {
		const struct mta *m = p->mta[p->releasing].m;

		if (m->released(p->mta[p->releasing].state, ev)) {
			count_event(p, ev);
			return 1;
		}
		p->releasing = -1;
	}
	if (p->own_pending) {
		p->own_pending = 0;
		*ev = p->own;
		return 1;
	}
	return 0;
}

void
parser_on_unmatched(struct parser *p, parser_unmatched_fn fn, void *arg)
{
	p->unmatched_fn = fn;
	p->unmatched_arg = arg;
}

uint64_t
parser_lines(const struct parser *p)
{
	return p->st.lines;
}

const struct parser_stats *
parser_stats(struct parser *p)
{
	p->st.corr_size = p->st.corr_evicted = p->st.corr_expired = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->mta[i].m->corr == NULL)
			continue;
		struct corr_stats c = corr_stats(p->mta[i].m->corr(p->mta[i].state));
		p->st.corr_size += c.size;
		p->st.corr_evicted += c.evicted;
		p->st.corr_expired += c.expired;
	}
	for (int i = 0; i < p->ncustom; i++) {
		if (custom_corr(p->custom[i]) == NULL)
			continue;
		struct corr_stats c = corr_stats(custom_corr(p->custom[i]));
		p->st.corr_size += c.size;
		p->st.corr_evicted += c.evicted;
		p->st.corr_expired += c.expired;
	}
	return &p->st;
}

/*
 * Blob: magic, entry size, then per module in order: its table (count and
 * entries, if it has one) and its extra state (length and bytes, if it
 * saves any); then, per parser block with a session table, its name
 * (length and bytes), count and entries. The blocks' part is matched by
 * name when read: a block renamed or removed since is skipped, and a blob
 * written before there were blocks simply ends there.
 */
#define CORR_MAGIC 0x3243584du	/* "MXC2" */

static void
put32(unsigned char **o, uint32_t v)
{
	memcpy(*o, &v, 4);
	*o += 4;
}

/* A table's count and entries. */
static void
put_table(unsigned char **o, struct corr_table *t)
{
	/* Entries go through an aligned array: the blob's offsets are not aligned. */
	struct corr_record *tmp = xmalloc(corr_stats(t).size * sizeof(*tmp) + 1);
	size_t n = corr_export(t, tmp, corr_stats(t).size);

	put32(o, (uint32_t)n);
	memcpy(*o, tmp, n * sizeof(*tmp));
	free(tmp);
	*o += n * sizeof(struct corr_record);
}

/* A table's count and entries at *b (moved past them), into t if not NULL; 0 if the blob is short. */
static int
get_table(const unsigned char **b, const unsigned char *end, struct corr_table *t)
{
	uint32_t n;
	struct corr_record *tmp;

	if (end - *b < 4)
		return 0;
	memcpy(&n, *b, 4);
	*b += 4;
	if ((size_t)(end - *b) / sizeof(struct corr_record) < n)
		return 0;
	if (t != NULL) {
		tmp = xmalloc(n * sizeof(*tmp) + 1);
		memcpy(tmp, *b, n * sizeof(*tmp));
		corr_import(t, tmp, n);
		free(tmp);
	}
	*b += n * sizeof(struct corr_record);
	return 1;
}

/* (a block's entry whose name length has this bit carries its fold key after the name) */
#define CUSTOM_KEYED 0x80000000u

void *
parser_corr_export(struct parser *p, size_t *len)
{
	size_t cap = 2 * sizeof(uint32_t), xlen[NMTAS] = { 0 };
	void *extra[NMTAS] = { NULL };
	unsigned char *buf, *o;

	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;

		if (m->corr != NULL)
			cap += sizeof(uint32_t) + corr_stats(m->corr(p->mta[i].state)).size *
			    sizeof(struct corr_record);
		if (m->save != NULL) {
			extra[i] = m->save(p->mta[i].state, &xlen[i]);
			cap += sizeof(uint32_t) + xlen[i];
		}
	}
	for (int i = 0; i < p->ncustom; i++)
		if (custom_corr(p->custom[i]) != NULL)
			cap += 2 * sizeof(uint32_t) + strlen(custom_name(p->custom[i])) + sizeof(struct hash_key) +
			    corr_stats(custom_corr(p->custom[i])).size * sizeof(struct corr_record);
	buf = o = xmalloc(cap);
	put32(&o, CORR_MAGIC);
	put32(&o, (uint32_t)sizeof(struct corr_record));
	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;

		if (m->corr != NULL)
			put_table(&o, m->corr(p->mta[i].state));
		if (m->save != NULL) {
			put32(&o, (uint32_t)xlen[i]);
			memcpy(o, extra[i], xlen[i]);
			o += xlen[i];
			free(extra[i]);
		}
	}
	for (int i = 0; i < p->ncustom; i++) {
		struct corr_table *t = custom_corr(p->custom[i]);
		const char *name = custom_name(p->custom[i]);

		if (t == NULL)
			continue;
		struct hash_key k = custom_fold_key(p->custom[i]);

		put32(&o, (uint32_t)strlen(name) | CUSTOM_KEYED);
		memcpy(o, name, strlen(name));
		o += strlen(name);
		memcpy(o, &k, sizeof(k));
		o += sizeof(k);
		put_table(&o, t);
	}
	*len = (size_t)(o - buf);
	return buf;
}

int
parser_corr_import(struct parser *p, const void *blob, size_t len)
{
	const unsigned char *b = blob, *end = b + len;
	uint32_t magic, esz, n;

	if (len < 8)
		return 0;
	memcpy(&magic, b, 4);
	memcpy(&esz, b + 4, 4);
	if (magic != CORR_MAGIC || esz != sizeof(struct corr_record))
		return 0;	/* another version's layout: start empty */
	b += 8;
	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;

		if (m->corr != NULL && !get_table(&b, end, m->corr(p->mta[i].state)))
			return 0;
		if (m->save != NULL) {
			if (end - b < 4)
				return 0;
			memcpy(&n, b, 4);
			b += 4;
			if ((size_t)(end - b) < n || !m->load(p->mta[i].state, b, n))
				return 0;
			b += n;
		}
	}
	while (b < end) {	/* the parser blocks' session tables, by name (with their keys since 2026-12-07) */
		struct corr_table *t = NULL;
		struct custom *c = NULL;
		int keyed;
		struct hash_key k;

		if (end - b < 4)
			return 0;
		memcpy(&n, b, 4);
		b += 4;
		keyed = (n & CUSTOM_KEYED) != 0;
		n &= ~CUSTOM_KEYED;
		if ((size_t)(end - b) < n + (keyed ? sizeof(k) : 0))
			return 0;
		for (int i = 0; i < p->ncustom && c == NULL; i++)
			if (strlen(custom_name(p->custom[i])) == n && memcmp(custom_name(p->custom[i]), b, n) == 0)
				c = p->custom[i];
		b += n;
		if (keyed) {
			memcpy(&k, b, sizeof(k));
			b += sizeof(k);
		}
		if (c != NULL && (t = custom_corr(c)) != NULL && keyed)
			custom_set_fold_key(c, k);
		if (!get_table(&b, end, t))
			return 0;
	}
	return 1;
}
