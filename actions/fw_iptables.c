/*
 * fw_iptables.c - iptables and ip6tables through libiptc / libip6tc
 * (the kernel's legacy x_tables, no iptables command is run).
 *
 * mxguard's own chain ("mxguard" unless chain=NAME) in the filter table,
 * jumped to from the top of INPUT (and FORWARD with the "forward" option,
 * for a gateway), in both families. Blocks: when ipset is there, one rule
 * per family matching a set (NAME4, NAME6: hash:net with timeouts,
 * ipsets.c), so a packet costs one set lookup whatever the number of
 * bans; else (or with the "rules" option) one rule per blocked address or
 * prefix. DROP, or REJECT with the "reject" option. A block of some ports
 * only ('ports') matches TCP to those ports (multiport): in sets, a pair of
 * sets per list of ports with a rule each (ipsets.h); else in the client's
 * rule. A limited client gets a rule that drops its new connections over
 * the rate (hashlimit), a capped one ('limit N connections') a rule that
 * refuses with a TCP reset a new connection over N open (connlimit, per
 * address), a tarpitted one a rule that lets one packet a second through.
 *
 * libiptc reads the whole table and writes it back in one replace: a
 * batch is one atomic commit per family, but its cost grows with the
 * number of rules (bench/RESULTS.md: per-rule blocks are sensible to a
 * few thousand). The chain is
 * mxguard's alone: a start reconciles it with the decisions in force, and
 * removal takes out the chain and the jumps, nothing else. The xtables
 * lock is held around every read-modify-commit, as iptables itself does.
 */
#include <errno.h>
#include <fcntl.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_connlimit.h>
#include <linux/netfilter/xt_hashlimit.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"
#include "../common/clock.h"
#include "ipsets.h"

#define XTABLES_LOCK "/run/xtables.lock"
#define XTABLES_LOCK_WAIT_MS 5000
#define ENTRY_MAX 768		/* one rule: header, up to three matches, a target */

/* What differs between libiptc and libip6tc beyond the shared xtc_ops. */
struct family {
	int af;				/* 4 or 6 */
	const char *name;		/* for messages */
	const struct xtc_ops *ops;
	size_t hdr;			/* sizeof(struct ipt_entry) or (struct ip6t_entry) */
	const void *(*first_rule)(const char *chain, struct xtc_handle *h);
	const void *(*next_rule)(const void *prev, struct xtc_handle *h);
	const char *(*get_target)(const void *e, struct xtc_handle *h);
	int (*insert)(const char *chain, const void *e, unsigned int n, struct xtc_handle *h);
	int (*append)(const char *chain, const void *e, struct xtc_handle *h);
	int (*delete_num)(const char *chain, unsigned int n, struct xtc_handle *h);
	int (*delete_chain)(const char *chain, struct xtc_handle *h);
};

static const void *v4_first(const char *c, struct xtc_handle *h) { return iptc_first_rule(c, h); }
static const void *v4_next(const void *p, struct xtc_handle *h) { return iptc_next_rule(p, h); }
static const char *v4_target(const void *e, struct xtc_handle *h) { return iptc_get_target(e, h); }
static int v4_insert(const char *c, const void *e, unsigned int n, struct xtc_handle *h)
{ return iptc_insert_entry(c, e, n, h); }
static int v4_append(const char *c, const void *e, struct xtc_handle *h) { return iptc_append_entry(c, e, h); }
static int v4_delete_num(const char *c, unsigned int n, struct xtc_handle *h) { return iptc_delete_num_entry(c, n, h); }
static int v4_delete_chain(const char *c, struct xtc_handle *h) { return iptc_delete_chain(c, h); }
static const void *v6_first(const char *c, struct xtc_handle *h) { return ip6tc_first_rule(c, h); }
static const void *v6_next(const void *p, struct xtc_handle *h) { return ip6tc_next_rule(p, h); }
static const char *v6_target(const void *e, struct xtc_handle *h) { return ip6tc_get_target(e, h); }
static int v6_insert(const char *c, const void *e, unsigned int n, struct xtc_handle *h)
{ return ip6tc_insert_entry(c, e, n, h); }
static int v6_append(const char *c, const void *e, struct xtc_handle *h) { return ip6tc_append_entry(c, e, h); }
static int v6_delete_num(const char *c, unsigned int n, struct xtc_handle *h) { return ip6tc_delete_num_entry(c, n, h); }
static int v6_delete_chain(const char *c, struct xtc_handle *h) { return ip6tc_delete_chain(c, h); }

