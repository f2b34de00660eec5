/*
 * engine.c - rules over sliding windows (see engine.h).
 *
 * Per rule: a key table of windows (what each key did recently) and a key
 * table of offenders (until when the key is under this rule's action, and
 * how many decisions it already had: the escalation level, remembered for
 * the whole run). Idle windows are swept a few per event: a window idle
 * for longer than its span holds nothing, so expiring it loses nothing.
 *
 * Everything hashed here is chosen by the log's writers (addresses,
 * recipients, HELO names), so every hash is SipHash under the process's
 * secret key (common/hash.h): `distinct` keeps 64-bit keyed fingerprints,
 * and nobody can craft values that count as one. At a key table's cap, the
 * window with the least progress towards the threshold is evicted first
 * (window_score), so a flood of throwaway keys cannot push a real
 * attacker's counter out before it decides.
 */
#include "engine.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/hash.h"
#include "../common/xalloc.h"
#include "../reputation/rep.h"
#include "../parsers/event_json.h"
#include "../common/keytab.h"
#include "../common/window.h"

#define SWEEP_PER_EVENT 2
#define STRKEY_TEXT 48		/* longer string keys: 48 bytes + 8 bytes of hash */

struct offender {
	int64_t until;
	uint32_t decisions;
};

struct rule_rt {
	const struct rule *r;
	int64_t width;
	struct keytab *windows;		/* key -> struct window */
	struct keytab *offenders;	/* key -> struct offender */
	struct rule_stats st;
};

struct engine {
	const struct config *c;
	struct rule_rt *rt;
	int n;
	struct {
		int *rules;	/* indexes of the rules listening to this type */
		int n;
	} by_type[EV__COUNT];
	uint64_t trusted;
	struct hash_key key;	/* the process's: fingerprints of one engine are comparable */
	uint64_t doubts;	/* doubtful values counted: each is a value of its own */
	struct addr last_ip;	/* the last client checked against the trusted tables ... */
	int last_trusted;	/* ... and the answer: events come in bursts per client */
	engine_share_fn share;	/* scope cluster rules' events go there too (NULL: no cluster) */
	void *share_arg;
	struct hash_key ckey;	/* the cluster's key (engine_set_cluster) */
};

static void
free_window(void *payload)
{
	win_free(payload);
}

/*
 * Eviction order of a rule's windows: progress towards the threshold (the
 * count, sum or number of distinct values; one rule, one threshold, so the
 * raw figure compares). A key with one event goes before one with 19.
 */
static uint64_t
window_score(const void *payload)
{
	return ((const struct window *)payload)->total;
}

struct engine *
engine_new(const struct config *c)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->c = c;
	e->key = hash_process_key();
	e->n = c->nrules;
	e->rt = xcalloc((size_t)e->n + 1, sizeof(*e->rt));
	for (int i = 0; i < e->n; i++) {
		const struct rule *r = c->rules[i];
		size_t keymax = r->key == KEY_CLIENT ? 18 : r->key == KEY_GLOBAL ? 1 : STRKEY_TEXT + 8;

		e->rt[i].r = r;
		e->rt[i].width = win_width(r->window);
		e->rt[i].windows = keytab_new(r->max_keys, sizeof(struct window), keymax);
		keytab_set_score(e->rt[i].windows, window_score);
		e->rt[i].offenders = keytab_new(r->max_keys, sizeof(struct offender), keymax);
		for (int t = 1; t < EV__COUNT; t++)
			if ((r->types >> t) & 1) {
				e->by_type[t].rules = xrealloc(e->by_type[t].rules,
				    (size_t)(e->by_type[t].n + 1) * sizeof(int));
				e->by_type[t].rules[e->by_type[t].n++] = i;
			}
	}
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < e->n; i++) {
		keytab_free(e->rt[i].windows, free_window);
		keytab_free(e->rt[i].offenders, NULL);
	}
	for (int t = 0; t < EV__COUNT; t++)
		free(e->by_type[t].rules);
	free(e->rt);
	free(e);
}

