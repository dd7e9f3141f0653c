//! Reading a result row, whichever path ran the statement: a rusqlite row
//! (inline reads and the write lane, `Cells`) or a SeaORM
//! `QueryResult` (the sqlx pools). Each row type has one `Decode` written
//! against `Row`, and each kind of row reads a column as its path returns
//! it: rusqlite gets a uuid as SQLite's 16-byte blob and a JSON column as
//! text, where sqlx decodes them itself (and MariaDB's JSON columns are
//! text to it as well).

use rusqlite::types::{FromSqlError, Type, ValueRef};
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

/// A rusqlite row whose columns are found by name in a list read once per
/// statement. rusqlite's own lookup by name asks SQLite for every
/// column's name and checks it as UTF-8 again at each `get`, a cost that
/// showed in the profile of a GET by id.
pub struct Cells<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r [String],
}

impl<'r, 's> Cells<'r, 's> {
    /// `row` of a statement whose columns are `names`.
    pub(super) fn new(row: &'r rusqlite::Row<'s>, names: &'r [String]) -> Self {
        Self { row, names }
    }

    fn get<T: rusqlite::types::FromSql>(&self, name: &str) -> rusqlite::Result<T> {
        self.row.get(self.index(name)?)
    }

    /// The value without a copy, for what is parsed further.
    fn get_ref(&self, name: &str) -> rusqlite::Result<ValueRef<'_>> {
        self.row.get_ref(self.index(name)?)
    }

    fn index(&self, name: &str) -> rusqlite::Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(name.to_owned()))
    }
}

/// Columns as sqlx writes them to SQLite: uuids as 16-byte blobs, JSON
/// as text.
impl Row for Cells<'_, '_> {
    type Error = rusqlite::Error;

    fn uuid(&self, name: &str) -> rusqlite::Result<Uuid> {
        let value = self.get_ref(name)?;
        let bytes = value
            .as_blob()
            .map_err(|e| conversion(name, value.data_type(), e))?;
        Uuid::from_slice(bytes).map_err(|e| conversion(name, Type::Blob, e))
    }

    fn uuid_opt(&self, name: &str) -> rusqlite::Result<Option<Uuid>> {
        match self.get_ref(name)? {
            ValueRef::Null => Ok(None),
            _ => self.uuid(name).map(Some),
        }
    }

    fn i64(&self, name: &str) -> rusqlite::Result<i64> {
        self.get(name)
    }

    fn bool(&self, name: &str) -> rusqlite::Result<bool> {
        self.get(name)
    }

    fn string(&self, name: &str) -> rusqlite::Result<String> {
        self.get(name)
    }

    fn string_opt(&self, name: &str) -> rusqlite::Result<Option<String>> {
        self.get(name)
    }

    fn json(&self, name: &str) -> rusqlite::Result<Json> {
        self.json_opt(name)?
            .ok_or_else(|| conversion(name, Type::Null, FromSqlError::InvalidType))
    }

    /// Parsed from SQLite's copy of the text, not a `String` copy of it.
    fn json_opt(&self, name: &str) -> rusqlite::Result<Option<Json>> {
        let text = match self.get_ref(name)? {
            ValueRef::Null => return Ok(None),
            value => value
                .as_str()
                .map_err(|e| conversion(name, value.data_type(), e))?,
        };
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| conversion(name, Type::Text, e))
    }

    fn json_text(&self, name: &str) -> rusqlite::Result<String> {
        self.get(name)
    }
}

fn conversion(
    name: &str,
    ty: Type,
    e: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, ty, format!("{name}: {e}").into())
}
