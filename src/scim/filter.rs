//! SCIM filter expressions (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
//!
//! `scim_v2`'s LALRPOP grammar does the parsing; this module hands back
//! Roster's own AST so that no other part of the server names a `scim_v2`
//! type and a parser swap stays local to this file. The one-term filters
//! and plain paths identity providers send most are read by `simple`,
//! which leaves everything else (and every error) to the grammar.
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

use std::fmt::{self, Write as _};
use std::ops::Range;

use scim_v2::filter as scim;

mod simple;

/// Refused before parsing: the parser's own limits bound memory, but not the
/// time spent lexing an arbitrarily long query string.
const MAX_INPUT_BYTES: usize = 8 * 1024;

/// Inputs at most this long are short enough to read whole in the error.
const EXCERPT_MIN_INPUT_CHARS: usize = 40;
const EXCERPT_RADIUS: usize = 16;
const SNIPPET_MAX_CHARS: usize = 32;
const MAX_EXPECTED_SHOWN: usize = 12;

const COMPARE_OPS: [&str; 9] = ["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"];
const VALUE_HINT: &str = "expected a double-quoted string, a number, true, false or null";

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
    match simple::attr_path(input) {
        Some(path) => Ok(PatchPath::Attr(path)),
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

// ---------------------------------------------------------------------------
// Mapping from scim_v2's AST
// ---------------------------------------------------------------------------

fn from_scim_filter(filter: scim::Filter) -> Filter {
    match filter {
        scim::Filter::Attr(exp) => from_scim_attr_exp(exp),
        scim::Filter::ValuePath(vp) => Filter::ValuePath {
            attr: from_scim_path(vp.attr),
            filter: Box::new(from_scim_val_filter(*vp.filter)),
        },
        scim::Filter::Not(inner) => Filter::Not(Box::new(from_scim_filter(*inner))),
        scim::Filter::And(items) => Filter::And(items.into_iter().map(from_scim_filter).collect()),
        scim::Filter::Or(items) => Filter::Or(items.into_iter().map(from_scim_filter).collect()),
    }
}

fn from_scim_val_filter(filter: scim::ValFilter) -> Filter {
    match filter {
        scim::ValFilter::Attr(exp) => from_scim_attr_exp(exp),
        scim::ValFilter::Not(inner) => Filter::Not(Box::new(from_scim_val_filter(*inner))),
        scim::ValFilter::And(items) => {
            Filter::And(items.into_iter().map(from_scim_val_filter).collect())
        }
        scim::ValFilter::Or(items) => {
            Filter::Or(items.into_iter().map(from_scim_val_filter).collect())
        }
    }
}

fn from_scim_attr_exp(exp: scim::AttrExp) -> Filter {
    match exp {
        scim::AttrExp::Present(path) => Filter::Present(from_scim_path(path)),
        scim::AttrExp::Comparison(path, op, value) => Filter::Compare {
            path: from_scim_path(path),
            op: from_scim_op(op),
            value: from_scim_value(value),
        },
    }
}

fn from_scim_path(path: scim::AttrPath) -> AttrPath {
    AttrPath {
        uri: path.uri,
        name: path.name,
        sub_attr: path.sub_attr,
    }
}

fn from_scim_op(op: scim::CompareOp) -> CompareOp {
    match op {
        scim::CompareOp::Eq => CompareOp::Eq,
        scim::CompareOp::Ne => CompareOp::Ne,
        scim::CompareOp::Co => CompareOp::Co,
        scim::CompareOp::Sw => CompareOp::Sw,
        scim::CompareOp::Ew => CompareOp::Ew,
        scim::CompareOp::Gt => CompareOp::Gt,
        scim::CompareOp::Lt => CompareOp::Lt,
        scim::CompareOp::Ge => CompareOp::Ge,
        scim::CompareOp::Le => CompareOp::Le,
    }
}

fn from_scim_value(value: scim::CompValue) -> CompValue {
    match value {
        scim::CompValue::False => CompValue::Bool(false),
        scim::CompValue::True => CompValue::Bool(true),
        scim::CompValue::Null => CompValue::Null,
        scim::CompValue::Number(n) => CompValue::Number(n),
        scim::CompValue::Str(s) => CompValue::Str(s),
    }
}

fn from_scim_patch_path(path: scim::PatchPath) -> PatchPath {
    match path {
        scim::PatchPath::Attr(attr) => PatchPath::Attr(from_scim_path(attr)),
        scim::PatchPath::Value(vp) => PatchPath::ValuePath {
            attr: from_scim_path(vp.attr),
            filter: from_scim_val_filter(vp.filter),
            sub_attr: vp.sub_attr,
        },
    }
}

// ---------------------------------------------------------------------------
// Display: canonical SCIM syntax that parses back to the same tree
// ---------------------------------------------------------------------------

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Lt => "lt",
            CompareOp::Ge => "ge",
            CompareOp::Le => "le",
        })
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::Str(s) => write_json_string(f, s),
        }
    }
}

/// Hand-rolled so Display cannot fail: the output must be a JSON string the
/// lexer reads back to the same text, so only `"`, `\` and C0 controls need
/// escaping.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c < ' ' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(items) => write_chain(f, items, "and"),
            Filter::Or(items) => write_chain(f, items, "or"),
        }
    }
}

/// `or` binds looser than `and`, so an `Or` operand of `And` needs
/// parentheses; a same-operator operand gets them too so that a hand-built
/// nested tree is shown as it is rather than as the flattened chain.
fn write_chain(f: &mut fmt::Formatter<'_>, items: &[Filter], keyword: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {keyword} ")?;
        }
        let grouped = match item {
            Filter::Or(_) => true,
            Filter::And(_) => keyword == "and",
            _ => false,
        };
        if grouped {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(path) => write!(f, "{path}"),
            PatchPath::ValuePath {
                attr,
                filter,
                sub_attr,
            } => {
                write!(f, "{attr}[{filter}]")?;
                match sub_attr {
                    Some(sub) => write!(f, ".{sub}"),
                    None => Ok(()),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Input preparation: limits, `not(`, value-path sub-attribute tests
// ---------------------------------------------------------------------------

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

/// A character of the text handed to `scim_v2`, with the byte offset in the
/// caller's input it came from (inserted characters take the offset of the
/// character they were inserted before), so that errors can point into what
/// the caller actually sent.
type Tagged = Vec<(char, usize)>;

/// A message and the character position it is about, if any.
type Finding = (String, Option<usize>);

struct Prepared<'a> {
    input: &'a str,
    grammar: Grammar,
    /// What `scim_v2` parses; it has no leading or trailing whitespace, so
    /// `scim_v2`'s own trim does not shift its error locations.
    text: String,
    /// Caller's byte offset for each byte of `text`, plus one for its end.
    origin: Vec<usize>,
}

impl<'a> Prepared<'a> {
    fn new(input: &'a str, grammar: Grammar) -> Result<Self, FilterError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(grammar.error(format_args!(
                "too long ({} bytes; at most {MAX_INPUT_BYTES} are allowed)",
                input.len()
            )));
        }
        if input.trim().is_empty() {
            return Err(grammar.error("empty"));
        }
        let mut chars = space_after_not(&tag_trimmed(input));
        if grammar == Grammar::Filter {
            chars = quote_bare_guids(&chars);
            chars = fold_value_path_sub_attr_tests(&chars);
        }
        let mut text = String::with_capacity(input.len() + 8);
        let mut origin = Vec::with_capacity(input.len() + 9);
        for (c, at) in chars {
            text.push(c);
            origin.extend(std::iter::repeat_n(at, c.len_utf8()));
        }
        origin.push(input.trim_end().len());
        Ok(Self {
            input,
            grammar,
            text,
            origin,
        })
    }

    /// Maps a byte offset in `text` to a character offset in the input.
    fn position(&self, byte: usize) -> usize {
        let end = self.input.trim_end().len();
        let at = self.origin.get(byte).copied().unwrap_or(end);
        self.input
            .char_indices()
            .take_while(|&(i, _)| i < at)
            .count()
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        self.text.get(from..to).unwrap_or_default()
    }
}

