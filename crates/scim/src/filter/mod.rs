//! SCIM filter expressions (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
//!
//! `scim_v2`'s LALRPOP grammar does the parsing; this module hands back
//! Roster's own AST so that no other part of the server names a `scim_v2`
//! type and a parser swap stays local to this module. The one-term filters
//! and plain paths identity providers send most are read by `simple`,
//! which leaves everything else (and every error) to the grammar. Around
//! the grammar, `leniency` rewrites the input it would refuse (below),
//! `from_scim_v2` maps its AST to Roster's, and `diagnose` turns its errors
//! into the messages described under "Error positions".
//!
//! # Accepted beyond `scim_v2`
//!
//! * `not(…)` without a space. RFC 7644's ABNF (`*1"not" "(" FILTER ")"`)
//!   allows it, but `scim_v2`'s lexer wants whitespace after `not`, so a space
//!   is inserted before parsing (never inside a string literal).
//! * In a filter, a value path followed by a sub-attribute test, e.g.
//!   `emails[type eq "work"].value eq "x"`. RFC 7644's `FILTER` rule has no
//!   such form (only the PATCH `PATH` rule has `valuePath subAttr`) and
//!   `scim_v2` rejects it, but clients send it and its meaning is clear: some
//!   element matches both tests. It is read as
//!   `emails[(type eq "work") and value eq "x"]`, i.e.
//!   `ValuePath { attr: emails, filter: And[type eq "work", value eq "x"] }`.
//!   The inserted parentheses count as one level against the nesting limit.
//! * An unquoted GUID as a comparison value, e.g. Microsoft Entra's
//!   `id eq 2819c223-7f76-453a-919d-413861904646 and manager eq …` (its
//!   manager check). The grammar has no bare-word values and `scim_v2`
//!   lexes the GUID as a number followed by junk, so a token that is
//!   exactly a GUID (8-4-4-4-12 hex digits) right after a comparison
//!   operator is read as the string it names. Any other bare word is still
//!   an error: guessing quotes around `True` or `bjensen` would hide client
//!   bugs, while a GUID can only mean one thing.
//!
//! # Limits
//!
//! Inputs over 8 KiB are refused before parsing. `scim_v2` then enforces its
//! own nesting limit (`MAX_FILTER_DEPTH`, 64) and term limit
//! (`MAX_FILTER_TERMS`, 1024). Every term costs at least 8 bytes
//! (`a pr or `), so the cap itself admits at most 1024 terms and the term
//! limit is a backstop that cannot trip first.
//!
//! # Error positions
//!
//! Every position in a [`FilterError`] detail is a 0-based *character* (not
//! byte) offset into the caller's input exactly as passed in, before any
//! trimming or the rewrites above. "End of input" is the position just after
//! the last non-blank character. Long inputs also get a short excerpt around
//! the position.
//!
//! Attribute names are kept as written (the caller matches them
//! case-insensitively); operators and `and`/`or`/`not` are case-insensitive;
//! `true`/`false`/`null` are JSON literals and so lowercase only.

use std::fmt;

use scim_v2::filter as scim;

mod diagnose;
mod display;
mod expected;
mod from_scim_v2;
mod leniency;
mod simple;
#[cfg(test)]
mod tests;

use diagnose::snippet;
use from_scim_v2::{from_scim_filter, from_scim_patch_path};
use leniency::Prepared;

/// Refused before parsing: the parser's own limits bound memory, but not the
/// time spent lexing an arbitrarily long query string.
const MAX_INPUT_BYTES: usize = 8 * 1024;

/// `[uri ":"] name ["." sub_attr]`, e.g. `name.familyName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub name: String,
    pub sub_attr: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

/// dateTime values arrive as `Str`; the caller decides per attribute type.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    /// `emails[type eq "work"]`: `filter`'s paths are relative to `attr`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
    Not(Box<Filter>),
    /// Always at least two operands; chains are flattened (`a and b and c` is
    /// one node), so nested `And` inside `And` only comes from hand-built trees.
    And(Vec<Filter>),
    /// Always at least two operands; flattened like `And`.
    Or(Vec<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    Attr(AttrPath),
    /// `members[value eq "x"]` or `emails[type eq "work"].value`
    ValuePath {
        attr: AttrPath,
        filter: Filter,
        sub_attr: Option<String>,
    },
}

