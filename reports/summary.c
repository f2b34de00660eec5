/*
 * summary.c - one interval's figures and top lists (see summary.h).
 */
#include "summary.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../parsers/event_json.h"
#include "../rules/cond.h"
#include "../common/keytab.h"

#define CLIENTS_MAX 65536
#define NAMES_MAX 16384
#define NAME_BYTES 56		/* a domain or HELO name kept (longer ones cut: they are named by their start) */
#define CLIENT_DECS 4

struct client {
	uint32_t count[EV__COUNT];
	uint32_t total;
	uint16_t ndec;
	int16_t dec_rule[CLIENT_DECS];
	uint8_t dec_action[CLIENT_DECS];
};

struct named {
	uint64_t count;
};

struct summary {
	int64_t from, to;
	int64_t counted_from;	/* > from: counting began then */
	uint64_t lines, events[EV__COUNT];
	uint64_t made[STEP_ACTIONS], expired[STEP_ACTIONS], released[STEP_ACTIONS];
	char **rnames;		/* the rules that decided, interned (the clients' decisions point here) */
	uint64_t *rcount;
	int nr;
	struct keytab *clients, *domains, *helos;
	int64_t seen;		/* a running "time" for the tables' recency: events counted */
};

static uint64_t
client_score(const void *p)
{
	return ((const struct client *)p)->total;
}

static uint64_t
named_score(const void *p)
{
	return ((const struct named *)p)->count;
}

static void
tables_new(struct summary *s)
{
	s->clients = keytab_new(CLIENTS_MAX, sizeof(struct client), 17);
	keytab_set_score(s->clients, client_score);
	s->domains = keytab_new(NAMES_MAX, sizeof(struct named), NAME_BYTES);
	keytab_set_score(s->domains, named_score);
	s->helos = keytab_new(NAMES_MAX, sizeof(struct named), NAME_BYTES);
	keytab_set_score(s->helos, named_score);
}

static void
tables_free(struct summary *s)
{
	keytab_free(s->clients, NULL);
	keytab_free(s->domains, NULL);
	keytab_free(s->helos, NULL);
}

struct summary *
summary_new(int64_t from, int64_t to)
{
	struct summary *s = xcalloc(1, sizeof(*s));

	s->from = from;
	s->to = to;
	tables_new(s);
	return s;
}

static void
names_free(struct summary *s)
{
	for (int i = 0; i < s->nr; i++)
		free(s->rnames[i]);
	free(s->rnames);
	free(s->rcount);
}

void
summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	tables_free(s);
	names_free(s);
	free(s);
}

void
summary_reset(struct summary *s, int64_t from, int64_t to)
{
	struct keytab *c = s->clients, *d = s->domains, *h = s->helos;

	/* the tables are emptied, not made again: their memory is touched already, new memory would be zeroed */
	keytab_clear(c);
	keytab_clear(d);
	keytab_clear(h);
	names_free(s);
	memset(s, 0, sizeof(*s));
	s->from = from;
	s->to = to;
	s->clients = c;
	s->domains = d;
	s->helos = h;
}

/* The rule's index among this summary's names, added if new. */
static int
rule_name(struct summary *s, const char *name)
{
	for (int i = 0; i < s->nr; i++)
		if (strcmp(s->rnames[i], name) == 0)
			return i;
	s->rnames = xrealloc(s->rnames, (size_t)(s->nr + 1) * sizeof(*s->rnames));
	s->rcount = xrealloc(s->rcount, (size_t)(s->nr + 1) * sizeof(*s->rcount));
	s->rnames[s->nr] = xstrdup(name);
	s->rcount[s->nr] = 0;
	return s->nr++;
}

void
summary_counted_from(struct summary *s, int64_t ts)
{
	s->counted_from = ts > s->from ? ts : 0;
}

void
summary_set_span(struct summary *s, int64_t from, int64_t to)
{
	s->from = from;
	s->to = to;
}

int64_t
summary_from(const struct summary *s)
{
	return s->from;
}

int64_t
summary_to(const struct summary *s)
{
	return s->to;
}

/* The client as the lists count it: an IPv4 address, or an IPv6 address's /64 (what one host holds). */
static size_t
client_key(const struct addr *a, uint8_t *k)
{
	k[0] = (uint8_t)a->family;
	if (a->family == 4) {
		memcpy(k + 1, a->b, 4);
		return 5;
	}
	memcpy(k + 1, a->b, 8);
	memset(k + 9, 0, 8);
	return 17;
}

