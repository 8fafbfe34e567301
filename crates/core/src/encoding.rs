//! Canonical binary encodings.

use crate::Error;

/// Copies a slice into a fixed array, or says which length was wrong.
pub fn array<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| Error::Length { what, expected: N, got: bytes.len() })
}