/// `detail` is meant for humans (SCIM error `detail`, logs); see the module
/// docs for how positions are counted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct FilterError {
    pub detail: String,
}

/// Parses a `filter=` query parameter or `SearchRequest.filter`. URL decoding
/// is the caller's job.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    match simple::filter(input) {
        Some(filter) => Ok(filter),
        None => filter_by_grammar(input),
    }
}

fn filter_by_grammar(input: &str) -> Result<Filter, FilterError> {
    let prepared = Prepared::new(input, Grammar::Filter)?;
    let parsed: scim::Filter = prepared.text.parse().map_err(|e| prepared.fail(e))?;
    Ok(from_scim_filter(parsed))
}

/// Parses a PATCH operation's `path`, and each name of `attributes=` and
/// `excludedAttributes=` (which may also be value paths).
pub fn parse_patch_path(input: &str) -> Result<PatchPath, FilterError> {
    if let Some(path) = simple::attr_path(input) {
        return Ok(PatchPath::Attr(path));
    }
    match simple::value_path(input) {
        Some(path) => Ok(path),
        None => patch_path_by_grammar(input),
    }
}

fn patch_path_by_grammar(input: &str) -> Result<PatchPath, FilterError> {
    let prepared = Prepared::new(input, Grammar::PatchPath)?;
    let parsed: scim::PatchPath = prepared.text.parse().map_err(|e| prepared.fail(e))?;
    Ok(from_scim_patch_path(parsed))
}

/// For sortBy / attributes / excludedAttributes entries: a plain attribute
/// path, or (for attributes=) a value path like `emails[type eq "work"]`.
///
/// A value path is checked for syntax and then reduced to the attribute it
/// selects (`emails[type eq "work"]` → `emails`,
/// `emails[type eq "work"].value` → `emails.value`): attribute projection
/// works on whole attributes, so the bracketed filter has nothing to select.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, FilterError> {
    match simple::attr_path(input) {
        Some(path) => Ok(path),
        None => attr_path_by_grammar(input),
    }
}

fn attr_path_by_grammar(input: &str) -> Result<AttrPath, FilterError> {
    let prepared = Prepared::new(input, Grammar::AttrPath)?;
    let parsed: scim::PatchPath = prepared.text.parse().map_err(|e| prepared.fail(e))?;
    match from_scim_patch_path(parsed) {
        PatchPath::Attr(path) => Ok(path),
        PatchPath::ValuePath { attr, sub_attr, .. } => selected_attr(attr, sub_attr),
    }
}

fn selected_attr(attr: AttrPath, sub_attr: Option<String>) -> Result<AttrPath, FilterError> {
    match (&attr.sub_attr, sub_attr) {
        (Some(_), Some(extra)) => Err(Grammar::AttrPath.error(format_args!(
            "'{attr}' already names a sub-attribute, so '.{}' cannot follow its filter",
            snippet(&extra)
        ))),
        (_, Some(sub)) => Ok(AttrPath {
            sub_attr: Some(sub),
            ..attr
        }),
        (_, None) => Ok(attr),
    }
}

impl Filter {
    /// Number of attribute tests (`pr` and comparisons), including those
    /// inside value paths; the unit `scim_v2`'s `MAX_FILTER_TERMS` counts.
    pub fn term_count(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Present(_) => 1,
            Filter::ValuePath { filter, .. } => filter.term_count(),
            Filter::Not(inner) => inner.term_count(),
            Filter::And(items) | Filter::Or(items) => items.iter().map(Filter::term_count).sum(),
        }
    }
}

/// Which grammar rule an input is read with, which also names it in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Filter,
    PatchPath,
    AttrPath,
}

impl Grammar {
    fn error(self, what: impl fmt::Display) -> FilterError {
        let label = match self {
            Grammar::Filter => "invalid filter",
            Grammar::PatchPath => "invalid path",
            Grammar::AttrPath => "invalid attribute path",
        };
        FilterError {
            detail: format!("{label}: {what}"),
        }
    }
}
