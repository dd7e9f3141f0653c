use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, create_index, create_table};

/// The event outbox (written in each change's transaction), its receivers,
/// their poll acknowledgements and the events they could not take.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        outbox(manager).await?;
        receivers(manager).await?;
        acks(manager).await?;
        parked(manager).await
    }
}

fn col(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
}

#[derive(DeriveIden)]
enum EventOutbox {
    Table,
    Seq,
    TenantId,
    Id,
    ResourceType,
    ResourceId,
    Event,
    Txn,
    ExternalId,
    Version,
    Attributes,
    CreatedAt,
}

async fn outbox(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use EventOutbox as E;
    let table = Table::create()
        .table(E::Table)
        .col(
            col(E::Seq)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(col(E::TenantId).uuid().not_null())
        .col(col(E::Id).uuid().not_null())
        .col(col(E::ResourceType).string_len(32).not_null())
        .col(col(E::ResourceId).uuid().not_null())
        .col(col(E::Event).string_len(32).not_null())
        .col(col(E::Txn).string_len(KEY_LEN).null())
        .col(col(E::ExternalId).text().null())
        .col(col(E::Version).big_integer().not_null())
        .col(col(E::Attributes).text().null())
        .col(col(E::CreatedAt).big_integer().not_null())
        .to_owned();
    create_table(m, table).await?;
    let by_tenant = Index::create().col(E::TenantId).col(E::Seq).to_owned();
    create_index(m, "event_outbox", "idx_event_outbox_tenant_seq", by_tenant).await?;
    let by_age = Index::create().col(E::CreatedAt).to_owned();
    create_index(m, "event_outbox", "idx_event_outbox_created", by_age).await
}

#[derive(DeriveIden)]
enum EventReceivers {
    Table,
    TenantId,
    Id,
    Name,
    Mode,
    Format,
    Url,
    Audience,
    Events,
    CredentialHash,
    WebhookSecret,
    CursorSeq,
    Attempts,
    NextAttemptAt,
    FailingSince,
    LastError,
    LeaseOwner,
    LeaseUntil,
    Delivered,
    CreatedAt,
}

async fn receivers(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use EventReceivers as R;
    let table = Table::create()
        .table(R::Table)
        .col(col(R::TenantId).uuid().not_null())
        .col(col(R::Id).uuid().not_null())
        .col(col(R::Name).string_len(KEY_LEN).not_null())
        .col(col(R::Mode).string_len(8).not_null())
        .col(col(R::Format).string_len(8).not_null())
        .col(col(R::Url).text().null())
        .col(col(R::Audience).text().not_null())
        .col(col(R::Events).text().not_null())
        .col(col(R::CredentialHash).string_len(64).null())
        .col(col(R::WebhookSecret).text().null())
        .col(col(R::CursorSeq).big_integer().not_null())
        .col(col(R::Attempts).big_integer().not_null())
        .col(col(R::NextAttemptAt).big_integer().not_null())
        .col(col(R::FailingSince).big_integer().not_null())
        .col(col(R::LastError).text().null())
        .col(col(R::LeaseOwner).string_len(64).null())
        .col(col(R::LeaseUntil).big_integer().not_null())
        .col(col(R::Delivered).big_integer().not_null())
        .col(col(R::CreatedAt).big_integer().not_null())
        .primary_key(Index::create().col(R::TenantId).col(R::Id))
        .to_owned();
    create_table(m, table).await?;
    let by_name = Index::create()
        .col(R::TenantId)
        .col(R::Name)
        .unique()
        .to_owned();
    create_index(m, "event_receivers", "idx_event_receivers_name", by_name).await?;
    let by_credential = Index::create().col(R::CredentialHash).to_owned();
    create_index(
        m,
        "event_receivers",
        "idx_event_receivers_credential",
        by_credential,
    )
    .await
}

#[derive(DeriveIden)]
enum EventAcks {
    Table,
    ReceiverId,
    Seq,
}

async fn acks(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use EventAcks as A;
    let table = Table::create()
        .table(A::Table)
        .col(col(A::ReceiverId).uuid().not_null())
        .col(col(A::Seq).big_integer().not_null())
        .primary_key(Index::create().col(A::ReceiverId).col(A::Seq))
        .to_owned();
    create_table(m, table).await
}

#[derive(DeriveIden)]
enum EventParked {
    Table,
    TenantId,
    ReceiverId,
    Seq,
    EventId,
    Event,
    Error,
    ParkedAt,
}

async fn parked(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use EventParked as P;
    let table = Table::create()
        .table(P::Table)
        .col(col(P::TenantId).uuid().not_null())
        .col(col(P::ReceiverId).uuid().not_null())
        .col(col(P::Seq).big_integer().not_null())
        .col(col(P::EventId).uuid().not_null())
        .col(col(P::Event).string_len(32).not_null())
        .col(col(P::Error).text().not_null())
        .col(col(P::ParkedAt).big_integer().not_null())
        .primary_key(Index::create().col(P::ReceiverId).col(P::Seq))
        .to_owned();
    create_table(m, table).await?;
    let by_age = Index::create().col(P::ParkedAt).to_owned();
    create_index(m, "event_parked", "idx_event_parked_at", by_age).await
}
