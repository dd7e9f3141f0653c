//! Log lines, as text or as one JSON object per line, through env_logger
//! (`RUST_LOG` filters as before). A line written while a request is being
//! handled carries that request's id, read from the task-local that the
//! request middleware sets (`request::current_id`); the access line
//! carries its fields as the record's key-values.

use std::io::Write;
use std::sync::OnceLock;

use env_logger::fmt::Formatter;
use log::Record;
use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use super::request_id::current_id;
use crate::config::{Config, LogFormat, Secret};

/// The configured secrets, taken out of every line: libraries log what
/// they were given (SeaORM logs its connect options, URL included, at
/// trace level), and no filter level may show a password.
static REDACTED: OnceLock<Vec<String>> = OnceLock::new();

/// Shorter strings would blank out ordinary words.
const MIN_REDACTED_LEN: usize = 4;

/// Installs the logger for the whole process; a second call (tests start
/// several servers) changes nothing.
pub fn init(format: LogFormat, config: &Config) {
    let _ = REDACTED.set(secrets_of(config));
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Text => builder.format(write_text),
        LogFormat::Json => builder.format(write_json),
    };
    // Err only when a logger is already installed.
    let _ = builder.try_init();
}

/// Every secret the configuration holds: credentials, and the password
/// in the database URL as written and percent-decoded.
fn secrets_of(config: &Config) -> Vec<String> {
    let after_user = |s: &Secret| s.expose().split_once(':').map(|(_, p)| p.to_owned());
    let auth = &config.auth;
    let mut secrets: Vec<String> = auth
        .bearer_tokens
        .iter()
        .map(|s| s.expose().to_owned())
        .collect();
    secrets.extend(auth.basic.iter().filter_map(after_user));
    secrets.extend(config.oauth.admins.iter().filter_map(after_user));
    secrets.extend(
        config
            .oauth
            .clients
            .iter()
            .map(|c| c.client_secret.expose().to_owned()),
    );
    let single = [
        &auth.jwt.hs256_secret,
        &auth.introspection.client_secret,
        &config.scim.cursor_secret,
    ];
    secrets.extend(single.into_iter().flatten().map(|s| s.expose().to_owned()));
    if let Ok(url) = url::Url::parse(config.database.url.expose())
        && let Some(raw) = url.password()
    {
        secrets.push(raw.to_owned());
        if let Ok(decoded) = percent_encoding::percent_decode_str(raw).decode_utf8() {
            secrets.push(decoded.into_owned());
        }
    }
    secrets.retain(|s| s.len() >= MIN_REDACTED_LEN);
    // Longest first, so that a secret containing another goes whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// The record's message with every configured secret replaced.
fn message(record: &Record<'_>) -> String {
    let mut text = record.args().to_string();
    for secret in REDACTED.get().map_or(&[][..], Vec::as_slice) {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
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
        message(record)
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
    line.insert("message".into(), message(record).into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;

    #[test]
    fn every_configured_secret_is_known() {
        let mut c = Config::default();
        c.database.url = DatabaseUrl::new("mysql://u:p%40ssw0rd@db/x");
        c.auth.bearer_tokens = vec![Secret::new("token-value")];
        c.auth.basic = vec![Secret::new("okta:basic-pass")];
        c.oauth.admins = vec![Secret::new("admin:x")];
        let secrets = secrets_of(&c);
        for s in ["p%40ssw0rd", "p@ssw0rd", "token-value", "basic-pass"] {
            assert!(secrets.iter().any(|k| k == s), "{s} missing");
        }
        assert!(!secrets.iter().any(|k| k == "x"), "too short to redact");
    }
}
