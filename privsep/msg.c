/*
 * msg.c - the privsep messages: wire form and checks (see msg.h).
 */
#include "msg.h"

#include <stdio.h>
#include <string.h>

void
msg_entry_of(const struct fw_entry *e, int release, struct msg_entry *m)
{
	memset(m, 0, sizeof(*m));	/* (the padding too: nothing of the worker's memory goes out) */
	m->release = release ? 1 : 0;
	m->kind = (uint8_t)e->kind;
	m->family = e->addr.family;
	m->plen = (uint8_t)e->plen;
	memcpy(m->addr, e->addr.b, sizeof(m->addr));
	m->seconds = e->seconds;
	if (e->kind == FW_LIMIT) {
		m->limit_n = e->limit_n;
		m->limit_per = e->limit_per;
	}
	/* (a block's ports, or a cap's: pf's pass rule holds only those) */
	if ((e->kind == FW_BLOCK || (e->kind == FW_LIMIT && e->limit_per == 0)) && e->nports > 0 &&
	    e->nports <= FW_PORTS_MAX) {
		m->nports = e->nports;
		memcpy(m->ports, e->ports, e->nports * sizeof(m->ports[0]));
	}
	m->every_scope = release && e->every_scope ? 1 : 0;
}

/* Whether two prefixes share an address: equal on the shorter one's length. */
static int
overlaps(const struct addr *a, int alen, const struct addr *b, int blen)
{
	struct addr x = *a, y = *b;
	int n = alen < blen ? alen : blen;

	addr_mask(&x, n);
	addr_mask(&y, n);
	return x.family == y.family && memcmp(x.b, y.b, sizeof(x.b)) == 0;
}

/*
 * Whether the prefix reaches into the loopback networks: 127.0.0.0/8 (all
 * of it is loopback: systemd-resolved answers on 127.0.0.53, others bind
 * 127.0.0.2 and up), ::1, and IPv4-mapped ::ffff:127.0.0.0/104. Blocking
 * them would cut the host off its own services.
 */
static int
holds_loopback(const struct fw_entry *e)
{
	static const struct addr v4 = { .family = 4, .b = { 127 } };
	static const struct addr v6 = { .family = 6, .b = { [15] = 1 } };
	static const struct addr mapped = { .family = 6, .b = { [10] = 0xff, [11] = 0xff, [12] = 127 } };

	if (e->addr.family == 4)
		return overlaps(&e->addr, e->plen, &v4, 8);
	return overlaps(&e->addr, e->plen, &v6, 128) || overlaps(&e->addr, e->plen, &mapped, 104);
}

