//! The JSON log format (`serve --log-format json`): one object per line.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

use super::{Capped, FIELD_MAX, LINE_MAX};

/// The JSON event format: `{"timestamp":…,"level":…,"target":…,"fields":{…},"spans":[…]}`.
/// Every field value is written as JSON (numbers and booleans as they are, everything else as a
/// string capped at [`FIELD_MAX`] bytes); fields that would take the line past [`LINE_MAX`] are
/// left out and counted in `"truncated_fields"`. Spans carry their names only.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        use tracing_subscriber::fmt::time::FormatTime as _;
        let mut ts = String::new();
        tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(&mut ts))?;
        let meta = event.metadata();
        let mut v = JsonVisitor { fields: serde_json::Map::new(), used: 0, dropped: 0 };
        event.record(&mut v);
        let mut line = serde_json::Map::new();
        line.insert("timestamp".into(), ts.into());
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        line.insert("fields".into(), serde_json::Value::Object(v.fields));
        if v.dropped > 0 {
            line.insert("truncated_fields".into(), v.dropped.into());
        }
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<serde_json::Value> = scope.from_root().map(|s| s.name().into()).collect();
            if !spans.is_empty() {
                line.insert("spans".into(), spans.into());
            }
        }
        let text = serde_json::to_string(&serde_json::Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Collects an event's fields as JSON values, each string capped, within the line's budget.
struct JsonVisitor {
    fields: serde_json::Map<String, serde_json::Value>,
    used: usize,
    dropped: usize,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        // The value's JSON length bounds its share of the line (names and values; the rest of
        // the line is short and fixed).
        let cost = name.len() + value.to_string().len() + 4;
        if self.used + cost > LINE_MAX {
            self.dropped += 1;
            return;
        }
        self.used += cost;
        self.fields.insert(name.strip_prefix("r#").unwrap_or(name).to_owned(), value);
    }
}

impl Visit for JsonVisitor {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let mut capped = Capped::new(FIELD_MAX);
        let _ = capped.write_str(value);
        self.put(field, capped.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut capped = Capped::new(FIELD_MAX);
        // `message` (and `%` fields) print as they are; other values as their Debug form.
        let _ = write!(capped, "{value:?}");
        self.put(field, capped.to_string().into());
    }
}
