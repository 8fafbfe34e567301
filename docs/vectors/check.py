#!/usr/bin/env python3
"""An independent re-derivation of blindvault's m-of-n entry vectors from docs/protocol.md alone.

Only the Python standard library and PyPI's `cryptography` (X25519, ChaCha20-Poly1305, Ed25519)
are used; the field arithmetic, Shamir draw, vector RNG, HKDF and HPKE are written out here from
the text. For each m-of-n entry of blindvault_v1.json it:

* replays the vector RNG (protocol.md "Test vectors") and the Shamir draw (§1.2), and compares the
  DEK, label key, nonces, coefficients, shares and HPKE ikm with the file's `intermediate`;
* re-derives each device's approver key from its PRF output (§2), opens every envelope of the
  sealed entry (§5.2, §5.3; RFC 9180 base mode) and checks the payload's share against the
  re-derived one (person numbering: §5.2), and each envelope's `enc` against DeriveKeyPair(ikm);
* interpolates the DEK from m shares, decrypts the value, and checks the writer signature.

and for wallet_envelope_v1.json (§2.1) it re-derives both key schedules, the aad and the HPKE
ephemeral key, seals the wallet entropy in RFC 9180 PSK mode, and compares the envelope's bytes.

Run: python3 docs/vectors/check.py   (not part of the test command)
"""

import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


# ---- the vector RNG -----------------------------------------------------------------------------

class Stream:
    """SHA-256(seed || u64be counter) for counter = 0, 1, ..., read in order."""

    def __init__(self, seed: bytes):
        self.seed, self.counter, self.buf = seed, 0, b""

    def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += hashlib.sha256(self.seed + struct.pack(">Q", self.counter)).digest()
            self.counter += 1
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def word32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]


# ---- GF(2^8) modulo x^8+x^4+x^3+x^2+1 (0x11d) --------------------------------------------------

def gf_mul(a: int, b: int) -> int:
    p = 0
    while b:
        if b & 1:
            p ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return p


def gf_inv(a: int) -> int:
    r = 1
    for _ in range(254):  # a^254 = a^-1
        r = gf_mul(r, a)
    return r


def interpolate_at_zero(shares):
    out = bytearray(32)
    for j in range(32):
        acc = 0
        for xi, yi in shares:
            num, den = 1, 1
            for xk, _ in shares:
                if xk != xi:
                    num = gf_mul(num, xk)
                    den = gf_mul(den, xk ^ xi)
            acc ^= gf_mul(yi[j], gf_mul(num, gf_inv(den)))
        out[j] = acc
    return bytes(out)


# ---- HKDF-SHA256 and RFC 9180 HPKE (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) --

def extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def expand(prk: bytes, info: bytes, n: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + t, i + 1
    return out[:n]


KEM_ID = b"KEM\x00\x20"
HPKE_ID = b"HPKE\x00\x20\x00\x01\x00\x03"


def labeled_extract(suite, salt, label, ikm):
    return extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, n):
    return expand(prk, struct.pack(">H", n) + b"HPKE-v1" + suite + label + info, n)


def x25519_public(sk: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def derive_keypair(ikm: bytes):
    prk = labeled_extract(KEM_ID, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_ID, prk, b"sk", b"", 32)
    return sk, x25519_public(sk)


def hpke_key_nonce(dh: bytes, enc: bytes, pk_r: bytes, info: bytes, psk: bytes = b"", psk_id: bytes = b""):
    """RFC 9180 Encap/Decap's shared secret and KeySchedule; mode_base without a PSK, else mode_psk."""
    kem_context = enc + pk_r
    eae = labeled_extract(KEM_ID, b"", b"eae_prk", dh)
    shared = labeled_expand(KEM_ID, eae, b"shared_secret", kem_context, 32)
    mode = b"\x01" if psk else b"\x00"
    ctx = mode + labeled_extract(HPKE_ID, b"", b"psk_id_hash", psk_id) + labeled_extract(HPKE_ID, b"", b"info_hash", info)
    secret = labeled_extract(HPKE_ID, shared, b"secret", psk)
    key = labeled_expand(HPKE_ID, secret, b"key", ctx, 32)
    nonce = labeled_expand(HPKE_ID, secret, b"base_nonce", ctx, 12)
    return key, nonce


def hpke_open_base(sk_r: bytes, enc: bytes, info: bytes, aad: bytes, ct: bytes) -> bytes:
    dh = X25519PrivateKey.from_private_bytes(sk_r).exchange(X25519PublicKey.from_public_bytes(enc))
    key, nonce = hpke_key_nonce(dh, enc, x25519_public(sk_r), info)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)


