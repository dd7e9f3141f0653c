//! Where an attribute path's values live: a projected column (indexed), a
//! side table (emails, memberships), or the search document (JSON). The
//! `Resolver` says which for each path; filters and sorts both ask it, so
//! they agree on what each attribute means.

use entity::{group, group_member, user, user_email};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{Condition, EntityName};
use uuid::Uuid;

use super::sql_dialect::{JsonPath, JsonType};
use crate::scim::ScimError;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::{AttrType, AttributeDef};

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

    /// How a value of this type is read from the search document.
    pub fn json_type(self) -> JsonType {
        match self {
            Self::Num => JsonType::Number,
            Self::Bool => JsonType::Boolean,
            _ => JsonType::Text,
        }
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
    pub(super) fn ty(self) -> Ty {
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

/// The table a resource kind is stored in.
pub fn resource_table(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => user::Entity.table_name(),
        ResourceKind::Group => group::Entity.table_name(),
    }
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
