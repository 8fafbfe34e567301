/// Every failure of the core. Decryption failures are one opaque variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A byte string had the wrong length.
    Length {
        /// What was being read.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Decryption failed. Deliberately says nothing more.
    Decrypt,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Length { what, expected, got } => {
                write!(f, "{what}: expected {expected} bytes, got {got}")
            }
            Error::Decrypt => f.write_str("decryption failed"),
        }
    }
}

impl core::error::Error for Error {}
