//! `crmmap serve`'s Pub/Sub subscriber against the Salesforce emulator's gRPC endpoint: a
//! person's edit reaches monday; a restart resumes from the stored checkpoint with nothing
//! lost and nothing written twice; a replay id past retention resubscribes `LATEST` and
//! reconciles; a permanent failure shows in `/health`; an endpoint outage reconnects.

use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_emu_salesforce::pubsub::{PubSubOptions, RunningPubSub};
use crmmap_store::Backend;
use crmmap_webhook::salesforce::subscriber::{SubscriberOptions, Subscribers};
use serde_json::json;

use crate::harness::{SObjectName, Setup, World, eventually};

const CITY: &str = "text_mkrym6fa";
const LEAD_TOPIC: &str = "/data/LeadChangeEvent";

crmmap_testkit::backend_tests!(
    salesforce_pubsub;
    a_persons_edit_reaches_monday_through_the_subscriber,
    a_restart_resumes_from_the_checkpoint_without_loss_or_duplicate,
    a_replay_id_past_retention_resubscribes_latest_and_reconciles,
    a_checkpoint_older_than_retention_starts_latest_and_reconciles,
    a_permanent_failure_stops_its_channel_and_shows_in_health,
    an_endpoint_outage_reconnects_and_loses_nothing,
);

struct Rig {
    w: World,
    pubsub: RunningPubSub,
}

async fn start_pubsub(w: &World, port: u16) -> RunningPubSub {
    w.sf.state()
        .start_pubsub(PubSubOptions {
            port,
            keepalive: Duration::from_millis(100),
        })
        .await
        .expect("pub/sub endpoint")
}

async fn rig(backend: Backend) -> Option<Rig> {
    rig_with(Setup::new(backend)).await
}

async fn rig_with(mut s: Setup) -> Option<Rig> {
    s.deliver = false;
    let w = World::start(s).await?;
    w.migrate_leads().await;
    let pubsub =
        w.sf.state()
            .start_pubsub(PubSubOptions {
                port: 0,
                keepalive: Duration::from_millis(100),
            })
            .await
            .expect("pub/sub endpoint");
    Some(Rig { w, pubsub })
}

fn fast(endpoint: &str) -> SubscriberOptions {
    let quick = Backoff::new(Duration::from_millis(20), Duration::from_millis(200), 0.0);
    SubscriberOptions {
        retries: crmmap_pubsub::Retries {
            reconnect: quick,
            outage_wait: quick,
            max_attempts: 5,
            max_outage_waits: 5,
        },
        restart: quick,
        stall_after: Duration::from_secs(5),
        ..SubscriberOptions::new(endpoint)
    }
}

impl Rig {
    /// Starts the subscriber and waits until the Lead channel has a checkpoint (its stream
    /// is open: the emulator's keepalive carries the latest replay id).
    async fn subscribe(&self) -> Subscribers {
        self.subscribe_with(fast(&self.pubsub.endpoint())).await
    }

    async fn subscribe_with(&self, options: SubscriberOptions) -> Subscribers {
        let subscribers = self.w.webhook.start_subscribers(options);
        assert!(subscribers.topics().iter().any(|t| t == LEAD_TOPIC));
        eventually("the lead channel is checkpointed", || async {
            self.w
                .store
                .replay_checkpoint_at(LEAD_TOPIC)
                .await
                .unwrap()
                .is_some()
        })
        .await;
        subscribers
    }

    async fn unconverted_leads(&self) -> Vec<crmmap_store::Link> {
        self.w
            .store
            .links_for_object(&SObjectName::new("Lead"))
            .await
            .unwrap()
            .into_iter()
            .filter(|l| self.w.record(l.record_id.as_str())["IsConverted"] != json!(true))
            .collect()
    }

    fn city_of(&self, item: u64) -> Option<String> {
        self.w
            .monday
            .state()
            .item(item)
            .and_then(|i| i.values.get(CITY).map(|v| v.to_string()))
    }