int
msg_entry_check(const struct msg_entry *m, int caps, struct fw_entry *e, char *why, size_t whylen)
{
	struct addr masked;
	int maxlen = m->family == 4 ? 32 : 128;

	memset(e, 0, sizeof(*e));
	if (m->release > 1) {
		snprintf(why, whylen, "an entry neither block nor release (%u)", m->release);
		return -1;
	}
	if (m->family != 4 && m->family != 6) {
		snprintf(why, whylen, "an address of family %u", m->family);
		return -1;
	}
	if (m->plen > maxlen) {
		snprintf(why, whylen, "a prefix length %u for IPv%u", m->plen, m->family);
		return -1;
	}
	e->addr.family = m->family;
	memcpy(e->addr.b, m->addr, sizeof(e->addr.b));
	e->plen = m->plen;
	masked = e->addr;
	addr_mask(&masked, e->plen);
	if (memcmp(&masked, &e->addr, sizeof(masked)) != 0) {
		snprintf(why, whylen, "an address with host bits set beyond /%u (or bytes past an IPv4 address)",
		    m->plen);
		return -1;
	}
	if (m->kind > FW_TARPIT) {
		snprintf(why, whylen, "an unknown kind of entry (%u)", m->kind);
		return -1;
	}
	e->kind = (enum fw_kind)m->kind;
	/* (ports: a block's, or a cap's at a firewall that caps on some ports only, pf) */
	if (m->nports > FW_PORTS_MAX || (m->nports > 0 && m->kind != FW_BLOCK && !(m->kind == FW_LIMIT &&
	    m->limit_per == 0)) || m->every_scope > 1 ||
	    (m->every_scope && !m->release)) {
		snprintf(why, whylen, "ports on an entry that cannot have them (%u ports, kind %u, every_scope %u)",
		    m->nports, m->kind, m->every_scope);
		return -1;
	}
	for (int i = 0; i < FW_PORTS_MAX; i++)
		if ((i < m->nports && m->ports[i] == 0) || (i >= m->nports && m->ports[i] != 0)) {
			snprintf(why, whylen, "a port list with a port 0 or bytes past its end");
			return -1;
		}
	if (m->nports > 0 && !(caps & MSG_CAP_PORTS)) {
		snprintf(why, whylen, "an entry of some ports, and this firewall cannot hold ports");
		return -1;
	}
	e->nports = m->nports;
	memcpy(e->ports, m->ports, sizeof(e->ports));
	e->every_scope = m->every_scope;
	/* A release names what is there; only what is put in is held to the limits below. */
	if (m->release)
		return 0;
	if (m->plen < (m->family == 4 ? MSG_V4_PLEN_MIN : MSG_V6_PLEN_MIN)) {
		snprintf(why, whylen, "a block of a /%u: wider than the /%d the privileged part allows", m->plen,
		    m->family == 4 ? MSG_V4_PLEN_MIN : MSG_V6_PLEN_MIN);
		return -1;
	}
	if (holds_loopback(e)) {
		snprintf(why, whylen, "a block of the loopback network");
		return -1;
	}
	if (m->seconds < 0 || m->seconds > MSG_SECONDS_MAX) {
		snprintf(why, whylen, "a duration of %lld seconds", (long long)m->seconds);
		return -1;
	}
	e->seconds = m->seconds;
	/* (a cap on open connections is a limit some firewalls that cannot shape can still hold: ipset) */
	if (e->kind != FW_BLOCK && !(caps & MSG_CAP_SHAPES) &&
	    !(e->kind == FW_LIMIT && m->limit_per == 0 && (caps & MSG_CAP_CONNS))) {
		snprintf(why, whylen, "a limit or tarpit, and this firewall can only block");
		return -1;
	}
	if (e->kind == FW_LIMIT) {
		if (m->limit_n < 1 || m->limit_n > FW_LIMIT_N_MAX || m->limit_per > FW_LIMIT_PER_MAX ||
		    (m->limit_per == 0 && !(caps & MSG_CAP_CONNS))) {
			snprintf(why, whylen, "a limit of %u per %u seconds%s", m->limit_n, m->limit_per,
			    m->limit_per == 0 ? " (a cap on open connections this firewall cannot count)" : "");
			return -1;
		}
		e->limit_n = m->limit_n;
		e->limit_per = m->limit_per;
	} else if (m->limit_n != 0 || m->limit_per != 0) {
		snprintf(why, whylen, "a rate on an entry that is not a limit");
		return -1;
	}
	return 0;
}

int
msg_decode(const void *buf, size_t len, int caps, struct msg_hdr *h, const struct msg_entry **entries,
    char *why, size_t whylen)
{
	struct fw_entry e;

	*entries = NULL;
	if (len < sizeof(*h)) {
		snprintf(why, whylen, "a message of %zu bytes, shorter than a header", len);
		return -1;
	}
	memcpy(h, buf, sizeof(*h));
	if (h->magic != MSG_MAGIC) {
		snprintf(why, whylen, "a message without the magic number");
		return -1;
	}
	switch (h->type) {
	case MSG_FW_INIT:
	case MSG_FW_FLUSH:
	case MSG_FW_FINI:
		if (len != sizeof(*h) || h->n != 0 || h->rc != 0 ||
		    (h->flags & ~(h->type == MSG_FW_FINI ? MSG_REMOVE : 0u)) != 0) {
			snprintf(why, whylen, "a request of type %u with a body, a count or flags it does not have",
			    h->type);
			return -1;
		}
		return 0;
	case MSG_FW_APPLY:
		if (h->n > MSG_ENTRIES_MAX || len != sizeof(*h) + (size_t)h->n * sizeof(struct msg_entry) ||
		    h->rc != 0 || (h->flags & ~MSG_MORE_FOLLOWS) != 0) {
			snprintf(why, whylen, "an apply of %zu bytes that does not hold the %u entries it says",
			    len, h->n);
			return -1;
		}
		for (uint32_t i = 0; i < h->n; i++) {
			struct msg_entry m;
			char w[160];

			memcpy(&m, (const char *)buf + sizeof(*h) + i * sizeof(m), sizeof(m));
			if (msg_entry_check(&m, caps, &e, w, sizeof(w)) < 0) {
				snprintf(why, whylen, "entry %u: %s", i, w);
				return -1;
			}
		}
		*entries = (const struct msg_entry *)(const void *)((const char *)buf + sizeof(*h));
		return 0;
	case MSG_OPEN_LOG:
		if (h->n < 1 || h->n > MSG_PATH_MAX || len != sizeof(*h) + h->n || h->rc != 0 || h->flags != 0 ||
		    memchr((const char *)buf + sizeof(*h), '\0', h->n) != NULL) {
			snprintf(why, whylen, "an open of %zu bytes that is not a header and a path of %u bytes", len,
			    h->n);
			return -1;
		}
		return 0;
	default:
		snprintf(why, whylen, "a message of unknown type %u", h->type);
		return -1;
	}
}
