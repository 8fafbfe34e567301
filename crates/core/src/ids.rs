//! Opaque random 16-byte identifiers.

use rand_core::CryptoRng;

use crate::Error;
use crate::encoding::serde_via_bytes;

macro_rules! id16 {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) [u8; 16]);

        impl $name {
            /// A fresh random id.
            pub fn generate(rng: &mut impl CryptoRng) -> Self {
                let mut b = [0u8; 16];
                rng.fill_bytes(&mut b);
                Self(b)
            }
            /// From raw bytes.
            pub fn from_array(b: [u8; 16]) -> Self {
                Self(b)
            }
            /// From a slice of exactly 16 bytes.
            pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
                Ok(Self(crate::encoding::array(b, stringify!($name))?))
            }
            /// Raw bytes.
            pub fn to_array(&self) -> [u8; 16] {
                self.0
            }
            /// Raw bytes, as a vector.
            pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
                self.0.to_vec()
            }
            /// The text form used in URLs and the API: unpadded base64url (22 characters).
            pub fn to_text(&self) -> alloc::string::String {
                crate::encoding::b64::encode(&self.0)
            }
            /// Parses the text form.
            pub fn parse(s: &str) -> Result<Self, Error> {
                Self::from_bytes(&crate::encoding::b64::decode(s)?)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_text())
            }
        }
        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.to_text())
            }
        }
        serde_via_bytes!($name);
    };
}

id16!(
    /// A secret entry's opaque id.
    EntryId
);
id16!(
    /// A release request's id, chosen by the consumer and signed into the request.
    RequestId
);
id16!(
    /// A host certificate's serial number.
    CertId
);