    async fn city_reaches(&self, link: &crmmap_store::Link, city: &str) {
        let item = link.item_id.get();
        eventually(&format!("{city} reaches monday"), || async {
            self.city_of(item).is_some_and(|v| v.contains(city))
        })
        .await;
    }

    async fn health(&self) -> (u16, serde_json::Value) {
        let r = self
            .w
            .http
            .get(format!("{}/health", self.w.base))
            .send()
            .await
            .expect("health");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    fn mutations(&self) -> u64 {
        self.w.monday.state().counters().mutations
    }

    async fn stop(self) {
        self.pubsub.shutdown().await;
        self.w.stop().await;
    }
}

pub async fn a_persons_edit_reaches_monday_through_the_subscriber(backend: Backend) {
    let Some(r) = rig(backend).await else {
        return;
    };
    let subscribers = r.subscribe().await;
    let lead = r.unconverted_leads().await.remove(0);
    let before = r.mutations();
    assert!(
        r.w.sf
            .state()
            .update_record(lead.record_id.as_str(), json!({ "City": "Streamville" }))
    );
    r.city_reaches(&lead, "Streamville").await;
    // One event, one monday request; the checkpoint moved past the event.
    assert_eq!(r.mutations() - before, 1);
    let latest = r.w.sf.state().change_log().latest_replay_id();
    eventually("the checkpoint is the event's replay id", || async {
        r.w.store
            .replay_checkpoint_at(LEAD_TOPIC)
            .await
            .unwrap()
            .is_some_and(|cp| cp.replay_id == latest.to_be_bytes())
    })
    .await;
    subscribers.stop().await;
    r.stop().await;
}

pub async fn a_restart_resumes_from_the_checkpoint_without_loss_or_duplicate(backend: Backend) {
    let Some(r) = rig(backend).await else {
        return;
    };
    let a = &r.unconverted_leads().await.remove(0);
    let subscribers = r.subscribe().await;
    let before = r.mutations();
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "Before Stop" }))
    );
    r.city_reaches(a, "Before Stop").await;
    subscribers.stop().await;
    // While stopped: two edits.
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "While Stopped 1" }))
    );
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "While Stopped 2" }))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.mutations() - before, 1, "nothing applied while stopped");
    let subscribers = r.subscribe().await;
    r.city_reaches(a, "While Stopped 2").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Exactly one request per event: the event before the stop was not replayed.
    assert_eq!(r.mutations() - before, 3);
    subscribers.stop().await;
    r.stop().await;
}

pub async fn a_replay_id_past_retention_resubscribes_latest_and_reconciles(backend: Backend) {
    let Some(r) = rig(backend).await else {
        return;
    };
    let a = &r.unconverted_leads().await.remove(0);
    let subscribers = r.subscribe().await;
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "Before Gap" }))
    );
    r.city_reaches(a, "Before Gap").await;
    subscribers.stop().await;
    // Edited while stopped, then the emulator's clock passes the 72-hour retention: the edit's
    // event and the checkpointed replay id are purged.
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "During Gap" }))
    );
    r.w.sf
        .state()
        .change_log()
        .advance_clock(Duration::from_secs(73 * 3600));
    let subscribers = r.subscribe().await;
    // The reconcile (an incremental migration from the checkpoint's time) carries the edit.
    r.city_reaches(a, "During Gap").await;
    eventually("the reconcile is logged", || async {
        r.w.log_reasons().await.iter().any(|x| {
            x.contains("salesforce pubsub gap /data/LeadChangeEvent overflow: reconciled Lead")
        })
    })
    .await;
    // The subscription goes on from LATEST: a new edit arrives as an event.
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "After Gap" }))
    );
    r.city_reaches(a, "After Gap").await;
    subscribers.stop().await;
    r.stop().await;
}

