//! The data-encryption key of an entry version, the Shamir shares of it, and their one byte
//! form. Below both [`crate::entry`] (which seals the DEK or a share into each approver's
//! envelope) and [`crate::shamir`] (which splits and combines it), so that neither imports the
//! other; [`crate::release`] carries the same bytes from an approver to the consumer.

use crate::Error;
use crate::encoding::{Reader, Writer};
use crate::policy::Policy;
use crate::secret::secret_bytes;

secret_bytes!(
    /// A data-encryption key: fresh and random for every entry version.
    Dek, 32
);

/// One share of a DEK: its x coordinate (1..=255) and 32 bytes of y.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct DekShare {
    pub(crate) threshold: u8,
    pub(crate) x: u8,
    pub(crate) y: [u8; 32],
}

impl core::fmt::Debug for DekShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DekShare {{ threshold: {}, x: {}, y: [REDACTED] }}", self.threshold, self.x)
    }
}

impl DekShare {
    /// The threshold this share was made for.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }
    /// The x coordinate (share index).
    pub fn index(&self) -> u8 {
        self.x
    }

    /// The share's one encoding: `threshold ‖ x ‖ y (32)`.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.threshold).u8(self.x).fixed(&self.y);
    }

    /// Reads [`DekShare::write`]'s bytes, refusing a share made for another threshold than the
    /// policy's `m`, or with x = 0 (the secret itself).
    pub(crate) fn read(r: &mut Reader<'_>, m: u8) -> Result<Self, Error> {
        let threshold = r.u8()?;
        let x = r.u8()?;
        let y = r.fixed()?;
        if threshold != m || x == 0 {
            return Err(Error::Mismatch { what: crate::Mismatch::ShareThreshold });
        }
        Ok(Self { threshold, x, y })
    }
}

/// The key part of an envelope, and of a release: the DEK (`any-of`) or one person's share of
/// it (`m-of-n`).
#[derive(Debug)]
pub enum KeyMaterial {
    /// `any-of`: the DEK itself.
    Dek(Dek),
    /// `m-of-n`: this person's share.
    Share(DekShare),
}

impl KeyMaterial {
    /// `0x01 ‖ DEK (32)` or `0x02 ‖ share` ([`DekShare::write`]).
    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            KeyMaterial::Dek(d) => {
                w.u8(1).fixed(d.expose());
            }
            KeyMaterial::Share(s) => {
                w.u8(2);
                s.write(w);
            }
        }
    }

    /// Reads [`KeyMaterial::write`]'s bytes; the kind must be the one `policy` calls for.
    pub(crate) fn read(r: &mut Reader<'_>, policy: &Policy) -> Result<Self, Error> {
        match (r.u8()?, policy) {
            (1, Policy::AnyOf { .. }) => Ok(KeyMaterial::Dek(Dek::from_bytes(r.fixed()?))),
            (2, Policy::MOfN { m, .. }) => Ok(KeyMaterial::Share(DekShare::read(r, *m)?)),
            _ => Err(Error::Malformed { what: "key material" }),
        }
    }
}
