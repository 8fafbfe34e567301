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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A seeded generator (SplitMix64) for the dealer's coefficients.
    struct Seeded(u64);
    impl rand_core::TryRng for Seeded {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(z ^ (z >> 31))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                *b = self.try_next_u64()? as u8;
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Seeded {}

    /// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the field the
    /// shares are computed in.
    fn mul(mut a: u8, mut b: u8) -> u8 {
        let mut p = 0;
        while b != 0 {
            if b & 1 != 0 {
                p ^= a;
            }
            let carry = a & 0x80 != 0;
            a <<= 1;
            if carry {
                a ^= 0x1d;
            }
            b >>= 1;
        }
        p
    }

    /// a^254 = a^-1 (a ≠ 0).
    fn inv(a: u8) -> u8 {
        let (mut r, mut base, mut e) = (1u8, a, 254u32);
        while e > 0 {
            if e & 1 == 1 {
                r = mul(r, base);
            }
            base = mul(base, base);
            e >>= 1;
        }
        r
    }

    /// The value at `x` of the one polynomial of degree < `points.len()` through `points`.
    fn lagrange(points: &[(u8, u8)], x: u8) -> u8 {
        points.iter().fold(0, |acc, &(xi, yi)| {
            let (mut num, mut den) = (1u8, 1u8);
            for &(xj, _) in points.iter().filter(|(xj, _)| *xj != xi) {
                num = mul(num, x ^ xj);
                den = mul(den, xi ^ xj);
            }
            acc ^ mul(yi, mul(num, inv(den)))
        })
    }

    /// `k` distinct positions of `0..n`, shuffled by `seed`.
    fn pick(n: u8, k: usize, seed: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..usize::from(n)).collect();
        let mut s = seed;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        order.truncate(k);
        order
    }

    /// `m` (from 2) and `n` (from `m`, at most 20).
    fn policy() -> impl Strategy<Value = (u8, u8)> {
        (2u8..=20).prop_flat_map(|n| (2u8..=n, Just(n)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any `m` distinct shares of `n` (and any more than `m`) recover the DEK, in any order.
        #[test]
        fn any_m_shares_recover(
            dek in any::<[u8; 32]>(),
            (m, n) in policy(),
            extra in 0usize..20,
            seed in any::<u64>(),
            order in any::<u64>(),
        ) {
            let dek = Dek::from_bytes(dek);
            let shares = split(&dek, m, n, &mut Seeded(seed)).unwrap();
            prop_assert_eq!(shares.len(), usize::from(n));
            prop_assert!(shares.iter().all(|s| s.threshold == m && s.x != 0));
            let k = (usize::from(m) + extra).min(usize::from(n));
            let chosen: Vec<DekShare> = pick(n, k, order).into_iter().map(|i| shares[i].clone()).collect();
            prop_assert_eq!(combine(&chosen).unwrap(), dek);
        }

        /// Fewer than `m` distinct shares, or a share twice, are an error, never a key.
        #[test]
        fn fewer_than_m_shares_are_refused(
            dek in any::<[u8; 32]>(),
            (m, n) in policy(),
            fewer in 1usize..20,
            seed in any::<u64>(),
            order in any::<u64>(),
        ) {
            let shares = split(&Dek::from_bytes(dek), m, n, &mut Seeded(seed)).unwrap();
            let k = usize::from(m).saturating_sub(fewer);
            let mut chosen: Vec<DekShare> = pick(n, k, order).into_iter().map(|i| shares[i].clone()).collect();
            prop_assert_eq!(
                combine(&chosen).unwrap_err(),
                if k == 0 { Error::NotEnoughShares { needed: 2, got: 0 } } else { Error::NotEnoughShares { needed: m, got: k } }
            );
            // Padding the count with a copy of a share gains nothing.
            if let Some(first) = chosen.first().cloned() {
                chosen.push(first);
                prop_assert_eq!(combine(&chosen).unwrap_err(), Error::ShareMismatch);
            }
        }

        /// `m - 1` shares reveal nothing that can be checked: they are as consistent with any
        /// other DEK as with the real one. For every candidate DEK there is exactly one m-th
        /// share (at any unused index) that completes them to it, so each candidate is equally
        /// likely given the `m - 1` shares. (With the real DEK, that m-th share is the dealer's
        /// own, which checks the field arithmetic here against the crate's.)
        #[test]
        fn fewer_than_m_shares_fit_every_secret(
            dek in any::<[u8; 32]>(),
            other in any::<[u8; 32]>(),
            (m, n) in policy(),
            seed in any::<u64>(),
            order in any::<u64>(),
        ) {
            let shares = split(&Dek::from_bytes(dek), m, n, &mut Seeded(seed)).unwrap();
            let positions = pick(n, usize::from(m), order);
            let (last, known) = positions.split_last().unwrap();
            let known: Vec<DekShare> = known.iter().map(|&i| shares[i].clone()).collect();
            let x = shares[*last].x;
            let complete = |secret: &[u8; 32]| -> DekShare {
                let mut y = [0u8; 32];
                for (byte, out) in y.iter_mut().enumerate() {
                    let mut points: Vec<(u8, u8)> = known.iter().map(|s| (s.x, s.y[byte])).collect();
                    points.push((0, secret[byte]));
                    *out = lagrange(&points, x);
                }
                DekShare { threshold: m, x, y }
            };
            // The real DEK's completion is the dealer's share at that index.
            prop_assert_eq!(&complete(&dek), &shares[*last]);
            // Any other DEK has a completion too, which the same m - 1 shares combine to it.
            let mut with = known.clone();
            with.push(complete(&other));
            prop_assert_eq!(combine(&with).unwrap(), Dek::from_bytes(other));
        }
    }
}
