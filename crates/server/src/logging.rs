//! The server's log subscriber: `BLINDVAULT_LOG`-style directives, webauthn-rs silenced, and
//! every line bounded.
//!
//! webauthn-rs logs parts of what a client sent at ERROR (a parser error carries the rest of the
//! input: a 40 KB request made a 150 KB line). So its targets (`webauthn_rs*`) are off whatever
//! the directives say — the server logs the stable error code of a refused ceremony itself — and
//! the formatter caps each field at [`FIELD_MAX`] bytes and each line at [`LINE_MAX`] bytes,
//! marking the cut with `…[truncated N bytes]`.

use std::fmt::{self, Write as _};
use std::io;

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, filter_fn};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::{SubscriberInitExt as _, TryInitError};

/// The longest a field's value may be in the log, in bytes.
pub const FIELD_MAX: usize = 1024;
/// The longest a log line may be, in bytes (the newline and the marker not counted).
pub const LINE_MAX: usize = 4096;

/// Targets never logged: webauthn-rs and its parts (`webauthn_rs_core`, `webauthn_rs_proto`).
pub fn silenced(target: &str) -> bool {
    target.starts_with("webauthn_rs")
}

/// The subscriber: `directives` as for `EnvFilter` (`info`, `debug`,
/// `blindvault_server=debug`; unreadable directives mean `info`), written to `writer`, colours
/// if `ansi`.
pub fn subscriber<W>(
    directives: &str,
    writer: W,
    ansi: bool,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .fmt_fields(CappedFields)
        .with_writer(CappedLines(writer))
        .with_ansi(ansi)
        .with_filter(filter.and(filter_fn(|meta| !silenced(meta.target()))));
    tracing_subscriber::registry().with(layer)
}

/// Installs [`subscriber`] as the global default (and forwards the `log` crate to it).
pub fn init<W>(directives: &str, writer: W, ansi: bool) -> Result<(), TryInitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    subscriber(directives, writer, ansi).try_init()
}

/// Text cut at a byte limit (on a character boundary), counting what was cut.
struct Capped {
    text: String,
    max: usize,
    total: usize,
}

impl Capped {
    fn new(max: usize) -> Self {
        Self { text: String::new(), max, total: 0 }
    }
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.total = self.total.saturating_add(s.len());
        let room = self.max.saturating_sub(self.text.len());
        if room > 0 {
            let mut end = room.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(s.get(..end).unwrap_or_default());
        }
        Ok(())
    }
}

impl fmt::Display for Capped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        let cut = self.total - self.text.len();
        if cut > 0 {
            write!(f, "…[truncated {cut} bytes]")?;
        }
        Ok(())
    }
}

/// Fields as the default formatter writes them (`message` first and bare, then `name=value`,
/// strings in quotes unless recorded with `%`), each value capped at [`FIELD_MAX`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CappedFields;

impl<'w> FormatFields<'w> for CappedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut v = CappedVisitor { writer, first: true, result: Ok(()) };
        fields.record(&mut v);
        v.result
    }
}

struct CappedVisitor<'w> {
    writer: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visit for CappedVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let mut capped = Capped::new(FIELD_MAX);
        let _ = write!(capped, "{value:?}");
        let sep = if self.first { "" } else { " " };
        self.first = false;
        let name = field.name();
        self.result = if name == "message" {
            write!(self.writer, "{sep}{capped}")
        } else {
            write!(self.writer, "{sep}{}={capped}", name.strip_prefix("r#").unwrap_or(name))
        };
    }
}

/// A writer maker whose writers cut each line (one event: the formatter writes a whole event
/// at once) at [`LINE_MAX`] bytes.
#[derive(Debug, Clone)]
pub struct CappedLines<W>(pub W);

impl<'w, W: MakeWriter<'w>> MakeWriter<'w> for CappedLines<W> {
    type Writer = CappedLine<W::Writer>;
    fn make_writer(&'w self) -> Self::Writer {
        CappedLine(self.0.make_writer())
    }
    fn make_writer_for(&'w self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        CappedLine(self.0.make_writer_for(meta))
    }
}

/// See [`CappedLines`].
#[derive(Debug)]
pub struct CappedLine<W>(W);

impl<W: io::Write> io::Write for CappedLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let body = buf.strip_suffix(b"\n").unwrap_or(buf);
        if body.len() <= LINE_MAX {
            return self.0.write(buf);
        }
        let mut end = LINE_MAX;
        // Back to the start of a UTF-8 character.
        while end > 0 && body.get(end).is_some_and(|b| (b & 0xC0) == 0x80) {
            end -= 1;
        }
        let mut line = body.get(..end).unwrap_or_default().to_vec();
        line.extend_from_slice(format!("…[truncated {} bytes]\n", body.len() - end).as_bytes());
        self.0.write_all(&line)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn capped_text() {
        let mut c = Capped::new(4);
        let _ = write!(c, "ab€cd");
        assert_eq!(c.to_string(), "ab…[truncated 5 bytes]");
        let mut c = Capped::new(4);
        let _ = write!(c, "abcd");
        assert_eq!(c.to_string(), "abcd");
    }

    #[test]
    fn capped_line() {
        let mut out = Vec::new();
        let long = format!("{}\n", "é".repeat(LINE_MAX));
        io::Write::write_all(&mut CappedLine(&mut out), long.as_bytes()).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.ends_with(&format!("…[truncated {LINE_MAX} bytes]\n")));
        assert_eq!(text.lines().count(), 1);
    }
}
