use super::*;

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
        parse(r#"not (a pr) and (emails[type eq "w" or primary eq true] or b pr)"#).term_count(),
        4
    );
}
