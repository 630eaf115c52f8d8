//! Retention: what the store forgets, and when (`[store] keep_events_days`, `keep_log_days`).
//!
//! Processed webhook events exist to recognise monday's redeliveries, which stop after 30
//! minutes; they are kept for days, never less than one. The sync log is kept as long as
//! configured (0: forever). Run by the scheduled Lambda after each drain and by
//! `crmmap prune` (cron it next to `crmmap retry` where the runner is served).

use crmmap_store::{Store, StoreError};
use time::{Duration, OffsetDateTime};

use crate::config::StoreSection;

/// How many rows one pruning removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Processed webhook events.
    pub events: u64,
    /// Sync-log rows.
    pub log: u64,
}

/// Removes what is older than the configured retention, as of `now`.
pub async fn prune(
    store: &Store,
    keep: &StoreSection,
    now: OffsetDateTime,
) -> Result<Pruned, StoreError> {
    let events_days = i64::from(keep.keep_events_days.max(1));
    let events = store
        .prune_events(now - Duration::days(events_days))
        .await?;
    let log = match keep.keep_log_days {
        0 => 0,
        days => {
            store
                .prune_log(now - Duration::days(i64::from(days)))
                .await?
        }
    };
    Ok(Pruned { events, log })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crmmap_store::EventOutcome;
    use time::macros::datetime;

    #[tokio::test]
    async fn events_are_kept_a_day_at_least_and_a_log_of_zero_days_forever() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let now = datetime!(2026-03-10 12:00 UTC);
        for (key, age) in [
            ("two-days", Duration::days(2)),
            ("hours", Duration::hours(12)),
        ] {
            store.begin_event(key, now - age).await.unwrap();
            store
                .finish_event(key, EventOutcome::Applied, None, now - age)
                .await
                .unwrap();
        }
        let ancient = crmmap_store::LogEntry::new(
            now - Duration::days(200),
            crmmap_store::RunnerKind::Migrate,
            crmmap_store::Action::Updated,
        );
        store.append_log(&ancient).await.unwrap();
        let keep = StoreSection {
            keep_events_days: 0,
            keep_log_days: 0,
            ..StoreSection::default()
        };
        let pruned = prune(&store, &keep, now).await.unwrap();
        assert_eq!(pruned, Pruned { events: 1, log: 0 });
        let log = store
            .query_log(&crmmap_store::LogFilter::default())
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
    }
}
