//! How a run reports what it did: counts per object, the run summary, the changes a dry run
//! plans, the failures handed back to the retry queue, and progress as it goes.

use crmmap_engine::eval::{self, Prior};
use crmmap_engine::plan::Plan;
use crmmap_ids::{ColumnId, ItemId, ObjectName};
use serde_json::Value as Json;

use super::desired;

/// Per-object counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Records read from Salesforce.
    pub read: u64,
    /// Items created.
    pub created: u64,
    /// Items updated.
    pub updated: u64,
    /// Records whose item already held every value.
    pub unchanged: u64,
    /// Existing items found by their Salesforce-id column and linked instead of created.
    pub matched: u64,
    /// Board-relation links set.
    pub links: u64,
    /// Links parked until their target has an item.
    pub parked: u64,
    /// Records that failed (logged and queued for retry).
    pub failed: u64,
    /// Items archived or deleted because their record was deleted in Salesforce.
    #[serde(default)]
    pub deleted: u64,
}

impl Counts {
    pub(super) fn add(&mut self, o: &Counts) {
        self.read += o.read;
        self.created += o.created;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.matched += o.matched;
        self.links += o.links;
        self.parked += o.parked;
        self.failed += o.failed;
        self.deleted += o.deleted;
    }
}

/// One object's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectReport {
    /// The mapping's object name.
    pub object: ObjectName,
    /// What happened (or, in a dry run, would happen).
    pub counts: Counts,
    /// Whether the object was already done in the resumed run and skipped.
    pub skipped_done: bool,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrateReport {
    /// The run id (`None` for a dry run).
    pub run_id: Option<String>,
    /// Whether an unfinished run was resumed.
    pub resumed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether the run stopped early on a [`StopSignal`] (resumable).
    pub stopped: bool,
    /// Per object, in the order run.
    pub objects: Vec<ObjectReport>,
    /// Salesforce query pages read (API calls).
    pub salesforce_calls: u64,
    /// monday read requests (Salesforce-id lookups).
    pub monday_reads: u64,
    /// monday mutation requests (batches) sent, or that a dry run would send.
    pub monday_write_requests: u64,
    /// Estimated monday complexity of the writes and reads.
    pub monday_complexity: u64,
    /// The Salesforce org's API usage, as last seen (`Sforce-Limit-Info`, or `/limits` before
    /// the run).
    pub salesforce_usage: Option<crmmap_salesforce::ApiUsage>,
}

impl MigrateReport {
    /// A report of a run that has done nothing yet.
    pub(super) fn empty(dry_run: bool) -> MigrateReport {
        MigrateReport {
            run_id: None,
            resumed: false,
            dry_run,
            stopped: false,
            objects: Vec::new(),
            salesforce_calls: 0,
            monday_reads: 0,
            monday_write_requests: 0,
            monday_complexity: 0,
            salesforce_usage: None,
        }
    }

    /// The counts of all objects together.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for o in &self.objects {
            t.add(&o.counts);
        }
        t
    }

    /// Whether any record failed.
    pub fn has_failures(&self) -> bool {
        self.objects.iter().any(|o| o.counts.failed > 0)
    }
}

/// A field of a planned change: column, Salesforce field, and old → new as people read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The monday column (or `name`).
    pub column: String,
    /// The Salesforce field it comes from (empty for the name and links).
    pub field: String,
    /// What the item holds now.
    pub old: String,
    /// What it would hold.
    pub new: String,
}

/// What a dry run would do to one record's item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    /// The object.
    pub object: ObjectName,
    /// The Salesforce record.
    pub record_id: String,
    /// `create` or `update`.
    pub action: PlannedAction,
    /// The item, when it exists.
    pub item_id: Option<ItemId>,
    /// The fields that would change.
    pub changes: Vec<FieldChange>,
}

/// The kind of a planned change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannedAction {
    /// A new item.
    Create,
    /// An existing item.
    Update,
}

/// Where a run reports progress: a progress bar, log lines, nothing.
pub trait Progress: Send + Sync {
    /// An object starts; `total` is how many records the query selected, when known.
    fn object_started(&mut self, _object: &ObjectName, _total: Option<u64>) {}
    /// More records of the object were processed.
    fn records_done(&mut self, _object: &ObjectName, _done: u64, _counts: &Counts) {}
    /// An object is done.
    fn object_finished(&mut self, _report: &ObjectReport) {}
    /// A dry run found a change.
    fn planned(&mut self, _change: &PlannedChange) {}
    /// A record failed (already logged in the store).
    fn failed(&mut self, _object: &ObjectName, _record_id: &str, _message: &str) {}
    /// Anything else worth a line.
    fn message(&mut self, _text: &str) {}
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A record that failed in [`sync_records`], classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// The record.
    pub record_id: String,
    /// What the retry queue should do with it.
    pub class: crate::failure::FailureClass,
    /// Why (with the column and field, when one is to blame).
    pub reason: String,
}

/// What [`sync_records`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsSynced {
    /// What was read and written.
    pub counts: Counts,
    /// The records that failed.
    pub failures: Vec<RecordFailure>,
}

pub(super) fn counts_json(c: &Counts) -> Json {
    serde_json::to_value(c).unwrap_or(Json::Null)
}

pub(super) fn planned_change(
    plan: &Plan,
    record_id: &str,
    item_id: &Option<ItemId>,
    prior: Option<&Prior>,
    desired: &eval::ItemValues,
    writes: &eval::ItemWrites,
    links: &[ColumnId],
) -> PlannedChange {
    let empty = Prior::default();
    let prior = prior.unwrap_or(&empty);
    let mut changes = Vec::new();
    if let Some(name) = &writes.name {
        changes.push(FieldChange {
            column: "name".into(),
            field: String::new(),
            old: prior.name.clone().unwrap_or_else(|| "(empty)".into()),
            new: name.clone(),
        });
    }
    for c in writes.column_values.keys() {
        let field = if *c == plan.key_column {
            "Id".to_owned()
        } else {
            plan.field_for_column(c)
                .map(|f| f.field.clone())
                .unwrap_or_default()
        };
        changes.push(FieldChange {
            column: c.to_string(),
            field,
            old: desired::show(prior.columns.get(c)),
            new: desired::show(desired.columns.get(c)),
        });
    }
    for l in links {
        let via = plan
            .links
            .iter()
            .find(|x| x.column == *l && x.direction.to_monday())
            .map(|x| x.via.clone())
            .unwrap_or_default();
        changes.push(FieldChange {
            column: l.to_string(),
            field: via,
            old: prior
                .links
                .get(l)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "(empty)".into()),
            new: desired
                .links
                .get(l)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "(empty)".into()),
        });
    }
    PlannedChange {
        object: plan.object.clone(),
        record_id: record_id.to_owned(),
        action: if item_id.is_none() {
            PlannedAction::Create
        } else {
            PlannedAction::Update
        },
        item_id: *item_id,
        changes,
    }
}
