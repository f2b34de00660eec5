#!/usr/bin/python3
# sockpeer.py - hostile local clients of mxguard's Unix sockets (the
# socketmap and the control socket), for test_socketmap_local.sh and
# test_ctl_hostile.sh. Each mode prints one line of figures for the test.
#
#   hog PATH N HOLD_S       open N connections, say "ready K" (K opened),
#                           hold them HOLD_S seconds, then print "closed C"
#                           (how many the server closed meanwhile)
#   drip PATH DATA EVERY_MS MAX_S   send DATA a byte every EVERY_MS; print
#                           "sent" after the first, then "closed MS" when
#                           the server closes, or "open"
#   idle PATH MAX_S         connect and say nothing: "closed MS" or "open"
#   noread PATH DATA MAX_S  send DATA over and over, never read: "closed MS"
#                           when the server gives up on us, or "open"
#   ask PATH DATA MAX_S     send DATA once ("sent") and never read the answer:
#                           "closed MS" when the server hangs up (POLLHUP), or "open"
#   rtt PATH DATA N PREFIX  N times: connect, send DATA, read the answer to its
#                           end; print "worst MS good K" (K answers began with PREFIX):
#                           the server's own time, without a process started each time
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def closed(s):
    """True if the server has closed s (EOF or reset), without blocking."""
    s.setblocking(False)
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    t0 = time.monotonic()
    ms = lambda: int((time.monotonic() - t0) * 1000)
    if mode == "hog":
        n, hold = int(sys.argv[3]), float(sys.argv[4])
        socks = []
        for _ in range(n):
            try:
                socks.append(connect(path))
            except OSError:
                pass
        print("ready %d" % len(socks), flush=True)
        time.sleep(hold)
        print("closed %d" % sum(closed(s) for s in socks), flush=True)
    elif mode == "drip":
        data, every, limit = sys.argv[3].encode(), int(sys.argv[4]) / 1000, float(sys.argv[5])
        s = connect(path)
        i = 0
        while time.monotonic() - t0 < limit:
            try:
                s.send(data[i % len(data):i % len(data) + 1])
            except OSError:
                print("closed %d" % ms())
                return
            if i == 0:
                print("sent", flush=True)
            i += 1
            time.sleep(every)
            if closed(s):
                print("closed %d" % ms())
                return
        print("open")
    elif mode == "idle":
        limit = float(sys.argv[3])
        s = connect(path)
        s.settimeout(limit)
        try:
            s.recv(1)
            print("closed %d" % ms())
        except socket.timeout:
            print("open")
        except OSError:
            print("closed %d" % ms())
    elif mode == "noread":
        data, limit = sys.argv[3].encode(), float(sys.argv[4])
        s = connect(path)
        s.settimeout(0.2)
        while time.monotonic() - t0 < limit:
            try:
                s.send(data)
            except socket.timeout:
                if closed(s):
                    break
            except OSError:
                break
        else:
            print("open")
            return
        print("closed %d" % ms())
    elif mode == "ask":
        data, limit = sys.argv[3].encode(), float(sys.argv[4])
        s = connect(path)
        s.sendall(data)
        print("sent", flush=True)
        p = select.poll()
        p.register(s, select.POLLHUP)
        while time.monotonic() - t0 < limit:
            if any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(100)):
                print("closed %d" % ms())
                return
        print("open")
    elif mode == "rtt":
        data, n, prefix = sys.argv[3].encode(), int(sys.argv[4]), sys.argv[5].encode()
        worst, good = 0.0, 0
        for _ in range(n):
            t1 = time.monotonic()
            s = connect(path)
            s.sendall(data)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            s.close()
            worst = max(worst, time.monotonic() - t1)
            good += answer.startswith(prefix)
        print("worst %d good %d" % (worst * 1000, good))
    else:
        sys.exit("unknown mode " + mode)


main()
