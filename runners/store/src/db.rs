//! The one place where the two backends differ: pools, connection options, time
//! encoding and the few SQL fragments that are not portable.

use std::str::FromStr;
use std::time::Duration;

use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPool, PgPoolOptions, PgTypeInfo, PgValueRef,
};
use sqlx::sqlite::{
    SqliteArgumentValue, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Decode, Encode, Postgres, Sqlite, Transaction, Type};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Result, StoreError};
use crate::url::{Backend, redact_url};

/// How long an SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an SQLite file's write-ahead log is checkpointed in the background. SQLite's
/// automatic checkpoints are off: they run inside the commit that crosses the threshold, which
/// then waits for the database file to be written and synced (milliseconds, on the request
/// path of whichever webhook event is unlucky).
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How long a caller may wait for a connection of the lock pool: waiting for an
/// item lock can be long, and is bounded by the caller (see [`crate::Store::lock_item`]).
const LOCK_POOL_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(600);

/// Pool sizes and timeouts. The defaults suit both a Lambda instance and `crmmap serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Connections for queries (an SQLite file store; PostgreSQL). An in-memory
    /// SQLite store always has exactly one.
    pub max_connections: u32,
    /// PostgreSQL only: connections that hold or wait for item locks, in a pool of
    /// their own (opened lazily), so that callers queued for a busy item can never
    /// take the connections the lock holder needs for its own queries.
    pub lock_connections: u32,
    /// How long to wait for a free query connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            max_connections: 10,
            lock_connections: 32,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The connection pool of one backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Connects and applies the migrations of the backend. Returns the query pool
    /// and, on PostgreSQL, the (lazy) pool for item locks.
    pub(crate) async fn connect(url: &str, opts: &StoreOptions) -> Result<(Pool, Option<PgPool>)> {
        let shown = redact_url(url);
        let connect_err = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        match Backend::from_url(url) {
            Some(Backend::Sqlite) => {
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(connect_err)?
                    .create_if_missing(true)
                    .journal_mode(if memory {
                        SqliteJournalMode::Memory
                    } else {
                        SqliteJournalMode::Wal
                    })
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .pragma("wal_autocheckpoint", if memory { "1000" } else { "0" });
                let pool = if memory {
                    // An in-memory database lives as long as its one connection: keep
                    // exactly one, forever.
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    SqlitePoolOptions::new().max_connections(opts.max_connections.max(1))
                }
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(connect_err)?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                Ok((Pool::Sqlite(pool), None))
            }
            Some(Backend::Postgres) => {
                let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(options.clone())
                    .await
                    .map_err(connect_err)?;
                let locks = PgPoolOptions::new()
                    .max_connections(opts.lock_connections.max(1))
                    .min_connections(0)
                    .acquire_timeout(LOCK_POOL_ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options);
                // sqlx serializes concurrent migrators with an advisory lock, so several
                // Lambda instances starting at once are safe.
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Ok((Pool::Postgres(pool), Some(locks)))
            }
            None => Err(StoreError::UnsupportedUrl { url: shown }),
        }
    }

    /// SQLite files: checkpoints the write-ahead log in the background (see
    /// [`SQLITE_CHECKPOINT_EVERY`]) until the returned handle is dropped. A passive
    /// checkpoint never blocks readers or writers; the last connection to close checkpoints
    /// whatever is left.
    pub(crate) fn checkpointer(&self, url: &str) -> Option<Checkpointer> {
        let Pool::Sqlite(pool) = self else {
            return None;
        };
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let pool = pool.clone();
        Some(Checkpointer(tokio::spawn(async move {
            let mut tick = tokio::time::interval(SQLITE_CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(error = %e, "background WAL checkpoint failed; next tick retries");
                }
            }
        })))
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// The background checkpoint task of an SQLite store; stopped when dropped.
pub(crate) struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    pub(crate) fn stop(&self) {
        self.0.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool (`&SqlitePool` or `&PgPool`).
///
/// The body is compiled once per backend, so it must only use SQL and types that
/// both accept; the non-portable bits come from [`Dialect`].
macro_rules! with_pool {
    ($pool_enum:expr, $pool:ident => $body:expr) => {
        match $pool_enum {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// One connection of either backend, for statements that must run on a given
/// connection (inside a caller's transaction) rather than on any pooled one.
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl Conn<'_> {
    /// The same connection, borrowed again for one more statement.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl<'a> From<&'a mut sqlx::SqliteConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::SqliteConnection) -> Conn<'a> {
        Conn::Sqlite(c)
    }
}

impl<'a> From<&'a mut sqlx::PgConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::PgConnection) -> Conn<'a> {
        Conn::Postgres(c)
    }
}

