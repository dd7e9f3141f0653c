//! Error translation: `scim_v2` reports byte offsets into the rewritten
//! text and lalrpop's token names; this turns them into the messages the
//! `filter` module docs promise, with character positions in the caller's
//! input and what the user most likely meant.

use scim_v2::filter as scim;

use super::expected::{END_OF_INPUT, Expected};
use super::leniency::{
    COMPARE_OPS, Prepared, is_compare_op, is_logical, is_name_char, is_word, literal_mask,
    literal_spans,
};
use super::{FilterError, Grammar};

/// Inputs at most this long are short enough to read whole in the error.
const EXCERPT_MIN_INPUT_CHARS: usize = 40;
const EXCERPT_RADIUS: usize = 16;
const SNIPPET_MAX_CHARS: usize = 32;

const VALUE_HINT: &str = "expected a double-quoted string, a number, true, false or null";

/// A message and the character position it is about, if any.
type Finding = (String, Option<usize>);

impl Prepared<'_> {
    pub(super) fn fail(&self, err: scim::ParseError) -> FilterError {
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

/// A token or path for quoting in a message: bounded, control characters
/// made visible so a detail cannot break a log line.
pub(super) fn snippet(s: &str) -> String {
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
