/* fw.c - the list of firewall backends and shared helpers (see fw.h). */
#include "fw.h"

#include <string.h>

#include "../rules/table.h"

extern const struct fw_backend fw_none, fw_nftables;

static const struct fw_backend *const backends[] = {
	&fw_none,
	&fw_nftables,
	NULL,
};

const struct fw_backend *
fw_by_name(const char *name)
{
	for (int i = 0; backends[i] != NULL; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int
fw_entry_parse(const char *key, int64_t seconds, struct fw_entry *e)
{
	char err[128];
	int neg;

	memset(e, 0, sizeof(*e));
	if (!table_parse_entry(key, strlen(key), &e->addr, &e->plen, &neg, err, sizeof(err)) || neg)
		return 0;
	for (int i = 0; i < 16; i++) {
		int bits = e->plen - 8 * i;

		e->addr.b[i] = bits >= 8 ? e->addr.b[i] : bits <= 0 ? 0 : (uint8_t)(e->addr.b[i] & (0xff << (8 - bits)));
	}
	e->seconds = seconds;
	return 1;
}