static const struct family families[2] = {
	{ 4, "iptables", &iptc_ops, sizeof(struct ipt_entry), v4_first, v4_next, v4_target, v4_insert, v4_append,
	  v4_delete_num, v4_delete_chain },
	{ 6, "ip6tables", &ip6tc_ops, sizeof(struct ip6t_entry), v6_first, v6_next, v6_target, v6_insert,
	  v6_append, v6_delete_num, v6_delete_chain },
};

struct ipt {
	struct fw_opts opt;
	int usable[2];		/* the family's filter table could be read at start */
	int lockfd;
	int setmode;		/* blocks go to sets (ipset was there at start) */
	struct ipsets sets;
	struct ipsets_scope *scopes;	/* set mode: the lists of ports of blocks so far, sets and rules made */
	int nscopes;
};

/* The entry's header fields both families share, after the address part. */
static struct ipt_entry *
v4(void *e)
{
	return e;
}

static struct ip6t_entry *
v6(void *e)
{
	return e;
}

static void
set_offsets(const struct family *f, void *e, size_t target_offset, size_t next_offset)
{
	if (f->af == 4) {
		v4(e)->target_offset = (uint16_t)target_offset;
		v4(e)->next_offset = (uint16_t)next_offset;
	} else {
		v6(e)->target_offset = (uint16_t)target_offset;
		v6(e)->next_offset = (uint16_t)next_offset;
	}
}

/* The netmask of a prefix (bytes: 4 or 16): all ones through the program's one prefix mask. */
static void
prefix_mask(int plen, int bytes, uint8_t *mask)
{
	uint8_t ones[16];

	memset(ones, 0xff, sizeof(ones));
	addr_mask_bytes(ones, plen, ones);
	memcpy(mask, ones, (size_t)bytes);
}

/* Append a match of `size` bytes of data; returns the data to fill. */
static void *
add_match(unsigned char *buf, size_t *off, const char *name, uint8_t revision, size_t size)
{
	struct xt_entry_match *m = (struct xt_entry_match *)(buf + *off);
	size_t total = XT_ALIGN(sizeof(*m)) + XT_ALIGN(size);

	m->u.user.match_size = (uint16_t)total;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = revision;
	*off += total;
	return m->data;
}

/* A per-source hashlimit that matches what goes over `n` packets per `per` seconds. */
static void
add_hashlimit(const struct family *f, unsigned char *buf, size_t *off, const char *name, uint32_t n, uint32_t per)
{
	struct xt_hashlimit_mtinfo1 *h = add_match(buf, off, "hashlimit", 1, sizeof(*h));
	uint64_t avg = (uint64_t)XT_HASHLIMIT_SCALE * per / n;

	snprintf(h->name, sizeof(h->name), "%s", name);
	h->cfg.mode = XT_HASHLIMIT_HASH_SIP | XT_HASHLIMIT_INVERT;
	h->cfg.avg = avg > UINT32_MAX ? UINT32_MAX : avg ? (uint32_t)avg : 1;
	h->cfg.burst = n;
	h->cfg.gc_interval = 1000;
	/* A client's bucket lives as long as the period, so a slow client stays counted. */
	h->cfg.expire = per * 1000 + 1000;
	h->cfg.srcmask = h->cfg.dstmask = f->af == 4 ? 32 : 128;
}

static size_t build_rule(const struct family *f, const struct ipt *s, const struct fw_entry *e, const char *jump,
    ip_set_id_t set, unsigned char *buf);

/* The rule matches TCP only (a match of ports or of connections needs it; so does a TCP reset). */
static void
set_tcp(const struct family *f, void *e)
{
	if (f->af == 4)
		v4(e)->ip.proto = IPPROTO_TCP;
	else {
		v6(e)->ipv6.proto = IPPROTO_TCP;
		v6(e)->ipv6.flags |= IP6T_F_PROTO;
	}
}

/*
 * New connections only (conntrack's state NEW; revision 3, as iptables
 * writes `-m conntrack --ctstate NEW`, so `iptables -S` shows it).
 */
static void
add_new_only(unsigned char *buf, size_t *off)
{
	struct xt_conntrack_mtinfo3 *ct = add_match(buf, off, "conntrack", 3, sizeof(*ct));

	ct->match_flags = XT_CONNTRACK_STATE;
	ct->state_mask = XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
}