/* Lower-case ASCII copy of a string value (HELO names, addresses and domains are case-blind). */
static size_t
lower_key(const struct hash_key *hk, uint8_t *out, struct span s)
{
	size_t n = s.n < STRKEY_TEXT ? s.n : STRKEY_TEXT;

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s.p[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch;
	}
	if (s.n > STRKEY_TEXT) {
		/* Long values: keep a prefix and a keyed hash of the whole, case folded. */
		uint64_t h = hash_bytes_fold(hk, s.p, s.n);

		memcpy(out + STRKEY_TEXT, &h, 8);
		return STRKEY_TEXT + 8;
	}
	return n;
}

/* The key bytes of ev for rule r; 0 if the event has no such key. */
static size_t
make_key(const struct hash_key *hk, const struct rule *r, const struct event *ev, uint8_t *k)
{
	struct span s;

	switch (r->key) {
	case KEY_GLOBAL:
		k[0] = '*';
		return 1;
	case KEY_CLIENT: {
		int plen;
		int bytes;

		if (ev->ip.family == 0)
			return 0;
		plen = ev->ip.family == 4 ? r->v4len : r->v6len;
		bytes = ev->ip.family == 4 ? 4 : 16;
		k[0] = ev->ip.family;
		k[1] = (uint8_t)plen;
		addr_mask_bytes(ev->ip.b, plen, k + 2);
		return 2 + (size_t)bytes;
	}
	case KEY_HELO:
		if (!cond_str_value(ev, F_HELO, &s))
			return 0;
		break;
	case KEY_SENDER:
		if (!cond_str_value(ev, F_FROM, &s))
			return 0;
		break;
	case KEY_SENDER_DOMAIN:
		if (!cond_str_value(ev, CF_SENDER_DOMAIN, &s) || s.n == 0)
			return 0;
		break;
	case KEY_RECIPIENT:
		if (!cond_str_value(ev, F_TO, &s))
			return 0;
		break;
	}
	return lower_key(hk, k, s);
}

/* Text form of a key, for decisions (engine.h). */
void
engine_key_text(const struct rule *r, const uint8_t *k, size_t klen, char *out, size_t outlen)
{
	if (r->key == KEY_GLOBAL) {
		snprintf(out, outlen, "*");
	} else if (r->key == KEY_CLIENT) {
		struct addr a = { .family = k[0] };
		char buf[ADDR_STRLEN];
		int full = a.family == 4 ? 32 : 128;

		memcpy(a.b, k + 2, a.family == 4 ? 4 : 16);
		addr_format(&a, buf);
		if (k[1] == full)
			snprintf(out, outlen, "%s", buf);
		else
			snprintf(out, outlen, "%s/%u", buf, k[1]);
	} else {
		size_t n = klen > STRKEY_TEXT ? STRKEY_TEXT : klen;

		snprintf(out, outlen, "%.*s%s", (int)n, (const char *)k, klen > STRKEY_TEXT ? "..." : "");
	}
}

/*
 * 1 if the event's line holds the field (or what it is derived from) but
 * client text made it unreadable: the parser left it out as doubtful.
 */
static int
doubtful_field(const struct event *ev, int field)
{
	if (ev->doubtful & EV_DOUBT_ANY)
		return 1;
	if (field == CF_SENDER_DOMAIN)
		field = F_FROM;
	else if (field == CF_RECIPIENT_DOMAIN)
		field = F_TO;
	return field < F__COUNT && ((ev->doubtful >> field) & 1);
}

/*
 * The fingerprint of the value a distinct rule counts: 64 bits of keyed
 * SipHash (case-blind for strings, see hash_bytes_fold). 0 if the event
 * has no such value. A value the line holds but client text made
 * unreadable (doubtful) counts as one never seen before: a harvester who
 * builds lines the parser cannot read (Exim cuts a long recipient short)
 * adds to the count instead of hiding from it.
 */
