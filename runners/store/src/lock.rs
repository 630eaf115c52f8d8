//! Per-item ordering: events for one monday item are applied one at a time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crmmap_ids::{BoardId, ItemId, RecordId, SObjectName};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use tokio::sync::OwnedMutexGuard;

use crate::Store;
use crate::db::Pool;
use crate::error::Result;

/// First key of the two-key advisory lock, so crmmap's locks cannot collide with
/// another application's on a shared server (`"crm"` in ASCII).
pub(crate) const PG_LOCK_NAMESPACE: i32 = 0x0063_726d;

type LocalMap = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Process-wide item locks for SQLite stores. Keyed by store URL and item, so two
/// `Store`s on the same file in one process exclude each other too.
static LOCAL_LOCKS: LazyLock<LocalMap> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Holds the lock of one monday item until [`ItemGuard::release`] or drop.
///
/// Release it explicitly with [`ItemGuard::release`]. If it is dropped instead (a
/// panic, an early return), the lock is still freed: on PostgreSQL by closing the
/// connection that holds it, which ends the session and its advisory locks.
#[must_use = "the item is unlocked as soon as the guard is dropped"]
pub struct ItemGuard {
    inner: GuardInner,
}

enum GuardInner {
    Local {
        guard: Option<OwnedMutexGuard<()>>,
        key: String,
    },
    Postgres {
        conn: Option<PoolConnection<Postgres>>,
        key: String,
    },
}

impl std::fmt::Debug for ItemGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, key) = match &self.inner {
            GuardInner::Local { key, .. } => ("local", key),
            GuardInner::Postgres { key, .. } => ("postgres advisory", key),
        };
        f.debug_struct("ItemGuard")
            .field("kind", &kind)
            .field("key", key)
            .finish()
    }
}

pub(crate) fn item_key(board_id: BoardId, item_id: ItemId) -> String {
    format!("monday-item:{board_id}:{item_id}")
}

/// The item a Salesforce record without one is locked under, so that its change events are
/// applied one at a time until it has an item. monday's item ids are far below 2⁶³; these are
/// above it (a stable FNV-1a hash of the sObject and record id with the top bit set), so they
/// never name a real item: two records that share one only wait for each other, and the
/// last-synced values an event's scope writes for it are dropped (no link has that item).
pub fn record_lock_item(sobject: &SObjectName, record_id: &RecordId) -> ItemId {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0100_0000_01b3;
    let text = format!("{sobject}:{record_id}");
    let hash = text.bytes().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    });
    ItemId::from(hash | (1 << 63))
}

impl Store {
    /// Waits for and takes the lock of a monday item.
    ///
    /// Callers that lock the same item are served one at a time, in the order they
    /// asked. On PostgreSQL this is a session advisory lock
    /// (`pg_advisory_lock(namespace, hashtext(item))`) held on a dedicated pooled
    /// connection, so it excludes every process sharing the database (several
    /// Lambda instances); PostgreSQL queues waiters in arrival order. Two different
    /// items may hash alike and then merely wait for each other. Lock connections
    /// come from a pool of their own ([`crate::StoreOptions::lock_connections`]), so
    /// waiters never starve the holder of query connections. On SQLite it is a fair
    /// in-process async mutex: an SQLite store serves one process.
    ///
    /// Waiting is unbounded; bound it with `tokio::time::timeout`. Cancelling the
    /// wait is safe: a lock granted to a cancelled waiter is freed with its session.
    #[tracing::instrument(name = "store.lock_item", level = "debug", skip_all)]
    pub async fn lock_item(&self, board_id: BoardId, item_id: ItemId) -> Result<ItemGuard> {
        let key = item_key(board_id, item_id);
        match self.pool() {
            Pool::Sqlite(_) => {
                let mutex = local_mutex(&self.local_key(&key));
                let guard = mutex.lock_owned().await;
                Ok(self.local_guard(key, guard))
            }
            Pool::Postgres(pool) => {
                let pool = self.lock_pool(pool);
                // If this future is dropped while waiting, the server may still grant
                // the lock: the connection must then be closed, not pooled.
                let mut conn = CloseUnlessKept(Some(pool.acquire().await?));
                if let Some(c) = conn.0.as_mut() {
                    sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
                        .bind(PG_LOCK_NAMESPACE)
                        .bind(&key)
                        .execute(&mut **c)
                        .await?;
                }
                Ok(ItemGuard {
                    inner: GuardInner::Postgres {
                        conn: conn.0.take(),
                        key,
                    },
                })
            }
        }
    }

