/*
 * clock.h - the monotonic clock in milliseconds, for deadlines and timers
 * (never the time of day: a clock step must not fire or hold a deadline).
 */
#ifndef MXG_CLOCK_H
#define MXG_CLOCK_H

#include <stdint.h>

int64_t mono_ms(void);

#endif