/*
 * TCP SYNs only (`-p tcp --syn`: SYN set; FIN, RST, ACK clear). A cap counts
 * the connections conntrack tracks, and conntrack takes any packet it has no
 * entry for as a new connection (picked up mid-stream): without this, the
 * next packet of a connection open before conntrack ran here (the cap's own
 * rule may be the first to need it), or a closed one's last ACK, would be
 * counted, or refused with a reset.
 */
static void
add_syn_only(const struct family *f, unsigned char *buf, size_t *off)
{
	struct xt_tcp *t;

	set_tcp(f, buf);
	t = add_match(buf, off, "tcp", 0, sizeof(*t));
	t->spts[1] = t->dpts[1] = 0xffff;
	t->flg_mask = 0x17;	/* FIN SYN RST ACK */
	t->flg_cmp = 0x02;	/* SYN */
}

/* TCP to these ports (the entry's, at most FW_PORTS_MAX, below multiport's 15). */
static void
add_ports(const struct family *f, unsigned char *buf, size_t *off, const struct fw_entry *e)
{
	struct xt_multiport_v1 *m;

	set_tcp(f, buf);
	m = add_match(buf, off, "multiport", 1, sizeof(*m));
	m->flags = XT_MULTIPORT_DESTINATION;
	m->count = e->nports;
	for (int i = 0; i < e->nports; i++)
		m->ports[i] = e->ports[i];
}

/*
 * Build the rule for an entry in buf (ENTRY_MAX bytes, zeroed); returns
 * its size. jump: the rule that sends everything to mxguard's chain.
 */
static size_t
build(const struct family *f, const struct ipt *s, const struct fw_entry *e, const char *jump, unsigned char *buf)
{
	return build_rule(f, s, e, jump, IPSET_INVALID_ID, buf);
}

/* The same, for any rule: set != IPSET_INVALID_ID makes the rule that matches that set. */
static size_t
build_rule(const struct family *f, const struct ipt *s, const struct fw_entry *e, const char *jump, ip_set_id_t set,
    unsigned char *buf)
{
	size_t off = f->hdr, toff, tsize;
	struct xt_entry_target *t;
	int reject = 0;

	memset(buf, 0, ENTRY_MAX);
	if (set != IPSET_INVALID_ID) {
		/* Revision 4, the one iptables writes too, so `iptables -S` shows the rule. */
		struct xt_set_info_match_v4 *m;

		if (e != NULL && e->nports > 0)
			add_ports(f, buf, &off, e);	/* a scope's rule: its sets, those ports */
		m = add_match(buf, &off, "set", 4, sizeof(*m));

		m->match_set.index = set;
		m->match_set.dim = IPSET_DIM_ONE;
		m->match_set.flags = IPSET_DIM_ONE_SRC;
		reject = s->opt.reject;
	} else if (e != NULL) {
		if (f->af == 4) {
			memcpy(&v4(buf)->ip.src, e->addr.b, 4);
			prefix_mask(e->plen, 4, (uint8_t *)&v4(buf)->ip.smsk);
		} else {
			memcpy(&v6(buf)->ipv6.src, e->addr.b, 16);
			prefix_mask(e->plen, 16, (uint8_t *)&v6(buf)->ipv6.smsk);
		}
		if (e->kind == FW_LIMIT && e->limit_per == 0) {
			struct xt_connlimit_info *cl;

			/* New connections only (their SYN): those open before the cap go on. */
			add_syn_only(f, buf, &off);
			add_new_only(buf, &off);
			cl = add_match(buf, &off, "connlimit", 1, sizeof(*cl));
			memset(&cl->mask, 0xff, f->af == 4 ? 4 : 16);	/* counted per address */
			cl->limit = e->limit_n;
			cl->flags = 0;	/* over the limit (not "up to"), by source address */
			reject = 2;
		} else if (e->kind == FW_LIMIT) {
			/* One hash table per rate, named after it exactly: rules with the same rate share it. */
			uint64_t rate = (uint64_t)e->limit_per << 20 | e->limit_n;
			char name[16] = "mxl";

			for (int i = 3; i < 14 && rate != 0; i++, rate >>= 5)
				name[i] = "0123456789abcdefghijklmnopqrstuv"[rate & 31];
			add_new_only(buf, &off);
			add_hashlimit(f, buf, &off, name, e->limit_n, e->limit_per);
		} else if (e->kind == FW_TARPIT)
			add_hashlimit(f, buf, &off, "mxtarpit", FW_TARPIT_PPS, 1);
		else {
			if (e->nports > 0)
				add_ports(f, buf, &off, e);
			reject = s->opt.reject;
		}
	}
	toff = off;
	t = (struct xt_entry_target *)(buf + off);
	if (reject) {
		size_t data = f->af == 4 ? sizeof(struct ipt_reject_info) : sizeof(struct ip6t_reject_info);

		tsize = XT_ALIGN(sizeof(*t)) + XT_ALIGN(data);
		snprintf(t->u.user.name, sizeof(t->u.user.name), "REJECT");
		/* reject 2: a TCP reset, so a capped client's connect fails at once, as with nftables */
		if (f->af == 4)
			((struct ipt_reject_info *)t->data)->with = reject == 2 ? IPT_TCP_RESET : IPT_ICMP_PORT_UNREACHABLE;
		else
			((struct ip6t_reject_info *)t->data)->with = reject == 2 ? IP6T_TCP_RESET : IP6T_ICMP6_PORT_UNREACH;
	} else {
		/* DROP or a jump: libiptc turns the name into a standard verdict. */
		tsize = XT_ALIGN(sizeof(struct xt_standard_target));
		snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", jump ? jump : "DROP");
	}
	t->u.user.target_size = (uint16_t)tsize;
	set_offsets(f, buf, toff, toff + tsize);
	return toff + tsize;
}

