//! monday.com GraphQL client for crmmap runners.
//!
//! ```text
//! MondayConfig ──► MondayClient ──send(document, variables)──► POST /v2 ──► GraphQlResponse
//!                      │  reads: boards/columns, items by id, items_page → next_items_page,
//!                      │         items_page_by_column_values
//!                      └─ writes: ItemMutation[] ──build_batch──► aliased mutation documents
//!                                 (a batch with creates is never resent blindly: [`write`])
//! ```
//!
//! Every document the client sends is in [`documents`] and validates against the official
//! SDL ([`schema::SCHEMA_SDL`]). Requests are paced by a [`budget::BudgetTracker`] fed by the
//! `complexity` object of each response, and at most [`MondayConfig::max_concurrency`] are in
//! flight at once. Rate limits (HTTP 429, or an error naming the complexity budget, the minute,
//! concurrency or IP limit: [`error::limit_named`]) are waited out while one call's waits stay
//! within [`MondayConfig::max_wait`], and fail the call as [`MondayError::RateLimited`] past it;
//! the daily limit fails it at once as [`MondayError::DailyLimit`]. 423 and 5xx are retried
//! with exponential backoff and jitter. A not-found answer that leaves open whether the board
//! is missing is checked against the board ([`MondayClient::board_exists`]).
//!
//! ```
//! use crmmap_monday::documents::{ItemMutation, build_batch};
//! use crmmap_monday::schema::validate_document;
//!
//! use crmmap_monday::ItemId;
//!
//! let batch = build_batch(&[ItemMutation::DeleteItem { item_id: ItemId::new(1) }]);
//! assert!(validate_document(&batch.query).is_ok());
//! ```

pub mod budget;
pub mod client;
pub mod config;
pub mod documents;
pub mod error;
pub mod schema;
pub mod types;
pub mod write;

pub use client::{GraphQlResponse, MondayClient, MutationResult, PageRequest};
pub use config::MondayConfig;
pub use crmmap_ids::{BoardId, ColumnId, ItemId};
pub use crmmap_secret::Secret;
pub use documents::ItemMutation;
pub use error::{MondayError, is_item_gone};
pub use schema::{DocumentError, SCHEMA_SDL, schema, validate_document};
pub use types::{Board, Column, ColumnValue, Complexity, Item, ItemsPage, Webhook};
pub use write::CreateRecovery;
