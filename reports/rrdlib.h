/*
 * rrdlib.h - librrd, loaded at the first RRD opened or graph drawn.
 *
 * librrd brings cairo, pango, glib, fontconfig and some forty other shared
 * libraries. Linked in, loading and relocating them cost every mxguard
 * command about 13 ms at its start (4 % of a 1M-line replay, and every
 * `mxguard ctl` call), whether it reports or not. Only the commands that
 * write an RRD or draw load it, through dlopen; the functions keep librrd's
 * own prototypes (rrd.h), so a call through this table is checked by the
 * compiler like a direct one.
 */
#ifndef MXGUARD_RRDLIB_H
#define MXGUARD_RRDLIB_H

#include <stddef.h>
#include <rrd.h>
#include <rrd_client.h>

struct rrdlib {
	__typeof__(rrd_create_r) *create_r;
	__typeof__(rrd_update_r) *update_r;
	__typeof__(rrd_last_r) *last_r;
	__typeof__(rrd_graph_v) *graph_v;
	__typeof__(rrd_info_free) *info_free;
	__typeof__(rrd_get_error) *get_error;
	__typeof__(rrd_clear_error) *clear_error;
	__typeof__(rrdc_connect) *c_connect;
	__typeof__(rrdc_disconnect) *c_disconnect;
	__typeof__(rrdc_update) *c_update;
	__typeof__(rrdc_last) *c_last;
};

/* librrd's functions, loaded on the first call; NULL and err set ("cannot load librrd: ...") when it is missing. */
const struct rrdlib *rrdlib(char *err, size_t errlen);

#endif
