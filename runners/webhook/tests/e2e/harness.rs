//! The world of an end-to-end test: both emulators on 127.0.0.1, a fresh store (SQLite file
//! or PostgreSQL database), the shipped mappings, and the webhook runner served over HTTP with
//! the monday emulator's outgoing webhooks pointed at it.

use std::time::Duration;

use crmmap_emu_monday::Delivery;
use crmmap_engine::PlanSet;
use crmmap_monday::MondayClient;
use crmmap_store::{Backend, Store};
use crmmap_sync::RunContext;
use crmmap_testkit::{Database, Emulators, run_context};
use crmmap_webhook::{AuthConfig, SecretString, Webhook, WebhookOptions};
use serde_json::{Map, Value, json};

pub use crmmap_ids::{BoardId, ItemId, SObjectName};
pub use crmmap_testkit::{eventually, monday_client, salesforce_client, shipped_plans as plans};

/// A board id the tests name by number or text.
pub fn bid(board: impl ToString) -> BoardId {
    BoardId::parse(&board.to_string()).expect("a board id")
}

/// An item id the tests name by number or text.
pub fn iid(item: impl ToString) -> ItemId {
    ItemId::parse(&item.to_string()).expect("an item id")
}

pub const TOKEN: &str = "test-path-token-0123456789";
pub const LEAD: u64 = 9_378_000_505;
pub const ACCOUNT: u64 = 9_378_000_326;
pub const CONTACT: u64 = 9_429_890_440;
pub const OPPORTUNITY: u64 = 9_378_000_036;

/// A retry policy without delays (every queued item is due at once), for tests that drain.
pub fn retry_at_once(max_attempts: u32) -> crmmap_store::RetryPolicy {
    crmmap_store::RetryPolicy {
        max_attempts,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        jitter: 0.0,
    }
}

/// How to set a test world up.
pub struct Setup {
    pub backend: Backend,
    pub plans: PlanSet,
    pub options: WebhookOptions,
    pub monday_user_id: Option<u64>,
    /// Client-side retries (0: every fault reaches the runner).
    pub client_retries: bool,
    /// Point the monday emulator's webhooks at the runner.
    pub deliver: bool,
    /// Have the monday emulator sign deliveries with this secret.
    pub sign: Option<&'static str>,
    /// Latency both emulators add to every request.
    pub latency: Duration,
    /// Generated items per sample board.
    pub items_per_board: usize,
    /// Drain the retry queue in the server every so often, as `crmmap serve` does (`None`:
    /// the test drains).
    pub retry_every: Option<Duration>,
    /// The runner's clock.
    pub clock: crmmap_sync::Clock,
}

impl Setup {
    pub fn new(backend: Backend) -> Setup {
        Setup {
            backend,
            plans: plans(),
            options: WebhookOptions {
                auth: AuthConfig {
                    signing_secret: None,
                    require_signature: false,
                    path_token: Some(SecretString::new(TOKEN)),
                    public_url: None,
                },
                ..WebhookOptions::default()
            },
            monday_user_id: None,
            client_retries: true,
            deliver: true,
            sign: None,
            latency: Duration::ZERO,
            items_per_board: 0,
            retry_every: None,
            clock: crmmap_sync::system_clock(),
        }
    }
}

pub struct World {
    pub sf: crmmap_emu_salesforce::RunningEmulator,
    pub monday: crmmap_emu_monday::RunningEmulator,
    pub webhook: Webhook,
    pub store: Store,
    pub base: String,
    pub hook_url: String,
    /// A person editing monday (same emulator token).
    pub human: MondayClient,
    pub http: reqwest::Client,
    pub db: Database,
    server: tokio::task::JoinHandle<()>,
}

impl World {
    /// Migrates the Leads (linked to items, last-synced values stored).
    pub async fn migrate_leads(&self) {
        let options = crmmap_sync::migrate::MigrateOptions {
            objects: vec!["Lead".into()],
            ..crmmap_sync::migrate::MigrateOptions::default()
        };
        crmmap_sync::migrate::run(
            self.webhook.context(),
            &options,
            &mut crmmap_sync::migrate::NoProgress,
        )
        .await
        .expect("migrate leads");
    }

