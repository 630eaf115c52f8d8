//! Queued monday edits: which items have webhook events waiting in the retry queue.
//!
//! The migrator asks before it writes an item's columns: a monday edit whose application to
//! Salesforce failed (and is queued) is a monday change made after the last sync, and the
//! object's conflict policy decides whether the migrator may overwrite it. The queue's
//! `webhook_event` items hold `{"event": <monday's webhook event>, ...}`; the board and item are
//! read from the event (`boardId`, and `pulseId` or, for deletes, `itemId`) by the same
//! expressions as the partial index `retry_queue_item` (see the migrations), so one indexed
//! query answers a whole chunk of items.

use crmmap_ids::{BoardId, ItemId};
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Pool, with_pool};
use crate::error::Result;
use crate::{Store, parse_id};

/// Items per query.
const IN_LIST_CHUNK: usize = 500;

/// A pending webhook event of an item, as queued.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEdit {
    /// The monday item.
    pub item_id: ItemId,
    /// The queued `event` object (monday's webhook event as received).
    pub event: Value,
}

impl Store {
    /// The pending (not dead-lettered) retry items of `kind` whose queued webhook event is about
    /// one of `item_ids` on `board_id`, one query per 500 items. Dead letters are not counted:
    /// nothing will replay them unless a person requeues them.
    pub async fn queued_item_events(
        &self,
        kind: &str,
        board_id: BoardId,
        item_ids: &[ItemId],
    ) -> Result<Vec<QueuedEdit>> {
        let mut out = Vec::new();
        let board_id = board_id.to_string();
        for chunk in item_ids.chunks(IN_LIST_CHUNK) {
            let placeholders: Vec<String> = (3..chunk.len() + 3).map(|i| format!("${i}")).collect();
            let list = placeholders.join(", ");
            let (item, board) = match self.pool() {
                Pool::Sqlite(_) => (SQLITE_ITEM, SQLITE_BOARD),
                Pool::Postgres(_) => (PG_ITEM, PG_BOARD),
            };
            let sql = format!(
                "SELECT {item}, payload FROM retry_queue \
                 WHERE status = 'pending' AND kind = $1 AND {board} = $2 \
                   AND {item} IN ({list}) ORDER BY id"
            );
            let rows: Vec<(String, Json<Value>)> = with_pool!(self.pool(), pool => {
                let mut q = sqlx::query_as(&sql).bind(kind).bind(&board_id);
                for id in chunk {
                    q = q.bind(id.to_string());
                }
                q.fetch_all(pool).await?
            });
            for (item_id, payload) in rows {
                out.push(QueuedEdit {
                    item_id: parse_id("retry_queue.payload", &item_id)?,
                    event: payload.0.get("event").cloned().unwrap_or(Value::Null),
                });
            }
        }
        Ok(out)
    }
}

// The same expressions as the index `retry_queue_item` of the migrations (ids are numbers or
// strings in monday's events; both read as text).
const SQLITE_BOARD: &str = "CAST(json_extract(payload, '$.event.boardId') AS TEXT)";
const SQLITE_ITEM: &str = "CAST(COALESCE(json_extract(payload, '$.event.pulseId'), \
     json_extract(payload, '$.event.itemId')) AS TEXT)";
const PG_BOARD: &str = "(payload -> 'event' ->> 'boardId')";
const PG_ITEM: &str = "COALESCE(payload -> 'event' ->> 'pulseId', payload -> 'event' ->> 'itemId')";