fn tag_trimmed(input: &str) -> Tagged {
    let lead = input.len() - input.trim_start().len();
    input
        .trim()
        .char_indices()
        .map(|(i, c)| (c, lead + i))
        .collect()
}

/// Character-index ranges of the JSON string literals. Mirrors the lexer: a
/// `"` outside a literal opens one (no other token can contain a `"`).
fn literal_spans(chars: &[char]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '"' {
            let end = i + quoted_len(&chars[i..]);
            spans.push(i..end);
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

/// Length of the literal opening at `chars[0]`: `\` escapes the next
/// character, an unescaped `"` closes it; an unterminated one runs to the end.
fn quoted_len(chars: &[char]) -> usize {
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i + 1,
            _ => {}
        }
    }
    chars.len()
}

/// For each character, whether it belongs to a string literal.
fn literal_mask(chars: &[char]) -> Vec<bool> {
    let mut mask = vec![false; chars.len()];
    for span in literal_spans(chars) {
        mask[span].fill(true);
    }
    mask
}

fn plain_chars(src: &[(char, usize)]) -> Vec<char> {
    src.iter().map(|&(c, _)| c).collect()
}

fn space_after_not(src: &[(char, usize)]) -> Tagged {
    let mask = literal_mask(&plain_chars(src));
    let mut out = Vec::with_capacity(src.len() + 4);
    for (i, &(c, at)) in src.iter().enumerate() {
        out.push((c, at));
        if !mask[i]
            && let Some(&('(', paren_at)) = src.get(i + 1)
            && ends_not_keyword(src, i)
        {
            out.push((' ', paren_at));
        }
    }
    out
}

/// Whether `src[..=i]` ends with `not` as a whole word: at the start, or
/// after whitespace, `(` or `[` (anything else makes it part of a name).
fn ends_not_keyword(src: &[(char, usize)], i: usize) -> bool {
    let Some(start) = i.checked_sub(2) else {
        return false;
    };
    let word: String = src[start..=i].iter().map(|&(c, _)| c).collect();
    let whole = start == 0
        || src
            .get(start - 1)
            .is_some_and(|&(c, _)| c.is_whitespace() || c == '(' || c == '[');
    whole && word.eq_ignore_ascii_case("not")
}

/// Length of a GUID written as 8-4-4-4-12 hex digits.
const GUID_LEN: usize = 36;

/// Wraps a bare GUID that follows a comparison operator in quotes; see the
/// module docs. The quotes take the caller's offsets of the GUID's first
/// character and of whatever follows it, so positions stay honest.
fn quote_bare_guids(src: &[(char, usize)]) -> Tagged {
    let chars = plain_chars(src);
    let mask = literal_mask(&chars);
    let mut out: Tagged = Vec::with_capacity(src.len() + 4);
    let mut i = 0;
    while let Some(&(c, at)) = src.get(i) {
        let starts_token = i > 0 && chars[i - 1].is_whitespace();
        if !mask[i] && starts_token && is_guid_at(&chars, i) && follows_compare_op(&chars, i) {
            let end = i + GUID_LEN;
            let after = src.get(end).map_or(at, |&(_, next)| next);
            out.push(('"', at));
            out.extend_from_slice(&src[i..end]);
            out.push(('"', after));
            i = end;
            continue;
        }
        out.push((c, at));
        i += 1;
    }
    out
}

/// Whether `chars[at..]` starts with a whole GUID token (nothing but a
/// separator may follow it).
fn is_guid_at(chars: &[char], at: usize) -> bool {
    let Some(token) = chars.get(at..at + GUID_LEN) else {
        return false;
    };
    let shape = token.iter().enumerate().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => *c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    let ends = chars
        .get(at + GUID_LEN)
        .is_none_or(|&c| c.is_whitespace() || c == ')' || c == ']');
    shape && ends
}