/*
 * The set an existing rule of the chain matches, if any: 1 and its index
 * (the main sets' rule, or a scope's).
 */
static int
rule_set(const struct family *f, const void *r, ip_set_id_t *idx)
{
	size_t toff = f->af == 4 ? ((const struct ipt_entry *)r)->target_offset :
	    ((const struct ip6t_entry *)r)->target_offset;

	for (size_t off = f->hdr; off < toff;) {
		const struct xt_entry_match *m = (const void *)((const unsigned char *)r + off);

		if (m->u.match_size == 0)
			break;
		if (strcmp(m->u.user.name, "set") == 0) {
			*idx = ((const struct xt_set_info_match_v4 *)m->data)->match_set.index;
			return 1;
		}
		off += m->u.match_size;
	}
	return 0;
}

/*
 * What an existing rule of the chain stands for: its source, kind, ports
 * and rate, as build() wrote them. 0 if it is not a client's rule (a
 * set's).
 */
static int
read_rule(const struct family *f, const void *r, struct fw_entry *e)
{
	const uint8_t *src, *mask;
	int bytes = f->af == 4 ? 4 : 16;
	size_t toff;

	memset(e, 0, sizeof(*e));
	if (f->af == 4) {
		const struct ipt_entry *x = r;

		src = (const uint8_t *)&x->ip.src;
		mask = (const uint8_t *)&x->ip.smsk;
		toff = x->target_offset;
	} else {
		const struct ip6t_entry *x = r;

		src = (const uint8_t *)&x->ipv6.src;
		mask = (const uint8_t *)&x->ipv6.smsk;
		toff = x->target_offset;
	}
	e->addr.family = (uint8_t)f->af;
	memcpy(e->addr.b, src, (size_t)bytes);
	for (int i = 0; i < bytes; i++)
		e->plen += __builtin_popcount(mask[i]);
	e->kind = FW_BLOCK;
	for (size_t off = f->hdr; off < toff;) {
		const struct xt_entry_match *m = (const void *)((const unsigned char *)r + off);
		const char *name = m->u.user.name;

		if (m->u.match_size == 0)
			break;
		if (strcmp(name, "set") == 0)
			return 0;	/* the rule that matches a set */
		if (strcmp(name, "multiport") == 0) {
			const struct xt_multiport_v1 *mp = (const void *)m->data;

			e->nports = mp->count > FW_PORTS_MAX ? FW_PORTS_MAX : mp->count;
			for (int i = 0; i < e->nports; i++)
				e->ports[i] = mp->ports[i];
		} else if (strcmp(name, "connlimit") == 0) {
			e->kind = FW_LIMIT;
			e->limit_n = ((const struct xt_connlimit_info *)m->data)->limit;
		} else if (strcmp(name, "hashlimit") == 0) {
			const struct xt_hashlimit_mtinfo1 *h = (const void *)m->data;
			uint64_t rate = 0;

			e->kind = FW_TARPIT;
			if (strncmp(h->name, "mxl", 3) == 0) {
				/* the rate, from the table's name (build: base 32, lowest digit first) */
				e->kind = FW_LIMIT;
				for (int i = 13; i >= 3; i--) {
					const char *d = h->name[i] ? strchr("0123456789abcdefghijklmnopqrstuv", h->name[i]) : NULL;

					if (d != NULL)
						rate = rate << 5 | (uint64_t)(d - "0123456789abcdefghijklmnopqrstuv");
				}
				e->limit_n = (uint32_t)(rate & 0xfffff);
				e->limit_per = (uint32_t)(rate >> 20);
			}
		}
		off += m->u.match_size;
	}
	return 1;
}

