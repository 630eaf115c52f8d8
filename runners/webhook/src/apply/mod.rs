//! Applying one event to Salesforce: under the item's lock, from the item's current state
//! (read once, only the columns needed), against the last-synced values in the store.
//!
//! Because every event re-reads the item and compares with what was last synced, applying an
//! event twice, late, or out of order writes nothing stale: the last application under the
//! lock always writes the item's current state, and an echo of a value crmmap wrote (or read)
//! itself compares equal and writes nothing.
//!
//! One module per event kind, called from `Webhook::apply_locked`, each given the event as an
//! `Applying` (its plan, event, board and item):
//!
//! | module | what |
//! |---|---|
//! | `create` | a new item: its record created (at most once, `once`) and its id written back |
//! | `column` | a column change: the field's update, lifecycle rules (`rules`), propagations |
//! | `links` | a board-relation change: the lookup field of the linked records |
//! | `rename` | a new item name: the name fields |
//! | `delete` | a deleted or archived item: the mapping's delete policy |
//! | `bind` | an item whose key column holds an Id: linked when the mapping selects it |
//! | `update` | the conditional update every kind ends with, and the engine's conflict decision |
//! | `outcome` | what an update leaves behind: its log reason and last-synced values |

mod bind;
mod column;
mod create;
mod delete;
mod links;
mod once;
mod outcome;
mod rename;
mod rules;
mod update;

use std::collections::BTreeMap;

use crmmap_engine::plan::Plan;
use crmmap_engine::value::{Value, salesforce};
use crmmap_engine::{EvalError, PlanSet};
use crmmap_ids::{BoardId, ColumnId, ItemId, RecordId, SObjectName};
use crmmap_store::{Action, NAME_KEY, SetValue, Side, StoreError, SyncedKey, SyncedValue};
use serde_json::Value as Json;

use crate::event::{Event, EventKind};
use crate::{Webhook, WebhookOptions};

pub use links::links_json;
pub use rules::rule_key;
pub use update::LAST_SEEN_KEY;

// For the kinds' modules.
use bind::{Binding, unselected_reason};
use once::lookup_fields;
use update::Updated;

/// Why an event could not be applied now (it goes to the retry queue).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// monday.
    #[error("monday: {0}")]
    Monday(#[from] crmmap_monday::MondayError),
    /// Salesforce.
    #[error("salesforce: {0}")]
    Salesforce(#[from] crmmap_salesforce::Error),
    /// The store.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A value could not be converted.
    #[error("mapping: {0}")]
    Eval(#[from] EvalError),
    /// Applying it panicked (a bug): the message, never the process.
    #[error("internal error: {0}")]
    Panicked(String),
    /// Anything else, said plainly.
    #[error("{0}")]
    Other(String),
}

/// What applying an event did.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    /// The sync-log action.
    pub action: Action,
    /// The sObject, when the board is mapped.
    pub object: Option<SObjectName>,
    /// The Salesforce record, when known.
    pub record_id: Option<RecordId>,
    /// Why (short, lowercase, secret-free).
    pub reason: String,
    /// Last-synced values the outcome implies, written together with it (one commit).
    pub remember: Vec<SetValue>,
}

impl Done {
    pub(crate) fn new(
        action: Action,
        plan: Option<&Plan>,
        record: Option<&RecordId>,
        reason: impl Into<String>,
    ) -> Done {
        Done {
            action,
            object: plan.map(|p| p.sobject.clone()),
            record_id: record.cloned(),
            reason: reason.into(),
            remember: Vec::new(),
        }
    }

    pub(crate) fn remembering(mut self, values: Vec<SetValue>) -> Done {
        self.remember = values;
        self
    }
}

pub(crate) fn set_values(values: Vec<(SyncedKey, Json, Side)>) -> Vec<SetValue> {
    values
        .into_iter()
        .map(|(key, value, source)| SetValue { key, value, source })
        .collect()
}

/// The event being applied, with its plan and its item as the store keys it; the caller holds
/// the item's lock.
pub(crate) struct Applying<'a> {
    /// The plan of the event's board.
    pub(crate) plan: &'a Plan,
    /// The event.
    pub(crate) ev: &'a Event,
    /// The board id.
    pub(crate) board: BoardId,
    /// The item id.
    pub(crate) item: ItemId,
}

/// Last-synced values by key.
pub(crate) type Synced = BTreeMap<SyncedKey, SyncedValue>;

/// The last-synced item name: stored as a plain string (as the migrator writes it) or in the
/// engine's value form.
pub(crate) fn synced_name(synced: &Synced) -> Option<String> {
    let v = &synced.get(&NAME_KEY)?.value;
    match v.as_str() {
        Some(s) => Some(s.to_owned()),
        None => Value::from_json(v).ok().map(|v| v.display()),
    }
}

pub(crate) fn synced_value(synced: &Synced, key: &SyncedKey) -> Option<Value> {
    synced
        .get(key)
        .and_then(|s| Value::from_json(&s.value).ok())
}

pub use crmmap_sync::migrate::column_read;