static void
client_text(const uint8_t *k, size_t klen, char *out, size_t len)
{
	struct addr a = { .family = k[0] };
	char buf[ADDR_STRLEN];

	memcpy(a.b, k + 1, klen - 1);
	addr_format(&a, buf);
	snprintf(out, len, "%s%s", buf, a.family == 6 ? "/64" : "");
}

static void
count_name(struct summary *s, struct keytab *t, struct span v)
{
	uint8_t k[NAME_BYTES];
	size_t n = v.n < NAME_BYTES ? v.n : NAME_BYTES;
	struct named *nm;
	int created;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)v.p[i];

		k[i] = c >= 'A' && c <= 'Z' ? c | 0x20 : c;	/* case-blind, as the rules count */
	}
	nm = keytab_put(t, k, n, s->seen, &created, NULL);
	nm->count++;
}

void
summary_event(struct summary *s, const struct event *ev)
{
	struct span v;
	uint32_t want;

	if ((unsigned)ev->type >= EV__COUNT)
		return;
	want = summary_fields(ev->type);
	s->events[ev->type]++;
	s->seen++;
	if (ev->ip.family != 0) {
		uint8_t k[17];
		size_t kl = client_key(&ev->ip, k);
		int created;
		struct client *c = keytab_put(s->clients, k, kl, s->seen, &created, NULL);

		c->count[ev->type]++;
		c->total++;
	}
	if ((want >> F_TO & 1) && cond_str_value(ev, CF_RECIPIENT_DOMAIN, &v))
		count_name(s, s->domains, v);
	if ((want >> F_HELO & 1) && cond_str_value(ev, F_HELO, &v))
		count_name(s, s->helos, v);
}

uint32_t
summary_fields(enum ev_type t)
{
	return (t == EV_RCPT_UNKNOWN ? 1u << F_TO : 0) | (t != EV_CONNECT && t != EV_DISCONNECT ? 1u << F_HELO : 0);
}

struct merge {
	struct summary *dst;
	const struct summary *src;
	struct keytab *from, *to;
};

static void
merge_client(void *arg, void *payload)
{
	struct merge *m = arg;
	const struct client *c = payload;
	size_t kl;
	const uint8_t *k = keytab_key(m->from, payload, &kl);
	int created;
	struct client *d = keytab_put(m->to, k, kl, ++m->dst->seen, &created, NULL);

	for (int t = 0; t < EV__COUNT; t++)
		d->count[t] += c->count[t];
	d->total += c->total;
	for (int i = 0; i < c->ndec; i++) {
		int rule = rule_name(m->dst, m->src->rnames[c->dec_rule[i]]), have = 0;

		for (int j = 0; j < d->ndec; j++)
			have |= d->dec_rule[j] == rule && d->dec_action[j] == c->dec_action[i];
		if (!have && d->ndec < CLIENT_DECS && rule < INT16_MAX) {
			d->dec_rule[d->ndec] = (int16_t)rule;
			d->dec_action[d->ndec++] = c->dec_action[i];
		}
	}
}

static void
merge_named(void *arg, void *payload)
{
	struct merge *m = arg;
	size_t kl;
	const uint8_t *k = keytab_key(m->from, payload, &kl);
	int created;
	struct named *d = keytab_put(m->to, k, kl, ++m->dst->seen, &created, NULL);

	d->count += ((const struct named *)payload)->count;
}

void
summary_merge(struct summary *dst, const struct summary *src)
{
	struct merge m = { .dst = dst, .src = src };

	dst->lines += src->lines;
	for (int t = 0; t < EV__COUNT; t++)
		dst->events[t] += src->events[t];
	for (int a = 0; a < STEP_ACTIONS; a++) {
		dst->made[a] += src->made[a];
		dst->expired[a] += src->expired[a];
		dst->released[a] += src->released[a];
	}
	for (int i = 0; i < src->nr; i++) {
		int k = rule_name(dst, src->rnames[i]);	/* (first: it may move rcount) */

		dst->rcount[k] += src->rcount[i];
	}
	m.from = src->clients;
	m.to = dst->clients;
	keytab_foreach(src->clients, merge_client, &m);
	m.from = src->domains;
	m.to = dst->domains;
	keytab_foreach(src->domains, merge_named, &m);
	m.from = src->helos;
	m.to = dst->helos;
	keytab_foreach(src->helos, merge_named, &m);
}

