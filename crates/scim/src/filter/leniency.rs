//! Input preparation: the size limit, then the rewrites that let
//! `scim_v2`'s grammar read what the `filter` module docs list under
//! "Accepted beyond `scim_v2`". Each rewrite works on tagged characters, so
//! that every character handed to the grammar still knows where it came
//! from in the caller's input.

use std::ops::Range;

use super::{FilterError, Grammar, MAX_INPUT_BYTES};

pub(super) const COMPARE_OPS: [&str; 9] = ["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"];

/// A character of the text handed to `scim_v2`, with the byte offset in the
/// caller's input it came from (inserted characters take the offset of the
/// character they were inserted before), so that errors can point into what
/// the caller actually sent.
type Tagged = Vec<(char, usize)>;

pub(super) struct Prepared<'a> {
    pub(super) input: &'a str,
    pub(super) grammar: Grammar,
    /// What `scim_v2` parses; it has no leading or trailing whitespace, so
    /// `scim_v2`'s own trim does not shift its error locations.
    pub(super) text: String,
    /// Caller's byte offset for each byte of `text`, plus one for its end.
    origin: Vec<usize>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(input: &'a str, grammar: Grammar) -> Result<Self, FilterError> {
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
    pub(super) fn position(&self, byte: usize) -> usize {
        let end = self.input.trim_end().len();
        let at = self.origin.get(byte).copied().unwrap_or(end);
        self.input
            .char_indices()
            .take_while(|&(i, _)| i < at)
            .count()
    }

    pub(super) fn slice(&self, from: usize, to: usize) -> &str {
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
pub(super) fn literal_spans(chars: &[char]) -> Vec<Range<usize>> {
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
pub(super) fn literal_mask(chars: &[char]) -> Vec<bool> {
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
/// `filter` module docs. The quotes take the caller's offsets of the GUID's
/// first character and of whatever follows it, so positions stay honest.
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
/// `attr[(F) and sub OP value]`; see the `filter` module docs. Anything
/// that does not fully match that shape is left for the parser to reject.
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

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

pub(super) fn is_compare_op(word: &str) -> bool {
    COMPARE_OPS.iter().any(|op| op.eq_ignore_ascii_case(word))
}

pub(super) fn is_logical(word: &str) -> bool {
    word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or")
}

/// Shape of the lexer's attribute tokens, which is also what a bare
/// (unquoted) word in value position looks like.
pub(super) fn is_word(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| is_name_char(c) || c == '.' || c == ':')
}
