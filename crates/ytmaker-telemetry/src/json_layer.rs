use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::SharedWriter;

/// Field names whose values are never written.
fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "authorization",
        "cookie",
        "credential",
    ]
    .iter()
    .any(|s| n == *s || n.ends_with(&format!("_{s}")) || n.starts_with(&format!("{s}_")))
}

pub const REDACTED: &str = "[REDACTED]";

#[derive(Default)]
struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        let value = if is_secret_field(field.name()) {
            Value::String(REDACTED.into())
        } else {
            value
        };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        // `details` fields are passed as serialised JSON so they stay structured in the line.
        let parsed = if field.name() == "details" {
            serde_json::from_str(value).ok()
        } else {
            None
        };
        self.put(
            field,
            parsed.unwrap_or_else(|| Value::String(value.to_owned())),
        );
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// The JSON-lines layer: one object per event, span fields flattened (see the crate docs).
pub struct JsonLines {
    writers: Vec<SharedWriter>,
}

impl JsonLines {
    pub fn new(writers: Vec<SharedWriter>) -> Self {
        JsonLines { writers }
    }
}

impl<S> Layer<S> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(fields) = ext.get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(ytmaker_core::error::now_rfc3339()),
        );
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_ascii_lowercase()),
        );
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    line.extend(fields.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut own = Fields::default();
        event.record(&mut own);
        line.extend(own.0);
        line.entry("message")
            .or_insert_with(|| Value::String(String::new()));
        line.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );

        let mut text = Value::Object(line).to_string();
        text.push('\n');
        for writer in &self.writers {
            // A poisoned lock means another thread panicked mid-write; the writer itself is still
            // usable, and dropping log lines silently is exactly what this layer must not do.
            let mut w = writer.lock().unwrap_or_else(|poison| poison.into_inner());
            if let Err(err) = w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
                // Nowhere left to log a logging failure but stderr.
                eprintln!("ytmaker: cannot write a log line: {err}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(f: impl FnOnce()) -> Vec<Value> {
        let buf = Buf::default();
        let layer = JsonLines::new(vec![Arc::new(Mutex::new(buf.clone()))]);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }

    #[test]
    fn span_fields_are_flattened_onto_every_line() {
        let lines = capture(|| {
            let run = tracing::info_span!("run", trace_id = "abc123abc123", project_id = "p1");
            let _g = run.enter();
            tracing::info!("first");
            let stage = tracing::info_span!("stage", stage = "render");
            let _s = stage.enter();
            tracing::warn!(
                duration_ms = 12u64,
                error_code = "FFMPEG_EXECUTION_FAILED",
                "second"
            );
        });
        assert_eq!(lines.len(), 2);
        for l in &lines {
            assert_eq!(l["trace_id"], "abc123abc123");
            assert_eq!(l["project_id"], "p1");
            assert!(l["timestamp"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(lines[0]["message"], "first");
        assert!(lines[0].get("stage").is_none());
        assert_eq!(lines[1]["stage"], "render");
        assert_eq!(lines[1]["level"], "warn");
        assert_eq!(lines[1]["duration_ms"], 12);
    }

    #[test]
    fn secrets_are_redacted_and_details_stay_structured() {
        let lines = capture(|| {
            let span = tracing::info_span!("call", api_key = "sk-live-123456");
            let _g = span.enter();
            tracing::info!(
                authorization = "Bearer ya29.secret",
                access_token = "tok",
                details = r#"{"path":"/x"}"#,
                "call"
            );
        });
        let text = lines[0].to_string();
        assert!(
            !text.contains("sk-live-123456")
                && !text.contains("ya29.secret")
                && !text.contains("\"tok\""),
            "{text}"
        );
        assert_eq!(lines[0]["api_key"], REDACTED);
        assert_eq!(lines[0]["details"]["path"], "/x");
    }

    #[test]
    fn secret_field_names() {
        for n in [
            "api_key",
            "key",
            "refresh_token",
            "Authorization",
            "client_secret",
            "password",
        ] {
            assert!(is_secret_field(n), "{n}");
        }
        for n in ["trace_id", "keyframes", "monkey", "duration_ms"] {
            assert!(!is_secret_field(n), "{n}");
        }
    }
}
