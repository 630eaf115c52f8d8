//! One record's change, under its item's lock: its order against the record's last applied
//! change, then the write it needs (see the module documentation of `salesforce`).

use crmmap_engine::change_event::{Apply, Order, order, plan_change};
use crmmap_engine::eval;
use crmmap_engine::plan::Plan;
use crmmap_ids::{ColumnId, RecordId};
use crmmap_monday::MondayError;
use crmmap_store::{Action, Link, RecordPosition};
use crmmap_sync::failure::Classified;
use crmmap_sync::migrate::{Desired, NoProgress, prior_from_synced, sync_records};
use serde_json::Value as Json;

use super::Failed;
use super::event::{ChangeEvent, ChangeType};
use crate::{ApplyError, Done, Webhook};

impl Webhook {
    /// Applies one record's change (the caller holds its item's lock and the event's claim)
    /// and records the record's position in commit order.
    pub(super) async fn sf_apply(
        &self,
        plan: &Plan,
        ev: &ChangeEvent,
        id: &RecordId,
        link: Option<Link>,
    ) -> Result<Done, Failed> {
        let store = &self.inner.ctx.store;
        let position = ev.position();
        if let Some(at) = &position {
            let last = store.record_position(&plan.sobject, id).await?;
            let seen = last.map(|l| crmmap_engine::change_event::Position {
                commit_ms: l.commit_ms,
                transaction: l.transaction_key,
                sequence: l.sequence,
            });
            if let Some(seen) = seen {
                match order(at, &seen) {
                    Order::Older | Order::Unordered => {
                        // Its values may be older than what monday holds: the record's
                        // current values are written instead (never older than any event).
                        let why = "older than a change already applied: read the record";
                        return self.sf_read(plan, id, link, why).await;
                    }
                    Order::Newer | Order::Same => {}
                }
            }
        }
        let done = match &ev.change_type {
            ChangeType::Delete => {
                self.sf_delete(plan, id, link, "deleted in salesforce")
                    .await?
            }
            // A gap event carries no values (§1c): the record is read; a GAP_DELETE finds
            // it gone and follows the delete policy.
            ChangeType::Gap(_) => {
                self.sf_read(plan, id, link, "gap event: read the record")
                    .await?
            }
            ChangeType::Create | ChangeType::Undelete => {
                let why = format!(
                    "{}: read the record",
                    ev.change_type.as_str().to_lowercase()
                );
                self.sf_read(plan, id, link, &why).await?
            }
            ChangeType::Update => self.sf_update(plan, ev, id, link).await?,
            ChangeType::Overflow | ChangeType::Other(_) => Done::new(
                Action::Skipped,
                Some(plan),
                Some(id),
                "not a change of one record",
            ),
        };
        if let Some(at) = position {
            let at = RecordPosition {
                commit_ms: at.commit_ms,
                transaction_key: at.transaction,
                sequence: at.sequence,
            };
            store
                .set_record_position(&plan.sobject, id, &at, self.inner.ctx.now())
                .await?;
        }
        Ok(done)
    }

