//! The SCIM protocol, pure: no I/O, no database, no HTTP.

pub mod bulk;
pub mod cursor;
pub mod encode;
pub mod error;
pub mod etag;
pub mod filter;
pub mod group;
pub mod idp_dialect;
pub mod list;
pub mod normalize;
pub mod patch;
pub mod profile;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod search_doc;
pub mod time;
pub mod user;
pub mod validate;
pub mod value_filter;

pub use error::{ScimError, ScimType};
