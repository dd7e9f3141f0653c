use sea_orm_migration::prelude::*;

use crate::util::{create_index, create_table};

/// The audit trail: every committed change, written in the change's own
/// transaction, and the request log, written in batches beside the SCIM
/// writes. Keys are time-ordered integers made by the server (microseconds
/// since the epoch, kept unique by the process), so the newest rows are
/// found and paged by the primary key alone.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditChanges {
    Table,
    Seq,
    TenantId,
    At,
    RequestId,
    Principal,
    Kind,
    ResourceId,
    Operation,
    VersionBefore,
    VersionAfter,
    Label,
    Detail,
}

#[derive(DeriveIden)]
enum AuditRequests {
    Table,
    Seq,
    TenantId,
    At,
    RequestId,
    ClientAddr,
    Principal,
    Method,
    Route,
    Path,
    Status,
    LatencyUs,
    ScimType,
    ResourceKind,
    Operation,
    Summary,
    RequestHeaders,
    RequestBody,
    ResponseBody,
}

fn string(col: impl IntoIden, len: u32) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.string_len(len);
    def
}

/// Bodies and diffs: up to 16 MiB on MySQL, where TEXT stops at 64 KiB.
fn long_text(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.custom(Alias::new("MEDIUMTEXT"));
    def
}

fn big(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.big_integer();
    def
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        changes(manager).await?;
        requests(manager).await
    }
}

async fn changes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use AuditChanges as C;
    let table = Table::create()
        .table(C::Table)
        .col(big(C::Seq).not_null())
        .col(ColumnDef::new(C::TenantId).uuid().not_null())
        .col(big(C::At).not_null())
        .col(string(C::RequestId, 128).null())
        .col(string(C::Principal, 255).null())
        .col(string(C::Kind, 16).not_null())
        .col(ColumnDef::new(C::ResourceId).uuid().not_null())
        .col(string(C::Operation, 16).not_null())
        .col(big(C::VersionBefore).null())
        .col(big(C::VersionAfter).null())
        .col(string(C::Label, 255).null())
        .col(long_text(C::Detail).not_null())
        .primary_key(Index::create().col(C::Seq))
        .to_owned();
    create_table(m, table).await?;
    let by_request = Index::create().col(C::RequestId).to_owned();
    create_index(m, "audit_changes", "audit_changes_request", by_request).await?;
    let by_resource = Index::create()
        .col(C::TenantId)
        .col(C::ResourceId)
        .col(C::Seq)
        .to_owned();
    create_index(m, "audit_changes", "audit_changes_resource", by_resource).await?;
    let by_time = Index::create().col(C::At).to_owned();
    create_index(m, "audit_changes", "audit_changes_at", by_time).await
}

async fn requests(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    create_table(m, requests_table()).await?;
    // No index on `at`: the key is the time in microseconds, and every
    // index is paid for by every request logged.
    create_index(m, "audit_requests", REQUESTS_INDEX, requests_index()).await
}

const REQUESTS_INDEX: &str = "audit_requests_request";

fn requests_table() -> TableCreateStatement {
    use AuditRequests as R;
    Table::create()
        .table(R::Table)
        .col(big(R::Seq).not_null())
        .col(ColumnDef::new(R::TenantId).uuid().not_null())
        .col(big(R::At).not_null())
        .col(string(R::RequestId, 128).not_null())
        .col(string(R::ClientAddr, 64).null())
        .col(string(R::Principal, 255).null())
        .col(string(R::Method, 16).not_null())
        .col(string(R::Route, 255).not_null())
        .col(ColumnDef::new(R::Path).text().not_null())
        .col(ColumnDef::new(R::Status).integer().not_null())
        .col(big(R::LatencyUs).not_null())
        .col(string(R::ScimType, 32).null())
        .col(string(R::ResourceKind, 16).null())
        .col(string(R::Operation, 16).null())
        .col(ColumnDef::new(R::Summary).text().not_null())
        .col(ColumnDef::new(R::RequestHeaders).text().not_null())
        .col(long_text(R::RequestBody).null())
        .col(long_text(R::ResponseBody).null())
        .primary_key(Index::create().col(R::Seq))
        .to_owned()
}

fn requests_index() -> IndexCreateStatement {
    Index::create().col(AuditRequests::RequestId).to_owned()
}

/// The request log's table and index as SQLite statements, for a log kept
/// in a SQLite file of its own beside a server database, which the
/// migrations never see. The same definition the migrations give a SQLite
/// database (a test holds the two together); a later migration that
/// changes the table must change this too.
pub fn request_log_sqlite() -> [String; 2] {
    let table = requests_table().if_not_exists().to_owned();
    let mut index = requests_index();
    index
        .name(REQUESTS_INDEX)
        .table(AuditRequests::Table)
        .if_not_exists();
    [
        table.to_string(SqliteQueryBuilder),
        index.to_string(SqliteQueryBuilder),
    ]
}
