//! Item ↔ record links and the values last synced for each link.

use std::collections::HashMap;

use crmmap_ids::{BoardId, ItemId, RecordId, SObjectName};
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::{Conn, DbTime, Dialect, is_unique_violation, with_conn, with_pool};
use crate::error::{Result, StoreError};
use crate::keys::SyncedKey;
use crate::{Store, parse_enum, parse_id};

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
    pub board_id: BoardId,
    /// monday item id.
    pub item_id: ItemId,
    /// Salesforce sObject name (`Lead`, `Grant__c`).
    pub object: SObjectName,
    /// Salesforce record id.
    pub record_id: RecordId,
    /// When the link was first made.
    pub created_at: OffsetDateTime,
    /// When the link was last written.
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow, Clone)]
struct LinkRow {
    board_id: String,
    item_id: String,
    object: String,
    record_id: String,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<LinkRow> for Link {
    type Error = StoreError;

    fn try_from(r: LinkRow) -> Result<Link> {
        Ok(Link {
            board_id: parse_id("links.board_id", &r.board_id)?,
            item_id: parse_id("links.item_id", &r.item_id)?,
            object: SObjectName::new(r.object),
            record_id: parse_id("links.record_id", &r.record_id)?,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// A link joined with one of its last-synced values (none: all `NULL`).
#[derive(sqlx::FromRow)]
struct LinkedRow {
    #[sqlx(flatten)]
    link: LinkRow,
    key: Option<String>,
    value: Option<Json<Value>>,
    source: Option<String>,
    synced_at: Option<DbTime>,
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

/// A value to record as last synced.
#[derive(Debug, Clone, PartialEq)]
pub struct SetValue {
    /// What the value is the value of (see [`crate::keys`]).
    pub key: SyncedKey,
    /// The value the side was set to, in the engine's JSON form.
    pub value: Value,
    /// Which side the value was written to.
    pub source: Side,
}

/// A value recorded as last synced for a link.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedValue {
    /// The key (see [`SetValue::key`]).
    pub key: SyncedKey,
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

/// A [`SyncedRow`] with its item.
#[derive(sqlx::FromRow)]
struct ItemSyncedRow {
    item_id: String,
    #[sqlx(flatten)]
    value: SyncedRow,
}

impl Store {
    /// Creates or updates the link of a monday item to a Salesforce record.
    ///
    /// Atomic. Idempotent: upserting the same link again only moves `updated_at`.
    /// When the item was linked to another record, the link is re-pointed and the
    /// last-synced values of the old pairing are deleted in the same transaction.
    /// Fails with [`StoreError::LinkConflict`] when the record is already linked to
    /// a different item (a record has at most one item).
    #[tracing::instrument(name = "store.upsert_link", level = "debug", skip_all)]
    pub async fn upsert_link(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        object: &SObjectName,
        record_id: &RecordId,
        now: OffsetDateTime,
    ) -> Result<Link> {
        let now = DbTime::from(now);
        let (board, item) = (board_id.to_string(), item_id.to_string());
        let result = with_pool!(self.pool(), pool => {
            async {
                let mut tx = pool.begin_write().await?;
                upsert_link_stmts!(tx, &board, &item, object.as_str(), record_id.as_str(), now).await?;
                let row: LinkRow = sqlx::query_as(&format!(
                    "SELECT {LINK_COLUMNS} FROM links WHERE board_id = $1 AND item_id = $2"
                ))
                .bind(&board)
                .bind(&item)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(row)
            }
            .await
        });
        match result {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => Err(StoreError::LinkConflict {
                board_id,
                item_id,
                object: object.clone(),
                record_id: record_id.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The link of a monday item, if any.
    #[tracing::instrument(name = "store.link_by_item", level = "debug", skip_all)]
    pub async fn link_by_item(&self, board_id: BoardId, item_id: ItemId) -> Result<Option<Link>> {
        let row: Option<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE board_id = $1 AND item_id = $2"
            ))
            .bind(board_id.to_string())
            .bind(item_id.to_string())
            .fetch_optional(pool)
            .await?
        });
        row.map(Link::try_from).transpose()
    }

    /// The link of a Salesforce record, if any.
    pub async fn link_by_record(
        &self,
        object: &SObjectName,
        record_id: &RecordId,
    ) -> Result<Option<Link>> {
        let row: Option<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE object = $1 AND record_id = $2"
            ))
            .bind(object.as_str())
            .bind(record_id.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(Link::try_from).transpose()
    }

    /// The links of many records of one sObject at once (a migrate page), in no
    /// particular order; records without a link are absent. Queries in chunks.
    pub async fn links_by_records(
        &self,
        object: &SObjectName,
        record_ids: &[RecordId],
    ) -> Result<Vec<Link>> {
        let records: Vec<String> = record_ids.iter().map(RecordId::to_string).collect();
        self.links_by_many("object", object.as_str(), "record_id", &records)
            .await
    }

    /// The links of many items of one board at once, in no particular order; items
    /// without a link are absent. Queries in chunks.
    pub async fn links_by_items(
        &self,
        board_id: BoardId,
        item_ids: &[ItemId],
    ) -> Result<Vec<Link>> {
        let items: Vec<String> = item_ids.iter().map(ItemId::to_string).collect();
        self.links_by_many("board_id", &board_id.to_string(), "item_id", &items)
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
            for row in rows {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    /// All links of an sObject, ordered by board and item id.
    pub async fn links_for_object(&self, object: &SObjectName) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE object = $1 ORDER BY board_id, item_id"
            ))
            .bind(object.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Link::try_from).collect()
    }

    /// Deletes the link of an item and its last-synced values (one statement, the
    /// values go by cascade). Returns whether a link existed.
    pub async fn delete_link(&self, board_id: BoardId, item_id: ItemId) -> Result<bool> {
        let done = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM links WHERE board_id = $1 AND item_id = $2")
                .bind(board_id.to_string())
                .bind(item_id.to_string())
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
    #[tracing::instrument(name = "store.set_synced_values", level = "debug", skip_all)]
    pub async fn set_synced_values(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        values: &[SetValue],
        now: OffsetDateTime,
    ) -> Result<()> {
        let linked = with_pool!(self.pool(), pool => {
            let mut tx = pool.begin_write().await?;
            let linked = set_values_on((&mut *tx).into(), board_id, item_id, values, now).await?;
            if linked {
                tx.commit().await?;
            }
            linked
        });
        if linked {
            Ok(())
        } else {
            Err(StoreError::UnknownLink { board_id, item_id })
        }
    }

    /// The link of a monday item with its last-synced values (ordered by key), in one
    /// query; `None` when the item is not linked.
    #[tracing::instrument(name = "store.linked_item", level = "debug", skip_all)]
    pub async fn linked_item(
        &self,
        board_id: BoardId,
        item_id: ItemId,
    ) -> Result<Option<(Link, Vec<SyncedValue>)>> {
        let rows: Vec<LinkedRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT l.board_id, l.item_id, l.object, l.record_id, l.created_at, l.updated_at, \
                 s.key, s.value, s.source, s.synced_at \
                 FROM links l LEFT JOIN synced_values s \
                 ON s.board_id = l.board_id AND s.item_id = l.item_id \
                 WHERE l.board_id = $1 AND l.item_id = $2 ORDER BY s.key",
            )
            .bind(board_id.to_string())
            .bind(item_id.to_string())
            .fetch_all(pool)
            .await?
        });
        let mut rows = rows.into_iter().peekable();
        let Some(first) = rows.peek() else {
            return Ok(None);
        };
        let link = Link::try_from(first.link.clone())?;
        let mut values = Vec::new();
        for r in rows {
            if let (Some(key), Some(value), Some(source), Some(at)) =
                (r.key, r.value, r.source, r.synced_at)
            {
                values.push(SyncedValue {
                    source: parse_enum("synced_values.source", &source, Side::parse)?,
                    key: parse_key(&key)?,
                    value: value.0,
                    synced_at: at.0,
                });
            }
        }
        Ok(Some((link, values)))
    }

    /// The last-synced values of many items of one board at once (a migrate chunk), by item
    /// id, each ordered by key; items without values are absent. Queries in chunks.
    #[tracing::instrument(name = "store.synced_values_by_items", level = "debug", skip_all)]
    pub async fn synced_values_by_items(
        &self,
        board_id: BoardId,
        item_ids: &[ItemId],
    ) -> Result<HashMap<ItemId, Vec<SyncedValue>>> {
        let mut out: HashMap<ItemId, Vec<SyncedValue>> = HashMap::new();
        let board_id = board_id.to_string();
        for chunk in item_ids.chunks(IN_LIST_CHUNK) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT item_id, key, value, source, synced_at FROM synced_values \
                 WHERE board_id = $1 AND item_id IN ({}) ORDER BY item_id, key",
                placeholders.join(", ")
            );
            let rows: Vec<ItemSyncedRow> = with_pool!(self.pool(), pool => {
                let mut q = sqlx::query_as(&sql).bind(&board_id);
                for id in chunk {
                    q = q.bind(id.to_string());
                }
                q.fetch_all(pool).await?
            });
            for r in rows {
                out.entry(parse_id("synced_values.item_id", &r.item_id)?)
                    .or_default()
                    .push(synced_value(r.value)?);
            }
        }
        Ok(out)
    }

