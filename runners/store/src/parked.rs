//! Parked links: a link whose target record has no item yet waits here until a
//! later run has created the target's item.

use crmmap_ids::{ColumnId, ObjectName, RecordId};
use time::OffsetDateTime;

use crate::db::{DbTime, with_pool};
use crate::error::{Result, StoreError};
use crate::{Store, parse_id};

/// A link to park.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParkedLink {
    /// The mapping's object of the record that holds the reference.
    pub object: ObjectName,
    /// The record that holds the reference.
    pub record_id: RecordId,
    /// The monday board-relation column to fill.
    pub column_id: ColumnId,
    /// The mapping's object of the referenced record.
    pub target_object: ObjectName,
    /// The referenced record, which has no item yet.
    pub target_record_id: RecordId,
    /// Why it was parked.
    pub reason: String,
}

/// A parked link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedLink {
    /// Row id, for [`Store::delete_parked`].
    pub id: i64,
    /// The link.
    pub link: NewParkedLink,
    /// When it was (last) parked.
    pub parked_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ParkedRow {
    id: i64,
    object: String,
    record_id: String,
    column_id: String,
    target_object: String,
    target_record_id: String,
    reason: String,
    parked_at: DbTime,
}

impl TryFrom<ParkedRow> for ParkedLink {
    type Error = StoreError;

    fn try_from(r: ParkedRow) -> Result<ParkedLink> {
        Ok(ParkedLink {
            id: r.id,
            link: NewParkedLink {
                object: ObjectName::new(r.object),
                record_id: parse_id("parked_links.record_id", &r.record_id)?,
                column_id: ColumnId::new(r.column_id),
                target_object: ObjectName::new(r.target_object),
                target_record_id: parse_id("parked_links.target_record_id", &r.target_record_id)?,
                reason: r.reason,
            },
            parked_at: r.parked_at.0,
        })
    }
}

const PARKED_COLUMNS: &str =
    "id, object, record_id, column_id, target_object, target_record_id, reason, parked_at";

impl Store {
    /// Parks a link. Idempotent: parking the same (record, column, target) again
    /// keeps one row (same id) and updates its reason and time. Returns the row id.
    pub async fn park_link(&self, link: &NewParkedLink, now: OffsetDateTime) -> Result<i64> {
        let now = DbTime::from(now);
        let (id,): (i64,) = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "INSERT INTO parked_links \
                 (object, record_id, column_id, target_object, target_record_id, reason, parked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (object, record_id, column_id, target_record_id) DO UPDATE \
                 SET reason = excluded.reason, parked_at = excluded.parked_at, \
                     target_object = excluded.target_object \
                 RETURNING id",
            )
            .bind(link.object.as_str())
            .bind(link.record_id.as_str())
            .bind(link.column_id.as_str())
            .bind(link.target_object.as_str())
            .bind(link.target_record_id.as_str())
            .bind(&link.reason)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    /// Links waiting for a target record (call when the target's item was created).
    pub async fn parked_for_target(
        &self,
        target_object: &ObjectName,
        target_record_id: &RecordId,
    ) -> Result<Vec<ParkedLink>> {
        let rows: Vec<ParkedRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {PARKED_COLUMNS} FROM parked_links \
                 WHERE target_object = $1 AND target_record_id = $2 ORDER BY id"
            ))
            .bind(target_object.as_str())
            .bind(target_record_id.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ParkedLink::try_from).collect()
    }

    /// Links parked by records of an object, oldest first.
    pub async fn parked_for_object(&self, object: &ObjectName) -> Result<Vec<ParkedLink>> {
        let rows: Vec<ParkedRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {PARKED_COLUMNS} FROM parked_links WHERE object = $1 ORDER BY id"
            ))
            .bind(object.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ParkedLink::try_from).collect()
    }

    /// Deletes a parked link once it was completed. Returns whether it existed.
    pub async fn delete_parked(&self, id: i64) -> Result<bool> {
        let n = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM parked_links WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
