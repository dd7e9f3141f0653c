//! The filters and paths identity providers send most, read without the
//! grammar: `userName eq "…"`, `externalId eq "…"`, `displayName eq "…"`,
//! plain attribute names in `attributes=` and `excludedAttributes=`, and
//! the PATCH paths with one test in brackets that Entra and Okta send
//! for every member they remove (`members[value eq "…"]`) and every
//! multi-valued attribute they replace (`emails[type eq "work"].value`).
//!
//! `scim_v2`'s generated lexer starts every parse with an empty lazy DFA
//! (`lalrpop-util` builds a fresh cache per input), so even a one-term
//! filter pays for determinizing the token automaton again, a visible share
//! of the CPU of a `userName eq` lookup. Only input in exactly the forms
//! below is read here; anything else, including every error, goes to the
//! grammar. The tests compare both readings on the same inputs.

use super::{AttrPath, CompValue, CompareOp, Filter, PatchPath};

/// `name op "string"`, `name op true|false|null`, `name pr`, with one
/// space between the parts, or `name.sub` in place of `name`.
pub(super) fn filter(input: &str) -> Option<Filter> {
    if input.len() > super::MAX_INPUT_BYTES {
        return None; // refused by the grammar's caller, with its own error
    }
    let (path, rest) = input.split_once(' ')?;
    let path = attr_path(path)?;
    if rest.eq_ignore_ascii_case("pr") {
        return Some(Filter::Present(path));
    }
    let (op, value) = rest.split_once(' ')?;
    Some(Filter::Compare {
        path,
        op: compare_op(op)?,
        value: comp_value(value)?,
    })
}

/// `name` or `name.sub`, each an ATTRNAME (RFC 7644 §3.4.2.2).
pub(super) fn attr_path(input: &str) -> Option<AttrPath> {
    if input.len() > super::MAX_INPUT_BYTES {
        return None;
    }
    let (name, sub_attr) = match input.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (input, None),
    };
    if !is_attr_name(name) || is_keyword(name) || !sub_attr.is_none_or(is_attr_name) {
        return None;
    }
    Some(AttrPath {
        uri: None,
        name: name.to_owned(),
        sub_attr: sub_attr.map(str::to_owned),
    })
}

/// `name[test]` or `name[test].sub`, where `test` is a one-term filter
/// on a plain sub-attribute name, as `filter` reads it.
pub(super) fn value_path(input: &str) -> Option<PatchPath> {
    if input.len() > super::MAX_INPUT_BYTES {
        return None;
    }
    let (name, rest) = input.split_once('[')?;
    let close = rest.rfind(']')?;
    let (test, after) = (&rest[..close], &rest[close + 1..]);
    let sub_attr = match after {
        "" => None,
        _ => Some(after.strip_prefix('.').filter(|sub| is_attr_name(sub))?),
    };
    let attr = attr_path(name).filter(|attr| attr.sub_attr.is_none())?;
    let filter = filter(test)?;
    let plain = match &filter {
        Filter::Compare { path, .. } | Filter::Present(path) => path.sub_attr.is_none(),
        _ => false,
    };
    plain.then(|| PatchPath::ValuePath {
        attr,
        filter,
        sub_attr: sub_attr.map(str::to_owned),
    })
}

fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Words the grammar's lexer takes for its own tokens at the start of an
/// input, so that it refuses them as attribute names there.
fn is_keyword(name: &str) -> bool {
    name.eq_ignore_ascii_case("not") || ["true", "false", "null"].contains(&name)
}

fn compare_op(op: &str) -> Option<CompareOp> {
    use CompareOp::*;
    let op: [u8; 2] = op.as_bytes().try_into().ok()?;
    Some(match op.to_ascii_lowercase().as_slice() {
        b"eq" => Eq,
        b"ne" => Ne,
        b"co" => Co,
        b"sw" => Sw,
        b"ew" => Ew,
        b"gt" => Gt,
        b"lt" => Lt,
        b"ge" => Ge,
        b"le" => Le,
        _ => return None,
    })
}