/* Order of entries by what names a rule's client: family, kind, address, prefix length. */
static int
client_cmp(const void *a, const void *b)
{
	const struct fw_entry *x = a, *y = b;
	int c;

	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if ((c = memcmp(x->addr.b, y->addr.b, 16)) != 0)
		return c;
	return x->plen - y->plen;
}

/* Order of entries: by client, then what the rule holds (a block's ports, a limit's rate): one rule each. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct fw_entry *x = a, *y = b;
	int c = client_cmp(a, b);

	if (c != 0)
		return c;
	if (x->nports != y->nports)
		return x->nports - y->nports;
	if ((c = memcmp(x->ports, y->ports, x->nports * sizeof(x->ports[0]))) != 0)
		return c;
	if (x->limit_per != y->limit_per)
		return x->limit_per < y->limit_per ? -1 : 1;
	return x->limit_n < y->limit_n ? -1 : x->limit_n > y->limit_n;
}

/*
 * 1 if one of the releases (sorted by entry_cmp) takes this rule away: the
 * same client and kind, and for a block the same ports or every scope (an
 * unban); a limit goes whatever its rate.
 */
static int
released(const struct fw_entry *e, const struct fw_entry *release, int n)
{
	const struct fw_entry *hit = bsearch(e, release, (size_t)n, sizeof(*e), client_cmp);
	long at;

	if (hit == NULL)
		return 0;
	at = hit - release;
	while (at > 0 && client_cmp(&release[at - 1], e) == 0)
		at--;
	for (; at < n && client_cmp(&release[at], e) == 0; at++)
		if (e->kind != FW_BLOCK || release[at].every_scope ||
		    fw_entry_ports_are(e, release[at].ports, release[at].nports))
			return 1;
	return 0;
}

/*
 * The xtables lock, as iptables takes it — but waited for at most
 * XTABLES_LOCK_WAIT_MS: an iptables stuck while holding it must not stall
 * the daemon's loop (the batch fails and is retried later). 0, or -1
 * (logged). Without a lock file (it cannot be created) the old way: go on.
 */
static int
lock(struct ipt *s)
{
	int64_t deadline = mono_ms() + XTABLES_LOCK_WAIT_MS;

	if (s->lockfd < 0)
		s->lockfd = open(XTABLES_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	while (s->lockfd >= 0 && flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_warn("iptables: locking %s", XTABLES_LOCK);
			return -1;
		}
		if (mono_ms() >= deadline) {
			log_warnx("iptables: %s is held by another process; trying again later", XTABLES_LOCK);
			return -1;
		}
		poll(NULL, 0, 20);
	}
	return 0;
}

static void
unlock(struct ipt *s)
{
	if (s->lockfd >= 0)
		flock(s->lockfd, LOCK_UN);
}

static struct xtc_handle *
table(const struct family *f)
{
	struct xtc_handle *h = f->ops->init("filter");

	if (h == NULL)
		log_warnx("%s: cannot read the filter table: %s", f->name, f->ops->strerror(errno));
	return h;
}

static int
commit(const struct family *f, struct xtc_handle *h)
{
	int ok = f->ops->commit(h);

	if (!ok)
		log_warnx("%s: commit: %s", f->name, f->ops->strerror(errno));
	f->ops->free(h);
	return ok ? 0 : -1;
}

/* 1 if the builtin chain has a rule jumping to ours. */
static int
has_jump(const struct family *f, struct xtc_handle *h, const char *builtin, const char *chain, unsigned int *at)
{
	unsigned int i = 0;

	for (const void *r = f->first_rule(builtin, h); r != NULL; r = f->next_rule(r, h), i++)
		if (strcmp(f->get_target(r, h), chain) == 0) {
			*at = i;
			return 1;
		}
	return 0;
}

