#!/usr/bin/python3
"""Verify every DKIM-Signature of one message with Debian's python3-dkim
(dkimpy), an implementation that is not mailroom's.

usage: dkim_verify.py RECORDS < message.eml

RECORDS holds `name value` lines (`sel._domainkey.example.org v=DKIM1; ...`):
the DNS TXT records the verifier's DNS hook answers with; no real DNS is
asked. Prints one line per signature; exits 0 only if there is at least one
signature and every one verifies.
"""
import sys

import dkim

records = {}
with open(sys.argv[1]) as f:
    for line in f:
        if line.strip():
            name, value = line.strip().split(" ", 1)
            records[name.lower().rstrip(".")] = value


def dns(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return records.get(name.lower().rstrip("."), "").encode()


message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = sum(1 for (k, _) in d.headers if k.lower() == b"dkim-signature")
ok = count > 0
for i in range(count):
    try:
        good = d.verify(idx=i, dnsfunc=dns)
    except dkim.DKIMException as e:
        good = False
        print(f"signature {i}: error: {e}")
    sig = d.signature_fields
    print(
        "signature {}: d={} s={} a={}: {}".format(
            i,
            sig.get(b"d", b"").decode(),
            sig.get(b"s", b"").decode(),
            sig.get(b"a", b"").decode(),
            "pass" if good else "fail",
        )
    )
    ok = ok and good
if count == 0:
    print("no DKIM-Signature")
sys.exit(0 if ok else 1)