/// Whether the word before the whitespace ending at `at` is a comparison
/// operator.
fn follows_compare_op(chars: &[char], at: usize) -> bool {
    let head = &chars[..at];
    let word_end = head.len() - head.iter().rev().take_while(|c| c.is_whitespace()).count();
    let word_len = head[..word_end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let word: String = head[word_end - word_len..word_end].iter().collect();
    let separated = word_end == word_len || head[word_end - word_len - 1].is_whitespace();
    separated && is_compare_op(&word)
}

/// Rewrites `attr[F].sub OP value` (and `attr[F].sub pr`) into
/// `attr[(F) and sub OP value]`; see the module docs. Anything that does not
/// fully match that shape is left for the parser to reject.
fn fold_value_path_sub_attr_tests(src: &[(char, usize)]) -> Tagged {
    let chars = plain_chars(src);
    let mask = literal_mask(&chars);
    let mut out: Tagged = Vec::with_capacity(src.len() + 8);
    let mut opens: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(&(c, at)) = src.get(i) {
        i += 1;
        let code = !mask[i - 1];
        if code && c == '[' {
            opens.push(out.len());
        }
        if code && c == ']' {
            // An empty `[]` is left alone so the parser reports the `]` the user wrote.
            if let Some(open) = opens.pop().filter(|&open| out.len() > open + 1)
                && let Some(len) = sub_attr_test_len(&chars[i..])
            {
                fold_into_brackets(&mut out, open, &src[i..i + len], at);
                i += len;
                continue;
            }
        }
        out.push((c, at));
    }
    out
}

/// `out` ends just inside the brackets opened at `out[open]`; `test` is the
/// `.sub OP value` that followed them and `close_at` the caller's `]`.
fn fold_into_brackets(out: &mut Tagged, open: usize, test: &[(char, usize)], close_at: usize) {
    let first_inside = out.get(open + 1).map_or(close_at, |&(_, at)| at);
    out.insert(open + 1, ('(', first_inside));
    out.push((')', close_at));
    let dot_at = test.first().map_or(close_at, |&(_, at)| at);
    out.extend(" and ".chars().map(|c| (c, dot_at)));
    out.extend_from_slice(test.get(1..).unwrap_or_default());
    out.push((']', close_at));
}

/// If `chars` starts with `.name OP value` or `.name pr`, its length.
fn sub_attr_test_len(chars: &[char]) -> Option<usize> {
    if chars.first() != Some(&'.') {
        return None;
    }
    let name_end = 1 + attr_name_len(&chars[1..])?;
    let op_start = name_end + whitespace_len(&chars[name_end..])?;
    let op_len = chars[op_start..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let op: String = chars[op_start..op_start + op_len].iter().collect();
    let op_end = op_start + op_len;
    if op.eq_ignore_ascii_case("pr") {
        let boundary = chars
            .get(op_end)
            .is_none_or(|&c| c.is_whitespace() || c == ')');
        return boundary.then_some(op_end);
    }
    if !is_compare_op(&op) {
        return None;
    }
    let value_start = op_end + whitespace_len(&chars[op_end..])?;
    Some(value_start + value_len(&chars[value_start..])?)
}

fn attr_name_len(chars: &[char]) -> Option<usize> {
    let first = chars.first()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    Some(1 + chars[1..].iter().take_while(|&&c| is_name_char(c)).count())
}

fn whitespace_len(chars: &[char]) -> Option<usize> {
    let n = chars.iter().take_while(|c| c.is_whitespace()).count();
    (n > 0).then_some(n)
}

/// A quoted string (to its closing quote) or a bare token; the parser
/// validates it afterwards.
fn value_len(chars: &[char]) -> Option<usize> {
    if chars.first() == Some(&'"') {
        return Some(quoted_len(chars));
    }
    let n = chars
        .iter()
        .take_while(|&&c| !(c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']')))
        .count();
    (n > 0).then_some(n)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_compare_op(word: &str) -> bool {
    COMPARE_OPS.iter().any(|op| op.eq_ignore_ascii_case(word))
}

fn is_logical(word: &str) -> bool {
    word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or")
}

/// Shape of the lexer's attribute tokens, which is also what a bare
/// (unquoted) word in value position looks like.
fn is_word(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| is_name_char(c) || c == '.' || c == ':')
}

// ---------------------------------------------------------------------------
// Error translation
// ---------------------------------------------------------------------------

impl Prepared<'_> {
    fn fail(&self, err: scim::ParseError) -> FilterError {
        let (what, at) = match err {
            scim::ParseError::InvalidToken { location } => self.invalid_token(location),
            scim::ParseError::UnrecognizedEof { location, expected } => {
                self.unexpected_eof(location, &Expected::new(&expected))
            }
            scim::ParseError::UnrecognizedToken {
                token: (start, token, _),
                expected,
            } => self.unexpected_token(start, &token, &Expected::new(&expected)),
            scim::ParseError::ExtraToken {
                token: (start, token, _),
            } => self.unexpected_token(start, &token, &Expected::default()),
            scim::ParseError::User { error } => self.action_error(error),
        };
        match at.and_then(|pos| excerpt(self.input, pos)) {
            Some(near) => self.grammar.error(format_args!("{what} near '{near}'")),
            None => self.grammar.error(what),
        }
    }

    /// The lexer found no token at `location`; the only way a `"` fails to
    /// start one is a missing closing quote.
    fn invalid_token(&self, location: usize) -> Finding {
        let pos = self.position(location);
        let what = match self.text.get(location..).and_then(|s| s.chars().next()) {
            Some('"') => format!("unterminated string starting at position {pos}"),
            Some(c) => format!(
                "unexpected character '{}' at position {pos}",
                c.escape_debug()
            ),
            None => format!("unexpected end of input at position {pos}"),
        };
        (what, Some(pos))
    }

    fn unexpected_eof(&self, location: usize, expected: &Expected) -> Finding {
        let wants_closer = expected.has("')'") || expected.has("']'");
        if wants_closer && let Some(&(open, at)) = bracket_balance(&self.text).unclosed.last() {
            let pos = self.position(at);
            let close = if open == '(' { ')' } else { ']' };
            return (
                format!("missing '{close}' to close '{open}' at position {pos}"),
                Some(pos),
            );
        }
        let pos = self.position(location);
        (
            format!("unexpected end of input at position {pos} ({expected})"),
            Some(pos),
        )
    }

    /// Keyword and operator tokens include their surrounding whitespace
    /// (` eq `), and a keyword not followed by whitespace lexes as a name
    /// (`eq` at the end of input), so most of the work here is recognising
    /// what the user meant from where the parser stopped.
    fn unexpected_token(&self, start: usize, token: &str, expected: &Expected) -> Finding {
        let lead = token.len() - token.trim_start().len();
        let word = token.trim();
        let byte = start + lead;
        self.unmatched_closer(byte, word)
            .or_else(|| self.unquoted_value(byte, lead, word, expected))
            .or_else(|| self.operator_slot(byte, word, expected))
            .or_else(|| self.logical_slot(byte, word, expected))
            .or_else(|| self.operand_slot(byte, lead, word, expected))
            .unwrap_or_else(|| {
                let pos = self.position(byte);
                let expected = self.with_end_if_complete(start, expected);
                let what = format!(
                    "unexpected '{}' at position {pos} ({expected})",
                    snippet(word)
                );
                (what, Some(pos))
            })
    }

    /// lalrpop never lists the end of input as expected, so check whether
    /// the text before the offending token is complete on its own.
    fn with_end_if_complete(&self, byte: usize, expected: &Expected) -> Expected {
        let head = self.slice(0, byte);
        let complete = match self.grammar {
            Grammar::Filter => head.parse::<scim::Filter>().is_ok(),
            Grammar::PatchPath | Grammar::AttrPath => head.parse::<scim::PatchPath>().is_ok(),
        };
        let mut names = expected.0.clone();
        if complete {
            names.push(END_OF_INPUT.to_owned());
        }
        Expected(names)
    }

    fn unmatched_closer(&self, byte: usize, word: &str) -> Option<Finding> {
        if !matches!(word, ")" | "]") || bracket_balance(&self.text).stray != Some(byte) {
            return None;
        }
        let pos = self.position(byte);
        Some((format!("unmatched '{word}' at position {pos}"), Some(pos)))
    }

    /// A bare word where a value belongs, or a word glued to a number (the
    /// lexer splits `2819c223-…` into `2819` and `c223-…`).
    fn unquoted_value(
        &self,
        byte: usize,
        lead: usize,
        word: &str,
        expected: &Expected,
    ) -> Option<Finding> {
        let value_slot = expected.has("string");
        if value_slot && matches!(word, ")" | "]") {
            let pos = self.position(byte);
            return Some((
                format!("missing value at position {pos} ({VALUE_HINT})"),
                Some(pos),
            ));
        }
        let glued = lead == 0
            && word.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && self.follows_number(byte);
        if !(glued || (value_slot && is_word(word))) {
            return None;
        }
        let (from, to) = self.bare_span(byte);
        let pos = self.position(from);
        let value = snippet(self.slice(from, to));
        Some((
            format!("unquoted value '{value}' at position {pos} ({VALUE_HINT})"),
            Some(pos),
        ))
    }

    fn follows_number(&self, byte: usize) -> bool {
        let (from, _) = self.bare_span(byte);
        let run = self.slice(from, byte);
        run.starts_with(|c: char| c.is_ascii_digit() || c == '-')
            && run
                .chars()
                .all(|c| c.is_ascii_digit() || ".-+eE".contains(c))
    }

    /// The whitespace- and bracket-delimited run of text around `byte`.
    fn bare_span(&self, byte: usize) -> (usize, usize) {
        let stop = |c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']');
        let head = self.text.get(..byte).unwrap_or_default();
        let from = head
            .char_indices()
            .rev()
            .take_while(|&(_, c)| !stop(c))
            .last()
            .map_or(byte, |(i, _)| i);
        let tail = self.text.get(byte..).unwrap_or_default();
        let to = tail.find(stop).map_or(self.text.len(), |i| byte + i);
        (from, to)
    }

    /// The parser wanted a comparison operator after an attribute path.
    fn operator_slot(&self, byte: usize, word: &str, expected: &Expected) -> Option<Finding> {
        if !expected.has("eq") {
            return None;
        }
        if let Some(found) = self.dangling_logical_before(byte, "left") {
            return Some(found);
        }
        if is_compare_op(word) {
            return Some(self.glued_keyword(byte, word).unwrap_or_else(|| {
                let pos = self.position(byte + word.len());
                let what = format!("missing value after '{word}' at position {pos} ({VALUE_HINT})");
                (what, Some(pos))
            }));
        }
        if !is_word(word) {
            return None;
        }
        let pos = self.position(byte);
        let ops = COMPARE_OPS.join(", ");
        Some((
            format!(
                "unknown operator '{}' at position {pos} (expected one of: {ops}, pr)",
                snippet(word)
            ),
            Some(pos),
        ))
    }

    /// The parser wanted `and`/`or` (or the end) after a complete test.
    fn logical_slot(&self, byte: usize, word: &str, expected: &Expected) -> Option<Finding> {
        if !(expected.has("and") || expected.has("or")) || !is_logical(word) {
            return None;
        }
        Some(self.glued_keyword(byte, word).unwrap_or_else(|| {
            let pos = self.position(byte);
            let what = format!("'{word}' at position {pos} has no right-hand operand");
            (what, Some(pos))
        }))
    }

    /// The parser wanted an attribute path, `not` or `(`.
    fn operand_slot(
        &self,
        byte: usize,
        lead: usize,
        word: &str,
        expected: &Expected,
    ) -> Option<Finding> {
        if !expected.has("attribute name") {
            return None;
        }
        if lead > 0 && is_logical(word) {
            let pos = self.position(byte);
            return Some((
                format!("'{word}' at position {pos} has no left-hand operand"),
                Some(pos),
            ));
        }
        self.dangling_logical_before(byte, "right")
    }

    /// A keyword lexes as a name when no whitespace follows it. `None` when
    /// nothing follows it either (the caller knows what is then missing);
    /// otherwise it is glued to the next token.
    fn glued_keyword(&self, byte: usize, word: &str) -> Option<Finding> {
        let rest = self.text.get(byte + word.len()..).unwrap_or_default();
        if rest.is_empty() || rest.starts_with([')', ']']) {
            return None;
        }
        let pos = self.position(byte);
        Some((
            format!("'{word}' at position {pos} must be followed by a space"),
            Some(pos),
        ))
    }

    /// `and`/`or` as the word right before `byte`, which then lacks the
    /// operand on `side`.
    fn dangling_logical_before(&self, byte: usize, side: &str) -> Option<Finding> {
        let head = self.text.get(..byte)?.trim_end();
        let from = head
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map(|(i, _)| i)?;
        let word = &head[from..];
        let whole = head[..from]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '(' || c == '[');
        if !whole || !is_logical(word) {
            return None;
        }
        let pos = self.position(from);
        Some((
            format!("'{word}' at position {pos} has no {side}-hand operand"),
            Some(pos),
        ))
    }

    fn action_error(&self, error: scim::FilterActionError) -> Finding {
        let what = match error {
            scim::FilterActionError::DepthExceeded(_) => {
                format!(
                    "nested too deeply (more than {} levels)",
                    scim::MAX_FILTER_DEPTH
                )
            }
            scim::FilterActionError::TooManyTerms(_) => {
                format!("too many terms (more than {})", scim::MAX_FILTER_TERMS)
            }
            scim::FilterActionError::InvalidAttrPath(path) => format!(
                "attribute path '{}' has more than one sub-attribute",
                snippet(&path)
            ),
            scim::FilterActionError::InvalidAttrName(path) => format!(
                "'{}' is not a valid attribute path (each name must start with a letter, \
                 followed by letters, digits, '-' or '_')",
                snippet(&path)
            ),
            scim::FilterActionError::InvalidCompValue(e) => return self.bad_literal(&e),
            other => other.to_string(),
        };
        (what, None)
    }

    /// `scim_v2` reports a bad escape without a location, so find the first
    /// string literal that does not decode.
    fn bad_literal(&self, error: &serde_json::Error) -> Finding {
        let message = error.to_string();
        let reason = message.split(" at line ").next().unwrap_or_default();
        let starts: Vec<usize> = self.text.char_indices().map(|(at, _)| at).collect();
        let byte = |k: usize| starts.get(k).copied().unwrap_or(self.text.len());
        let chars: Vec<char> = self.text.chars().collect();
        for span in literal_spans(&chars) {
            let from = byte(span.start);
            if serde_json::from_str::<String>(self.slice(from, byte(span.end))).is_err() {
                let pos = self.position(from);
                let what = format!("invalid string at position {pos} ({reason})");
                return (what, Some(pos));
            }
        }
        (format!("invalid value ({reason})"), None)
    }
}

