//! The protobuf wire format, as much as TRON's `Transaction.raw` needs: varints (wire type 0)
//! and length-delimited fields (wire type 2), written in field-number order.
//!
//! Hand-written because no maintained Rust TRON crate encodes a transaction without a gRPC stack
//! (and a general protobuf runtime would need generated types, i.e. a build-time `.proto`
//! compiler in the browser build). The reader is strict on purpose: it knows only these two wire
//! types and the caller refuses any field it does not name, so no byte of a transaction goes
//! unshown; the decoder then re-encodes what it read and requires the same bytes (one canonical
//! encoding per summary). The workspace's `tron-proto-check` crate decodes the same bytes with
//! types generated from TRON's published `.proto` files.

use crate::error::{Error, Result};

const CHAIN: &str = "tron";

/// Appends a base-128 varint.
pub(crate) fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends field `field` as a varint (wire type 0).
pub(crate) fn field_varint(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, u64::from(field << 3));
    varint(out, v);
}

/// Appends field `field` as length-delimited bytes (wire type 2).
pub(crate) fn field_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from((field << 3) | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The encoded length of a varint.
pub(crate) fn varint_len(v: u64) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

/// One field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2.
    Bytes(&'a [u8]),
}

fn read_varint(buf: &mut &[u8]) -> Result<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first().ok_or_else(|| Error::tx(CHAIN, "protobuf: truncated varint"))?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Error::tx(CHAIN, "protobuf: varint longer than 10 bytes"))
}

/// Every field of one message, in order. Wire types other than 0 and 2 are refused.
pub(crate) fn fields(mut buf: &[u8]) -> Result<Vec<(u32, Value<'_>)>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = read_varint(&mut buf)?;
        let field =
            u32::try_from(key >> 3).map_err(|_| Error::tx(CHAIN, "protobuf: field number too large"))?;
        let value = match key & 7 {
            0 => Value::Varint(read_varint(&mut buf)?),
            2 => {
                let len = usize::try_from(read_varint(&mut buf)?)
                    .map_err(|_| Error::tx(CHAIN, "protobuf: length too large"))?;
                if len > buf.len() {
                    return Err(Error::tx(CHAIN, "protobuf: truncated field"));
                }
                let (bytes, rest) = buf.split_at(len);
                buf = rest;
                Value::Bytes(bytes)
            }
            w => {
                return Err(Error::tx(
                    CHAIN,
                    format!("protobuf: wire type {w} in field {field} is not expected"),
                ));
            }
        };
        out.push((field, value));
    }
    Ok(out)
}

/// A message's fields by number, each at most once, only the numbers in `known`.
pub(crate) struct Fields<'a> {
    name: &'static str,
    list: Vec<(u32, Value<'a>)>,
}

impl<'a> Fields<'a> {
    /// Parses `buf` as message `name`, refusing fields not in `known` and repeated fields.
    pub(crate) fn parse(name: &'static str, buf: &'a [u8], known: &[u32]) -> Result<Self> {
        let list = fields(buf)?;
        for (i, (f, _)) in list.iter().enumerate() {
            if !known.contains(f) {
                return Err(Error::tx(
                    CHAIN,
                    format!("{name}: field {f} is not supported (it would not be shown)"),
                ));
            }
            if list.iter().take(i).any(|(g, _)| g == f) {
                return Err(Error::tx(CHAIN, format!("{name}: field {f} appears twice")));
            }
        }
        Ok(Self { name, list })
    }

    fn get(&self, field: u32) -> Option<Value<'a>> {
        self.list.iter().find(|(f, _)| *f == field).map(|(_, v)| *v)
    }

    /// A varint field; absent = 0 (proto3 default).
    pub(crate) fn varint(&self, field: u32) -> Result<u64> {
        match self.get(field) {
            None => Ok(0),
            Some(Value::Varint(v)) => Ok(v),
            Some(Value::Bytes(_)) => Err(self.wrong(field)),
        }
    }

    /// A bytes field; absent = empty.
    pub(crate) fn bytes(&self, field: u32) -> Result<&'a [u8]> {
        match self.get(field) {
            None => Ok(&[]),
            Some(Value::Bytes(b)) => Ok(b),
            Some(Value::Varint(_)) => Err(self.wrong(field)),
        }
    }

    fn wrong(&self, field: u32) -> Error {
        Error::tx(CHAIN, format!("{}: field {field} has the wrong wire type", self.name))
    }
}
