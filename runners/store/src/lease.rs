//! Named leases: one holder at a time for work that must not run twice at once (one
//! migrator; on SQLite, one process applying monday item events).
//!
//! - **PostgreSQL**: a session advisory lock (`pg_try_advisory_lock(namespace,
//!   hashtext('lease:<name>'))`) held on a dedicated connection of the lock pool, plus a row
//!   in `leases` that says who holds it and since when (for the refusal message). A crash
//!   ends the session and frees the lock; a stale row is overwritten by the next holder.
//! - **SQLite**: the `leases` row itself, with an expiry: taken in one statement (inserted,
//!   or taken over when it expired) and renewed in the background every third of its time
//!   to live. A crash frees it when it expires.
//!
//! While a lease is held a background task renews it (PostgreSQL: checks that the session
//! holding the lock is alive). If it finds the lease lost (the row taken over after a stall
//! longer than the time to live, the session gone), the holder is told ([`Lease::is_lost`],
//! [`Lease::on_lost`]) and must stop. [`Lease::release`] frees it at once; a lease dropped
//! without release stops renewing and frees itself (PostgreSQL: its session is closed;
//! SQLite: its row is deleted, see `Drop`). A process that dies frees it by its session's end
//! (PostgreSQL) or by its expiry (SQLite).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Postgres, pool::PoolConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;

use crate::Store;
use crate::db::{DbTime, Pool};
use crate::error::Result;
use crate::lock::{CloseUnlessKept, PG_LOCK_NAMESPACE};

/// Where a lease's background renewal reads the time (the store itself never reads the
/// clock: tests pass a fixed or stepping one).
pub type LeaseClock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How a lease is taken and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseOptions {
    /// SQLite: how long the lease outlives its last renewal (a crashed holder blocks the next
    /// one this long at most). Renewed every third of it.
    pub ttl: Duration,
    /// How long [`Store::acquire_lease`] keeps trying while someone else holds the lease
    /// (zero: one try).
    pub wait: Duration,
    /// How often it tries while waiting.
    pub poll: Duration,
}

impl Default for LeaseOptions {
    /// 30 s to live, no waiting, tries every second when waiting.
    fn default() -> LeaseOptions {
        LeaseOptions {
            ttl: Duration::from_secs(30),
            wait: Duration::ZERO,
            poll: Duration::from_secs(1),
        }
    }
}

/// Who holds a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    /// The lease.
    pub name: String,
    /// Who holds it (program, host and process id; see [`process_description`]).
    pub holder: String,
    /// Since when.
    pub acquired_at: OffsetDateTime,
    /// SQLite: when it lapses unless renewed. PostgreSQL: when its holder last checked its
    /// session, plus the time to live (informational: the lock lasts as long as the session).
    pub expires_at: OffsetDateTime,
}

impl fmt::Display for LeaseHolder {
    /// `<holder> since <RFC 3339 time>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = self
            .acquired_at
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.acquired_at.to_string());
        write!(f, "{} since {since}", self.holder)
    }
}

/// What [`Store::acquire_lease`] found.
#[derive(Debug)]
pub enum LeaseAcquire {
    /// The caller holds the lease until it releases or drops it.
    Acquired(Lease),
    /// Someone else holds it (after waiting, if asked to).
    Held(LeaseHolder),
}

/// A held lease (see the module documentation).
#[must_use = "a lease is released as soon as it is dropped"]
pub struct Lease {
    name: String,
    holder: String,
    acquired_at: DbTime,
    inner: LeaseInner,
    lost: watch::Receiver<bool>,
    renewal: tokio::task::JoinHandle<()>,
}

enum LeaseInner {
    Sqlite(sqlx::SqlitePool),
    /// The connection whose session holds the advisory lock; closed if the lease is dropped
    /// (which ends the session and frees the lock).
    Postgres(Arc<tokio::sync::Mutex<CloseUnlessKept>>),
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("name", &self.name)
            .field("holder", &self.holder)
            .field("acquired_at", &self.acquired_at.0)
            .field("lost", &self.is_lost())
            .finish()
    }
}

/// "`<program>` on `<host>`, pid `<pid>`": who holds a lease, for the messages of those who
/// are refused it.
pub fn process_description(program: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".to_owned());
    format!("{program} on {host}, pid {}", std::process::id())
}

fn pg_key(name: &str) -> String {
    format!("lease:{name}")
}