void
summary_lines(struct summary *s, uint64_t n)
{
	s->lines += n;
}

void
summary_decision(struct summary *s, const struct decision *d)
{
	int rule = rule_name(s, d->rule->name);

	if ((unsigned)d->action < STEP_ACTIONS)
		s->made[d->action]++;
	s->rcount[rule]++;
	if (d->ip.family != 0 && rule < INT16_MAX) {
		uint8_t k[17];
		size_t kl = client_key(&d->ip, k);
		int created;
		struct client *c = keytab_put(s->clients, k, kl, s->seen, &created, NULL);

		for (int i = 0; i < c->ndec; i++)
			if (c->dec_rule[i] == rule && c->dec_action[i] == d->action)
				return;
		if (c->ndec < CLIENT_DECS) {
			c->dec_rule[c->ndec] = (int16_t)rule;
			c->dec_action[c->ndec++] = (uint8_t)d->action;
		}
	}
}

void
summary_expired(struct summary *s, enum action a)
{
	if ((unsigned)a < STEP_ACTIONS)
		s->expired[a]++;
}

void
summary_released(struct summary *s, enum action a)
{
	if ((unsigned)a < STEP_ACTIONS)
		s->released[a]++;
}

uint64_t
summary_rule_decisions(const struct summary *s, const char *rule)
{
	for (int i = 0; i < s->nr; i++)
		if (strcmp(s->rnames[i], rule) == 0)
			return s->rcount[i];
	return 0;
}

uint64_t
summary_events(const struct summary *s, enum ev_type t)
{
	return (unsigned)t < EV__COUNT ? s->events[t] : 0;
}

/* ---- top lists ---- */

/* A refusal or failure of the client's: what an attacker is counted by. */
static int
hostile(int t)
{
	return t != EV_CONNECT && t != EV_DISCONNECT && t != EV_MSG_ACCEPTED && t != EV_BOUNCE_IN &&
	    t != EV_LOST_CONN && t != EV_NONE;
}

struct top {
	const void *p[SUMMARY_TOP];
	uint64_t v[SUMMARY_TOP];
	int n;
	uint64_t others;	/* entries with a count left out */
	int type;		/* the event type ranked, or -1: hostile kinds together */
	const struct keytab *t;
};

static uint64_t
client_value(const struct client *c, int type)
{
	uint64_t v = 0;

	if (type >= 0)
		return c->count[type];
	for (int t = 1; t < EV__COUNT; t++)
		if (hostile(t))
			v += c->count[t];
	return v;
}

static void
top_add(struct top *t, const void *p, uint64_t v)
{
	int i;

	if (v == 0)
		return;
	if (t->n == SUMMARY_TOP && v <= t->v[SUMMARY_TOP - 1]) {
		t->others++;
		return;
	}
	if (t->n == SUMMARY_TOP)
		t->others++;
	i = t->n < SUMMARY_TOP ? t->n++ : SUMMARY_TOP - 1;
	while (i > 0 && t->v[i - 1] < v) {
		t->p[i] = t->p[i - 1];
		t->v[i] = t->v[i - 1];
		i--;
	}
	t->p[i] = p;
	t->v[i] = v;
}

static void
top_client_cb(void *arg, void *payload)
{
	struct top *t = arg;

	top_add(t, payload, client_value(payload, t->type));
}

static void
top_named_cb(void *arg, void *payload)
{
	top_add(arg, payload, ((struct named *)payload)->count);
}

static struct top
top_clients(const struct summary *s, int type)
{
	struct top t = { .type = type, .t = s->clients };

	keytab_foreach(s->clients, top_client_cb, &t);
	return t;
}

/* Every event type's top list in one pass over the clients (not one pass per type). */
struct all_tops {
	struct top t[EV__COUNT];
};

static void
all_tops_cb(void *arg, void *payload)
{
	struct all_tops *a = arg;
	const struct client *c = payload;

	for (int t = 1; t < EV__COUNT; t++)
		if (c->count[t] > 0)
			top_add(&a->t[t], payload, c->count[t]);
}