/* The kernel's index of an ipset set, which a rule matching it carries. */
static int
set_index(const char *name, ip_set_id_t *idx)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	struct ip_set_req_version v = { .op = IP_SET_OP_VERSION };
	struct ip_set_req_get_set g;
	socklen_t len = sizeof(v);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (getsockopt(fd, SOL_IP, SO_IP_SET, &v, &len) == 0) {
		memset(&g, 0, sizeof(g));
		g.op = IP_SET_OP_GET_BYNAME;
		g.version = v.version;
		snprintf(g.set.name, sizeof(g.set.name), "%s", name);
		len = sizeof(g);
		if (getsockopt(fd, SOL_IP, SO_IP_SET, &g, &len) == 0 && g.set.index != IPSET_INVALID_ID) {
			*idx = g.set.index;
			rc = 0;
		}
	}
	close(fd);
	return rc;
}

/* 1 if the chain has a rule matching the set of this index. */
static int
has_set_rule(const struct family *f, struct xtc_handle *h, const char *chain, ip_set_id_t idx)
{
	for (const void *r = f->first_rule(chain, h); r != NULL; r = f->next_rule(r, h)) {
		ip_set_id_t at;

		if (rule_set(f, r, &at) && at == idx)
			return 1;
	}
	return 0;
}

/*
 * The rule of a set in the chain (e: a scope's ports; NULL: the main
 * sets), inserted at the top if missing. The handle is freed on failure.
 */
static int
set_rule(const struct family *f, const struct ipt *s, struct xtc_handle *h, const char *set, const struct fw_entry *e)
{
	unsigned char buf[ENTRY_MAX];
	ip_set_id_t idx;

	if (set_index(set, &idx) < 0) {
		log_warnx("%s: cannot find ipset set %s", f->name, set);
		f->ops->free(h);
		return -1;
	}
	if (has_set_rule(f, h, s->opt.name, idx))
		return 0;
	build_rule(f, s, e, NULL, idx, buf);
	if (!f->insert(s->opt.name, buf, 0, h)) {
		log_warnx("%s: adding the rule for set %s: %s", f->name, set, f->ops->strerror(errno));
		f->ops->free(h);
		return -1;
	}
	return 0;
}

static int
setup(const struct family *f, struct ipt *s)
{
	const char *hooks[2] = { "INPUT", s->opt.forward ? "FORWARD" : NULL };
	unsigned char buf[ENTRY_MAX];
	struct xtc_handle *h = table(f);

	if (h == NULL)
		return -1;
	if (!f->ops->is_chain(s->opt.name, h) && !f->ops->create_chain(s->opt.name, h)) {
		log_warnx("%s: creating chain %s: %s", f->name, s->opt.name, f->ops->strerror(errno));
		f->ops->free(h);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		unsigned int at;

		if (hooks[i] == NULL || has_jump(f, h, hooks[i], s->opt.name, &at))
			continue;
		build(f, s, NULL, s->opt.name, buf);
		if (!f->insert(hooks[i], buf, 0, h)) {
			log_warnx("%s: hooking %s from %s: %s", f->name, s->opt.name, hooks[i], f->ops->strerror(errno));
			f->ops->free(h);
			return -1;
		}
	}
	if (s->setmode && set_rule(f, s, h, s->sets.name[f->af == 6], NULL) < 0)
		return -1;
	return commit(f, h);
}

static int
ipt_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct ipt *s = xcalloc(1, sizeof(*s));
	int any = 0;

	(void)arg;
	s->lockfd = -1;
	s->opt = *o;
	/* Sets when ipset is there (and not refused with "rules"): a packet then costs one lookup. */
	if (!o->rules) {
		ipsets_name(&s->sets, o->name);
		s->setmode = ipsets_create(&s->sets, 1) == 0;
		if (!s->setmode)
			log_info("iptables: no ipset here: one rule per blocked client");
	}
	if (lock(s) == 0) {
		for (int i = 0; i < 2; i++) {
			s->usable[i] = setup(&families[i], s) == 0;
			any |= s->usable[i];
		}
		unlock(s);
	}
	if (!any) {
		if (s->lockfd >= 0)
			close(s->lockfd);
		free(s);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (!s->usable[i])
			log_warnx("%s: not available here; IPv%d bans are not enforced", families[i].name, families[i].af);
	*state = s;
	return 0;
}

