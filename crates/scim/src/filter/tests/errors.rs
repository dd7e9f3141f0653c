use super::*;
use crate::filter::expected::Expected;

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
