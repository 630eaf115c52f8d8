//! Create intents: a crash between creating a Salesforce record and writing its id
//! back must not produce a second record on retry.
//!
//! The webhook runner, for an item that has no link:
//! 1. [`Store::record_create_intent`] with a fresh idempotency key; the stored
//!    intent is returned, and if one was already there, its key is the one to use;
//! 2. if the intent is [`IntentStatus::Completed`], the record exists: use its id;
//! 3. if it is pending from an earlier attempt, look the record up in Salesforce by
//!    the key (an external-id field) before creating;
//! 4. create the record carrying the key, then [`Store::complete_create_intent`],
//!    which writes the link in the same transaction.

use crmmap_ids::{BoardId, ItemId, RecordId, SObjectName};
use time::OffsetDateTime;

use crate::db::{DbTime, Dialect, is_unique_violation, with_pool};
use crate::error::{Result, StoreError};
use crate::links::{Link, upsert_link_stmts};
use crate::{Store, parse_enum, parse_id};

/// Whether the record of an intent exists yet (as far as the store knows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentStatus {
    /// Recorded; the record may or may not have been created.
    Pending,
    /// The record was created and linked.
    Completed,
}

/// The intent to create a Salesforce record for a monday item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIntent {
    /// monday board id.
    pub board_id: BoardId,
    /// monday item id.
    pub item_id: ItemId,
    /// The sObject to create.
    pub object: SObjectName,
    /// The key the created record carries, to find it again after a crash.
    pub idempotency_key: String,
    /// Pending or completed.
    pub status: IntentStatus,
    /// The created record, once completed.
    pub record_id: Option<RecordId>,
    /// When the intent was first recorded.
    pub created_at: OffsetDateTime,
    /// When it was completed.
    pub completed_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct IntentRow {
    board_id: String,
    item_id: String,
    object: String,
    idempotency_key: String,
    status: String,
    record_id: Option<String>,
    created_at: DbTime,
    completed_at: Option<DbTime>,
}

impl TryFrom<IntentRow> for CreateIntent {
    type Error = StoreError;
    fn try_from(r: IntentRow) -> Result<CreateIntent> {
        Ok(CreateIntent {
            status: parse_enum("create_intents.status", &r.status, |s| match s {
                "pending" => Some(IntentStatus::Pending),
                "completed" => Some(IntentStatus::Completed),
                _ => None,
            })?,
            board_id: parse_id("create_intents.board_id", &r.board_id)?,
            item_id: parse_id("create_intents.item_id", &r.item_id)?,
            object: SObjectName::new(r.object),
            idempotency_key: r.idempotency_key,
            record_id: r
                .record_id
                .map(|id| parse_id("create_intents.record_id", &id))
                .transpose()?,
            created_at: r.created_at.0,
            completed_at: r.completed_at.map(|t| t.0),
        })
    }
}

/// How a completion transaction ended.
enum Completion {
    Done,
    NoIntent,
    OtherRecord(String),
}

const INTENT_COLUMNS: &str =
    "board_id, item_id, object, idempotency_key, status, record_id, created_at, completed_at";