    /// An update: nothing, the changed columns in one monday request from the event's
    /// values, or the record read.
    async fn sf_update(
        &self,
        plan: &Plan,
        ev: &ChangeEvent,
        id: &RecordId,
        link: Option<Link>,
    ) -> Result<Done, Failed> {
        if ev.changes_unknown {
            let why = "the event does not name its changed fields: read the record";
            return self.sf_read(plan, id, link, why).await;
        }
        let (record, with_name) = match plan_change(plan, id.as_str(), &ev.changed, &ev.values) {
            Apply::Nothing => {
                return Ok(Done::new(
                    Action::Skipped,
                    Some(plan),
                    Some(id),
                    "the change touches no mapped field",
                ));
            }
            Apply::Read(why) => {
                return self
                    .sf_read(plan, id, link, &format!("{why}: read the record"))
                    .await;
            }
            Apply::Write { record, with_name } => (record, with_name),
        };
        let Some(link) = link else {
            // Not on monday yet: the selection decides whether it gets an item.
            return self
                .sf_read(plan, id, None, "no item yet: read the record")
                .await;
        };
        let store = &self.inner.ctx.store;
        let now = self.inner.ctx.now();
        let synced = store.synced_values(link.board_id, link.item_id).await?;
        let prior = prior_from_synced(&synced);
        let update = eval::record_part_to_update(plan, &record, Some(&prior), now, with_name)
            .map_err(ApplyError::from)?;
        let writes = &update.writes;
        let columns: Vec<ColumnId> = writes.column_values.keys().cloned().collect();
        if writes.name.is_none() && columns.is_empty() {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(id),
                "monday already holds these values",
            ));
        }
        let mut values = writes.column_values_json();
        if let Some(name) = &writes.name {
            values.insert(
                crmmap_monday::documents::ITEM_NAME_COLUMN.to_owned(),
                Json::String(name.clone()),
            );
        }
        let name_written = writes.name.is_some();
        let written = self
            .inner
            .ctx
            .monday
            .change_column_values(link.board_id, link.item_id, values, writes.create_labels)
            .await;
        match written {
            Ok(_) => {}
            Err(MondayError::ItemGone { .. }) => {
                // The item was deleted on monday: forget it; the record is read and gets a
                // new item when it is still selected.
                store.delete_link(link.board_id, link.item_id).await?;
                return self
                    .sf_read(plan, id, None, "its item was gone: read the record")
                    .await;
            }
            Err(e) => return Err(ApplyError::from(e).into()),
        }
        let desired = Desired::new(plan, &record, update.values);
        let mut done = Done::new(Action::Updated, Some(plan), Some(id), {
            let mut what: Vec<&str> = columns.iter().map(ColumnId::as_str).collect();
            if name_written {
                what.push("name");
            }
            format!("wrote {}", what.join(", "))
        });
        done.remember = desired.synced_rows(name_written, columns.iter(), std::iter::empty());
        Ok(done)
    }

    /// The record read by id and written like the migrator writes it (selection, links,
    /// creates). A linked record the read does not return (deleted, or out of the
    /// selection) follows the object's `on salesforce delete` policy.
    pub(super) async fn sf_read(
        &self,
        plan: &Plan,
        id: &RecordId,
        link: Option<Link>,
        why: &str,
    ) -> Result<Done, Failed> {
        let synced = sync_records(
            &self.inner.ctx,
            &plan.object,
            std::slice::from_ref(id),
            &mut NoProgress,
        )
        .await?;
        if let Some(f) = synced.failures.into_iter().next() {
            return Err(Failed {
                classified: Classified::local(match f.class {
                    crmmap_store::FailureClass::Outage => crmmap_store::FailureClass::Transient,
                    class => class,
                }),
                error: format!("{} {id}: {}", plan.object, f.reason),
            });
        }
        let c = synced.counts;
        if c.read == 0 {
            return match link {
                Some(link) => {
                    let why = format!("{why}; no longer selected");
                    self.sf_delete(plan, id, Some(link), &why).await
                }
                None => Ok(Done::new(
                    Action::Skipped,
                    Some(plan),
                    Some(id),
                    format!("{why}; not selected"),
                )),
            };
        }
        let action = if c.created > 0 {
            Action::Created
        } else if c.updated > 0 {
            Action::Updated
        } else {
            Action::Unchanged
        };
        Ok(Done::new(action, Some(plan), Some(id), why))
    }

    /// A record gone from Salesforce (or from the selection): its item follows the object's
    /// `on salesforce delete` policy (log: it stays; archive; delete), as the migrator's
    /// deletions step does.
    pub(super) async fn sf_delete(
        &self,
        plan: &Plan,
        id: &RecordId,
        link: Option<Link>,
        why: &str,
    ) -> Result<Done, Failed> {
        use crmmap_dsl::model::ItemDeletePolicy;
        let Some(link) = link else {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                Some(id),
                format!("{why}; it has no item"),
            ));
        };
        let policy = plan.on_salesforce_delete;
        if policy == ItemDeletePolicy::Log {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                Some(id),
                format!(
                    "{why}; item {} stays (on salesforce delete log)",
                    link.item_id
                ),
            ));
        }
        let monday = &self.inner.ctx.monday;
        let result = match policy {
            ItemDeletePolicy::Delete => monday.delete_item(link.item_id).await,
            _ => monday.archive_item(link.item_id).await,
        };
        match result {
            Ok(_) | Err(MondayError::ItemGone { .. }) => {}
            Err(e) => return Err(ApplyError::from(e).into()),
        }
        self.inner
            .ctx
            .store
            .delete_link(link.board_id, link.item_id)
            .await?;
        Ok(Done::new(
            Action::Deleted,
            Some(plan),
            Some(id),
            format!(
                "{why}; item {} {}d (on salesforce delete {})",
                link.item_id,
                policy.keyword(),
                policy.keyword()
            ),
        ))
    }
}