    /// Takes the lock of a monday item if nobody holds it, without waiting.
    pub async fn try_lock_item(
        &self,
        board_id: BoardId,
        item_id: ItemId,
    ) -> Result<Option<ItemGuard>> {
        let key = item_key(board_id, item_id);
        match self.pool() {
            Pool::Sqlite(_) => {
                let mutex = local_mutex(&self.local_key(&key));
                Ok(mutex
                    .try_lock_owned()
                    .ok()
                    .map(|g| self.local_guard(key, g)))
            }
            Pool::Postgres(pool) => {
                let mut conn = self.lock_pool(pool).acquire().await?;
                let (got,): (bool,) =
                    sqlx::query_as("SELECT pg_try_advisory_lock($1, hashtext($2))")
                        .bind(PG_LOCK_NAMESPACE)
                        .bind(&key)
                        .fetch_one(&mut *conn)
                        .await?;
                Ok(got.then(|| ItemGuard {
                    inner: GuardInner::Postgres {
                        conn: Some(conn),
                        key,
                    },
                }))
            }
        }
    }

    /// How many callers are waiting for the lock of an item (for diagnostics and
    /// tests). On PostgreSQL this counts sessions queued on the lock by every process
    /// using the database; on SQLite it also counts callers about to queue.
    pub async fn item_lock_waiters(&self, board_id: BoardId, item_id: ItemId) -> Result<usize> {
        let key = item_key(board_id, item_id);
        match self.pool() {
            Pool::Sqlite(_) => {
                let map = LOCAL_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
                Ok(map.get(&self.local_key(&key)).map_or(0, |m| {
                    let held = usize::from(m.try_lock().is_err());
                    // One reference is the map's, one the holder's; the rest wait.
                    Arc::strong_count(m).saturating_sub(1 + held)
                }))
            }
            Pool::Postgres(pool) => {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                     AND classid::bigint = $1 AND objid::bigint = (hashtext($2)::bigint & 4294967295) \
                     AND objsubid = 2 \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .bind(i64::from(PG_LOCK_NAMESPACE))
                .bind(&key)
                .fetch_one(pool)
                .await?;
                Ok(usize::try_from(n).unwrap_or(0))
            }
        }
    }

    /// The pool for lock connections (the query pool only if there is none).
    pub(crate) fn lock_pool<'a>(&'a self, query_pool: &'a sqlx::PgPool) -> &'a sqlx::PgPool {
        self.inner.lock_pool.as_ref().unwrap_or(query_pool)
    }

    fn local_key(&self, key: &str) -> String {
        format!("{}\u{0}{key}", self.url())
    }

    fn local_guard(&self, key: String, guard: OwnedMutexGuard<()>) -> ItemGuard {
        ItemGuard {
            inner: GuardInner::Local {
                guard: Some(guard),
                key: self.local_key(&key),
            },
        }
    }
}

/// A pooled connection that is closed when dropped unless taken out.
pub(crate) struct CloseUnlessKept(pub(crate) Option<PoolConnection<Postgres>>);

impl Drop for CloseUnlessKept {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            c.close_on_drop();
        }
    }
}

fn local_mutex(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut map = LOCAL_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key.to_owned()).or_default().clone()
}

impl ItemGuard {
    /// Releases the lock. The next waiter (if any) gets it.
    #[tracing::instrument(name = "store.release", level = "debug", skip_all)]
    pub async fn release(mut self) -> Result<()> {
        if let GuardInner::Postgres { conn, key } = &mut self.inner
            && let Some(mut c) = conn.take()
        {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
                .bind(PG_LOCK_NAMESPACE)
                .bind(&*key)
                .execute(&mut *c)
                .await;
            if let Err(e) = unlocked {
                // The session may still hold the lock: end it so the lock goes.
                c.close_on_drop();
                return Err(e.into());
            }
        }
        // Local locks are released by Drop.
        Ok(())
    }
}

impl Drop for ItemGuard {
    fn drop(&mut self) {
        match &mut self.inner {
            GuardInner::Local { guard, key } => {
                drop(guard.take());
                let mut map = LOCAL_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
                // Only the map holds the mutex: nobody waits, forget it.
                if map
                    .get(key.as_str())
                    .is_some_and(|m| Arc::strong_count(m) == 1)
                {
                    map.remove(key.as_str());
                }
            }
            GuardInner::Postgres { conn, .. } => {
                if let Some(mut c) = conn.take() {
                    // Not released explicitly: closing the session frees its advisory locks.
                    c.close_on_drop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_an_item_locks_a_stable_id_no_monday_item_has() {
        let lead = SObjectName::new("Lead");
        let id = |s: &str| RecordId::parse(s).unwrap();
        let a = record_lock_item(&lead, &id("00Q5f00000AbCdE"));
        assert_eq!(a, record_lock_item(&lead, &id("00Q5f00000AbCdE")));
        assert!(a.get() >= 1 << 63, "{a}");
        assert_ne!(a, record_lock_item(&lead, &id("00Q5f00000AbCdF")));
        assert_ne!(
            a,
            record_lock_item(&SObjectName::new("Contact"), &id("00Q5f00000AbCdE"))
        );
    }
}
