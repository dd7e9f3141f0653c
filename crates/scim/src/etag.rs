//! Versions as weak ETags (RFC 7644 §3.14) and the preconditions clients
//! attach to them.

/// `W/"<version>"`: weak, since equal versions mean semantically equal
/// resources, not byte-identical bodies.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// An `If-Match` / `If-None-Match` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// No header: anything goes.
    #[default]
    None,
    /// `*`: the resource must exist.
    Any,
    /// A list of entity tags; tags that are not ours match nothing.
    OneOf(Vec<i64>),
}

impl Precondition {
    pub fn parse(header: Option<&str>) -> Self {
        let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            return Self::None;
        };
        if header == "*" {
            return Self::Any;
        }
        Self::OneOf(header.split(',').filter_map(parse_tag).collect())
    }

    /// Whether a resource at `version` satisfies the precondition. Weak
    /// comparison (RFC 9110 §8.8.3.2), as our tags are weak.
    pub fn matches(&self, version: i64) -> bool {
        match self {
            Self::None | Self::Any => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

fn parse_tag(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weak_strong_lists_and_star() {
        assert_eq!(Precondition::parse(None), Precondition::None);
        assert_eq!(Precondition::parse(Some("*")), Precondition::Any);
        assert_eq!(
            Precondition::parse(Some(r#"W/"3", "4" ,W/"x""#)),
            Precondition::OneOf(vec![3, 4])
        );
        let p = Precondition::parse(Some(r#"W/"3""#));
        assert!(p.matches(3) && !p.matches(4));
        assert!(!Precondition::parse(Some("garbage")).matches(1));
        assert_eq!(etag(7), "W/\"7\"");
    }
}
