//! Queries over resources: filters compiled to SQL, the columns and JSON
//! paths behind attribute paths, and the SQL that differs per backend.

pub mod dialect;
pub mod filter;
pub mod page;
pub mod target;

pub use filter::filter_condition;
pub use target::Resolver;