static int
distinct_fp(struct engine *e, const struct hash_key *hk, const struct rule *r, const struct event *ev, uint64_t *fp)
{
	struct span s;

	if (r->field == CF_IP) {
		/* "distinct client ipv6 /64": the prefix (family, length, bits) is the value */
		uint8_t v[18];

		if (ev->ip.family == 0)
			return 0;
		v[0] = ev->ip.family;
		v[1] = (uint8_t)(ev->ip.family == 4 ? r->dv4len : r->dv6len);
		addr_mask_bytes(ev->ip.b, v[1], v + 2);
		*fp = hash_bytes(hk, v, sizeof(v));
		return 1;
	}
	if (cond_field_numeric(r->field) ? ev_has(ev, (enum ev_field)r->field) : cond_str_value(ev, r->field, &s)) {
		*fp = cond_field_numeric(r->field) ? hash_bytes(hk, &ev->num[r->field], sizeof(int64_t)) :
		    hash_bytes_fold(hk, s.p, s.n);
		return 1;
	}
	if (!doubtful_field(ev, r->field))
		return 0;
	if (hk == &e->key)
		e->doubts++;	/* (the cluster's fingerprint of the same doubt, next, takes the same number) */
	{
		/* the process's own key in it too: another node's doubt number n is another value */
		uint64_t d[2] = { e->doubts, e->key.k0 };

		*fp = hash_bytes(hk, d, sizeof(d));
	}
	return 1;
}

static int
trusted(struct engine *e, const struct event *ev)
{
	if (ev->ip.family == 0)
		return 0;
	if (memcmp(&e->last_ip, &ev->ip, sizeof(ev->ip)) == 0)
		return e->last_trusted;
	e->last_ip = ev->ip;
	e->last_trusted = 0;
	for (int i = 0; i < e->c->ntrusted; i++)
		if (table_contains(e->c->trusted[i], &ev->ip))
			return e->last_trusted = 1;
	return 0;
}

static void
decide(struct rule_rt *rt, const uint8_t *k, size_t klen, struct window *w, uint64_t value,
    const struct event *ev, decision_fn fn, void *arg)
{
	const struct rule *r = rt->r;
	struct offender *o;
	struct decision d;
	int created;
	int64_t dur;

	o = keytab_put(rt->offenders, k, klen, ev->ts, &created, NULL);
	if (!created && o->until > ev->ts) {
		rt->st.suppressed++;	/* already under this rule's action: no decision storm */
		return;
	}
	dur = r->duration;
	for (uint32_t i = 0; i < o->decisions && r->escalate > 1 && dur < r->escalate_max; i++)
		dur *= r->escalate;
	if (r->escalate > 1 && dur > r->escalate_max)
		dur = r->escalate_max;
	memset(&d, 0, sizeof(d));
	d.ts = ev->ts;
	d.rule = r;
	engine_key_text(r, k, klen, d.key, sizeof(d.key));
	if (r->key == KEY_CLIENT) {
		/* (the key's bytes: family, prefix length, the masked address) */
		d.net.family = k[0];
		memcpy(d.net.b, k + 2, k[0] == 4 ? 4 : 16);
		d.plen = k[1];
	}
	d.action = r->action;
	d.duration = dur;
	d.value = value;
	d.level = o->decisions;
	d.ip = ev->ip;
	d.rep = ev->rep;
	d.type = ev->type;
	o->until = ev->ts + dur;
	o->decisions++;
	rt->st.decisions++;
	win_reset(w, r->measure == M_DISTINCT);	/* a new decision needs a new crossing */
	fn(arg, &d);
}

/* A scope cluster rule's event, to the cluster's counters: 1 if they took it. */
static int
share_event(struct engine *e, struct rule_rt *rt, const uint8_t *k, size_t klen, const struct event *ev)
{
	const struct rule *r = rt->r;
	struct engine_shared s = { .rule = (int)(rt - e->rt), .key = k, .klen = klen, .ckey = k, .cklen = klen,
		.ts = ev->ts, .add = 1, .ev = ev };
	uint8_t ck[STRKEY_TEXT + 8];

	if (klen == STRKEY_TEXT + 8 && r->key != KEY_CLIENT && r->key != KEY_GLOBAL) {
		/* a long string key ends in a hash: the cluster's */
		s.cklen = make_key(&e->ckey, r, ev, ck);
		s.ckey = ck;
	}
	if (r->measure == M_SUM) {
		int64_t v = ev->num[r->field];

		s.add = v < 0 ? 0 : (uint64_t)v;
	} else if (r->measure == M_DISTINCT && !distinct_fp(e, &e->ckey, r, ev, &s.fp)) {
		return 0;
	}
	return e->share(e->share_arg, &s);
}