static void
all_tops(const struct summary *s, struct all_tops *a)
{
	memset(a, 0, sizeof(*a));
	for (int t = 0; t < EV__COUNT; t++) {
		a->t[t].type = t;
		a->t[t].t = s->clients;
	}
	keytab_foreach(s->clients, all_tops_cb, a);
}

static struct top
top_named(struct keytab *tab)
{
	struct top t = { .t = tab };

	keytab_foreach(tab, top_named_cb, &t);
	return t;
}

/* "dha block, helo reject" */
static void
decided_text(const struct summary *s, const struct client *c, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < c->ndec && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s %s", i ? ", " : "", s->rnames[c->dec_rule[i]],
		    action_name((enum action)c->dec_action[i]));
}

int
summary_top_attackers(const struct summary *s, const struct config *conf, struct summary_client *out, int max)
{
	(void)conf;
	struct top t = top_clients(s, -1);
	int n = 0;

	for (int i = 0; i < t.n && n < max; i++, n++) {
		size_t kl;
		const uint8_t *k = keytab_key(s->clients, t.p[i], &kl);

		client_text(k, kl, out[n].client, sizeof(out[n].client));
		out[n].count = t.v[i];
		decided_text(s, t.p[i], out[n].decided, sizeof(out[n].decided));
	}
	return n;
}

/* ---- output ---- */

static void
json_actions(struct outbuf *ob, const uint64_t *v)
{
	ob_putc(ob, '{');
	for (int a = 0; a < STEP_ACTIONS; a++) {
		if (a)
			ob_putc(ob, ',');
		ob_putc(ob, '"');
		ob_put(ob, action_name((enum action)a), strlen(action_name((enum action)a)));
		OB_LIT(ob, "\":");
		ob_put_u64(ob, v[a]);
	}
	ob_putc(ob, '}');
}

static void
json_named(const struct summary *s, struct keytab *tab, const char *field, struct outbuf *ob)
{
	struct top t = top_named(tab);

	(void)s;
	ob_putc(ob, '[');
	for (int i = 0; i < t.n; i++) {
		size_t kl;
		const uint8_t *k = keytab_key(tab, t.p[i], &kl);

		OB_LIT(ob, "{\"");
		ob_put(ob, field, strlen(field));
		OB_LIT(ob, "\":");
		ob_put_json_str(ob, (const char *)k, kl);
		OB_LIT(ob, ",\"count\":");
		ob_put_u64(ob, t.v[i]);
		ob_putc(ob, '}');
		if (i + 1 < t.n)
			ob_putc(ob, ',');
	}
	ob_putc(ob, ']');
}

static int
in_conf(const struct config *conf, const char *name)
{
	for (int r = 0; r < conf->nrules; r++)
		if (strcmp(conf->rules[r]->name, name) == 0)
			return 1;
	return 0;
}

