//! Binding an item to the record whose Id its key column holds: only a record of the
//! mapping's selection that no other item holds.

use crmmap_engine::plan::Plan;
use crmmap_ids::{BoardId, ItemId, RecordId};
use crmmap_salesforce::soql::{Condition, Literal, Soql};
use crmmap_store::StoreError;

use super::ApplyError;
use crate::Webhook;

/// The sync-log reason of an item whose key column holds an Id the mapping does not select.
pub(crate) fn unselected_reason(plan: &Plan, id: &str) -> String {
    format!(
        "not a record this mapping syncs: the key column holds {id}, which is no {} of the \
         mapping's selection; nothing written",
        plan.sobject
    )
}

/// What the Id in an item's key column turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Binding {
    /// A record of the mapping's selection, now linked to the item (its 18-character Id).
    Bound(RecordId),
    /// Not a record the mapping syncs (another sObject, outside `select where`, deleted,
    /// or not an Id at all).
    NotSelected,
    /// A record already linked to another item: the item is a copy (monday's "Duplicate"
    /// copies the key column). Holds the other item's id.
    HeldBy(ItemId),
}

impl Webhook {
    /// Links an unlinked item to the record whose Id its key column holds, when that is a
    /// record the mapping syncs: read through the object's selection
    /// (`Id = '<id>' AND (<select where>)`), the way the migrator reads records, and not
    /// linked to another item already. The key column alone is no authority: a person (or a
    /// copy of another item) can put any Id there.
    pub(crate) async fn bind(
        &self,
        plan: &Plan,
        board: BoardId,
        item: ItemId,
        id: &str,
    ) -> Result<Binding, ApplyError> {
        let ctx = &self.inner.ctx;
        // The key column is text a person can edit: parsed here, where it enters.
        let Ok(id18) = RecordId::parse(id) else {
            return Ok(Binding::NotSelected);
        };
        let held_by_other = |link: Option<crmmap_store::Link>| {
            link.filter(|l| l.board_id != board || l.item_id != item)
                .map(|l| l.item_id)
        };
        // A record another item holds makes this one a copy, whatever the selection says
        // (a record created from monday may lie outside it).
        let sobject = plan.sobject.clone();
        if let Some(other) = held_by_other(ctx.store.link_by_record(&sobject, &id18).await?) {
            return Ok(Binding::HeldBy(other));
        }
        let Some(id) = self.selected(plan, &id18).await? else {
            return Ok(Binding::NotSelected);
        };
        match ctx
            .store
            .upsert_link(board, item, &sobject, &id, ctx.now())
            .await
        {
            Ok(_) => Ok(Binding::Bound(id)),
            // Linked to another item in the meantime.
            Err(StoreError::LinkConflict { .. }) => {
                match held_by_other(ctx.store.link_by_record(&sobject, &id).await?) {
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
    pub(crate) async fn selected(
        &self,
        plan: &Plan,
        id: &RecordId,
    ) -> Result<Option<RecordId>, ApplyError> {
        let mut q = Soql::select(["Id"])
            .from(plan.sobject.clone())
            .where_(Condition::eq("Id", Literal::String(id.to_string())));
        if let Some(w) = plan.select.where_clause() {
            q = q.and_where(Condition::trusted(w));
        }
        let soql = q
            .limit(1)
            .build()
            .map_err(|e| ApplyError::Other(e.to_string()))?;
        let found = self.inner.ctx.salesforce.query_collect(soql).await?;
        Ok(found
            .first()
            .and_then(|r| r.id())
            .and_then(|id| RecordId::parse(id).ok()))
    }
}
