//! Query parameters of list and search requests (RFC 7644 §3.4.2) and the
//! ListResponse envelope.

use serde_json::{Value, json};

use super::ScimError;
use super::filter::{Filter, parse_filter};
use super::schema::LIST_RESPONSE_URN;

#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default_count: u32,
    pub max_count: u32,
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub filter: Option<Filter>,
    /// 1-based, as SCIM counts.
    pub start_index: u64,
    pub count: u32,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
}

impl ListParams {
    /// Reads the parameters from decoded query pairs. Unknown parameters are
    /// ignored (Entra appends flags such as `aadOptscim062020`); names match
    /// case-insensitively.
    pub fn from_pairs(pairs: &[(String, String)], limits: PageLimits) -> Result<Self, ScimError> {
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let filter = match get("filter").map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(parse_filter(f).map_err(|e| ScimError::invalid_filter(e.detail))?),
            None => None,
        };
        // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1, a negative count as 0.
        let start_index = match get("startIndex") {
            Some(s) => parse_int("startIndex", s)?.max(1) as u64,
            None => 1,
        };
        let count = match get("count") {
            Some(s) => parse_int("count", s)?.clamp(0, i64::from(limits.max_count)) as u32,
            None => limits.default_count,
        };
        Ok(Self {
            filter,
            start_index,
            count,
            attributes: split_list(get("attributes")),
            excluded_attributes: split_list(get("excludedAttributes")),
        })
    }

    /// Whether the response must contain the named attribute at all, so
    /// that expensive attributes (a group's members) are not even loaded.
    pub fn wants(&self, attribute: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case(attribute));
        if !self.attributes.is_empty() {
            return named(&self.attributes);
        }
        !named(&self.excluded_attributes)
    }
}

fn parse_int(name: &str, s: &str) -> Result<i64, ScimError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, got {s:?}")))
}

fn split_list(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The ListResponse body; counts are JSON numbers, as Okta's tests check.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = params(&[("startIndex", "0"), ("count", "-5")]).unwrap();
        assert_eq!((p.start_index, p.count), (1, 0));
        let p = params(&[("startindex", "7"), ("COUNT", "5000")]).unwrap();
        assert_eq!((p.start_index, p.count), (7, 1000));
        let p = params(&[("aadOptscim062020", "")]).unwrap();
        assert_eq!((p.start_index, p.count), (1, 100));
        assert!(params(&[("count", "ten")]).is_err());
    }

    #[test]
    fn filter_errors_are_invalid_filter() {
        let e = params(&[("filter", "userName eq")]).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::scim::ScimType::InvalidFilter));
        assert!(params(&[("filter", "  ")]).unwrap().filter.is_none());
    }

    #[test]
    fn projection_decides_what_is_loaded() {
        assert!(
            !params(&[("excludedAttributes", "members")])
                .unwrap()
                .wants("members")
        );
        assert!(
            !params(&[("attributes", "displayName")])
                .unwrap()
                .wants("members")
        );
        assert!(
            params(&[("attributes", "displayName,Members")])
                .unwrap()
                .wants("members")
        );
        assert!(params(&[]).unwrap().wants("members"));
    }
}