void
summary_json(const struct summary *s, const struct config *conf, const char *host, struct outbuf *ob)
{
	static struct all_tops tops;	/* (large: not on the stack; one writer at a time) */
	int first = 1;

	OB_LIT(ob, "{\"version\":1,\"host\":");
	ob_put_json_str(ob, host, strlen(host));
	OB_LIT(ob, ",\"from\":\"");
	put_iso8601(ob, s->from, -1);
	OB_LIT(ob, "\",\"to\":\"");
	put_iso8601(ob, s->to, -1);
	ob_putc(ob, '"');
	if (s->counted_from > 0) {
		OB_LIT(ob, ",\"counted_from\":\"");
		put_iso8601(ob, s->counted_from, -1);
		ob_putc(ob, '"');
	}
	OB_LIT(ob, ",\"lines\":");
	ob_put_u64(ob, s->lines);
	OB_LIT(ob, ",\"events\":{");
	for (int t = 1; t < EV__COUNT; t++) {
		if (t > 1)
			ob_putc(ob, ',');
		ob_putc(ob, '"');
		ob_put(ob, ev_type_name((enum ev_type)t), strlen(ev_type_name((enum ev_type)t)));
		OB_LIT(ob, "\":");
		ob_put_u64(ob, s->events[t]);
	}
	OB_LIT(ob, "},\"decisions\":{\"made\":");
	json_actions(ob, s->made);
	OB_LIT(ob, ",\"expired\":");
	json_actions(ob, s->expired);
	OB_LIT(ob, ",\"released\":");
	json_actions(ob, s->released);
	OB_LIT(ob, "},\"rules\":[");
	for (int r = 0; r < conf->nrules; r++) {
		if (r)
			ob_putc(ob, ',');
		OB_LIT(ob, "{\"rule\":");
		ob_put_json_str(ob, conf->rules[r]->name, strlen(conf->rules[r]->name));
		OB_LIT(ob, ",\"decisions\":");
		ob_put_u64(ob, summary_rule_decisions(s, conf->rules[r]->name));
		ob_putc(ob, '}');
	}
	for (int i = 0; i < s->nr; i++) {
		/* a rule that decided in this interval and is gone since (a reload) */
		if (in_conf(conf, s->rnames[i]))
			continue;
		if (conf->nrules > 0 || i > 0)
			ob_putc(ob, ',');
		OB_LIT(ob, "{\"rule\":");
		ob_put_json_str(ob, s->rnames[i], strlen(s->rnames[i]));
		OB_LIT(ob, ",\"decisions\":");
		ob_put_u64(ob, s->rcount[i]);
		ob_putc(ob, '}');
	}
	OB_LIT(ob, "],\"top_clients\":{");
	all_tops(s, &tops);
	for (int t = 1; t < EV__COUNT; t++) {
		const struct top top = tops.t[t];

		if (s->events[t] == 0 || top.n == 0)
			continue;
		if (!first)
			ob_putc(ob, ',');
		first = 0;
		ob_putc(ob, '"');
		ob_put(ob, ev_type_name((enum ev_type)t), strlen(ev_type_name((enum ev_type)t)));
		OB_LIT(ob, "\":[");
		for (int i = 0; i < top.n; i++) {
			const struct client *c = top.p[i];
			size_t kl;
			const uint8_t *k = keytab_key(s->clients, c, &kl);
			char text[64];

			client_text(k, kl, text, sizeof(text));
			OB_LIT(ob, "{\"client\":");
			ob_put_json_str(ob, text, strlen(text));
			OB_LIT(ob, ",\"count\":");
			ob_put_u64(ob, top.v[i]);
			OB_LIT(ob, ",\"decisions\":[");
			for (int d = 0; d < c->ndec; d++) {
				if (d)
					ob_putc(ob, ',');
				OB_LIT(ob, "{\"rule\":");
				ob_put_json_str(ob, s->rnames[c->dec_rule[d]], strlen(s->rnames[c->dec_rule[d]]));
				OB_LIT(ob, ",\"action\":\"");
				ob_put(ob, action_name((enum action)c->dec_action[d]),
				    strlen(action_name((enum action)c->dec_action[d])));
				OB_LIT(ob, "\"}");
			}
			OB_LIT(ob, "]}");
			if (i + 1 < top.n)
				ob_putc(ob, ',');
		}
		ob_putc(ob, ']');
	}
	OB_LIT(ob, "},\"top_recipient_domains\":");
	json_named(s, s->domains, "domain", ob);
	OB_LIT(ob, ",\"top_helos\":");
	json_named(s, s->helos, "helo", ob);
	OB_LIT(ob, ",\"clients_evicted\":");
	ob_put_u64(ob, keytab_stats(s->clients).evicted);
	OB_LIT(ob, "}\n");
}

static void
csv_row(struct outbuf *ob, const char *section, const char *key, size_t keylen, const char *detail, uint64_t v)
{
	ob_put(ob, section, strlen(section));
	ob_putc(ob, ',');
	ob_put_csv_str(ob, key, keylen);
	ob_putc(ob, ',');
	ob_put_csv_str(ob, detail, strlen(detail));
	ob_putc(ob, ',');
	ob_put_u64(ob, v);
	ob_putc(ob, '\n');
}

