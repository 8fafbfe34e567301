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