#[derive(Default)]
struct Balance {
    /// Openers without a closer, innermost last: (char, byte offset).
    unclosed: Vec<(char, usize)>,
    /// Byte offset of the first closer without a matching opener.
    stray: Option<usize>,
}

fn bracket_balance(text: &str) -> Balance {
    let mut balance = Balance::default();
    let chars: Vec<char> = text.chars().collect();
    for ((at, c), quoted) in text.char_indices().zip(literal_mask(&chars)) {
        if quoted {
            continue;
        }
        match c {
            '(' | '[' => balance.unclosed.push((c, at)),
            ')' | ']' => {
                let opener = if c == ')' { '(' } else { '[' };
                if balance.unclosed.last().is_some_and(|&(o, _)| o == opener) {
                    balance.unclosed.pop();
                } else if balance.stray.is_none() {
                    balance.stray = Some(at);
                }
            }
            _ => {}
        }
    }
    balance
}

/// lalrpop's expected-token list, renamed for humans, deduplicated and in a
/// stable order (RFC operator order rather than the grammar's).
#[derive(Default)]
struct Expected(Vec<String>);

const END_OF_INPUT: &str = "end of input";

const EXPECTED_ORDER: [&str; 25] = [
    "attribute name",
    "not",
    "'('",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "lt",
    "ge",
    "le",
    "pr",
    "'['",
    "string",
    "number",
    "true",
    "false",
    "null",
    "and",
    "or",
    "')'",
    "']'",
    "'.'",
    END_OF_INPUT,
];

