//! Query parameters of list and search requests (RFC 7644 §3.4.2, RFC 9865)
//! and the ListResponse envelope.

use serde_json::{Map, Value, json};

use super::ScimError;
use super::filter::{AttrPath, Filter, parse_attr_path, parse_filter};
use super::projection::Projection;
use super::resource::ResourceKind;
use super::schema::{LIST_RESPONSE_URN, SEARCH_REQUEST_URN, SchemaRegistry};

#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default_count: u32,
    pub max_count: u32,
}

/// Which paging the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// RFC 7644 §3.4.2.4; 1-based, as SCIM counts.
    Index { start_index: u64 },
    /// RFC 9865: `None` for the first page (`cursor` empty or bare).
    Cursor(Option<String>),
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub paging: Paging,
    pub count: u32,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
}

impl ListParams {
    /// Reads the parameters from decoded query pairs. Unknown parameters are
    /// ignored (Entra appends flags such as `aadOptscim062020`); names match
    /// case-insensitively.
    pub fn from_pairs(pairs: &[(String, String)], limits: PageLimits) -> Result<Self, ScimError> {
        let get = |name: &str| param(pairs, name);
        let filter = match get("filter").map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(parse_filter(f).map_err(|e| ScimError::invalid_filter(e.detail))?),
            None => None,
        };
        let paging = match (get("cursor"), get("startIndex")) {
            (Some(_), Some(_)) => {
                return Err(ScimError::invalid_value(
                    "use either startIndex (index paging) or cursor (cursor paging), not both",
                ));
            }
            (Some(c), None) => {
                Paging::Cursor(Some(c.trim()).filter(|c| !c.is_empty()).map(str::to_owned))
            }
            // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1.
            (None, Some(s)) => Paging::Index {
                start_index: parse_int("startIndex", s)?.max(1) as u64,
            },
            (None, None) => Paging::Index { start_index: 1 },
        };
        let count = match get("count") {
            // RFC 7644: a negative count is read as 0; RFC 9865 wants a
            // positive one with cursors.
            Some(s) => {
                let n = parse_int("count", s)?;
                if n < 1 && matches!(paging, Paging::Cursor(_)) {
                    return Err(ScimError::invalid_count(format!(
                        "count must be between 1 and {} with cursor paging",
                        limits.max_count
                    )));
                }
                n.clamp(0, i64::from(limits.max_count)) as u32
            }
            None => limits.default_count,
        };
        let sort_by = match get("sortBy").map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                parse_attr_path(s)
                    .map_err(|e| ScimError::invalid_value(format!("sortBy: {}", e.detail)))?,
            ),
            None => None,
        };
        let descending = match get("sortOrder").map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be \"ascending\" or \"descending\", got {o:?}"
                )));
            }
        };
        Ok(Self {
            filter,
            paging,
            count,
            sort_by,
            descending,
            attributes: split_list(get("attributes")),
            excluded_attributes: split_list(get("excludedAttributes")),
        })
    }

    /// Reads a SearchRequest body (RFC 7644 §3.4.3, plus RFC 9865's
    /// `cursor`): the same parameters as a query string, as JSON, with the
    /// same meaning and limits.
    pub fn from_search_request(body: &Value, limits: PageLimits) -> Result<Self, ScimError> {
        let Value::Object(fields) = body else {
            return Err(ScimError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        };
        let mut pairs = Vec::new();
        for (key, value) in fields {
            if key.eq_ignore_ascii_case("schemas") {
                check_search_schema(value)?;
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                // attributes / excludedAttributes are lists of names.
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_owned).ok_or_else(|| {
                            ScimError::invalid_syntax(format!("'{key}' must list strings"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                _ => {
                    return Err(ScimError::invalid_syntax(format!(
                        "'{key}' has a value of the wrong type"
                    )));
                }
            };
            pairs.push((key.clone(), text));
        }
        Self::from_pairs(&pairs, limits)
    }

    /// What each resource of the response keeps (see `projection`).
    pub fn projection<'r>(
        &self,
        registry: &'r SchemaRegistry,
        kind: ResourceKind,
    ) -> Result<Projection<'r>, ScimError> {
        Projection::new(registry, kind, &self.attributes, &self.excluded_attributes)
    }
}

fn check_search_schema(value: &Value) -> Result<(), ScimError> {
    let listed = value
        .as_array()
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST_URN)));
    if listed {
        return Ok(());
    }
    Err(ScimError::invalid_syntax(format!(
        "a SearchRequest's schemas must contain \"{SEARCH_REQUEST_URN}\""
    )))
}

/// `attributes` and `excludedAttributes` of a request that is no list
/// (a single resource, or a write), which takes no other list parameter.
pub fn attribute_lists(pairs: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    (
        split_list(param(pairs, "attributes")),
        split_list(param(pairs, "excludedAttributes")),
    )
}

/// A query parameter's value: names match case-insensitively, and the last
/// occurrence wins.
fn param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn parse_int(name: &str, s: &str) -> Result<i64, ScimError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, got {s:?}")))
}

