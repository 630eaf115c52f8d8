//! A deleted or archived item: the mapping's delete policy (log, delete the record, or mark
//! it).

use crmmap_engine::eval::{self, DeleteAction};
use crmmap_store::Action;

use super::{ApplyError, Applying, Done};
use crate::Webhook;

impl Webhook {
    pub(crate) async fn deleted(&self, at: &Applying<'_>, name: &str) -> Result<Done, ApplyError> {
        let (plan, ev, board, item) = (at.plan, at.ev, at.board, at.item);
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
                match ctx
                    .salesforce
                    .delete(plan.sobject.as_str(), &link.record_id)
                    .await
                {
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
                let synced = self.synced(at).await?;
                let updated = self
                    .update_record(at, &link.record_id, &writes, &synced)
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
}
