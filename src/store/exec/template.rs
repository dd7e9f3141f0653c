//! Statements whose SQL does not depend on the keys they look up, built
//! once per backend and number of keys.
//!
//! Building a statement through sea-query (the expression tree, then the
//! SQL text) took a share of a `GET /Users/{id}`'s CPU close to that of
//! SQLite running the lookup. A key lookup's SQL is the same for every key, so a `Template` builds it
//! with stand-in keys, notes where each key's value is bound, and later
//! binds the real keys into a copy of that SQL.
//!
//! A builder whose SQL turned out to depend on the keys' values (a key
//! written into the SQL, a branch on a key) would be built with the real
//! keys every time: the shape is only kept when two different sets of
//! stand-ins give the same SQL and bind each key in the same places.

use std::sync::{Arc, RwLock};

use sea_orm::sea_query::{Value, Values};
use sea_orm::{DbBackend, Statement};
use uuid::Uuid;

/// Builds the statement for the given keys.
pub type Build = fn(&[Uuid], DbBackend) -> Statement;

pub struct Template {
    build: Build,
    shapes: RwLock<Vec<Known>>,
}

/// The shape for a backend and a number of keys; `None` where the SQL
/// depends on the keys.
type Known = (DbBackend, usize, Option<Arc<Shape>>);

#[derive(Debug, PartialEq)]
struct Shape {
    sql: String,
    slots: Vec<Slot>,
}

#[derive(Debug, PartialEq)]
enum Slot {
    /// The value of the key at this index.
    Key(usize),
    /// A value that is the same whatever the keys.
    Fixed(Value),
}

impl Template {
    pub const fn new(build: Build) -> Self {
        Self {
            build,
            shapes: RwLock::new(Vec::new()),
        }
    }

    /// The statement `build` gives for `keys`.
    pub fn statement(&self, backend: DbBackend, keys: &[Uuid]) -> Statement {
        match self.shape(backend, keys.len()) {
            Some(shape) => shape.bind(backend, keys),
            None => (self.build)(keys, backend),
        }
    }

    fn shape(&self, backend: DbBackend, arity: usize) -> Option<Arc<Shape>> {
        let find = |shapes: &[Known]| {
            shapes
                .iter()
                .find(|(b, n, _)| *b == backend && *n == arity)
                .map(|(_, _, shape)| shape.clone())
        };
        // A poisoned lock only means another thread panicked while adding
        // a shape; the list itself is always whole.
        let known = find(&self.shapes.read().unwrap_or_else(|e| e.into_inner()));
        if let Some(shape) = known {
            return shape;
        }
        let shape = Shape::of(self.build, backend, arity).map(Arc::new);
        let mut shapes = self.shapes.write().unwrap_or_else(|e| e.into_inner());
        if find(&shapes).is_none() {
            shapes.push((backend, arity, shape.clone()));
        }
        shape
    }
}

impl Shape {
    fn of(build: Build, backend: DbBackend, arity: usize) -> Option<Self> {
        let (a, b) = (stand_ins(arity, 0), stand_ins(arity, 1));
        let (built_a, built_b) = (build(&a, backend), build(&b, backend));
        let shape = Self::compare(built_a, built_b, &a, &b);
        if shape.is_none() {
            log::warn!("a statement template depends on its keys; it is built every time");
        }
        shape
    }

    fn compare(built_a: Statement, built_b: Statement, a: &[Uuid], b: &[Uuid]) -> Option<Self> {
        let values = |s: Statement| s.values.map(|v| v.0).unwrap_or_default();
        let sql = built_a.sql.clone();
        if sql != built_b.sql {
            return None;
        }
        let (values_a, values_b) = (values(built_a), values(built_b));
        if values_a.len() != values_b.len() {
            return None;
        }
        let slots = values_a
            .into_iter()
            .zip(values_b)
            .map(|(va, vb)| {
                let key_a = a.iter().position(|k| Value::from(*k) == va);
                let key_b = b.iter().position(|k| Value::from(*k) == vb);
                match (key_a, key_b) {
                    (Some(i), Some(j)) if i == j => Some(Slot::Key(i)),
                    (None, None) if va == vb => Some(Slot::Fixed(va)),
                    _ => None,
                }
            })
            .collect::<Option<Vec<Slot>>>()?;
        let every_key_bound = (0..a.len()).all(|i| slots.contains(&Slot::Key(i)));
        every_key_bound.then_some(Self { sql, slots })
    }

    fn bind(&self, backend: DbBackend, keys: &[Uuid]) -> Statement {
        let values = self.slots.iter().map(|slot| match slot {
            Slot::Key(i) => Value::from(keys[*i]),
            Slot::Fixed(v) => v.clone(),
        });
        Statement::from_sql_and_values(backend, self.sql.clone(), Values(values.collect()))
    }
}

/// Keys no real row has, different for each `set`.
fn stand_ins(arity: usize, set: u128) -> Vec<Uuid> {
    const BASE: u128 = 0x726f_7374_6572_4000_8000_0000_0000_0000;
    (0..arity as u128)
        .map(|i| Uuid::from_u128(BASE + (set << 32) + i))
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    use super::*;

    fn by_two_keys(keys: &[Uuid], backend: DbBackend) -> Statement {
        let select = Query::select()
            .column(Alias::new("doc"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("tenant")).eq(keys[0]))
            .and_where(Expr::col(Alias::new("kind")).eq("user"))
            .and_where(Expr::col(Alias::new("id")).is_in(keys[1..].iter().copied()))
            .to_owned();
        backend.build(&select)
    }

    fn keys(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::new_v4()).collect()
    }

    #[test]
    fn a_template_gives_the_statement_its_builder_gives() {
        static T: Template = Template::new(by_two_keys);
        for backend in [DbBackend::Sqlite, DbBackend::MySql] {
            for n in [2, 3, 2, 5] {
                let keys = keys(n);
                let built = by_two_keys(&keys, backend);
                let from_template = T.statement(backend, &keys);
                assert_eq!(from_template.sql, built.sql);
                assert_eq!(from_template.values, built.values);
                assert_eq!(from_template.db_backend, backend);
            }
        }
        let shapes = T.shapes.read().expect("lock").len();
        assert_eq!(shapes, 6, "one shape per backend and number of keys");
    }

    #[test]
    fn sql_that_writes_a_key_out_is_built_every_time() {
        fn written_out(keys: &[Uuid], backend: DbBackend) -> Statement {
            Statement::from_string(
                backend,
                format!("SELECT doc FROM t WHERE id = '{}'", keys[0]),
            )
        }
        static T: Template = Template::new(written_out);
        let keys = keys(1);
        assert_eq!(
            T.statement(DbBackend::Sqlite, &keys).sql,
            written_out(&keys, DbBackend::Sqlite).sql
        );
        assert_eq!(Shape::of(written_out, DbBackend::Sqlite, 1), None);
    }

    #[test]
    fn a_key_the_builder_leaves_out_is_not_templated() {
        // The key only decides between two fixed values: the SQL is the
        // same, the values are not bound from the key.
        fn branching(keys: &[Uuid], backend: DbBackend) -> Statement {
            let kind = if keys[0].as_u128().is_multiple_of(2) {
                "even"
            } else {
                "odd"
            };
            Statement::from_sql_and_values(backend, "SELECT ? AS kind", [Value::from(kind)])
        }
        assert_eq!(Shape::of(branching, DbBackend::Sqlite, 1), None);
        let odd = Uuid::from_u128(3);
        let kind = Template::new(branching).statement(DbBackend::Sqlite, &[odd]);
        assert_eq!(kind.values, Some(Values(vec![Value::from("odd")])));
    }
}
