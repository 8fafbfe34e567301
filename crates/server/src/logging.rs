//! The server's log subscriber: `BLINDVAULT_LOG`-style directives, webauthn-rs silenced, and
//! every line bounded.
//!
//! webauthn-rs logs parts of what a client sent at ERROR (a parser error carries the rest of the
//! input: a 40 KB request made a 150 KB line). So its targets (`webauthn_rs*`) are off whatever
//! the directives say — the server logs the stable error code of a refused ceremony itself — and
//! the formatter caps each field at [`FIELD_MAX`] bytes and each line at [`LINE_MAX`] bytes,
//! marking the cut with `…[truncated N bytes]`.
//!
//! [`LogFormat::Json`] writes one JSON object per line instead (`timestamp`, `level`, `target`,
//! `fields` with `message`, and `spans` when there are any), for a log shipper: each string
//! value capped the same way, and the line kept whole JSON — fields past [`LINE_MAX`] are left
//! out and counted in `"truncated_fields"` rather than the line being cut.

use std::fmt::{self, Write as _};
use std::io;

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::{SubscriberInitExt as _, TryInitError};

mod json;
pub use json::JsonLines;

/// The longest a field's value may be in the log, in bytes.
pub const FIELD_MAX: usize = 1024;
/// The longest a log line may be, in bytes (the newline and the marker not counted).
pub const LINE_MAX: usize = 4096;

/// Targets never logged: webauthn-rs and its parts (`webauthn_rs_core`, `webauthn_rs_proto`).
pub fn silenced(target: &str) -> bool {
    target.starts_with("webauthn_rs")
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` text, as tracing writes it (colours only on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("log format {other:?}: expected text or json")),
        }
    }
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
    subscriber_as(LogFormat::Text, directives, writer, ansi)
}

/// [`subscriber`] in `format` (JSON never has colours).
pub fn subscriber_as<W>(
    format: LogFormat,
    directives: &str,
    writer: W,
    ansi: bool,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Global filters, not per-layer ones: a per-layer filter keeps what it decided for an event
    // in a thread-local until the event is written, and a library that asks `enabled` without
    // writing the event (sqlx does, for PostgreSQL's notices) leaves that state behind — every
    // later event on the thread was then dropped (the `audit head` anchors among them).
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let keep = filter_fn(|meta| !silenced(meta.target()));
    let layer = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .fmt_fields(CappedFields)
            .with_writer(CappedLines(writer))
            .with_ansi(ansi)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(JsonLines)
            .fmt_fields(CappedFields)
            .with_writer(writer)
            .with_ansi(false)
            .boxed(),
    };
    tracing_subscriber::registry().with(filter).with(keep).with(layer)
}

/// Installs [`subscriber`] as the global default (and forwards the `log` crate to it).
pub fn init<W>(directives: &str, writer: W, ansi: bool) -> Result<(), TryInitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    subscriber(directives, writer, ansi).try_init()
}

/// Installs [`subscriber_as`] as the global default.
pub fn init_as<W>(format: LogFormat, directives: &str, writer: W, ansi: bool) -> Result<(), TryInitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    subscriber_as(format, directives, writer, ansi).try_init()
}

/// Text cut at a byte limit (on a character boundary), counting what was cut.
pub(crate) struct Capped {
    text: String,
    max: usize,
    total: usize,
}

impl Capped {
    pub(crate) fn new(max: usize) -> Self {
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

    /// A writer maker over a shared buffer.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().map_err(|_| io::Error::other("poisoned"))?.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_stay_json_with_capped_values_and_a_bounded_line() {
        let buf = Shared::default();
        let w = buf.clone();
        let sub = subscriber_as(LogFormat::Json, "debug", move || w.clone(), false);
        let long = "é".repeat(3000);
        tracing::subscriber::with_default(sub, || {
            tracing::info!(method = %"GET", path = "/api/health", status = 200u16, ok = true, "request");
            tracing::warn!(a = %long, b = %long, c = %long, d = %long, e = %long, f = %long, "big");
            tracing::error!(target: "webauthn_rs_core", "silenced");
        });
        let text = String::from_utf8(buf.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null)).collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["fields"]["message"], "request");
        assert_eq!(first["fields"]["method"], "GET");
        assert_eq!(first["fields"]["path"], "/api/health");
        assert_eq!(first["fields"]["status"], 200);
        assert_eq!(first["fields"]["ok"], true);
        assert!(first["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        let big = &lines[1];
        let a = big["fields"]["a"].as_str().unwrap_or_default();
        assert!(a.len() <= FIELD_MAX + 40 && a.ends_with("bytes]"), "{a}");
        // Six capped values do not fit in one line: the rest are counted, not cut mid-JSON.
        assert!(big["truncated_fields"].as_u64().is_some_and(|n| n >= 1), "{big}");
        assert!(text.lines().all(|l| l.len() <= LINE_MAX + 512), "a bounded line");
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
