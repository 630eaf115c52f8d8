//! crmmap's webhook runner: monday.com board events applied to Salesforce, in real time.
//!
//! ```text
//! POST /webhooks/monday[/{token}] ─► size limit ─► auth (JWT or path token) ─► parse
//!     ─► challenge? echo it
//!     ─► skipped for what it is (unmapped board, unhandled type, crmmap's own user)? record
//!        it (dedup) with its log row, one commit
//!     ─► item lock + event claim (store, one step: dedup) ─► read the item (one call, only
//!        the columns needed) while the store reads its link and last-synced values (one
//!        query) ─► compare with last-synced ─► engine eval ─► Salesforce write
//!        (If-Unmodified-Since) ─► outcome + last-synced values + sync log (one commit)
//!     ─► failure, classified (`crmmap_sync::failure`): the same commit queues the retry,
//!        or the dead letter when the item itself is refused (200 to monday); a panic while
//!        applying is such a failure. The queue is drained by [`drain`] (`crmmap serve`'s
//!        supervised task, `crmmap retry`, the schedule)
//! GET /health ─► store ping; the Pub/Sub subscriptions; the drain's last progress (503 when
//!     one stopped or stalled)
//! ```
//!
//! One [`Webhook`] per process holds the [`RunContext`] (plans, clients with their token
//! cache, the store's pool); [`Webhook::router`] is the one axum `Router` that both
//! `crmmap serve` and the Lambda function serve.
//!
//! Where the API references are UNCERTAIN, the choice is made in one place:
//!
//! | fact | choice | where |
//! |---|---|---|
//! | redelivery keeps `triggerUuid`; `originalTriggerUuid` (undocumented, always `null` in captures) may be shared by distinct events | deduplicate on `triggerUuid` only; the original is kept in the sync log | [`crmmap_store::event_dedup_key`] |
//! | JWT bare or `Bearer` in `Authorization` | both | `auth::jwt_of` |
//! | JWT algorithm and claims; `aud` is the endpoint URL as registered | HS256, `exp` required; `aud` must be `CRMMAP_PUBLIC_URL` + the request path when that is set, else not checked | `auth::validation` |
//! | delete/archive payloads name `itemId` or `pulseId` | both | [`event::parse_event`] |
//! | board-relation webhook `value` shape | the item is read anyway; the payload is only a fallback | `apply::links` |
//! | a record created before a crash, without an external id | a lookup by name fields, `CreatedDate` and crmmap's own `CreatedById` | `apply::once` (`reconcile`) |
//! | `If-Unmodified-Since` has second granularity | the last-seen time is kept per item ([`LAST_SEEN_KEY`]); an unknown time means read first | `apply::update` (`update_record`) |

pub mod alerts;
pub mod apply;
pub mod auth;
pub mod drain;
pub mod event;
mod handle;
mod http;
mod options;
pub mod salesforce;
mod serve;

use std::sync::Arc;
use std::time::Duration;

use crmmap_sync::RunContext;

pub use crate::alerts::{Alert, AlertConfig, Alerter};
pub use crate::apply::{ApplyError, Done, LAST_SEEN_KEY, rule_key};
pub use crate::auth::{AuthConfig, AuthError, SecretString};
pub use crate::drain::DrainReport;
pub use crate::event::{BadRequest, Event, EventKind, Incoming};
pub use crate::handle::RETRY_KIND;
pub use crate::http::{strip_path_prefix, without_path_prefix};
pub use crate::options::{DEFAULT_MAX_BODY_BYTES, EXTERNAL_ID_FIELD_ENV, WebhookOptions};
pub use crate::serve::init_logging;

/// The webhook runner: built once per process, cheap to clone.
#[derive(Clone)]
pub struct Webhook {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: RunContext,
    options: WebhookOptions,
    alerter: Alerter,
    /// When this process's retry drain last made progress (see [`Webhook::last_drain`]).
    drain_beat: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// The interval of the drain [`Webhook::serve`] runs, if it runs one.
    drain_every: std::sync::Mutex<Option<Duration>>,
    /// The Pub/Sub subscriptions' states (empty when none runs).
    subscribers: salesforce::subscriber::Health,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("store", &self.inner.ctx.store)
            .field("options", &self.inner.options)
            .finish()
    }
}

/// What the handler answered for an event (the JSON body's `outcome`).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Applied now (or deliberately skipped); see the sync log.
    Done(Done),
    /// Already applied: a redelivery.
    Duplicate,
    /// Could not be applied now: in the retry queue.
    Queued(String),
    /// Refused for good (a value Salesforce rejects, a bug): a dead letter, alerted.
    DeadLetter(String),
}

impl Webhook {
    /// A runner over a built context.
    pub fn new(ctx: RunContext, options: WebhookOptions) -> Webhook {
        let alerter = Alerter::new(options.alerts.clone());
        Webhook {
            inner: Arc::new(Inner {
                ctx,
                options,
                alerter,
                drain_beat: std::sync::Mutex::new(None),
                drain_every: std::sync::Mutex::new(None),
                subscribers: salesforce::subscriber::Health::default(),
            }),
        }
    }

    /// The context.
    pub fn context(&self) -> &RunContext {
        &self.inner.ctx
    }

    /// The options.
    pub fn options(&self) -> &WebhookOptions {
        &self.inner.options
    }
}
