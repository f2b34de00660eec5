/*
 * service.h - the daemon as a systemd service (Type=notify): it says when
 * it is ready, reloading or stopping, keeps a one-line status
 * (systemctl status), and pets the watchdog from its event loop, so a loop
 * that hangs is restarted. Outside systemd (no NOTIFY_SOCKET) every call
 * does nothing.
 *
 * Under privilege separation the worker runs the loop and sends these; the
 * unit allows it (NotifyAccess=all).
 */
#ifndef MXG_SERVICE_H
#define MXG_SERVICE_H

#include <stdint.h>

#include "../common/log.h"

/* READY=1 with a status line. */
void service_ready(const char *fmt, ...) MXG_PRINTF(1, 2);
/* The status line (said at most every few seconds: the caller calls it each tick). */
void service_status(int64_t now_ms, const char *fmt, ...) MXG_PRINTF(2, 3);
/* A tick of the event loop (at least every second): WATCHDOG=1 at half the unit's WatchdogSec. */
void service_tick(int64_t now_ms);
/* The loop will not come back for a while (a reload): RELOADING=1, then service_ready(). */
void service_reloading(void);
void service_stopping(void);

#endif
