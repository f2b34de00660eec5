#!/usr/bin/env python3
"""smtp_load.py - the offered load of bench/bench_mta.sh: SMTP clients at
fixed rates, each session its own TCP connection from its own source
address, whatever the server does (a session the firewall drops times out
without holding up the next one). Stops by itself after --seconds.

  smtp_load.py --mx4 ADDR --mx6 ADDR --seconds N --out FILE.json
               [--domain D --legit-rcpt LOCAL --bounce-rcpt LOCAL] ACTOR...

ACTOR is KIND:RATE:SRC[,SRC...] - RATE sessions a second spread over the
source addresses in turn:
  harvest   EHLO, MAIL FROM, 5 RCPT TO unknown users of the domain, QUIT
  connflood read the banner, QUIT
  bounce    MAIL FROM:<>, RCPT TO:<bob@DOMAIN>, a small bounce, QUIT
  legit     MAIL FROM:<alice@example.net>, RCPT TO:<alice@DOMAIN>, a
            message carrying X-Bench-Sent: (ms since the epoch), QUIT;
            its transaction time is recorded: from connect to the reply
            accepting the message (the 250 after its data). Not to the
            reply to QUIT: Exim 4.96 holds its 221 about 200 ms unless the
            client has closed first, and real clients do not wait for it
            (Postfix's smtp_skip_quit_response); the 221 is still read.
(the domain example.org and the recipients alice and bob by default;
every message says X-Bench-Kind: legit or bounce)
Documentation addresses only (the caller's namespaces)."""
import argparse
import asyncio
import json
import random
import time

TIMEOUT = 5.0


async def session(kind, src, mx, a, stats, seq):
    port = a.port
    t0 = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(mx, port, local_addr=(src, 0)), TIMEOUT)
    except Exception:
        stats["no_connection"] += 1
        return

    async def reply():
        while True:
            line = await asyncio.wait_for(r.readline(), TIMEOUT)
            if not line:
                raise ConnectionError("closed")
            if len(line) < 4 or line[3:4] != b"-":
                return line

    async def cmd(c):
        w.write(c.encode() + b"\r\n")
        await w.drain()
        return await reply()

    try:
        banner = await reply()
        if not banner.startswith(b"220"):
            stats["refused"] += 1
            return
        if kind == "connflood":
            await cmd("QUIT")
        else:
            await cmd("EHLO client%d.example.net" % (seq % 50))
            if kind == "harvest":
                await cmd("MAIL FROM:<offers@example.net>")
                for _ in range(5):
                    await cmd("RCPT TO:<u%06d@%s>" % (random.randrange(10 ** 6), a.domain))
            else:
                sender = "" if kind == "bounce" else "alice@example.net"
                rcpt = "%s@%s" % (a.bounce_rcpt if kind == "bounce" else a.legit_rcpt, a.domain)
                await cmd("MAIL FROM:<%s>" % sender)
                rr = await cmd("RCPT TO:<%s>" % rcpt)
                if rr.startswith(b"250"):
                    d = await cmd("DATA")
                    if d.startswith(b"354"):
                        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: bench %d\r\nX-Bench-Kind: %s\r\n"
                                "X-Bench-Sent: %d\r\n\r\n%s\r\n.\r\n"
                                % (sender or "MAILER-DAEMON@example.net", rcpt, seq, kind,
                                   int(time.time() * 1000), "x" * 300))
                        w.write(body.encode())
                        await w.drain()
                        e = await reply()
                        if e.startswith(b"250"):
                            stats["accepted"] += 1
                            if kind == "legit":
                                stats["latency_ms"].append(round((time.monotonic() - t0) * 1000, 3))
            await cmd("QUIT")
        stats["completed"] += 1
    except Exception:
        stats["broken"] += 1
    finally:
        w.close()


async def actor(kind, rate, srcs, a, stats, end):
    mx6 = a.mx6
    tasks, seq, t = [], 0, time.monotonic()
    while t < end:
        src = srcs[seq % len(srcs)]
        mx = mx6 if ":" in src else a.mx4
        stats["attempted"] += 1
        tasks.append(asyncio.ensure_future(session(kind, src, mx, a, stats, seq)))
        seq += 1
        t += 1.0 / rate
        await asyncio.sleep(max(0.0, t - time.monotonic()))
    await asyncio.gather(*tasks, return_exceptions=True)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mx4", required=True)
    ap.add_argument("--mx6", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--domain", default="example.org")
    ap.add_argument("--legit-rcpt", default="alice")
    ap.add_argument("--bounce-rcpt", default="bob")
    ap.add_argument("actors", nargs="+")
    a = ap.parse_args()
    random.seed(1)
    end = time.monotonic() + a.seconds
    all_stats, jobs = {}, []
    for spec in a.actors:
        kind, rate, srcs = spec.split(":", 2)
        st = {"kind": kind, "rate": float(rate), "sources": srcs.split(","), "attempted": 0, "completed": 0,
              "accepted": 0, "refused": 0, "no_connection": 0, "broken": 0, "latency_ms": []}
        all_stats.setdefault(kind, []).append(st)
        jobs.append(actor(kind, float(rate), srcs.split(","), a, st, end))
    await asyncio.gather(*jobs)
    with open(a.out, "w") as f:
        json.dump(all_stats, f)


asyncio.run(main())
