//! Named sets of dialect rules, one per kind of client a tenant serves.
//!
//! - `okta` (the default): every leniency, plus what Okta's SPEC suite
//!   expects back (`"members": []`) and Entra's unique group names, so
//!   that one tenant serves either identity provider.
//! - `entra`: the same leniencies, members left out when there are none.
//! - `strict`: RFC 7643/7644 as written plus the SCIM interoperability
//!   profile (draft-zollner-scim-interop-profile): every PATCH operation
//!   names a path, unknown attributes are 400, group names may repeat,
//!   members carry `display` only on request, DELETE deletes (as in every
//!   profile), and ServiceProviderConfig's `documentationUri` names the
//!   interoperability profile.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::idp_dialect::{Dialect, Overrides};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Okta,
    Entra,
    Strict,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Okta, Profile::Entra, Profile::Strict];

    pub const fn name(self) -> &'static str {
        match self {
            Profile::Okta => "okta",
            Profile::Entra => "entra",
            Profile::Strict => "strict",
        }
    }

    /// The profile's rules, before any override.
    pub const fn base(self) -> Dialect {
        match self {
            Profile::Okta => Dialect::lenient(),
            Profile::Entra => Dialect {
                empty_members: false,
                ..Dialect::lenient()
            },
            Profile::Strict => Dialect {
                pathless_patch: false,
                keep_unknown_extensions: false,
                ..Dialect::strict()
            },
        }
    }

    /// The rules in force: the profile's, with `overrides` applied.
    pub fn dialect(self, overrides: &Overrides) -> Dialect {
        self.base().with(overrides)
    }
}

/// The rules in force as (name, value) pairs, the profile first (`on` /
/// `off` for each rule), for status pages and `tenant show`.
pub fn rules_in_force(profile: Profile, dialect: &Dialect) -> Vec<(&'static str, String)> {
    let rules = dialect.rules();
    let mut out = Vec::with_capacity(rules.len() + 1);
    out.push(("profile", profile.name().to_owned()));
    out.extend(
        rules
            .into_iter()
            .map(|(name, on)| (name, if on { "on" } else { "off" }.to_owned())),
    );
    out
}

/// Where the `strict` profile's rules are written down, for
/// ServiceProviderConfig's `documentationUri`: RFC 7643 §5 has no field for
/// a profile, and clients (scim2-tester among them) refuse unknown ones.
pub const INTEROP_PROFILE_URI: &str =
    "https://datatracker.ietf.org/doc/draft-zollner-scim-interop-profile/";

/// ServiceProviderConfig's `documentationUri` under `profile`, when the
/// profile has one to name.
pub fn documentation_uri(profile: Profile) -> Option<&'static str> {
    (profile == Profile::Strict).then_some(INTEROP_PROFILE_URI)
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name no profile has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}: expected okta, entra or strict")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.to_string().parse::<Profile>(), Ok(p));
        }
        assert_eq!(" Entra ".parse::<Profile>(), Ok(Profile::Entra));
        assert!("lenient".parse::<Profile>().is_err());
    }

    #[test]
    fn okta_is_todays_default_and_overrides_apply() {
        assert_eq!(Profile::default().base(), Dialect::default());
        let off = Overrides {
            unique_group_names: Some(false),
            ..Overrides::default()
        };
        let d = Profile::Entra.dialect(&off);
        assert!(!d.unique_group_names && d.string_booleans && !d.empty_members);
        assert_eq!(
            Profile::Strict.dialect(&Overrides::default()),
            Profile::Strict.base()
        );
    }

    #[test]
    fn strict_takes_every_leniency_away() {
        let d = Profile::Strict.base();
        let on: Vec<_> = d.rules().into_iter().filter(|(_, on)| *on).collect();
        assert_eq!(on, vec![("enforce_canonical_values", true)]);
        let listed = rules_in_force(Profile::Strict, &d);
        assert_eq!(listed[0], ("profile", "strict".to_owned()));
        assert!(listed.contains(&("pathless_patch", "off".to_owned())));
    }
}
