//! A statement with its values written into its text, for MySQL-family
//! servers: a query of several statements is sent as text and takes no
//! bound values. Every value is written so that no `sql_mode` reads it
//! differently and no value can end its literal early: text in quotes
//! with its quotes doubled when it holds no backslash (an escape or not,
//! by NO_BACKSLASH_ESCAPES) and no NUL, else, like bytes, as a hex
//! literal (`X'…'`). Every value means what sqlx binds for it (a UUID its
//! 16 bytes, JSON its text, a boolean 1 or 0).

use std::fmt::Write as _;

use sea_orm::{Statement, Value};

/// `stmt`'s text with each `?` outside quotes replaced by its value.
/// `None` when a value is of a type not written here, or the values and
/// placeholders do not pair up.
pub fn inlined(stmt: &Statement) -> Option<String> {
    let values = stmt.values.as_ref().map_or(&[][..], |v| &v.0[..]);
    let mut values = values.iter();
    let sql = stmt.sql.as_str();
    let mut out = String::with_capacity(sql.len() + 32 * values.len());
    let mut quote: Option<u8> = None;
    let mut copied = 0;
    // The text between placeholders goes in whole: pushed a character at a
    // time, it cost more than writing the values.
    for (at, &c) in sql.as_bytes().iter().enumerate() {
        match (quote, c) {
            (None, b'?') => {
                out.push_str(&sql[copied..at]);
                copied = at + 1;
                literal(values.next()?, &mut out)?;
            }
            (None, b'`' | b'\'' | b'"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    values.next().is_none().then_some(out)
}

fn literal(value: &Value, out: &mut String) -> Option<()> {
    if !value.is_some() {
        out.push_str("NULL");
        return Some(());
    }
    match value {
        Value::Bool(Some(b)) => out.push(if *b { '1' } else { '0' }),
        Value::TinyInt(Some(n)) => number(out, n),
        Value::SmallInt(Some(n)) => number(out, n),
        Value::Int(Some(n)) => number(out, n),
        Value::BigInt(Some(n)) => number(out, n),
        Value::TinyUnsigned(Some(n)) => number(out, n),
        Value::SmallUnsigned(Some(n)) => number(out, n),
        Value::Unsigned(Some(n)) => number(out, n),
        Value::BigUnsigned(Some(n)) => number(out, n),
        // `{:?}` writes the shortest text that reads back as the same
        // number, in a form MySQL parses (`1.0`, `1e-7`).
        Value::Float(Some(f)) if f.is_finite() => number(out, &format_args!("{f:?}")),
        Value::Double(Some(f)) if f.is_finite() => number(out, &format_args!("{f:?}")),
        Value::String(Some(s)) => return text(out, s),
        Value::Char(Some(c)) => return text(out, &c.to_string()),
        Value::Json(Some(j)) => return text(out, &j.to_string()),
        Value::Bytes(Some(b)) => return bytes(out, b),
        Value::Uuid(Some(u)) => return bytes(out, u.as_bytes()),
        _ => return None,
    }
    Some(())
}

fn number(out: &mut String, n: &dyn std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}

fn text(out: &mut String, text: &str) -> Option<()> {
    out.push_str("_utf8mb4 ");
    if memchr::memchr2(b'\\', 0, text.as_bytes()).is_some() {
        return bytes(out, text.as_bytes());
    }
    // Half the bytes of hex, for Roster to write and the server to read.
    out.reserve(text.len() + 2);
    out.push('\'');
    let mut parts = text.split('\'');
    out.push_str(parts.next().unwrap_or_default());
    for part in parts {
        out.push_str("''");
        out.push_str(part);
    }
    out.push('\'');
    Some(())
}

fn bytes(out: &mut String, b: &[u8]) -> Option<()> {
    out.push_str("X'");
    out.reserve(2 * b.len() + 1);
    // Through a buffer: `hex::encode` goes a character at a time, which
    // cost more than the server's insert of a logged request's row.
    let mut buf = [0u8; 2 * HEX_CHUNK];
    for chunk in b.chunks(HEX_CHUNK) {
        let hex = &mut buf[..2 * chunk.len()];
        hex::encode_to_slice(chunk, hex).ok()?;
        out.push_str(std::str::from_utf8(hex).ok()?);
    }
    out.push('\'');
    Some(())
}

/// Bytes encoded per step of [`bytes`].
const HEX_CHUNK: usize = 512;

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::MySql, sql, values)
    }

    #[test]
    fn values_become_literals_in_place() {
        let id = uuid::Uuid::from_u128(0x0102);
        let s = stmt(
            "INSERT INTO `t` (`a`, `b`, `c`, `d`, `e`, `f`) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                Value::from(-7i64),
                Value::from("it's ?"),
                Value::from(id),
                Value::from(None::<String>),
                Value::from(true),
                Value::from(0.5f64),
            ],
        );
        assert_eq!(
            inlined(&s).expect("inlined"),
            "INSERT INTO `t` (`a`, `b`, `c`, `d`, `e`, `f`) VALUES \
             (-7, _utf8mb4 'it''s ?', X'00000000000000000000000000000102', NULL, 1, 0.5)"
        );
    }

    #[test]
    fn text_with_a_backslash_or_a_nul_is_written_in_hex() {
        for (value, hex) in [(r"a\'", "615c27"), ("a\0", "6100")] {
            let sql = inlined(&stmt("SELECT ?", vec![Value::from(value)]));
            assert_eq!(sql, Some(format!("SELECT _utf8mb4 X'{hex}'")));
        }
    }

    #[test]
    fn a_value_longer_than_a_step_is_written_whole() {
        let long: String = (0..1500).map(|i| ['a', '\\', 'é'][i % 3]).collect();
        let sql = inlined(&stmt("SELECT ?", vec![Value::from(long.clone())])).expect("inlined");
        let hex = sql
            .strip_prefix("SELECT _utf8mb4 X'")
            .and_then(|rest| rest.strip_suffix('\''))
            .expect("one hex literal");
        assert_eq!(hex::decode(hex).expect("hex"), long.into_bytes());
    }

    #[test]
    fn question_marks_inside_quotes_are_left_alone() {
        let s = stmt("SELECT '?', `a?`, ?", vec![Value::from(1i32)]);
        assert_eq!(inlined(&s).as_deref(), Some("SELECT '?', `a?`, 1"));
        let s = stmt("SELECT 'é?', \"ü?\", ?, 'ö'", vec![Value::from(2i32)]);
        assert_eq!(inlined(&s).as_deref(), Some("SELECT 'é?', \"ü?\", 2, 'ö'"));
    }

    #[test]
    fn unpaired_values_or_unwritable_types_give_none() {
        assert_eq!(inlined(&stmt("SELECT ?, ?", vec![Value::from(1i32)])), None);
        assert_eq!(inlined(&stmt("SELECT 1", vec![Value::from(1i32)])), None);
        let nan = stmt("SELECT ?", vec![Value::from(f64::NAN)]);
        assert_eq!(inlined(&nan), None);
    }
}
