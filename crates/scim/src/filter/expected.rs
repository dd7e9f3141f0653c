//! The tokens lalrpop says it expected, as a parse error shows them.

use std::fmt;

const MAX_EXPECTED_SHOWN: usize = 12;

/// lalrpop's expected-token list, renamed for humans, deduplicated and in a
/// stable order (RFC operator order rather than the grammar's).
#[derive(Default)]
pub(super) struct Expected(pub(super) Vec<String>);

pub(super) const END_OF_INPUT: &str = "end of input";

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
    pub(super) fn new(raw: &[String]) -> Self {
        let mut names: Vec<String> = raw.iter().map(|r| token_name(r)).collect();
        names.sort_by(|a, b| {
            expected_rank(a)
                .cmp(&expected_rank(b))
                .then_with(|| a.cmp(b))
        });
        names.dedup();
        Self(names)
    }

    pub(super) fn has(&self, name: &str) -> bool {
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
