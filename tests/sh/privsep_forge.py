#!/usr/bin/env python3
"""privsep_forge.py PID - a worker taken over, as an attacker would use it.

Takes a copy of the worker's end of its channel to the privileged part
(pidfd_getfd: what code running inside the worker could send on it) and
sends forged and malformed messages (layouts of privsep/msg.h). For each
prints "NAME rc=RC" with the privileged part's answer, or "NAME noanswer".
The worker is idle meanwhile (no change of its own on the wire), so each
answer read here is the answer to the message sent here.
"""
import ctypes
import os
import select
import socket
import struct
import sys

MAGIC = 0x4D58504D
INIT, APPLY, FLUSH, FINI, RESULT = 1, 2, 3, 4, 5
HDR = "<IHHIi"          # magic, type, flags, n, rc: 16 bytes
ENTRY = "<BBBB16s4xqII"  # release, kind, family, plen, addr, (pad), seconds, limit_n, limit_per: 40 bytes


def hdr(typ, flags=0, n=0, rc=0, magic=MAGIC):
    return struct.pack(HDR, magic, typ, flags, n, rc)


def entry(addr, plen, seconds=3600, kind=0, release=0, limit_n=0, limit_per=0, family=None):
    raw = socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
    fam = family if family is not None else (6 if len(raw) == 16 else 4)
    return struct.pack(ENTRY, release, kind, fam, plen, raw.ljust(16, b"\0"), seconds, limit_n, limit_per)


def apply(*entries, flags=0):
    return hdr(APPLY, flags, len(entries)) + b"".join(entries)


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
    ("host-bits-set", apply(entry("198.51.100.7", 24))),
    ("bytes-past-ipv4", apply(struct.pack(ENTRY, 0, 0, 4, 32, bytes([203, 0, 113, 5, 9]) + b"\0" * 11, 60, 0, 0))),
    ("prefix-too-long", apply(entry("203.0.113.5", 33))),
    ("family-9", apply(entry("203.0.113.5", 32, family=9))),
    ("negative-duration", apply(entry("203.0.113.5", 32, seconds=-5))),
    ("century-duration", apply(entry("203.0.113.5", 32, seconds=100 * 366 * 86400))),
    ("unknown-kind", apply(entry("203.0.113.5", 32, kind=7))),
    ("limit-of-zero", apply(entry("203.0.113.5", 32, kind=1, limit_n=0, limit_per=60))),
    ("rate-on-a-block", apply(entry("203.0.113.5", 32, limit_n=5, limit_per=60))),
    ("release-flag-2", apply(entry("203.0.113.5", 32, release=2))),
    ("one-bad-among-good", apply(entry("203.0.113.5", 32), entry("0.0.0.0", 0))),
    ("apply-unknown-flags", apply(entry("203.0.113.5", 32), flags=0x80)),
    ("init-again", hdr(INIT)),
    ("flush-with-body", hdr(FLUSH) + b"x"),
    ("fini-unknown-flags", hdr(FINI, 0x40)),
    ("oversized", hdr(APPLY, 0, 1) + b"\0" * 100000),
]


def steal(pid, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    got = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
    if got < 0:
        raise OSError(ctypes.get_errno(), "pidfd_getfd")
    os.close(pidfd)
    return socket.socket(fileno=got)


def channel_fd(pid):
    """The worker's descriptor of its SOCK_SEQPACKET socket: the channel (its only one)."""
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
    if len(found) != 1:
        sys.exit("worker %d: %d SOCK_SEQPACKET descriptors, not one" % (pid, len(found)))
    return found[0]


def main():
    pid = int(sys.argv[1])
    fd = channel_fd(pid)
    s = steal(pid, fd)
    if s.type != socket.SOCK_SEQPACKET:
        sys.exit("fd %d of %d is not the channel (type %s)" % (fd, pid, s.type))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    for name, msg in FORGED:
        s.send(msg)
        r, _, _ = select.select([s], [], [], 10)
        if not r:
            print(name, "noanswer", flush=True)
            continue
        rep = s.recv(64)
        if len(rep) != 16:
            print(name, "badanswer", flush=True)
            continue
        magic, typ, _, _, rc = struct.unpack(HDR, rep)
        print(name, "rc=%d" % rc if magic == MAGIC and typ == RESULT else "badanswer", flush=True)


if __name__ == "__main__":
    main()