void
summary_csv(const struct summary *s, const struct config *conf, struct outbuf *ob)
{
	static struct all_tops tops;
	static const char *const sets[] = { "made", "expired", "released" };
	const uint64_t *vals[] = { s->made, s->expired, s->released };

	OB_LIT(ob, "section,key,detail,value\n");
	csv_row(ob, "lines", "", 0, "", s->lines);
	for (int t = 1; t < EV__COUNT; t++)
		csv_row(ob, "events", ev_type_name((enum ev_type)t), strlen(ev_type_name((enum ev_type)t)), "",
		    s->events[t]);
	for (int i = 0; i < 3; i++)
		for (int a = 0; a < STEP_ACTIONS; a++)
			csv_row(ob, "decisions", sets[i], strlen(sets[i]), action_name((enum action)a), vals[i][a]);
	for (int r = 0; r < conf->nrules; r++)
		csv_row(ob, "rule", conf->rules[r]->name, strlen(conf->rules[r]->name), "decisions",
		    summary_rule_decisions(s, conf->rules[r]->name));
	for (int i = 0; i < s->nr; i++)
		if (!in_conf(conf, s->rnames[i]))
			csv_row(ob, "rule", s->rnames[i], strlen(s->rnames[i]), "decisions", s->rcount[i]);
	all_tops(s, &tops);
	for (int t = 1; t < EV__COUNT; t++) {
		const struct top top = tops.t[t];

		if (s->events[t] == 0)
			continue;
		for (int i = 0; i < top.n; i++) {
			size_t kl;
			const uint8_t *k = keytab_key(s->clients, top.p[i], &kl);
			char text[64];

			client_text(k, kl, text, sizeof(text));
			csv_row(ob, "top_client", text, strlen(text), ev_type_name((enum ev_type)t), top.v[i]);
		}
	}
	{
		struct top d = top_named(s->domains), h = top_named(s->helos);

		for (int i = 0; i < d.n; i++) {
			size_t kl;
			const uint8_t *k = keytab_key(s->domains, d.p[i], &kl);

			csv_row(ob, "top_recipient_domain", (const char *)k, kl, "", d.v[i]);
		}
		for (int i = 0; i < h.n; i++) {
			size_t kl;
			const uint8_t *k = keytab_key(s->helos, h.p[i], &kl);

			csv_row(ob, "top_helo", (const char *)k, kl, "", h.v[i]);
		}
	}
}

void
summary_text(const struct summary *s, const struct config *conf, struct outbuf *ob)
{
	char line[256];
	struct summary_client top[SUMMARY_TOP];
	int n, k;
	uint64_t total = 0, made = 0;

	for (int t = 1; t < EV__COUNT; t++)
		total += s->events[t];
	for (int a = 0; a < STEP_ACTIONS; a++)
		made += s->made[a];
#define LINE(...) do { k = snprintf(line, sizeof(line), __VA_ARGS__); ob_put(ob, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1); } while (0)
	OB_LIT(ob, "mxguard report: ");
	put_iso8601(ob, s->from, -1);
	OB_LIT(ob, " to ");
	put_iso8601(ob, s->to, -1);
	LINE("\n\nGrand totals\n------------\n%12llu lines read\n%12llu events\n%12llu decisions\n\n",
	    (unsigned long long)s->lines, (unsigned long long)total, (unsigned long long)made);
	OB_LIT(ob, "Events by type\n--------------\n");
	for (int t = 1; t < EV__COUNT; t++)
		LINE("%12llu %s\n", (unsigned long long)s->events[t], ev_type_name((enum ev_type)t));
	OB_LIT(ob, "\nDecisions by action (made / expired / released)\n-----------------------------------------------\n");
	for (int a = 0; a < STEP_ACTIONS; a++)
		if (s->made[a] || s->expired[a] || s->released[a])
			LINE("%12llu / %llu / %llu %s\n", (unsigned long long)s->made[a], (unsigned long long)s->expired[a],
			    (unsigned long long)s->released[a], action_name((enum action)a));
	OB_LIT(ob, "\nDecisions by rule\n-----------------\n");
	for (int r = 0; r < conf->nrules; r++)
		LINE("%12llu %s\n", (unsigned long long)summary_rule_decisions(s, conf->rules[r]->name),
		    conf->rules[r]->name);
	OB_LIT(ob, "\nTop attackers (refusals and failures)\n-------------------------------------\n");
	n = summary_top_attackers(s, conf, top, SUMMARY_TOP);
	for (int i = 0; i < n; i++)
		LINE("%12llu %-40s %s\n", (unsigned long long)top[i].count, top[i].client,
		    top[i].decided[0] ? top[i].decided : "-");
	if (n == 0)
		OB_LIT(ob, "        none\n");
#undef LINE
}
