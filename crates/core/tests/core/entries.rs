//! Entry sealing: every binding of the AAD and of the envelope `info`, Shamir edge cases.

use crate::util::*;
use blindvault_core::Error;
use blindvault_core::entry::{KeyMaterial, SealedEntry, seal_entry};
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_core::shamir::{self, DekShare};

fn entry(w: &World, devs: &[&Device], policy: Policy, version: u32, value: &[u8]) -> SealedEntry {
    let approvers: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
    seal_entry(&w.org, w.entry_id, version, policy, &approvers, b"label", value, &mut rng("seal")).unwrap()
}

/// Rewrites the entry id / version / policy header of an encoded entry, as a server could.
fn rewrite(e: &SealedEntry, f: impl FnOnce(&mut Vec<u8>)) -> SealedEntry {
    let mut b = e.to_bytes();
    f(&mut b);
    SealedEntry::from_bytes(&b).unwrap()
}

const VALUE_CT: usize = 40; // 1 + 16 + 4 + 3 + 12 + 4

#[test]
fn wrong_entry_id_or_version_in_info_and_aad_fails() {
    let w = World::new("bind");
    let a = Device::new("a", 1);
    let b2 = Device::new("b", 2);
    let e = entry(&w, &[&a, &b2], Policy::AnyOf { n: 2 }, 5, b"value");
    let sk = a.keys.approver_secret();
    assert!(e.open_envelope(sk).is_ok());

    // Entry id changed: the envelope's HPKE info no longer matches.
    let moved = rewrite(&e, |b| b[1] ^= 1);
    assert_eq!(moved.open_envelope(sk).err(), Some(Error::Decrypt));
    // Version changed (e.g. an old envelope presented as a newer version).
    let bumped = rewrite(&e, |b| b[20] ^= 1);
    assert_eq!(bumped.open_envelope(sk).err(), Some(Error::Decrypt));
    // Policy changed.
    let repolicied = rewrite(&e, |b| {
        b[21] = 2;
        b[22] = 2;
    });
    assert_eq!(repolicied.policy, Policy::MOfN { m: 2, n: 2 });
    assert_eq!(repolicied.open_envelope(sk).err(), Some(Error::Decrypt));

    // The AAD of the value and the label bind them too: a DEK of the genuine entry does not
    // decrypt the value under a rewritten header.
    let KeyMaterial::Dek(dek) = e.open_envelope(sk).unwrap().key else { panic!("any-of gives the DEK") };
    assert_eq!(e.decrypt_value(&dek).unwrap().expose(), b"value");
    assert_eq!(moved.decrypt_value(&dek).err(), Some(Error::Decrypt));
    assert_eq!(bumped.decrypt_value(&dek).err(), Some(Error::Decrypt));
    let lk = e.open_envelope(sk).unwrap().label_key;
    assert_eq!(moved.decrypt_label(&lk).err(), Some(Error::Decrypt));
}

