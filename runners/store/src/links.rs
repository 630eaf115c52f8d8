//! Item ↔ record links and the values last synced for each link.

use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::{DbTime, Dialect, is_unique_violation, with_pool};
use crate::error::{Result, StoreError};
use crate::{Store, parse_enum};

/// The two statements of a link upsert, run on a caller's write transaction `$tx`
/// (either backend); shared with create intents. Evaluates to `Result<(), sqlx::Error>`.
macro_rules! upsert_link_stmts {
    ($tx:expr, $board_id:expr, $item_id:expr, $object:expr, $record_id:expr, $now:expr) => {
        async {
            // Values recorded for another pairing mean nothing for the new one.
            sqlx::query(
                "DELETE FROM synced_values WHERE board_id = $1 AND item_id = $2 AND EXISTS \
                 (SELECT 1 FROM links l WHERE l.board_id = $1 AND l.item_id = $2 \
                  AND (l.object <> $3 OR l.record_id <> $4))",
            )
            .bind($board_id)
            .bind($item_id)
            .bind($object)
            .bind($record_id)
            .execute(&mut *$tx)
            .await?;
            sqlx::query(
                "INSERT INTO links (board_id, item_id, object, record_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (board_id, item_id) DO UPDATE \
                 SET object = excluded.object, record_id = excluded.record_id, updated_at = excluded.updated_at",
            )
            .bind($board_id)
            .bind($item_id)
            .bind($object)
            .bind($record_id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
            Ok::<(), sqlx::Error>(())
        }
    };
}
pub(crate) use upsert_link_stmts;

/// A monday item linked to a Salesforce record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// monday board id.
    pub board_id: String,
    /// monday item id.
    pub item_id: String,
    /// Salesforce sObject name (`Lead`, `Grant__c`).
    pub object: String,
    /// Salesforce record id.
    pub record_id: String,
    /// When the link was first made.
    pub created_at: OffsetDateTime,
    /// When the link was last written.
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    board_id: String,
    item_id: String,
    object: String,
    record_id: String,
    created_at: DbTime,
    updated_at: DbTime,
}

impl From<LinkRow> for Link {
    fn from(r: LinkRow) -> Link {
        Link {
            board_id: r.board_id,
            item_id: r.item_id,
            object: r.object,
            record_id: r.record_id,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

/// Ids per `IN (...)` list: far below SQLite's and PostgreSQL's parameter limits.
const IN_LIST_CHUNK: usize = 500;

const LINK_COLUMNS: &str = "board_id, item_id, object, record_id, created_at, updated_at";

/// Which system a value was written to (and so came from, for echo detection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Salesforce.
    Salesforce,
    /// monday.com.
    Monday,
}

impl Side {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Salesforce => "salesforce",
            Side::Monday => "monday",
        }
    }

    fn parse(s: &str) -> Option<Side> {
        match s {
            "salesforce" => Some(Side::Salesforce),
            "monday" => Some(Side::Monday),
            _ => None,
        }
    }
}

/// The key of the item name in the last-synced values.
pub const NAME_KEY: &str = "name";

/// The key of a monday column in the last-synced values: `column:<id>`.
pub fn column_key(column_id: &str) -> String {
    format!("column:{column_id}")
}

/// The key of a Salesforce field in the last-synced values: `field:<name>`.
pub fn field_key(field: &str) -> String {
    format!("field:{field}")
}

/// A value to record as last synced.
#[derive(Debug, Clone, PartialEq)]
pub struct SetValue {
    /// `column:<id>`, `field:<name>` or `name` (see [`column_key`], [`field_key`], [`NAME_KEY`]).
    pub key: String,
    /// The value the side was set to, in the engine's JSON form.
    pub value: Value,
    /// Which side the value was written to.
    pub source: Side,
}

/// A value recorded as last synced for a link.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedValue {
    /// The key (see [`SetValue::key`]).
    pub key: String,
    /// The value the side was last set to.
    pub value: Value,
    /// Which side it was written to.
    pub source: Side,
    /// When it was recorded.
    pub synced_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct SyncedRow {
    key: String,
    value: Json<Value>,
    source: String,
    synced_at: DbTime,
}

