//! Log lines, as text or as one JSON object per line, through env_logger
//! (`RUST_LOG` filters as before). A line written while a request is being
//! handled carries that request's id, read from the task-local that the
//! request middleware sets (`request::current_id`); the access line
//! carries its fields as the record's key-values.

use std::io::Write;

use env_logger::fmt::Formatter;
use log::Record;
use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use super::request::current_id;
use crate::config::LogFormat;

/// Installs the logger for the whole process; a second call (tests start
/// several servers) changes nothing.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Text => builder.format(write_text),
        LogFormat::Json => builder.format(write_json),
    };
    // Err only when a logger is already installed.
    let _ = builder.try_init();
}

/// `[timestamp LEVEL target] message key=value ...`: env_logger's own
/// layout, with the request's fields after the message.
fn write_text(buf: &mut Formatter, record: &Record<'_>) -> std::io::Result<()> {
    write!(
        buf,
        "[{} {:<5} {}] {}",
        buf.timestamp_millis(),
        record.level(),
        record.target(),
        record.args()
    )?;
    let mut fields = TextFields { buf, has_id: false };
    // A visitor that only writes cannot fail but through the writer, whose
    // error is kept in the formatter's own buffer.
    let _ = record.key_values().visit(&mut fields);
    let has_id = fields.has_id;
    if !has_id && let Some(id) = current_id() {
        write!(buf, " request_id={id}")?;
    }
    writeln!(buf)
}

struct TextFields<'a> {
    buf: &'a mut Formatter,
    has_id: bool,
}

impl<'kvs> VisitSource<'kvs> for TextFields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        self.has_id |= key.as_str() == "request_id";
        write!(self.buf, " {key}={value}").map_err(log::kv::Error::boxed)
    }
}

/// One JSON object per line: `timestamp`, `level`, `target`, `message`,
/// then the record's key-values, and `request_id` inside a request.
fn write_json(buf: &mut Formatter, record: &Record<'_>) -> std::io::Result<()> {
    let mut line = Map::new();
    line.insert(
        "timestamp".into(),
        buf.timestamp_millis().to_string().into(),
    );
    line.insert("level".into(), record.level().as_str().into());
    line.insert("target".into(), record.target().into());
    line.insert("message".into(), record.args().to_string().into());
    let mut fields = JsonFields(&mut line);
    let _ = record.key_values().visit(&mut fields);
    if !line.contains_key("request_id")
        && let Some(id) = current_id()
    {
        line.insert("request_id".into(), Json::from(&*id));
    }
    serde_json::to_writer(&mut *buf, &line)?;
    writeln!(buf)
}

struct JsonFields<'a>(&'a mut Map<String, Json>);

impl<'kvs> VisitSource<'kvs> for JsonFields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(n) = value.to_i64() {
            Json::from(n)
        } else if let Some(x) = value.to_f64() {
            Json::from(x)
        } else if let Some(b) = value.to_bool() {
            Json::from(b)
        } else {
            Json::from(value.to_string())
        };
        self.0.insert(key.as_str().to_owned(), json);
        Ok(())
    }
}
