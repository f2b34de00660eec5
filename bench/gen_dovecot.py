#!/usr/bin/env python3
"""gen_dovecot.py - a Dovecot 2.3 log (syslog form, as Debian's mail.log has
it) for the parse benchmark, with the event counts samples/dovecot.conf
must find in it (the truth, as genlog writes it for the MTAs).

  bench/gen_dovecot.py -n LINES [-s SEED] -o LOG -t TRUTH.json

A mail host's day of IMAP/POP3: users logging in, their sessions ending,
local deliveries, and password guessers (IPv4 and IPv6) whose failed
sessions are summarised by the login process, half of them after
per-attempt lines of the auth process (auth_verbose=yes on those), which
the set counts instead of the summary ('once'); scanners that never try.
Documentation addresses only.
"""
import argparse
import json
import random

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("-s", type=int, default=1)
    ap.add_argument("-o", required=True)
    ap.add_argument("-t", required=True)
    a = ap.parse_args()
    r = random.Random(a.s)
    users = ["user%04d" % i for i in range(3000)]
    legit = ["198.51.100.%d" % i for i in range(1, 255)] + ["2001:db8:1:%x::%x" % (i, i + 1) for i in range(400)]
    guess = ["203.0.113.%d" % i for i in range(1, 255)] + ["2001:db8:bad:%x::%x" % (i // 8, i) for i in range(600)]
    ev = {"auth_fail": 0, "lost_conn": 0}
    n, t, sid = 0, 9 * 3600, 0
    out = open(a.o, "w")

    def line(body):
        nonlocal n, t
        t += r.random() * 0.05
        s = int(t)
        out.write("%s %2d %02d:%02d:%02d mx dovecot: %s\n" % (MONTHS[2], 4, s // 3600 % 24, s // 60 % 60, s % 60, body))
        n += 1

    def session():
        nonlocal sid
        sid += 1
        return ("%016x" % (sid * 0x9E3779B97F4A7C15 % (1 << 64)))[:16].replace("0", "A").replace("f", "+")

    while n < a.n:
        k = r.random()
        proto = r.choice(("imap", "imap", "pop3", "submission"))
        if k < 0.30:
            ip, u, s, tries = r.choice(guess), r.choice(users), session(), r.randint(1, 3)
            if r.random() < 0.5:
                for _ in range(tries):
                    line("auth: passwd-file(%s,%s,<%s>): %s" % (u, ip, s, r.choice(("unknown user", "Password mismatch"))))
                    ev["auth_fail"] += 1
            else:
                ev["auth_fail"] += 1
            line("%s-login: Disconnected: %s (auth failed, %d attempts in %d secs): user=<%s>, method=PLAIN, "
                 "rip=%s, lip=198.51.100.1, TLS, session=<%s>"
                 % (proto, r.choice(("Aborted login by logging out", "Connection closed", "Inactivity")), tries,
                    r.randint(1, 30), u, ip, s))
        elif k < 0.35:
            line("%s-login: Disconnected (no auth attempts in %d secs): user=<>, rip=%s, lip=198.51.100.1, "
                 "session=<%s>" % (proto, r.randint(0, 20), r.choice(guess), session()))
            ev["lost_conn"] += 1
        elif k < 0.60:
            u, s, pid = r.choice(users), session(), r.randint(1000, 60000)
            line("%s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=198.51.100.1, mpid=%d, TLS, session=<%s>"
                 % (proto, u, r.choice(legit), pid, s))
        elif k < 0.85:
            line("%s(%s)<%d><%s>: Disconnected: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 "
                 "hdr_count=0 hdr_bytes=0 body_count=%d body_bytes=%d"
                 % ("imap", r.choice(users), r.randint(1000, 60000), session(), r.randint(10, 9999),
                    r.randint(100, 999999), r.randint(0, 9), r.randint(0, 99999)))
        else:
            line("lmtp(%s)<%d><%s>: msgid=<%d@example.net>: saved mail to INBOX"
                 % (r.choice(users), r.randint(1000, 60000), session(), r.randint(1, 10**9)))
    out.close()
    json.dump({"lines": n, "events": ev}, open(a.t, "w"))


main()
