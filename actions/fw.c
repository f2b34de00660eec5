/* fw.c - the list of firewall backends and shared helpers (see fw.h). */
#include "fw.h"

#include <string.h>

#include "../rules/table.h"

extern const struct fw_backend fw_none, fw_nftables, fw_exec;

static const struct fw_backend *const backends[] = {
	&fw_none,
	&fw_nftables,
	&fw_exec,
	NULL,
};

const struct fw_backend *
fw_by_name(const char *spec, const char **arg)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	*arg = colon ? colon + 1 : NULL;
	for (int i = 0; backends[i] != NULL; i++)
		if (strlen(backends[i]->name) == n && strncmp(backends[i]->name, spec, n) == 0)
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
