//! monday edits still queued for Salesforce weighed against the record's values: where the
//! conflict policy gives them the column, the migrator leaves it to the queued event.

use std::collections::BTreeMap;

use crmmap_engine::conflict::{self, Winner};
use crmmap_engine::eval::{self, Record};
use crmmap_engine::plan::Plan;
use crmmap_ids::ColumnId;
use serde_json::Value as Json;

/// Leaves out of `writes` what monday edits still queued for Salesforce (`events`, the item's
/// pending webhook events as queued) win: each is a monday change after the last sync, so
/// where the migrator would overwrite it both sides changed and the conflict policy decides
/// (the field's, else the object's; for the name and links the object's). `prefer monday`
/// keeps monday's edit; `newest` keeps it when its `triggerTime` is after the record's
/// `LastModifiedDate` (a tie or an unknown time goes to Salesforce, as in the webhook);
/// `prefer salesforce` writes as usual. Columns that do not flow to Salesforce are written as
/// usual (the queued event cannot carry them anywhere). A queued create holds every column.
/// Returns the writes left and the columns kept for the queue.
pub fn keep_queued(
    plan: &Plan,
    record: &Record,
    events: &[Json],
    mut writes: eval::ItemWrites,
) -> (eval::ItemWrites, Vec<String>) {
    const NAME: &str = "name";
    let modified = record
        .get("LastModifiedDate")
        .and_then(Json::as_str)
        .and_then(|t| crmmap_engine::value::parse_datetime(t).ok());
    // The latest queued edit of each column (`None`: the whole item).
    let mut edited: BTreeMap<Option<String>, Option<time::OffsetDateTime>> = BTreeMap::new();
    for event in events {
        let column = match event.get("type").and_then(Json::as_str) {
            Some("update_column_value") => match event.get("columnId").and_then(Json::as_str) {
                Some(c) => Some(c.to_owned()),
                None => continue,
            },
            Some("update_name") => Some(NAME.to_owned()),
            Some("create_pulse") => None,
            _ => continue,
        };
        let at = event
            .get("triggerTime")
            .and_then(Json::as_str)
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            });
        let slot = edited.entry(column).or_insert(at);
        *slot = (*slot).max(at);
    }
    let monday_wins = |column: &str| -> bool {
        let policy = if column == NAME {
            (!plan.name_to_salesforce.is_empty()).then_some(plan.conflict)
        } else if let Some(f) = plan.field_for_column(column) {
            f.direction.to_salesforce().then_some(f.conflict)
        } else {
            plan.link_for_column(column)
                .filter(|l| l.direction.to_salesforce())
                .map(|_| plan.conflict)
        };
        let at = match (edited.get(&Some(column.to_owned())), edited.get(&None)) {
            (Some(a), Some(b)) => Some((*a).max(*b)),
            (Some(a), None) | (None, Some(a)) => Some(*a),
            (None, None) => None,
        };
        let Some(at) = at else {
            return false;
        };
        policy.is_some_and(|p| conflict::winner(p, at, modified) == Winner::Monday)
    };
    let mut kept = Vec::new();
    if writes.name.is_some() && monday_wins(NAME) {
        writes.name = None;
        kept.push(NAME.to_owned());
    }
    let columns: Vec<ColumnId> = writes.column_values.keys().cloned().collect();
    for c in columns {
        if monday_wins(c.as_str()) {
            writes.column_values.remove(&c);
            kept.push(String::from(c));
        }
    }
    writes.links.retain(|l| {
        let win = monday_wins(l.column.as_str());
        if win {
            kept.push(l.column.to_string());
        }
        !win
    });
    (writes, kept)
}