impl Expected {
    fn new(raw: &[String]) -> Self {
        let mut names: Vec<String> = raw.iter().map(|r| token_name(r)).collect();
        names.sort_by(|a, b| {
            expected_rank(a)
                .cmp(&expected_rank(b))
                .then_with(|| a.cmp(b))
        });
        names.dedup();
        Self(names)
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

fn expected_rank(name: &str) -> usize {
    EXPECTED_ORDER
        .iter()
        .position(|&n| n == name)
        .unwrap_or(EXPECTED_ORDER.len())
}

/// lalrpop names terminals as written in the grammar: named ones
/// (`AttrNameTok`) bare, literal ones quoted (`"eq"`, `"("`).
fn token_name(raw: &str) -> String {
    match raw {
        "AttrNameTok" | "AttrPathTok" => return "attribute name".to_owned(),
        "StringLit" => return "string".to_owned(),
        "NumberLit" => return "number".to_owned(),
        _ => {}
    }
    match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(word) if word.chars().all(|c| c.is_ascii_alphabetic()) => word.to_owned(),
        Some(symbol) => format!("'{symbol}'"),
        None => raw.to_owned(),
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "expected {END_OF_INPUT}"),
            [only] => write!(f, "expected {only}"),
            names => {
                let shown: Vec<&str> = names
                    .iter()
                    .take(MAX_EXPECTED_SHOWN)
                    .map(String::as_str)
                    .collect();
                write!(f, "expected one of: {}", shown.join(", "))?;
                if names.len() > MAX_EXPECTED_SHOWN {
                    f.write_str(", …")?;
                }
                Ok(())
            }
        }
    }
}

