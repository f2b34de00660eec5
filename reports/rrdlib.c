/*
 * rrdlib.c - librrd through dlopen (see rrdlib.h for why).
 *
 * Loaded once per process (RTLD_LOCAL: its symbols stay out of the global
 * namespace) and never unloaded; the outcome, failure included, is kept.
 */
#include "rrdlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* Debian 12's librrd8; the unversioned name is only there with librrd-dev. */
static const char *const names[] = { "librrd.so.8", "librrd.so" };

static struct rrdlib lib;
static int loaded;
static char why[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
load(void)
{
	void *h = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && h == NULL; i++) {
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL && i == 0) {
			/* the versioned name's reason is the one worth saying; copied now, as
			 * the next dlopen frees dlerror's text */
			const char *e = dlerror();

			snprintf(why, sizeof(why), "cannot load librrd (Debian package librrd8): %s",
			    e != NULL ? e : "not found");
		}
	}
	if (h == NULL)
		return;
#define SYM(field, name) do { \
		*(void **)&lib.field = dlsym(h, #name); \
		if (lib.field == NULL) { \
			snprintf(why, sizeof(why), "cannot load librrd: it has no %s", #name); \
			return; \
		} \
	} while (0)
	SYM(create_r, rrd_create_r);
	SYM(update_r, rrd_update_r);
	SYM(last_r, rrd_last_r);
	SYM(graph_v, rrd_graph_v);
	SYM(info_free, rrd_info_free);
	SYM(get_error, rrd_get_error);
	SYM(clear_error, rrd_clear_error);
	SYM(c_connect, rrdc_connect);
	SYM(c_disconnect, rrdc_disconnect);
	SYM(c_update, rrdc_update);
	SYM(c_last, rrdc_last);
#undef SYM
	loaded = 1;
}

const struct rrdlib *
rrdlib(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	return &lib;
}
