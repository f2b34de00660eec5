/*
 * fuzz_conf.c - libFuzzer target: arbitrary bytes as a configuration file.
 *
 * The lexer, the recovering parser, macros, tables and the warnings pass
 * must report errors, never crash or leak. Includes are resolved relative
 * to the temporary file, so they find nothing (or the file itself: a loop).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../rules/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count_diag(void *arg, int warning, const char *msg)
{
	(void)warning;
	(void)msg;
	(*(int *)arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config *c;
	FILE *fp;
	int n = 0;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/mxguard-fuzz-%d.conf", (int)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	c = conf_load(path, count_diag, &n);
	if (c == NULL && n == 0)
		abort();	/* a rejected file must say why */
	conf_free(c);
	return 0;
}