pub(crate) fn key_value(plan: &Plan, item: &crmmap_monday::Item) -> Option<String> {
    item.column(&plan.key_column)
        .and_then(|c| {
            c.text
                .clone()
                .or_else(|| c.value.as_ref().and_then(|v| v.as_str().map(str::to_owned)))
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The sync-log reason of an event for an archived or deleted item (nothing is written).
pub(crate) fn inactive_reason(state: crmmap_monday::types::ItemState) -> String {
    format!("item is archived/deleted (state `{state}`): nothing written")
}

/// Skips an event for an archived or deleted item: monday serves both by id, with their
/// state, and a late or redelivered event must not write their values to Salesforce.
pub(crate) fn skip_inactive(plan: &Plan, item: &crmmap_monday::Item) -> Option<Done> {
    let state = item.inactive()?;
    Some(Done::new(
        Action::Skipped,
        Some(plan),
        None,
        inactive_reason(state),
    ))
}

/// The Salesforce value kind of a field: typed when the plan maps it.
pub(crate) fn read_field(plan: &Plan, field: &str, json: &Json) -> Value {
    match plan.field_for_sf_field(field) {
        Some(f) => {
            salesforce::read(f.field_type, json).unwrap_or_else(|_| salesforce::read_untyped(json))
        }
        None => salesforce::read_untyped(json),
    }
}

impl Webhook {
    pub(crate) fn plans(&self) -> &PlanSet {
        &self.inner.ctx.plans
    }

    pub(crate) fn opts(&self) -> &WebhookOptions {
        &self.inner.options
    }

    /// Applies one event; the caller holds the item's lock.
    pub(crate) async fn apply_locked(&self, plan: &Plan, ev: &Event) -> Result<Done, ApplyError> {
        let at = Applying {
            plan,
            ev,
            board: ev.board_id,
            item: ev.item_id,
        };
        match &ev.kind {
            EventKind::Created { .. } => self.created(&at).await,
            EventKind::ColumnChanged { column, .. }
                if self.opts().panic_on_column.as_ref() == Some(column) =>
            {
                panic!("test hook: a change of column {column}")
            }
            EventKind::ColumnChanged {
                column, previous, ..
            } => self.column_changed(&at, column, previous).await,
            EventKind::Renamed { .. } => self.renamed(&at).await,
            EventKind::Deleted { name } | EventKind::Archived { name } => {
                self.deleted(&at, name).await
            }
            EventKind::Other(_) => unreachable!("skipped by triage"),
        }
    }

    pub(crate) async fn synced(&self, at: &Applying<'_>) -> Result<Synced, ApplyError> {
        Ok(self
            .inner
            .ctx
            .store
            .synced_values(at.board, at.item)
            .await?
            .into_iter()
            .map(|v| (v.key.clone(), v))
            .collect())
    }

    /// Reads the item from monday and, at the same time, its link and last-synced values from
    /// the store. The record is the link's, else the id in the item's key column once
    /// [`Webhook::bind`] found it a record of the mapping's selection held by no other item
    /// (then the link is stored). `Err(done)`: nothing to apply (the item is archived or
    /// deleted, its key column names no record this mapping syncs, or it is a copy of a linked
    /// item whose own create has not run yet).
    pub(crate) async fn read_linked(
        &self,
        at: &Applying<'_>,
        columns: Vec<ColumnId>,
    ) -> Result<Result<(crmmap_monday::Item, RecordId, Synced), Done>, ApplyError> {
        let (plan, board, item) = (at.plan, at.board, at.item);
        let store = &self.inner.ctx.store;
        let (read, linked) = tokio::join!(
            self.read_item(item, columns),
            store.linked_item(board, item)
        );
        let Some(read) = read? else {
            return Ok(Err(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "item no longer exists",
            )));
        };
        if let Some(skip) = skip_inactive(plan, &read) {
            return Ok(Err(skip));
        }
        let (record, synced) = match linked? {
            Some((l, values)) => (
                l.record_id,
                values.into_iter().map(|v| (v.key.clone(), v)).collect(),
            ),
            None => match key_value(plan, &read) {
                Some(id) => match self.bind(plan, board, item, &id).await? {
                    Binding::Bound(id) => (id, Synced::new()),
                    Binding::NotSelected => {
                        return Ok(Err(Done::new(
                            Action::Skipped,
                            Some(plan),
                            None,
                            unselected_reason(plan, &id),
                        )));
                    }
                    Binding::HeldBy(other) => {
                        return Ok(Err(Done::new(
                            Action::Skipped,
                            Some(plan),
                            None,
                            format!(
                                "the key column holds the record id of item {other} (a copy of \
                                 it): the item's create event makes its own record; nothing \
                                 written"
                            ),
                        )));
                    }
                },
                None => {
                    return Ok(Err(Done::new(
                        Action::Skipped,
                        Some(plan),
                        None,
                        "item has no salesforce record yet (its create carries current values)",
                    )));
                }
            },
        };
        Ok(Ok((read, record, synced)))
    }

    pub(crate) async fn read_item(
        &self,
        item: ItemId,
        columns: Vec<ColumnId>,
    ) -> Result<Option<crmmap_monday::Item>, ApplyError> {
        Ok(self.inner.ctx.monday.item(item, Some(&columns)).await?)
    }
}