/// Runs `$body` with `$conn` bound to the concrete connection (`&mut SqliteConnection`
/// or `&mut PgConnection`); like [`with_pool!`], the body is compiled once per backend.
macro_rules! with_conn {
    ($conn_enum:expr, $conn:ident => $body:expr) => {
        match $conn_enum {
            $crate::db::Conn::Sqlite($conn) => $body,
            $crate::db::Conn::Postgres($conn) => $body,
        }
    };
}
pub(crate) use with_conn;

/// Backend-specific behaviour used inside [`with_pool!`] bodies.
pub(crate) trait Dialect {
    type Db: sqlx::Database;
    /// Appended to the `SELECT` that picks retry items to claim.
    const SKIP_LOCKED: &'static str;
    /// Begins a transaction that will write. On SQLite this takes the write lock up
    /// front (`BEGIN IMMEDIATE`), so a read-then-write transaction cannot fail with a
    /// stale snapshot; on PostgreSQL it is a plain `BEGIN`.
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl Dialect for SqlitePool {
    type Db = Sqlite;
    // SQLite has one writer at a time: the claiming UPDATE is atomic by itself.
    const SKIP_LOCKED: &'static str = "";
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl Dialect for PgPool {
    type Db = Postgres;
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// A point in time as the store keeps it: UTC, microsecond precision.
///
/// PostgreSQL stores it as `TIMESTAMPTZ`. SQLite stores it as fixed-width text
/// (`2024-01-02T03:04:05.000006Z`), so that comparing and ordering the text in SQL
/// is the same as comparing the times (RFC 3339 text of varying width is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DbTime(pub(crate) OffsetDateTime);

const SQLITE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl DbTime {
    /// Normalizes to UTC and truncates to microseconds, the precision both backends keep.
    pub(crate) fn new(t: OffsetDateTime) -> DbTime {
        let t = t.to_offset(UtcOffset::UTC);
        let micros = t.nanosecond() / 1_000 * 1_000;
        // INVARIANT: a truncated nanosecond is still in 0..1e9.
        DbTime(t.replace_nanosecond(micros).unwrap_or(t))
    }

    fn sqlite_text(self) -> Result<String, BoxDynError> {
        Ok(self.0.format(SQLITE_TIME)?)
    }
}

/// Normalizes a time the way the store keeps it (UTC, microseconds).
pub fn normalize_time(t: OffsetDateTime) -> OffsetDateTime {
    DbTime::new(t).0
}

impl From<OffsetDateTime> for DbTime {
    fn from(t: OffsetDateTime) -> DbTime {
        DbTime::new(t)
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.sqlite_text()?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<DbTime, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        let t = time::PrimitiveDateTime::parse(
            text.trim_end_matches('Z'),
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        )?;
        Ok(DbTime(t.assume_utc()))
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<DbTime, BoxDynError> {
        Ok(DbTime(
            <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?.to_offset(UtcOffset::UTC),
        ))
    }
}

/// True when the error is a unique-constraint violation (both backends).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sqlite_text_orders_like_time() {
        let a = DbTime::new(datetime!(2024-01-01 00:00:00 UTC))
            .sqlite_text()
            .unwrap();
        let b = DbTime::new(datetime!(2024-01-01 00:00:00.5 UTC))
            .sqlite_text()
            .unwrap();
        let c = DbTime::new(datetime!(2024-01-01 00:00:01 UTC))
            .sqlite_text()
            .unwrap();
        assert_eq!(a, "2024-01-01T00:00:00.000000Z");
        assert!(a < b && b < c, "{a} {b} {c}");
    }

    #[test]
    fn normalizes_to_utc_microseconds() {
        let t = DbTime::new(datetime!(2024-01-01 02:00:00.123456789 +02:00)).0;
        assert_eq!(t, datetime!(2024-01-01 00:00:00.123456 UTC));
        assert_eq!(t.offset(), UtcOffset::UTC);
    }
}
