//! Shamir secret sharing of a DEK over GF(256), using the `blahaj` crate (a maintained fork of
//! `sharks`). This module adds what the crate leaves to its caller: shares carry the threshold
//! and are bound (by the envelope that carries them) to one entry version; duplicates and
//! too-few shares are an error before any interpolation runs.

use alloc::vec::Vec;
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::Error;
use crate::dek::Dek;
pub use crate::dek::DekShare;

/// Splits `dek` into `n` shares, any `m` of which recover it.
pub fn split(dek: &Dek, m: u8, n: u8, rng: &mut impl CryptoRng) -> Result<Vec<DekShare>, Error> {
    if m < 2 || m > n {
        return Err(Error::InvalidPolicy);
    }
    let shares: Vec<DekShare> = blahaj::Sharks(m)
        .dealer_rng(dek.expose(), rng)
        .take(n as usize)
        .map(|s| {
            let mut bytes = Vec::from(&s);
            let out = match bytes.split_first() {
                Some((x, y)) if y.len() == 32 => {
                    let mut arr = [0u8; 32];
                    arr.copy_from_slice(y);
                    Ok(DekShare { threshold: m, x: *x, y: arr })
                }
                _ => Err(Error::Malformed { what: "share" }),
            };
            bytes.zeroize();
            out
        })
        .collect::<Result<_, _>>()?;
    if shares.len() != n as usize {
        return Err(Error::InvalidPolicy);
    }
    Ok(shares)
}

/// Recovers a DEK from shares. Errors (never garbage from too few shares): fewer distinct shares
/// than the threshold, shares made for different thresholds, duplicate indices. A share of
/// another entry passes this step only if it carries the same threshold; the AEAD of the entry
/// then rejects the wrong DEK, and the envelope's HPKE `info` binds each share to its entry.
pub fn combine(shares: &[DekShare]) -> Result<Dek, Error> {
    let first = shares.first().ok_or(Error::NotEnoughShares { needed: 2, got: 0 })?;
    let m = first.threshold;
    if shares.iter().any(|s| s.threshold != m || s.x == 0) {
        return Err(Error::ShareMismatch);
    }
    let mut seen = [false; 256];
    for s in shares {
        let slot = seen.get_mut(s.x as usize).ok_or(Error::ShareMismatch)?;
        if *slot {
            return Err(Error::ShareMismatch);
        }
        *slot = true;
    }
    if shares.len() < m as usize {
        return Err(Error::NotEnoughShares { needed: m, got: shares.len() });
    }
    let parsed: Vec<blahaj::Share> = shares
        .iter()
        .map(|s| {
            let mut b = Vec::with_capacity(33);
            b.push(s.x);
            b.extend_from_slice(&s.y);
            let share = blahaj::Share::try_from(b.as_slice()).map_err(|_| Error::ShareMismatch);
            b.zeroize();
            share
        })
        .collect::<Result<_, _>>()?;
    let mut secret = blahaj::Sharks(m).recover(parsed.iter()).map_err(|_| Error::ShareMismatch)?;
    let dek = Dek::from_slice(&secret);
    secret.zeroize();
    dek
}
