//! The items of a chunk's records, read once per chunk: the store's links, the items monday
//! holds under a record's Id that the store does not know, and their queued monday edits.

use std::collections::HashMap;

use crmmap_engine::plan::Plan;
use crmmap_monday::PageRequest;
use crmmap_monday::client::{MAX_PAGE_SIZE, cost};
use serde_json::Value as Json;

use super::migrator::Migrator;
use super::{MigrateError, WEBHOOK_RETRY_KIND};

/// What a chunk knows of its records' items before it evaluates them.
pub(super) struct Items {
    /// Record id → item id, for records the store links (and those linked while the chunk
    /// runs).
    pub(super) linked: HashMap<String, String>,
    /// Record id → a live item monday holds with the record's Id in its Salesforce-id column
    /// that the store does not know.
    pub(super) found: HashMap<String, crmmap_monday::Item>,
    /// Item id → its monday edits waiting in the retry queue, as queued.
    pub(super) queued: HashMap<String, Vec<Json>>,
}

impl Migrator<'_> {
    /// Reads the items of the records `ids` of `plan`: one store query for the links, one
    /// monday lookup for the rest, one store query for their queued edits.
    pub(super) async fn items(
        &mut self,
        plan: &Plan,
        ids: &[String],
    ) -> Result<Items, MigrateError> {
        let board = plan.board.to_string();
        let linked: HashMap<String, String> = self
            .ctx
            .store
            .links_by_records(&plan.object, ids)
            .await?
            .into_iter()
            .map(|l| (l.record_id, l.item_id))
            .collect();
        let unlinked: Vec<String> = ids
            .iter()
            .filter(|id| !linked.contains_key(*id))
            .cloned()
            .collect();
        let found = self.find_on_monday(plan, &unlinked).await?;
        let known: Vec<String> = linked
            .values()
            .cloned()
            .chain(found.values().map(|i| i.id.clone()))
            .collect();
        let mut queued: HashMap<String, Vec<Json>> = HashMap::new();
        for q in self
            .ctx
            .store
            .queued_item_events(WEBHOOK_RETRY_KIND, &board, &known)
            .await?
        {
            queued.entry(q.item_id).or_default().push(q.event);
        }
        Ok(Items {
            linked,
            found,
            queued,
        })
    }

    /// Items that exist on monday with a record's Id but that the store does not know
    /// (created by an interrupted run, by hand, or by the old batch job), by record id: one
    /// `items_page_by_column_values` on the Salesforce-id column.
    async fn find_on_monday(
        &mut self,
        plan: &Plan,
        unlinked: &[String],
    ) -> Result<HashMap<String, crmmap_monday::Item>, MigrateError> {
        let mut found: HashMap<String, crmmap_monday::Item> = HashMap::new();
        if unlinked.is_empty() {
            return Ok(found);
        }
        let mut columns = vec![plan.key_column.clone()];
        columns.extend(plan.fields_to_monday().map(|f| f.column.clone()));
        let request = PageRequest {
            limit: MAX_PAGE_SIZE,
            column_ids: Some(columns.clone()),
            query_params: None,
        };
        let items = self
            .ctx
            .monday
            .items_by_column_values(
                &plan.board.to_string(),
                &plan.key_column,
                unlinked,
                &request,
            )
            .await?;
        self.report.monday_reads += 1;
        self.report.monday_complexity += cost::read(MAX_PAGE_SIZE.into(), Some(columns.len()));
        for item in items {
            // Archived and deleted items are no partners: a record keeps to live items.
            if item.inactive().is_some() {
                continue;
            }
            let Some(rid) = item
                .column(&plan.key_column)
                .and_then(|c| c.text.clone())
                .filter(|t| !t.is_empty())
            else {
                continue;
            };
            // Several items with one Id (the old job's duplicates): keep the oldest.
            let keep = match found.get(&rid) {
                Some(other) => id_number(&item.id) < id_number(&other.id),
                None => true,
            };
            if keep {
                found.insert(rid, item);
            }
        }
        Ok(found)
    }
}

/// An item id as a number for ordering by age (a non-numeric id sorts last).
fn id_number(id: &str) -> u64 {
    id.parse().unwrap_or(u64::MAX)
}
