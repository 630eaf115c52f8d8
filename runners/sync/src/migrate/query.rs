//! The SOQL of a run: the selected records after a watermark, the deleted ones, and the
//! checkpoint positions that resume them.

use crmmap_engine::plan::Plan;
use crmmap_ids::RecordId;
use crmmap_salesforce::soql::{Condition, Direction, Literal, Soql};
use crmmap_store::Watermark;

use super::MigrateError;

/// Ids per `Id IN (…)` query: keeps the SOQL well under Salesforce's 100,000-character limit
/// (an Id literal is 21 characters).
pub(super) const SOQL_IDS_PER_QUERY: usize = 200;

/// A checkpoint position: `<SystemModstamp RFC 3339>|<Id>`.
pub(super) fn position_of(w: &Watermark) -> String {
    let t = w
        .modstamp
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!("{t}|{}", w.last_id)
}

pub(super) fn parse_position(p: &str) -> Option<Watermark> {
    let (t, id) = p.split_once('|')?;
    Watermark::from_salesforce(t, id).ok()
}

/// The fields read of each record: the mapping's, and for Leads `IsConverted` (a converted
/// Lead refuses updates; see [`Desired::converted`]).
pub(super) fn select_fields(plan: &Plan) -> Vec<String> {
    let mut fields = plan.select.fields.clone();
    if plan.sobject == "Lead" && !fields.iter().any(|f| f == "IsConverted") {
        fields.push("IsConverted".to_owned());
    }
    fields
}

/// The SOQL of one object: the mapping's selection, after `start` when given, ordered so that
/// a watermark of (SystemModstamp, Id) neither skips nor repeats records sharing a timestamp.
pub fn object_query(plan: &Plan, start: Option<&Watermark>) -> Result<String, MigrateError> {
    let mut q = Soql::select(select_fields(plan)).from(plan.sobject.clone());
    if let Some(w) = plan.select.where_clause() {
        q = q.where_(Condition::trusted(w));
    }
    if let Some(after) = start.map(after_watermark) {
        q = q.and_where(after);
    }
    in_watermark_order(plan, q)
}

/// The SOQL of the given records of one object that the mapping's selection matches.
pub(super) fn records_query(plan: &Plan, ids: &[RecordId]) -> Result<String, MigrateError> {
    let mut q = Soql::select(select_fields(plan))
        .from(plan.sobject.clone())
        .where_(Condition::in_list(
            "Id",
            ids.iter().map(|i| Literal::String(i.to_string())),
        ));
    if let Some(w) = plan.select.where_clause() {
        q = q.and_where(Condition::trusted(w));
    }
    build(plan, q)
}

/// The records of the object deleted in Salesforce after `start` (for `queryAll`), in the
/// same order and with the same watermark as [`object_query`].
pub fn deleted_query(plan: &Plan, start: Option<&Watermark>) -> Result<String, MigrateError> {
    let mut q = Soql::select(["Id", "SystemModstamp"])
        .from(plan.sobject.clone())
        .where_(Condition::eq("IsDeleted", Literal::Bool(true)));
    if let Some(after) = start.map(after_watermark) {
        q = q.and_where(after);
    }
    in_watermark_order(plan, q)
}

/// Records after a watermark: stamped later, or stamped alike with a greater Id. A capped
/// watermark (no Id, see [`WATERMARK_LAG`](super::WATERMARK_LAG)) means everything stamped at or after it.
pub(super) fn after_watermark(w: &Watermark) -> Condition {
    let at = Literal::DateTime(w.modstamp);
    if w.last_id.is_empty() {
        return Condition::ge("SystemModstamp", at);
    }
    Condition::gt("SystemModstamp", at.clone()).or(Condition::eq("SystemModstamp", at)
        .and(Condition::gt("Id", Literal::String(w.last_id.clone()))))
}

pub(super) fn in_watermark_order(plan: &Plan, q: Soql) -> Result<String, MigrateError> {
    build(
        plan,
        q.order_by("SystemModstamp", Direction::Asc)
            .order_by("Id", Direction::Asc),
    )
}

fn build(plan: &Plan, q: Soql) -> Result<String, MigrateError> {
    q.build().map_err(|e| MigrateError::Soql {
        object: plan.object.clone(),
        message: e.to_string(),
    })
}

/// A record's `Id`, parsed once as it comes from Salesforce; `None` when it has none or it is
/// no Salesforce id (such a record is skipped, as one without an `Id`).
pub(super) fn id_of(record: &crmmap_engine::eval::Record) -> Option<RecordId> {
    record
        .get("Id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| RecordId::parse(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    use crate::migrate::lead_plan as lead;

    #[test]
    fn the_query_orders_by_stamp_then_id_and_resumes_after_ties() {
        let plan = lead();
        let first = object_query(&plan, None).unwrap();
        assert!(first.starts_with("SELECT Id, SystemModstamp, "), "{first}");
        assert!(
            first.ends_with(
                "FROM Lead WHERE ((Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z)) \
                 ORDER BY SystemModstamp ASC, Id ASC"
            ),
            "{first}"
        );
        let w = Watermark::new(datetime!(2026-01-02 03:04:05.678 UTC), "00Q5g000000000AEAQ");
        let next = object_query(&plan, Some(&w)).unwrap();
        assert!(
            next.contains(
                "(SystemModstamp > 2026-01-02T03:04:05.678Z OR (SystemModstamp = \
                 2026-01-02T03:04:05.678Z AND Id > '00Q5g000000000AEAQ'))"
            ),
            "{next}"
        );
        let capped = Watermark::new(datetime!(2026-01-02 03:04:05 UTC), "");
        let next = object_query(&plan, Some(&capped)).unwrap();
        assert!(
            next.contains("SystemModstamp >= 2026-01-02T03:04:05Z"),
            "{next}"
        );
        assert!(!next.contains("Id > ''"), "{next}");
    }

    #[test]
    fn checkpoint_positions_round_trip() {
        let w = Watermark::new(datetime!(2026-01-02 03:04:05.678 UTC), "001xx0000000001AAA");
        assert_eq!(parse_position(&position_of(&w)), Some(w));
        assert_eq!(parse_position("garbage"), None);
    }
}
