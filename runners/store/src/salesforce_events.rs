//! Salesforce change events: where each record's applied changes stand in Salesforce's commit
//! order, and how far each change-event channel has been applied (its replay id).
//!
//! The runner compares an event with its record's position under the record's item lock, so
//! positions are read and written one record at a time; deduplication of the events
//! themselves is the webhook events' (`processed_events`, keyed by the event's identity).

use crmmap_ids::{RecordId, SObjectName};
use time::OffsetDateTime;

use crate::Store;
use crate::db::{DbTime, with_pool};
use crate::error::Result;

/// The newest change applied to a record: `commitTimestamp` (epoch ms), `transactionKey`,
/// `sequenceNumber`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordPosition {
    /// `commitTimestamp`, epoch milliseconds.
    pub commit_ms: i64,
    /// `transactionKey`.
    pub transaction_key: String,
    /// `sequenceNumber`.
    pub sequence: i64,
}

#[derive(sqlx::FromRow)]
struct PositionRow {
    commit_ms: i64,
    transaction_key: String,
    sequence: i64,
}

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    replay_id: Vec<u8>,
}

impl Store {
    /// The newest change applied to a record, if any was recorded.
    pub async fn record_position(
        &self,
        object: &SObjectName,
        record_id: &RecordId,
    ) -> Result<Option<RecordPosition>> {
        let row: Option<PositionRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT commit_ms, transaction_key, sequence FROM salesforce_record_positions \
                 WHERE object = $1 AND record_id = $2",
            )
            .bind(object.as_str())
            .bind(record_id.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| RecordPosition {
            commit_ms: r.commit_ms,
            transaction_key: r.transaction_key,
            sequence: r.sequence,
        }))
    }

    /// Records the newest change applied to a record. The caller holds the record's item lock
    /// and has compared the positions; this only writes.
    pub async fn set_record_position(
        &self,
        object: &SObjectName,
        record_id: &RecordId,
        at: &RecordPosition,
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = DbTime::from(now);
        with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO salesforce_record_positions \
                 (object, record_id, commit_ms, transaction_key, sequence, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (object, record_id) DO UPDATE \
                 SET commit_ms = excluded.commit_ms, transaction_key = excluded.transaction_key, \
                     sequence = excluded.sequence, updated_at = excluded.updated_at",
            )
            .bind(object.as_str())
            .bind(record_id.as_str())
            .bind(at.commit_ms)
            .bind(&at.transaction_key)
            .bind(at.sequence)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The replay id a change-event channel (`/data/LeadChangeEvent`, a custom `…__chn`) has
    /// been applied up to: opaque bytes (the Pub/Sub API's `replay_id`, never computed).
    pub async fn replay_checkpoint(&self, channel: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<CheckpointRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT replay_id FROM salesforce_replay_checkpoints WHERE channel = $1",
            )
            .bind(channel)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| r.replay_id))
    }

    /// Saves a channel's replay id after a batch of its events was applied (or durably
    /// queued).
    pub async fn save_replay_checkpoint(
        &self,
        channel: &str,
        replay_id: &[u8],
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = DbTime::from(now);
        with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO salesforce_replay_checkpoints (channel, replay_id, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (channel) DO UPDATE \
                 SET replay_id = excluded.replay_id, updated_at = excluded.updated_at",
            )
            .bind(channel)
            .bind(replay_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
