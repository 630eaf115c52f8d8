//! Named leases on both backends: one holder at a time, refusals that say who holds it,
//! release, expiry (SQLite) and session end (PostgreSQL).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crmmap_store::{Backend, Lease, LeaseAcquire, LeaseClock, LeaseOptions, Store};
use sqlx::Connection;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::{TestDb, wait_until};

const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

crmmap_testkit::backend_tests!(lease with crate::harness::TestDb;
    lease_second_acquirer_is_refused_with_the_holder,
    lease_release_lets_the_next_in,
    lease_waiter_gets_it_when_released,
    lease_freed_by_a_crash,
    lease_renewal_keeps_it_and_tells_a_holder_that_lost_it,
);

fn fixed(t: OffsetDateTime) -> LeaseClock {
    Arc::new(move || t)
}

fn opts(ttl_ms: u64) -> LeaseOptions {
    LeaseOptions {
        ttl: Duration::from_millis(ttl_ms),
        wait: Duration::ZERO,
        poll: Duration::from_millis(20),
    }
}

async fn acquired(store: &Store, holder: &str, o: &LeaseOptions, now: OffsetDateTime) -> Lease {
    match store
        .acquire_lease("migrate", holder, o, fixed(now))
        .await
        .unwrap()
    {
        LeaseAcquire::Acquired(l) => l,
        LeaseAcquire::Held(h) => panic!("{holder} was refused: held by {h}"),
    }
}

async fn refused(store: &Store, holder: &str, o: &LeaseOptions, now: OffsetDateTime) -> String {
    match store
        .acquire_lease("migrate", holder, o, fixed(now))
        .await
        .unwrap()
    {
        LeaseAcquire::Acquired(l) => panic!("{holder} got a held lease: {l:?}"),
        LeaseAcquire::Held(h) => h.to_string(),
    }
}

pub async fn lease_second_acquirer_is_refused_with_the_holder(db: &TestDb) {
    let other = db.connect_again().await;
    let o = opts(60_000);
    let lease = acquired(db.store(), "crmmap migrate on a, pid 1", &o, T0).await;
    let said = refused(&other, "crmmap migrate on b, pid 2", &o, T0).await;
    assert_eq!(
        said,
        "crmmap migrate on a, pid 1 since 2026-03-01T09:00:00Z"
    );
    // The same process is refused too: a lease is not re-entrant.
    refused(db.store(), "crmmap migrate on a, pid 1", &o, T0).await;
    let holder = other.lease_holder("migrate", T0).await.unwrap().unwrap();
    assert_eq!(holder.holder, "crmmap migrate on a, pid 1");
    assert_eq!(holder.acquired_at, T0);
    // Another name is independent.
    let serve = match other
        .acquire_lease("item-events", "crmmap serve", &o, fixed(T0))
        .await
        .unwrap()
    {
        LeaseAcquire::Acquired(l) => l,
        LeaseAcquire::Held(h) => panic!("another name was held: {h}"),
    };
    assert!(!lease.is_lost());
    serve.release().await.unwrap();
    lease.release().await.unwrap();
    other.close().await;
}

