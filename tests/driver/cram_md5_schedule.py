#!/usr/bin/env python3
"""Print Dovecot's {CRAM-MD5} key schedule of a password (the value the
driver tests store in the sasldb, see HX_CRAM_SCHEDULE in harness.h).

The schedule is the MD5 chaining values after the HMAC opad block, then after
the ipad block, each 32-bit word little-endian (RFC 2104 section 4).  Python's
hashlib does not expose MD5's midstate, so the compression function is written
out here from RFC 1321: independent of OpenSSL and of our plugin.  Two checks
run before anything is printed: this MD5 against hashlib, and an HMAC finished
from the schedule against hmac.new() on RFC 2195's challenge.

    $ tests/driver/cram_md5_schedule.py tanstaaftanstaaf
    d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b
    $ tests/driver/cram_md5_schedule.py password     # = public doveadm output
    9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740
"""
import hashlib
import hmac
import math
import struct
import sys

S = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
K = [int(abs(math.sin(i + 1)) * 2**32) & 0xFFFFFFFF for i in range(64)]
IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)


def rol(x, c):
    return ((x << c) | (x >> (32 - c))) & 0xFFFFFFFF


def compress(state, block):
    m = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | (~d & 0xFFFFFFFF)), (7 * i) % 16
        f = (f + a + K[i] + m[g]) & 0xFFFFFFFF
        a, d, c = d, c, b
        b = (b + rol(f, S[i])) & 0xFFFFFFFF
    return tuple((x + y) & 0xFFFFFFFF for x, y in zip(state, (a, b, c, d)))


def md5_from(state, done, data):
    """Finish an MD5 that has already consumed `done` bytes into `state`."""
    n = done + len(data)
    data += b"\x80" + b"\0" * ((55 - n) % 64) + struct.pack("<Q", n * 8)
    for i in range(0, len(data), 64):
        state = compress(state, data[i:i + 64])
    return struct.pack("<4I", *state)


def schedule(password):
    key = password if len(password) <= 64 else hashlib.md5(password).digest()
    key = key.ljust(64, b"\0")
    outer = compress(IV, bytes(x ^ 0x5C for x in key))
    inner = compress(IV, bytes(x ^ 0x36 for x in key))
    return struct.pack("<4I", *outer) + struct.pack("<4I", *inner)


def hmac_from(sched, msg):
    outer = struct.unpack("<4I", sched[:16])
    inner = struct.unpack("<4I", sched[16:])
    return md5_from(outer, 64, md5_from(inner, 64, msg))


def main():
    password = sys.argv[1].encode()
    assert md5_from(IV, 0, b"abc" * 50) == hashlib.md5(b"abc" * 50).digest()
    sched = schedule(password)
    challenge = b"<1896.697170952@postoffice.reston.mci.net>"
    assert hmac_from(sched, challenge) == hmac.new(password, challenge, "md5").digest()
    print(sched.hex())


if __name__ == "__main__":
    main()
