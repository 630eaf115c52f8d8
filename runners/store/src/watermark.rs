//! Incremental-sync watermarks: per object (and per object for its deletions), the last `SystemModstamp` processed and
//! the last Id processed at that exact timestamp.
//!
//! Many records can share one `SystemModstamp` (a bulk update), and a page may end
//! in the middle of them. Keeping only the timestamp would either skip the rest of
//! them (`> ts`) or redo all of them (`>= ts`). Keeping `(ts, last Id)` lets the
//! migrator ask for `SystemModstamp > ts OR (SystemModstamp = ts AND Id > last_id)`
//! ordered by `SystemModstamp, Id`, which neither skips nor repeats.

use crmmap_ids::ObjectName;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::Store;
use crate::db::{DbTime, with_pool};
use crate::error::{Result, StoreError};

/// What a watermark follows: an object's records, or the deletions of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkKey<'a> {
    /// The object's records, by `SystemModstamp`.
    Records(&'a ObjectName),
    /// The object's deleted records.
    Deletions(&'a ObjectName),
}

impl WatermarkKey<'_> {
    /// The key stored in `watermarks.object`: the object's name, with `#deleted` for deletions.
    pub fn encode(self) -> String {
        match self {
            WatermarkKey::Records(object) => object.as_str().to_owned(),
            WatermarkKey::Deletions(object) => format!("{object}#deleted"),
        }
    }
}

/// How far an sObject has been synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// The `SystemModstamp` of the last processed record (UTC, microseconds).
    pub modstamp: OffsetDateTime,
    /// The Id of the last processed record among those with that `SystemModstamp`.
    pub last_id: String,
}

/// Salesforce's datetime format in JSON: `2024-01-15T10:30:00.000+0000`.
const SALESFORCE_DATETIME: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory][offset_minute]"
);

impl Watermark {
    /// A watermark at a time and Id.
    pub fn new(modstamp: OffsetDateTime, last_id: impl Into<String>) -> Watermark {
        Watermark {
            modstamp: crate::normalize_time(modstamp),
            last_id: last_id.into(),
        }
    }

    /// A watermark from a `SystemModstamp` as Salesforce returns it
    /// (`2024-01-15T10:30:00.000+0000`; RFC 3339 is accepted too).
    pub fn from_salesforce(modstamp: &str, last_id: impl Into<String>) -> Result<Watermark> {
        let t = OffsetDateTime::parse(modstamp, SALESFORCE_DATETIME)
            .or_else(|_| {
                OffsetDateTime::parse(modstamp, &time::format_description::well_known::Rfc3339)
            })
            .map_err(|_| StoreError::InvalidDatetime(modstamp.to_owned()))?;
        Ok(Watermark::new(t, last_id))
    }

    /// The timestamp as a SOQL datetime literal (`2024-01-15T10:30:00.000Z`).
    pub fn modstamp_soql(&self) -> String {
        let t = self.modstamp.to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }

    /// Whether a record with this `SystemModstamp` and Id is already covered by the
    /// watermark (at or before it), i.e. must not be processed again.
    pub fn covers(&self, modstamp: OffsetDateTime, id: &str) -> bool {
        let modstamp = crate::normalize_time(modstamp);
        modstamp < self.modstamp
            || (modstamp == self.modstamp && id_order(id, &self.last_id).is_le())
    }
}

/// The order of record Ids at one timestamp.
///
/// UNCERTAIN: Salesforce does not document the collation of `ORDER BY Id`; Ids are
/// case-sensitive base-62, and byte order is assumed (the PostgreSQL column uses
/// `COLLATE "C"` to match). This is the one place that makes the choice in Rust.
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

#[derive(sqlx::FromRow)]
struct WatermarkRow {
    modstamp: DbTime,
    last_id: String,
}

impl Store {
    /// The watermark of a key, if any was saved.
    pub async fn watermark(&self, key: WatermarkKey<'_>) -> Result<Option<Watermark>> {
        let row: Option<WatermarkRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as("SELECT modstamp, last_id FROM watermarks WHERE object = $1")
                .bind(key.encode())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|r| Watermark {
            modstamp: r.modstamp.0,
            last_id: r.last_id,
        }))
    }

    /// Moves the watermark of a key forward to `to`, never backward.
    ///
    /// One atomic statement: the watermark changes only when `(modstamp, last_id)`
    /// is after the stored one, so out-of-order or concurrent saves cannot move it
    /// back. Returns whether it moved.
    pub async fn advance_watermark(
        &self,
        key: WatermarkKey<'_>,
        to: &Watermark,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let (modstamp, now) = (DbTime::from(to.modstamp), DbTime::from(now));
        let moved = with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO watermarks (object, modstamp, last_id, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (object) DO UPDATE \
                 SET modstamp = excluded.modstamp, last_id = excluded.last_id, updated_at = excluded.updated_at \
                 WHERE watermarks.modstamp < excluded.modstamp \
                    OR (watermarks.modstamp = excluded.modstamp AND watermarks.last_id < excluded.last_id)",
            )
            .bind(key.encode())
            .bind(modstamp)
            .bind(&to.last_id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(moved > 0)
    }

    /// Sets the watermark of a key, forward or backward (an operator's reset).
    pub async fn set_watermark(
        &self,
        key: WatermarkKey<'_>,
        to: &Watermark,
        now: OffsetDateTime,
    ) -> Result<()> {
        let (modstamp, now) = (DbTime::from(to.modstamp), DbTime::from(now));
        with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO watermarks (object, modstamp, last_id, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (object) DO UPDATE \
                 SET modstamp = excluded.modstamp, last_id = excluded.last_id, updated_at = excluded.updated_at",
            )
            .bind(key.encode())
            .bind(modstamp)
            .bind(&to.last_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Forgets the watermark of a key (`migrate --full`). Returns whether one existed.
    pub async fn clear_watermark(&self, key: WatermarkKey<'_>) -> Result<bool> {
        let n = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM watermarks WHERE object = $1")
                .bind(key.encode())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_salesforce_format() {
        let w = Watermark::from_salesforce("2024-01-15T10:30:00.000+0000", "001A").unwrap();
        assert_eq!(w.modstamp, datetime!(2024-01-15 10:30 UTC));
        let w = Watermark::from_salesforce("2024-01-15T12:30:00.250+0200", "001A").unwrap();
        assert_eq!(w.modstamp, datetime!(2024-01-15 10:30:00.25 UTC));
        assert_eq!(w.modstamp_soql(), "2024-01-15T10:30:00.250Z");
        assert!(matches!(
            Watermark::from_salesforce("yesterday", "001A"),
            Err(StoreError::InvalidDatetime(_))
        ));
    }

    #[test]
    fn covers_ties_by_id() {
        let w = Watermark::new(datetime!(2024-01-15 10:30 UTC), "001B");
        assert!(w.covers(datetime!(2024-01-15 10:29 UTC), "001Z"));
        assert!(w.covers(datetime!(2024-01-15 10:30 UTC), "001A"));
        assert!(w.covers(datetime!(2024-01-15 10:30 UTC), "001B"));
        assert!(!w.covers(datetime!(2024-01-15 10:30 UTC), "001C"));
        assert!(!w.covers(datetime!(2024-01-15 10:31 UTC), "0010"));
        // Case matters in Salesforce Ids: byte order puts uppercase first.
        assert!(w.covers(datetime!(2024-01-15 10:30 UTC), "001A"));
        assert!(!w.covers(datetime!(2024-01-15 10:30 UTC), "001a"));
    }
}