pub async fn lease_release_lets_the_next_in(db: &TestDb) {
    let other = db.connect_again().await;
    let o = opts(60_000);
    let first = acquired(db.store(), "first", &o, T0).await;
    first.release().await.unwrap();
    assert_eq!(other.lease_holder("migrate", T0).await.unwrap(), None);
    // Dropped without release (a cancelled run, an early return): freed at once too, on
    // SQLite by deleting its row, on PostgreSQL by closing its session.
    drop(acquired(db.store(), "dropped", &o, T0).await);
    let mut freed = false;
    for _ in 0..2_000 {
        if other.lease_holder("migrate", T0).await.unwrap().is_none() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(freed, "a dropped lease stayed held");
    let second = acquired(&other, "second", &o, T0).await;
    assert_eq!(
        db.store()
            .lease_holder("migrate", T0)
            .await
            .unwrap()
            .map(|h| h.holder),
        Some("second".to_owned())
    );
    second.release().await.unwrap();
    other.close().await;
}

pub async fn lease_waiter_gets_it_when_released(db: &TestDb) {
    let other = db.connect_again().await;
    let first = acquired(db.store(), "first", &opts(60_000), T0).await;
    let waiting = LeaseOptions {
        wait: Duration::from_secs(30),
        ..opts(60_000)
    };
    let waiter = tokio::spawn(async move {
        let got = other
            .acquire_lease("migrate", "second", &waiting, fixed(T0))
            .await
            .unwrap();
        (got, other)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "the waiter did not wait");
    first.release().await.unwrap();
    let (got, other) = waiter.await.unwrap();
    let LeaseAcquire::Acquired(second) = got else {
        panic!("the waiter was refused a released lease")
    };
    second.release().await.unwrap();

    // A bounded wait on a lease nobody releases ends refused.
    let held = acquired(db.store(), "first", &opts(60_000), T0).await;
    let short = LeaseOptions {
        wait: Duration::from_millis(100),
        ..opts(60_000)
    };
    let started = std::time::Instant::now();
    let said = match other
        .acquire_lease("migrate", "second", &short, fixed(T0))
        .await
        .unwrap()
    {
        LeaseAcquire::Held(h) => h.holder,
        LeaseAcquire::Acquired(_) => panic!("got a held lease"),
    };
    assert_eq!(said, "first");
    assert!(started.elapsed() >= Duration::from_millis(100));
    held.release().await.unwrap();
    other.close().await;
}

/// A holder that crashed: on SQLite its row stays until it expires, and then the next one
/// takes it over; on PostgreSQL its session ends (here: killed by the server) and frees the
/// lock at once, whatever the row says.
pub async fn lease_freed_by_a_crash(db: &TestDb) {
    let other = db.connect_again().await;
    let o = opts(60_000);
    match db.backend() {
        Backend::Sqlite => {
            // What a process that died while holding the lease leaves behind: its row.
            let mut c = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            sqlx::query(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) \
                 VALUES ('migrate', 'crashed', '2026-03-01T09:00:00.000000Z', \
                 '2026-03-01T09:01:00.000000Z')",
            )
            .execute(&mut c)
            .await
            .unwrap();
            c.close().await.unwrap();
            // Not before it expires...
            let said = refused(&other, "next", &o, T0 + time::Duration::seconds(59)).await;
            assert!(said.starts_with("crashed since"), "{said}");
            // ...and at once after.
            let later = T0 + time::Duration::seconds(60);
            assert_eq!(other.lease_holder("migrate", later).await.unwrap(), None);
            let next = acquired(&other, "next", &o, later).await;
            next.release().await.unwrap();
        }
        Backend::Postgres => {
            let crashed = acquired(db.store(), "crashed", &o, T0).await;
            // The server ends the session holding the lock, as when its process dies.
            let mut admin = sqlx::PgConnection::connect(db.url()).await.unwrap();
            let (killed,): (bool,) = sqlx::query_as(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
                 WHERE locktype = 'advisory' AND granted AND objsubid = 2 \
                   AND objid::bigint = (hashtext('lease:migrate')::bigint & 4294967295)",
            )
            .fetch_one(&mut admin)
            .await
            .unwrap();
            assert!(killed);
            admin.close().await.unwrap();
            let got = Arc::new(tokio::sync::Mutex::new(None));
            wait_until("the closed session freed the lease", || {
                let (other, got) = (other.clone(), got.clone());
                async move {
                    match other
                        .acquire_lease("migrate", "next", &opts(60_000), fixed(T0))
                        .await
                        .unwrap()
                    {
                        LeaseAcquire::Acquired(l) => {
                            *got.lock().await = Some(l);
                            true
                        }
                        LeaseAcquire::Held(_) => false,
                    }
                }
            })
            .await;
            let next = got.lock().await.take().unwrap();
            assert_eq!(
                other
                    .lease_holder("migrate", T0)
                    .await
                    .unwrap()
                    .map(|h| h.holder),
                Some("next".to_owned())
            );
            next.release().await.unwrap();
            drop(crashed);
        }
    }
    other.close().await;
}

/// A lease kept past its time to live by renewals; on SQLite, a holder that stalled beyond
/// it and was taken over is told it lost the lease.
pub async fn lease_renewal_keeps_it_and_tells_a_holder_that_lost_it(db: &TestDb) {
    let other = db.connect_again().await;
    // Renewed every 100 ms with the real clock: held well past its 300 ms.
    let real: LeaseClock = Arc::new(OffsetDateTime::now_utc);
    let o = opts(300);
    let LeaseAcquire::Acquired(lease) = db
        .store()
        .acquire_lease("migrate", "long run", &o, real.clone())
        .await
        .unwrap()
    else {
        panic!("refused a free lease")
    };
    let told = Arc::new(AtomicBool::new(false));
    lease.on_lost({
        let told = told.clone();
        move || told.store(true, Ordering::SeqCst)
    });
    tokio::time::sleep(Duration::from_millis(900)).await;
    let now = OffsetDateTime::now_utc();
    assert!(
        other.lease_holder("migrate", now).await.unwrap().is_some(),
        "a renewed lease expired"
    );
    assert!(matches!(
        other
            .acquire_lease("migrate", "next", &o, real.clone())
            .await
            .unwrap(),
        LeaseAcquire::Held(_)
    ));
    assert!(!lease.is_lost());
    if db.backend() == Backend::Sqlite {
        // Another process whose clock is past the expiry takes the row over (as after a
        // stall of the holder longer than the time to live): the holder's next renewal
        // finds it gone.
        let late: LeaseClock = Arc::new(|| OffsetDateTime::now_utc() + time::Duration::hours(1));
        let LeaseAcquire::Acquired(taker) = other
            .acquire_lease("migrate", "taker", &o, late)
            .await
            .unwrap()
        else {
            panic!("an expired lease was not taken over")
        };
        wait_until("the holder learned it lost the lease", || {
            let told = told.clone();
            async move { told.load(Ordering::SeqCst) }
        })
        .await;
        assert!(lease.is_lost());
        // Its release leaves the new holder's row alone.
        lease.release().await.unwrap();
        assert_eq!(
            other
                .lease_holder("migrate", OffsetDateTime::now_utc())
                .await
                .unwrap()
                .map(|h| h.holder),
            Some("taker".to_owned())
        );
        taker.release().await.unwrap();
    } else {
        lease.release().await.unwrap();
        assert!(
            !told.load(Ordering::SeqCst),
            "a released lease was reported lost"
        );
    }
    other.close().await;
}