fn after(t: OffsetDateTime, d: Duration) -> DbTime {
    DbTime::from(t + time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
}

#[derive(sqlx::FromRow)]
struct HolderRow {
    holder: String,
    acquired_at: DbTime,
    expires_at: DbTime,
}

impl Store {
    /// Takes the lease `name` for `holder` (see the module documentation), trying again
    /// every `options.poll` for up to `options.wait` while someone else holds it. `clock`
    /// gives the times written (and, on SQLite, compared with expiries).
    #[tracing::instrument(name = "store.acquire_lease", level = "debug", skip_all, fields(name))]
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        options: &LeaseOptions,
        clock: LeaseClock,
    ) -> Result<LeaseAcquire> {
        let started = tokio::time::Instant::now();
        loop {
            match self
                .try_acquire_lease(name, holder, options, &clock)
                .await?
            {
                LeaseAcquire::Held(h) if started.elapsed() < options.wait => {
                    tracing::debug!(holder = %h, "lease held; waiting");
                    let left = options.wait.saturating_sub(started.elapsed());
                    tokio::time::sleep(options.poll.min(left).max(Duration::from_millis(1))).await;
                }
                done => return Ok(done),
            }
        }
    }

    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        options: &LeaseOptions,
        clock: &LeaseClock,
    ) -> Result<LeaseAcquire> {
        let now = DbTime::from(clock());
        let expires = after(now.0, options.ttl);
        let (tx, rx) = watch::channel(false);
        match self.pool() {
            Pool::Sqlite(pool) => {
                let got: Option<(String,)> = sqlx::query_as(
                    "INSERT INTO leases (name, holder, acquired_at, expires_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                       acquired_at = excluded.acquired_at, expires_at = excluded.expires_at \
                     WHERE leases.expires_at <= excluded.acquired_at \
                     RETURNING name",
                )
                .bind(name)
                .bind(holder)
                .bind(now)
                .bind(expires)
                .fetch_optional(pool)
                .await?;
                if got.is_none() {
                    return Ok(match self.lease_holder(name, now.0).await? {
                        Some(h) => LeaseAcquire::Held(h),
                        // Released between the two statements: the next try takes it.
                        None => LeaseAcquire::Held(unknown_holder(name, now)),
                    });
                }
                let held = Held::new(name, holder, now);
                let renew = renew_sqlite(pool.clone(), held, *options, clock.clone(), tx);
                Ok(acquired(
                    name,
                    holder,
                    now,
                    LeaseInner::Sqlite(pool.clone()),
                    rx,
                    renew,
                ))
            }
            Pool::Postgres(pool) => {
                // Closed if anything below fails or is cancelled after the lock was granted.
                let mut conn = CloseUnlessKept(Some(self.lock_pool(pool).acquire().await?));
                let Some(c) = conn.0.as_mut() else {
                    unreachable!("just acquired")
                };
                let (got,): (bool,) =
                    sqlx::query_as("SELECT pg_try_advisory_lock($1, hashtext($2))")
                        .bind(PG_LOCK_NAMESPACE)
                        .bind(pg_key(name))
                        .fetch_one(&mut **c)
                        .await?;
                if !got {
                    // Not holding anything: the connection may go back to the pool.
                    conn.0.take();
                    // The holder writes its row just after taking the lock: give it a moment.
                    for _ in 0..20 {
                        if let Some(h) = self.lease_holder(name, now.0).await? {
                            return Ok(LeaseAcquire::Held(h));
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    return Ok(LeaseAcquire::Held(unknown_holder(name, now)));
                }
                sqlx::query(
                    "INSERT INTO leases (name, holder, acquired_at, expires_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                       acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
                )
                .bind(name)
                .bind(holder)
                .bind(now)
                .bind(expires)
                .execute(&mut **c)
                .await?;
                let conn = Arc::new(tokio::sync::Mutex::new(conn));
                let held = Held::new(name, holder, now);
                let renew = renew_postgres(conn.clone(), held, *options, clock.clone(), tx);
                Ok(acquired(
                    name,
                    holder,
                    now,
                    LeaseInner::Postgres(conn),
                    rx,
                    renew,
                ))
            }
        }
    }

    /// Who holds the lease `name` at `now`, if anyone: on SQLite a row that has not expired,
    /// on PostgreSQL a row whose advisory lock some session holds.
    pub async fn lease_holder(
        &self,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LeaseHolder>> {
        let row: Option<HolderRow> = match self.pool() {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT holder, acquired_at, expires_at FROM leases \
                     WHERE name = $1 AND expires_at > $2",
                )
                .bind(name)
                .bind(DbTime::from(now))
                .fetch_optional(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT holder, acquired_at, expires_at FROM leases WHERE name = $1 \
                     AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                       AND classid::bigint = $2 \
                       AND objid::bigint = (hashtext($3)::bigint & 4294967295) AND objsubid = 2 \
                       AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                )
                .bind(name)
                .bind(i64::from(PG_LOCK_NAMESPACE))
                .bind(pg_key(name))
                .fetch_optional(pool)
                .await?
            }
        };
        Ok(row.map(|r| LeaseHolder {
            name: name.to_owned(),
            holder: r.holder,
            acquired_at: r.acquired_at.0,
            expires_at: r.expires_at.0,
        }))
    }
}

