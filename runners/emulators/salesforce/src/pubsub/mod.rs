//! The Pub/Sub API (gRPC) side of the emulator, on its own port: Subscribe, GetSchema and
//! GetTopic over the org's change log (realtime-and-limits.md §3).
//!
//! - Topics `/data/<Entity>ChangeEvent` (`/data/Grant__ChangeEvent` for `Grant__c`) and
//!   `/data/ChangeEvents` (every entity).
//! - Each event is Avro-encoded with a per-entity schema built from the entity's body fields
//!   ([`avro`]); the header's field lists are sent as bitmaps. GetSchema answers by schema id.
//! - Replay ids are the log's, as 8 bytes big-endian. `LATEST`, `EARLIEST` and `CUSTOM`
//!   (starting after the id) are honoured on the first FetchRequest.
//! - Flow control: never more events than requested, at most 100 outstanding (excess is
//!   clamped); a keepalive with `latest_replay_id` when nothing was sent for `keepalive`.
//! - A replay id outside retention, malformed or from the future: the stream fails with
//!   `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted` in the `error-code`
//!   trailer (§1e). Deliveries count against the org's delivery allocation, shared with every
//!   other subscriber; once it is used up the stream fails with
//!   `sfdc.platform.eventbus.grpc.subscription.limit.exceeded` (§1d).
//! - Calls need the metadata `accesstoken` (a token the emulator issued), `instanceurl` and
//!   `tenantid`; otherwise `UNAUTHENTICATED`.

pub mod avro;
mod change_log;
mod service;
pub mod source;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crmmap_pubsub::proto::pub_sub_server::PubSubServer;
use tokio_stream::wrappers::TcpListenerStream;

pub use service::PubSubCounters;
pub use source::{
    AllocationExceeded, BodyField, EventSource, FieldKind, OutsideRetention, SourceEvent,
};

use crate::SalesforceEmulator;

/// How the Pub/Sub endpoint starts.
#[derive(Clone, Debug)]
pub struct PubSubOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// A keepalive is sent after this long without a response (Salesforce: "within 270
    /// seconds", §3).
    pub keepalive: Duration,
}

impl Default for PubSubOptions {
    fn default() -> Self {
        PubSubOptions {
            port: 0,
            keepalive: Duration::from_secs(270),
        }
    }
}

/// A running Pub/Sub endpoint.
pub struct RunningPubSub {
    addr: SocketAddr,
    counters: Arc<PubSubCounters>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningPubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningPubSub")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningPubSub {
    /// `http://127.0.0.1:PORT`, the client's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Calls and events counted so far.
    pub fn counters(&self) -> &PubSubCounters {
        &self.counters
    }

    /// Stops serving: open streams end with `UNAVAILABLE`, as a server restart does.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for RunningPubSub {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl SalesforceEmulator {
    /// Serves the Pub/Sub API over this org's change log (the same log, and the same delivery
    /// allocation, as the EventBridge relay).
    pub async fn start_pubsub(&self, opts: PubSubOptions) -> std::io::Result<RunningPubSub> {
        start(self.clone(), Arc::new(self.change_log()), opts).await
    }
}

/// Serves the Pub/Sub API for `org` (whose access tokens it accepts) over `source`.
pub async fn start(
    org: SalesforceEmulator,
    source: Arc<dyn EventSource>,
    opts: PubSubOptions,
) -> std::io::Result<RunningPubSub> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
    let addr = listener.local_addr()?;
    let counters = Arc::new(PubSubCounters::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let svc = service::Service {
        org,
        source,
        schemas: Arc::new(Mutex::new(HashMap::new())),
        counters: counters.clone(),
        keepalive: opts.keepalive,
        stop: stopped,
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = tonic::transport::Server::builder()
            .add_service(PubSubServer::new(svc))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "pub/sub emulator stopped with an error");
        }
    });
    Ok(RunningPubSub {
        addr,
        counters,
        shutdown: Some(tx),
        stop,
        task: Some(task),
    })
}
