//! Salesforce REST client used by crmmap runners.
//!
//! - OAuth 2.0: password, client credentials, JWT bearer (RS256) and refresh-token flows.
//!   The token is cached and shared by clones; on `401 INVALID_SESSION_ID` the client gets a
//!   new one (one request at a time, however many calls are waiting) and replays the call
//!   once. Credentials and tokens are [`Secret`]s and never appear in `Debug` output.
//! - SOQL: [`soql::Soql`] builds statements from typed literals ([`soql::quote_soql`]).
//! - Queries stream pages or records, following `nextRecordsUrl`.
//! - Rows: get, create, update, conditional update ([`SalesforceClient::update_if_unmodified`]:
//!   `If-Unmodified-Since`, 412 → [`ConditionalUpdate::Modified`]), delete,
//!   upsert by external id; sObject Collections in batches of 200; describe; limits.
//! - Transient failures (5xx, `UNABLE_TO_LOCK_ROW`, connection errors, timeouts) are retried
//!   with exponential backoff and full jitter; 4xx errors never are;
//!   `REQUEST_LIMIT_EXCEEDED` stops with [`Error::RequestLimitExceeded`].
//! - Every write carries `Sforce-Call-Options: client=crmmap`; the latest `Sforce-Limit-Info`
//!   is kept ([`SalesforceClient::limit_info`], [`SalesforceClient::api_usage`]). Once the
//!   org's usage is above `100 - api_headroom_percent` percent of its allocation, calls fail
//!   with [`Error::AllocationReached`] without being sent (one recheck call every
//!   `allocation_recheck`); [`SalesforceClient::check_api_allocation`] asks before a batch.

mod auth;
mod client;
pub mod config;
pub mod error;
pub mod ids;
pub mod soql;
pub mod types;

pub use client::{COLLECTION_BATCH, SalesforceClient, Session, http_date};
pub use config::{AuthFlow, Config, DEFAULT_API_HEADROOM_PERCENT, RetryPolicy, jwt_audience_for};
pub use crmmap_secret::Secret;
pub use error::{ApiError, Error, ErrorDetail, Result};
pub use types::{
    ApiUsage, Attributes, ConditionalUpdate, FieldDescribe, FieldType, GlobalDescribe, LimitInfo,
    LimitValue, Limits, NewRecord, PicklistValue, QueryResponse, Record, RecordResult,
    RecordUpdate, SObjectDescribe, SaveResult, UpsertOutcome,
};
