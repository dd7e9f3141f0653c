//! Queries over resources: filters compiled to SQL, sorted pages, the
//! columns and JSON paths behind attribute paths, and the SQL that differs
//! per backend.

pub mod filter;
pub mod page;
pub mod resolver;
pub mod sort;
pub mod sql_dialect;
pub mod target;

pub use filter::filter_condition;
pub use resolver::Resolver;
