//! The conditional update every event kind ends with: one `PATCH` with
//! `If-Unmodified-Since` the last-seen time; on a 412 the record is read and the engine
//! decides each field ([`conflict::decide_update`]). The values sent are recorded first
//! ([`sent_key`]), so that after a crash or a lost answer they are known as crmmap's own.

use crmmap_dsl::model::ConflictPolicy;
use crmmap_engine::conflict::{self, FieldUpdate, UpdateDecision};
use crmmap_engine::eval::SfWrites;
use crmmap_engine::plan::Plan;
use crmmap_engine::value::Value;
use crmmap_ids::RecordId;
use crmmap_salesforce::ConditionalUpdate;
use crmmap_store::{CONVERTED_KEY, Side, SyncedKey, field_key, sent_key};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use super::{ApplyError, Applying, Synced, read_field, synced_value};
use crate::Webhook;

pub use crmmap_store::LAST_SEEN_KEY;

/// Attempts at a conditional update that keeps meeting concurrent Salesforce changes.
pub(crate) const CONFLICT_ROUNDS: u32 = 3;

/// Most sent values kept per field ([`sent_key`]): the oldest are forgotten first.
pub(crate) const SENT_KEPT: usize = 16;

/// How a conditional update ended.
#[derive(Debug, Default)]
pub(crate) struct Updated {
    /// The fields written.
    pub(crate) written: SfWrites,
    /// Fields left as Salesforce has them because Salesforce changed them too and the policy
    /// prefers Salesforce (or the newer change).
    pub(crate) kept_by_salesforce: Vec<String>,
    /// The record's `LastModifiedDate` read during conflict handling, if any.
    pub(crate) seen: Option<OffsetDateTime>,
    /// The `Date` of Salesforce's answer to the update (its clock, at or after the save).
    pub(crate) confirmed: Option<OffsetDateTime>,
    /// The record is a converted Lead: nothing was sent (or Salesforce refused it).
    pub(crate) converted: bool,
    /// The fields monday writes to, as that read found them.
    pub(crate) read: Map<String, Json>,
}

/// The values crmmap sent (or was about to send) to `field` since the field was last synced
/// ([`sent_key`]; once it is synced, what Salesforce holds is known), oldest first, in the
/// engine's JSON form.
pub(crate) fn unconfirmed(synced: &Synced, field: &str) -> Vec<Json> {
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

impl Webhook {
    /// Updates a record with `If-Unmodified-Since` the last-seen modification time. When
    /// Salesforce changed the record since (412), or that time is unknown, the record is read
    /// and each field decided: a field Salesforce did not change is written; a field both
    /// sides changed follows the conflict policy.
    pub(crate) async fn update_record(
        &self,
        at: &Applying<'_>,
        record_id: &RecordId,
        writes: &SfWrites,
        synced: &Synced,
    ) -> Result<Updated, ApplyError> {
        let (plan, ev) = (at.plan, at.ev);
        let monday_time = ev.trigger_time;
        let sf = &self.inner.ctx.salesforce;
        let mut since = synced_value(synced, &LAST_SEEN_KEY).and_then(|v| match v {
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
                .get(&CONVERTED_KEY)
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
                    self.remember_sent(at, &out.written, synced).await?;
                    sent = true;
                }
                match sf
                    .update_if_unmodified(
                        plan.sobject.as_str(),
                        record_id,
                        &out.written.to_json(),
                        t,
                    )
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
            let current: Map<String, Json> = sf
                .get(plan.sobject.as_str(), record_id, Some(&fields))
                .await?;
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

    /// Records the values of an update about to be sent ([`sent_key`]), beside those sent
    /// earlier and not confirmed since: after a crash or a lost answer Salesforce may hold any
    /// of them, and the next event must not take it for an edit made in Salesforce.
    pub(crate) async fn remember_sent(
        &self,
        at: &Applying<'_>,
        written: &SfWrites,
        synced: &Synced,
    ) -> Result<(), ApplyError> {
        let plan = at.plan;
        // A field monday wins anyway needs no record (and the event no extra commit).
        let sent: Vec<(SyncedKey, Json, Side)> = written
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
        self.remember_now(at, &sent).await
    }

    /// Whether changes to this plan's records are held back from converted Leads.
    pub(crate) fn converted_guard(&self, plan: &Plan) -> bool {
        plan.sobject == "Lead" && !self.opts().update_converted_leads
    }
}

/// The engine's decision ([`conflict::decide_update`]) for writing `field` = `new`, given
/// Salesforce's `current` value (read at `modified`), the last-synced value and the values
/// crmmap sent since, for a monday change made at `monday_time`.
pub(crate) fn decide_field(
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
pub(crate) fn policy_of(plan: &Plan, field: &str) -> ConflictPolicy {
    plan.field_for_sf_field(field)
        .map_or(plan.conflict, |f| f.conflict)
}
