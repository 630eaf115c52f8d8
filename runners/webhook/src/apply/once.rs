//! Creating a record at most once: an upsert by an idempotency key when an external-id field
//! is configured, else an intent recorded first and, after a crash or a lost answer, a lookup
//! of the record the earlier attempt made.

use crmmap_engine::eval::SfWrites;
use crmmap_engine::plan::Plan;
use crmmap_ids::RecordId;
use crmmap_salesforce::soql::{Condition, Direction, Soql};
use crmmap_store::IntentStatus;
use serde_json::Value as Json;
use time::OffsetDateTime;

use super::{ApplyError, Applying};
use crate::Webhook;

/// The fields a created record is looked up by after a crash or a lost answer, when nothing
/// better identifies it: short text values that are not dates (SOQL compares those unquoted)
/// — names, emails, references, picklists.
pub(crate) fn lookup_fields(fields: &SfWrites) -> Vec<(String, String)> {
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

impl Webhook {
    /// Creates the item's record at most once: the intent is recorded first; a pending
    /// intent from a crashed attempt is reconciled before creating again.
    pub(crate) async fn create_record(
        &self,
        at: &Applying<'_>,
        fields: &SfWrites,
    ) -> Result<RecordId, ApplyError> {
        let (plan, board, item) = (at.plan, at.board, at.item);
        let ctx = &self.inner.ctx;
        let fresh = uuid::Uuid::new_v4().simple().to_string();
        let intent = ctx
            .store
            .record_create_intent(board, item, &plan.sobject, &fresh, ctx.now())
            .await?;
        if intent.status == IntentStatus::Completed
            && let Some(id) = intent.record_id
        {
            return Ok(id);
        }
        let id = if let Some(ext) = &self.opts().external_id_field {
            // Upsert by the intent's key: a retry finds the record the crashed attempt made.
            self.upsert_by(plan.sobject.as_str(), ext, &intent.idempotency_key, fields)
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
                        .create(plan.sobject.as_str(), &fields.to_json())
                        .await?
                }
            }
        };
        // Salesforce's answer, parsed where it enters. An answer that is no id leaves the
        // intent pending: the retry reconciles it by its key instead of creating again.
        let id = RecordId::parse(&id).map_err(|e| {
            ApplyError::Other(format!(
                "salesforce created a record with the id `{id}`: {e}"
            ))
        })?;
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
    pub(crate) async fn upsert_by(
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
    pub(crate) async fn reconcile(
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
        self.find_created(plan.sobject.as_str(), intent.created_at, &by)
            .await
    }

    /// The earliest record of `sobject` created since `since` (less a second: Salesforce
    /// times have second granularity) by crmmap's own Salesforce user (when the token names
    /// it, so that a record a person entered alike at the same time is never taken for
    /// crmmap's), whose fields equal `by`; `None` without `by`.
    pub(crate) async fn find_created(
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
}
