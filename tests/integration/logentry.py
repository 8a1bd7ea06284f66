# SPDX-License-Identifier: Apache-2.0
"""An independent reading of docs/log.md for the log tests: parse a version-2 record body and
derive its transparency-log entry body and Merkle leaf exactly as the document specifies, so
the C code (lib/format/logentry.c) is checked against the text rather than against itself."""
import base64
import hashlib
import json
import struct

HASHES = {1: ("sha256", 32), 2: ("sha384", 48), 3: ("sha512", 64)}


def parse_body(b):
    o = 0

    def take(n):
        nonlocal o
        if o + n > len(b):
            raise ValueError("short body")
        v = b[o:o + n]
        o += n
        return v

    def u(n, fmt):
        return struct.unpack(fmt, take(n))[0]

    def string():
        return take(u(4, ">I"))

    r = {}
    r["version"], r["type"] = u(1, ">B"), u(1, ">B")
    if r["version"] != 2 or r["type"] != 1:
        raise ValueError("not a version 2 signature record")
    r["seq"], r["time_ns"] = u(8, ">Q"), u(8, ">Q")
    r["uid"], r["gid"], r["pid"] = u(4, ">I"), u(4, ">I"), u(4, ">I")
    r["exe"], r["unit"], r["key"] = string(), string(), string()
    r["request"], r["hash"] = u(1, ">B"), u(1, ">B")
    r["digest"], r["statement_sha256"], r["predicate_type"] = string(), string(), string()
    r["subjects"] = [(string(), string()) for _ in range(u(4, ">I"))]
    r["sig"], r["spki"], r["envelope_sha256"] = string(), string(), string()
    if o != len(b):
        raise ValueError("trailing bytes")
    return r


def pem(spki):
    b64 = base64.b64encode(spki).decode()
    lines = "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64))
    return "-----BEGIN PUBLIC KEY-----\n" + lines + "-----END PUBLIC KEY-----\n"


def entry(body):
    r = parse_body(body)
    b64 = lambda x: base64.b64encode(x).decode()
    key = b64(pem(r["spki"]).encode())
    e = {"apiVersion": "0.0.1", "hwsign": {"record": hashlib.sha256(body).hexdigest()}}
    if r["request"] == 2:
        e["kind"] = "dsse"
        e["spec"] = {
            "envelopeHash": {"algorithm": "sha256", "value": r["envelope_sha256"].hex()},
            "payloadHash": {"algorithm": "sha256", "value": r["statement_sha256"].hex()},
            "signatures": [{"signature": b64(r["sig"]), "verifier": key}],
        }
    else:
        alg, n = HASHES[r["hash"]]
        assert len(r["digest"]) == n
        e["kind"] = "hashedrekord"
        e["spec"] = {
            "data": {"hash": {"algorithm": alg, "value": r["digest"].hex()}},
            "signature": {"content": b64(r["sig"]), "publicKey": {"content": key}},
        }
    return json.dumps(e, separators=(",", ":")).encode()


def leaf(body):
    return hashlib.sha256(b"\x00" + entry(body)).digest()
