#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) from docs/vectors and a few
hand-made inputs: a valid value of each decoder's input, so that the fuzzer starts past the
first length and version checks. Run from anywhere; rewrites the seed files it names."""
import base64, hashlib, json, os, struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V = json.load(open(os.path.join(ROOT, "docs/vectors/blindvault_v1.json")))
WE = json.load(open(os.path.join(ROOT, "docs/vectors/wallet_envelope_v1.json")))
WV = json.load(open(os.path.join(ROOT, "docs/vectors/wallet_v1.json")))
OPENAPI = json.load(open(os.path.join(ROOT, "docs/openapi.json")))

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h = bytes.fromhex

def put(target, name, data):
    d = os.path.join(ROOT, "fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(os.path.join(d, name), "wb").write(data)

entries = {k: h(V[k]["sealed"]) for k in ("entry_any_of", "entry_2_of_3", "entry_3_of_4")}
enrolments = [h(e) for e in V["enrolments"]]
cert, cert_v1 = h(V["host"]["certificate"]), h(V["host"]["certificate_v1"])
request = h(V["request"]["signed"])
responses = [h(V["response"]["sealed"]), h(V["response_m_of_n"]["sealed"])]
revocations = h(V["revocations"]["signed"])
org = h(V["org"]["public_key"])
approver = h(V["key_schedule"][0]["approver_public"])

# ---- core
for k, v in entries.items(): put("core_entry", k, v)
for i, e in enumerate(enrolments): put("core_enrolment", f"enrolment-{i}", e)
put("core_certificate", "v2", cert); put("core_certificate", "v1", cert_v1)
put("core_request", "signed", request)
put("core_revocations", "epoch-1", revocations)
for i, r in enumerate(responses): put("core_response", f"sealed-{i}", b"\x00" + r)
put("core_response", "dek", b"\x02" + b"\x01" + bytes(range(32)))
put("core_response", "share", b"\x0e" + b"\x02\x02\x01" + bytes(range(32)))
put("core_response", "payload", b"\x01\x02" + bytes(90))
put("core_shamir", "2-of-3", bytes(range(32)) + b"\x02\x03" + b"\x07" * 8 + b"\x00\x02")
put("core_shamir", "3-of-5", bytes(range(32, 64)) + b"\x03\x05" + b"\x09" * 8 + b"\x04\x01\x00")
put("core_small", "org", b"\x00" + org)
put("core_small", "policy", b"\x01\x02\x02\x03")
put("core_small", "id", b"\x02" + b64(bytes([0x10] * 16)).encode())
put("core_small", "b64", b"\x03" + b64(org).encode())
put("core_small", "hex", b"\x04" + org.hex().encode())
put("core_small", "wallet-envelope", b"\x05" + h(WE["envelope"]))
put("core_small", "storage", b"\x06\x01" + bytes(12) + bytes(40))
put("core_small", "text", b"\x07__Host-blindvault_session=x \u202e".decode("unicode_escape").encode())

# ---- wallet
def rlp(x):
    if isinstance(x, int): x = x.to_bytes((x.bit_length() + 7) // 8, "big") if x else b""
    if isinstance(x, bytes):
        if len(x) == 1 and x[0] < 0x80: return x
        return (bytes([0x80 + len(x)]) if len(x) < 56 else bytes([0xb7 + len(ln := x.__len__().to_bytes(8, "big").lstrip(b"\0"))]) + ln) + x
    body = b"".join(rlp(i) for i in x)
    return (bytes([0xc0 + len(body)]) if len(body) < 56 else bytes([0xf7 + len(ln := len(body).to_bytes(8, "big").lstrip(b"\0"))]) + ln) + body
to = h("dac17f958d2ee523a2206206994597c13d831ec7")
transfer = h("a9059cbb") + bytes(12) + h("11" * 20) + (10**6).to_bytes(32, "big")
put("wallet_evm", "native", b"\x00\x02" + rlp([1, 0, 10**9, 3 * 10**10, 21000, h("22" * 20), 10**18, b"", []]))
put("wallet_evm", "erc20", b"\x01\x02" + rlp([1, 5, 10**9, 3 * 10**10, 60000, to, 0, transfer, []]))
typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                   "Mail": [{"name": "to", "type": "address"}, {"name": "contents", "type": "string"}]},
         "primaryType": "Mail", "domain": {"name": "Ether Mail", "chainId": 1},
         "message": {"to": "0x" + "22" * 20, "contents": "Hello"}}
put("wallet_evm", "typed", b"\x02" + json.dumps(typed).encode())
put("wallet_evm", "erc20-reads", b"\x03" + (32).to_bytes(32, "big") + (4).to_bytes(32, "big") + b"USDT".ljust(32, b"\0"))
prev = (struct.pack("<i", 2) + b"\x01" + bytes(32) + b"\xff\xff\xff\xff" + b"\x00" + b"\xff\xff\xff\xff"
        + b"\x01" + struct.pack("<q", 100000) + b"\x16\x00\x14" + b"\x07" * 20 + struct.pack("<I", 0))
put("wallet_btc_tx", "p2wpkh", prev)
put("wallet_psbt", "regtest", "cHNidP8BAFICAAAAARpiQII95MjWqvgmhRvfKw6NWs98MehXjP9MOUtaMr1OAwAAAAD/////AQEAAAAAAAAAFgAUBwcHBwcHBwcHBwcHBwcHBwcHBwcAAAAAAAEADAIAAAAAAQAAAAAAAAAA")
put("wallet_psbt", "regtest-binary", base64.b64decode("cHNidP8BAFICAAAAARpiQII95MjWqvgmhRvfKw6NWs98MehXjP9MOUtaMr1OAwAAAAD/////AQEAAAAAAAAAFgAUBwcHBwcHBwcHBwcHBwcHBwcHBwcAAAAAAAEADAIAAAAAAQAAAAAAAAAA"))
# Solana: a legacy system transfer, one (zero) signature.
msg = (b"\x01\x00\x01" + b"\x03" + b"\x11" * 32 + b"\x22" * 32 + bytes(32) + b"\x33" * 32
       + b"\x01" + b"\x02" + b"\x02\x00\x01" + b"\x0c" + struct.pack("<I", 2) + struct.pack("<Q", 5000))
put("wallet_solana", "transfer", b"\x01" + bytes(64) + msg)
put("wallet_solana", "message", msg)
put("wallet_ton", "empty-cell", base64.b64decode("te6cckEBAQEAAgAAAEysuc0="))
# A published wallet v4 transfer (crates/wallet/tests: the external message it signs).
put("wallet_ton", "v4-transfer", base64.b64decode(
    "te6ccgICAAQAAQAAALAAAAFFiAGwt/q8k4SrjbFbQCjJZfQr64ExRxcUMsWqaQODqTUijgwAAQGcEUPkil2aZ4s8KKparSep/OKHMC8vuXafFbW2HGp/9AcTRv0J5T4dwyW1G0JpHw+g5Ov6QI3Xo0O9RFr3KidICimpoxdjm3UYAAAABgADAAIBYmIAM33x4uAd+uQTyXyCZPxflESlNVHpCeoOECtNsqVW9tmIUAAAAAAAAAAAAAAAAAEAAwAA"))
# TRON: raw_data of a TransferContract (ref block, expiration, contract, timestamp).
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(no, data): return varint(no << 3 | 2) + varint(len(data)) + data
def vint(no, n): return varint(no << 3) + varint(n)
transfer_c = field(1, b"\x41" + b"\x11" * 20) + field(2, b"\x41" + b"\x22" * 20) + vint(3, 1000000)
anyv = field(1, b"type.googleapis.com/protocol.TransferContract") + field(2, transfer_c)
contract = vint(1, 1) + field(2, anyv)
raw = field(1, b"\xab\xcd") + field(4, bytes(8)) + vint(8, 1700000060000) + field(11, contract) + vint(14, 1700000000000)
put("wallet_tron", "transfer", raw)
addr = WV["cases"][0]["addresses"]
for i, a in enumerate(addr): put("wallet_text", f"address-{i}", b"\x00" + a["address"].encode())
put("wallet_text", "units", b"\x011.000001")
put("wallet_text", "path", b"\x02m/44'/60'/0'/0/0")
put("wallet_text", "xpub", b"\x03xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8")
put("wallet_text", "utxos", b'\x04[{"txid":"' + b"ab" * 32 + b'","vout":0,"status":{"confirmed":true,"block_height":1},"value":1000}]')
put("wallet_text", "txs", b"\x05[]")
put("wallet_text", "fees", b'\x06{"2": 87.882, "6": 68.285}')
put("wallet_text", "btc-history", b"\x07[]")
put("wallet_text", "ton-history", b'\x08{"ok":true,"result":[]}')
put("wallet_text", "tron-history", b'\t{"data":[]}{"data":[]}')

# ---- API bodies: a value of each request body type, by its JSON Schema in docs/openapi.json
schemas = OPENAPI["components"]["schemas"]
special = {"signed_enrolment": b64(enrolments[0]), "certificate": b64(cert), "signed_request": b64(request),
           "sealed_entry": b64(entries["entry_any_of"]), "org_public_key": b64(org), "record": b64(revocations),
           "signed_revocations": b64(revocations), "revocations": b64(revocations),
           "sealed_response": b64(responses[0]), "approver_public_key": b64(approver),
           "envelope": b64(h(WE["envelope"]))}
def sample(s, name=""):
    if "$ref" in s: return sample(schemas[s["$ref"].split("/")[-1]], name)
    if name in special: return special[name]
    if "enum" in s: return s["enum"][0]
    if "const" in s: return s["const"]
    for k in ("oneOf", "anyOf"):
        if k in s: return sample(s[k][0], name)
    t = s.get("type")
    if isinstance(t, list): t = [x for x in t if x != "null"][0]
    if t == "object" or "properties" in s:
        return {k: sample(v, k) for k, v in s.get("properties", {}).items()}
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": [], None: {"id": "k"}}.get(t, "x")
BODIES = ["RegisterStart", "RegisterFinish", "CeremonyAnswer", "AddPasskeyStart", "CreateToken", "SetupClaim",
          "RenamePasskey", "StartStepUp", "ConfirmStepUp", "SetRole", "CreateInvite", "PutOrg", "OrgSettings",
          "CreateEnrolment", "ApproveEnrolment", "PutRevocations", "RegisterHost", "PutEntry", "CreateRequest",
          "ApproveFinish", "PushSubscribe", "PushUnsubscribe", "AddressPublish", "GatewayRequest", "EndpointSet",
          "TokenSet", "PutWalletEnvelope", "SetWalletOrigin"]  # the order of fuzz_targets/api_json.rs
for i, name in enumerate(BODIES):
    if name in schemas:
        put("api_json", name, bytes([i]) + json.dumps(sample(schemas[name])).encode())
put("api_json", "every-route", b"\xff" + json.dumps(sample(schemas["PutEntry"])).encode())
put("api_params", "audit", b"\x00after=3&limit=10")
put("api_params", "status", b"\x01status=pending")
put("api_params", "dry-run", b"\x02dry_run=true")
put("api_params", "wait", b"\x03wait=30")
put("api_params", "events", b"\x04last_event_id=12&x=%20y")
put("api_params", "id", b"\x05" + b64(bytes([0x10] * 16)).encode())

# ---- the consumer host's files
hostfile = {"version": 2, "host_secret": b64(h(V["host"]["secret"])), "certificate": b64(cert),
            "org_public_key": b64(org), "revocations": b64(revocations)}
put("client_hostfile", "host-key", b"\x00" + json.dumps(hostfile, indent=2).encode())
put("client_hostfile", "versions", b'\x01{"' + b64(bytes([0x10] * 16)).encode() + b'": 3}')
put("client_hostfile", "revocations", b"\x02" + b64(revocations).encode() + b"\n")
put("client_template", "env", 'DATABASE_URL=postgres://app:{{ blindvault "db" }}@db/app\nKEY={{blindvault "api"}}\n{{{{ literal\n')
