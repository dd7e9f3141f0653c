//! MySQL family only: keeps `json_positions` (the numbers `0..n`) at least
//! as long as the longest array in any stored search document.
//!
//! A filter on elements of a JSON array enumerates them by joining their
//! positions from that table (`query::sql_dialect::any_element`), since
//! `JSON_TABLE` is missing from MariaDB before 10.6 and from TiDB. The
//! migrations create the first `JSON_POSITIONS` rows; a write whose
//! document holds a longer array adds the blocks of positions it needs
//! first, in the same transaction, so a filter never misses an element.

use migration::{JSON_POSITIONS, extend_json_positions};
use sea_orm::{DbBackend, DbErr, Statement};
use serde_json::Value;

use super::exec::Write;

/// Adds the positions the arrays in `doc` need beyond the first
/// `JSON_POSITIONS`; nothing on SQLite, or for ordinary documents.
pub async fn cover<C: Write>(c: &C, doc: Option<&Value>) -> Result<(), DbErr> {
    if c.backend() != DbBackend::MySql {
        return Ok(());
    }
    let longest = doc.map_or(0, longest_array);
    let blocks = blocks_beyond_the_first(longest);
    if blocks == 0 {
        return Ok(());
    }
    let extend = || Statement::from_string(DbBackend::MySql, extend_json_positions(blocks));
    c.exec(extend()).await?;
    if blocks >= u64::from(JSON_POSITIONS) {
        // Past a million elements the blocks' own numbers come from the
        // positions the first pass added.
        c.exec(extend()).await?;
    }
    Ok(())
}

/// How many blocks of `JSON_POSITIONS` positions past the first an array
/// of `len` elements reaches into.
fn blocks_beyond_the_first(len: usize) -> u64 {
    let block = u64::from(JSON_POSITIONS);
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    len.saturating_sub(1) / block
}

/// The most elements of any array in `doc`, at any depth.
fn longest_array(doc: &Value) -> usize {
    match doc {
        Value::Array(items) => items
            .iter()
            .map(longest_array)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Value::Object(fields) => fields.values().map(longest_array).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_array_is_found_at_any_depth() {
        let doc = json!({"a": [1, 2], "ext": {"skills": [1, 2, 3, 4]}, "s": "x"});
        assert_eq!(longest_array(&doc), 4);
        assert_eq!(longest_array(&json!({})), 0);
    }

    #[test]
    fn only_arrays_past_the_first_block_need_more_positions() {
        let block = JSON_POSITIONS as usize;
        assert_eq!(blocks_beyond_the_first(0), 0);
        assert_eq!(blocks_beyond_the_first(block), 0);
        assert_eq!(blocks_beyond_the_first(block + 1), 1);
        assert_eq!(blocks_beyond_the_first(3 * block), 2);
    }
}