    pub async fn start(setup: Setup) -> Option<World> {
        let db = Database::new(setup.backend).await?;
        let store = db.connect().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let hook_url = format!("{base}/webhooks/monday/{TOKEN}");
        let Emulators {
            salesforce: sf,
            monday,
        } = Emulators::start_with(
            crmmap_emu_salesforce::EmulatorOptions {
                latency: setup.latency,
                ..crmmap_emu_salesforce::EmulatorOptions::default()
            },
            crmmap_emu_monday::EmulatorOptions {
                webhook_targets: if setup.deliver {
                    vec![hook_url.clone()]
                } else {
                    vec![]
                },
                minute: Duration::from_millis(200),
                webhook_signing_secret: setup.sign.map(crmmap_monday::Secret::new),
                latency: setup.latency,
                generated_items_per_board: setup.items_per_board,
                max_items_per_board: setup.items_per_board + 10_000,
                ..crmmap_emu_monday::EmulatorOptions::default()
            },
        )
        .await;
        let ctx = RunContext {
            clock: setup.clock,
            monday_user_id: setup.monday_user_id,
            ..run_context(
                setup.plans,
                salesforce_client(&sf.base_url(), setup.client_retries),
                monday_client(&monday.base_url(), setup.client_retries),
                store.clone(),
            )
        };
        let webhook = Webhook::new(ctx, setup.options);
        // Served the way `crmmap serve` serves it (without its periodic drain unless asked:
        // tests drain).
        let served = webhook.clone();
        let retry_every = setup.retry_every;
        let server = tokio::spawn(async move {
            let _ = served
                .serve(listener, retry_every, std::future::pending())
                .await;
        });
        let human = monday_client(&monday.base_url(), true);
        Some(World {
            sf,
            monday,
            webhook,
            store,
            base,
            hook_url,
            human,
            http: reqwest::Client::new(),
            db,
            server,
        })
    }

    pub async fn stop(self) {
        self.server.abort();
        self.store.close().await;
        self.monday.shutdown().await;
        self.sf.shutdown().await;
    }