void
engine_set_cluster(struct engine *e, const struct hash_key *ck, engine_share_fn fn, void *arg)
{
	e->share = fn;
	e->share_arg = arg;
	if (ck != NULL)
		e->ckey = *ck;
}

void
engine_cluster_decide(struct engine *e, int rule, const uint8_t *key, size_t klen, uint64_t value, int64_t ts,
    const struct addr *ip, enum ev_type type, decision_fn fn, void *arg)
{
	struct rule_rt *rt;
	struct window *w;
	struct event ev;
	int created;

	if (rule < 0 || rule >= e->n || klen == 0 || klen > STRKEY_TEXT + 8)
		return;
	rt = &e->rt[rule];
	if (value == 0) {
		/* not counted by the cluster: this node's window judges */
		if ((w = keytab_get(rt->windows, key, klen)) == NULL || w->total < rt->r->threshold)
			return;
		value = w->total;
	} else {
		/* this node's window of the key is reset with the cluster's */
		w = keytab_put(rt->windows, key, klen, ts, &created, free_window);
	}
	memset(&ev, 0, sizeof(ev));
	ev.ts = ts;
	ev.type = type;
	if (ip != NULL)
		ev.ip = *ip;
	decide(rt, key, klen, w, value, &ev, fn, arg);
}

