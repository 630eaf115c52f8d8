//! The store's error type.

use crmmap_ids::{BoardId, ItemId, RecordId, SObjectName};

/// Everything that can go wrong in the store.
///
/// Messages follow the house style (lowercase, no trailing period). A URL that
/// appears in a message always has its password redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error(
        "unsupported store url `{url}`: expected `sqlite://PATH`, `sqlite::memory:` or `postgres://...`"
    )]
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the store at `{url}`: {source}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// What the driver reported.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("cannot apply the store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("store query failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The Salesforce record is already linked to another monday item.
    #[error(
        "record `{record_id}` of `{object}` is already linked to another item than `{item_id}` on board `{board_id}`"
    )]
    LinkConflict {
        /// The board of the link that was refused.
        board_id: BoardId,
        /// The item of the link that was refused.
        item_id: ItemId,
        /// The sObject.
        object: SObjectName,
        /// The record id that is linked elsewhere.
        record_id: RecordId,
    },
    /// A retry item was completed or failed by a worker whose claim had expired or
    /// was taken over by another worker.
    #[error("retry item {id} is no longer claimed by this worker")]
    ClaimLost {
        /// The retry item.
        id: i64,
    },
    /// A run id that the store does not know.
    #[error("unknown run `{0}`")]
    UnknownRun(String),
    /// A monday item that has no link.
    #[error("item `{item_id}` on board `{board_id}` is not linked to a record")]
    UnknownLink {
        /// The board.
        board_id: BoardId,
        /// The item.
        item_id: ItemId,
    },
    /// A create intent that does not exist.
    #[error("no create intent for item `{item_id}` on board `{board_id}`")]
    UnknownIntent {
        /// The board.
        board_id: BoardId,
        /// The item.
        item_id: ItemId,
    },
    /// A create intent was already completed with another record.
    #[error(
        "the create intent of item `{item_id}` on board `{board_id}` was completed with record `{record_id}`"
    )]
    IntentCompleted {
        /// The board.
        board_id: BoardId,
        /// The item.
        item_id: ItemId,
        /// The record it was completed with.
        record_id: RecordId,
    },
    /// A Salesforce datetime that cannot be parsed.
    #[error("invalid salesforce datetime `{0}`")]
    InvalidDatetime(String),
    /// A value read back from the database is not what the schema promises.
    #[error("unexpected value in store column `{column}`: `{value}`")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
