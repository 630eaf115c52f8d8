//! Panic boundaries and the supervised drain: a change that panics while it is applied
//! becomes a dead letter with its reason (its claim finished, never lost), the runner and its
//! retry drain go on, and `/health` reports the drain's progress.

use std::time::Duration;

use crmmap_store::{Backend, FailureClass};
use serde_json::{Value, json};

use crate::harness::*;

crmmap_testkit::backend_tests!(
    boundaries;
    a_panicking_change_is_a_dead_letter_and_the_runner_goes_on,
    health_turns_unhealthy_while_the_drain_is_stuck,
    a_delivery_given_up_by_monday_is_still_applied_whole,
);

/// The City column: the test hook panics while applying a change of it.
const PANIC_COLUMN: &str = "text_mkrym6fa";

pub async fn a_panicking_change_is_a_dead_letter_and_the_runner_goes_on(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.options.panic_on_column = Some(PANIC_COLUMN.into());
    setup.retry_every = Some(Duration::from_millis(50));
    let Some(w) = World::start(setup).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Panic Org", json!({})).await;

    // Delivered: the panic is caught, the event is a dead letter with the panic's message.
    let d = w.set(LEAD, &item, PANIC_COLUMN, json!("Boom")).await;
    assert_eq!(d.status, Some(200));
    let dead = w.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0].failure, Some(FailureClass::Permanent));
    assert!(
        dead[0]
            .last_error
            .contains("internal error: test hook: a change of column"),
        "{}",
        dead[0].last_error
    );
    // Its claim was finished: the same delivery again is a duplicate, not a second panic.
    let (status, body) = w.post(&d.body).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));

    // The runner goes on: the next change of the item is applied.
    w.set(LEAD, &item, "text_mkry13cw", json!("Still here"))
        .await;
    assert_eq!(w.record(&record)["FirstName"], "Still here");

    // Queued changes, the first of which panics in the server's own drain: it is
    // dead-lettered and the drain goes on with the rest of the queue.
    let now = time::OffsetDateTime::now_utc();
    let queued = |uuid: &str, column: &str, value: &str| {
        let ev = event(
            "update_column_value",
            LEAD,
            item.parse().unwrap(),
            uuid,
            json!({ "columnId": column, "columnType": "text", "value": { "value": value } }),
        );
        json!({ "event": ev["event"], "check_dedup": true })
    };
    for (uuid, column, value) in [
        ("queued-panic", PANIC_COLUMN, "Boom again"),
        ("queued-fine", "text_mkry13cw", "Still here"),
    ] {
        let payload = queued(uuid, column, value);
        w.store
            .enqueue_retry("webhook_event", uuid, &payload, "queued", now, now)
            .await
            .unwrap();
    }
    let w_ref = &w;
    eventually("the drain emptied the queue", || async move {
        let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let c = w_ref.store.retry_counts(later).await.unwrap();
        (c.due, c.waiting, c.dead) == (0, 0, 2)
    })
    .await;
    let dead = w.store.dead_letters(10).await.unwrap();
    assert_eq!(dead[0].dedup_key, "queued-panic");
    assert!(dead[0].last_error.contains("internal error"), "{dead:#?}");

    // `/health` reports the drain's recent progress.
    let health: Value = reqwest::get(format!("{}/health", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let ago = health["retry_drain"]["last_progress_s_ago"]
        .as_f64()
        .unwrap();
    assert!(ago < 60.0, "{health}");
    w.stop().await;
}

/// Holds the retry queue's table so that the drain cannot claim (PostgreSQL: an exclusive
/// table lock; SQLite: the write lock), until dropped.
enum QueueBlocker {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl QueueBlocker {
    async fn hold(backend: Backend, url: &str) -> QueueBlocker {
        use sqlx::{Connection, Executor};
        match backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                c.execute("BEGIN").await.unwrap();
                c.execute("LOCK TABLE retry_queue IN ACCESS EXCLUSIVE MODE")
                    .await
                    .unwrap();
                QueueBlocker::Postgres(c)
            }
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                c.execute("BEGIN IMMEDIATE").await.unwrap();
                QueueBlocker::Sqlite(c)
            }
        }
    }

    async fn release(self) {
        use sqlx::{Connection, Executor};
        match self {
            QueueBlocker::Postgres(mut c) => {
                c.execute("ROLLBACK").await.unwrap();
                c.close().await.unwrap();
            }
            QueueBlocker::Sqlite(mut c) => {
                c.execute("ROLLBACK").await.unwrap();
                c.close().await.unwrap();
            }
        }
    }
}

async fn health(w: &World) -> (u16, Value) {
    let r = reqwest::get(format!("{}/health", w.base)).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

pub async fn health_turns_unhealthy_while_the_drain_is_stuck(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.retry_every = Some(Duration::from_millis(50));
    setup.options.apply_timeout = Duration::from_millis(200);
    let Some(w) = World::start(setup).await else {
        return;
    };
    let w_ref = &w;
    eventually("healthy while the drain runs", || async move {
        health(w_ref).await.0 == 200
    })
    .await;
    // The store answers pings, but the drain cannot get at its queue.
    let blocker = QueueBlocker::hold(backend, w.db.url()).await;
    eventually("unhealthy while the drain is stuck", || async move {
        health(w_ref).await.0 == 503
    })
    .await;
    let (_, body) = health(&w).await;
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("retry drain made no progress"),
        "{body}"
    );
    // Unblocked, the drain resumes and so does the health check.
    blocker.release().await;
    eventually(
        "healthy again",
        || async move { health(w_ref).await.0 == 200 },
    )
    .await;
    w.stop().await;
}

/// monday gives up on a slow delivery and closes the connection: the event is not cancelled
/// halfway (between its API calls and its commit); it runs to its end and is recorded, so a
/// redelivery is a duplicate. (Cancelled, it would be rolled back on PostgreSQL and left in
/// progress on SQLite: the redelivery would be applied again or queued.)
pub async fn a_delivery_given_up_by_monday_is_still_applied_whole(backend: Backend) {
    let mut setup = Setup::new(backend);
    // Every API answer takes this long; the sender below hangs up much sooner.
    setup.latency = Duration::from_millis(300);
    let Some(w) = World::start(setup).await else {
        return;
    };
    let (item, _record) = w.create_linked(LEAD, "Slow Org", json!({})).await;
    let body = event(
        "update_column_value",
        LEAD,
        item.parse().unwrap(),
        "slow-delivery",
        json!({ "columnId": "text_mkry13cw", "columnType": "text", "value": { "value": "x" } }),
    );
    let hung_up = reqwest::Client::new()
        .post(&w.hook_url)
        .json(&body)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(hung_up.is_err(), "the sender gave up: {hung_up:?}");
    let (w_ref, body_ref) = (&w, &body);
    eventually("the abandoned delivery recorded", || async move {
        w_ref.post(body_ref).await.1["outcome"] == json!("duplicate")
    })
    .await;
    w.stop().await;
}
