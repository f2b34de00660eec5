#!/usr/bin/env python3
"""cluster_bench.py - decisions through a cluster of mxguard nodes (issue 14 targets).

    bench/cluster_bench.py [--mxguard ./mxguard] [--latency 1000] [--burst 20000] [--away 60000]

A real redis-server on 127.0.0.1 (a free port, no persistence), two nodes
(`mxguard run` A and B) and an agent (`mxguard agent` G), none with a
firewall: everything is on loopback, nothing of the host's network is
changed.

1. latency: N decisions at A (`ctl ban`, one every 5 ms) and the moment each
   is applied at B and at the agent (each prints a remote decision on stdout
   when it has saved and enforced it; this script reads their stdout in
   threads as it comes): p50, p99, max.
2. throughput: a log of M harvests (M clients x 5 unknown recipients)
   appended at once at A; from the append until B has applied all M:
   decisions/s through the cluster.
3. catch-up: B stopped; A decides K more (as many as 1,000 a minute for an
   hour makes with --away 60000); B started again: the time until it has
   applied all K.
Prints one line per figure; the ratios against the targets of PRODUCT.md
are for bench/RESULTS.md.
"""
import argparse
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    sys.exit("cluster_bench: timed out waiting for " + what)


def ctl(mx, sock, *args):
    return subprocess.run([mx, "ctl", "--socket", sock] + list(args), capture_output=True, text=True).stdout


def status(mx, sock):
    try:
        return json.loads(ctl(mx, sock, "--json", "status"))
    except ValueError:
        return None


def harvest_lines(first, n):
    """n clients (2001:db8:N::1), 5 unknown recipients each."""
    out = []
    for i in range(first, first + n):
        ip = "2001:db8:%x:%x::1" % (i >> 16, i & 0xffff)
        for r in range(5):
            out.append("Nov 19 10:00:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 "
                       "<u%d@example.org>: Recipient address rejected: User unknown in local recipient table; "
                       "from=<x@example.net> to=<u%d@example.org> proto=ESMTP helo=<x>\n" % (r, ip, r, r))
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mxguard", default="./mxguard")
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--burst", type=int, default=20000)
    ap.add_argument("--away", type=int, default=60000)
    a = ap.parse_args()
    mx = os.path.abspath(a.mxguard)
    tmp = tempfile.mkdtemp(prefix="mxg-cluster-bench.")
    procs = []
    try:
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(redis)
        wait(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0,
             10, "redis-server")
        conf = os.path.join(tmp, "node.conf")
        with open(conf, "w") as f:
            f.write('set cluster "redis://127.0.0.1:%d"\n'
                    'rule "dha" { on rcpt_unknown when distinct to >= 5 within 1h do block for 1h }\n' % port)

        def start(node, out):
            log = os.path.join(tmp, node + ".log")
            open(log, "a").close()
            sock = os.path.join(tmp, "s." + node)
            cmd = [mx, "run", "-c", conf, "--source", log] if node != "G" else \
                [mx, "agent", "--cluster", "redis://127.0.0.1:%d" % port]
            p = subprocess.Popen(cmd + ["--node", node, "--state-dir", os.path.join(tmp, "st." + node),
                                  "--socket", sock],
                                 stdout=out, stderr=open(os.path.join(tmp, "err." + node), "a"))
            procs.append(p)
            wait(lambda: (status(mx, sock) or {}).get("cluster", {}).get("up"), 20, node + " up")
            return p, log, sock

        pa, loga, socka = start("A", subprocess.DEVNULL)
        pb, logb, sockb = start("B", subprocess.PIPE)
        pg, _, _ = start("G", subprocess.PIPE)	# an agent (mxguard agent, no firewall here)
        seen, seen_g = {}, {}
        lock = threading.Lock()

        def reader(stream, seen):
            """B's stdout, line by line as it comes (a thread: B must never wait on it)."""
            for ln in stream:
                now = time.monotonic()
                try:
                    d = json.loads(ln)
                except ValueError:
                    continue
                if d.get("origin") == "A":
                    with lock:
                        seen.setdefault(d["key"], now)

        threading.Thread(target=reader, args=(pb.stdout, seen), daemon=True).start()
        threading.Thread(target=reader, args=(pg.stdout, seen_g), daemon=True).start()

        def drain(timeout):
            time.sleep(timeout)

        # 1. latency
        sent = {}
        for i in range(a.latency):
            key = str(ipaddress.ip_address("2001:db8:ffff:%x::1" % i))  # (the canonical text, as keys are)
            sent[key] = time.monotonic()
            ctl(mx, socka, "ban", key, "for", "1h")
            while time.monotonic() - sent[key] < 0.005:
                drain(0.001)
        end = time.monotonic() + 10
        while len([k for k in sent if k in seen]) < len(sent) and time.monotonic() < end:
            drain(0.05)
        while len([k for k in sent if k in seen_g]) < len(sent) and time.monotonic() < end:
            drain(0.05)
        with lock:
            lat = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
            lat_g = sorted((seen_g[k] - sent[k]) * 1000 for k in sent if k in seen_g)
        if len(lat) < len(sent):
            miss = [k for k in sent if k not in seen]
            sys.exit("cluster_bench: %d of %d decisions never reached B's stdout (%s ...); B lists %s" % (
                len(miss), len(sent), " ".join(miss[:3]),
                [l for l in ctl(mx, sockb, "decisions").splitlines() if miss[0] in l]))
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
        print("latency, %d decisions (ctl ban at A -> saved and enforced at B): p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (len(lat), pct(0.50), pct(0.99), lat[-1]))
        if len(lat_g) < len(sent):
            sys.exit("cluster_bench: %d of %d decisions never reached the agent" % (len(sent) - len(lat_g), len(sent)))
        lat = lat_g
        print("latency, the same at the agent (mxguard agent, saved and handed to its firewall): "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (pct(0.50), pct(0.99), lat[-1]))

        # 2. throughput
        applied0 = status(mx, sockb)["cluster"]["applied"]
        text = harvest_lines(0, a.burst)
        t0 = time.monotonic()
        with open(loga, "a") as f:
            f.write(text)
        while True:
            drain(0.05)
            st = status(mx, sockb)
            if st and st["cluster"]["applied"] - applied0 >= a.burst:
                break
            if time.monotonic() - t0 > 60:
                sys.exit("cluster_bench: the burst did not arrive: A %s, B %s; B said: %s" % (
                    json.dumps(status(mx, socka)), json.dumps(st),
                    open(os.path.join(tmp, "err.B")).read()[-600:]))
        t1 = time.monotonic()
        print("throughput: %d decisions at A (%d log lines appended at once) applied at B in %.2f s: %.0f decisions/s"
              % (a.burst, 5 * a.burst, t1 - t0, a.burst / (t1 - t0)))

        # 3. catch-up
        pb.terminate()
        pb.wait()
        published0 = status(mx, socka)["cluster"]["published"]
        with open(loga, "a") as f:
            f.write(harvest_lines(a.burst, a.away))
        wait(lambda: status(mx, socka)["cluster"]["published"] - published0 >= a.away, 300, "A publishing")
        t0 = time.monotonic()
        pb, logb, sockb = start("B", subprocess.DEVNULL)
        wait(lambda: status(mx, sockb)["cluster"]["applied"] >= a.away, 120, "B catching up")
        t1 = time.monotonic()
        print("catch-up: B away while A decided %d; back, it applied them all %.2f s after its start"
              % (a.away, t1 - t0))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
