/*
 * enforce.c - a decision's firewall and map entries (see enforce.h).
 */
#include "enforce.h"

#include <stdio.h>
#include <string.h>

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
	if (kind != FW_BLOCK && !fw->shapes)
		return ENF_FW_CANNOT_SHAPE;
	if (kind == FW_LIMIT) {
		/* The rate is the rule's; a rule gone since a reload has no rate left to enforce. */
		const struct rule *r = conf_rule_named(c, rule);

		if (r == NULL || r->action != A_LIMIT)
			return ENF_FW_NONE;
		e->limit_n = r->limit_n;
		e->limit_per = (uint32_t)(r->limit_per < 1 ? 1 : r->limit_per > FW_LIMIT_PER_MAX ?
		    FW_LIMIT_PER_MAX : r->limit_per);
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
