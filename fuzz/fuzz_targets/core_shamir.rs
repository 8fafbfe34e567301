//! Shamir split and combine of a DEK: any `m` distinct shares of `n` give the DEK back, fewer
//! (or a duplicate) are an error, never another key.
//!
//! Input: DEK (32) ‖ m ‖ n ‖ seed (8) ‖ share choices (one byte each: an index mod n; at most
//! 64 are read, which keeps the interpolation, quadratic in the shares, fast).
#![no_main]
use blindvault_core::dek::Dek;
use blindvault_core::shamir::{combine, split};
use blindvault_fuzz::Rng;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 42 {
        return;
    }
    let (dek, rest) = data.split_at(32);
    let dek = Dek::from_slice(dek).expect("32 bytes");
    let (m, n) = (rest[0], rest[1]);
    let seed = u64::from_le_bytes(rest[2..10].try_into().expect("8 bytes"));
    let Ok(shares) = split(&dek, m, n, &mut Rng::new(seed)) else {
        assert!(m < 2 || m > n, "split refused m={m} n={n}");
        return;
    };
    assert_eq!(shares.len(), usize::from(n));
    let picked: Vec<_> =
        rest[10..].iter().take(64).map(|&i| shares[usize::from(i) % shares.len()].clone()).collect();
    let mut distinct: Vec<u8> = picked.iter().map(|s| s.index()).collect();
    distinct.sort_unstable();
    let duplicates = distinct.windows(2).any(|w| w[0] == w[1]);
    match combine(&picked) {
        Ok(got) => {
            assert!(!duplicates && picked.len() >= usize::from(m));
            assert_eq!(got, dek, "{} distinct shares of {m}-of-{n} combine to another key", picked.len());
        }
        Err(_) => assert!(duplicates || picked.len() < usize::from(m)),
    }
});
