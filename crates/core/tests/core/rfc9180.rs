//! RFC 9180 test vectors (A.2.1 ChaCha20-Poly1305, A.1.1 AES-128-GCM) from ../shared/vectors,
//! read at test time. The ChaCha20-Poly1305 suite is the one blindvault uses; it is checked both
//! through the `hpke` crate's key schedule and through blindvault's own wrapper.

use blindvault_core::hpke::{self as bvhpke, HpkeCiphertext};
use hpke::{Kem as _, OpModeR, OpModeS, Serializable};
use serde_json::Value;

pub fn shared_vectors(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {} ({e}): ../shared must sit beside the repo", path.display())
    });
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn h(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(v[k].as_str().unwrap_or_else(|| panic!("field {k}"))).expect("hex")
}

/// Replays fixed bytes: makes the `hpke` crate's sender ephemeral key equal `ikmE`.
struct Replay(Vec<u8>);
impl rand_core::TryRng for Replay {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unreachable!()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unreachable!()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        assert!(dst.len() <= self.0.len(), "replay RNG exhausted");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Replay {}

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;

fn run_suite<A: hpke::aead::Aead>(v: &Value) {
    let info = h(v, "info");
    // Receiver key pair from ikmR.
    let (sk_r, pk_r) = Kem::derive_keypair(&h(v, "ikmR"));
    assert_eq!(pk_r.to_bytes().to_vec(), h(v, "pkRm"), "pkRm");
    // The crate serialises the clamped scalar (RFC 7748 §5): the same X25519 key as skRm.
    let mut sk_clamped = h(v, "skRm");
    sk_clamped[0] &= 248;
    sk_clamped[31] &= 127;
    sk_clamped[31] |= 64;
    assert_eq!(sk_r.to_bytes().to_vec(), sk_clamped, "skRm");
    let (_, pk_e) = Kem::derive_keypair(&h(v, "ikmE"));
    assert_eq!(pk_e.to_bytes().to_vec(), h(v, "pkEm"), "pkEm");

    // Sender context with the vector's ephemeral key.
    let mut rng = Replay(h(v, "ikmE"));
    let (enc, mut sender) =
        hpke::setup_sender_with_rng::<A, Kdf, Kem>(&OpModeS::Base, &pk_r, &info, &mut rng).expect("setup");
    assert_eq!(enc.to_bytes().to_vec(), h(v, "enc"), "enc");
    let mut receiver =
        hpke::setup_receiver::<A, Kdf, Kem>(&OpModeR::Base, &sk_r, &enc, &info).expect("setup_r");

    let encs = v["encryptions"].as_array().expect("encryptions");
    assert!(!encs.is_empty());
    let mut seq = 0u64;
    for e in encs {
        let target = e["sequence_number"].as_u64().expect("seq");
        // Advance both contexts to the vector's sequence number.
        while seq < target {
            let c = sender.seal(b"", b"").expect("seal");
            receiver.open(&c, b"").expect("open");
            seq += 1;
        }
        let ct = sender.seal(&h(e, "pt"), &h(e, "aad")).expect("seal");
        assert_eq!(ct, h(e, "ct"), "ct at seq {target}");
        let pt = receiver.open(&ct, &h(e, "aad")).expect("open");
        assert_eq!(pt, h(e, "pt"));
        seq += 1;
    }
    for x in v["exports"].as_array().expect("exports") {
        let mut out = vec![0u8; x["L"].as_u64().expect("L") as usize];
        sender.export(&h(x, "exporter_context"), &mut out).expect("export");
        assert_eq!(out, h(x, "exported_value"), "export");
    }
}

#[test]
fn rfc9180_vectors_pass() {
    let file = shared_vectors("hpke_x25519_chacha.json");
    let vectors = file["vectors"].as_array().expect("vectors");
    let mut ran = 0;
    for v in vectors {
        assert_eq!(v["mode"], 0);
        match v["aead_id"].as_u64() {
            Some(3) => run_suite::<hpke::aead::ChaCha20Poly1305>(v),
            Some(1) => run_suite::<hpke::aead::AesGcm128>(v),
            other => panic!("unexpected aead {other:?}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 2);
}

#[test]
fn blindvault_wrapper_opens_the_rfc_chacha_vector() {
    let file = shared_vectors("hpke_x25519_chacha.json");
    let v = file["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|v| v["aead_id"] == 3 && v["kem_id"] == 32 && v["kdf_id"] == 1)
        .expect("the X25519/HKDF-SHA256/ChaCha20-Poly1305 vector");
    let e0 = &v["encryptions"][0];
    assert_eq!(e0["sequence_number"], 0);
    let (sk, pk) = bvhpke::derive_keypair(&h(v, "ikmR"));
    assert_eq!(pk.to_vec(), h(v, "pkRm"));
    let sk: [u8; 32] = sk.expose().try_into().expect("32");
    let c = HpkeCiphertext { enc: h(v, "enc").try_into().expect("32"), ct: h(e0, "ct") };
    let pt = bvhpke::open(&sk, &h(v, "info"), &h(e0, "aad"), &c).expect("open");
    assert_eq!(pt.expose(), h(e0, "pt").as_slice());
    // And a wrong info is the opaque error.
    assert_eq!(bvhpke::open(&sk, b"other", &h(e0, "aad"), &c).err(), Some(blindvault_core::Error::Decrypt));
}

/// RFC 9180 Appendix A.2.2 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305,
/// mode_psk), sequence number 0, written out from the RFC (the shared vector file holds only
/// base-mode vectors): blindvault's PSK wrapper — the wallet envelopes' mode (docs/protocol.md
/// §2.1) — seals the RFC's ciphertext from its `ikmE` and opens it, and a wrong PSK or PSK id is
/// the opaque error.
#[test]
fn blindvault_psk_wrapper_matches_the_rfc_chacha_psk_vector() {
    let x = |s: &str| hex::decode(s).expect("hex");
    let ikm_r = x("26b923eade72941c8a85b09986cdfa3f1296852261adedc52d58d2930269812b");
    let ikm_e = x("35706a0b09fb26fb45c39c2f5079c709c7cf98e43afa973f14d88ece7e29c2e3");
    let pk_rm = x("13640af826b722fc04feaa4de2f28fbd5ecc03623b317834e7ff4120dbe73062");
    let enc = x("2261299c3f40a9afc133b969a97f05e95be2c514e54f3de26cbe5644ac735b04");
    let info = x("4f6465206f6e2061204772656369616e2055726e");
    let psk = x("0247fd33b913760fa1fa51e1892d9f307fbe65eb171e8132c2af18555a738b82");
    let psk_id = x("456e6e796e20447572696e206172616e204d6f726961");
    let aad = x("436f756e742d30");
    let pt = x("4265617574792069732074727574682c20747275746820626561757479");
    let ct = x("4a177f9c0d6f15cfdf533fb65bf84aecdc6ab16b8b85b4cf65a370e07fc1d78d28fb073214525276f4a89608ff");

    let (sk, pk) = bvhpke::derive_keypair(&ikm_r);
    assert_eq!(pk.to_vec(), pk_rm);
    let sealed = bvhpke::seal_psk(&pk, (&psk, &psk_id), &info, &aad, &pt, &mut Replay(ikm_e)).expect("seal");
    assert_eq!(sealed.enc.to_vec(), enc, "enc");
    assert_eq!(sealed.ct, ct, "ct");
    let sk: [u8; 32] = sk.expose().try_into().expect("32");
    let opened = bvhpke::open_psk(&sk, (&psk, &psk_id), &info, &aad, &sealed).expect("open");
    assert_eq!(opened.expose(), pt.as_slice());
    let mut wrong = psk.clone();
    wrong[0] ^= 1;
    assert_eq!(
        bvhpke::open_psk(&sk, (&wrong, &psk_id), &info, &aad, &sealed).err(),
        Some(blindvault_core::Error::Decrypt)
    );
    assert_eq!(
        bvhpke::open_psk(&sk, (&psk, b"other"), &info, &aad, &sealed).err(),
        Some(blindvault_core::Error::Decrypt)
    );
    // A PSK-mode ciphertext is not a base-mode one.
    assert_eq!(bvhpke::open(&sk, &info, &aad, &sealed).err(), Some(blindvault_core::Error::Decrypt));
}
