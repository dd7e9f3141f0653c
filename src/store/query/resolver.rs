//! Resolves attribute paths (in filters, `sortBy` and value paths) to
//! where their values live (`target`), for one resource type and backend.

use entity::{group, user};
use sea_orm::DbBackend;
use sea_orm::sea_query::Expr;
use uuid::Uuid;

use super::sort::{Sort, SortKey};
use super::sql_dialect::{self, JsonPath};
use super::target::{Collection, KeyColumn, Origin, Scalar, Target, Ty, Unresolved, search_doc};
use crate::scim::ScimError;
use crate::scim::filter::AttrPath;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::{AttrType, AttributeDef, ResolvedAttr, Returned, SchemaRegistry};

/// Resolves attribute paths of one resource type for one backend.
#[derive(Clone, Copy)]
pub struct Resolver<'a> {
    pub registry: &'a SchemaRegistry,
    pub kind: ResourceKind,
    pub backend: DbBackend,
    /// Side-table subqueries name it, so they can use the tenant-led indexes.
    pub tenant: Uuid,
}

impl<'a> Resolver<'a> {
    /// Resolves a path as written in a filter, `sortBy` or a value path.
    /// `value_default`: a complex attribute without a sub-attribute means
    /// its `value` (comparisons and sorts); presence tests pass `false`.
    pub fn resolve(&self, p: &AttrPath, value_default: bool) -> Result<Target<'a>, Unresolved> {
        let shown = p.to_string();
        let r = self
            .registry
            .resolve(
                self.kind.name(),
                p.uri.as_deref(),
                &p.name,
                p.sub_attr.as_deref(),
            )
            .ok_or_else(|| Unresolved::Unknown(shown.clone()))?;
        let attr = r.attr;
        let mut sub = r.sub;
        if r.leaf().returned == Returned::Never {
            return Err(Unresolved::NotSearchable(format!(
                "'{shown}' is never returned, so it cannot be filtered or sorted on"
            )));
        }
        if value_default && sub.is_none() && attr.attr_type == AttrType::Complex {
            sub = attr.sub_attribute("value");
        }
        let sub_name = sub.map(|s| s.name.as_str());
        if r.is_core_schema
            && let Some(target) = self.projected(attr, sub_name)?
        {
            return Ok(target);
        }
        let path = attr_location(&r, &shown)?;
        if attr.multi_valued {
            return Ok(Target::Many {
                coll: Collection::Json { path, def: attr },
                sub: sub_name.map(str::to_owned),
            });
        }
        let (path, def) = match sub {
            Some(s) => (key(&path, &s.name, &shown)?, s),
            None => (path, attr),
        };
        Ok(Target::Scalar(self.json_scalar(&path, def, shown)))
    }

    /// The collection behind `attr` in a value path `attr[…]`.
    pub fn collection(&self, attr: &AttrPath) -> Result<Collection<'a>, Unresolved> {
        let shown = attr.to_string();
        let brackets = || {
            Unresolved::NotSearchable(format!("'{shown}[…]': brackets need a complex attribute"))
        };
        if attr.sub_attr.is_some() {
            return Err(brackets());
        }
        let r = self
            .registry
            .resolve(self.kind.name(), attr.uri.as_deref(), &attr.name, None)
            .ok_or_else(|| Unresolved::Unknown(shown.clone()))?;
        if r.is_core_schema {
            match self.projected(r.attr, None)? {
                Some(Target::Many { coll, .. }) => return Ok(coll),
                Some(_) => return Err(brackets()),
                None => {}
            }
        }
        if r.attr.attr_type != AttrType::Complex {
            return Err(brackets());
        }
        let path = attr_location(&r, &shown)?;
        Ok(if r.attr.multi_valued {
            Collection::Json { path, def: r.attr }
        } else {
            Collection::Object { path, def: r.attr }
        })
    }

    /// Attributes with a column of their own, or computed by the server.
    fn projected(
        &self,
        attr: &'a AttributeDef,
        sub: Option<&str>,
    ) -> Result<Option<Target<'a>>, Unresolved> {
        use ResourceKind::{Group, User};
        let column = match (self.kind, attr.name.as_str(), sub) {
            (_, "id", None) => Some(KeyColumn::Id),
            (User, "userName", None) => Some(KeyColumn::UserName),
            (_, "externalId", None) => Some(KeyColumn::ExternalId),
            (_, "displayName", None) => Some(KeyColumn::DisplayName),
            (User, "active", None) => Some(KeyColumn::Active),
            (_, "meta", Some("created")) => Some(KeyColumn::Created),
            (_, "meta", Some("lastModified")) => Some(KeyColumn::Modified),
            _ => None,
        };
        if let Some(column) = column {
            let name = match sub {
                Some(s) => format!("{}.{s}", attr.name),
                None => attr.name.clone(),
            };
            return Ok(Some(Target::Scalar(self.column(column, name))));
        }
        let many = |coll| {
            Ok(Some(Target::Many {
                coll,
                sub: sub.map(str::to_owned),
            }))
        };
        match (self.kind, attr.name.as_str(), sub) {
            // Every resource has meta, so presence is a constant.
            (_, "meta", None) => Ok(Some(Target::Scalar(Scalar {
                expr: Expr::val(1),
                ty: Ty::Complex,
                name: "meta".to_owned(),
                origin: Origin::Computed,
            }))),
            (_, "meta", Some("resourceType")) => Ok(Some(Target::Constant {
                value: self.kind.name(),
                def: attr.sub_attribute("resourceType").unwrap_or(attr),
            })),
            (_, "meta", Some(other)) => Err(Unresolved::NotSearchable(format!(
                "'meta.{other}' is computed per response and cannot be filtered or sorted on"
            ))),
            (User, "emails", _) => many(Collection::Emails(attr)),
            (User, "groups", _) => many(Collection::UserGroups),
            (Group, "members", _) => many(Collection::Members),
            _ => Ok(None),
        }
    }

    /// A projected column of the resource table.
    pub fn column(&self, column: KeyColumn, name: String) -> Scalar {
        use KeyColumn as K;
        let (expr, ty) = match self.kind {
            ResourceKind::User => {
                let c = match column {
                    K::Id => user::Column::Id,
                    K::UserName => user::Column::UserNameNorm,
                    K::ExternalId => user::Column::ExternalId,
                    K::DisplayName => user::Column::DisplayNameNorm,
                    K::Active => user::Column::Active,
                    K::Created => user::Column::CreatedAt,
                    K::Modified => user::Column::ModifiedAt,
                };
                (Expr::col((user::Entity, c)), column.ty())
            }
            ResourceKind::Group => {
                let c = match column {
                    K::Id => group::Column::Id,
                    K::ExternalId => group::Column::ExternalId,
                    K::Created => group::Column::CreatedAt,
                    K::Modified => group::Column::ModifiedAt,
                    // Groups have no userName or active; the resolver never
                    // asks, and displayName is the closest meaning.
                    K::DisplayName | K::UserName | K::Active => group::Column::DisplayNameNorm,
                };
                (Expr::col((group::Entity, c)), column.ty())
            }
        };
        Scalar {
            expr,
            ty,
            name,
            origin: Origin::Column(column),
        }
    }

    fn json_scalar(&self, path: &JsonPath, def: &AttributeDef, name: String) -> Scalar {
        let ty = Ty::of(def);
        let expr = if ty == Ty::Complex {
            sql_dialect::json_any_value(search_doc(self.kind), path)
        } else {
            sql_dialect::json_scalar(self.backend, search_doc(self.kind), path, ty.json_type())
        };
        Scalar {
            expr,
            ty,
            name,
            origin: Origin::Json(path.clone()),
        }
    }

    /// The order for `sortBy` (`None`: creation order, the default, which
    /// keeps new resources on the last page).
    pub fn sort(&self, by: Option<&AttrPath>, descending: bool) -> Result<Sort, ScimError> {
        let Some(path) = by else {
            let created = self.column(KeyColumn::Created, "meta.created".to_owned());
            return Ok(Sort {
                key: Some(SortKey {
                    scalar: created,
                    nullable: false,
                    unique: false,
                }),
                descending: false,
            });
        };
        let invalid = |why: String| ScimError::invalid_value(format!("sortBy: {why}"));
        let unresolved = |e: Unresolved| match e {
            Unresolved::Unknown(name) => invalid(format!("unknown attribute '{name}'")),
            Unresolved::NotSearchable(why) => invalid(why),
        };
        let scalar = match self.resolve(path, true).map_err(unresolved)? {
            Target::Scalar(s) => s,
            // Equal for every row: the order is the tiebreak's.
            Target::Constant { .. } => {
                return Ok(Sort {
                    key: None,
                    descending,
                });
            }
            // RFC 7644 §3.4.2.3: by the primary value, else the first; the
            // search document keeps the primary value first.
            Target::Many { coll, sub } => self
                .first_value(&coll, sub.as_deref())
                .map_err(unresolved)?,
        };
        let (nullable, unique) = match &scalar.origin {
            Origin::Column(c) => (c.nullable(self.kind), c.unique(self.kind)),
            Origin::Json(_) => (true, false),
            Origin::Computed => {
                return Err(invalid(format!("'{path}' cannot be sorted on")));
            }
        };
        if scalar.ty == Ty::Complex {
            return Err(invalid(format!(
                "'{path}' is complex: sort by one of its sub-attributes"
            )));
        }
        Ok(Sort {
            key: Some(SortKey {
                scalar,
                nullable,
                unique,
            }),
            descending,
        })
    }

    fn first_value(&self, coll: &Collection<'_>, sub: Option<&str>) -> Result<Scalar, Unresolved> {
        let (path, def) = match coll {
            Collection::Emails(def) => (JsonPath::root().key("emails"), *def),
            Collection::Json { path, def } => (Some(path.clone()), *def),
            Collection::UserGroups | Collection::Members | Collection::Object { .. } => {
                return Err(Unresolved::NotSearchable(
                    "memberships cannot be sorted on".to_owned(),
                ));
            }
        };
        let unsafe_name =
            || Unresolved::NotSearchable(format!("'{}' cannot be sorted on", def.name));
        let first = path.ok_or_else(unsafe_name)?.index(0);
        let (path, leaf) = match sub {
            Some(name) => {
                let sub_def = def
                    .sub_attribute(name)
                    .ok_or_else(|| Unresolved::Unknown(format!("{}.{name}", def.name)))?;
                (first.key(&sub_def.name).ok_or_else(unsafe_name)?, sub_def)
            }
            None => (first, def),
        };
        let ty = Ty::of(leaf);
        Ok(Scalar {
            expr: sql_dialect::json_scalar(
                self.backend,
                search_doc(self.kind),
                &path,
                ty.json_type(),
            ),
            ty,
            name: def.name.clone(),
            origin: Origin::Json(path),
        })
    }
}

/// Where an attribute sits in the search document: extension attributes
/// under their schema's URN, as in the stored document.
fn attr_location(r: &ResolvedAttr<'_>, shown: &str) -> Result<JsonPath, Unresolved> {
    let mut path = JsonPath::root();
    if !r.is_core_schema {
        path = key(&path, r.schema_urn, shown)?;
    }
    key(&path, &r.attr.name, shown)
}

fn key(path: &JsonPath, name: &str, shown: &str) -> Result<JsonPath, Unresolved> {
    path.key(name).ok_or_else(|| {
        Unresolved::NotSearchable(format!("'{shown}' has a name that cannot be searched on"))
    })
}
