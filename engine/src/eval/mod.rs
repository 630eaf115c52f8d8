//! Evaluation: pure, deterministic functions from a plan and a change to the writes it needs.
//!
//! Nothing here reads a clock: `now` comes from the caller, and `today` in expressions is its
//! UTC date. Writes only contain what differs from what the other side already holds, so an
//! unchanged record or column yields no writes (echo suppression for free).
//!
//! - [`evaluate`]: any change → its [`Writes`]; a record gets the values of its item and the
//!   writes in one pass ([`ItemUpdate`]).
//! - `to_monday`: a Salesforce record → its monday item ([`record_to_update`]).
//! - `to_salesforce`: monday changes → Salesforce writes (create, column, rename, links,
//!   delete).
//! - `rules`: rules that fire on a change, their creates, sets and propagations.

mod rules;
mod to_monday;
mod to_salesforce;

use std::collections::BTreeMap;

use crmmap_ids::{ColumnId, ObjectName};

use serde_json::Value as Json;
use time::OffsetDateTime;

use crate::error::EvalError;
use crate::plan::Plan;
use crate::value::Value;

pub use rules::{Aliases, PropagateWrite, propagations, rules_fired};
pub use to_monday::{
    ItemUpdate, ItemValues, RecordEnv, record_part_to_update, record_to_item, record_to_update,
};
pub use to_salesforce::{
    DeleteAction, column_change, item_from_api, item_to_create, link_change, on_delete, rename,
    webhook_column_change,
};

/// A Salesforce record as the REST API returns it (field name → JSON value).
pub type Record = serde_json::Map<String, Json>;

/// What the monday side holds for an item: the values last synced, or read now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prior {
    /// The item name.
    pub name: Option<String>,
    /// Column values (in each column's kind); a column that is absent is unknown and treated
    /// as empty.
    pub columns: BTreeMap<ColumnId, Value>,
    /// Per board-relation column, the Salesforce Id of the record it links to (`None` when
    /// linked to nothing).
    pub links: BTreeMap<ColumnId, Option<String>>,
}

/// A monday item: its name and column values (in each column's kind).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    /// The item name.
    pub name: String,
    /// Column values.
    pub columns: BTreeMap<ColumnId, Value>,
}

/// What to write to a monday item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemWrites {
    /// The new item name, when it changes.
    pub name: Option<String>,
    /// `column_values` for `create_item` / `change_multiple_column_values`.
    pub column_values: BTreeMap<ColumnId, Json>,
    /// Board-relation columns to point at the items of these records.
    pub links: Vec<LinkWrite>,
    /// Whether some written status/dropdown column may create missing labels.
    pub create_labels: bool,
}

impl ItemWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.column_values.is_empty() && self.links.is_empty()
    }

    /// `column_values` as the JSON object monday's mutations take.
    pub fn column_values_json(&self) -> serde_json::Map<String, Json> {
        self.column_values
            .iter()
            .map(|(column, value)| (column.to_string(), value.clone()))
            .collect()
    }
}

/// A board-relation column to set: the runner finds the item of `record_id` on the target board
/// and writes `{"item_ids":[…]}`; `None` clears the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkWrite {
    /// The board-relation column.
    pub column: ColumnId,
    /// The linked object's name.
    pub target: ObjectName,
    /// The linked record's Id, or `None` to clear.
    pub record_id: Option<String>,
}

/// Field values to write to a Salesforce record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SfWrites {
    /// Field → JSON value, in field name order.
    pub fields: BTreeMap<String, Json>,
}

impl SfWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The record as it will be once these writes are applied.
    pub fn apply_to(&self, record: &Record) -> Record {
        let mut out = record.clone();
        for (k, v) in &self.fields {
            out.insert(k.clone(), v.clone());
        }
        out
    }

    /// The writes as a JSON object (a request body for an sObject update).
    pub fn to_json(&self) -> Json {
        Json::Object(
            self.fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

/// A change, from either side.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// A Salesforce record was created or changed; `prior` is what its item holds.
    Record {
        /// The record.
        record: &'a Record,
        /// What monday holds (none for a new item).
        prior: Option<&'a Prior>,
    },
    /// A monday item was created.
    ItemCreated(&'a Item),
    /// A monday column changed.
    ColumnChanged {
        /// The column id.
        column: &'a ColumnId,
        /// The new value.
        value: &'a Value,
        /// The value before.
        previous: &'a Value,
        /// The field's current Salesforce JSON, when known.
        current: Option<&'a Json>,
    },
    /// A monday item was renamed.
    Renamed(&'a str),
    /// Items were linked or unlinked in a board-relation column (Salesforce Ids of their records).
    LinksChanged {
        /// The board-relation column.
        column: &'a ColumnId,
        /// Records linked.
        added: &'a [String],
        /// Records unlinked.
        removed: &'a [String],
    },
    /// A monday item was deleted or archived (its last name).
    ItemDeleted(&'a str),
}

/// What a change needs written.
#[derive(Clone, Debug, PartialEq)]
pub enum Writes {
    /// Nothing.
    Nothing,
    /// Update or create the monday item: what it should hold and what differs.
    Item(ItemUpdate),
    /// Create a Salesforce record.
    CreateRecord(SfWrites),
    /// Update the Salesforce record.
    UpdateRecord(SfWrites),
    /// Delete the Salesforce record.
    DeleteRecord,
}

/// The one entry point: a change → the writes it needs. Pure and deterministic.
pub fn evaluate(plan: &Plan, change: Change<'_>, now: OffsetDateTime) -> Result<Writes, EvalError> {
    let update = |w: SfWrites| {
        if w.is_empty() {
            Writes::Nothing
        } else {
            Writes::UpdateRecord(w)
        }
    };
    Ok(match change {
        Change::Record { record, prior } => {
            let update = record_to_update(plan, record, prior, now)?;
            if update.writes.is_empty() {
                Writes::Nothing
            } else {
                Writes::Item(update)
            }
        }
        Change::ItemCreated(item) => Writes::CreateRecord(item_to_create(plan, item, now)?),
        Change::ColumnChanged {
            column,
            value,
            previous,
            current,
        } => column_change(plan, column, value, previous, current, now)?
            .map_or(Writes::Nothing, update),
        Change::Renamed(name) => update(rename(plan, name, now)?),
        Change::LinksChanged {
            column,
            added,
            removed,
        } => link_change(plan, column, added, removed).map_or(Writes::Nothing, update),
        Change::ItemDeleted(name) => match on_delete(plan, name, now)? {
            DeleteAction::Log => Writes::Nothing,
            DeleteAction::Delete => Writes::DeleteRecord,
            DeleteAction::Update(w) => update(w),
        },
    })
}
