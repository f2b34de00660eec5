#!/usr/bin/env python3
"""privsep_forge.py PID LOGDIR - a worker taken over, as an attacker would use it.

Takes copies of the worker's ends of its two channels to the privileged
part (pidfd_getfd: what code running inside the worker could send on
them), tells them apart by the answer to a malformed message (-1 on the
firewall's, -EACCES on the files'), and sends forged and malformed
messages (layouts of privsep/msg.h): firewall requests on the one, opens
of files that are not the worker's logs on the other (LOGDIR: the log's
directory, holding mail.log and a planted link mail.log.9). For each
prints "CHANNEL NAME rc=RC" with the privileged part's answer, "NAME fd" if a
descriptor came back, or "NAME noanswer", each after the channel's name
("firewall" or "files"). The worker is idle meanwhile
(no request of its own on the wire), so each answer read here is the
answer to the message sent here.
"""
import ctypes
import errno
import os
import select
import socket
import struct
import sys

MAGIC = 0x4D58504D
INIT, APPLY, FLUSH, FINI, RESULT, OPEN = 1, 2, 3, 4, 5, 6
HDR = "<IHHIi"          # magic, type, flags, n, rc: 16 bytes
# release, kind, family, plen, addr, (pad), seconds, limit_n, limit_per, ports[8], nports, every_scope, (pad): 64 bytes
ENTRY = "<BBBB16s4xqII8HBB6x"


def hdr(typ, flags=0, n=0, rc=0, magic=MAGIC):
    return struct.pack(HDR, magic, typ, flags, n, rc)


def entry(addr, plen, seconds=3600, kind=0, release=0, limit_n=0, limit_per=0, family=None, ports=(), nports=None,
          every_scope=0):
    raw = socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
    fam = family if family is not None else (6 if len(raw) == 16 else 4)
    p = list(ports) + [0] * (8 - len(ports))
    return struct.pack(ENTRY, release, kind, fam, plen, raw.ljust(16, b"\0"), seconds, limit_n, limit_per, *p,
                       len(ports) if nports is None else nports, every_scope)


def apply(*entries, flags=0):
    return hdr(APPLY, flags, len(entries)) + b"".join(entries)


def open_req(path, n=None):
    return hdr(OPEN, 0, len(path) if n is None else n) + path


FORGED = [
    ("short", b"\x01\x02\x03"),
    ("bad-magic", hdr(INIT, magic=0x41414141)),
    ("unknown-type", hdr(99)),
    ("count-without-body", hdr(APPLY, 0, 1)),
    ("count-too-large", hdr(APPLY, 0, 100000)),
    ("block-everything-v4", apply(entry("0.0.0.0", 0))),
    ("block-everything-v6", apply(entry("::", 0))),
    ("block-a-slash-4", apply(entry("16.0.0.0", 4))),
    ("block-loopback", apply(entry("127.0.0.1", 32))),
    ("block-loopback-v6", apply(entry("::1", 128))),
    ("block-another-loopback-address", apply(entry("127.0.0.53", 32))),
    ("host-bits-set", apply(entry("198.51.100.7", 24))),
    ("bytes-past-ipv4", apply(struct.pack(ENTRY, 0, 0, 4, 32, bytes([203, 0, 113, 5, 9]) + b"\0" * 11, 60, 0, 0,
                                          *([0] * 8), 0, 0))),
    ("prefix-too-long", apply(entry("203.0.113.5", 33))),
    ("family-9", apply(entry("203.0.113.5", 32, family=9))),
    ("negative-duration", apply(entry("203.0.113.5", 32, seconds=-5))),
    ("century-duration", apply(entry("203.0.113.5", 32, seconds=100 * 366 * 86400))),
    ("unknown-kind", apply(entry("203.0.113.5", 32, kind=7))),
    ("limit-of-zero", apply(entry("203.0.113.5", 32, kind=1, limit_n=0, limit_per=60))),
    ("rate-on-a-block", apply(entry("203.0.113.5", 32, limit_n=5, limit_per=60))),
    ("release-flag-2", apply(entry("203.0.113.5", 32, release=2))),
    ("port-zero", apply(entry("203.0.113.5", 32, ports=(25, 0)))),
    ("ports-past-the-list", apply(entry("203.0.113.5", 32, ports=(25, 587), nports=1))),
    ("ports-on-a-limit", apply(entry("203.0.113.5", 32, kind=1, limit_n=5, limit_per=60, ports=(25,)))),
    ("every-scope-on-a-block", apply(entry("203.0.113.5", 32, every_scope=1))),
    ("one-bad-among-good", apply(entry("203.0.113.5", 32), entry("0.0.0.0", 0))),
    ("apply-unknown-flags", apply(entry("203.0.113.5", 32), flags=0x80)),
    ("init-again", hdr(INIT)),
    ("flush-with-body", hdr(FLUSH) + b"x"),
    ("fini-unknown-flags", hdr(FINI, 0x40)),
    ("oversized", hdr(APPLY, 0, 1) + b"\0" * 100000),
    ("open-on-the-firewalls-channel", open_req(b"/etc/shadow")),
]