/* One family's share of a batch: a single read of the table, a single commit. */
static int
apply_family(const struct family *f, struct ipt *s, struct fw_entry *block, int nblock, struct fw_entry *release,
    int nrelease)
{
	unsigned char buf[ENTRY_MAX];
	unsigned int *gone = NULL, ngone = 0, i = 0;
	char *present = xcalloc((size_t)nblock + 1, 1);
	struct xtc_handle *h = table(f);
	int rc = 0;

	if (h == NULL) {
		free(present);
		return -1;
	}
	/* One pass over the chain: what to delete, and what is there already. */
	for (const void *r = f->first_rule(s->opt.name, h); r != NULL; r = f->next_rule(r, h), i++) {
		struct fw_entry e;
		const struct fw_entry *hit;

		if (!read_rule(f, r, &e))
			continue;
		if (released(&e, release, nrelease)) {
			gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
			gone[ngone++] = i;
		} else if ((hit = bsearch(&e, block, (size_t)nblock, sizeof(e), entry_cmp)) != NULL)
			present[hit - block] = 1;
	}
	/* From the end, so the numbers of the rules still to delete hold. */
	while (ngone > 0)
		if (!f->delete_num(s->opt.name, gone[--ngone], h)) {
			log_warnx("%s: deleting a rule: %s", f->name, f->ops->strerror(errno));
			rc = -1;
		}
	for (int k = 0; k < nblock; k++) {
		if (present[k] || (k > 0 && entry_cmp(&block[k], &block[k - 1]) == 0))
			continue;
		build(f, s, &block[k], NULL, buf);
		if (!f->append(s->opt.name, buf, h)) {
			log_warnx("%s: adding a rule: %s", f->name, f->ops->strerror(errno));
			rc = -1;
		}
	}
	free(gone);
	free(present);
	if (commit(f, h) < 0)
		rc = -1;
	return rc;
}

/*
 * Set mode: the sets of a block's ports, and their rule in each family's
 * chain (TCP to those ports, from the set), made on first use. NULL if
 * they could not be (logged; the batch fails and is retried).
 */
static const struct ipsets_scope *
scope_of(struct ipt *s, const struct fw_entry *e)
{
	struct ipsets_scope sc;
	int rc = 0;

	for (int i = 0; i < s->nscopes; i++)
		if (fw_entry_ports_are(e, s->scopes[i].port, s->scopes[i].n))
			return &s->scopes[i];
	ipsets_scope_init(&sc, s->opt.name, e);
	if (ipsets_create(&sc.sets, 0) < 0 || lock(s) < 0)
		return NULL;
	for (int i = 0; i < 2 && rc == 0; i++) {
		const struct family *f = &families[i];
		struct xtc_handle *h;

		if (!s->usable[i])
			continue;
		if ((h = table(f)) == NULL || set_rule(f, s, h, sc.sets.name[i], e) < 0 || commit(f, h) < 0)
			rc = -1;
	}
	unlock(s);
	if (rc < 0)
		return NULL;
	s->scopes = xrealloc(s->scopes, (size_t)(s->nscopes + 1) * sizeof(*s->scopes));
	s->scopes[s->nscopes] = sc;
	return &s->scopes[s->nscopes++];
}

/* Set mode: blocks (and their releases) into the main sets and the scopes' sets, in an ipset run each. */
static int
apply_sets(struct ipt *s, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	int rc = 0;

	for (int i = 0; i < nblock; i++)
		if (block[i].kind == FW_BLOCK && block[i].nports > 0 && scope_of(s, &block[i]) == NULL)
			rc = -1;
	if (ipsets_apply_scoped(&s->sets, s->scopes, s->nscopes, block, nblock, release, nrelease) < 0)
		rc = -1;
	return rc;
}

