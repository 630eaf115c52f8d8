//! Records deleted in Salesforce, applied to their items by the mapping's
//! `on salesforce delete` policy.

use std::collections::HashMap;

use crmmap_dsl::model::ItemDeletePolicy;
use crmmap_engine::eval::Record;
use crmmap_engine::plan::Plan;
use crmmap_ids::RecordId;
use crmmap_monday::MondayError;
use crmmap_store::{Action, Link, Watermark, WatermarkKey};
use futures::StreamExt as _;
use serde_json::Value as Json;

use super::migrator::Migrator;
use super::query::{deleted_query, id_of};
use super::{Counts, MigrateError};

impl Migrator<'_> {
    /// Records deleted in Salesforce since the last look (`queryAll`, after the object's
    /// deletion watermark), applied to their items by the mapping's `on salesforce delete`
    /// policy: logged (the item stays linked), or the item archived or deleted and unlinked.
    /// Salesforce keeps deleted records for 15 days: a deletion older than that when the
    /// migrator next runs is not seen.
    pub(super) async fn deletions(
        &mut self,
        plan: &Plan,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let object = &plan.object;
        let key = WatermarkKey::Deletions(object);
        let since = self.ctx.store.watermark(key).await?;
        let soql = deleted_query(plan, since.as_ref())?;
        let mut pages = self.ctx.salesforce.query_all_pages::<Record>(soql);
        let mut last: Option<Watermark> = None;
        while let Some(page) = pages.next().await {
            self.report.salesforce_calls += 1;
            let rows = page?.records;
            // The links of the page's records, in one query.
            let ids: Vec<RecordId> = rows.iter().filter_map(id_of).collect();
            let links: HashMap<RecordId, Link> = self
                .ctx
                .store
                .links_by_records(&plan.sobject, &ids)
                .await?
                .into_iter()
                .map(|l| (l.record_id.clone(), l))
                .collect();
            for row in rows {
                let (Some(id), Some(stamp)) = (
                    id_of(&row),
                    row.get("SystemModstamp").and_then(Json::as_str),
                ) else {
                    continue;
                };
                if let Some(link) = links.get(&id) {
                    self.deleted_record(plan, &id, link, counts).await?;
                }
                if let Ok(w) = Watermark::from_salesforce(stamp, id.as_str()) {
                    last = Some(w);
                }
            }
        }
        if let (Some(store), Some(w)) = (self.store(), last) {
            store
                .advance_watermark(key, &self.capped(w), self.ctx.now())
                .await?;
        }
        Ok(())
    }

    /// One deleted record of [`Self::deletions`] that has an item (`link`).
    pub(super) async fn deleted_record(
        &mut self,
        plan: &Plan,
        id: &RecordId,
        link: &Link,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let policy = plan.on_salesforce_delete;
        let entry = |m: &Self, action| m.entry(action, plan, id).item(link.board_id, link.item_id);
        if policy == ItemDeletePolicy::Log {
            let reason = format!(
                "deleted in salesforce; item {} stays (on salesforce delete log)",
                link.item_id
            );
            return self.log(entry(self, Action::Skipped).reason(reason)).await;
        }
        counts.deleted += 1;
        let done = format!("{}d", policy.keyword());
        if self.options.dry_run {
            let note = format!(
                "{} {id} was deleted in salesforce: item {} would be {done}",
                plan.object, link.item_id
            );
            self.progress.message(&note);
            return Ok(());
        }
        let result = match policy {
            ItemDeletePolicy::Delete => self.ctx.monday.delete_item(link.item_id).await,
            _ => self.ctx.monday.archive_item(link.item_id).await,
        };
        self.report.monday_write_requests += 1;
        match result {
            Ok(_) | Err(MondayError::ItemGone { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.ctx
            .store
            .delete_link(link.board_id, link.item_id)
            .await?;
        let reason = format!(
            "deleted in salesforce: item {done} (on salesforce delete {})",
            policy.keyword()
        );
        self.log(entry(self, Action::Deleted).reason(reason)).await
    }
}