/// A token or path for quoting in a message: bounded, control characters
/// made visible so a detail cannot break a log line.
fn snippet(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(SNIPPET_MAX_CHARS) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if s.chars().nth(SNIPPET_MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Part of the caller's input around character `pos`, for inputs too long to
/// count positions in by eye.
fn excerpt(input: &str, pos: usize) -> Option<String> {
    let total = input.chars().count();
    if total <= EXCERPT_MIN_INPUT_CHARS {
        return None;
    }
    let from = pos.saturating_sub(EXCERPT_RADIUS);
    let to = (pos + EXCERPT_RADIUS).min(total);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(
        input
            .chars()
            .skip(from)
            .take(to.saturating_sub(from))
            .map(|c| if c.is_control() { ' ' } else { c }),
    );
    if to < total {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Filter {
        parse_filter(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    fn detail(input: &str) -> String {
        match parse_filter(input) {
            Ok(f) => panic!("{input:?} should be rejected, got {f:?}"),
            Err(e) => e.detail,
        }
    }

    fn path_detail(input: &str) -> String {
        match parse_patch_path(input) {
            Ok(p) => panic!("{input:?} should be rejected, got {p:?}"),
            Err(e) => e.detail,
        }
    }

    fn attr(name: &str) -> AttrPath {
        AttrPath {
            uri: None,
            name: name.to_owned(),
            sub_attr: None,
        }
    }

    fn sub(name: &str, sub_attr: &str) -> AttrPath {
        AttrPath {
            sub_attr: Some(sub_attr.to_owned()),
            ..attr(name)
        }
    }

    fn urn(uri: &str, name: &str, sub_attr: Option<&str>) -> AttrPath {
        AttrPath {
            uri: Some(uri.to_owned()),
            name: name.to_owned(),
            sub_attr: sub_attr.map(str::to_owned),
        }
    }

    fn eq(path: AttrPath, value: &str) -> Filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(value.to_owned()),
        }
    }

    fn pr(name: &str) -> Filter {
        Filter::Present(attr(name))
    }

    fn number(n: &str) -> CompValue {
        CompValue::Number(serde_json::from_str(n).unwrap())
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    // --- comparison operators and pr -------------------------------------

    #[test]
    fn every_comparison_operator() {
        let ops = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("lt", CompareOp::Lt),
            ("ge", CompareOp::Ge),
            ("le", CompareOp::Le),
        ];
        for (word, op) in ops {
            let expected = Filter::Compare {
                path: attr("userName"),
                op,
                value: CompValue::Str("x".into()),
            };
            assert_eq!(parse(&format!(r#"userName {word} "x""#)), expected);
            let upper = word.to_uppercase();
            assert_eq!(parse(&format!(r#"userName {upper} "x""#)), expected);
            assert_eq!(op.to_string(), word);
        }
    }

    #[test]
    fn operators_are_case_insensitive_names_are_kept() {
        assert_eq!(parse(r#"userName Eq "x""#), eq(attr("userName"), "x"));
        assert_eq!(parse(r#"USERNAME eq "x""#), eq(attr("USERNAME"), "x"));
        assert_eq!(parse("title PR"), pr("title"));
    }

    #[test]
    fn present() {
        assert_eq!(parse("title pr"), pr("title"));
        assert_eq!(
            parse("name.familyName pr"),
            Filter::Present(sub("name", "familyName"))
        );
    }

    // --- logical operators ------------------------------------------------

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            parse("a pr or b pr and c pr"),
            Filter::Or(vec![pr("a"), Filter::And(vec![pr("b"), pr("c")])])
        );
        assert_eq!(
            parse("a pr and b pr or c pr"),
            Filter::Or(vec![Filter::And(vec![pr("a"), pr("b")]), pr("c")])
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            parse("(a pr or b pr) and c pr"),
            Filter::And(vec![Filter::Or(vec![pr("a"), pr("b")]), pr("c")])
        );
        assert_eq!(parse("((a pr))"), pr("a"));
    }

    #[test]
    fn chains_are_flat_and_keywords_case_insensitive() {
        assert_eq!(
            parse("a pr AND b pr and c pr"),
            Filter::And(vec![pr("a"), pr("b"), pr("c")])
        );
        assert_eq!(
            parse("a pr Or b pr OR c pr"),
            Filter::Or(vec![pr("a"), pr("b"), pr("c")])
        );
    }

    #[test]
    fn not_with_and_without_space() {
        let expected = Filter::Not(Box::new(pr("a")));
        for input in [
            "not (a pr)",
            "not(a pr)",
            "NOT(a pr)",
            "Not  (a pr)",
            "(not(a pr))",
        ] {
            assert_eq!(parse(input), expected, "{input}");
        }
        assert_eq!(
            parse("b pr and not(a pr)"),
            Filter::And(vec![pr("b"), expected.clone()])
        );
        assert_eq!(parse("not(not(a pr))"), Filter::Not(Box::new(expected)));
        assert_eq!(
            parse(r#"emails[not(type eq "work")]"#),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::Not(Box::new(eq(attr("type"), "work")))),
            }
        );
    }

    #[test]
    fn not_rewrite_leaves_strings_and_names_alone() {
        assert_eq!(
            parse(r#"userName eq "not(x)""#),
            eq(attr("userName"), "not(x)")
        );
        assert_eq!(
            parse(r#"userName eq "a\" not(x)""#),
            eq(attr("userName"), "a\" not(x)")
        );
        let text = |s: &str| Prepared::new(s, Grammar::Filter).unwrap().text;
        assert_eq!(text(r#"userName eq "not(x)""#), r#"userName eq "not(x)""#);
        assert_eq!(text("knot(a pr)"), "knot(a pr)");
        assert_eq!(text("x.not(a pr)"), "x.not(a pr)");
        assert_eq!(text("NOT(a pr)"), "NOT (a pr)");
    }

    #[test]
    fn positions_survive_the_not_rewrite() {
        assert_eq!(
            detail(r#"not(a eqq "x")"#),
            "invalid filter: unknown operator 'eqq' at position 6 \
             (expected one of: eq, ne, co, sw, ew, gt, lt, ge, le, pr)"
        );
    }

    // --- attribute paths --------------------------------------------------

    #[test]
    fn sub_attribute() {
        assert_eq!(
            parse(r#"name.familyName eq "Jensen""#),
            eq(sub("name", "familyName"), "Jensen")
        );
    }

    #[test]
    fn urn_qualified_paths() {
        assert_eq!(
            parse(&format!(r#"{ENTERPRISE}:employeeNumber eq "1""#)),
            eq(urn(ENTERPRISE, "employeeNumber", None), "1")
        );
        assert_eq!(
            parse(&format!(r#"{CORE_USER}:name.givenName eq "x""#)),
            eq(urn(CORE_USER, "name", Some("givenName")), "x")
        );
    }

    // --- value paths ------------------------------------------------------

    #[test]
    fn value_path() {
        assert_eq!(
            parse(r#"emails[type eq "work" and value co "@example.com"]"#),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::And(vec![
                    eq(attr("type"), "work"),
                    Filter::Compare {
                        path: attr("value"),
                        op: CompareOp::Co,
                        value: CompValue::Str("@example.com".into()),
                    },
                ])),
            }
        );
    }

    #[test]
    fn value_path_sub_attribute_test_folds_into_the_brackets() {
        let work_x = Filter::ValuePath {
            attr: attr("emails"),
            filter: Box::new(Filter::And(vec![
                eq(attr("type"), "work"),
                eq(attr("value"), "x"),
            ])),
        };
        assert_eq!(parse(r#"emails[type eq "work"].value eq "x""#), work_x);
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "x" and userName pr"#),
            Filter::And(vec![work_x, pr("userName")])
        );
        assert_eq!(
            parse(r#"emails[type eq "work" or type eq "home"].value pr"#),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::And(vec![
                    Filter::Or(vec![eq(attr("type"), "work"), eq(attr("type"), "home")]),
                    pr("value"),
                ])),
            }
        );
        assert_eq!(
            parse(r#"emails[value eq "a]."].value eq "]. eq""#),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::And(vec![
                    eq(attr("value"), "a]."),
                    eq(attr("value"), "]. eq"),
                ])),
            }
        );
    }

    #[test]
    fn value_path_sub_attribute_positions_point_into_the_original() {
        assert_eq!(
            detail(r#"emails[type eq "work"].value eq bjensen"#),
            "invalid filter: unquoted value 'bjensen' at position 32 \
             (expected a double-quoted string, a number, true, false or null)"
        );
        assert_eq!(
            detail(r#"emails[type eq "work"].value"#),
            "invalid filter: unexpected '.' at position 22 (expected one of: and, or, end of input)"
        );
    }

    // --- values -----------------------------------------------------------

    #[test]
    fn literal_values() {
        let value = |input: &str| match parse(input) {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value(r#"a eq "x y""#), CompValue::Str("x y".into()));
        assert_eq!(value(r#"a eq "a\"b""#), CompValue::Str("a\"b".into()));
        assert_eq!(
            value(r#"a eq "back\\slash\n""#),
            CompValue::Str("back\\slash\n".into())
        );
        assert_eq!(value(r#"a eq "é\u00e9""#), CompValue::Str("éé".into()));
        assert_eq!(value("a eq 42"), number("42"));
        assert_eq!(value("a gt -1"), number("-1"));
        assert_eq!(value("a lt 1.5"), number("1.5"));
        assert_eq!(value("a eq 1.5e-3"), number("1.5e-3"));
        assert_eq!(value("active eq true"), CompValue::Bool(true));
        assert_eq!(value("active eq false"), CompValue::Bool(false));
        assert_eq!(value("manager eq null"), CompValue::Null);
    }

    #[test]
    fn datetime_arrives_as_string() {
        assert_eq!(
            parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
            Filter::Compare {
                path: sub("meta", "lastModified"),
                op: CompareOp::Gt,
                value: CompValue::Str("2011-05-13T04:42:34Z".into()),
            }
        );
    }

    #[test]
    fn plus_is_not_a_space() {
        // URL decoding is the caller's job; a literal `+` is not whitespace.
        assert!(parse_filter(r#"userName+eq+"x""#).is_err());
        assert_eq!(parse(r#"a eq "x+y""#), eq(attr("a"), "x+y"));
    }

    // --- size and depth ---------------------------------------------------

    #[test]
    fn hundred_term_or_chain() {
        let input = (0..100)
            .map(|i| format!(r#"id eq "{i}""#))
            .collect::<Vec<_>>()
            .join(" or ");
        let filter = parse(&input);
        assert!(matches!(&filter, Filter::Or(items) if items.len() == 100));
        assert_eq!(filter.term_count(), 100);
    }

    #[test]
    fn longest_allowed_input_parses() {
        let input = vec!["a pr"; 1024].join(" or ");
        assert!(input.len() <= MAX_INPUT_BYTES);
        assert_eq!(parse(&input).term_count(), 1024);
    }

    #[test]
    fn too_long_is_rejected_before_parsing() {
        let input = format!("a eq \"{}\"", "x".repeat(MAX_INPUT_BYTES));
        assert_eq!(
            detail(&input),
            "invalid filter: too long (8199 bytes; at most 8192 are allowed)"
        );
    }

    #[test]
    fn hostile_inputs_at_the_size_cap_are_rejected_cleanly() {
        let brackets = "]".repeat(MAX_INPUT_BYTES);
        assert_eq!(
            detail(&brackets),
            "invalid filter: unmatched ']' at position 0 near ']]]]]]]]]]]]]]]]…'"
        );
        let folds = r#"e[t pr].v eq "x" and "#.repeat(380) + "a pr";
        assert_eq!(parse(&folds).term_count(), 761);
        let quotes = "\"".repeat(MAX_INPUT_BYTES - 1);
        assert!(parse_filter(&quotes).is_err());
        let nots = "not(".repeat(MAX_INPUT_BYTES / 4);
        assert!(detail(&nots).contains("nested too deeply"));
    }

    #[test]
    fn nesting_limit() {
        let nested = |depth: usize| format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(parse(&nested(60)), pr("a"));
        assert_eq!(
            detail(&nested(65)),
            "invalid filter: nested too deeply (more than 64 levels)"
        );
        let nots = format!("{}a pr{}", "not(".repeat(65), ")".repeat(65));
        assert_eq!(
            detail(&nots),
            "invalid filter: nested too deeply (more than 64 levels)"
        );
    }

    #[test]
    fn too_many_terms_is_translated() {
        // Unreachable through the 8 KiB cap (see longest_allowed_input_parses),
        // so the translation is checked directly.
        let prepared = Prepared::new("a pr", Grammar::Filter).unwrap();
        let error = scim::ParseError::User {
            error: scim::FilterActionError::TooManyTerms(1025),
        };
        assert_eq!(
            prepared.fail(error).detail,
            "invalid filter: too many terms (more than 1024)"
        );
    }

    #[test]
    fn term_count_counts_tests() {
        assert_eq!(
            parse(r#"not (a pr) and (emails[type eq "w" or primary eq true] or b pr)"#)
                .term_count(),
            4
        );
    }

    // --- Display ----------------------------------------------------------

    #[test]
    fn display_round_trips() {
        let inputs = [
            r#"userName eq "bjensen""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            "title pr",
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z" and meta.lastModified le "2012-01-01T00:00:00Z""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#,
            r#"a eq "quote\" back\\ nl\n tab\t ctl\u0001" or b eq 1.5e3 or c eq -7 or d eq null or e eq false"#,
            r#"emails[type eq "work"].value eq "x""#,
            "NOT(a pr) AND (b pr OR c pr)",
        ];
        for input in inputs {
            let filter = parse(input);
            let shown = filter.to_string();
            assert_eq!(parse(&shown), filter, "{input} -> {shown}");
        }
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(
            parse(r#"NOT(a pr) AND (b Eq "x" OR c pr)"#).to_string(),
            r#"not (a pr) and (b eq "x" or c pr)"#
        );
        assert_eq!(parse(r#"a eq "x\u0001""#).to_string(), r#"a eq "x\u0001""#);
        assert_eq!(
            Filter::And(vec![Filter::And(vec![pr("a"), pr("b")]), pr("c")]).to_string(),
            "(a pr and b pr) and c pr"
        );
        assert_eq!(
            urn(ENTERPRISE, "manager", Some("value")).to_string(),
            format!("{ENTERPRISE}:manager.value")
        );
        assert_eq!(CompValue::Bool(true).to_string(), "true");
        assert_eq!(CompValue::Null.to_string(), "null");
        assert_eq!(CompValue::Str("a\"b".into()).to_string(), r#""a\"b""#);
    }

    // --- PATCH paths ------------------------------------------------------

    fn patch(input: &str) -> PatchPath {
        parse_patch_path(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    #[test]
    fn patch_paths() {
        assert_eq!(patch("members"), PatchPath::Attr(attr("members")));
        assert_eq!(
            patch("name.givenName"),
            PatchPath::Attr(sub("name", "givenName"))
        );
        assert_eq!(
            patch(&format!("{ENTERPRISE}:manager")),
            PatchPath::Attr(urn(ENTERPRISE, "manager", None))
        );
        assert_eq!(
            patch(&format!("{ENTERPRISE}:manager.value")),
            PatchPath::Attr(urn(ENTERPRISE, "manager", Some("value")))
        );
        assert_eq!(
            patch(r#"members[value eq "2819c223"]"#),
            PatchPath::ValuePath {
                attr: attr("members"),
                filter: eq(attr("value"), "2819c223"),
                sub_attr: None,
            }
        );
        assert_eq!(
            patch(r#"emails[type eq "work"].value"#),
            PatchPath::ValuePath {
                attr: attr("emails"),
                filter: eq(attr("type"), "work"),
                sub_attr: Some("value".into()),
            }
        );
        assert_eq!(
            patch(r#"addresses[type eq "work"].streetAddress"#),
            PatchPath::ValuePath {
                attr: attr("addresses"),
                filter: eq(attr("type"), "work"),
                sub_attr: Some("streetAddress".into()),
            }
        );
        assert_eq!(
            patch(r#"members[not(value eq "x")]"#).to_string(),
            r#"members[not (value eq "x")]"#
        );
    }

    #[test]
    fn patch_path_errors() {
        assert_eq!(path_detail("  "), "invalid path: empty");
        assert_eq!(
            path_detail(r#"emails[type eq "work"].value eq "x""#),
            "invalid path: unexpected 'eq' at position 29 (expected end of input)"
        );
        assert_eq!(
            path_detail(r#"emails[type eq "work""#),
            "invalid path: missing ']' to close '[' at position 6"
        );
        assert_eq!(
            path_detail(r#"emails[type eq "work"] value"#),
            "invalid path: unexpected 'value' at position 23 (expected one of: '.', end of input)"
        );
    }

    // --- attribute paths for sortBy / attributes ----------------------------

    #[test]
    fn attr_paths() {
        let parsed = |s: &str| parse_attr_path(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(parsed("userName"), attr("userName"));
        assert_eq!(parsed(" name.givenName "), sub("name", "givenName"));
        assert_eq!(
            parsed(&format!("{ENTERPRISE}:manager.value")),
            urn(ENTERPRISE, "manager", Some("value"))
        );
        assert_eq!(parsed(r#"emails[type eq "work"]"#), attr("emails"));
        assert_eq!(
            parsed(r#"emails[type eq "work"].value"#),
            sub("emails", "value")
        );
        assert_eq!(
            parse_attr_path(r#"name.x[type eq "work"].value"#)
                .unwrap_err()
                .detail,
            "invalid attribute path: 'name.x' already names a sub-attribute, \
             so '.value' cannot follow its filter"
        );
        assert_eq!(
            parse_attr_path(r#"userName eq "x""#).unwrap_err().detail,
            "invalid attribute path: unexpected 'eq' at position 9 (expected one of: '[', end of input)"
        );
        assert_eq!(
            parse_attr_path("").unwrap_err().detail,
            "invalid attribute path: empty"
        );
    }

    // --- filter errors ----------------------------------------------------

    #[test]
    fn unknown_operator() {
        assert_eq!(
            detail(r#"userName eqq "bjensen""#),
            "invalid filter: unknown operator 'eqq' at position 9 \
             (expected one of: eq, ne, co, sw, ew, gt, lt, ge, le, pr)"
        );
    }

    #[test]
    fn missing_value() {
        let expected = "invalid filter: missing value after 'eq' at position 11 \
                        (expected a double-quoted string, a number, true, false or null)";
        assert_eq!(detail("userName eq"), expected);
        assert_eq!(detail("userName eq   "), expected);
        assert_eq!(
            detail("(userName eq )"),
            "invalid filter: missing value at position 13 \
             (expected a double-quoted string, a number, true, false or null)"
        );
        assert_eq!(
            detail(r#"userName eq"x""#),
            "invalid filter: 'eq' at position 9 must be followed by a space"
        );
    }

    #[test]
    fn unterminated_string() {
        assert_eq!(
            detail(r#"userName eq "bjensen"#),
            "invalid filter: unterminated string starting at position 12"
        );
        assert_eq!(
            detail(r#"userName eq "a\"b"#),
            "invalid filter: unterminated string starting at position 12"
        );
    }

    #[test]
    fn unbalanced_parentheses() {
        assert_eq!(
            detail(r#"(userName eq "x" or a pr"#),
            "invalid filter: missing ')' to close '(' at position 0"
        );
        assert_eq!(
            detail(r#"userName eq "x")"#),
            "invalid filter: unmatched ')' at position 15"
        );
    }

    #[test]
    fn unbalanced_brackets() {
        assert_eq!(
            detail(r#"emails[type eq "work""#),
            "invalid filter: missing ']' to close '[' at position 6"
        );
        assert_eq!(
            detail(r#"emails[type eq "work"]]"#),
            "invalid filter: unmatched ']' at position 22"
        );
    }

    #[test]
    fn trailing_garbage() {
        assert_eq!(
            detail(r#"userName eq "x" garbage"#),
            "invalid filter: unexpected 'garbage' at position 16 \
             (expected one of: and, or, end of input)"
        );
        assert_eq!(
            detail(r#"userName eq "x" & b"#),
            "invalid filter: unexpected character '&' at position 16"
        );
    }

    #[test]
    fn empty() {
        assert_eq!(detail(""), "invalid filter: empty");
        assert_eq!(detail(" \t\n "), "invalid filter: empty");
    }

    #[test]
    fn logical_operator_with_one_side() {
        assert_eq!(
            detail(r#"userName eq "x" and"#),
            "invalid filter: 'and' at position 16 has no right-hand operand"
        );
        assert_eq!(
            detail(r#"and userName eq "x""#),
            "invalid filter: 'and' at position 0 has no left-hand operand"
        );
        assert_eq!(
            detail("(a pr OR )"),
            "invalid filter: 'OR' at position 6 has no right-hand operand"
        );
        assert_eq!(
            detail("( and b pr)"),
            "invalid filter: 'and' at position 2 has no left-hand operand"
        );
    }

    #[test]
    fn bare_word_value() {
        assert_eq!(
            detail("userName eq bjensen"),
            "invalid filter: unquoted value 'bjensen' at position 12 \
             (expected a double-quoted string, a number, true, false or null)"
        );
        assert_eq!(
            detail("active eq True"),
            "invalid filter: unquoted value 'True' at position 10 \
             (expected a double-quoted string, a number, true, false or null)"
        );
    }

    #[test]
    fn unquoted_guid_values_are_read_as_strings() {
        // Microsoft Entra's manager check sends GUIDs without quotes.
        let uid = "2819c223-7f76-453a-919d-413861904646";
        let mid = "7D42AF1E-0C3B-4E1A-9B7E-1F2E3D4C5B6A";
        assert_eq!(
            parse(&format!("id eq {uid} and manager eq {mid}")),
            Filter::And(vec![eq(attr("id"), uid), eq(attr("manager"), mid)])
        );
        assert_eq!(
            parse(&format!("(members.value EQ {uid})")),
            eq(sub("members", "value"), uid)
        );
        assert_eq!(
            parse(&format!("members[value eq {uid}]")),
            Filter::ValuePath {
                attr: attr("members"),
                filter: Box::new(eq(attr("value"), uid)),
            }
        );
        // Quoted GUIDs and GUIDs inside strings are left alone.
        assert_eq!(parse(&format!(r#"id eq "{uid}""#)), eq(attr("id"), uid));
        assert_eq!(
            parse(&format!(r#"title eq "x {uid}""#)),
            eq(attr("title"), &format!("x {uid}"))
        );
    }

    #[test]
    fn other_unquoted_values_are_still_rejected() {
        // Only the exact GUID shape is read as a string; near misses stay errors.
        assert_eq!(
            detail("id eq 2819c223-7f76-453a-919d-41386190464"),
            "invalid filter: unquoted value '2819c223-7f76-453a-919d-41386190…' at position 6 \
             (expected a double-quoted string, a number, true, false or null) \
             near 'id eq 2819c223-7f76-45…'"
        );
        assert!(parse_filter("id eq 2819c223-7f76-453a-919d-413861904646x").is_err());
        assert!(parse_filter("id eq c223-7f76-453a-919d-413861904646").is_err());
        // Not after an operator: a GUID cannot be an attribute name.
        assert!(parse_filter("2819c223-7f76-453a-919d-413861904646 pr").is_err());
    }

    #[test]
    fn invalid_escape_and_attr_names() {
        assert_eq!(
            detail(r#"a eq "ok" or userName eq "a\qb""#),
            "invalid filter: invalid string at position 25 (invalid escape)"
        );
        assert_eq!(
            detail(r#"name.familyName.x eq "a""#),
            "invalid filter: attribute path 'name.familyName.x' has more than one sub-attribute"
        );
        assert_eq!(
            detail("name. pr"),
            "invalid filter: 'name.' is not a valid attribute path (each name must start \
             with a letter, followed by letters, digits, '-' or '_')"
        );
    }

    #[test]
    fn odd_inputs_around_the_rewrites() {
        assert_eq!(
            detail(r#"a eq "x\"y" or b eq "\q""#),
            "invalid filter: invalid string at position 20 (invalid escape)"
        );
        assert_eq!(
            detail(r#"emails[].value eq "x""#),
            "invalid filter: unexpected ']' at position 7 \
             (expected one of: attribute name, not, '(')"
        );
        assert_eq!(
            detail(r#"emails[type eq "work"].value eq "abc"#),
            "invalid filter: unterminated string starting at position 32"
        );
        assert_eq!(
            detail(r#"a eq "x" OR(b pr)"#),
            "invalid filter: 'OR' at position 9 must be followed by a space"
        );
    }

    #[test]
    fn positions_are_characters_of_the_original_input() {
        // Leading blanks and a multi-byte character before the error both count
        // as one position each.
        assert_eq!(
            detail(r#"  a eq "é" or b eqq "x""#),
            "invalid filter: unknown operator 'eqq' at position 16 \
             (expected one of: eq, ne, co, sw, ew, gt, lt, ge, le, pr)"
        );
        assert_eq!(
            detail("é eq 1"),
            "invalid filter: unexpected character 'é' at position 0"
        );
    }

    #[test]
    fn long_inputs_get_an_excerpt() {
        assert_eq!(
            detail(r#"emails[type eq "work" and value co "@example.com"] and userName eqq "b""#),
            "invalid filter: unknown operator 'eqq' at position 64 \
             (expected one of: eq, ne, co, sw, ew, gt, lt, ge, le, pr) \
             near '…\"] and userName eqq \"b\"'"
        );
    }

    #[test]
    fn expected_tokens_are_readable() {
        assert_eq!(
            detail("not a pr"),
            "invalid filter: unexpected 'a' at position 4 (expected '(')"
        );
        assert_eq!(
            path_detail("emails["),
            "invalid path: unexpected end of input at position 7 \
             (expected one of: attribute name, not, '(')"
        );
        let raw: Vec<String> = ["\"or\"", "AttrPathTok", "AttrNameTok", "\"]\"", "StringLit"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            Expected::new(&raw).to_string(),
            "expected one of: attribute name, string, or, ']'"
        );
    }
}