static int
ipt_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct ipt *s = state;
	struct fw_entry *b = xmalloc(((size_t)nblock + 1) * sizeof(*b));
	struct fw_entry *r = xmalloc(((size_t)nrelease + 1) * sizeof(*r));
	int rc = 0;

	if (nblock > 0)
		memcpy(b, block, (size_t)nblock * sizeof(*b));
	if (nrelease > 0)
		memcpy(r, release, (size_t)nrelease * sizeof(*r));
	if (s->setmode) {
		/* Blocks go to the sets; the rest stays for the chain. */
		int k = 0;

		if (apply_sets(s, block, nblock, release, nrelease) < 0)
			rc = -1;
		for (int i = 0; i < nblock; i++)
			if (b[i].kind != FW_BLOCK)
				b[k++] = b[i];
		nblock = k;
		k = 0;
		for (int i = 0; i < nrelease; i++)
			if (r[i].kind != FW_BLOCK)
				r[k++] = r[i];
		nrelease = k;
	}
	/* Sorted by family first: each family's entries are one run. */
	qsort(b, (size_t)nblock, sizeof(*b), entry_cmp);
	qsort(r, (size_t)nrelease, sizeof(*r), entry_cmp);
	if ((nblock > 0 || nrelease > 0) && lock(s) < 0) {
		free(b);
		free(r);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		int b0 = 0, nb = 0, r0 = 0, nr = 0;

		while (b0 < nblock && b[b0].addr.family != families[i].af)
			b0++;
		while (b0 + nb < nblock && b[b0 + nb].addr.family == families[i].af)
			nb++;
		while (r0 < nrelease && r[r0].addr.family != families[i].af)
			r0++;
		while (r0 + nr < nrelease && r[r0 + nr].addr.family == families[i].af)
			nr++;
		if ((nb > 0 || nr > 0) && s->usable[i] && apply_family(&families[i], s, b + b0, nb, r + r0, nr) < 0)
			rc = -1;
	}
	unlock(s);
	free(b);
	free(r);
	return rc;
}

static int
ipt_flush(void *state)
{
	struct ipt *s = state;
	int rc = 0;

	if (lock(s) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const struct family *f = &families[i];
		struct xtc_handle *h;

		if (!s->usable[i])
			continue;
		if ((h = table(f)) == NULL) {
			rc = -1;	/* logged; the flush is retried */
			continue;
		}
		if (!s->setmode) {
			if (!f->ops->flush_entries(s->opt.name, h)) {
				log_warnx("%s: flushing %s: %s", f->name, s->opt.name, f->ops->strerror(errno));
				rc = -1;
			}
		} else {
			/* Every rule but the one matching the set, from the end so the numbers hold. */
			unsigned int *gone = NULL, ngone = 0, n = 0;
			struct fw_entry e;

			for (const void *r = f->first_rule(s->opt.name, h); r != NULL; r = f->next_rule(r, h), n++)
				if (read_rule(f, r, &e)) {
					gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
					gone[ngone++] = n;
				}
			while (ngone > 0)
				if (!f->delete_num(s->opt.name, gone[--ngone], h)) {
					log_warnx("%s: flushing %s: %s", f->name, s->opt.name, f->ops->strerror(errno));
					rc = -1;
				}
			free(gone);
		}
		if (commit(f, h) < 0)
			rc = -1;
	}
	unlock(s);
	/* (the scopes' rules stay, with their sets emptied, this run's and an earlier run's) */
	if (s->setmode && (ipsets_flush(&s->sets) < 0 || ipsets_extra_each(s->opt.name, 0) < 0))
		rc = -1;
	return rc;
}

static void
ipt_fini(void *state, int remove)
{
	struct ipt *s = state;

	if (s == NULL)
		return;
	lock(s);	/* on with the removal even without it: the daemon is stopping */
	for (int i = 0; remove && i < 2; i++) {
		const struct family *f = &families[i];
		const char *hooks[2] = { "INPUT", "FORWARD" };
		struct xtc_handle *h;

		if (!s->usable[i] || (h = table(f)) == NULL)
			continue;
		for (int k = 0; k < 2; k++) {
			unsigned int at;

			while (has_jump(f, h, hooks[k], s->opt.name, &at))
				if (!f->delete_num(hooks[k], at, h))
					break;
		}
		if (f->ops->is_chain(s->opt.name, h) &&
		    (!f->ops->flush_entries(s->opt.name, h) || !f->delete_chain(s->opt.name, h)))
			log_warnx("%s: removing %s: %s", f->name, s->opt.name, f->ops->strerror(errno));
		commit(f, h);
	}
	unlock(s);
	/* The sets go once no rule uses them any more. */
	if (remove && s->setmode) {
		ipsets_destroy(&s->sets);
		ipsets_extra_each(s->opt.name, 1);
	}
	free(s->scopes);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s);
}

const struct fw_backend fw_iptables = {
	.name = "iptables",
	.shapes = 1,
	.ports = 1,
	.conns = 1,
	.name_key = "chain",
	.options = "forward reject rules",
	.init = ipt_init,
	.apply = ipt_apply,
	.flush = ipt_flush,
	.fini = ipt_fini,
};
