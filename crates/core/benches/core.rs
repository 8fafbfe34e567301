//! Core benchmarks: each composite operation beside the raw primitives it is made of, measured
//! in the same run, printed as a ratio (target: composite ≤ 1.3 × primitives).
//!
//! `cargo bench -p blindvault-core --bench core` (add `-- --quick` for a shorter run).
//!
//! Each composite and its floor (the raw primitives it is made of, run as code) are measured in
//! alternating batches and the median of the per-round ratios is printed, so that load changes
//! on a shared machine hit both sides alike.
//!
//! The floor of each composite counts the X25519 operations RFC 9180's DHKEM itself performs:
//! `Encap` = one base-point multiplication (the ephemeral key) + one DH; `Decap` = one DH + one
//! base-point multiplication (pkR for the KEM context). `approve` adds one base-point
//! multiplication to find its own envelope. What remains above the floor is HPKE's labelled
//! HKDF key schedule, Shamir, encoding and allocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{Enrolment, HostCertificate, Request, verify_request};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{approve, open_response, recover_secret};
use blindvault_core::revocation::Revocations;
use blindvault_core::schedule::{KeySchedule, PrfOutput};
use blindvault_core::shamir;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

struct Os;
impl rand_core::TryRng for Os {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        // A fast non-OS stream is fine for timing; the keys made here protect nothing.
        use sha2::Digest;
        static CTR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        for chunk in dst.chunks_mut(32) {
            let n = CTR.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let d = sha2::Sha256::digest(n.to_le_bytes());
            chunk.copy_from_slice(&d[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Os {}

/// Median nanoseconds per call over several timed batches.
fn measure(quick: bool, mut f: impl FnMut()) -> f64 {
    let batch_time = Duration::from_millis(if quick { 60 } else { 250 });
    let start = Instant::now();
    let mut calib = 0u64;
    while start.elapsed() < batch_time / 2 {
        f();
        calib += 1;
    }
    let per_batch = calib.max(1) * 2;
    let mut samples: Vec<f64> = (0..if quick { 5 } else { 9 })
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Measures `composite` and `floor` in alternating batches (so load changes hit both alike) and
/// returns (median composite ns, median floor ns, median of the per-round ratios).
fn compare(quick: bool, mut composite: impl FnMut(), mut floor: impl FnMut()) -> (f64, f64, f64) {
    let rounds = if quick { 5 } else { 11 };
    let batch = Duration::from_millis(if quick { 40 } else { 120 });
    // Calibrate the batch sizes.
    let calib = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed() < batch / 4 {
            f();
            n += 1;
        }
        (n * 4).max(1)
    };
    let nc = calib(&mut composite);
    let nf = calib(&mut floor);
    let (mut cs, mut fs, mut rs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..nc {
            composite();
        }
        let c = t.elapsed().as_nanos() as f64 / nc as f64;
        let t = Instant::now();
        for _ in 0..nf {
            floor();
        }
        let f = t.elapsed().as_nanos() as f64 / nf as f64;
        cs.push(c);
        fs.push(f);
        rs.push(c / f);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    (med(&mut cs), med(&mut fs), med(&mut rs))
}

fn report_ratio(name: &str, (c, f, ratio): (f64, f64, f64), floor_desc: &str, targeted: bool) {
    let verdict = match (targeted, ratio <= 1.3) {
        (false, _) => "(no target: writer side)",
        (true, true) => "(target ≤ 1.30) ok",
        (true, false) => "(target ≤ 1.30) ABOVE TARGET",
    };
    println!(
        "{name:<44} {:>9.1} µs   floor {:>9.1} µs ({floor_desc})   ratio {ratio:.2} {verdict}",
        c / 1e3,
        f / 1e3
    );
}

fn x25519_base(s: [u8; 32]) -> [u8; 32] {
    x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(s)).to_bytes()
}
fn x25519_dh(s: [u8; 32], p: [u8; 32]) -> [u8; 32] {
    x25519_dalek::StaticSecret::from(s).diffie_hellman(&x25519_dalek::PublicKey::from(p)).to_bytes()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut rng = Os;
    let org = OrgSecretKey::generate(&mut rng);
    let op = org.public_key();
    let host = HostSecretKey::generate(&mut rng);
    let entry_id = EntryId::generate(&mut rng);
    let devices: Vec<KeySchedule> =
        (0..3u8).map(|i| KeySchedule::derive(&PrfOutput::from_bytes([i + 1; 32]))).collect();
    let enrolments: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Enrolment {
                user_id: format!("user-{i}"),
                credential_id: vec![i as u8; 16],
                approver_key: k.approver_public(),
                issued_at: 1,
                not_after: u64::MAX,
            }
            .sign(&org)
            .unwrap()
        })
        .collect();
    let approvers: Vec<_> = enrolments.iter().map(|e| e.verify(&op, 2).unwrap()).collect();
    let cert = HostCertificate {
        cert_id: CertId::generate(&mut rng),
        host_name: "bench-host".into(),
        host_key: host.public_key(),
        allowed_entries: vec![entry_id],
        not_before: 0,
        not_after: 10_000,
        issuer: Some("admin-1".into()),
        self_approval: false,
    }
    .sign(&org)
    .unwrap();
    let eph = EphemeralSecretKey::generate(&mut rng);
    let req = Request {
        request_id: RequestId::generate(&mut rng),
        cert_id: cert.cert.cert_id,
        entry_id,
        ephemeral_key: eph.public_key(),
        issued_at: 100,
        expires_at: 400,
        nonce: [7; 16],
        min_version: 0,
        poll_token_hash: [0x50; 32],
        purpose: blindvault_core::identity::Purpose::run(&["./migrate.sh"], &["DB"], 900),
    }
    .sign(&host)
    .unwrap();
    let value = vec![0x5a; 64];
    let any_of =
        seal_entry(&org, entry_id, 1, Policy::AnyOf { n: 3 }, &approvers, b"label", &value, &mut rng)
            .unwrap();
    let m_of_n =
        seal_entry(&org, entry_id, 1, Policy::MOfN { m: 2, n: 3 }, &approvers, b"label", &value, &mut rng)
            .unwrap();
    let verified = verify_request(&op, &cert, &req, 200).unwrap();

    println!("blindvault-core benchmarks ({} run)", if quick { "quick" } else { "full" });

    // Raw primitives.
    let s1 = [1u8; 32];
    let p2 = x25519_base([2u8; 32]);
    let aead = ChaCha20Poly1305::new(&[9u8; 32].into());
    let nonce = chacha20poly1305::Nonce::from([0u8; 12]);
    let ct_small = aead.encrypt(&nonce, Payload { msg: &[0u8; 120], aad: b"aad" }).unwrap();
    let t_base = measure(quick, || {
        black_box(x25519_base(black_box(s1)));
    });
    let t_dh = measure(quick, || {
        black_box(x25519_dh(black_box(s1), black_box(p2)));
    });
    let t_aead = measure(quick, || {
        black_box(aead.decrypt(&nonce, Payload { msg: black_box(&ct_small), aad: b"aad" }).unwrap());
    });
    let sk = SigningKey::from_bytes(&[3u8; 32]);
    let vk_bytes = sk.verifying_key().to_bytes();
    let msg = vec![0u8; 160];
    let sig = sk.sign(&msg);
    let t_ed = measure(quick, || {
        let vk = VerifyingKey::from_bytes(black_box(&vk_bytes)).unwrap();
        vk.verify_strict(black_box(&msg), &sig).unwrap();
    });
    println!(
        "primitives: X25519 base-mult {:.1} µs, X25519 DH {:.1} µs, ChaCha20-Poly1305 (≤120 B) {:.2} µs, Ed25519 verify {:.1} µs",
        t_base / 1e3,
        t_dh / 1e3,
        t_aead / 1e3,
        t_ed / 1e3
    );

    // Raw floors, run as code (not sums), interleaved with their composites.
    let base = || {
        black_box(x25519_base(black_box(s1)));
    };
    let dh = || {
        black_box(x25519_dh(black_box(s1), black_box(p2)));
    };
    let open_aead = || {
        black_box(aead.decrypt(&nonce, Payload { msg: black_box(&ct_small), aad: b"aad" }).unwrap());
    };
    let seal_aead = || {
        black_box(aead.encrypt(&nonce, Payload { msg: black_box(&[0u8; 104][..]), aad: b"aad" }).unwrap());
    };
    let ed = || {
        let vk = VerifyingKey::from_bytes(black_box(&vk_bytes)).unwrap();
        vk.verify_strict(black_box(&msg), &sig).unwrap();
    };

    // 1. Approver: open envelope + reseal to the consumer's key (any-of).
    let sk0 = devices[0].approver_secret();
    let r = compare(
        quick,
        || {
            black_box(approve(sk0, &verified, &any_of, &mut Os).unwrap());
        },
        || {
            (0..3).for_each(|_| base());
            (0..3).for_each(|_| dh());
            (0..2).for_each(|_| open_aead());
            seal_aead();
        },
    );
    report_ratio(
        "approve: open envelope + reseal (any-of)",
        r,
        "3 base-mult + 3 DH (one for HPKE auth mode) + 3 AEAD",
        true,
    );

    // 2. 2-of-3: the consumer's recovery — open two responses, combine, decrypt.
    let r0 = approve(devices[0].approver_secret(), &verified, &m_of_n, &mut Os).unwrap();
    let r1 = approve(devices[1].approver_secret(), &verified, &m_of_n, &mut Os).unwrap();
    let r = compare(
        quick,
        || {
            // As `blindvault run` does: each sender's enrolment checked against the org key.
            let a0 = enrolments[0].verify(&op, 2).unwrap();
            let a1 = enrolments[1].verify(&op, 2).unwrap();
            let a = open_response(&eph, &req, &r0, &a0).unwrap();
            let b = open_response(&eph, &req, &r1, &a1).unwrap();
            black_box(recover_secret(&[a, b], &m_of_n, &Revocations::none()).unwrap());
        },
        || {
            (0..2).for_each(|_| ed());
            (0..2).for_each(|_| base());
            (0..4).for_each(|_| dh());
            (0..3).for_each(|_| open_aead());
        },
    );
    report_ratio(
        "2-of-3: check 2 senders + open 2 responses + combine + decrypt",
        r,
        "2 Ed25519 verify + 2 base-mult + 4 DH (2 for auth mode) + 3 AEAD",
        true,
    );

    // 2b. 2-of-3 split + combine of a DEK on its own (GF(256) arithmetic only).
    let dek = blindvault_core::entry::Dek::from_bytes([4; 32]);
    let t = measure(quick, || {
        let shares = shamir::split(&dek, 2, 3, &mut Os).unwrap();
        black_box(shamir::combine(&shares[..2]).unwrap());
    });
    println!(
        "{:<44} {:>9.1} µs   (pure GF(256) arithmetic; {:.2}× one AEAD)",
        "2-of-3 split + combine (DEK alone)",
        t / 1e3,
        t / t_aead
    );

    // 2c. Writer: seal a 2-of-3 entry to three devices.
    let r = compare(
        quick,
        || {
            black_box(
                seal_entry(
                    &org,
                    entry_id,
                    1,
                    Policy::MOfN { m: 2, n: 3 },
                    &approvers,
                    b"label",
                    &value,
                    &mut Os,
                )
                .unwrap(),
            );
        },
        || {
            (0..4).for_each(|_| base());
            (0..4).for_each(|_| dh());
            (0..6).for_each(|_| seal_aead());
        },
    );
    report_ratio("seal 2-of-3 entry (3 envelopes + org)", r, "4 base-mult + 4 DH + 6 AEAD", false);

    // 3. Request verification chain: org → certificate → request.
    let r = compare(
        quick,
        || {
            black_box(verify_request(&op, &cert, &req, 200).unwrap());
        },
        || {
            ed();
            ed();
        },
    );
    report_ratio("verify chain: org → host cert → request", r, "2 Ed25519 verify", true);

    // Round-trip decoding cost, for reference.
    let bytes = any_of.to_bytes();
    let t = measure(quick, || {
        black_box(SealedEntry::from_bytes(black_box(&bytes)).unwrap());
    });
    println!("{:<44} {:>9.2} µs   ({} bytes)", "decode sealed entry", t / 1e3, bytes.len());
}
