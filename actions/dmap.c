/* dmap.c - see dmap.h. The keys live in a keytab (common/keytab.c). */
#include "dmap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/keytab.h"
#include "../common/table.h"
#include "../common/window.h"

#define PER_KEY 4		/* actions held per key; a fifth replaces the one ending first */

struct slot {
	int n;
	struct dmap_hit hit[PER_KEY];
	struct window msgs;	/* messages since a limit was put on the key (a count window) */
};

struct dmap {
	struct keytab *t;
	uint8_t used4[33], used6[129];	/* prefix lengths of the client keys held */
	int word_limits;		/* a limit by sender or sender domain was put (dmap_count_word counts then) */
	dmap_client_fn more;		/* what else is known of a client (its reputation), or NULL */
	void *more_arg;
};

struct dmap *
dmap_new(uint32_t capacity)
{
	struct dmap *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->t = keytab_new(capacity, sizeof(struct slot), DMAP_KEYMAX)) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
dmap_free(struct dmap *m)
{
	if (m == NULL)
		return;
	keytab_free(m->t, NULL);
	free(m);
}

int
dmap_action_of(const char *a)
{
	static const char *const names[] = { "block", "reject", "defer", "discard", "hold", "tarpit", "limit" };

	for (int i = 0; i < 7; i++)
		if (strcmp(a, names[i]) == 0)
			return i;
	return -1;
}

/* kind byte + key, lower-cased; 0 if it does not fit. */
static size_t
make_key(enum dmap_kind kind, const char *key, char *out)
{
	size_t n = strlen(key);

	if (n == 0 || n + 1 > DMAP_KEYMAX)
		return 0;
	out[0] = (char)('0' + kind);
	for (size_t i = 0; i < n; i++)
		out[i + 1] = (char)tolower((unsigned char)key[i]);
	return n + 1;
}

int
dmap_put(struct dmap *m, enum dmap_kind kind, const char *key, const struct dmap_hit *h)
{
	char k[DMAP_KEYMAX];
	size_t klen;
	struct slot *s;
	int created, at;
	int64_t last = h->until;

	if (kind != DK_CLIENT && h->action == DM_LIMIT)
		m->word_limits = 1;	/* from now on, messages are counted by sender too (dmap_count_word) */
	if (kind == DK_CLIENT) {
		struct addr a;
		int plen, neg;
		char err[64];

		if (!table_parse_entry(key, strlen(key), &a, &plen, &neg, err, sizeof(err)) || neg)
			return 0;
		if (a.family == 4)
			m->used4[plen] = 1;
		else
			m->used6[plen] = 1;
	}
	if ((klen = make_key(kind, key, k)) == 0)
		return 0;
	s = keytab_get(m->t, k, klen);
	for (int i = 0; s != NULL && i < s->n; i++)
		last = s->hit[i].until > last ? s->hit[i].until : last;
	/* "Seen" is the latest end among the key's actions: the sweep drops keys once all have ended. */
	s = keytab_put(m->t, k, klen, last, &created, NULL);
	for (at = 0; at < s->n && s->hit[at].action != h->action; at++)
		;
	if (h->action == DM_LIMIT && (at == s->n || s->hit[at].limit_per != h->limit_per))
		win_reset(&s->msgs, 0);	/* a new limit counts from now */
	if (at == s->n) {
		if (s->n < PER_KEY)
			s->n++;
		else
			for (int i = at = 0; i < s->n; i++)
				at = s->hit[i].until < s->hit[at].until ? i : at;
	}
	s->hit[at] = *h;
	return 1;
}

int
dmap_del(struct dmap *m, enum dmap_kind kind, const char *key)
{
	char k[DMAP_KEYMAX];
	size_t klen = make_key(kind, key, k);
	struct slot *s = klen ? keytab_get(m->t, k, klen) : NULL;

	if (s == NULL || s->n == 0)
		return 0;
	s->n = 0;	/* the sweep frees the slot in time */
	return 1;
}

static void
clear_one(void *arg, void *payload)
{
	(void)arg;
	((struct slot *)payload)->n = 0;
}

void
dmap_clear(struct dmap *m)
{
	keytab_foreach(m->t, clear_one, NULL);
}

/* The strongest action of a slot in force at now (a limit: whether it is reached, at now). */
static int
strongest(struct slot *s, int64_t now, struct dmap_hit *out)
{
	int best = -1;

	for (int i = 0; s != NULL && i < s->n; i++)
		if (s->hit[i].until > now && (best < 0 || s->hit[i].action < s->hit[best].action))
			best = i;
	if (best < 0)
		return 0;
	*out = s->hit[best];
	if (out->action == DM_LIMIT && out->limit_per > 0)
		out->over = win_add(&s->msgs, win_width(out->limit_per), now, 0) >= out->limit_n;
	return 1;
}

int
dmap_word(struct dmap *m, enum dmap_kind kind, const char *key, int64_t now, struct dmap_hit *out)
{
	char k[DMAP_KEYMAX];
	size_t klen = make_key(kind, key, k);

	return klen > 0 && strongest(keytab_get(m->t, k, klen), now, out);
}

/*
 * The slot of the client key for a's network of plen bits ("203.0.113.7",
 * "2001:db8:1::/48"), if that prefix length is in use and the key is held.
 */
static struct slot *
client_slot(struct dmap *m, const struct addr *a, int plen)
{
	int maxlen = a->family == 4 ? 32 : 128;
	struct addr net = *a;
	char text[ADDR_STRLEN + 5], k[DMAP_KEYMAX];
	size_t n, klen;

	if (!(a->family == 4 ? m->used4 : m->used6)[plen])
		return NULL;
	addr_mask(&net, plen);
	n = addr_format(&net, text);
	if (plen != maxlen)
		snprintf(text + n, sizeof(text) - n, "/%d", plen);
	klen = make_key(DK_CLIENT, text, k);
	return klen > 0 ? keytab_get(m->t, k, klen) : NULL;
}

