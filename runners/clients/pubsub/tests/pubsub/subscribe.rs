//! The Pub/Sub client against the emulator's Pub/Sub endpoint, over real gRPC on loopback.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::support::{World, header, keep_pushing, lead_update, replay};
use crmmap_pubsub::proto::pub_sub_client::PubSubClient;
use crmmap_pubsub::proto::{FetchRequest, ReplayPreset};
use crmmap_pubsub::{Batch, Class, Delivery, Start, Subscription};
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(600);

async fn next_batch(sub: &mut Subscription) -> Batch {
    match tokio::time::timeout(Duration::from_secs(10), sub.next()).await {
        Ok(Ok(Delivery::Batch(b))) => b,
        other => panic!("expected a batch, got {other:?}"),
    }
}

/// Batches until `n` events arrived (keepalives skipped); the replay ids as numbers.
async fn collect(sub: &mut Subscription, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    while ids.len() < n {
        let batch = next_batch(sub).await;
        for e in batch.events {
            let bytes: [u8; 8] = e.replay_id.as_slice().try_into().expect("8 bytes");
            ids.push(u64::from_be_bytes(bytes));
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earliest_sends_every_retained_event_and_latest_only_new_ones() {
    let world = World::start(LONG).await;
    for n in 1..=5 {
        world.log.push("Lead", lead_update(n));
    }
    let client = world.client(100);
    let mut earliest = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    let first = next_batch(&mut earliest).await;
    assert_eq!(first.events.len(), 5);
    assert_eq!(first.latest_replay_id, replay(5));
    let payload = first.events[0].payload.clone().expect("decoded");
    assert_eq!(payload, lead_update(1));

    let mut latest = client.subscribe("/data/LeadChangeEvent", Start::Latest);
    // New events keep coming; the stream opens on the first `next` and sends only those
    // committed after it, in order, none missed.
    let pusher = keep_pushing(&world.log, 6);
    let ids = collect(&mut latest, 3).await;
    pusher.abort();
    assert!(ids[0] > 5, "LATEST sent an old event: {ids:?}");
    assert_eq!(ids, (ids[0]..ids[0] + 3).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_replay_id_resumes_after_it_with_no_loss_or_duplicate_across_a_reconnect() {
    let mut world = World::start(LONG).await;
    for n in 1..=10 {
        world.log.push("Lead", lead_update(n));
    }
    let client = world.client(3);
    let mut sub = client.subscribe(
        "/data/LeadChangeEvent",
        Start::After {
            replay_id: replay(2),
            checkpointed_at: None,
        },
    );
    let mut ids = collect(&mut sub, 3).await;
    assert_eq!(ids, vec![3, 4, 5]);
    // The server goes away and comes back; the subscription resumes after replay id 5.
    world.restart_pubsub(LONG).await;
    ids.extend(collect(&mut sub, 5).await);
    assert_eq!(ids, (3..=10).collect::<Vec<_>>());
    assert!(
        matches!(sub.position(), Start::After { replay_id, .. } if *replay_id == replay(10)),
        "{:?}",
        sub.position()
    );
    assert!(world.pubsub.counters().subscribe.load(Ordering::Relaxed) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_never_has_more_than_its_batch_requested() {
    let world = World::start(LONG).await;
    for n in 1..=30 {
        world.log.push("Lead", lead_update(n));
    }
    let client = world.client(5);
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    let mut seen = 0;
    while seen < 30 {
        let batch = next_batch(&mut sub).await;
        assert!(
            batch.events.len() <= 5,
            "{} events in one batch",
            batch.events.len()
        );
        assert!(sub.pending() <= 5);
        seen += batch.events.len();
    }
    assert_eq!(seen, 30);
    assert_eq!(
        world
            .pubsub
            .counters()
            .max_outstanding
            .load(Ordering::Relaxed),
        5
    );
    assert_eq!(world.log.delivered(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_never_sends_more_than_requested_and_clamps_at_100() {
    let world = World::start(LONG).await;
    for n in 1..=250 {
        world.log.push("Lead", lead_update(n));
    }
    let endpoint = tonic::transport::Endpoint::from_shared(world.pubsub.endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let token = world.token.clone();
    let mut grpc = PubSubClient::with_interceptor(endpoint, move |mut req: tonic::Request<()>| {
        let md = req.metadata_mut();
        md.insert("accesstoken", token.parse().expect("ascii"));
        md.insert(
            "instanceurl",
            "https://example.my.salesforce.com".parse().expect("ascii"),
        );
        md.insert("tenantid", "00D5f000005KcCnEAK".parse().expect("ascii"));
        Ok(req)
    });
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(FetchRequest {
        topic_name: "/data/LeadChangeEvent".into(),
        replay_preset: ReplayPreset::Earliest as i32,
        num_requested: 150,
        ..FetchRequest::default()
    })
    .await
    .expect("send");
    let mut stream = grpc
        .subscribe(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("subscribe")
        .into_inner();
    let mut received = 0;
    while received < 100 {
        let resp = stream.message().await.expect("message").expect("open");
        received += resp.events.len();
    }
    assert_eq!(received, 100, "150 requested is clamped to 100");
    // Nothing more comes until more is requested.
    let more = tokio::time::timeout(Duration::from_millis(400), stream.message()).await;
    assert!(more.is_err(), "the server sent past the request: {more:?}");
    tx.send(FetchRequest {
        num_requested: 7,
        ..FetchRequest::default()
    })
    .await
    .expect("send");
    let mut after = 0;
    while after < 7 {
        let resp = stream.message().await.expect("message").expect("open");
        after += resp.events.len();
        assert_eq!(
            resp.pending_num_requested,
            i32::try_from(7 - after).expect("small")
        );
    }
    assert_eq!(after, 7);
    assert!(
        world
            .pubsub
            .counters()
            .max_outstanding
            .load(Ordering::Relaxed)
            <= 100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_get_schema_per_schema_id() {
    let world = World::start(LONG).await;
    for n in 1..=10 {
        world.log.push("Lead", lead_update(n));
        let mut h = header("CREATE", "Account", "0015f00002J9YYEAA3", n);
        h["changedFields"] = json!([]);
        world.log.push(
            "Account",
            json!({"ChangeEventHeader": h, "Name": format!("Acme {n}")}),
        );
    }
    let client = world.client(100);
    let mut sub = client.subscribe("/data/ChangeEvents", Start::Earliest);
    let ids = collect(&mut sub, 20).await;
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    // A second subscription of the same client reuses the cache.
    let mut again = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    collect(&mut again, 10).await;
    assert_eq!(
        world.pubsub.counters().get_schema.load(Ordering::Relaxed),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_id_past_retention_resubscribes_latest_and_reports_the_gap() {
    let world = World::start(LONG).await;
    for n in 1..=6 {
        world.log.push("Lead", lead_update(n));
    }
    world.log.purge_through(4);
    let client = world.client(100);
    let checkpointed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
    let mut sub = client.subscribe(
        "/data/LeadChangeEvent",
        Start::After {
            replay_id: replay(2),
            checkpointed_at: Some(checkpointed),
        },
    );
    match tokio::time::timeout(Duration::from_secs(10), sub.next()).await {
        Ok(Ok(Delivery::Gap(gap))) => {
            assert_eq!(gap.since, Some(checkpointed));
            assert_eq!(gap.rejected_replay_id, replay(2));
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(sub.position(), &Start::Latest);
    // From LATEST: retained events 5 and 6 are not sent again, new ones are.
    let pusher = keep_pushing(&world.log, 7);
    let ids = collect(&mut sub, 1).await;
    pusher.abort();
    assert!(ids[0] >= 7, "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_replay_id_is_a_gap_too() {
    let world = World::start(LONG).await;
    world.log.push("Lead", lead_update(1));
    let client = world.client(100);
    let mut sub = client.subscribe(
        "/data/LeadChangeEvent",
        Start::After {
            replay_id: vec![1, 2, 3],
            checkpointed_at: None,
        },
    );
    let got = tokio::time::timeout(Duration::from_secs(10), sub.next()).await;
    assert!(matches!(got, Ok(Ok(Delivery::Gap(_)))), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocation_exceeded_waits_and_resumes_from_the_last_replay_id() {
    let world = World::start(LONG).await;
    for n in 1..=8 {
        world.log.push("Lead", lead_update(n));
    }
    world.log.set_allocation(3);
    let client = world.client(3);
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    assert_eq!(collect(&mut sub, 3).await, vec![1, 2, 3]);
    // The next delivery is refused; the subscription waits until the allocation is raised.
    let log = world.log.clone();
    let raise = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        log.set_allocation(1_000);
    });
    let rest = collect(&mut sub, 5).await;
    raise.await.expect("raise");
    assert_eq!(
        rest,
        vec![4, 5, 6, 7, 8],
        "resumed after 3: nothing lost or repeated"
    );
    assert_eq!(world.log.delivered(), 8);
    assert!(world.pubsub.counters().subscribe.load(Ordering::Relaxed) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_carry_the_latest_replay_id() {
    let world = World::start(Duration::from_millis(150)).await;
    world.log.push("Lead", lead_update(1));
    world.log.push("Lead", lead_update(2));
    let client = world.client(100);
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Latest);
    let batch = next_batch(&mut sub).await;
    assert!(batch.events.is_empty());
    assert_eq!(batch.latest_replay_id, replay(2));
    assert!(world.pubsub.counters().keepalives.load(Ordering::Relaxed) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_permanent_and_never_shown() {
    let world = World::start(LONG).await;
    let config = crate::support::fast_config(&world.pubsub.endpoint(), "not-a-token-s3cr3t", 100);
    let client = crmmap_pubsub::Client::new(config).expect("client");
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Latest);
    let err = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("in time")
        .expect_err("refused");
    assert_eq!(err.class(), Class::Permanent);
    assert!(!format!("{err} {err:?} {client:?}").contains("s3cr3t"));
}

/// The decoded payload of each kind of event equals its JSON form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decoded_payloads_equal_the_event_relay_json() {
    let world = World::start(LONG).await;
    let record = "00Q5f00000AAAAAAAA";
    let create = json!({
        "ChangeEventHeader": header("CREATE", "Lead", record, 1),
        "LastModifiedDate": 1_712_693_965_000_i64,
        "Name": {"FirstName": "Ada", "LastName": "Lovelace"},
        "Company": "Analytical Engines",
        "Address": {"Street": "12 St James's Square", "City": null, "Latitude": 51.5},
        "AnnualRevenue": 1250.5,
        "NumberOfEmployees": 12,
        "IsConverted": false,
    });
    let mut h = header("UPDATE", "Lead", record, 2);
    // Schema order, a compound's components at its place: what a bitmap can say.
    h["changedFields"] = json!([
        "LastModifiedDate",
        "Name.LastName",
        "Company",
        "Status",
        "Address.City"
    ]);
    h["nulledFields"] = json!(["Company", "Address.City"]);
    let update = json!({
        "ChangeEventHeader": h,
        "LastModifiedDate": 1_712_700_000_000_i64,
        "Name": {"LastName": "King"},
        "Company": null,
        "Status": "Working",
        "Address": {"City": null},
    });
    let delete = json!({"ChangeEventHeader": header("DELETE", "Lead", record, 3)});
    let gap = json!({
        "ChangeEventHeader": header("GAP_UPDATE", "Lead", record, 4),
        "LastModifiedDate": null, "Name": null, "Company": null, "Status": null,
        "Address": null, "AnnualRevenue": null, "NumberOfEmployees": null, "IsConverted": null,
    });
    let sent: Vec<Value> = vec![create, update, delete, gap];
    for p in &sent {
        world.log.push("Lead", p.clone());
    }
    let client = world.client(100);
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        for e in next_batch(&mut sub).await.events {
            got.push(e.payload.expect("decoded"));
        }
    }
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(g, s);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_topic_names_the_schema_events_carry() {
    let world = World::start(LONG).await;
    let client = world.client(100);
    let topic = client.topic("/data/LeadChangeEvent").await.expect("topic");
    assert!(topic.can_subscribe);
    world.log.push("Lead", lead_update(1));
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    next_batch(&mut sub).await;
    // The topic's schema is the one the event named: fetched once, for both.
    let schema = client.schema(&topic.schema_id).await.expect("schema");
    assert_eq!(schema.id, topic.schema_id);
    assert_eq!(
        world.pubsub.counters().get_schema.load(Ordering::Relaxed),
        1
    );
    let unknown = client
        .topic("/data/NoSuchThing")
        .await
        .expect_err("unknown");
    assert_eq!(unknown.class(), Class::Permanent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_stays_down_is_given_up_after_the_attempts() {
    // A port nothing listens on: bind one, note it, close it.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut config = crate::support::fast_config(&format!("http://127.0.0.1:{port}"), "token", 100);
    config.retries.max_attempts = 3;
    let client = crmmap_pubsub::Client::new(config).expect("client");
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Latest);
    let err = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("in time")
        .expect_err("gives up");
    assert!(
        matches!(err, crmmap_pubsub::PubSubError::GaveUp { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), Class::Permanent);
}
