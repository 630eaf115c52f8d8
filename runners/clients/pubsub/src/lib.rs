//! A client of Salesforce's Pub/Sub API (gRPC) for change events.
//!
//! ```text
//! Subscribe (FetchRequest ⇄ FetchResponse) → ConsumerEvent { replay_id, Avro payload }
//!   → GetSchema (cached by schema id) → Avro value → Event Relay JSON (bitmaps → field names)
//!   → Batch { events: [(replay id, payload)], latest_replay_id } → the caller applies, checkpoints
//! ```
//!
//! The proto is Salesforce's `pubsub_api.proto`, vendored in `proto/` and compiled by
//! `build.rs` (protox and tonic, no `protoc`). [`Client`] holds the channel, the auth metadata
//! (`accesstoken`, `instanceurl`, `tenantid`; the token is a [`crmmap_secret::Secret`] and a
//! sensitive header value, never logged) and the schema cache; [`Subscription`] keeps a stream
//! open with flow control and reconnects; [`avro_json`] and [`bitmap`] decode events.
//!
//! ```no_run
//! # async fn demo() -> Result<(), crmmap_pubsub::PubSubError> {
//! use crmmap_pubsub::{Client, Delivery, PubSubConfig, Start};
//! let config = PubSubConfig::new(
//!     crmmap_pubsub::ENDPOINT,
//!     "00D…!token".into(),
//!     "https://example.my.salesforce.com",
//!     "00D000000000001AAA",
//! );
//! let client = Client::new(config)?;
//! let mut leads = client.subscribe("/data/LeadChangeEvent", Start::Latest);
//! loop {
//!     match leads.next().await? {
//!         Delivery::Batch(batch) => {
//!             for event in &batch.events { /* apply event.payload */ }
//!             /* checkpoint batch.latest_replay_id */
//!         }
//!         Delivery::Gap(gap) => { /* reconcile from gap.since */ }
//!     }
//! }
//! # }
//! ```

pub mod avro_json;
pub mod bitmap;
mod client;
pub mod error;
mod subscription;

/// The types generated from `proto/pubsub_api.proto` (package `eventbus.v1`): messages, the
/// client and the server.
#[expect(
    clippy::allow_attributes,
    clippy::allow_attributes_without_reason,
    clippy::doc_lazy_continuation,
    reason = "tonic's generated code carries its own `allow`s; the proto's comments are Salesforce's"
)]
pub mod proto {
    tonic::include_proto!("eventbus.v1");
}

pub use avro_json::{DecodeError, EventSchema};
pub use client::{Auth, Client, ENDPOINT, MAX_REQUESTED, PubSubConfig, Retries};
pub use error::{Class, PubSubError};
pub use subscription::{Batch, DecodeErrorMessage, Delivery, Event, Gap, Start, Subscription};