    /// Waits until a delivery whose `event` satisfies `pred` was acknowledged; returns it.
    pub async fn delivered(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Delivery {
        let d = self
            .monday
            .state()
            .webhooks()
            .wait_for(Duration::from_secs(60), |d| {
                d.iter().any(|d| d.acknowledged() && pred(&d.body["event"]))
            })
            .await;
        d.into_iter()
            .find(|d| d.acknowledged() && pred(&d.body["event"]))
            .unwrap_or_else(|| panic!("never delivered: {what}"))
    }

    /// Changes one column as a person would and waits until its event was handled.
    pub async fn set(&self, board: u64, item: &str, column: &str, value: Value) -> Delivery {
        let before = self
            .monday
            .state()
            .webhooks()
            .deliveries()
            .iter()
            .filter(|d| is_column_event(&d.body["event"], item, column) && d.acknowledged())
            .count();
        self.change(board, item, json!({ column: value })).await;
        let d = self
            .monday
            .state()
            .webhooks()
            .wait_for(Duration::from_secs(60), |d| {
                d.iter()
                    .filter(|d| is_column_event(&d.body["event"], item, column) && d.acknowledged())
                    .count()
                    > before
            })
            .await;
        d.into_iter()
            .rev()
            .find(|d| is_column_event(&d.body["event"], item, column) && d.acknowledged())
            .unwrap_or_else(|| panic!("no event for {item}/{column}"))
    }

    /// Creates an item as a person would; returns its id. A create whose answer an injected
    /// fault took (the client does not resend it) is looked up by its name before it is made
    /// again, as a person would look at the board.
    pub async fn create_item(&self, board: u64, name: &str, columns: Value) -> String {
        let cols: Map<String, Value> = columns.as_object().cloned().unwrap_or_default();
        for _ in 0..20 {
            match self
                .human
                .create_item(board.into(), name, cols.clone(), false)
                .await
            {
                Ok(created) => return created.item_id.to_string(),
                Err(crmmap_monday::MondayError::OutcomeUnknown { .. }) => {
                    let made = self.monday.state().active_items(board);
                    if let Some(item) = made.iter().find(|i| i.name == name) {
                        return item.id.to_string();
                    }
                }
                Err(e) => panic!("create item: {e}"),
            }
        }
        panic!("create item: no answer after 20 attempts")
    }

    /// Creates an item and waits for the runner to create its record and write the id back;
    /// returns the item id and the record id.
    pub async fn create_linked(&self, board: u64, name: &str, columns: Value) -> (String, String) {
        let item = self.create_item(board, name, columns).await;
        let id = item.clone();
        self.delivered("create", |e| {
            e["type"] == "create_pulse" && id_is(&e["pulseId"], &id)
        })
        .await;
        let plan = self
            .webhook
            .context()
            .plans
            .plan_for_board(BoardId::new(board))
            .unwrap()
            .key_column
            .clone();
        // The write-back of the record id comes back as an event too: wait for it.
        self.delivered("write-back", |e| {
            e["type"] == "update_column_value"
                && id_is(&e["pulseId"], &id)
                && e["columnId"] == plan.as_str()
        })
        .await;
        let link = self
            .store
            .link_by_item(bid(board.to_string()), iid(&item))
            .await
            .unwrap()
            .expect("item linked");
        (item, link.record_id.to_string())
    }

    pub async fn change(&self, board: u64, item: &str, columns: Value) {
        let cols: Map<String, Value> = columns.as_object().cloned().unwrap_or_default();
        self.human
            .change_column_values(board.into(), item.parse().expect("an item id"), cols, false)
            .await
            .expect("change columns");
    }

    pub fn record(&self, id: &str) -> Map<String, Value> {
        self.sf.state().record(id).expect("record exists")
    }

    /// A Lead linked to an item, converted or not (the sample data has both; Salesforce
    /// refuses updates of converted Leads).
    pub async fn linked_lead(&self, converted: bool) -> crmmap_store::Link {
        self.webhook
            .context()
            .store
            .links_for_object(&SObjectName::new("Lead"))
            .await
            .unwrap()
            .into_iter()
            .find(|l| {
                (self.record(l.record_id.as_str())["IsConverted"] == json!(true)) == converted
            })
            .unwrap_or_else(|| panic!("the sample data has a linked Lead (converted: {converted})"))
    }

    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        self.sf.state().records(object)
    }

    pub async fn post(&self, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(&self.hook_url)
            .json(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn log_reasons(&self) -> Vec<String> {
        self.store
            .query_log(&crmmap_store::LogFilter {
                limit: 1000,
                ..crmmap_store::LogFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.entry.action.as_str(),
                    r.entry.request_summary.unwrap_or_default(),
                    r.entry.reason.unwrap_or_default()
                )
            })
            .collect()
    }
}

/// A monday event body (for requests crafted by the test).
pub fn event(kind: &str, board: u64, item: u64, uuid: &str, extra: Value) -> Value {
    let mut e = json!({
        "app": "monday", "type": kind, "triggerTime": "2026-01-01T12:00:00.000Z",
        "subscriptionId": 1, "isRetry": false, "userId": 1, "originalTriggerUuid": null,
        "boardId": board, "pulseId": item, "triggerUuid": uuid,
    });
    if let (Some(m), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        m.extend(x.clone());
    }
    json!({ "event": e })
}

pub fn is_column_event(e: &Value, item: &str, column: &str) -> bool {
    e["type"] == "update_column_value" && id_is(&e["pulseId"], item) && e["columnId"] == column
}

/// Whether a JSON id (a number, as monday sends) is `id`.
pub fn id_is(v: &Value, id: &str) -> bool {
    v.as_u64().is_some_and(|n| n.to_string() == id)
}

/// Waits until every delivery so far was acknowledged and no new one came for a while.
pub async fn settled(w: &World) {
    let mut last = usize::MAX;
    let mut stable = 0;
    for _ in 0..6_000 {
        let d = w.monday.state().webhooks().deliveries();
        let done = d.iter().all(|d| d.acknowledged());
        if done && d.len() == last {
            stable += 1;
            if stable >= 30 {
                return;
            }
        } else {
            stable = 0;
        }
        last = d.len();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("deliveries never settled");
}
