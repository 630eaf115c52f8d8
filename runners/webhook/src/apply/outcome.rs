//! What an update leaves behind: its sync-log reason and the last-synced values it implies
//! (committed with the event's outcome, or at once for what must survive a later failure).

use crmmap_engine::plan::Plan;
use crmmap_engine::value::Value;
use crmmap_ids::RecordId;
use crmmap_store::{Action, CONVERTED_KEY, SetValue, Side, SyncedKey, field_key};
use serde_json::Value as Json;

use super::{ApplyError, Applying, Done, LAST_SEEN_KEY, Updated, read_field, set_values};
use crate::Webhook;

/// Why a change to a converted Lead is not sent (the sync-log reason).
pub(crate) const CONVERTED_REASON: &str = "converted lead: Salesforce does not accept updates";

impl Webhook {
    pub(crate) fn update_done(
        &self,
        plan: &Plan,
        record_id: &RecordId,
        updated: &Updated,
        what: &str,
        mut notes: Vec<String>,
    ) -> Done {
        if !updated.kept_by_salesforce.is_empty() {
            notes.push(format!(
                "conflict: salesforce changed {} too; kept salesforce's value",
                updated.kept_by_salesforce.join(", ")
            ));
        }
        if updated.converted {
            notes.insert(0, CONVERTED_REASON.to_owned());
        }
        let action = if updated.written.is_empty() {
            Action::Skipped
        } else {
            Action::Updated
        };
        let mut reason = what.to_owned();
        for n in notes {
            reason.push_str("; ");
            reason.push_str(&n);
        }
        Done::new(action, Some(plan), Some(record_id), reason)
    }

    /// The last-synced values after an update: `extra`, then what was written and read.
    pub(crate) fn update_values(
        &self,
        plan: &Plan,
        updated: &Updated,
        mut extra: Vec<(SyncedKey, Json, Side)>,
    ) -> Vec<SetValue> {
        if updated.converted {
            extra.push((CONVERTED_KEY.to_owned(), Json::Bool(true), Side::Salesforce));
            return set_values(extra);
        }
        for (field, json) in &updated.read {
            if field != "LastModifiedDate" && !updated.written.fields.contains_key(field) {
                extra.push((
                    field_key(field),
                    read_field(plan, field, json).to_json(),
                    Side::Salesforce,
                ));
            }
        }
        for (field, json) in &updated.written.fields {
            extra.push((
                field_key(field),
                read_field(plan, field, json).to_json(),
                Side::Salesforce,
            ));
        }
        let now = self.inner.ctx.now();
        // After a write, the record changed at or before the `Date` of Salesforce's answer
        // (Salesforce's clock: ours may run ahead, and a condition taken from it would let an
        // edit made in Salesforce meanwhile pass); after a read only, it was last modified
        // exactly when Salesforce said.
        let seen = if updated.written.is_empty() {
            // Read in the very second of the last modification: a change later in that second
            // would be invisible to `If-Unmodified-Since` (second granularity), so the next
            // update re-reads first.
            updated.seen.map(|m| {
                if m.unix_timestamp() >= now.unix_timestamp() {
                    m - time::Duration::seconds(1)
                } else {
                    m
                }
            })
        } else if let Some(date) = updated.confirmed {
            Some(date)
        } else {
            // No `Date` in the answer: our clock, the best there is.
            Some(updated.seen.map_or(now, |s| s.max(now)))
        };
        if let Some(seen) = seen {
            extra.push((
                LAST_SEEN_KEY.to_owned(),
                Value::DateTime(seen).to_json(),
                Side::Salesforce,
            ));
        }
        set_values(extra)
    }

    /// Writes last-synced values at once (not with the event's outcome): for what must
    /// survive a failure later in the same event.
    pub(crate) async fn remember_now(
        &self,
        at: &Applying<'_>,
        values: &[(SyncedKey, Json, Side)],
    ) -> Result<(), ApplyError> {
        let (board, item) = (at.board, at.item);
        let set: Vec<SetValue> = values
            .iter()
            .map(|(key, value, source)| SetValue {
                key: key.clone(),
                value: value.clone(),
                source: *source,
            })
            .collect();
        self.inner
            .ctx
            .store
            .set_synced_values(board, item, &set, self.inner.ctx.now())
            .await?;
        Ok(())
    }
}
