//! Where an attribute path's values live: a projected column (indexed), a
//! side table (emails, memberships), or the search document (JSON).
//! Filters and sorts both resolve paths here, so they agree on what each
//! attribute means.

use entity::{group, group_member, user, user_email};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{Condition, DbBackend};
use uuid::Uuid;

use super::dialect::{self, JsonPath};
use crate::scim::ScimError;
use crate::scim::filter::AttrPath;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::{AttrType, AttributeDef, ResolvedAttr, Returned, SchemaRegistry};

/// How values of an attribute compare, which decides how a filter operand
/// is converted and which operators apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `exact = false`: the stored side is case-folded, so the operand is too.
    Str {
        exact: bool,
    },
    Bool,
    Num,
    /// Milliseconds since the epoch (the `meta` columns).
    TimeMs,
    /// The UTC text of `scim::search_doc` (dateTime attributes in JSON).
    TimeText,
    /// A UUID column.
    Id,
    /// A complex value: only presence can be tested.
    Complex,
}

impl Ty {
    pub fn of(def: &AttributeDef) -> Self {
        match def.attr_type {
            AttrType::String | AttrType::Reference | AttrType::Binary => Self::Str {
                exact: def.case_exact,
            },
            AttrType::Boolean => Self::Bool,
            AttrType::Integer | AttrType::Decimal => Self::Num,
            AttrType::DateTime => Self::TimeText,
            AttrType::Complex => Self::Complex,
        }
    }

    pub fn is_numeric(self) -> bool {
        self == Self::Num
    }
}

/// A single value readable in the current row (or list element).
#[derive(Debug, Clone)]
pub struct Scalar {
    pub expr: Expr,
    pub ty: Ty,
    /// How the client can recognise the attribute in an error detail.
    pub name: String,
    pub origin: Origin,
}

/// Where a scalar's value comes from, so that the sort key of a row can be
/// read back in Rust for the cursor that continues after it.
#[derive(Debug, Clone)]
pub enum Origin {
    Column(KeyColumn),
    Json(JsonPath),
    /// Side tables and constants: never sort keys.
    Computed,
}

/// The projected columns of the resource tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyColumn {
    Id,
    UserName,
    ExternalId,
    DisplayName,
    Active,
    Created,
    Modified,
}

impl KeyColumn {
    fn ty(self) -> Ty {
        match self {
            Self::Id => Ty::Id,
            Self::UserName | Self::DisplayName => Ty::Str { exact: false },
            Self::ExternalId => Ty::Str { exact: true },
            Self::Active => Ty::Bool,
            Self::Created | Self::Modified => Ty::TimeMs,
        }
    }

    /// Whether no two resources of the type can share a value: a unique
    /// index guarantees it.
    pub fn unique(self, kind: ResourceKind) -> bool {
        match self {
            Self::Id => true,
            Self::UserName => kind == ResourceKind::User,
            _ => false,
        }
    }

    /// Whether the column can hold NULL for this resource type (a Group's
    /// displayName is required; a User's is not).
    pub fn nullable(self, kind: ResourceKind) -> bool {
        match self {
            Self::ExternalId => true,
            Self::DisplayName => kind == ResourceKind::User,
            Self::Id | Self::UserName | Self::Active | Self::Created | Self::Modified => false,
        }
    }
}

/// The values a multi-valued attribute's elements are read from.
#[derive(Debug, Clone)]
pub enum Collection<'a> {
    /// `user_emails`: value, type and primary, indexed on value; other
    /// sub-attributes fall back to `Json`.
    Emails(&'a AttributeDef),
    /// A user's groups, from `group_members` (not stored in the document).
    UserGroups,
    /// A group's members, from `group_members`.
    Members,
    /// An array in the search document.
    Json {
        path: JsonPath,
        def: &'a AttributeDef,
    },
    /// A singular complex attribute used with brackets (`name[…]`): its
    /// one object is the only "element".
    Object {
        path: JsonPath,
        def: &'a AttributeDef,
    },
}

#[derive(Debug, Clone)]
pub enum Target<'a> {
    Scalar(Scalar),
    /// Known without reading the row (`meta.resourceType`): compared in
    /// Rust, so no collation can get it wrong.
    Constant {
        value: &'static str,
        def: &'a AttributeDef,
    },
    /// A multi-valued attribute, and which sub-attribute of each element a
    /// test reads (`None`: the element itself).
    Many {
        coll: Collection<'a>,
        sub: Option<String>,
    },
}

/// Resolves attribute paths of one resource type for one backend.
#[derive(Clone, Copy)]
pub struct Resolver<'a> {
    pub registry: &'a SchemaRegistry,
    pub kind: ResourceKind,
    pub backend: DbBackend,
    /// Side-table subqueries name it, so they can use the tenant-led indexes.
    pub tenant: Uuid,
}

/// The `scimType` of the error decides nothing here; callers wrap these
/// in the error kind of their context (filter or sort).
pub enum Unresolved {
    Unknown(String),
    NotSearchable(String),
}

impl Unresolved {
    pub fn into_filter_error(self) -> ScimError {
        match self {
            Self::Unknown(name) => ScimError::invalid_filter(format!("unknown attribute '{name}'")),
            Self::NotSearchable(why) => ScimError::invalid_filter(why),
        }
    }
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
            dialect::json_any_value(search_doc(self.kind), path)
        } else {
            dialect::json_scalar(self.backend, search_doc(self.kind), path, ty.is_numeric())
        };
        Scalar {
            expr,
            ty,
            name,
            origin: Origin::Json(path.clone()),
        }
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

