//! Applying one event to Salesforce: under the item's lock, from the item's current state
//! (read once, only the columns needed), against the last-synced values in the store.
//!
//! Because every event re-reads the item and compares with what was last synced, applying an
//! event twice, late, or out of order writes nothing stale: the last application under the
//! lock always writes the item's current state, and an echo of a value crmmap wrote (or read)
//! itself compares equal and writes nothing.

use std::collections::BTreeMap;

use crmmap_dsl::model::{ColumnType, ConflictPolicy};
use crmmap_engine::conflict::{self, FieldUpdate, UpdateDecision, same};
use crmmap_engine::eval::{self, Aliases, DeleteAction, Item, Record, SfWrites};
use crmmap_engine::plan::{LinkPlan, Plan, RulePlan};
use crmmap_engine::value::{Value, monday, salesforce};
use crmmap_engine::{EvalError, PlanSet};
use crmmap_monday::ColumnValue;
use crmmap_salesforce::ConditionalUpdate;
use crmmap_salesforce::soql::{Condition, Direction, Literal, Soql};
use crmmap_store::{
    Action, CONVERTED_KEY, IntentStatus, NAME_KEY, SetValue, Side, StoreError, SyncedValue,
    column_key, field_key, sent_key,
};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use crate::event::{Event, EventKind};
use crate::{Webhook, WebhookOptions};

/// The last-synced key holding the record's `LastModifiedDate` as last seen (or written) by
/// crmmap: the `If-Unmodified-Since` of the next update.
pub const LAST_SEEN_KEY: &str = "field:LastModifiedDate";

/// The key of a lifecycle rule's pending-create marker (`{"pending_since": "<datetime>"}`).
const PENDING_SINCE: &str = "pending_since";