int
dmap_client(struct dmap *m, const struct addr *a, int64_t now, struct dmap_hit *out)
{
	int found = 0;
	struct dmap_hit h;

	if (a->family != 4 && a->family != 6)
		return 0;
	/* Every prefix length in use, longest first; the strongest action over all of them wins. */
	for (int plen = a->family == 4 ? 32 : 128; plen >= 0; plen--) {
		if (strongest(client_slot(m, a, plen), now, &h) && (!found || h.action < out->action)) {
			*out = h;
			found = 1;
		}
	}
	if (m->more != NULL && m->more(m->more_arg, a, now, &h) && (!found || h.action < out->action)) {
		*out = h;
		found = 1;
	}
	return found;
}

void
dmap_set_client_source(struct dmap *m, dmap_client_fn fn, void *arg)
{
	m->more = fn;
	m->more_arg = arg;
}

struct walk {
	struct dmap *m;
	int64_t now, next;
	dmap_fn fn;
	void *arg;
};

static void
walk_one(void *arg, void *payload)
{
	struct walk *w = arg;
	struct slot *s = payload;
	struct dmap_hit h;
	char key[DMAP_KEYMAX + 1];
	size_t klen;
	const uint8_t *k = keytab_key(w->m->t, payload, &klen);

	if (klen < 2 || k[0] != '0' + DK_CLIENT || !strongest(s, w->now, &h))
		return;
	for (int i = 0; i < s->n; i++)
		if (s->hit[i].until > w->now && s->hit[i].until < w->next)
			w->next = s->hit[i].until;
	memcpy(key, k + 1, klen - 1);
	key[klen - 1] = '\0';
	w->fn(w->arg, key, &h);
}

int64_t
dmap_foreach_client(struct dmap *m, int64_t now, dmap_fn fn, void *arg)
{
	struct walk w = { m, now, INT64_MAX, fn, arg };

	keytab_foreach(m->t, walk_one, &w);
	return w.next;
}

void
dmap_count_message(struct dmap *m, const struct addr *a, int64_t t)
{
	if (a->family != 4 && a->family != 6)
		return;
	/* Longest prefix first: the most specific limit is the one that counts. */
	for (int plen = a->family == 4 ? 32 : 128; plen >= 0; plen--) {
		struct slot *s = client_slot(m, a, plen);

		for (int i = 0; s != NULL && i < s->n; i++)
			if (s->hit[i].action == DM_LIMIT && s->hit[i].until > t && s->hit[i].limit_per > 0) {
				win_add(&s->msgs, win_width(s->hit[i].limit_per), t, 1);
				return;
			}
	}
}

void
dmap_count_word(struct dmap *m, enum dmap_kind kind, const char *key, int64_t t)
{
	char k[DMAP_KEYMAX];
	size_t klen;
	struct slot *s;

	if (!m->word_limits)
		return;		/* no limit by sender or domain was ever put: no lookup per message */
	klen = make_key(kind, key, k);
	s = klen ? keytab_get(m->t, k, klen) : NULL;
	for (int i = 0; s != NULL && i < s->n; i++)
		if (s->hit[i].action == DM_LIMIT && s->hit[i].until > t && s->hit[i].limit_per > 0) {
			win_add(&s->msgs, win_width(s->hit[i].limit_per), t, 1);
			return;
		}
}

void
dmap_expire(struct dmap *m, int64_t now)
{
	keytab_expire(m->t, now, 1024, NULL);
}

const char *
dmap_postfix_result(const struct dmap_hit *h, char *buf, size_t len)
{
	switch (h->action) {
	case DM_BLOCK:
	case DM_REJECT:
		snprintf(buf, len, "REJECT 5.7.1 Rejected by mxguard rule %s", h->rule);
		return buf;
	case DM_DEFER:
		snprintf(buf, len, "DEFER 4.7.1 Deferred by mxguard rule %s, try again later", h->rule);
		return buf;
	case DM_DISCARD:
		snprintf(buf, len, "DISCARD mxguard rule %s", h->rule);
		return buf;
	case DM_HOLD:
		/* accepted, then kept in the hold queue for the postmaster to look at */
		snprintf(buf, len, "HOLD mxguard rule %s", h->rule);
		return buf;
	case DM_TARPIT:
		/* A restriction as the result: smtpd pauses, then goes on with the list (checked with Postfix 3.7). */
		snprintf(buf, len, "sleep %d", MAP_TARPIT_SECONDS);
		return buf;
	case DM_LIMIT:
		if (!h->over)
			return NULL;
		snprintf(buf, len, "DEFER 4.7.1 Rate limit reached (mxguard rule %s: %u messages per %u s), try again later",
		    h->rule, h->limit_n, h->limit_per);
		return buf;
	default:
		return NULL;
	}
}

const char *
dmap_sendmail_result(const struct dmap_hit *h, char *buf, size_t len)
{
	/* Sendmail re-spaces punctuation in the text: plain words only. */
	if (h->action == DM_BLOCK || h->action == DM_REJECT)
		snprintf(buf, len, "ERROR:5.7.1:550 Rejected by mxguard rule %s", h->rule);
	else if (h->action == DM_DEFER || (h->action == DM_LIMIT && h->over))
		snprintf(buf, len, "ERROR:4.7.1:451 Deferred by mxguard rule %s", h->rule);
	else if (h->action == DM_DISCARD)
		snprintf(buf, len, "DISCARD");
	else
		return NULL;	/* no word for tarpit (nor for hold: QUARANTINE does not act on Connect: entries) */
	return buf;
}
