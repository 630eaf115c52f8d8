//! A change-event channel's replay checkpoint with the time it was saved: a subscriber that
//! resumes decides from that time whether the replay id can still be inside Salesforce's
//! 72-hour retention, and reconciles from it when it is not.

use time::OffsetDateTime;

use crate::Store;
use crate::db::{DbTime, with_pool};
use crate::error::Result;

/// A channel's stored replay id and when it was saved (every event before it was applied or
/// durably queued by then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayCheckpoint {
    /// The replay id as the server gave it (opaque bytes, never computed).
    pub replay_id: Vec<u8>,
    /// When it was saved.
    pub saved_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    replay_id: Vec<u8>,
    updated_at: DbTime,
}

impl Store {
    /// The channel's checkpoint with the time it was saved (see
    /// [`Store::save_replay_checkpoint`]).
    pub async fn replay_checkpoint_at(&self, channel: &str) -> Result<Option<ReplayCheckpoint>> {
        let row: Option<Row> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT replay_id, updated_at FROM salesforce_replay_checkpoints \
                 WHERE channel = $1",
            )
            .bind(channel)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| ReplayCheckpoint {
            replay_id: r.replay_id,
            saved_at: r.updated_at.0,
        }))
    }
}
