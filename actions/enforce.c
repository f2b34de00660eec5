/*
 * enforce.c - a decision's firewall and map entries (see enforce.h).
 */
#include "enforce.h"

#include <stdio.h>
#include <string.h>

/* 1 if the rule's action is a cap on open connections ('limit N connections'). */
static int
rule_is_cap(const struct config *c, const char *rule)
{
	const struct rule *r = conf_rule_named(c, rule);

	return r != NULL && r->action == A_LIMIT && r->limit_per == 0;
}

enum enforce_fw
enforce_fw_entry(const struct config *c, const struct fw_backend *fw, const char *rule, const char *action,
    const char *key, const struct addr *net, int plen, int64_t seconds, struct fw_entry *e)
{
	int kind = fw_kind_of(action);

	if (kind < 0)
		return ENF_FW_NONE;
	if (net != NULL && net->family != 0) {
		if (plen < 0 || plen > (net->family == 4 ? 32 : 128))
			return ENF_FW_NONE;
		memset(e, 0, sizeof(*e));
		e->addr = *net;
		e->plen = plen;
		addr_mask(&e->addr, plen);
		e->seconds = seconds;
	} else if (!fw_entry_parse(key, seconds, e))
		return ENF_FW_NONE;
	e->kind = (enum fw_kind)kind;
	if (kind != FW_BLOCK && !fw->shapes && !(kind == FW_LIMIT && fw->conns && rule_is_cap(c, rule)))
		return ENF_FW_CANNOT_SHAPE;
	if (kind == FW_BLOCK) {
		/* The rule's ports, else the configuration's ('set ports'); a rule gone since a reload: the latter. */
		const struct rule *r = conf_rule_named(c, rule);
		const struct port_list *pl = r != NULL && (r->ports.n > 0 || r->ports.all) ? &r->ports : &c->ports;

		if (!pl->all && pl->n > 0) {
			if (!fw->ports)
				return ENF_FW_NONE;	/* (refused at start: enforce_ports_ok) */
			memcpy(e->ports, pl->port, (size_t)pl->n * sizeof(e->ports[0]));
			e->nports = (uint8_t)pl->n;
		}
	}
	if (kind == FW_LIMIT) {
		/* The rate is the rule's; a rule gone since a reload has no rate left to enforce. */
		const struct rule *r = conf_rule_named(c, rule);

		if (r == NULL || r->action != A_LIMIT)
			return ENF_FW_NONE;
		e->limit_n = r->limit_n;
		e->limit_per = (uint32_t)(r->limit_per > FW_LIMIT_PER_MAX ? FW_LIMIT_PER_MAX : r->limit_per);
		if (e->limit_per == 0 && (!fw->conns || (fw->conns == 2 && (c->ports.n == 0 || c->ports.all))))
			return ENF_FW_NONE;	/* (a cap: refused at start, enforce_ports_ok) */
		if (e->limit_per == 0 && fw->conns == 2) {
			memcpy(e->ports, c->ports.port, (size_t)c->ports.n * sizeof(e->ports[0]));
			e->nports = (uint8_t)c->ports.n;
		}
	}
	return ENF_FW_OK;
}

int
enforce_map_entry(const struct config *c, const char *rule, const char *action, int64_t until,
    enum dmap_kind *kind, struct dmap_hit *h)
{
	const struct rule *r = conf_rule_named(c, rule);
	int act = dmap_action_of(action);

	if (act < 0)
		return 0;
	memset(h, 0, sizeof(*h));
	h->until = until;
	h->action = (enum dmap_action)act;
	snprintf(h->rule, sizeof(h->rule), "%s", rule);
	*kind = DK_CLIENT;
	if (r != NULL) {
		if (r->key == KEY_GLOBAL || r->key == KEY_RECIPIENT)
			return 0;	/* nothing an MTA lookup of a client, HELO or sender can match */
		*kind = r->key == KEY_HELO ? DK_HELO : r->key == KEY_SENDER ? DK_SENDER :
		    r->key == KEY_SENDER_DOMAIN ? DK_SENDER_DOMAIN : DK_CLIENT;
		h->limit_n = r->limit_n;
		h->limit_per = (uint32_t)r->limit_per;
	}
	return 1;
}