impl Store {
    /// Creates or updates the link of a monday item to a Salesforce record.
    ///
    /// Atomic. Idempotent: upserting the same link again only moves `updated_at`.
    /// When the item was linked to another record, the link is re-pointed and the
    /// last-synced values of the old pairing are deleted in the same transaction.
    /// Fails with [`StoreError::LinkConflict`] when the record is already linked to
    /// a different item (a record has at most one item).
    pub async fn upsert_link(
        &self,
        board_id: &str,
        item_id: &str,
        object: &str,
        record_id: &str,
        now: OffsetDateTime,
    ) -> Result<Link> {
        let now = DbTime::from(now);
        let result = with_pool!(self.pool(), pool => {
            async {
                let mut tx = pool.begin_write().await?;
                upsert_link_stmts!(tx, board_id, item_id, object, record_id, now).await?;
                let row: LinkRow = sqlx::query_as(&format!(
                    "SELECT {LINK_COLUMNS} FROM links WHERE board_id = $1 AND item_id = $2"
                ))
                .bind(board_id)
                .bind(item_id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(row)
            }
            .await
        });
        match result {
            Ok(row) => Ok(row.into()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::LinkConflict {
                board_id: board_id.to_owned(),
                item_id: item_id.to_owned(),
                object: object.to_owned(),
                record_id: record_id.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The link of a monday item, if any.
    pub async fn link_by_item(&self, board_id: &str, item_id: &str) -> Result<Option<Link>> {
        let row: Option<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE board_id = $1 AND item_id = $2"
            ))
            .bind(board_id)
            .bind(item_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Link::from))
    }

    /// The link of a Salesforce record, if any.
    pub async fn link_by_record(&self, object: &str, record_id: &str) -> Result<Option<Link>> {
        let row: Option<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE object = $1 AND record_id = $2"
            ))
            .bind(object)
            .bind(record_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Link::from))
    }

    /// The links of many records of one sObject at once (a migrate page), in no
    /// particular order; records without a link are absent. Queries in chunks.
    pub async fn links_by_records(&self, object: &str, record_ids: &[String]) -> Result<Vec<Link>> {
        self.links_by_many("object", object, "record_id", record_ids)
            .await
    }

    /// The links of many items of one board at once, in no particular order; items
    /// without a link are absent. Queries in chunks.
    pub async fn links_by_items(&self, board_id: &str, item_ids: &[String]) -> Result<Vec<Link>> {
        self.links_by_many("board_id", board_id, "item_id", item_ids)
            .await
    }

    async fn links_by_many(
        &self,
        fixed_column: &'static str,
        fixed: &str,
        list_column: &'static str,
        list: &[String],
    ) -> Result<Vec<Link>> {
        let mut out = Vec::with_capacity(list.len());
        for chunk in list.chunks(IN_LIST_CHUNK) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE {fixed_column} = $1 AND {list_column} IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<LinkRow> = with_pool!(self.pool(), pool => {
                let mut q = sqlx::query_as(&sql).bind(fixed);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(Link::from));
        }
        Ok(out)
    }

    /// All links of an sObject, ordered by board and item id.
    pub async fn links_for_object(&self, object: &str) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE object = $1 ORDER BY board_id, item_id"
            ))
            .bind(object)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Link::from).collect())
    }

    /// Deletes the link of an item and its last-synced values (one statement, the
    /// values go by cascade). Returns whether a link existed.
    pub async fn delete_link(&self, board_id: &str, item_id: &str) -> Result<bool> {
        let done = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM links WHERE board_id = $1 AND item_id = $2")
                .bind(board_id)
                .bind(item_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Records, in one transaction, what each key was last set to for a linked item.
    ///
    /// All values are written or none is. A key already present is overwritten.
    /// The link must exist ([`StoreError::UnknownLink`] otherwise).
    pub async fn set_synced_values(
        &self,
        board_id: &str,
        item_id: &str,
        values: &[SetValue],
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = DbTime::from(now);
        let linked = with_pool!(self.pool(), pool => {
            let mut tx = pool.begin_write().await?;
            let exists: Option<(String,)> = sqlx::query_as(
                "SELECT record_id FROM links WHERE board_id = $1 AND item_id = $2",
            )
            .bind(board_id)
            .bind(item_id)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_some() {
                for v in values {
                    sqlx::query(
                        "INSERT INTO synced_values (board_id, item_id, key, value, source, synced_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (board_id, item_id, key) DO UPDATE \
                         SET value = excluded.value, source = excluded.source, synced_at = excluded.synced_at",
                    )
                    .bind(board_id)
                    .bind(item_id)
                    .bind(&v.key)
                    .bind(Json(&v.value))
                    .bind(v.source.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            exists.is_some()
        });
        if linked {
            Ok(())
        } else {
            Err(StoreError::UnknownLink {
                board_id: board_id.to_owned(),
                item_id: item_id.to_owned(),
            })
        }
    }

    /// All last-synced values of a linked item, ordered by key.
    pub async fn synced_values(&self, board_id: &str, item_id: &str) -> Result<Vec<SyncedValue>> {
        let rows: Vec<SyncedRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT key, value, source, synced_at FROM synced_values \
                 WHERE board_id = $1 AND item_id = $2 ORDER BY key",
            )
            .bind(board_id)
            .bind(item_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(SyncedValue {
                    source: parse_enum("synced_values.source", &r.source, Side::parse)?,
                    key: r.key,
                    value: r.value.0,
                    synced_at: r.synced_at.0,
                })
            })
            .collect()
    }
}