/// Splits `attributes=a,emails[type eq "x,y"],b` on the commas that are
/// not inside brackets or a quoted string.
fn split_list(v: Option<&str>) -> Vec<String> {
    let Some(v) = v else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let mut current = String::new();
    for c in v.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Where a page sits in its result set, as the ListResponse reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// Index paging only.
    pub start_index: Option<u64>,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

impl PageInfo {
    /// The only page of an unpaged list (startIndex 1).
    pub fn first() -> Self {
        Self {
            start_index: Some(1),
            ..Self::default()
        }
    }
}

/// The ListResponse body; counts are JSON numbers, as Okta's tests check.
pub fn list_response(total: u64, page: &PageInfo, resources: Vec<Value>) -> Value {
    let mut body = list_envelope(total, page, resources.len());
    body.insert("Resources".into(), Value::Array(resources));
    Value::Object(body)
}

/// A ListResponse without its `Resources`, for a body written piece by
/// piece.
pub fn list_envelope(total: u64, page: &PageInfo, items: usize) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([LIST_RESPONSE_URN]));
    body.insert("totalResults".into(), json!(total));
    body.insert("itemsPerPage".into(), json!(items));
    if let Some(start) = page.start_index {
        body.insert("startIndex".into(), json!(start));
    }
    if let Some(next) = &page.next_cursor {
        body.insert("nextCursor".into(), json!(next));
    }
    if let Some(previous) = &page.previous_cursor {
        body.insert("previousCursor".into(), json!(previous));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: PageLimits = PageLimits {
        default_count: 100,
        max_count: 1000,
    };

    fn params(q: &[(&str, &str)]) -> Result<ListParams, ScimError> {
        let pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::from_pairs(&pairs, LIMITS)
    }

    #[test]
    fn clamps_paging_per_rfc() {
        let index = |start_index| Paging::Index { start_index };
        let p = params(&[("startIndex", "0"), ("count", "-5")]).unwrap();
        assert_eq!((p.paging, p.count), (index(1), 0));
        let p = params(&[("startindex", "7"), ("COUNT", "5000")]).unwrap();
        assert_eq!((p.paging, p.count), (index(7), 1000));
        let p = params(&[("aadOptscim062020", "")]).unwrap();
        assert_eq!((p.paging, p.count), (index(1), 100));
        assert!(params(&[("count", "ten")]).is_err());
    }

    #[test]
    fn cursor_paging_per_rfc_9865() {
        assert_eq!(
            params(&[("cursor", "")]).unwrap().paging,
            Paging::Cursor(None)
        );
        assert_eq!(
            params(&[("cursor", "abc.def"), ("count", "10")])
                .unwrap()
                .paging,
            Paging::Cursor(Some("abc.def".into()))
        );
        let e = params(&[("cursor", ""), ("count", "0")]).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidCount));
        assert!(params(&[("cursor", ""), ("startIndex", "1")]).is_err());
    }

    #[test]
    fn sorting() {
        let p = params(&[("sortBy", "name.familyName"), ("sortOrder", "Descending")]).unwrap();
        assert_eq!(
            p.sort_by.map(|s| s.to_string()).as_deref(),
            Some("name.familyName")
        );
        assert!(p.descending);
        assert!(!params(&[("sortOrder", "ascending")]).unwrap().descending);
        assert!(params(&[("sortOrder", "up")]).is_err());
        assert!(params(&[("sortBy", "a b")]).is_err());
    }

    #[test]
    fn search_requests_mean_what_query_strings_mean() {
        let body = json!({
            "schemas": [SEARCH_REQUEST_URN],
            "attributes": ["displayName", "emails[type eq \"a,b\"]"],
            "filter": "displayName sw \"smith\"",
            "sortBy": "userName", "sortOrder": "descending",
            "startIndex": 1, "count": 10
        });
        let p = ListParams::from_search_request(&body, LIMITS).unwrap();
        assert_eq!(p.attributes, ["displayName", "emails[type eq \"a,b\"]"]);
        assert!(p.filter.is_some() && p.descending && p.count == 10);
        let cursor = json!({"schemas": [SEARCH_REQUEST_URN], "cursor": "", "count": 5});
        let p = ListParams::from_search_request(&cursor, LIMITS).unwrap();
        assert_eq!(p.paging, Paging::Cursor(None));
        for bad in [
            json!({"schemas": ["urn:wrong"]}),
            json!({"filter": 5.5, "count": true}),
            json!({"attributes": [1]}),
            json!([]),
        ] {
            assert!(
                ListParams::from_search_request(&bad, LIMITS).is_err(),
                "{bad}"
            );
        }
        assert!(ListParams::from_search_request(&json!({"count": "x"}), LIMITS).is_err());
    }

    #[test]
    fn attribute_lists_keep_value_paths_whole() {
        let p = params(&[(
            "attributes",
            r#"userName, emails[type eq "a,b" or value co "]"],name"#,
        )])
        .unwrap();
        assert_eq!(
            p.attributes,
            [
                "userName",
                r#"emails[type eq "a,b" or value co "]"]"#,
                "name"
            ]
        );
    }

    #[test]
    fn filter_errors_are_invalid_filter() {
        let e = params(&[("filter", "userName eq")]).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidFilter));
        assert!(params(&[("filter", "  ")]).unwrap().filter.is_none());
    }

    #[test]
    fn projection_decides_what_is_loaded() {
        let reg = SchemaRegistry::rfc().unwrap();
        let includes = |q: &[(&str, &str)]| {
            params(q)
                .unwrap()
                .projection(&reg, ResourceKind::Group)
                .unwrap()
                .includes("members")
        };
        assert!(!includes(&[("excludedAttributes", "members")]));
        assert!(!includes(&[("attributes", "displayName")]));
        assert!(includes(&[("attributes", "displayName,Members")]));
        assert!(includes(&[("attributes", "members.value")]));
        assert!(includes(&[]));
    }
}
