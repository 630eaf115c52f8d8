//! The emulators for the Pub/Sub tests: a Salesforce emulator (for access tokens), a change
//! log in memory, and the Pub/Sub endpoint serving it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_emu_salesforce::pubsub::{
    self, AllocationExceeded, BodyField, EventSource, FieldKind, OutsideRetention, PubSubOptions,
    RunningPubSub, SourceEvent,
};
use crmmap_emu_salesforce::{Credentials, EmulatorOptions, RunningEmulator};
use crmmap_pubsub::{Client, PubSubConfig};
use serde_json::{Value, json};
use tokio::sync::watch;

/// A change log in memory with a purge point and a delivery allocation.
pub struct MemoryLog {
    state: Mutex<LogState>,
    latest: watch::Sender<u64>,
}

struct LogState {
    events: Vec<SourceEvent>,
    purged_through: u64,
    delivered: u64,
    allocation: u64,
}

impl MemoryLog {
    pub fn new() -> Arc<Self> {
        Arc::new(MemoryLog {
            state: Mutex::new(LogState {
                events: Vec::new(),
                purged_through: 0,
                delivered: 0,
                allocation: u64::MAX,
            }),
            latest: watch::channel(0).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event of `entity` with `payload`; returns its replay id.
    pub fn push(&self, entity: &str, payload: Value) -> u64 {
        let mut s = self.lock();
        let id = s.events.last().map_or(s.purged_through, |e| e.replay_id) + 1;
        s.events.push(SourceEvent {
            replay_id: id,
            entity: entity.into(),
            event_id: format!("evt-{id}"),
            payload,
        });
        drop(s);
        self.latest.send_replace(id);
        id
    }

    /// Forgets every event up to `replay_id` (past retention).
    pub fn purge_through(&self, replay_id: u64) {
        let mut s = self.lock();
        s.events.retain(|e| e.replay_id > replay_id);
        s.purged_through = s.purged_through.max(replay_id);
    }

    pub fn set_allocation(&self, max: u64) {
        self.lock().allocation = max;
        // Wake waiting sessions (they re-check on any change).
        self.latest.send_modify(|_| {});
    }

    pub fn delivered(&self) -> u64 {
        self.lock().delivered
    }
}

impl EventSource for MemoryLog {
    fn latest_replay_id(&self) -> u64 {
        let s = self.lock();
        s.events.last().map_or(s.purged_through, |e| e.replay_id)
    }

    fn earliest_cursor(&self) -> u64 {
        self.lock().purged_through
    }

    fn read_after(&self, after: u64, max: usize) -> Result<Vec<SourceEvent>, OutsideRetention> {
        let s = self.lock();
        if after < s.purged_through {
            return Err(OutsideRetention);
        }
        Ok(s.events
            .iter()
            .filter(|e| e.replay_id > after)
            .take(max)
            .cloned()
            .collect())
    }

    fn body_fields(&self, entity: &str) -> Option<Vec<BodyField>> {
        let scalar = |name: &str, kind| BodyField::Scalar {
            name: name.into(),
            kind,
        };
        match entity {
            "Lead" => Some(vec![
                scalar("LastModifiedDate", FieldKind::DatetimeMillis),
                BodyField::Compound {
                    name: "Name".into(),
                    components: vec![
                        ("FirstName".into(), FieldKind::String),
                        ("LastName".into(), FieldKind::String),
                    ],
                },
                scalar("Company", FieldKind::String),
                scalar("Status", FieldKind::String),
                BodyField::Compound {
                    name: "Address".into(),
                    components: vec![
                        ("Street".into(), FieldKind::String),
                        ("City".into(), FieldKind::String),
                        ("Latitude".into(), FieldKind::Double),
                    ],
                },
                scalar("AnnualRevenue", FieldKind::Double),
                scalar("NumberOfEmployees", FieldKind::Int),
                scalar("IsConverted", FieldKind::Boolean),
            ]),
            "Account" => Some(vec![
                scalar("Name", FieldKind::String),
                scalar("LastModifiedDate", FieldKind::DatetimeMillis),
            ]),
            _ => None,
        }
    }

    fn count_delivery(&self, n: u64) -> Result<(), AllocationExceeded> {
        let mut s = self.lock();
        if s.delivered.saturating_add(n) > s.allocation {
            return Err(AllocationExceeded);
        }
        s.delivered += n;
        Ok(())
    }

    fn wait_after(&self, after: u64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut rx = self.latest.subscribe();
        Box::pin(async move {
            while *rx.borrow_and_update() <= after {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

/// A header as Event Relay shows it (realtime-and-limits.md §2b).
pub fn header(change_type: &str, entity: &str, record: &str, seq: u32) -> Value {
    json!({
        "entityName": entity,
        "recordIds": [record],
        "changeType": change_type,
        "changeOrigin": "com/salesforce/api/rest/62.0",
        "transactionKey": format!("0001ade9-{seq}"),
        "sequenceNumber": seq,
        "commitTimestamp": 1_712_693_965_000_i64 + i64::from(seq),
        "commitNumber": 10_000_000_000_i64 + i64::from(seq),
        "commitUser": "0055f000005mc66AAA",
        "nulledFields": [],
        "diffFields": [],
        "changedFields": [],
    })
}

/// A Lead UPDATE of its company (a simple event to count).
pub fn lead_update(n: u32) -> Value {
    let mut h = header("UPDATE", "Lead", "00Q5f00000AAAAAAAA", n);
    h["changedFields"] = json!(["LastModifiedDate", "Company"]);
    json!({
        "ChangeEventHeader": h,
        "Company": format!("Acme {n}"),
        "LastModifiedDate": 1_712_700_000_000_i64 + i64::from(n),
    })
}

/// The emulators and a client configured for them.
pub struct World {
    pub org: RunningEmulator,
    pub log: Arc<MemoryLog>,
    pub pubsub: RunningPubSub,
    pub token: String,
}

pub fn fast_config(endpoint: &str, token: &str, batch: i32) -> PubSubConfig {
    let mut config = PubSubConfig::new(
        endpoint,
        token.into(),
        "https://example.my.salesforce.com",
        "00D5f000005KcCnEAK",
    );
    config.batch_size = batch;
    config.retries.reconnect =
        Backoff::new(Duration::from_millis(20), Duration::from_millis(100), 0.0);
    config.retries.outage_wait =
        Backoff::new(Duration::from_millis(50), Duration::from_millis(200), 0.0);
    config.retries.max_attempts = 20;
    config.retries.max_outage_waits = 100;
    config
}

impl World {
    pub async fn start(keepalive: Duration) -> World {
        let org = crmmap_emu_salesforce::start(EmulatorOptions::default())
            .await
            .expect("salesforce emulator");
        let token = token(&org).await;
        let log = MemoryLog::new();
        let pubsub = pubsub::start(
            org.state().clone(),
            log.clone(),
            PubSubOptions { port: 0, keepalive },
        )
        .await
        .expect("pub/sub emulator");
        World {
            org,
            log,
            pubsub,
            token,
        }
    }

    pub fn client(&self, batch: i32) -> Client {
        Client::new(fast_config(&self.pubsub.endpoint(), &self.token, batch)).expect("client")
    }

    /// Stops the Pub/Sub endpoint and starts it again on the same port (open streams end
    /// with `UNAVAILABLE`, as in a server restart).
    pub async fn restart_pubsub(&mut self, keepalive: Duration) {
        let port = self.pubsub.addr().port();
        let replacement = start_on(&self.org, &self.log, 0, keepalive).await;
        std::mem::replace(&mut self.pubsub, replacement)
            .shutdown()
            .await;
        let on_port = start_on(&self.org, &self.log, port, keepalive).await;
        std::mem::replace(&mut self.pubsub, on_port)
            .shutdown()
            .await;
    }
}

async fn start_on(
    org: &RunningEmulator,
    log: &Arc<MemoryLog>,
    port: u16,
    keepalive: Duration,
) -> RunningPubSub {
    for _ in 0..50 {
        if let Ok(p) = pubsub::start(
            org.state().clone(),
            log.clone(),
            PubSubOptions { port, keepalive },
        )
        .await
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("port {port} did not come free");
}

/// An access token from the emulator's OAuth endpoint (client credentials).
pub async fn token(org: &RunningEmulator) -> String {
    let c = Credentials::default();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", org.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token body");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Pushes a Lead update every 100 ms until aborted, so a subscription that opens at an
/// unknown moment sees new events whenever it opens.
pub fn keep_pushing(log: &Arc<MemoryLog>, from: u32) -> tokio::task::JoinHandle<()> {
    let log = log.clone();
    tokio::spawn(async move {
        for n in from.. {
            log.push("Lead", lead_update(n));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// A replay id as the emulator sends it.
pub fn replay(id: u64) -> Vec<u8> {
    id.to_be_bytes().to_vec()
}
