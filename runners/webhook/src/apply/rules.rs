//! Lifecycle rules: the records a rule creates (each at most once, marked pending before it
//! is created) and the fields it sets.

use crmmap_engine::eval::{Aliases, Record, SfWrites};
use crmmap_engine::plan::RulePlan;
use crmmap_engine::value::Value;
use crmmap_ids::RecordId;
use crmmap_store::Side;
use serde_json::{Map, Value as Json, json};

use super::{ApplyError, Applying, Synced, lookup_fields, synced_value};
use crate::Webhook;

/// The key of a lifecycle rule's pending-create marker (`{"pending_since": "<datetime>"}`).
pub(crate) const PENDING_SINCE: &str = "pending_since";

pub use crmmap_store::rule_key;

impl Webhook {
    pub(crate) async fn run_rule(
        &self,
        at: &Applying<'_>,
        rule: &RulePlan,
        record_id: &RecordId,
        writes: &SfWrites,
        synced: &Synced,
    ) -> Result<SfWrites, ApplyError> {
        let (plan, board, item) = (at.plan, at.board, at.item);
        let ctx = &self.inner.ctx;
        let select: Vec<&str> = plan
            .facts
            .salesforce_read
            .iter()
            .map(String::as_str)
            .collect();
        let record: Map<String, Json> = ctx
            .salesforce
            .get(plan.sobject.as_str(), record_id, Some(&select))
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
            if pending.is_none()
                && let Some(id) = synced_value(synced, &key)
            {
                let mut r = Record::new();
                r.insert("Id".into(), Json::String(id.display()));
                aliases.insert(create.alias.clone(), r);
                continue;
            }
            let fields = rule.create_fields(plan, i, &record, &aliases, ctx.now())?;
            let id = match &self.opts().external_id_field {
                Some(ext) => {
                    // A deterministic key: a retry after a crash upserts the same record.
                    let ext_key = format!("{board}:{item}:{}:{}", rule.name, create.alias);
                    self.upsert_by(create.sobject.as_str(), ext, &ext_key, &fields)
                        .await?
                }
                None => {
                    let found = match pending {
                        Some(since) => {
                            self.find_created(
                                create.sobject.as_str(),
                                since,
                                &lookup_fields(&fields),
                            )
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
                            self.remember_now(at, &[(key.clone(), marker, Side::Salesforce)])
                                .await?;
                            let id = ctx
                                .salesforce
                                .create(create.sobject.as_str(), &fields.to_json())
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
            self.remember_now(at, &[(key, Value::text(&id).to_json(), Side::Salesforce)])
                .await?;
            let mut r = fields.apply_to(&Record::new());
            r.insert("Id".into(), Json::String(id));
            aliases.insert(create.alias.clone(), r);
        }
        Ok(rule.set_fields(plan, &record, &aliases, ctx.now())?)
    }
}