#[test]
fn tampered_ciphertext_fails_opaquely() {
    let w = World::new("tamper");
    let a = Device::new("a", 1);
    let e = entry(&w, &[&a], Policy::AnyOf { n: 1 }, 1, b"value");
    let KeyMaterial::Dek(dek) = e.open_envelope(a.keys.approver_secret()).unwrap().key else { panic!() };
    let t = rewrite(&e, |b| b[VALUE_CT] ^= 0x80);
    assert_eq!(t.decrypt_value(&dek).err(), Some(Error::Decrypt));
    // Tampered envelope.
    let t = rewrite(&e, |b| {
        let n = b.len();
        // last byte of the org envelope (before the 64-byte writer signature)
        b[n - 65] ^= 1;
    });
    assert_eq!(t.decrypt_label_as_org(&w.org).err(), Some(Error::Decrypt));
    assert!(t.verify_writer(&w.org.public_key()).is_err(), "and the signature no longer covers it");
    // A tampered signature.
    let t = rewrite(&e, |b| {
        let n = b.len();
        b[n - 1] ^= 1;
    });
    assert_eq!(
        t.verify_writer(&w.org.public_key()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    let mut env_tampered = e.clone();
    env_tampered.envelopes[0].sealed.ct[3] ^= 1;
    assert_eq!(env_tampered.open_envelope(a.keys.approver_secret()).err(), Some(Error::Decrypt));
    // Wrong key: another device's approver key finds no envelope; a substituted envelope
    // (re-labelled with this device's key) does not open.
    let b = Device::new("b", 2);
    assert!(matches!(e.open_envelope(b.keys.approver_secret()), Err(Error::Mismatch { .. })));
    let e2 = entry(&w, &[&b], Policy::AnyOf { n: 1 }, 1, b"value");
    let mut swapped = e.clone();
    swapped.envelopes[0].sealed = e2.envelopes[0].sealed.clone();
    assert_eq!(swapped.open_envelope(a.keys.approver_secret()).err(), Some(Error::Decrypt));
}

#[test]
fn m_minus_one_shares_release_nothing() {
    let w = World::new("m-1");
    let devs: Vec<Device> = (0..5).map(|i| Device::new(&format!("p{i}"), i)).collect();
    let refs: Vec<&Device> = devs.iter().collect();
    let e = entry(&w, &refs, Policy::MOfN { m: 3, n: 5 }, 1, b"quorum secret");
    let shares: Vec<DekShare> = devs
        .iter()
        .map(|d| match e.open_envelope(d.keys.approver_secret()).unwrap().key {
            KeyMaterial::Share(s) => s,
            KeyMaterial::Dek(_) => panic!("m-of-n gives shares"),
        })
        .collect();
    assert!(matches!(e.decrypt_with_shares(&shares[..2]), Err(Error::NotEnoughShares { needed: 3, got: 2 })));
    assert!(matches!(shamir::combine(&shares[..2]), Err(Error::NotEnoughShares { .. })));
    assert!(matches!(shamir::combine(&[]), Err(Error::NotEnoughShares { .. })));
    // Duplicates do not make up a quorum.
    let dup = [shares[0].clone(), shares[0].clone(), shares[1].clone()];
    assert_eq!(shamir::combine(&dup).err(), Some(Error::ShareMismatch));
    // Every 3-subset works.
    for i in 0..5 {
        for j in i + 1..5 {
            for k in j + 1..5 {
                let s = [shares[i].clone(), shares[j].clone(), shares[k].clone()];
                assert_eq!(e.decrypt_with_shares(&s).unwrap().expose(), b"quorum secret");
            }
        }
    }
}

#[test]
fn a_share_from_another_entry_fails() {
    let w = World::new("cross");
    let devs: Vec<Device> = (0..3).map(|i| Device::new(&format!("p{i}"), i)).collect();
    let refs: Vec<&Device> = devs.iter().collect();
    let e1 = entry(&w, &refs, Policy::MOfN { m: 2, n: 3 }, 1, b"one");
    let approvers: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
    let other_id = EntryId::generate(&mut rng("other"));
    let e2 = seal_entry(
        &w.org,
        other_id,
        1,
        Policy::MOfN { m: 2, n: 3 },
        &approvers,
        b"label",
        b"two",
        &mut rng("seal-2"),
    )
    .unwrap();
    let share = |e: &SealedEntry, d: &Device| match e.open_envelope(d.keys.approver_secret()).unwrap().key {
        KeyMaterial::Share(s) => s,
        KeyMaterial::Dek(_) => panic!(),
    };
    let mixed = [share(&e1, &devs[0]), share(&e2, &devs[1])];
    assert_eq!(e1.decrypt_with_shares(&mixed).err(), Some(Error::Decrypt));
    assert_eq!(e2.decrypt_with_shares(&mixed).err(), Some(Error::Decrypt));
    // An envelope of entry 2 moved into entry 1 does not open (info binds the entry id).
    let mut moved = e1.clone();
    moved.envelopes[0] = e2.envelopes[0].clone();
    assert_eq!(moved.open_envelope(devs[0].keys.approver_secret()).err(), Some(Error::Decrypt));
}

#[test]
fn invalid_policies_and_inputs_are_errors() {
    let w = World::new("policy");
    let a = Device::new("a", 1);
    let b = Device::new("b", 2);
    let org = w.org.clone();
    let ap = [a.verified(&w.org), b.verified(&w.org)];
    let seal = |p: Policy, approvers: &[_]| {
        seal_entry(&org, w.entry_id, 1, p, approvers, b"l", b"v", &mut rng("s")).err()
    };
    assert_eq!(seal(Policy::MOfN { m: 3, n: 2 }, &ap), Some(Error::InvalidPolicy));
    assert_eq!(seal(Policy::MOfN { m: 1, n: 2 }, &ap), Some(Error::InvalidPolicy));
    assert_eq!(seal(Policy::AnyOf { n: 0 }, &[]), Some(Error::InvalidPolicy));
    assert_eq!(seal(Policy::AnyOf { n: 3 }, &ap), Some(Error::InvalidPolicy));
    let twice = [ap[0].clone(), ap[0].clone()];
    assert!(matches!(seal(Policy::AnyOf { n: 1 }, &twice), Some(Error::Mismatch { .. })));
    let big = vec![0u8; blindvault_core::entry::MAX_VALUE_LEN + 1];
    assert!(matches!(
        seal_entry(&org, w.entry_id, 1, Policy::AnyOf { n: 2 }, &ap, b"l", &big, &mut rng("s")),
        Err(Error::TooLong { .. })
    ));
    assert!(seal_entry(&org, w.entry_id, 0, Policy::AnyOf { n: 2 }, &ap, b"l", b"v", &mut rng("s")).is_err());
}

#[test]
fn fresh_dek_per_version() {
    let w = World::new("versions");
    let a = Device::new("a", 1);
    let ap = [a.verified(&w.org)];
    let org = w.org.clone();
    let v1 = seal_entry(&org, w.entry_id, 1, Policy::AnyOf { n: 1 }, &ap, b"l", b"v", &mut rng("a")).unwrap();
    let v2 = seal_entry(&org, w.entry_id, 2, Policy::AnyOf { n: 1 }, &ap, b"l", b"v", &mut rng("b")).unwrap();
    let dek = |e: &SealedEntry| match e.open_envelope(a.keys.approver_secret()).unwrap().key {
        KeyMaterial::Dek(d) => d,
        KeyMaterial::Share(_) => panic!(),
    };
    assert_ne!(dek(&v1), dek(&v2));
    assert_eq!(v2.decrypt_value(&dek(&v1)).err(), Some(Error::Decrypt));
}