def hpke_seal_psk(pk_r: bytes, ikm: bytes, info: bytes, aad: bytes, pt: bytes, psk: bytes, psk_id: bytes):
    sk_e, enc = derive_keypair(ikm)
    dh = X25519PrivateKey.from_private_bytes(sk_e).exchange(X25519PublicKey.from_public_bytes(pk_r))
    key, nonce = hpke_key_nonce(dh, enc, pk_r, info, psk, psk_id)
    return enc, ChaCha20Poly1305(key).encrypt(nonce, pt, aad)


# ---- blindvault ---------------------------------------------------------------------------------

def schedule(prf: bytes, info: bytes) -> bytes:
    return expand(extract(b"blindvault/v1/key-schedule", prf), info, 32)


def approver_secret(prf: bytes) -> bytes:
    return schedule(prf, b"blindvault/v1/approver-x25519")


class Reader:
    def __init__(self, b: bytes):
        self.b = b

    def take(self, n):
        assert len(self.b) >= n, "truncated"
        out, self.b = self.b[:n], self.b[n:]
        return out

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]


def parse_entry(b: bytes):
    r = Reader(b)
    assert r.take(1) == b"\x02"
    e = {"entry_id": r.take(16), "version": r.u32(), "policy": r.take(3)}
    e["value_nonce"] = r.take(12)
    e["value_ct"] = r.take(r.u32())
    e["label_nonce"] = r.take(12)
    e["label_ct"] = r.take(r.u32())
    e["envelopes"] = []
    for _ in range(r.u16()):
        pk, enc = r.take(32), r.take(32)
        e["envelopes"].append((pk, enc, r.take(r.u32())))
    enc = r.take(32)
    e["org_envelope"] = (enc, r.take(r.u32()))
    e["body"] = b[: len(b) - len(r.b)]
    e["signature"] = r.take(64)
    assert r.b == b"", "trailing bytes"
    return e


def binding(label: bytes, e) -> bytes:
    return label + b"\x00" + e["entry_id"] + struct.pack(">I", e["version"]) + e["policy"]