/// Someone holds the lock but has not written (or has just deleted) the row.
/// The lease just taken, its renewal (`renew`, which reports a loss on `lost`'s sender) running.
fn acquired(
    name: &str,
    holder: &str,
    now: DbTime,
    inner: LeaseInner,
    lost: watch::Receiver<bool>,
    renew: impl Future<Output = ()> + Send + 'static,
) -> LeaseAcquire {
    LeaseAcquire::Acquired(Lease {
        name: name.to_owned(),
        holder: holder.to_owned(),
        acquired_at: now,
        inner,
        lost,
        renewal: tokio::spawn(renew),
    })
}

fn unknown_holder(name: &str, now: DbTime) -> LeaseHolder {
    LeaseHolder {
        name: name.to_owned(),
        holder: "another process (not yet recorded)".to_owned(),
        acquired_at: now.0,
        expires_at: now.0,
    }
}

/// What identifies one acquisition of a lease: a takeover writes another `acquired_at`.
#[derive(Clone)]
struct Held {
    name: String,
    holder: String,
    acquired_at: DbTime,
}

impl Held {
    fn new(name: &str, holder: &str, acquired_at: DbTime) -> Held {
        Held {
            name: name.to_owned(),
            holder: holder.to_owned(),
            acquired_at,
        }
    }
}

fn renew_every(options: &LeaseOptions) -> Duration {
    (options.ttl / 3).max(Duration::from_millis(10))
}

/// SQLite: pushes the expiry out every third of the time to live. The lease is lost when the
/// row is no longer this acquisition's (taken over after it expired), or when renewals kept
/// failing until it expired.
async fn renew_sqlite(
    pool: sqlx::SqlitePool,
    held: Held,
    options: LeaseOptions,
    clock: LeaseClock,
    lost: watch::Sender<bool>,
) {
    let mut expires = after(held.acquired_at.0, options.ttl);
    loop {
        tokio::time::sleep(renew_every(&options)).await;
        let now = clock();
        let next = after(now, options.ttl);
        let renewed = extend(&pool, &held, next).await;
        match renewed {
            Ok(r) if r.rows_affected() > 0 => expires = next,
            Ok(_) => {
                tracing::error!(lease = %held.name, "lease lost: another process took it over");
                let _ = lost.send(true);
                return;
            }
            Err(e) if DbTime::from(now) >= expires => {
                tracing::error!(lease = %held.name, error = %e, "lease lost: it expired while renewals failed");
                let _ = lost.send(true);
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %held.name, error = %e, "lease renewal failed; trying again");
            }
        }
    }
}

/// Moves the expiry of the lease `held` to `next`, if `held` still holds it (on either backend).
async fn extend<'c, DB>(
    executor: impl sqlx::Executor<'c, Database = DB>,
    held: &Held,
    next: DbTime,
) -> sqlx::Result<DB::QueryResult>
where
    DB: sqlx::Database,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DbTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "UPDATE leases SET expires_at = $4 \
         WHERE name = $1 AND holder = $2 AND acquired_at = $3",
    )
    .bind(held.name.as_str())
    .bind(held.holder.as_str())
    .bind(held.acquired_at)
    .bind(next)
    .execute(executor)
    .await
}