/// A string without escapes, or a JSON literal. Numbers, escapes and
/// bare words are left to the grammar.
fn comp_value(value: &str) -> Option<CompValue> {
    match value {
        "true" => Some(CompValue::Bool(true)),
        "false" => Some(CompValue::Bool(false)),
        "null" => Some(CompValue::Null),
        _ => {
            let inner = value.strip_prefix('"')?.strip_suffix('"')?;
            let plain = !inner.contains(['"', '\\']) && !inner.contains(char::is_control);
            plain.then(|| CompValue::Str(inner.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{
        PatchPath, attr_path_by_grammar, filter_by_grammar, parse_patch_path, patch_path_by_grammar,
    };

    fn by_grammar(input: &str) -> Option<Filter> {
        filter_by_grammar(input).ok()
    }

    #[test]
    fn what_is_read_here_reads_as_the_grammar_reads_it() {
        let read_here = [
            r#"userName eq "bjensen@example.com""#,
            r#"externalId EQ "00u1abc""#,
            r#"displayName Eq "Sales [EMEA] (all) and or not""#,
            r#"name.familyName sw "O'Malley""#,
            r#"title co "ünïcødé ✓""#,
            r#"userName eq """#,
            r#"x-y_z1 ne "a b  c""#,
            "active eq true",
            "active ne false",
            "nickName eq null",
            "title pr",
            "title PR",
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"userName le "z""#,
            r#"userName ge "a""#,
            r#"userName lt "m""#,
            r#"userName ew "@example.com""#,
        ];
        for input in read_here {
            let here = filter(input).unwrap_or_else(|| panic!("not read here: {input}"));
            assert_eq!(Some(here), by_grammar(input), "{input}");
        }
    }

    #[test]
    fn everything_else_is_left_to_the_grammar() {
        let left = [
            r#"userName  eq "two spaces""#,
            r#" userName eq "leading space""#,
            r#"userName eq "trailing space" "#,
            r#"userName eq "esc\"aped""#,
            r#"userName eq "back\\slash""#,
            "userName eq \"tab\there\"",
            r#"userName eq "a" and active eq true"#,
            r#"emails[type eq "work"]"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
            r#"name.a.b eq "x""#,
            r#"1abc eq "x""#,
            r#"userName xx "x""#,
            "userName eq True",
            "userName eq 42",
            "id eq 2819c223-7f76-453a-919d-413861904646",
            r#"userName eq "unterminated"#,
            r#"userName eq "x" junk"#,
            &format!(
                r#"userName eq "{}""#,
                "x".repeat(super::super::MAX_INPUT_BYTES)
            ),
            "userName pr extra",
            "not (title pr)",
            "",
        ];
        for input in left {
            assert_eq!(filter(input), None, "{input}");
        }
    }

    /// The grammar's lexer takes some words for tokens: what is read here
    /// must agree with it (or be left to it).
    #[test]
    fn keyword_like_names_read_as_the_grammar_reads_them() {
        let names = [
            "not", "NOT", "Not", "true", "false", "null", "and", "or", "pr", "eq", "notx",
        ];
        for name in names {
            for input in [
                format!(r#"{name} eq "x""#),
                format!("{name} pr"),
                format!(r#"a.{name} eq "x""#),
            ] {
                if let Some(here) = filter(&input) {
                    assert_eq!(Some(here), by_grammar(&input), "{input}");
                }
            }
            if let Some(here) = attr_path(name) {
                assert_eq!(Ok(here.clone()), attr_path_by_grammar(name), "{name}");
                assert_eq!(parse_patch_path(name), patch_path_by_grammar(name));
            }
        }
        assert_eq!(filter(r#"not eq "x""#), None);
        assert!(filter(r#"notx eq "x""#).is_some());
    }

    #[test]
    fn value_paths_read_as_the_grammar_reads_them() {
        let read_here = [
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
            r#"members[value eq "00u1abc"]"#,
            r#"emails[type eq "work"].value"#,
            r#"emails[type eq "work"].primary"#,
            r#"emails[primary eq true]"#,
            r#"addresses[type EQ "work"].streetAddress"#,
            r#"phoneNumbers[type eq "mobile"].value"#,
            r#"emails[display pr]"#,
            r#"members[value eq "a]b"]"#,
            r#"members[value eq "a b [c]"]"#,
            r#"roles[value ne "x"].display"#,
            r#"x-y_1[z eq null]"#,
        ];
        for input in read_here {
            let here = value_path(input).unwrap_or_else(|| panic!("not read here: {input}"));
            assert_eq!(Ok(here.clone()), patch_path_by_grammar(input), "{input}");
            assert_eq!(parse_patch_path(input), Ok(here), "{input}");
        }
        let left = [
            r#"members[value eq "a"] "#,
            r#"members [value eq "a"]"#,
            r#"members[ value eq "a"]"#,
            r#"members[value eq "a" ]"#,
            r#"members[value eq "a"]."#,
            r#"members[value eq "a"].x.y"#,
            r#"members[value eq "a"]x"#,
            r#"members[value eq "a" and display eq "b"]"#,
            r#"members[value.x eq "a"]"#,
            r#"members[not (value eq "a")]"#,
            r#"members[value eq "esc"aped"]"#,
            r#"members[value eq "a"]]"#,
            r#"name.x[value eq "a"]"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq "a"]"#,
            r#"not[value eq "a"]"#,
            r#"members[value eq 42]"#,
            r#"members[value eq "a""#,
            r#"members[]"#,
            "[value pr]",
        ];
        for input in left {
            assert_eq!(value_path(input), None, "{input}");
        }
        // Whatever is left here reads as the grammar reads it (or fails
        // there, with the grammar's own message).
        for input in left {
            assert_eq!(
                parse_patch_path(input),
                patch_path_by_grammar(input),
                "{input}"
            );
        }
    }

    #[test]
    fn plain_paths_read_as_the_grammar_reads_them() {
        for input in ["members", "userName", "name.givenName", "x-y_1.z"] {
            let here = attr_path(input).unwrap_or_else(|| panic!("not read here: {input}"));
            assert_eq!(Ok(here.clone()), attr_path_by_grammar(input), "{input}");
            // The same names as PATCH paths and `attributes=` entries.
            let by_grammar = patch_path_by_grammar(input);
            assert!(matches!(&by_grammar, Ok(PatchPath::Attr(p)) if *p == here));
            assert_eq!(parse_patch_path(input), by_grammar, "{input}");
        }
        let left = [
            "",
            " members",
            "a.b.c",
            "1a",
            "a.",
            ".a",
            "urn:x:y",
            r#"emails[type eq "w"]"#,
        ];
        for input in left {
            assert_eq!(attr_path(input), None, "{input}");
        }
    }
}
