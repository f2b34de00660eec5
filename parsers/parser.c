/* parser.c - header split and routing to MTA modules; see parser.h. */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
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
	p->clock = hdr_clock_new(time(NULL), o->year);
	p->releasing = -1;
	return p;
}

void
parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		p->mta[i].m->state_free(p->mta[i].state);
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
	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;
		int got = 0;

		if (!m->claims(&h))
			continue;
		ev_reset(ev);
		ev->mta = m->name;
		ev->line = lineno;
		ev->ts = h.ts;
		ev->usec = h.usec;
		if (h.host.n > 0)
			ev_set_str(ev, F_NODE, h.host);
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
	return &p->st;
}

/*
 * Blob: magic, entry size, then per module in order: its table (count and
 * entries, if it has one) and its extra state (length and bytes, if it
 * saves any).
 */
#define CORR_MAGIC 0x3243584du	/* "MXC2" */

static void
put32(unsigned char **o, uint32_t v)
{
	memcpy(*o, &v, 4);
	*o += 4;
}

void *
parser_corr_export(struct parser *p, size_t *len)
{
	size_t cap = 2 * sizeof(uint32_t), n, xlen[NMTAS] = { 0 };
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
	buf = o = xmalloc(cap);
	put32(&o, CORR_MAGIC);
	put32(&o, (uint32_t)sizeof(struct corr_record));
	for (size_t i = 0; i < p->n; i++) {
		const struct mta *m = p->mta[i].m;

		if (m->corr != NULL) {
			struct corr_table *t = m->corr(p->mta[i].state);
			/* Entries go through an aligned array: the blob's offsets are not aligned. */
			struct corr_record *tmp = xmalloc(corr_stats(t).size * sizeof(*tmp) + 1);

			n = corr_export(t, tmp, corr_stats(t).size);
			put32(&o, (uint32_t)n);
			memcpy(o, tmp, n * sizeof(*tmp));
			free(tmp);
			o += n * sizeof(struct corr_record);
		}
		if (m->save != NULL) {
			put32(&o, (uint32_t)xlen[i]);
			memcpy(o, extra[i], xlen[i]);
			o += xlen[i];
			free(extra[i]);
		}
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

		if (m->corr != NULL) {
			struct corr_record *tmp;

			if (end - b < 4)
				return 0;
			memcpy(&n, b, 4);
			b += 4;
			if ((size_t)(end - b) / sizeof(struct corr_record) < n)
				return 0;
			tmp = xmalloc(n * sizeof(*tmp) + 1);
			memcpy(tmp, b, n * sizeof(*tmp));
			corr_import(m->corr(p->mta[i].state), tmp, n);
			free(tmp);
			b += n * sizeof(struct corr_record);
		}
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
	return 1;
}
