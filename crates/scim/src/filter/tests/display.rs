use super::*;

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
