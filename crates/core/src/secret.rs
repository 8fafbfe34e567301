//! Secret byte containers: zeroized on drop, never printed.

/// Defines a fixed-size secret byte type that zeroizes on drop and prints as `[REDACTED]`.
macro_rules! secret_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes. The caller should zeroize its own copy.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Wraps a slice of exactly `LEN` bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, $crate::Error> {
                let arr: [u8; $len] = bytes
                    .try_into()
                    .map_err(|_| $crate::Error::Length { what: stringify!($name), expected: $len, got: bytes.len() })?;
                Ok(Self(arr))
            }

            /// The secret bytes. Keep the borrow short.
            pub fn expose(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                use subtle::ConstantTimeEq;
                self.0.ct_eq(&other.0).into()
            }
        }
        impl Eq for $name {}
    };
}
pub(crate) use secret_bytes;

/// A variable-length secret (a secret's value, a Shamir share, a plaintext label).
#[derive(Clone, Default, zeroize::Zeroize, zeroize::ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretBytes(alloc::vec::Vec<u8>);

impl SecretBytes {
    /// Takes ownership of the bytes.
    pub fn new(bytes: alloc::vec::Vec<u8>) -> Self {
        Self(bytes)
    }
    /// Copies a slice.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
    /// The secret bytes. Keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

/// Overwrites, with zeros, `WORDS` × 8 bytes of the current thread's stack just below the
/// caller's frame.
///
/// Types that zeroize on drop wipe the place where they end; the copies a move leaves behind
/// and the working state of the cryptographic crates (HMAC and hash states, a key returned by
/// value) stay in the frames of calls that have returned, until something else is written
/// there. Called once an operation and all its values are gone, from the frame that called it,
/// this function's own frame — an array of `WORDS` 64-bit words overwritten with volatile writes, which the
/// optimiser may not remove — lies exactly where the operation's frames lay. In WebAssembly that
/// stack is the shadow stack inside linear memory, which JavaScript can read. Used by the
/// consumer (`run`, `inject`: 512 KiB) and both browser bundles (256 KiB).
#[inline(never)]
pub fn scrub_stack<const WORDS: usize>() {
    let mut area = [0u64; WORDS];
    zeroize::Zeroize::zeroize(&mut area[..]);
    core::hint::black_box(&area);
}
