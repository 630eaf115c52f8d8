//! A renamed item: the name fields written, unless Salesforce already holds them.

use crmmap_engine::conflict::same;
use crmmap_engine::eval::{self};
use crmmap_store::{Action, NAME_KEY, Side, field_key};
use serde_json::Value as Json;

use super::{ApplyError, Applying, Done, read_field, set_values, synced_name, synced_value};
use crate::Webhook;

impl Webhook {
    pub(crate) async fn renamed(&self, at: &Applying<'_>) -> Result<Done, ApplyError> {
        let plan = at.plan;
        if plan.name_to_salesforce.is_empty() {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "the item name does not flow to salesforce",
            ));
        }
        let (read, record_id, synced) =
            match self.read_linked(at, vec![plan.key_column.clone()]).await? {
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
        let updated = self.update_record(at, &record_id, &writes, &synced).await?;
        Ok(self
            .update_done(plan, &record_id, &updated, "item name", Vec::new())
            .remembering(self.update_values(plan, &updated, remember)))
    }
}