    /// All last-synced values of a linked item, ordered by key.
    #[tracing::instrument(name = "store.synced_values", level = "debug", skip_all)]
    pub async fn synced_values(
        &self,
        board_id: BoardId,
        item_id: ItemId,
    ) -> Result<Vec<SyncedValue>> {
        let rows: Vec<SyncedRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT key, value, source, synced_at FROM synced_values \
                 WHERE board_id = $1 AND item_id = $2 ORDER BY key",
            )
            .bind(board_id.to_string())
            .bind(item_id.to_string())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(synced_value).collect()
    }
}

/// A stored key, typed.
fn parse_key(key: &str) -> Result<SyncedKey> {
    SyncedKey::parse(key).map_err(|_| StoreError::Corrupt {
        column: "synced_values.key",
        value: key.to_owned(),
    })
}

/// A row of `synced_values` as a [`SyncedValue`].
fn synced_value(r: SyncedRow) -> Result<SyncedValue> {
    Ok(SyncedValue {
        source: parse_enum("synced_values.source", &r.source, Side::parse)?,
        key: parse_key(&r.key)?,
        value: r.value.0,
        synced_at: r.synced_at.0,
    })
}
/// Writes last-synced values on a given connection (inside a caller's transaction) when
/// the item is linked; returns whether it is (nothing is written otherwise). One statement
/// whatever the number of values; for a key given twice the last value wins.
pub(crate) async fn set_values_on(
    mut c: Conn<'_>,
    board_id: BoardId,
    item_id: ItemId,
    values: &[SetValue],
    now: OffsetDateTime,
) -> Result<bool> {
    let now = DbTime::from(now);
    let (board_id, item_id) = (board_id.to_string(), item_id.to_string());
    let mut last: Vec<&SetValue> = Vec::with_capacity(values.len());
    for v in values.iter().rev() {
        if !last.iter().any(|l| l.key == v.key) {
            last.push(v);
        }
    }
    if last.is_empty() {
        let exists: Option<(String,)> = with_conn!(c.reborrow(), c => {
            sqlx::query_as("SELECT record_id FROM links WHERE board_id = $1 AND item_id = $2")
                .bind(&board_id)
                .bind(&item_id)
                .fetch_optional(c)
                .await?
        });
        return Ok(exists.is_some());
    }
    // `column1..3` name the columns of a `VALUES` list on both backends.
    let rows: Vec<String> = (0..last.len())
        .map(|i| format!("(${}, ${}, ${})", 4 + 3 * i, 5 + 3 * i, 6 + 3 * i))
        .collect();
    let sql = format!(
        "INSERT INTO synced_values (board_id, item_id, key, value, source, synced_at) \
         SELECT $1, $2, column1, column2, column3, $3 FROM (VALUES {}) AS v \
         WHERE EXISTS (SELECT 1 FROM links WHERE board_id = $1 AND item_id = $2) \
         ON CONFLICT (board_id, item_id, key) DO UPDATE \
         SET value = excluded.value, source = excluded.source, synced_at = excluded.synced_at",
        rows.join(", ")
    );
    let written = with_conn!(c, c => {
        let mut q = sqlx::query(&sql).bind(&board_id).bind(&item_id).bind(now);
        for v in &last {
            q = q
                .bind(v.key.encode())
                .bind(Json(&v.value))
                .bind(v.source.as_str());
        }
        q.execute(c).await?.rows_affected()
    });
    Ok(written > 0)
}
