//! One chunk of records: each record's item and prior values, one evaluation per record (the
//! values of its item and the writes that differ), and the mutation that writes them.

use crmmap_engine::eval::{self, Change, ItemUpdate, Prior, Record, Writes};
use crmmap_engine::plan::Plan;
use crmmap_ids::{ColumnId, ItemId, RecordId};
use crmmap_monday::ItemMutation;
use crmmap_store::Action;
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;

use super::desired::{self, Desired, prior_from_synced};
use super::lookup::Items;
use super::migrator::Migrator;
use super::query::id_of;
use super::queued::keep_queued;
use super::report::planned_change;
use super::{Counts, MigrateError};

/// The writes a record needs, ready to send.
pub(super) struct Pending {
    pub(super) record_id: RecordId,
    pub(super) item_id: Option<ItemId>,
    pub(super) desired: Desired,
    /// Columns written (for the store), links written.
    pub(super) columns: Vec<ColumnId>,
    pub(super) links: Vec<ColumnId>,
    pub(super) name_written: bool,
    pub(super) matched: bool,
}

/// A chunk's mutations, with what each one writes (same order).
#[derive(Default)]
pub(super) struct Batch {
    pub(super) mutations: Vec<ItemMutation>,
    pub(super) pending: Vec<Pending>,
}

/// The item a record already has, and what it holds.
struct Partner {
    /// The item (`None`: the record gets a new one).
    item_id: Option<ItemId>,
    /// What the item holds (`None`: nothing, a new item).
    prior: Option<Prior>,
    /// Whether the item was found on monday by its Salesforce-id column.
    matched: bool,
}