def forged_opens(logdir):
    d = logdir.encode()
    return [
        ("open-shadow", open_req(b"/etc/shadow")),
        ("open-another-file-of-the-log-dir", open_req(d + b"/other.log")),
        ("open-a-planted-link-by-a-rotated-name", open_req(d + b"/mail.log.9")),
        ("open-the-log-by-a-dotdot-path", open_req(d + b"/../" + d.rsplit(b"/", 1)[1] + b"/mail.log")),
        ("open-a-path-with-nul", open_req(d + b"/mail.log\0/etc/shadow")),
        ("open-a-path-cut-short", open_req(d + b"/mail.log", n=3)),
        ("open-an-empty-path", open_req(b"")),
        ("open-a-5000-byte-path", open_req(b"/" + b"a" * 4999)),
        ("open-compressed-copy", open_req(d + b"/mail.log.1.gz")),
        ("firewall-request-on-the-files-channel", hdr(FLUSH)),
    ]


def steal(pid, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    got = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
    if got < 0:
        raise OSError(ctypes.get_errno(), "pidfd_getfd")
    os.close(pidfd)
    return socket.socket(fileno=got)


def channels(pid):
    """The worker's SOCK_SEQPACKET descriptors: its two channels."""
    seq = set()
    with open("/proc/%d/net/unix" % pid) as f:
        next(f)
        for line in f:
            col = line.split()
            if col[4] == "0005":  # SOCK_SEQPACKET
                seq.add(col[6])
    found = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in seq:
            found.append(int(fd))
    if len(found) != 2:
        sys.exit("worker %d: %d SOCK_SEQPACKET descriptors, not two" % (pid, len(found)))
    return found


def ask(s, msg):
    """Send one message, read its answer: 'rc=N', 'fd' or 'noanswer'."""
    s.send(msg)
    r, _, _ = select.select([s], [], [], 10)
    if not r:
        return "noanswer"
    rep, fds, _, _ = socket.recv_fds(s, 64, 4)
    for fd in fds:
        os.close(fd)
    if len(rep) != 16:
        return "badanswer"
    magic, typ, _, _, rc = struct.unpack(HDR, rep)
    if magic != MAGIC or typ != RESULT:
        return "badanswer"
    return "fd" if fds else "rc=%d" % rc


def main():
    pid, logdir = int(sys.argv[1]), sys.argv[2]
    socks = [steal(pid, fd) for fd in channels(pid)]
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    # which is which: a malformed message is answered -1 on the firewall's, -EACCES on the files'
    probe = {ask(s, b"\x01\x02\x03"): s for s in socks}
    fw, files = probe.get("rc=-1"), probe.get("rc=-%d" % errno.EACCES)
    if fw is None or files is None:
        sys.exit("cannot tell the channels apart: %s" % sorted(probe))
    for name, msg in FORGED:
        print("firewall", name, ask(fw, msg), flush=True)
    for name, msg in forged_opens(logdir):
        print("files", name, ask(files, msg), flush=True)


if __name__ == "__main__":
    main()