const char *
enforce_rule_reach(const struct rule *r, const struct fw_backend *fw, int socketmap, const char *maptype,
    char *why, size_t whylen)
{
	const char *act = action_name(r->action);
	int fwk = fw_kind_of(act), mk = dmap_action_of(act);
	int client = r->key == KEY_CLIENT;
	int by_fw, by_smap, by_file;

	if (r->action == A_LOG)
		return NULL;	/* it records, which always takes effect */
	by_fw = fw != NULL && client && fwk >= 0 && (fwk == FW_BLOCK || (fw->shapes && (r->action != A_LIMIT ||
	    r->limit_per > 0 || fw->conns)) || (r->action == A_LIMIT && r->limit_per == 0 && fw->conns));
	/* The socketmap answers client, HELO and sender lookups; a limit it counts per client, sender or domain. */
	/* (a cap on open connections is the firewall's alone: a lookup cannot see the connections a client holds) */
	by_smap = socketmap && mk >= 0 && r->key != KEY_GLOBAL && r->key != KEY_RECIPIENT &&
	    (r->action != A_LIMIT || (r->key != KEY_HELO && r->limit_per > 0));
	/* A map file holds client entries only; no limit (it cannot count), and Sendmail's no hold or tarpit. */
	by_file = maptype != NULL && client && mk >= 0 && r->action != A_LIMIT &&
	    !(strcmp(maptype, "sendmail") == 0 && (r->action == A_HOLD || r->action == A_TARPIT));
	if (by_fw || by_smap || by_file)
		return NULL;
	if (r->key == KEY_GLOBAL || r->key == KEY_RECIPIENT)
		snprintf(why, whylen, "'%s' keyed by %s has nothing a firewall or an MTA lookup can match: its "
		    "decisions are only recorded", act, key_kind_name(r->key));
	else if (!client && r->action == A_LIMIT && socketmap)
		snprintf(why, whylen, "'limit' keyed by %s: a message names no HELO the socketmap could count it by: "
		    "its decisions are only recorded", key_kind_name(r->key));
	else if (!client)
		snprintf(why, whylen, "'%s' keyed by %s takes effect only through the socketmap (--socketmap, 'set "
		    "socketmap'), and there is none: its decisions are only recorded", act, key_kind_name(r->key));
	else if (r->action == A_LIMIT && r->limit_per == 0)
		snprintf(why, whylen, "'limit %u connections' needs a firewall that counts a client's connections "
		    "(--firewall nftables, iptables or ipset), and there is %s: its decisions are only recorded",
		    r->limit_n, fw != NULL ? "none that can" : "none");
	else if (fwk >= 0 && fw != NULL && !fw->shapes && mk >= 0)
		snprintf(why, whylen, "'%s' needs a firewall that shapes traffic (%s only blocks) or the socketmap: "
		    "its decisions are only recorded", act, fw->name);
	else if (fwk >= 0)
		snprintf(why, whylen, "'%s' needs a firewall (--firewall, 'set firewall')%s, and there is %s: its "
		    "decisions are only recorded", act, mk >= 0 ? " or the MTA's map (--socketmap, --map-file)" : "",
		    maptype != NULL ? "only a map file that cannot hold it" : "none");
	else
		snprintf(why, whylen, "'%s' is the MTA's to enforce: it needs the socketmap (--socketmap, 'set "
		    "socketmap') or a map file (--map-file, 'set map-file')%s: its decisions are only recorded", act,
		    maptype != NULL ? " that holds it" : ", and there is none");
	return why;
}

const char *
enforce_ports_ok(const struct config *c, const struct fw_backend *fw, char *why, size_t whylen)
{
	const char *where = NULL;

	if (fw == NULL || strcmp(fw->name, "none") == 0)
		return NULL;	/* (no firewall: the rules' blocks are said unenforced already) */
	for (int i = 0; !fw->conns && i < c->nrules; i++)
		if (c->rules[i]->action == A_LIMIT && c->rules[i]->limit_per == 0) {
			char can[128];

			fw_names_that_can(FW_CAN_CONNS, can, sizeof(can));
			snprintf(why, whylen, "rule %s: firewall %s cannot cap a client's connections open at once (%s "
			    "can): refused rather than not capping them", c->rules[i]->name, fw->name, can);
			return why;
		}
	for (int i = 0; fw->conns == 2 && (c->ports.n == 0 || c->ports.all) && i < c->nrules; i++)
		if (c->rules[i]->action == A_LIMIT && c->rules[i]->limit_per == 0) {
			snprintf(why, whylen, "rule %s: firewall %s caps connections with a pass rule, which must name the "
			    "ports it lets through: add 'set ports' (for instance 'set ports smtp, submission, submissions')",
			    c->rules[i]->name, fw->name);
			return why;
		}
	if (fw->ports)
		return NULL;
	if (c->ports.n > 0)
		where = c->ports_at;
	for (int i = 0; where == NULL && i < c->nrules; i++)
		if (c->rules[i]->ports.n > 0)
			where = c->rules[i]->name;
	if (where == NULL)
		return NULL;
	{
		char can[128];

		fw_names_that_can(FW_CAN_PORTS, can, sizeof(can));
		snprintf(why, whylen, "%s%s%s: firewall %s cannot limit a block to some ports (%s can): refused rather "
		    "than blocking every port", c->ports.n > 0 ? "set ports (" : "rule ", where, c->ports.n > 0 ? ")" : "",
		    fw->name, can);
	}
	return why;
}