impl Migrator<'_> {
    /// Looks up, evaluates and writes one chunk of records.
    pub(super) async fn chunk(
        &mut self,
        plan: &Plan,
        records: &[Record],
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let ids: Vec<RecordId> = records.iter().filter_map(id_of).collect();
        counts.read += records.len() as u64;
        let mut items = self.items(plan, records, &ids).await?;
        let mut batch = Batch::default();
        let now = self.ctx.now();
        for record in records {
            self.record(plan, record, now, &mut items, &mut batch, counts)
                .await?;
        }
        self.send(plan, batch, counts).await
    }

    /// Evaluates one record against its item and adds the mutation it needs to `batch`
    /// (nothing when the item already holds every value, or when the record fails).
    async fn record(
        &mut self,
        plan: &Plan,
        record: &Record,
        now: OffsetDateTime,
        items: &mut Items,
        batch: &mut Batch,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let Some(record_id) = id_of(record) else {
            return Ok(());
        };
        let record_id = &record_id;
        let Partner {
            item_id,
            prior,
            matched,
        } = self.partner(plan, record_id, now, items).await?;
        if matched {
            counts.matched += 1;
        }
        let change = Change::Record {
            record,
            prior: prior.as_ref(),
        };
        let ItemUpdate { values, writes } = match eval::evaluate(plan, change, now) {
            Ok(Writes::Item(update)) => update,
            // The item already holds every value (a record never makes other writes).
            Ok(_) => {
                counts.unchanged += 1;
                return Ok(());
            }
            Err(e) => {
                let message = e.to_string();
                self.fail(
                    plan,
                    record_id,
                    item_id,
                    e.column.as_deref(),
                    (crate::failure::FailureClass::Permanent, &message),
                )
                .await?;
                counts.failed += 1;
                return Ok(());
            }
        };
        let (writes, kept) = match item_id.and_then(|i| items.queued.get(&i)) {
            Some(events) => keep_queued(plan, record, events, writes),
            None => (writes, Vec::new()),
        };
        if let (false, Some(item)) = (kept.is_empty(), item_id) {
            self.left_to_queue(plan, record_id, item, &kept).await?;
        }
        let mut column_values = writes.column_values_json();
        let columns: Vec<ColumnId> = writes.column_values.keys().cloned().collect();
        let link_values = self
            .link_values(plan, record_id, &writes.links, items, now, counts)
            .await?;
        let links: Vec<ColumnId> = link_values.iter().map(|(c, _)| c.clone()).collect();
        column_values.extend(link_values.into_iter().map(|(c, v)| (String::from(c), v)));
        if column_values.is_empty() && writes.name.is_none() {
            counts.unchanged += 1;
            return Ok(());
        }
        let create = item_id.is_none();
        if self.options.dry_run {
            let change = planned_change(
                plan,
                record_id.as_str(),
                &item_id,
                prior.as_ref(),
                &values,
                &writes,
                &links,
            );
            self.progress.planned(&change);
            if create {
                counts.created += 1;
            } else {
                counts.updated += 1;
            }
            counts.links += links.len() as u64;
        }
        batch
            .mutations
            .push(mutation(plan, record_id, item_id, &writes, column_values));
        batch.pending.push(Pending {
            record_id: record_id.clone(),
            item_id,
            desired: Desired::new(plan, record, values),
            columns,
            links,
            name_written: writes.name.is_some() || create,
            matched,
        });
        Ok(())
    }

    /// The item of a record and what it holds: the linked item's last-synced values, or an
    /// item found on monday by its Salesforce-id column (linked now, and logged), or none.
    async fn partner(
        &mut self,
        plan: &Plan,
        record_id: &RecordId,
        now: OffsetDateTime,
        items: &mut Items,
    ) -> Result<Partner, MigrateError> {
        let board = plan.board;
        if let Some(item) = items.linked.get(record_id) {
            let values = items.synced.get(item).map_or(&[][..], Vec::as_slice);
            return Ok(Partner {
                item_id: Some(*item),
                prior: Some(prior_from_synced(values)),
                matched: false,
            });
        }
        let Some((item, found)) = items.found.get(record_id) else {
            return Ok(Partner {
                item_id: None,
                prior: None,
                matched: false,
            });
        };
        let item = *item;
        // An unreadable value: treat it as unknown and write ours.
        let prior = desired::prior_from_item(plan, found).unwrap_or_else(|_| Prior {
            name: Some(found.name.clone()),
            ..Prior::default()
        });
        if let Some(store) = self.store() {
            store
                .upsert_link(board, item, &plan.sobject, record_id, now)
                .await?;
            items.linked.insert(record_id.clone(), item);
            items.targets.insert(&plan.object, record_id, item);
            self.log(
                self.entry(Action::Linked, plan, record_id)
                    .item(board, item)
                    .reason("existing item found by its salesforce id column"),
            )
            .await?;
        }
        Ok(Partner {
            item_id: Some(item),
            prior: Some(prior),
            matched: true,
        })
    }

    /// Reports and logs the columns left to monday edits still queued for Salesforce.
    async fn left_to_queue(
        &mut self,
        plan: &Plan,
        record_id: &RecordId,
        item: ItemId,
        kept: &[String],
    ) -> Result<(), MigrateError> {
        let reason = format!(
            "monday edits of {} wait in the retry queue and win their conflict: left for the \
             queued event to write to salesforce",
            kept.join(", ")
        );
        self.progress
            .message(&format!("{} {record_id}: {reason}", plan.object));
        self.log(
            self.entry(Action::Skipped, plan, record_id)
                .item(plan.board, item)
                .reason(reason),
        )
        .await
    }
}

/// The mutation of a record's writes: a new item (named by the name rule, else by the
/// record's Id), or the changed columns (and name) of its item.
fn mutation(
    plan: &Plan,
    record_id: &RecordId,
    item_id: Option<ItemId>,
    writes: &eval::ItemWrites,
    mut column_values: Map<String, Json>,
) -> ItemMutation {
    let board_id = plan.board;
    match item_id {
        None => ItemMutation::CreateItem {
            board_id,
            item_name: writes.name.clone().unwrap_or_else(|| record_id.to_string()),
            column_values,
            group_id: None,
            create_labels_if_missing: writes.create_labels,
        },
        Some(item) => {
            if let Some(name) = &writes.name {
                column_values.insert(
                    crmmap_monday::documents::ITEM_NAME_COLUMN.to_owned(),
                    Json::String(name.clone()),
                );
            }
            ItemMutation::ChangeColumnValues {
                board_id,
                item_id: item,
                column_values,
                create_labels_if_missing: writes.create_labels,
            }
        }
    }
}
