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
//! `complexity` object of each response; rate limits (429) are waited out, 423 and 5xx are
//! retried with exponential backoff and jitter.
//!
//! ```
//! use crmmap_monday::documents::{ItemMutation, build_batch};
//! use crmmap_monday::schema::validate_document;
//!
//! let batch = build_batch(&[ItemMutation::DeleteItem { item_id: "1".into() }]);
//! assert!(validate_document(&batch.query).is_ok());
//! ```

pub mod budget;
pub mod client;
pub mod config;
pub mod documents;
pub mod error;
pub mod schema;
pub mod secret;
pub mod types;
pub mod write;

pub use client::{GraphQlResponse, MondayClient, MutationResult, PageRequest};
pub use config::MondayConfig;
pub use documents::ItemMutation;
pub use error::{MondayError, is_item_gone};
pub use schema::{DocumentError, SCHEMA_SDL, schema, validate_document};
pub use secret::Secret;
pub use types::{Board, Column, ColumnValue, Complexity, Item, ItemsPage, Webhook};
pub use write::CreateRecovery;
