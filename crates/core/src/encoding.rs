//! Canonical binary encodings.
//!
//! Every signed or sealed structure has exactly one byte form: a one-byte format version
//! followed by fields in a fixed order. Integers are big-endian; variable-length byte strings
//! carry a 4-byte (`bytes32`) or 2-byte (`bytes16`) length prefix; strings are UTF-8 with a
//! 2-byte prefix; lists carry a 2-byte count. Decoders reject unknown versions, wrong lengths,
//! invalid UTF-8 and trailing bytes. The layouts are written out in `docs/protocol.md`.
//!
//! A field too long for its prefix (or a list too long for its count) is never cut or wrapped:
//! the [`Writer`] remembers it and [`Writer::finish`] returns [`Error::TooLong`].

use alloc::string::String;
use alloc::vec::Vec;

use crate::Error;

/// Copies a slice into a fixed array, or says which length was wrong.
pub fn array<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| Error::Length { what, expected: N, got: bytes.len() })
}

/// Appends canonical fields to a buffer. A length or count beyond its field's width is an
/// error that [`Writer::finish`] returns (the first one), never a truncated encoding.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    error: Option<Error>,
}

impl Writer {
    /// A writer whose first byte is the format version.
    pub fn new(version: u8) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.push(version);
        Self { buf, error: None }
    }
    fn too_long(&mut self, what: &'static str, max: usize) {
        if self.error.is_none() {
            self.error = Some(Error::TooLong { what, max });
        }
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// A big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Fixed-length bytes (no prefix: the length is part of the layout).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// Bytes with a u16 length prefix. Constructors check the limits in `docs/protocol.md`
    /// first; a value over 65,535 bytes is [`Error::TooLong`] at [`Writer::finish`].
    pub fn bytes16(&mut self, v: &[u8]) -> &mut Self {
        match u16::try_from(v.len()) {
            Ok(n) => {
                self.buf.extend_from_slice(&n.to_be_bytes());
                self.buf.extend_from_slice(v);
            }
            Err(_) => self.too_long("field with a 2-byte length", 0xffff),
        }
        self
    }
    /// Bytes with a u32 length prefix (same contract as [`Writer::bytes16`]).
    pub fn bytes32(&mut self, v: &[u8]) -> &mut Self {
        match u32::try_from(v.len()) {
            Ok(n) => {
                self.buf.extend_from_slice(&n.to_be_bytes());
                self.buf.extend_from_slice(v);
            }
            Err(_) => self.too_long("field with a 4-byte length", u32::MAX as usize),
        }
        self
    }
    /// A UTF-8 string with a u16 length prefix.
    pub fn str16(&mut self, v: &str) -> &mut Self {
        self.bytes16(v.as_bytes())
    }
    /// A list count (u16). Callers bound list lengths first; a count over 65,535 is
    /// [`Error::TooLong`] at [`Writer::finish`].
    pub fn count(&mut self, n: usize) -> &mut Self {
        match u16::try_from(n) {
            Ok(n) => self.buf.extend_from_slice(&n.to_be_bytes()),
            Err(_) => self.too_long("list", 0xffff),
        }
        self
    }
    /// The encoded bytes, or the first field that did not fit its length prefix or count.
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }
}

/// The encoding for an infallible `to_bytes`. Every value built by its constructors (`sign`,
/// `seal_entry`, `from_bytes`, which check the limits) encodes; one whose public fields were made
/// longer than the layout allows afterwards encodes as no bytes at all, which every decoder
/// refuses ([`Error::Truncated`]), never as a cut-down encoding. Signing and verifying such a
/// value return the [`Error::TooLong`] instead.
pub(crate) fn or_unencodable(encoded: Result<Vec<u8>, Error>) -> Vec<u8> {
    encoded.unwrap_or_default()
}

/// Reads canonical fields; `finish` rejects trailing bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts reading `what`, checking that its version byte is `version`.
    pub fn new(buf: &'a [u8], what: &'static str, version: u8) -> Result<Self, Error> {
        let mut r = Self { buf, what };
        let v = r.u8()?;
        if v != version {
            return Err(Error::UnknownVersion { what, version: v });
        }
        Ok(r)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.buf.len() < n {
            return Err(Error::Truncated { what: self.what });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.fixed::<1>()?[0])
    }
    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.fixed()?))
    }
    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.fixed()?))
    }
    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.fixed()?))
    }
    /// Fixed-length bytes.
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        array(self.take(N)?, self.what)
    }
    /// Bytes with a u16 length prefix.
    pub fn bytes16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    /// Bytes with a u32 length prefix.
    pub fn bytes32(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A UTF-8 string with a u16 length prefix.
    pub fn str16(&mut self) -> Result<String, Error> {
        let b = self.bytes16()?;
        core::str::from_utf8(b).map(String::from).map_err(|_| Error::Malformed { what: self.what })
    }
    /// A list count (u16).
    pub fn count(&mut self) -> Result<usize, Error> {
        Ok(self.u16()? as usize)
    }
    /// Ends reading: any byte left over is an error.
    pub fn finish(self) -> Result<(), Error> {
        if self.buf.is_empty() { Ok(()) } else { Err(Error::TrailingBytes { what: self.what }) }
    }
}

/// Serde helpers: canonical bytes travel in JSON as unpadded base64url strings.
pub mod b64 {
    use alloc::string::String;
    use alloc::vec::Vec;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// Encodes bytes as unpadded base64url.
    pub fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Decodes unpadded base64url.
    pub fn decode(s: &str) -> Result<Vec<u8>, crate::Error> {
        URL_SAFE_NO_PAD.decode(s).map_err(|_| crate::Error::Malformed { what: "base64url" })
    }
}

/// Lowercase hexadecimal (digests in the API, the audit chain, fingerprints of files): the one
/// helper of the workspace, so that every crate writes the same form.
pub mod hex {
    use alloc::string::String;
    use alloc::vec::Vec;

    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    /// Encodes bytes as lowercase hex.
    pub fn encode(bytes: impl AsRef<[u8]>) -> String {
        let bytes = bytes.as_ref();
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            for nibble in [b >> 4, b & 0x0f] {
                s.push(char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')));
            }
        }
        s
    }

    /// Decodes hex (either case); an odd length or any other character is an error.
    pub fn decode(s: &str) -> Result<Vec<u8>, crate::Error> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }
        let malformed = crate::Error::Malformed { what: "hex" };
        if !s.len().is_multiple_of(2) {
            return Err(malformed);
        }
        s.as_bytes()
            .chunks_exact(2)
            .map(|pair| match pair {
                [hi, lo] => Some((nibble(*hi)? << 4) | nibble(*lo)?),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(malformed)
    }
}

/// Implements `Serialize`/`Deserialize` as a base64url string of the canonical bytes, given
/// `to_bytes(&self) -> Vec<u8>` and `from_bytes(&[u8]) -> Result<Self, Error>`.
macro_rules! serde_via_bytes {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$crate::encoding::b64::encode(&self.to_bytes()))
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <alloc::string::String as serde::Deserialize>::deserialize(d)?;
                let bytes = $crate::encoding::b64::decode(&s).map_err(serde::de::Error::custom)?;
                <$t>::from_bytes(&bytes).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_bytes;