/// The fields a created record is looked up by after a crash or a lost answer, when nothing
/// better identifies it: short text values that are not dates (SOQL compares those unquoted)
/// — names, emails, references, picklists.
fn lookup_fields(fields: &SfWrites) -> Vec<(String, String)> {
    fields
        .fields
        .iter()
        .filter_map(|(k, v)| match v {
            Json::String(s)
                if !s.is_empty()
                    && s.len() <= 255
                    && crmmap_engine::value::parse_date(s).is_err()
                    && crmmap_engine::value::parse_datetime(s).is_err() =>
            {
                Some((k.clone(), s.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Why a change to a converted Lead is not sent (the sync-log reason).
const CONVERTED_REASON: &str = "converted lead: Salesforce does not accept updates";

/// Attempts at a conditional update that keeps meeting concurrent Salesforce changes.
const CONFLICT_ROUNDS: u32 = 3;

/// The last-synced key recording a record a lifecycle rule created for this item.
pub fn rule_key(rule: &str, alias: &str) -> String {
    format!("rule:{rule}:{alias}")
}

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
    pub object: Option<String>,
    /// The Salesforce record, when known.
    pub record_id: Option<String>,
    /// Why (short, lowercase, secret-free).
    pub reason: String,
    /// Last-synced values the outcome implies, written together with it (one commit).
    pub remember: Vec<SetValue>,
}

impl Done {
    fn new(
        action: Action,
        plan: Option<&Plan>,
        record: Option<&str>,
        reason: impl Into<String>,
    ) -> Done {
        Done {
            action,
            object: plan.map(|p| p.sobject.clone()),
            record_id: record.map(str::to_owned),
            reason: reason.into(),
            remember: Vec::new(),
        }
    }

    fn remembering(mut self, values: Vec<SetValue>) -> Done {
        self.remember = values;
        self
    }
}

fn set_values(values: Vec<(String, Json, Side)>) -> Vec<SetValue> {
    values
        .into_iter()
        .map(|(key, value, source)| SetValue { key, value, source })
        .collect()
}

/// Last-synced values by key.
type Synced = BTreeMap<String, SyncedValue>;

/// The last-synced item name: stored as a plain string (as the migrator writes it) or in the
/// engine's value form.
fn synced_name(synced: &Synced) -> Option<String> {
    let v = &synced.get(NAME_KEY)?.value;
    match v.as_str() {
        Some(s) => Some(s.to_owned()),
        None => Value::from_json(v).ok().map(|v| v.display()),
    }
}

fn synced_value(synced: &Synced, key: &str) -> Option<Value> {
    synced
        .get(key)
        .and_then(|s| Value::from_json(&s.value).ok())
}

/// Most sent values kept per field ([`sent_key`]): the oldest are forgotten first.
const SENT_KEPT: usize = 16;

/// The values crmmap sent (or was about to send) to `field` since the field was last synced
/// ([`sent_key`]; once it is synced, what Salesforce holds is known), oldest first, in the
/// engine's JSON form.
fn unconfirmed(synced: &Synced, field: &str) -> Vec<Json> {
    let Some(sent) = synced.get(&sent_key(field)) else {
        return Vec::new();
    };
    if synced
        .get(&field_key(field))
        .is_some_and(|last| last.synced_at > sent.synced_at)
    {
        return Vec::new();
    }
    sent.value
        .get("sent")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The engine's view of an API column value.
pub fn column_read(cv: &ColumnValue) -> monday::ColumnRead {
    let labels = if !cv.labels.is_empty() {
        Some(cv.labels.clone())
    } else {
        cv.label.as_ref().map(|l| vec![l.clone()])
    };
    monday::ColumnRead {
        text: cv.text.clone(),
        value: cv.value.clone(),
        linked_item_ids: cv.linked_item_ids.clone(),
        labels,
    }
}

fn key_value(plan: &Plan, item: &crmmap_monday::Item) -> Option<String> {
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
fn inactive_reason(state: crmmap_monday::types::ItemState) -> String {
    format!("item is archived/deleted (state `{state}`): nothing written")
}

/// Skips an event for an archived or deleted item: monday serves both by id, with their
/// state, and a late or redelivered event must not write their values to Salesforce.
fn skip_inactive(plan: &Plan, item: &crmmap_monday::Item) -> Option<Done> {
    let state = item.inactive()?;
    Some(Done::new(
        Action::Skipped,
        Some(plan),
        None,
        inactive_reason(state),
    ))
}

/// The sync-log reason of an item whose key column holds an Id the mapping does not select.
fn unselected_reason(plan: &Plan, id: &str) -> String {
    format!(
        "not a record this mapping syncs: the key column holds {id}, which is no {} of the \
         mapping's selection; nothing written",
        plan.sobject
    )
}

/// What the Id in an item's key column turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum Binding {
    /// A record of the mapping's selection, now linked to the item (its 18-character Id).
    Bound(String),
    /// Not a record the mapping syncs (another sObject, outside `select where`, deleted,
    /// or not an Id at all).
    NotSelected,
    /// A record already linked to another item: the item is a copy (monday's "Duplicate"
    /// copies the key column). Holds the other item's id.
    HeldBy(String),
}

/// The columns read for a new item: the key, every column flowing to Salesforce, and the
/// board-relation columns of `->` links.
fn create_columns(plan: &Plan) -> Vec<String> {
    let mut cols = vec![plan.key_column.clone()];
    for f in plan.fields_to_salesforce() {
        if !cols.contains(&f.column) {
            cols.push(f.column.clone());
        }
    }
    for l in plan.links.iter().filter(|l| l.direction.to_salesforce()) {
        if !cols.contains(&l.column) {
            cols.push(l.column.clone());
        }
    }
    cols
}

fn engine_item(plan: &Plan, item: &crmmap_monday::Item) -> Result<Item, EvalError> {
    let mut out = Item {
        name: item.name.clone(),
        columns: BTreeMap::new(),
    };
    for f in plan.fields_to_salesforce() {
        if let Some(cv) = item.column(&f.column) {
            let v = monday::read(f.column_type, &column_read(cv), None)
                .map_err(|e| e.with_column(&f.column))?;
            out.columns.insert(f.column.clone(), v);
        }
    }
    Ok(out)
}

/// The Salesforce value kind of a field: typed when the plan maps it.
fn read_field(plan: &Plan, field: &str, json: &Json) -> Value {
    match plan.field_for_sf_field(field) {
        Some(f) => {
            salesforce::read(f.field_type, json).unwrap_or_else(|_| salesforce::read_untyped(json))
        }
        None => salesforce::read_untyped(json),
    }
}

/// How a conditional update ended.
#[derive(Debug, Default)]
struct Updated {
    /// The fields written.
    written: SfWrites,
    /// Fields left as Salesforce has them because Salesforce changed them too and the policy
    /// prefers Salesforce (or the newer change).
    kept_by_salesforce: Vec<String>,
    /// The record's `LastModifiedDate` read during conflict handling, if any.
    seen: Option<OffsetDateTime>,
    /// The `Date` of Salesforce's answer to the update (its clock, at or after the save).
    confirmed: Option<OffsetDateTime>,
    /// The record is a converted Lead: nothing was sent (or Salesforce refused it).
    converted: bool,
    /// The fields monday writes to, as that read found them.
    read: Map<String, Json>,
}

impl Webhook {
    fn plans(&self) -> &PlanSet {
        &self.inner.ctx.plans
    }

    fn opts(&self) -> &WebhookOptions {
        &self.inner.options
    }

    /// The plan an event is applied with, or why it is skipped: decided from the event
    /// alone (unmapped board, unhandled event type, a change made by crmmap's own user).
    pub(crate) fn triage(&self, ev: &Event) -> Result<&Plan, Done> {
        let Some(plan) = self.plans().plan_for_board(ev.board_id) else {
            return Err(Done::new(
                Action::Skipped,
                None,
                None,
                format!("board {} is not mapped", ev.board_id),
            ));
        };
        if let EventKind::Other(t) = &ev.kind {
            return Err(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                format!("event type `{t}` is not handled"),
            ));
        }
        if ev.user_id.is_some() && ev.user_id == self.inner.ctx.monday_user_id {
            return Err(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "echo: the change was made by crmmap's own monday user",
            ));
        }
        Ok(plan)
    }

    /// Applies one event; the caller holds the item's lock.
    pub(crate) async fn apply_locked(
        &self,
        plan: &Plan,
        ev: &Event,
        board: &str,
        item: &str,
    ) -> Result<Done, ApplyError> {
        match &ev.kind {
            EventKind::Created { .. } => self.created(plan, board, item).await,
            EventKind::ColumnChanged { column, .. }
                if self.opts().panic_on_column.as_ref() == Some(column) =>
            {
                panic!("test hook: a change of column {column}")
            }
            EventKind::ColumnChanged {
                column, previous, ..
            } => {
                self.column_changed(plan, ev, board, item, column, previous)
                    .await
            }
            EventKind::Renamed { .. } => self.renamed(plan, ev, board, item).await,
            EventKind::Deleted { name } | EventKind::Archived { name } => {
                self.deleted(plan, ev, board, item, name).await
            }
            EventKind::Other(_) => unreachable!("skipped by triage"),
        }
    }

    async fn synced(&self, board: &str, item: &str) -> Result<Synced, ApplyError> {
        Ok(self
            .inner
            .ctx
            .store
            .synced_values(board, item)
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
    async fn read_linked(
        &self,
        plan: &Plan,
        board: &str,
        item: &str,
        columns: Vec<String>,
    ) -> Result<Result<(crmmap_monday::Item, String, Synced), Done>, ApplyError> {
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

    async fn read_item(
        &self,
        item: &str,
        columns: Vec<String>,
    ) -> Result<Option<crmmap_monday::Item>, ApplyError> {
        Ok(self.inner.ctx.monday.item(item, Some(&columns)).await?)
    }

    /// Links an unlinked item to the record whose Id its key column holds, when that is a
    /// record the mapping syncs: read through the object's selection
    /// (`Id = '<id>' AND (<select where>)`), the way the migrator reads records, and not
    /// linked to another item already. The key column alone is no authority: a person (or a
    /// copy of another item) can put any Id there.
    async fn bind(
        &self,
        plan: &Plan,
        board: &str,
        item: &str,
        id: &str,
    ) -> Result<Binding, ApplyError> {
        let ctx = &self.inner.ctx;
        let Some(id18) = crmmap_salesforce::ids::to_18(id) else {
            return Ok(Binding::NotSelected);
        };
        let held_by_other = |link: Option<crmmap_store::Link>| {
            link.filter(|l| l.board_id != board || l.item_id != item)
                .map(|l| l.item_id)
        };
        // A record another item holds makes this one a copy, whatever the selection says
        // (a record created from monday may lie outside it).
        if let Some(other) = held_by_other(ctx.store.link_by_record(&plan.sobject, &id18).await?) {
            return Ok(Binding::HeldBy(other));
        }
        let Some(id) = self.selected(plan, &id18).await? else {
            return Ok(Binding::NotSelected);
        };
        match ctx
            .store
            .upsert_link(board, item, &plan.sobject, &id, ctx.now())
            .await
        {
            Ok(_) => Ok(Binding::Bound(id)),
            // Linked to another item in the meantime.
            Err(StoreError::LinkConflict { .. }) => {
                match held_by_other(ctx.store.link_by_record(&plan.sobject, &id).await?) {
                    Some(other) => Ok(Binding::HeldBy(other)),
                    None => Err(ApplyError::Other(format!(
                        "a link conflict on {} {id}, whose link is gone again",
                        plan.sobject
                    ))),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The record `id` names when the mapping selects it (its Id as Salesforce returns it),
    /// `None` otherwise: not an Id, a record of another sObject, deleted, or outside the
    /// mapping's `select where` (trusted configuration; the Id goes through the SOQL
    /// builder, which escapes it).
    async fn selected(&self, plan: &Plan, id: &str) -> Result<Option<String>, ApplyError> {
        if crmmap_salesforce::ids::to_18(id).is_none() {
            return Ok(None);
        }
        let mut q = Soql::select(["Id"])
            .from(plan.sobject.clone())
            .where_(Condition::eq("Id", Literal::String(id.to_owned())));
        if let Some(w) = plan.select.where_clause() {
            q = q.and_where(Condition::trusted(w));
        }
        let soql = q
            .limit(1)
            .build()
            .map_err(|e| ApplyError::Other(e.to_string()))?;
        let found = self.inner.ctx.salesforce.query_collect(soql).await?;
        Ok(found.first().and_then(|r| r.id()).map(str::to_owned))
    }

    // ------------------------------------------------------------------ create

    async fn created(&self, plan: &Plan, board: &str, item: &str) -> Result<Done, ApplyError> {
        let ctx = &self.inner.ctx;
        let Some(read) = self.read_item(item, create_columns(plan)).await? else {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "item no longer exists",
            ));
        };
        if let Some(skip) = skip_inactive(plan, &read) {
            return Ok(skip);
        }
        let key = key_value(plan, &read);
        // Set when the item is a copy of a linked item (its key column holds that item's
        // record id): it gets a record of its own, and its key column is overwritten.
        let mut copy_of = None;
        match (ctx.store.link_by_item(board, item).await?, key) {
            (Some(link), Some(_)) => {
                return Ok(Done::new(
                    Action::Unchanged,
                    Some(plan),
                    Some(&link.record_id),
                    "item already linked",
                ));
            }
            (Some(link), None) => {
                // Linked, but the write-back did not happen (it failed or crashed): do it now.
                self.write_back(plan, board, item, &link.record_id).await?;
                return Ok(Done::new(
                    Action::Linked,
                    Some(plan),
                    Some(&link.record_id),
                    "record id written back to the item",
                ));
            }
            (None, Some(id)) => match self.bind(plan, board, item, &id).await? {
                // Created with a record id: the migrator made it from Salesforce.
                Binding::Bound(id) => {
                    return Ok(Done::new(
                        Action::Linked,
                        Some(plan),
                        Some(&id),
                        "item already carries its record id",
                    ));
                }
                Binding::NotSelected => {
                    return Ok(Done::new(
                        Action::Skipped,
                        Some(plan),
                        None,
                        unselected_reason(plan, &id),
                    ));
                }
                // A copy of a linked item (monday's "Duplicate" copies the key column): a
                // person who duplicates an item wants a second record, so it is created like
                // any new item's, and the original's record is left alone.
                Binding::HeldBy(other) => copy_of = Some(other),
            },
            (None, None) => {}
        }
        let values = engine_item(plan, &read)?;
        let mut fields = eval::item_to_create(plan, &values, ctx.now())?;
        for l in plan.links.iter().filter(|l| l.direction.to_salesforce()) {
            let linked = read
                .column(&l.column)
                .map(|c| c.linked_item_ids.clone())
                .unwrap_or_default();
            // The last live linked item (links to archived or deleted items count as none).
            let live = self.live_linked_items(l, &linked).await?;
            if let Some(last) = live.last() {
                let ids = self.records_of_live(l, std::slice::from_ref(last)).await?;
                if let Some(id) = ids.into_iter().next() {
                    fields.fields.insert(l.via.clone(), Json::String(id));
                }
            }
        }
        let record_id = self.create_record(plan, board, item, &fields).await?;
        // The id goes back into the key column; done again (harmlessly) if a retry comes here.
        let mut key = Map::new();
        key.insert(plan.key_column.clone(), Json::String(record_id.clone()));
        ctx.monday
            .change_column_values(board, item, key, false)
            .await?;
        let mut set = vec![
            SetValue {
                key: NAME_KEY.to_owned(),
                value: Json::String(values.name.clone()),
                source: Side::Salesforce,
            },
            SetValue {
                key: column_key(&plan.key_column),
                value: Value::text(&record_id).to_json(),
                source: Side::Monday,
            },
            SetValue {
                key: LAST_SEEN_KEY.to_owned(),
                value: Value::DateTime(ctx.now()).to_json(),
                source: Side::Salesforce,
            },
        ];
        for (column, v) in &values.columns {
            set.push(SetValue {
                key: column_key(column),
                value: v.to_json(),
                source: Side::Salesforce,
            });
        }
        for (field, json) in &fields.fields {
            set.push(SetValue {
                key: field_key(field),
                value: read_field(plan, field, json).to_json(),
                source: Side::Salesforce,
            });
        }
        ctx.store
            .set_synced_values(board, item, &set, ctx.now())
            .await?;
        let reason = match copy_of {
            Some(other) => format!(
                "record created from the new item, a copy of item {other} (its key column held \
                 that item's record id and now holds the new one)"
            ),
            None => "record created from the new item".to_owned(),
        };
        Ok(Done::new(
            Action::Created,
            Some(plan),
            Some(&record_id),
            reason,
        ))
    }

    /// Writes the record id into the item's key column.
    async fn write_back(
        &self,
        plan: &Plan,
        board: &str,
        item: &str,
        record_id: &str,
    ) -> Result<(), ApplyError> {
        let mut key = Map::new();
        key.insert(plan.key_column.clone(), Json::String(record_id.to_owned()));
        self.inner
            .ctx
            .monday
            .change_column_values(board, item, key, false)
            .await?;
        Ok(())
    }

    /// Creates the item's record at most once: the intent is recorded first; a pending
    /// intent from a crashed attempt is reconciled before creating again.
    async fn create_record(
        &self,
        plan: &Plan,
        board: &str,
        item: &str,
        fields: &SfWrites,
    ) -> Result<String, ApplyError> {
        let ctx = &self.inner.ctx;
        let fresh = uuid::Uuid::new_v4().simple().to_string();
        let intent = ctx
            .store
            .record_create_intent(board, item, &plan.sobject, &fresh, ctx.now())
            .await?;
        if intent.status == IntentStatus::Completed {
            if let Some(id) = intent.record_id {
                return Ok(id);
            }
        }
        let id = if let Some(ext) = &self.opts().external_id_field {
            // Upsert by the intent's key: a retry finds the record the crashed attempt made.
            self.upsert_by(&plan.sobject, ext, &intent.idempotency_key, fields)
                .await?
        } else {
            let earlier = if intent.idempotency_key == fresh {
                None
            } else {
                self.reconcile(plan, &intent, fields).await?
            };
            match earlier {
                Some(id) => id,
                None => {
                    ctx.salesforce
                        .create(&plan.sobject, &fields.to_json())
                        .await?
                }
            }
        };
        if self.opts().crash_after_create {
            // Test hook: die between the create and the write-back.
            std::process::abort();
        }
        ctx.store
            .complete_create_intent(board, item, &id, ctx.now())
            .await?;
        Ok(id)
    }

    /// Creates a record idempotently: an upsert by `key` in the external-id field `ext`
    /// (set in the body too), so that a retry finds what an earlier attempt made.
    async fn upsert_by(
        &self,
        sobject: &str,
        ext: &str,
        key: &str,
        fields: &SfWrites,
    ) -> Result<String, ApplyError> {
        let mut body = fields.clone();
        body.fields
            .insert(ext.to_owned(), Json::String(key.to_owned()));
        match self
            .inner
            .ctx
            .salesforce
            .upsert(sobject, ext, key, &body.to_json())
            .await?
        {
            crmmap_salesforce::UpsertOutcome::Created(id)
            | crmmap_salesforce::UpsertOutcome::Updated(Some(id)) => Ok(id),
            other => Err(ApplyError::Other(format!(
                "upsert by {ext} gave no single record: {other:?}"
            ))),
        }
    }

    /// Finds the record an earlier attempt created (it crashed, or Salesforce's answer was
    /// lost), without an external id: a record of the sObject created since the intent, with
    /// the same name fields, or, when the name sets no text field, the same short text fields
    /// (without any, it cannot be told from a record a person made: configure
    /// `external_id_field`).
    ///
    /// This is the one place that decides how a pending create is reconciled when no external
    /// id field is configured (with one, the create is an upsert by the intent's key).
    async fn reconcile(
        &self,
        plan: &Plan,
        intent: &crmmap_store::CreateIntent,
        fields: &SfWrites,
    ) -> Result<Option<String>, ApplyError> {
        let mut by: Vec<(String, String)> = plan
            .name_to_salesforce
            .iter()
            .filter_map(|a| match fields.fields.get(&a.field) {
                Some(Json::String(v)) => Some((a.field.clone(), v.clone())),
                _ => None,
            })
            .collect();
        if by.is_empty() {
            by = lookup_fields(fields);
        }
        self.find_created(&plan.sobject, intent.created_at, &by)
            .await
    }

    /// The earliest record of `sobject` created since `since` (less a second: Salesforce
    /// times have second granularity) by crmmap's own Salesforce user (when the token names
    /// it, so that a record a person entered alike at the same time is never taken for
    /// crmmap's), whose fields equal `by`; `None` without `by`.
    async fn find_created(
        &self,
        sobject: &str,
        since: OffsetDateTime,
        by: &[(String, String)],
    ) -> Result<Option<String>, ApplyError> {
        if by.is_empty() {
            return Ok(None);
        }
        let since = since.replace_nanosecond(0).unwrap_or(since) - time::Duration::seconds(1);
        let mut cond = Condition::ge(
            "CreatedDate",
            crmmap_salesforce::soql::Literal::DateTime(since),
        );
        if let Some(me) = self.inner.ctx.salesforce.user_id().await? {
            cond = cond.and(Condition::eq("CreatedById", me));
        }
        for (field, value) in by {
            cond = cond.and(Condition::eq(field.clone(), value.clone()));
        }
        let soql = Soql::select(["Id"])
            .from(sobject.to_owned())
            .where_(cond)
            .order_by("CreatedDate", Direction::Asc)
            .limit(1)
            .build()
            .map_err(|e| ApplyError::Other(e.to_string()))?;
        let found = self.inner.ctx.salesforce.query_collect(soql).await?;
        Ok(found.first().and_then(|r| r.id()).map(str::to_owned))
    }

    // ------------------------------------------------------------------ column change

    async fn column_changed(
        &self,
        plan: &Plan,
        ev: &Event,
        board: &str,
        item: &str,
        column: &str,
        previous: &Json,
    ) -> Result<Done, ApplyError> {
        let field = plan.fields_to_salesforce().find(|f| f.column == column);
        let link = plan
            .links
            .iter()
            .find(|l| l.column == column && l.direction.to_salesforce());
        if field.is_none() && link.is_none() {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                format!("column `{column}` does not flow to salesforce"),
            ));
        }
        let (read, record_id, synced) = match self
            .read_linked(
                plan,
                board,
                item,
                vec![plan.key_column.clone(), column.to_owned()],
            )
            .await?
        {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let cv = read.column(column).cloned().unwrap_or_default();
        if let Some(l) = link {
            return self
                .links_changed(plan, ev, &record_id, l, &cv, previous, &synced)
                .await;
        }
        let Some(f) = field else {
            unreachable!("checked above")
        };
        let current = monday::read(f.column_type, &column_read(&cv), None)
            .map_err(|e| e.with_column(column))?;
        let old = match synced_value(&synced, &column_key(column)) {
            Some(v) => v,
            None => monday::read_webhook(f.column_type, previous, None).unwrap_or(Value::Null),
        };
        let held = synced_value(&synced, &field_key(&f.field))
            .and_then(|v| salesforce::write(f.field_type, &v).ok());
        let Some(mut writes) = eval::column_change(
            plan,
            column,
            &current,
            &old,
            held.as_ref(),
            self.inner.ctx.now(),
        )?
        else {
            let mut remember = Vec::new();
            if synced_value(&synced, &column_key(column))
                .is_none_or(|v| !v.same_as(&current, f.column_kind()))
            {
                remember.push((column_key(column), current.to_json(), Side::Monday));
            }
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(&record_id),
                format!("`{column}` already matches salesforce (echo or no change)"),
            )
            .remembering(set_values(remember)));
        };
        // Lifecycle rules and propagations see the field go from its last-synced value.
        let mut old_record = Record::new();
        let before = synced_value(&synced, &field_key(&f.field)).map_or(Json::Null, |v| {
            salesforce::write(f.field_type, &v).unwrap_or(Json::Null)
        });
        old_record.insert(f.field.clone(), before);
        let new_record = writes.apply_to(&old_record);
        let propagations =
            eval::propagations(plan, &old_record, &new_record, self.inner.ctx.now())?;
        let mut notes = Vec::new();
        for rule in eval::rules_fired(plan, &old_record, &new_record) {
            let sets = self
                .run_rule(plan, rule, board, item, &record_id, &writes, &synced)
                .await?;
            for (k, v) in sets.fields {
                writes.fields.insert(k, v);
            }
            notes.push(format!("rule `{}` ran", rule.name));
        }
        let updated = self
            .update_record(plan, ev, &record_id, &writes, &synced)
            .await?;
        for p in propagations {
            let Some(id) = synced_value(&synced, &rule_key(&p.rule, &p.alias)) else {
                continue;
            };
            let id = id.display();
            let mut body = Map::new();
            body.insert(p.field.clone(), p.value.clone());
            self.inner
                .ctx
                .salesforce
                .update(&p.sobject, &id, &Json::Object(body), None)
                .await?;
            notes.push(format!("{}.{} of {id} set", p.sobject, p.field));
        }
        let remember = vec![(column_key(column), current.to_json(), Side::Monday)];
        Ok(self
            .update_done(
                plan,
                &record_id,
                &updated,
                &format!("`{column}` → {}", f.field),
                notes,
            )
            .remembering(self.update_values(plan, &updated, remember)))
    }

    fn update_done(
        &self,
        plan: &Plan,
        record_id: &str,
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

    /// Writes last-synced values at once (not with the event's outcome): for what must
    /// survive a failure later in the same event.
    async fn remember_now(
        &self,
        board: &str,
        item: &str,
        values: &[(String, Json, Side)],
    ) -> Result<(), ApplyError> {
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

    /// Records the values of an update about to be sent ([`sent_key`]), beside those sent
    /// earlier and not confirmed since: after a crash or a lost answer Salesforce may hold any
    /// of them, and the next event must not take it for an edit made in Salesforce.
    async fn remember_sent(
        &self,
        plan: &Plan,
        ev: &Event,
        written: &SfWrites,
        synced: &Synced,
    ) -> Result<(), ApplyError> {
        // A field monday wins anyway needs no record (and the event no extra commit).
        let sent: Vec<(String, Json, Side)> = written
            .fields
            .iter()
            .filter(|(field, _)| policy_of(plan, field) != ConflictPolicy::PreferMonday)
            .map(|(field, json)| {
                let mut values = unconfirmed(synced, field);
                values.push(read_field(plan, field, json).to_json());
                let drop = values.len().saturating_sub(SENT_KEPT);
                values.drain(..drop);
                (sent_key(field), json!({ "sent": values }), Side::Salesforce)
            })
            .collect();
        if sent.is_empty() {
            return Ok(());
        }
        let (board, item) = (ev.board_id.to_string(), ev.item_id.to_string());
        self.remember_now(&board, &item, &sent).await
    }

    /// Whether changes to this plan's records are held back from converted Leads.
    fn converted_guard(&self, plan: &Plan) -> bool {
        plan.sobject == "Lead" && !self.opts().update_converted_leads
    }

    /// The last-synced values after an update: `extra`, then what was written and read.
    fn update_values(
        &self,
        plan: &Plan,
        updated: &Updated,
        mut extra: Vec<(String, Json, Side)>,
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

    // ------------------------------------------------------------------ links

    /// The live items among `items` (linked through `link`), in the order given, with the
    /// target's key column. Archived, deleted and missing items are left out: a link to an
    /// inactive item counts as no link (read with `exclude_nonactive`).
    async fn live_linked_items(
        &self,
        link: &LinkPlan,
        items: &[String],
    ) -> Result<Vec<crmmap_monday::Item>, ApplyError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let target = self.target_plan(link)?;
        let read = self
            .inner
            .ctx
            .monday
            .active_items_by_id(items, Some(std::slice::from_ref(&target.key_column)))
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| read.iter().find(|r| &r.id == i).cloned())
            .collect())
    }

    fn target_plan(&self, link: &LinkPlan) -> Result<&Plan, ApplyError> {
        self.plans()
            .plan(&link.target)
            .ok_or_else(|| ApplyError::Other(format!("link target `{}` has no plan", link.target)))
    }

    /// The records of linked items, in order. Archived, deleted and missing items count as
    /// unlinked, and so does an item whose key column names no record the target's mapping
    /// syncs; an active item without a record yet is an error, retried later (its create may
    /// still be on its way).
    async fn records_of_items(
        &self,
        link: &LinkPlan,
        items: &[String],
    ) -> Result<Vec<String>, ApplyError> {
        let live = self.live_linked_items(link, items).await?;
        self.records_of_live(link, &live).await
    }

    /// The records of live linked items (see [`Webhook::records_of_items`]).
    async fn records_of_live(
        &self,
        link: &LinkPlan,
        items: &[crmmap_monday::Item],
    ) -> Result<Vec<String>, ApplyError> {
        let store = &self.inner.ctx.store;
        let board = link.target_board.to_string();
        let mut out = Vec::new();
        for i in items {
            if let Some(l) = store.link_by_item(&board, &i.id).await? {
                out.push(l.record_id);
                continue;
            }
            let target = self.target_plan(link)?;
            let Some(id) = key_value(target, i) else {
                return Err(ApplyError::Other(format!(
                    "linked item {} has no salesforce record yet",
                    i.id
                )));
            };
            match self.bind(target, &board, &i.id, &id).await? {
                Binding::Bound(id) => out.push(id),
                Binding::NotSelected => {
                    tracing::info!(
                        item = %i.id,
                        "linked item is not a record the target's mapping syncs; counted as unlinked"
                    );
                }
                // A copy of another item: its own record comes with its create event.
                Binding::HeldBy(_) => {
                    return Err(ApplyError::Other(format!(
                        "linked item {} has no salesforce record yet (it is a copy of a linked item)",
                        i.id
                    )));
                }
            }
        }
        Ok(out)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the pieces are all different"
    )]
    async fn links_changed(
        &self,
        plan: &Plan,
        ev: &Event,
        record_id: &str,
        link: &LinkPlan,
        cv: &ColumnValue,
        previous: &Json,
        synced: &Synced,
    ) -> Result<Done, ApplyError> {
        let column = &link.column;
        let current = cv.linked_item_ids.clone();
        let before: Vec<String> = match synced_value(synced, &column_key(column)) {
            Some(Value::Labels(ids)) => ids,
            Some(_) => Vec::new(),
            None => match monday::read_webhook(ColumnType::BoardRelation, previous, None) {
                Ok(Value::Labels(ids)) => ids,
                _ => Vec::new(),
            },
        };
        let added: Vec<String> = current
            .iter()
            .filter(|i| !before.contains(i))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .iter()
            .filter(|i| !current.contains(i))
            .cloned()
            .collect();
        // The relation as crmmap last wrote it (from Salesforce, or from an earlier event):
        // seeing it again is an echo.
        let link_state = synced
            .get(&crmmap_sync::migrate::link_key(column))
            .map(|v| v.value.as_str().map(str::to_owned));
        if let Some(target) = &link_state {
            if current.len() <= 1
                && self.records_of_items(link, &current).await?.last() == target.as_ref()
            {
                return Ok(Done::new(
                    Action::Unchanged,
                    Some(plan),
                    Some(record_id),
                    format!("links of `{column}` are the ones crmmap wrote (echo or no change)"),
                )
                .remembering(set_values(vec![(
                    column_key(column),
                    Value::Labels(current.clone()).to_json(),
                    Side::Monday,
                )])));
            }
        }
        let added_records = self.records_of_items(link, &added).await?;
        // Removed items may be gone already: their records come from the store only.
        let mut removed_records = Vec::new();
        for r in &removed {
            if let Some(l) = self
                .inner
                .ctx
                .store
                .link_by_item(&link.target_board.to_string(), r)
                .await?
            {
                removed_records.push(l.record_id);
            } else {
                removed_records.push(r.clone());
            }
        }
        let remember_links = (
            column_key(column),
            Value::Labels(current.clone()).to_json(),
            Side::Monday,
        );
        let Some(writes) = eval::link_change(plan, column, &added_records, &removed_records) else {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(record_id),
                format!("links of `{column}` unchanged"),
            )
            .remembering(set_values(vec![remember_links])));
        };
        let updated = self
            .update_record(plan, ev, record_id, &writes, synced)
            .await?;
        let mut remember = vec![remember_links];
        if let Some(v) = updated.written.fields.get(&link.via) {
            remember.push((
                crmmap_sync::migrate::link_key(column),
                v.clone(),
                Side::Monday,
            ));
        }
        Ok(self
            .update_done(
                plan,
                record_id,
                &updated,
                &format!("`{column}` → {}", link.via),
                Vec::new(),
            )
            .remembering(self.update_values(plan, &updated, remember)))
    }

    // ------------------------------------------------------------------ rename, delete

    async fn renamed(
        &self,
        plan: &Plan,
        ev: &Event,
        board: &str,
        item: &str,
    ) -> Result<Done, ApplyError> {
        if plan.name_to_salesforce.is_empty() {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "the item name does not flow to salesforce",
            ));
        }
        let (read, record_id, synced) = match self
            .read_linked(plan, board, item, vec![plan.key_column.clone()])
            .await?
        {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        if synced_name(&synced).is_some_and(|n| n == read.name) {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(&record_id),
                "name already matches salesforce (echo or no change)",
            ));
        }
        let mut writes = eval::rename(plan, &read.name, self.inner.ctx.now())?;
        writes.fields.retain(|field, json| {
            synced_value(&synced, &field_key(field))
                .is_none_or(|held| !same(&held, &read_field(plan, field, json)))
        });
        let remember = vec![(
            NAME_KEY.to_owned(),
            Json::String(read.name.clone()),
            Side::Monday,
        )];
        if writes.is_empty() {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(&record_id),
                "name fields already match salesforce",
            )
            .remembering(set_values(remember)));
        }
        let updated = self
            .update_record(plan, ev, &record_id, &writes, &synced)
            .await?;
        Ok(self
            .update_done(plan, &record_id, &updated, "item name", Vec::new())
            .remembering(self.update_values(plan, &updated, remember)))
    }

    async fn deleted(
        &self,
        plan: &Plan,
        ev: &Event,
        board: &str,
        item: &str,
        name: &str,
    ) -> Result<Done, ApplyError> {
        let ctx = &self.inner.ctx;
        let Some(link) = ctx.store.link_by_item(board, item).await? else {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "deleted item was not linked to a record",
            ));
        };
        let what = ev.kind.type_name();
        match eval::on_delete(plan, name, ctx.now())? {
            DeleteAction::Log => Ok(Done::new(
                Action::Skipped,
                Some(plan),
                Some(&link.record_id),
                format!(
                    "{what}: the mapping's delete policy is `log`; the record stays in salesforce"
                ),
            )),
            DeleteAction::Delete => {
                match ctx.salesforce.delete(&plan.sobject, &link.record_id).await {
                    Ok(()) | Err(crmmap_salesforce::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                ctx.store.delete_link(board, item).await?;
                Ok(Done::new(
                    Action::Deleted,
                    Some(plan),
                    Some(&link.record_id),
                    format!("{what}: record deleted (delete policy)"),
                ))
            }
            DeleteAction::Update(writes) => {
                let synced = self.synced(board, item).await?;
                let updated = self
                    .update_record(plan, ev, &link.record_id, &writes, &synced)
                    .await?;
                Ok(self
                    .update_done(
                        plan,
                        &link.record_id,
                        &updated,
                        &format!("{what}: record marked (delete policy)"),
                        Vec::new(),
                    )
                    .remembering(self.update_values(plan, &updated, Vec::new())))
            }
        }
    }

    // ------------------------------------------------------------------ rules

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the pieces are all different"
    )]
    async fn run_rule(
        &self,
        plan: &Plan,
        rule: &RulePlan,
        board: &str,
        item: &str,
        record_id: &str,
        writes: &SfWrites,
        synced: &Synced,
    ) -> Result<SfWrites, ApplyError> {
        let ctx = &self.inner.ctx;
        let select: Vec<&str> = plan
            .facts
            .salesforce_read
            .iter()
            .map(String::as_str)
            .collect();
        let record: Map<String, Json> = ctx
            .salesforce
            .get(&plan.sobject, record_id, Some(&select))
            .await?;
        let record = writes.apply_to(&record);
        let mut aliases = Aliases::new();
        for (i, create) in rule.creates.iter().enumerate() {
            let key = rule_key(&rule.name, &create.alias);
            // A pending marker: an earlier attempt got as far as creating this record (maybe).
            let pending = synced
                .get(&key)
                .and_then(|v| v.value.get(PENDING_SINCE))
                .and_then(Json::as_str)
                .and_then(|t| crmmap_engine::value::parse_datetime(t).ok());
            if pending.is_none() {
                if let Some(id) = synced_value(synced, &key) {
                    let mut r = Record::new();
                    r.insert("Id".into(), Json::String(id.display()));
                    aliases.insert(create.alias.clone(), r);
                    continue;
                }
            }
            let fields = rule.create_fields(plan, i, &record, &aliases, ctx.now())?;
            let id = match &self.opts().external_id_field {
                Some(ext) => {
                    // A deterministic key: a retry after a crash upserts the same record.
                    let ext_key = format!("{board}:{item}:{}:{}", rule.name, create.alias);
                    self.upsert_by(&create.sobject, ext, &ext_key, &fields)
                        .await?
                }
                None => {
                    let found = match pending {
                        Some(since) => {
                            self.find_created(&create.sobject, since, &lookup_fields(&fields))
                                .await?
                        }
                        None => None,
                    };
                    match found {
                        Some(id) => id,
                        None => {
                            // The marker goes first, so that a crash after the create is
                            // reconciled by a lookup instead of creating again.
                            let marker = json!({ PENDING_SINCE: crmmap_engine::value::format_datetime(ctx.now()) });
                            self.remember_now(
                                board,
                                item,
                                &[(key.clone(), marker, Side::Salesforce)],
                            )
                            .await?;
                            let id = ctx
                                .salesforce
                                .create(&create.sobject, &fields.to_json())
                                .await?;
                            if self.opts().crash_after_create {
                                std::process::abort();
                            }
                            id
                        }
                    }
                }
            };
            // Recorded at once: a later failure must not create it again.
            self.remember_now(
                board,
                item,
                &[(key, Value::text(&id).to_json(), Side::Salesforce)],
            )
            .await?;
            let mut r = fields.apply_to(&Record::new());
            r.insert("Id".into(), Json::String(id));
            aliases.insert(create.alias.clone(), r);
        }
        Ok(rule.set_fields(plan, &record, &aliases, ctx.now())?)
    }

    // ------------------------------------------------------------------ conditional update

    /// Updates a record with `If-Unmodified-Since` the last-seen modification time. When
    /// Salesforce changed the record since (412), or that time is unknown, the record is read
    /// and each field decided: a field Salesforce did not change is written; a field both
    /// sides changed follows the conflict policy.
    async fn update_record(
        &self,
        plan: &Plan,
        ev: &Event,
        record_id: &str,
        writes: &SfWrites,
        synced: &Synced,
    ) -> Result<Updated, ApplyError> {
        let monday_time = ev.trigger_time;
        let sf = &self.inner.ctx.salesforce;
        let mut since = synced_value(synced, LAST_SEEN_KEY).and_then(|v| match v {
            Value::DateTime(t) => Some(t),
            _ => None,
        });
        let mut out = Updated {
            written: writes.clone(),
            ..Updated::default()
        };
        let guarded = self.converted_guard(plan);
        if guarded
            && synced
                .get(CONVERTED_KEY)
                .is_some_and(|c| c.value == Json::Bool(true))
        {
            out.written = SfWrites::default();
            out.converted = true;
            return Ok(out);
        }
        let mut sent = false;
        for _ in 0..=CONFLICT_ROUNDS {
            if out.written.is_empty() {
                return Ok(out);
            }
            if let Some(t) = since {
                if !sent {
                    // Before it is sent: a crash or a lost answer leaves it known.
                    self.remember_sent(plan, ev, &out.written, synced).await?;
                    sent = true;
                }
                match sf
                    .update_if_unmodified(&plan.sobject, record_id, &out.written.to_json(), t)
                    .await
                {
                    Ok(ConditionalUpdate::Applied { date }) => {
                        out.confirmed = date;
                        return Ok(out);
                    }
                    Ok(ConditionalUpdate::Modified) => {}
                    Err(e) if guarded && e.is_converted_lead() => {
                        out.written = SfWrites::default();
                        out.converted = true;
                        return Ok(out);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Every field monday writes to, not only these: what Salesforce holds is then
            // known for the next events of the item (an echo of a value Salesforce already
            // holds then writes nothing).
            let mut fields: Vec<&str> = out.written.fields.keys().map(String::as_str).collect();
            for f in plan.fields_to_salesforce().map(|f| f.field.as_str()) {
                if !fields.contains(&f) {
                    fields.push(f);
                }
            }
            fields.push("LastModifiedDate");
            if guarded {
                fields.push("IsConverted");
            }
            let current: Map<String, Json> =
                sf.get(&plan.sobject, record_id, Some(&fields)).await?;
            if guarded && current.get("IsConverted") == Some(&Json::Bool(true)) {
                out.written = SfWrites::default();
                out.converted = true;
                return Ok(out);
            }
            let modified = current
                .get("LastModifiedDate")
                .and_then(Json::as_str)
                .and_then(|s| crmmap_engine::value::parse_datetime(s).ok())
                .ok_or_else(|| {
                    ApplyError::Other(format!(
                        "{} {record_id} has no LastModifiedDate",
                        plan.sobject
                    ))
                })?;
            let mut kept = Vec::new();
            out.written.fields.retain(|field, new| {
                let decision = decide_field(
                    plan,
                    field,
                    new,
                    current.get(field),
                    synced,
                    monday_time,
                    modified,
                );
                if decision == UpdateDecision::SalesforceWins {
                    kept.push(field.clone());
                }
                decision.writes()
            });
            out.kept_by_salesforce.extend(kept);
            out.seen = Some(modified);
            out.read = current
                .iter()
                .filter(|(k, _)| plan.fields_to_salesforce().any(|f| &f.field == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            since = Some(modified);
        }
        Err(ApplyError::Other(format!(
            "{} {record_id} kept changing in salesforce during {CONFLICT_ROUNDS} conditional updates",
            plan.sobject
        )))
    }
}

/// The engine's decision ([`conflict::decide_update`]) for writing `field` = `new`, given
/// Salesforce's `current` value (read at `modified`), the last-synced value and the values
/// crmmap sent since, for a monday change made at `monday_time`.
fn decide_field(
    plan: &Plan,
    field: &str,
    new: &Json,
    current: Option<&Json>,
    synced: &Synced,
    monday_time: Option<OffsetDateTime>,
    modified: OffsetDateTime,
) -> UpdateDecision {
    let last = synced_value(synced, &field_key(field));
    let sent: Vec<Value> = unconfirmed(synced, field)
        .iter()
        .filter_map(|sent| Value::from_json(sent).ok())
        .collect();
    let update = FieldUpdate {
        wanted: &read_field(plan, field, new),
        current: &read_field(plan, field, current.unwrap_or(&Json::Null)),
        last_synced: last.as_ref(),
        sent: &sent,
        monday_changed_at: monday_time,
        salesforce_changed_at: Some(modified),
    };
    conflict::decide_update(policy_of(plan, field), &update)
}

/// The conflict policy of a Salesforce field monday writes to (the object's, unless the
/// field sets its own).
fn policy_of(plan: &Plan, field: &str) -> ConflictPolicy {
    plan.field_for_sf_field(field)
        .map_or(plan.conflict, |f| f.conflict)
}

/// The JSON form of a record id list (for tests and tools reading last-synced links).
pub fn links_json(ids: &[String]) -> Json {
    json!({ "labels": ids })
}