impl Store {
    /// Records the intent to create a record for an item, before creating it, and
    /// returns the intent the store holds.
    ///
    /// Idempotent and atomic: when an intent for the item exists (from an earlier,
    /// maybe crashed, attempt), it is returned unchanged and the `idempotency_key`
    /// passed here is ignored: the caller must use the returned key. Durable once
    /// this returns (it survives a crash of the caller).
    pub async fn record_create_intent(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        object: &SObjectName,
        idempotency_key: &str,
        now: OffsetDateTime,
    ) -> Result<CreateIntent> {
        let now = DbTime::from(now);
        let (board_id, item_id) = (board_id.to_string(), item_id.to_string());
        let row: IntentRow = with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO create_intents \
                 (board_id, item_id, object, idempotency_key, status, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5) \
                 ON CONFLICT (board_id, item_id) DO NOTHING",
            )
            .bind(&board_id)
            .bind(&item_id)
            .bind(object.as_str())
            .bind(idempotency_key)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_as(&format!(
                "SELECT {INTENT_COLUMNS} FROM create_intents WHERE board_id = $1 AND item_id = $2"
            ))
            .bind(&board_id)
            .bind(&item_id)
            .fetch_one(pool)
            .await?
        });
        row.try_into()
    }

    /// Marks the intent completed with the created record's id and links the item to
    /// the record, in one transaction.
    ///
    /// Idempotent: completing again with the same record id changes nothing but
    /// `updated_at` of the link. Fails, writing nothing, with
    /// [`StoreError::UnknownIntent`] when no intent exists,
    /// [`StoreError::IntentCompleted`] when it was completed with another record,
    /// and [`StoreError::LinkConflict`] when the record is linked to another item.
    pub async fn complete_create_intent(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        record_id: &RecordId,
        now: OffsetDateTime,
    ) -> Result<Link> {
        let now_db = DbTime::from(now);
        let (board, item) = (board_id.to_string(), item_id.to_string());
        let result = with_pool!(self.pool(), pool => {
            async {
                let mut tx = pool.begin_write().await?;
                let found: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT object, record_id FROM create_intents WHERE board_id = $1 AND item_id = $2",
                )
                .bind(&board)
                .bind(&item)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((object, existing)) = found else {
                    return Ok(Completion::NoIntent);
                };
                if let Some(existing) = existing.filter(|e| e != record_id.as_str()) {
                    return Ok(Completion::OtherRecord(existing));
                }
                sqlx::query(
                    "UPDATE create_intents SET status = 'completed', record_id = $3, \
                     completed_at = COALESCE(completed_at, $4) WHERE board_id = $1 AND item_id = $2",
                )
                .bind(&board)
                .bind(&item)
                .bind(record_id.as_str())
                .bind(now_db)
                .execute(&mut *tx)
                .await?;
                upsert_link_stmts!(tx, &board, &item, object.as_str(), record_id.as_str(), now_db).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Completion::Done)
            }
            .await
        });
        match result {
            Ok(Completion::OtherRecord(existing)) => Err(StoreError::IntentCompleted {
                board_id,
                item_id,
                record_id: parse_id("create_intents.record_id", &existing)?,
            }),
            Ok(Completion::Done) => self
                .link_by_item(board_id, item_id)
                .await?
                .ok_or(StoreError::UnknownLink { board_id, item_id }),
            Ok(Completion::NoIntent) => Err(StoreError::UnknownIntent { board_id, item_id }),
            Err(e) if is_unique_violation(&e) => {
                let object = self
                    .create_intent(board_id, item_id)
                    .await?
                    .map_or_else(|| SObjectName::new(""), |i| i.object);
                Err(StoreError::LinkConflict {
                    board_id,
                    item_id,
                    object,
                    record_id: record_id.clone(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The intent for an item, pending or completed.
    pub async fn create_intent(
        &self,
        board_id: BoardId,
        item_id: ItemId,
    ) -> Result<Option<CreateIntent>> {
        let row: Option<IntentRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {INTENT_COLUMNS} FROM create_intents WHERE board_id = $1 AND item_id = $2"
            ))
            .bind(board_id.to_string())
            .bind(item_id.to_string())
            .fetch_optional(pool)
            .await?
        });
        row.map(CreateIntent::try_from).transpose()
    }

    /// The intent for an item if it is still pending: the record may exist in
    /// Salesforce without the store knowing; reconcile by its key before creating.
    pub async fn pending_create_intent(
        &self,
        board_id: BoardId,
        item_id: ItemId,
    ) -> Result<Option<CreateIntent>> {
        Ok(self
            .create_intent(board_id, item_id)
            .await?
            .filter(|i| i.status == IntentStatus::Pending))
    }

    /// Pending intents recorded before `before`, oldest first: leftovers of crashed
    /// attempts, for a sweeper to reconcile.
    pub async fn pending_create_intents(
        &self,
        before: OffsetDateTime,
    ) -> Result<Vec<CreateIntent>> {
        let before = DbTime::from(before);
        let rows: Vec<IntentRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {INTENT_COLUMNS} FROM create_intents \
                 WHERE status = 'pending' AND created_at < $1 ORDER BY created_at, board_id, item_id"
            ))
            .bind(before)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(CreateIntent::try_from).collect()
    }
}