/// PostgreSQL: checks that the session holding the lock is alive (and refreshes the row's
/// informational expiry) every third of the time to live. A failure means the session, and
/// with it the lock, may be gone: the lease is lost.
async fn renew_postgres(
    conn: Arc<tokio::sync::Mutex<CloseUnlessKept>>,
    held: Held,
    options: LeaseOptions,
    clock: LeaseClock,
    lost: watch::Sender<bool>,
) {
    loop {
        tokio::time::sleep(renew_every(&options)).await;
        let next = after(clock(), options.ttl);
        let mut guard = conn.lock().await;
        let Some(c) = guard.0.as_mut() else {
            return;
        };
        let checked = extend(&mut **c, &held, next).await;
        if let Err(e) = checked {
            tracing::error!(lease = %held.name, error = %e, "lease lost: its session failed");
            // Make sure the session ends, so that the lock is not held by nobody's connection.
            if let Some(mut c) = guard.0.take() {
                c.close_on_drop();
            }
            let _ = lost.send(true);
            return;
        }
    }
}

impl Lease {
    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the background renewal found the lease lost: stop the work it guards.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Runs `f` once if the lease is lost while held (not when it is released or dropped).
    pub fn on_lost(&self, f: impl FnOnce() + Send + 'static) {
        let mut rx = self.lost.clone();
        tokio::spawn(async move {
            while !*rx.borrow_and_update() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            f();
        });
    }

    /// Frees the lease at once: deletes the row (SQLite), frees the advisory lock and deletes
    /// the row (PostgreSQL). A lease another process took over is left to it.
    #[tracing::instrument(name = "store.release_lease", level = "debug", skip_all)]
    pub async fn release(self) -> Result<()> {
        self.renewal.abort();
        match &self.inner {
            LeaseInner::Sqlite(pool) => {
                delete_sqlite(pool, &self.name, &self.holder, self.acquired_at).await?;
            }
            LeaseInner::Postgres(conn) => {
                let mut guard = conn.lock().await;
                let Some(mut c) = guard.0.take() else {
                    return Ok(());
                };
                let released = release_pg(&mut c, &self.name, &self.holder, self.acquired_at).await;
                if released.is_err() {
                    // The session may still hold the lock: end it so the lock goes.
                    c.close_on_drop();
                }
                released?;
            }
        }
        Ok(())
    }
}

/// SQLite: deletes this acquisition's row (a row another holder took over is left alone).
async fn delete_sqlite(
    pool: &sqlx::SqlitePool,
    name: &str,
    holder: &str,
    acquired_at: DbTime,
) -> Result<()> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2 AND acquired_at = $3")
        .bind(name)
        .bind(holder)
        .bind(acquired_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Frees the lock first, then deletes this acquisition's row: a new holder's row is never
/// deleted, and a waiter never finds the lock held with no row.
async fn release_pg(
    c: &mut PoolConnection<Postgres>,
    name: &str,
    holder: &str,
    acquired_at: DbTime,
) -> Result<()> {
    sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
        .bind(PG_LOCK_NAMESPACE)
        .bind(pg_key(name))
        .execute(&mut **c)
        .await?;
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2 AND acquired_at = $3")
        .bind(name)
        .bind(holder)
        .bind(acquired_at)
        .execute(&mut **c)
        .await?;
    Ok(())
}

impl Drop for Lease {
    /// Stops the renewal and frees the lease as well as a destructor can. PostgreSQL: the
    /// connection is closed when the last handle on it goes (`CloseUnlessKept`), which ends
    /// the session and frees the lock. SQLite: the row is deleted at once when the lease is
    /// dropped on a multi-threaded runtime (a cancelled run, an early return), so that the
    /// next holder need not wait for it to expire; elsewhere (or should the delete fail) it
    /// expires.
    fn drop(&mut self) {
        self.renewal.abort();
        let LeaseInner::Sqlite(pool) = &self.inner else {
            return;
        };
        if std::thread::panicking() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return;
        }
        let (name, holder, at) = (&self.name, &self.holder, self.acquired_at);
        // A runtime shutting down may refuse the work: the row then expires.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tokio::task::block_in_place(|| {
                let delete = tokio::time::timeout(
                    Duration::from_secs(5),
                    delete_sqlite(pool, name, holder, at),
                );
                if let Ok(Err(e)) = handle.block_on(delete) {
                    tracing::warn!(lease = %name, error = %e, "cannot release a dropped lease; it expires");
                }
            })
        }));
    }
}
