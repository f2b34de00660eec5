/*
 * shapes.h - the lines no pattern understood, counted by program and line
 * shape (parsers/shape.h), for `mxguard parse --stats`: the commonest
 * unknown kinds of line of each program, what to teach mxguard next.
 */
#ifndef MXG_SHAPES_H
#define MXG_SHAPES_H

#include <stdint.h>
#include <stdio.h>

#include "../common/span.h"

struct shapes;

struct shapes *shapes_new(void);
void shapes_free(struct shapes *s);
/* One more line of this program (the MTA's name when the line has no tag) and message. */
void shapes_add(struct shapes *s, const char *mta, struct span tag, struct span body);
/* The top `top` shapes of each program, commonest first, as "  PROGRAM COUNT SHAPE" lines. */
void shapes_print(const struct shapes *s, FILE *f, int top);

#endif
