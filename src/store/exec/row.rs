//! Reading a result row, whichever path ran the statement: a rusqlite row
//! (inline reads and the write lane, `inline::Cells`) or a SeaORM
//! `QueryResult` (the sqlx pools). Each row type has one `Decode` written
//! against `Row`, and each kind of row reads a column as its path returns
//! it: rusqlite gets a uuid as SQLite's 16-byte blob and a JSON column as
//! text, where sqlx decodes them itself (and MariaDB's JSON columns are
//! text to it as well).

use sea_orm::{DbErr, JsonValue as Json, QueryResult};
use uuid::Uuid;

/// A row's columns, read by name as the types Roster's tables hold.
pub trait Row {
    type Error;

    fn uuid(&self, name: &str) -> Result<Uuid, Self::Error>;
    fn uuid_opt(&self, name: &str) -> Result<Option<Uuid>, Self::Error>;
    fn i64(&self, name: &str) -> Result<i64, Self::Error>;
    fn bool(&self, name: &str) -> Result<bool, Self::Error>;
    fn string(&self, name: &str) -> Result<String, Self::Error>;
    fn string_opt(&self, name: &str) -> Result<Option<String>, Self::Error>;
    fn json(&self, name: &str) -> Result<Json, Self::Error>;
    fn json_opt(&self, name: &str) -> Result<Option<Json>, Self::Error>;
    /// A JSON column's text as stored, not parsed into a `Value`: for a
    /// document that is copied into an answer as it is.
    fn json_text(&self, name: &str) -> Result<String, Self::Error>;
}

/// A row type every way of reading can produce.
pub trait Decode: Sized + Send + Sync {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error>;
}

/// What the pools return. Columns are named as selected: SeaORM's prefix,
/// for the models of joined entities, is never used here.
impl Row for QueryResult {
    type Error = DbErr;

    fn uuid(&self, name: &str) -> Result<Uuid, DbErr> {
        self.try_get("", name)
    }

    fn uuid_opt(&self, name: &str) -> Result<Option<Uuid>, DbErr> {
        self.try_get("", name)
    }

    fn i64(&self, name: &str) -> Result<i64, DbErr> {
        self.try_get("", name)
    }

    fn bool(&self, name: &str) -> Result<bool, DbErr> {
        self.try_get("", name)
    }

    fn string(&self, name: &str) -> Result<String, DbErr> {
        self.try_get("", name)
    }

    fn string_opt(&self, name: &str) -> Result<Option<String>, DbErr> {
        self.try_get("", name)
    }

    fn json(&self, name: &str) -> Result<Json, DbErr> {
        self.try_get("", name)
    }

    fn json_opt(&self, name: &str) -> Result<Option<Json>, DbErr> {
        self.try_get("", name)
    }

    /// MariaDB's JSON columns are text and decode as such: the document as
    /// stored (the same text: Roster wrote it). MySQL's JSON type does not
    /// decode as text; its documents go through a `Value`.
    fn json_text(&self, name: &str) -> Result<String, DbErr> {
        match self.try_get::<String>("", name) {
            Ok(text) => Ok(text),
            Err(_) => Ok(self.try_get::<Json>("", name)?.to_string()),
        }
    }
}
