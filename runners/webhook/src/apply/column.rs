//! A column change: the mapped field's update, the lifecycle rules it fires and the
//! propagations to records the rules created.

use crmmap_engine::eval::{self, Record};
use crmmap_engine::value::{Value, monday, salesforce};
use crmmap_ids::{ColumnId, RecordId};
use crmmap_store::{Action, Side, column_key, field_key};
use serde_json::{Map, Value as Json};

use super::{ApplyError, Applying, Done, column_read, rule_key, set_values, synced_value};
use crate::Webhook;

impl Webhook {
    pub(crate) async fn column_changed(
        &self,
        at: &Applying<'_>,
        column: &ColumnId,
        previous: &Json,
    ) -> Result<Done, ApplyError> {
        let (plan, _board, _item) = (at.plan, at.board, at.item);
        let field = plan.fields_to_salesforce().find(|f| f.column == *column);
        let link = plan
            .links
            .iter()
            .find(|l| l.column == *column && l.direction.to_salesforce());
        if field.is_none() && link.is_none() {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                format!("column `{column}` does not flow to salesforce"),
            ));
        }
        let (read, record_id, synced) = match self
            .read_linked(at, vec![plan.key_column.clone(), column.clone()])
            .await?
        {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let cv = read.column(column).cloned().unwrap_or_default();
        if let Some(l) = link {
            return self
                .links_changed(at, &record_id, l, &cv, previous, &synced)
                .await;
        }
        let Some(f) = field else {
            unreachable!("checked above")
        };
        let current = monday::read(f.column_type, &column_read(&cv), None)
            .map_err(|e| e.with_column(column.as_str()))?;
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
                .run_rule(at, rule, &record_id, &writes, &synced)
                .await?;
            for (k, v) in sets.fields {
                writes.fields.insert(k, v);
            }
            notes.push(format!("rule `{}` ran", rule.name));
        }
        let updated = self.update_record(at, &record_id, &writes, &synced).await?;
        for p in propagations {
            let Some(id) = synced_value(&synced, &rule_key(&p.rule, &p.alias)) else {
                continue;
            };
            // Recorded by crmmap when the rule created the record; a row that is no id fails
            // the update as the client would refuse it.
            let id = id.display();
            let id = RecordId::parse(&id).map_err(|e| {
                crmmap_salesforce::Error::InvalidArgument(format!(
                    "{id:?} is not a Salesforce id: {e}"
                ))
            })?;
            let mut body = Map::new();
            body.insert(p.field.clone(), p.value.clone());
            self.inner
                .ctx
                .salesforce
                .update(p.sobject.as_str(), &id, &Json::Object(body), None)
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
}
