use sea_orm::DbErr;

use crate::scim::ScimError;
use crate::scim::resource::ResourceKind;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error("{} {id} not found", kind.name())]
    NotFound { kind: ResourceKind, id: String },
    #[error("the resource has changed: its version no longer matches If-Match")]
    PreconditionFailed,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn not_found(kind: ResourceKind, id: &str) -> Self {
        Self::NotFound {
            kind,
            id: id.to_owned(),
        }
    }
}

impl<E> From<sea_orm::TransactionError<E>> for ServiceError
where
    E: std::error::Error + Into<ServiceError>,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => Self::Db(db),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}