/// The search document column of the resource table.
pub fn search_doc(kind: ResourceKind) -> Expr {
    match kind {
        ResourceKind::User => Expr::col((user::Entity, user::Column::DocSearch)),
        ResourceKind::Group => Expr::col((group::Entity, group::Column::DocSearch)),
    }
}

/// A sub-attribute of a side-table element, or why it has no column.
pub fn side_column(coll: &Collection<'_>, sub: Option<&str>) -> Option<Result<Scalar, Unresolved>> {
    let folded = Ty::Str { exact: false };
    let scalar = |expr: Expr, ty: Ty, name: &str| {
        Some(Ok(Scalar {
            expr,
            ty,
            name: name.to_owned(),
            origin: Origin::Computed,
        }))
    };
    match (coll, sub) {
        (Collection::Emails(_), Some("value")) => scalar(
            Expr::col((user_email::Entity, user_email::Column::ValueNorm)),
            folded,
            "emails.value",
        ),
        (Collection::Emails(_), Some("type")) => scalar(
            Expr::col((user_email::Entity, user_email::Column::TypeNorm)),
            folded,
            "emails.type",
        ),
        (Collection::Emails(_), Some("primary")) => scalar(
            Expr::col((user_email::Entity, user_email::Column::IsPrimary)),
            Ty::Bool,
            "emails.primary",
        ),
        (Collection::Emails(_), _) => None,
        (Collection::UserGroups, Some("value")) => scalar(
            Expr::col((group_member::Entity, group_member::Column::GroupId)),
            Ty::Id,
            "groups.value",
        ),
        (Collection::UserGroups, Some("display")) => scalar(
            Expr::col((group::Entity, group::Column::DisplayNameNorm)),
            folded,
            "groups.display",
        ),
        // Roster records direct memberships only.
        (Collection::UserGroups, Some("type")) => {
            scalar(Expr::val("direct"), folded, "groups.type")
        }
        (Collection::Members, Some("value")) => scalar(
            Expr::col((group_member::Entity, group_member::Column::MemberId)),
            Ty::Id,
            "members.value",
        ),
        (Collection::Members, Some("type")) => scalar(
            Func::lower(Expr::col((
                group_member::Entity,
                group_member::Column::MemberType,
            )))
            .into(),
            folded,
            "members.type",
        ),
        // Within `EXISTS`, a membership row is there by definition.
        (Collection::UserGroups, None) => scalar(Expr::val(1), Ty::Complex, "groups"),
        (Collection::Members, None) => scalar(Expr::val(1), Ty::Complex, "members"),
        (Collection::UserGroups | Collection::Members, other) => {
            let name = match coll {
                Collection::UserGroups => "groups",
                _ => "members",
            };
            let shown = other.map_or(name.to_owned(), |s| format!("{name}.{s}"));
            Some(Err(Unresolved::NotSearchable(format!(
                "'{shown}' cannot be filtered on (supported: {name}.value, {name}.type{})",
                if name == "groups" {
                    ", groups.display"
                } else {
                    ""
                }
            ))))
        }
        (Collection::Json { .. } | Collection::Object { .. }, _) => None,
    }
}

/// The resources having a side-table row that satisfies `cond`, as
/// `id IN (SELECT … WHERE tenant = ? AND cond)`: uncorrelated, so the
/// database can start from the side table's index (an email or member id)
/// instead of testing every resource row.
pub fn side_membership(coll: &Collection<'_>, tenant: Uuid, cond: Condition) -> Condition {
    let (gm, g, ue) = (group_member::Entity, group::Entity, user_email::Entity);
    let mut sub = Query::select();
    let outer = match coll {
        Collection::Emails(_) => {
            sub.column((ue, user_email::Column::UserId))
                .from(ue)
                .and_where(Expr::col((ue, user_email::Column::TenantId)).eq(tenant));
            Expr::col((user::Entity, user::Column::Id))
        }
        Collection::UserGroups => {
            sub.column((gm, group_member::Column::MemberId))
                .from(gm)
                .inner_join(g, crate::store::memberships::membership_group())
                .and_where(Expr::col((gm, group_member::Column::TenantId)).eq(tenant));
            Expr::col((user::Entity, user::Column::Id))
        }
        Collection::Members => {
            sub.column((gm, group_member::Column::GroupId))
                .from(gm)
                .and_where(Expr::col((gm, group_member::Column::TenantId)).eq(tenant));
            Expr::col((group::Entity, group::Column::Id))
        }
        // Not side tables: nothing matches through this path.
        Collection::Json { .. } | Collection::Object { .. } => {
            return Condition::all().add(Expr::val(1).eq(0));
        }
    };
    Condition::all().add(outer.in_subquery(sub.cond_where(cond).to_owned()))
}

/// The JSON form of a collection, for element tests no side table covers.
pub fn json_collection<'a>(coll: &Collection<'a>) -> Option<(JsonPath, &'a AttributeDef)> {
    match coll {
        Collection::Emails(def) => JsonPath::root().key("emails").map(|p| (p, *def)),
        Collection::Json { path, def } => Some((path.clone(), *def)),
        Collection::Object { .. } | Collection::UserGroups | Collection::Members => None,
    }
}