void
engine_event(struct engine *e, const struct event *ev, decision_fn fn, void *arg)
{
	int nr = e->by_type[ev->type].n;

	if (nr == 0)
		return;
	if (e->c->ntrusted > 0 && trusted(e, ev)) {
		e->trusted++;
		return;
	}
	for (int j = 0; j < nr; j++) {
		struct rule_rt *rt = &e->rt[e->by_type[ev->type].rules[j]];
		const struct rule *r = rt->r;
		uint8_t k[STRKEY_TEXT + 8];
		size_t klen;
		struct window *w;
		uint32_t value;
		uint64_t fp = 0;
		int created, skip = 0;

		if (r->where != NULL && !cond_eval(r->where, ev))
			continue;
		for (int u = 0; u < r->nunless && !skip; u++)
			skip = cond_eval(r->unless[u], ev);
		if (skip || (klen = make_key(&e->key, r, ev, k)) == 0)
			continue;
		if (r->measure == M_DISTINCT && !distinct_fp(e, &e->key, r, ev, &fp))
			continue;
		if (r->measure == M_SUM && !ev_has(ev, (enum ev_field)r->field))
			continue;
		rt->st.events++;
		w = keytab_put(rt->windows, k, klen, ev->ts, &created, free_window);
		switch (r->measure) {
		case M_COUNT:
			value = win_add(w, rt->width, ev->ts, 1);
			break;
		case M_SUM: {
			int64_t v = ev->num[r->field];

			value = win_add(w, rt->width, ev->ts, v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
			break;
		}
		default:
			value = win_distinct(w, rt->width, ev->ts, fp, (uint32_t)r->threshold);
		}
		if (r->scope == SCOPE_CLUSTER && e->share != NULL && share_event(e, rt, k, klen, ev))
			;	/* the cluster's count decides (engine_cluster_decide) */
		else if (value >= r->threshold)
			decide(rt, k, klen, w, value, ev, fn, arg);
		/* Windows idle for longer than their span hold nothing: free them as we go. */
		keytab_expire(rt->windows, ev->ts - r->window - rt->width, SWEEP_PER_EVENT, free_window);
	}
}

uint64_t
engine_trusted(const struct engine *e)
{
	return e->trusted;
}

struct rule_stats
engine_rule_stats(const struct engine *e, int rule)
{
	struct rule_stats s = e->rt[rule].st;
	struct keytab_stats k = keytab_stats(e->rt[rule].windows);

	s.keys = k.size;
	s.keys_peak = k.peak;
	s.evicted = k.evicted;
	s.expired = k.expired;
	return s;
}

uint64_t
engine_memory(const struct engine *e)
{
	uint64_t m = 0;

	for (int i = 0; i < e->n; i++) {
		m += keytab_stats(e->rt[i].windows).peak * keytab_bytes_per_key(e->rt[i].windows);
		m += keytab_stats(e->rt[i].offenders).peak * keytab_bytes_per_key(e->rt[i].offenders);
	}
	return m;
}

int
decision_reason(const struct decision *d, char *buf, size_t len)
{
	const struct rule *r = d->rule;
	char win[32], dur[32];
	const char *what;
	char fieldbuf[64];

	conf_format_duration(r->window, win, sizeof(win));
	conf_format_duration(d->duration, dur, sizeof(dur));
	if (r->measure == M_COUNT)
		what = "events";
	else if (r->measure == M_DISTINCT && r->field == CF_IP && d->ip.family != 0 &&
	    (d->ip.family == 4 ? r->dv4len < 32 : r->dv6len < 128)) {
		snprintf(fieldbuf, sizeof(fieldbuf), "distinct client /%ds",
		    d->ip.family == 4 ? r->dv4len : r->dv6len);
		what = fieldbuf;
	} else {
		snprintf(fieldbuf, sizeof(fieldbuf), "%s %s", r->measure == M_SUM ? "total" : "distinct values of",
		    cond_field_name(r->field));
		what = fieldbuf;
	}
	return snprintf(buf, len, "%s %s: %llu %s within %s (threshold %llu, last %s)%s", key_kind_name(r->key),
	    d->key, (unsigned long long)d->value, what, win, (unsigned long long)r->threshold,
	    ev_type_name(d->type), d->level > 0 ? ", repeat offender" : "");
}

void
decision_json(struct outbuf *ob, const struct decision *d)
{
	char reason[400];
	int n;

	OB_LIT(ob, "{\"ts\":\"");
	put_iso8601(ob, d->ts, -1);
	OB_LIT(ob, "\",\"rule\":");
	ob_put_json_str(ob, d->rule->name, strlen(d->rule->name));
	OB_LIT(ob, ",\"key\":");
	ob_put_json_str(ob, d->key, strlen(d->key));
	OB_LIT(ob, ",\"action\":\"");
	ob_put(ob, action_name(d->action), strlen(action_name(d->action)));
	OB_LIT(ob, "\",\"duration\":");
	ob_put_i64(ob, d->duration);
	if (d->action == A_LIMIT && d->rule->limit_per == 0) {
		OB_LIT(ob, ",\"connections\":");	/* a cap on the connections open at once */
		ob_put_u64(ob, d->rule->limit_n);
	} else if (d->action == A_LIMIT) {
		OB_LIT(ob, ",\"limit\":");
		ob_put_u64(ob, d->rule->limit_n);
		OB_LIT(ob, ",\"per\":");
		ob_put_i64(ob, d->rule->limit_per);
	}
	OB_LIT(ob, ",\"value\":");
	ob_put_u64(ob, d->value);
	OB_LIT(ob, ",\"level\":");
	ob_put_u64(ob, d->level);
	if (d->ip.family) {
		char a[ADDR_STRLEN];

		OB_LIT(ob, ",\"ip\":\"");
		ob_put(ob, a, addr_format(&d->ip, a));
		ob_putc(ob, '"');
	}
	if (d->rep != NULL) {
		/* What the rules knew of the client: a decision says why. */
		OB_LIT(ob, ",\"rep\":{");
		rep_put_json(ob, d->rep);
		ob_putc(ob, '}');
	}
	n = decision_reason(d, reason, sizeof(reason));
	OB_LIT(ob, ",\"reason\":");
	ob_put_json_str(ob, reason, n < 0 ? 0 : (size_t)n >= sizeof(reason) ? sizeof(reason) - 1 : (size_t)n);
	OB_LIT(ob, "}\n");
}

/*
 * Why b's counters cannot be a's after a reload (NULL: they can): the
 * first difference in how the two count. The threshold, conditions and
 * actions may change freely: the counts stay what they were.
 */
static const char *
counting_change(const struct rule *a, const struct rule *b)
{
	if (a->types != b->types)
		return "the events it counts changed";
	if (a->key != b->key || a->v4len != b->v4len || a->v6len != b->v6len)
		return "its key (by ...) changed";
	if (a->measure != b->measure || a->field != b->field || a->dv4len != b->dv4len || a->dv6len != b->dv6len)
		return "what it counts changed";
	if (a->window != b->window)
		return "its window changed";
	if (a->max_keys != b->max_keys)
		return "its max-keys changed";
	if (a->scope != b->scope)
		return "its scope changed";
	return NULL;
}

void
engine_adopt(struct engine *e, struct engine *old, engine_reset_fn reset, void *arg)
{
	e->key = old->key;	/* the fingerprints in the windows taken over were made with it */
	for (int i = 0; i < e->n; i++)
		for (int j = 0; j < old->n; j++) {
			struct rule_rt tmp;
			const char *why;

			if (old->rt[j].windows == NULL || strcmp(e->rt[i].r->name, old->rt[j].r->name) != 0)
				continue;
			tmp = e->rt[i];
			if ((why = counting_change(e->rt[i].r, old->rt[j].r)) != NULL) {
				const struct rule *a = e->rt[i].r, *b = old->rt[j].r;

				if (reset != NULL && keytab_stats(old->rt[j].windows).size > 0)
					reset(arg, a->name, why);
				/* The same keys: the offenders' escalation levels still apply. */
				if (a->key == b->key && a->v4len == b->v4len && a->v6len == b->v6len &&
				    a->max_keys == b->max_keys) {
					e->rt[i].offenders = old->rt[j].offenders;
					old->rt[j].offenders = tmp.offenders;
				}
				break;
			}
			e->rt[i].windows = old->rt[j].windows;
			e->rt[i].offenders = old->rt[j].offenders;
			e->rt[i].st = old->rt[j].st;
			old->rt[j].windows = tmp.windows;	/* old frees the new, empty tables */
			old->rt[j].offenders = tmp.offenders;
			break;
		}
	engine_free(old);
}

/* Key bytes from a decision's key text (the inverse of engine_key_text). */
static size_t
key_from_text(const struct hash_key *hk, const struct rule *r, const char *text, uint8_t *k)
{
	if (r->key == KEY_GLOBAL)
		return strcmp(text, "*") == 0 ? (k[0] = '*', 1) : 0;
	if (r->key == KEY_CLIENT) {
		struct event ev;
		int plen, neg;
		char err[80];

		memset(&ev, 0, sizeof(ev));
		/* The text is an address (full length) or a prefix: it must be this rule's length. */
		if (!table_parse_entry(text, strlen(text), &ev.ip, &plen, &neg, err, sizeof(err)) || neg ||
		    plen != (ev.ip.family == 4 ? r->v4len : r->v6len))
			return 0;
		return make_key(hk, r, &ev, k);
	}
	if (strlen(text) > STRKEY_TEXT)
		return 0;	/* shown shortened: cannot be rebuilt */
	return lower_key(hk, k, (struct span){ text, strlen(text) });
}

int
engine_restore(struct engine *e, const char *rule, const char *key, int64_t until, uint32_t level)
{
	for (int i = 0; i < e->n; i++) {
		struct rule_rt *rt = &e->rt[i];
		uint8_t k[STRKEY_TEXT + 8];
		struct offender *o;
		size_t klen;
		int created;

		if (strcmp(rt->r->name, rule) != 0)
			continue;
		if ((klen = key_from_text(&e->key, rt->r, key, k)) == 0)
			return 0;
		o = keytab_put(rt->offenders, k, klen, until, &created, NULL);
		if (o->until < until)
			o->until = until;
		if (o->decisions < level + 1)
			o->decisions = level + 1;
		return 1;
	}
	return 0;
}

/* ------------------------------------------- counters with the state --- */

struct hash_key
engine_key(const struct engine *e)
{
	return e->key;
}

void
engine_set_key(struct engine *e, const struct hash_key *k)
{
	e->key = *k;
}

/* How a rule counts, as saved with its counters: counting_change's fields. */
#define COUNTING_FMT "types=%x key=%d v4=%d v6=%d measure=%d field=%d dv4=%d dv6=%d window=%lld max-keys=%u scope=%d"

void
engine_counting(const struct rule *r, char *out, size_t len)
{
	snprintf(out, len, COUNTING_FMT, (unsigned)r->types, (int)r->key, r->v4len, r->v6len, (int)r->measure,
	    r->field, r->dv4len, r->dv6len, (long long)r->window, (unsigned)r->max_keys, (int)r->scope);
}

const char *
engine_counting_change(const struct rule *r, const char *saved)
{
	struct rule b;
	unsigned types, max_keys;
	int key, measure, scope;
	long long window;

	memset(&b, 0, sizeof(b));
	if (sscanf(saved, COUNTING_FMT, &types, &key, &b.v4len, &b.v6len, &measure, &b.field, &b.dv4len, &b.dv6len,
	    &window, &max_keys, &scope) != 11)
		return "its saved counting is unreadable";
	b.types = types;
	b.key = (enum key_kind)key;
	b.measure = (enum measure)measure;
	b.window = window;
	b.max_keys = max_keys;
	b.scope = (enum scope)scope;
	return counting_change(r, &b);
}

void
engine_track_changes(struct engine *e)
{
	for (int i = 0; i < e->n; i++)
		keytab_track(e->rt[i].windows);
}

struct saving {
	const struct engine_saver *sv;
	const struct rule_rt *rt;
	uint8_t *buf;
	size_t cap;
	long rows;
	int failed;
};

static void
save_changed(void *arg, void *payload)
{
	struct saving *sg = arg;
	const struct window *w = payload;
	int distinct = sg->rt->r->measure == M_DISTINCT;
	size_t n = win_pack_size(w, distinct), klen;
	const uint8_t *k;

	if (sg->failed)
		return;
	if (n > sg->cap) {
		sg->cap = n * 2;
		sg->buf = xrealloc(sg->buf, sg->cap);
	}
	n = win_pack(w, distinct, sg->buf);
	k = keytab_key(sg->rt->windows, payload, &klen);
	if (sg->sv->put(sg->sv->arg, sg->rt->r->name, k, klen, keytab_seen(sg->rt->windows, payload), sg->buf, n) < 0)
		sg->failed = 1;
	sg->rows++;
}

static void
save_removed(void *arg, const uint8_t *key, size_t klen)
{
	struct saving *sg = arg;

	if (!sg->failed && sg->sv->del(sg->sv->arg, sg->rt->r->name, key, klen) < 0)
		sg->failed = 1;
	sg->rows++;
}

long
engine_save_changes(struct engine *e, const struct engine_saver *sv)
{
	struct saving sg = { .sv = sv };

	for (int i = 0; i < e->n && !sg.failed; i++) {
		sg.rt = &e->rt[i];
		if (keytab_rewrite(e->rt[i].windows) && sv->clear(sv->arg, e->rt[i].r->name) < 0)
			sg.failed = 1;
		else
			keytab_changes(e->rt[i].windows, save_changed, save_removed, &sg);
	}
	free(sg.buf);
	return sg.failed ? -1 : sg.rows;
}

void
engine_saved(struct engine *e)
{
	for (int i = 0; i < e->n; i++)
		keytab_saved(e->rt[i].windows);
}

int
engine_restore_window(struct engine *e, int rule, const uint8_t *key, size_t klen, int64_t seen, const void *data,
    size_t len)
{
	struct rule_rt *rt;
	struct window w, *slot;
	int distinct, created;
	uint64_t limit;

	if (rule < 0 || rule >= e->n || klen == 0 || klen > KEYTAB_KEYMAX)
		return -1;
	rt = &e->rt[rule];
	distinct = rt->r->measure == M_DISTINCT;
	/* (a threshold lowered since the row was saved: its values are kept, win_distinct copes) */
	limit = rt->r->threshold > (1u << 20) ? rt->r->threshold : (1u << 20);
	memset(&w, 0, sizeof(w));
	if (win_unpack(&w, distinct, data, len, limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit) < 0)
		return -1;
	slot = keytab_put(rt->windows, key, klen, seen, &created, free_window);
	if (!created)
		win_free(slot);
	*slot = w;
	return 0;
}