def check_entry(v, key):
    inputs = next(i for i in v["inputs"]["entries"] if i["vector"] == key)
    m, n = inputs["policy"]["m"], inputs["policy"]["n"]
    devices = [v["inputs"]["devices"][d] for d in inputs["approver_devices"]]
    want = v[key]["intermediate"]

    # The draws (§5.2, §1.2, "Test vectors").
    s = Stream(inputs["rng_seed"].encode())
    dek, label_key, value_nonce, label_nonce = s.take(32), s.take(32), s.take(12), s.take(12)
    coefficients = [bytes(s.word32() & 0xFF for _ in range(m - 1)) for _ in range(32)]
    shares = []
    for x in range(1, n + 1):
        y = bytearray()
        for j in range(32):
            acc = 0
            for c in list(coefficients[j]) + [dek[j]]:
                acc = gf_mul(acc, x) ^ c
            y.append(acc)
        shares.append((x, bytes(y)))
    ikms = [s.take(32) for _ in range(len(devices) + 1)]
    assert dek.hex() == want["dek"] and label_key.hex() == want["label_key"]
    assert value_nonce.hex() == want["value_nonce"] and label_nonce.hex() == want["label_nonce"]
    assert [c.hex() for c in coefficients] == want["coefficients"], "coefficients"
    assert [{"x": x, "y": y.hex()} for x, y in shares] == want["shares"], "shares"
    assert [i.hex() for i in ikms] == want["hpke_ikm"], "hpke ikm"

    # The sealed entry (§5.3), opened by hand.
    e = parse_entry(bytes.fromhex(v[key]["sealed"]))
    assert e["policy"] == bytes([2, m, n]) and e["value_nonce"] == value_nonce and e["label_nonce"] == label_nonce
    people = []
    for k, dev in enumerate(devices):
        if dev["user_id"] not in people:
            people.append(dev["user_id"])
        x = people.index(dev["user_id"]) + 1
        sk = approver_secret(bytes.fromhex(v["inputs"]["prf_outputs"][dev["prf_output"]]))
        pk, enc, ct = e["envelopes"][k]
        assert pk == x25519_public(sk), f"envelope {k}: approver key"
        assert enc == derive_keypair(ikms[k])[1], f"envelope {k}: enc"
        payload = hpke_open_base(sk, enc, binding(b"blindvault/v1/envelope", e), pk, ct)
        assert payload == b"\x01" + label_key + bytes([2, m, x]) + shares[x - 1][1], f"envelope {k}: payload"
    assert e["org_envelope"][0] == derive_keypair(ikms[-1])[1]
    assert interpolate_at_zero(shares[:m]) == dek and interpolate_at_zero(shares[-m:]) == dek
    value = ChaCha20Poly1305(dek).decrypt(value_nonce, e["value_ct"], binding(b"blindvault/v1/entry-value", e))
    assert value == inputs["value"].encode()
    org_sign = bytes.fromhex(v["org"]["public_key"])[1:33]
    Ed25519PublicKey.from_public_bytes(org_sign).verify(e["signature"], b"blindvault/v1/sig/entry\x00" + e["body"])
    print(f"{key}: draws, {len(devices)} envelopes, {n} shares, value and signature OK")


def check_wallet_envelope(v):
    """§2.1: seal the first passkey's entropy to the second in HPKE PSK mode, byte for byte."""
    i, want = v["inputs"], v["intermediate"]
    first, second = bytes.fromhex(i["first_prf_output"]), bytes.fromhex(i["second_prf_output"])
    entropy = schedule(first, b"blindvault/v1/wallet-entropy")
    sk = approver_secret(second)
    psk = schedule(second, b"blindvault/v1/wallet-envelope-psk")
    label = b"blindvault/v1/wallet-envelope"
    user, cred = i["user_id"].encode(), bytes.fromhex(i["second_credential_id"])
    aad = label + b"\x00" + struct.pack(">H", len(user)) + user + struct.pack(">H", len(cred)) + cred
    ikm = Stream(i["rng_seed"].encode()).take(32)
    assert entropy.hex() == want["wallet_entropy"] and psk.hex() == want["second_wallet_envelope_psk"]
    assert x25519_public(sk).hex() == want["second_approver_public"]
    assert aad.hex() == want["aad"] and ikm.hex() == want["hpke_ikm"]
    assert label.hex() == want["psk_id"] == want["info"]
    enc, ct = hpke_seal_psk(x25519_public(sk), ikm, label, aad, entropy, psk, label)
    assert enc.hex() == want["enc"]
    assert (b"\x01" + enc + ct).hex() == v["envelope"], "envelope"
    print("wallet_envelope_v1: key schedules, aad, ikm, PSK-mode seal and envelope OK")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "blindvault_v1.json")) as f:
        v = json.load(f)
    for key in ("entry_2_of_3", "entry_3_of_4"):
        check_entry(v, key)
    with open(os.path.join(here, "wallet_envelope_v1.json")) as f:
        check_wallet_envelope(json.load(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
