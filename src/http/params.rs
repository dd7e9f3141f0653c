//! Route parameters by name. Under the URL form that names the tenant a
//! route has a `{tenant}` too (the guard's business), so a handler reads
//! its own parameter by name rather than as the route's only one.

use std::fmt;
use std::ops::Deref;

use serde::Deserialize;

/// `{id}`: a resource's or a schema's.
#[derive(Debug, Deserialize)]
pub struct Id {
    id: String,
}

/// `{name}`: a resource type's.
#[derive(Debug, Deserialize)]
pub struct Name {
    name: String,
}

macro_rules! reads_as_string {
    ($ty:ty, $field:ident) => {
        impl Deref for $ty {
            type Target = String;
            fn deref(&self) -> &String {
                &self.$field
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.$field)
            }
        }
    };
}

reads_as_string!(Id, id);
reads_as_string!(Name, name);