pub async fn a_permanent_failure_stops_its_channel_and_shows_in_health(backend: Backend) {
    // An object the org has no change events for (not selected for CDC): its topic is
    // unknown, a permanent failure.
    let mut setup = Setup::new(backend);
    let mut ghost = setup.plans.plans[0].clone();
    ghost.object = "Ghost".into();
    ghost.sobject = "Ghost__c".into();
    setup.plans.plans.push(ghost);
    let Some(r) = rig_with(setup).await else {
        return;
    };
    let subscribers = r.subscribe().await;
    assert!(
        subscribers
            .topics()
            .iter()
            .any(|t| t == "/data/Ghost__ChangeEvent")
    );
    eventually("/health reports the stopped channel", || async {
        let (status, body) = r.health().await;
        status == 503 && body["pubsub"]["/data/Ghost__ChangeEvent"]["state"] == "stopped"
    })
    .await;
    let (_, body) = r.health().await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["pubsub"][LEAD_TOPIC]["state"], "running");
    let error = body["pubsub"]["/data/Ghost__ChangeEvent"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("NotFound"), "{error}");
    // The other channels go on.
    let a = &r.unconverted_leads().await.remove(0);
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "Still Streaming" }))
    );
    r.city_reaches(a, "Still Streaming").await;
    subscribers.stop().await;
    r.stop().await;
}

pub async fn an_endpoint_outage_reconnects_and_loses_nothing(backend: Backend) {
    let Some(mut r) = rig(backend).await else {
        return;
    };
    let a = &r.unconverted_leads().await.remove(0);
    let subscribers = r.subscribe().await;
    let (status, _) = r.health().await;
    assert_eq!(status, 200);
    let before = r.mutations();
    // The endpoint goes away (open streams end with UNAVAILABLE) and its port stays closed.
    let port = r.pubsub.addr().port();
    let elsewhere = start_pubsub(&r.w, 0).await;
    std::mem::replace(&mut r.pubsub, elsewhere).shutdown().await;
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "During Outage" }))
    );
    eventually("/health reports the channel down", || async {
        let (status, body) = r.health().await;
        status == 503 && body["pubsub"][LEAD_TOPIC]["state"] == "restarting"
    })
    .await;
    // Back on the same port: the subscription reconnects from its checkpoint.
    let back = start_pubsub(&r.w, port).await;
    std::mem::replace(&mut r.pubsub, back).shutdown().await;
    r.city_reaches(a, "During Outage").await;
    eventually("/health is ok again", || async {
        r.health().await.0 == 200
    })
    .await;
    assert_eq!(r.mutations() - before, 1);
    subscribers.stop().await;
    r.stop().await;
}

pub async fn a_checkpoint_older_than_retention_starts_latest_and_reconciles(backend: Backend) {
    let Some(r) = rig(backend).await else {
        return;
    };
    let a = &r.unconverted_leads().await.remove(0);
    // A checkpoint saved 71 hours ago (by the runner's clock), and an edit since.
    let saved = r.w.webhook.context().now() - time::Duration::hours(71);
    let old = r.w.sf.state().change_log().latest_replay_id();
    r.w.store
        .save_replay_checkpoint(LEAD_TOPIC, &old.to_be_bytes(), saved)
        .await
        .unwrap();
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "Long Ago" }))
    );
    let subscribers = r.w.webhook.start_subscribers(fast(&r.pubsub.endpoint()));
    r.city_reaches(a, "Long Ago").await;
    eventually("the reconcile is logged", || async {
        r.w.log_reasons().await.iter().any(|x| {
            x.contains("salesforce pubsub gap /data/LeadChangeEvent overflow: reconciled Lead")
        })
    })
    .await;
    // Subscribed LATEST: the checkpoint moves on, newer than the old one's time.
    eventually("a new checkpoint is saved", || async {
        r.w.store
            .replay_checkpoint_at(LEAD_TOPIC)
            .await
            .unwrap()
            .is_some_and(|cp| cp.saved_at > saved + time::Duration::hours(1))
    })
    .await;
    assert!(
        r.w.sf
            .state()
            .update_record(a.record_id.as_str(), json!({ "City": "Right Now" }))
    );
    r.city_reaches(a, "Right Now").await;
    subscribers.stop().await;
    r.stop().await;
}
