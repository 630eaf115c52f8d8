//! The items of a chunk's records, read once per chunk: the store's links and last-synced
//! values, the items monday holds under a record's Id that the store does not know, their
//! queued monday edits, and the items of the records they link to.

use std::collections::{BTreeMap, HashMap};

use crmmap_engine::eval::Record;
use crmmap_engine::plan::Plan;
use crmmap_ids::{ItemId, ObjectName, RecordId, SObjectName};
use crmmap_monday::PageRequest;
use crmmap_monday::client::{MAX_PAGE_SIZE, cost};
use crmmap_store::SyncedValue;

use serde_json::Value as Json;

use super::migrator::Migrator;
use super::{MigrateError, WEBHOOK_RETRY_KIND};

/// What a chunk knows of its records' items before it evaluates them.
pub(super) struct Items {
    /// Record id → item id, for records the store links (and those linked while the chunk
    /// runs).
    pub(super) linked: HashMap<RecordId, ItemId>,
    /// Record id → a live item monday holds with the record's Id in its Salesforce-id column
    /// that the store does not know, with its id.
    pub(super) found: HashMap<RecordId, (ItemId, crmmap_monday::Item)>,
    /// Item id → its monday edits waiting in the retry queue, as queued.
    pub(super) queued: HashMap<ItemId, Vec<Json>>,
    /// Linked item id → its last-synced values.
    pub(super) synced: HashMap<ItemId, Vec<SyncedValue>>,
    /// The items of the records the chunk's records link to (`<-` links), and of the chunk's
    /// records linked while it runs.
    pub(super) targets: RecordItems,
}

/// (object, record id) → item id, for records that have an item.
#[derive(Default)]
pub(super) struct RecordItems(HashMap<(ObjectName, RecordId), ItemId>);

impl RecordItems {
    /// The item of a record of `object`.
    pub(super) fn get(&self, object: &ObjectName, record_id: &RecordId) -> Option<&ItemId> {
        self.0.get(&(object.clone(), record_id.clone()))
    }

    /// Records that a record of `object` now has an item.
    pub(super) fn insert(&mut self, object: &ObjectName, record_id: &RecordId, item_id: ItemId) {
        self.0.insert((object.clone(), record_id.clone()), item_id);
    }
}

impl Migrator<'_> {
    /// Reads the items of `records` (`ids`, their Ids) of `plan`: one store query for the
    /// links, one monday lookup for the rest, one store query for their queued edits, one for
    /// their last-synced values, and one per linked object for the items they link to.
    pub(super) async fn items(
        &mut self,
        plan: &Plan,
        records: &[Record],
        ids: &[RecordId],
    ) -> Result<Items, MigrateError> {
        let board = plan.board;
        let linked: HashMap<RecordId, ItemId> = self
            .ctx
            .store
            .links_by_records(&plan.sobject, ids)
            .await?
            .into_iter()
            .filter(|l| l.board_id == board)
            .map(|l| (l.record_id, l.item_id))
            .collect();
        let unlinked: Vec<String> = ids
            .iter()
            .filter(|id| !linked.contains_key(*id))
            .map(RecordId::to_string)
            .collect();
        let found = self.find_on_monday(plan, &unlinked).await?;
        let known: Vec<ItemId> = linked
            .values()
            .copied()
            .chain(found.values().map(|(id, _)| *id))
            .collect();
        let mut queued: HashMap<ItemId, Vec<Json>> = HashMap::new();
        for q in self
            .ctx
            .store
            .queued_item_events(WEBHOOK_RETRY_KIND, board, &known)
            .await?
        {
            queued.entry(q.item_id).or_default().push(q.event);
        }
        let linked_items: Vec<ItemId> = linked.values().copied().collect();
        let synced = self
            .ctx
            .store
            .synced_values_by_items(board, &linked_items)
            .await?;
        // Lookup fields hold Salesforce ids; one that does not parse names no record.
        let wanted: Vec<(&ObjectName, RecordId)> = plan
            .links
            .iter()
            .filter(|l| l.direction.to_monday())
            .flat_map(|l| {
                records.iter().filter_map(|r| {
                    let id = r.get(&l.via).and_then(Json::as_str)?;
                    Some((&l.target, RecordId::parse(id).ok()?))
                })
            })
            .collect();
        let targets = self.items_of_records(&wanted).await?;
        Ok(Items {
            linked,
            found,
            queued,
            synced,
            targets,
        })
    }

    /// The items of records of any object (named as the mappings name it), one store query
    /// per object. The store keys links by sObject, as the webhook does.
    pub(super) async fn items_of_records(
        &self,
        records: &[(&ObjectName, RecordId)],
    ) -> Result<RecordItems, MigrateError> {
        let mut by_object: BTreeMap<&ObjectName, Vec<RecordId>> = BTreeMap::new();
        for (object, record_id) in records {
            by_object.entry(object).or_default().push(record_id.clone());
        }
        let mut out = RecordItems::default();
        for (object, mut ids) in by_object {
            ids.sort();
            ids.dedup();
            let sobject = self
                .ctx
                .plans
                .plan(object)
                .map_or_else(|| SObjectName::new(object.as_str()), |p| p.sobject.clone());
            for link in self.ctx.store.links_by_records(&sobject, &ids).await? {
                out.insert(object, &link.record_id, link.item_id);
            }
        }
        Ok(out)
    }

    /// Items that exist on monday with a record's Id but that the store does not know
    /// (created by an interrupted run, by hand, or by the old batch job), by record id: one
    /// `items_page_by_column_values` on the Salesforce-id column.
    async fn find_on_monday(
        &mut self,
        plan: &Plan,
        unlinked: &[String],
    ) -> Result<HashMap<RecordId, (ItemId, crmmap_monday::Item)>, MigrateError> {
        let mut found: HashMap<RecordId, (ItemId, crmmap_monday::Item)> = HashMap::new();
        if unlinked.is_empty() {
            return Ok(found);
        }
        let key_column = plan.key_column.clone();
        let mut columns = vec![key_column.clone()];
        columns.extend(plan.fields_to_monday().map(|f| f.column.clone()));
        let request = PageRequest {
            limit: MAX_PAGE_SIZE,
            column_ids: Some(columns.clone()),
            query_params: None,
        };
        let items = self
            .ctx
            .monday
            .items_by_column_values(plan.board, &key_column, unlinked, &request)
            .await?;
        self.report.monday_reads += 1;
        self.report.monday_complexity += cost::read(MAX_PAGE_SIZE.into(), Some(columns.len()));
        for item in items {
            // Archived and deleted items are no partners: a record keeps to live items.
            let id = item.id;
            if item.inactive().is_some() {
                continue;
            }
            // A key column that holds no Salesforce id names no record.
            let Some(rid) = item
                .column(&plan.key_column)
                .and_then(|c| c.text.as_deref())
                .and_then(|t| RecordId::parse(t).ok())
            else {
                continue;
            };
            // Several items with one Id (the old job's duplicates): keep the oldest (monday's
            // ids grow with time).
            let keep = match found.get(&rid) {
                Some((other, _)) => id < *other,
                None => true,
            };
            if keep {
                found.insert(rid, (id, item));
            }
        }
        Ok(found)
    }
}
