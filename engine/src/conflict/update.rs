//! The decision of a monday change on its way to a Salesforce record that changed since it
//! was last synced (a conditional update answered 412, or a record whose last modification is
//! unknown): field by field, write monday's value or keep Salesforce's.

use crmmap_dsl::model::{ConflictPolicy, Kind};
use time::OffsetDateTime;

use super::{Winner, winner};
use crate::value::Value;

/// A monday value for a Salesforce field, and what is known of the field (every value in the
/// Salesforce field's kind).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldUpdate<'a> {
    /// The value monday's change writes.
    pub wanted: &'a Value,
    /// What Salesforce holds now.
    pub current: &'a Value,
    /// The value both sides agreed on at the last sync; `None` if the field was never synced.
    pub last_synced: Option<&'a Value>,
    /// Values crmmap sent to the field since it was last synced without knowing whether they
    /// arrived (a crash or a lost answer): Salesforce holding one of them is crmmap's own
    /// write, not an edit made in Salesforce.
    pub sent: &'a [Value],
    /// When the monday change was made, if known.
    pub monday_changed_at: Option<OffsetDateTime>,
    /// When the record was last modified in Salesforce, if known.
    pub salesforce_changed_at: Option<OffsetDateTime>,
}

/// What becomes of a monday value sent to a Salesforce field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateDecision {
    /// Salesforce already holds the value: nothing to write.
    AlreadyHeld,
    /// Salesforce did not change the field since the last sync (it holds the last-synced
    /// value or one crmmap sent, or nothing was synced yet, so no change of it is known): the
    /// value is written.
    Unopposed,
    /// Both sides changed and the policy (or the newer change) prefers monday: the value is
    /// written.
    MondayWins,
    /// Both sides changed and the policy (or the newer change, or unknown times) prefers
    /// Salesforce: Salesforce's value is kept.
    SalesforceWins,
}

impl UpdateDecision {
    /// Whether monday's value is written.
    pub fn writes(self) -> bool {
        matches!(self, UpdateDecision::Unopposed | UpdateDecision::MondayWins)
    }
}

/// Decides one field of a monday change under `policy`:
///
/// - Salesforce already holds the value: nothing to write;
/// - Salesforce still holds the last-synced value, a value crmmap sent, or nothing was synced
///   yet: the monday change is written;
/// - both changed: the policy decides ([`winner`]: `newest` compares the monday change's time
///   with the record's last modification; a tie or an unknown time goes to Salesforce).
///
/// ```
/// use crmmap_dsl::model::ConflictPolicy;
/// use crmmap_engine::conflict::{FieldUpdate, UpdateDecision, decide_update};
/// use crmmap_engine::value::Value;
/// let (last, wanted, current) = (Value::text("a"), Value::text("b"), Value::text("c"));
/// let update = FieldUpdate { wanted: &wanted, current: &current, last_synced: Some(&last),
///     sent: &[], monday_changed_at: None, salesforce_changed_at: None };
/// assert_eq!(decide_update(ConflictPolicy::PreferSalesforce, &update), UpdateDecision::SalesforceWins);
/// assert_eq!(decide_update(ConflictPolicy::PreferMonday, &update), UpdateDecision::MondayWins);
/// ```
pub fn decide_update(policy: ConflictPolicy, update: &FieldUpdate<'_>) -> UpdateDecision {
    let current = update.current;
    if same(current, update.wanted) {
        return UpdateDecision::AlreadyHeld;
    }
    let unchanged_in_salesforce = update.last_synced.is_none_or(|last| same(current, last))
        || update.sent.iter().any(|sent| same(current, sent));
    if unchanged_in_salesforce {
        return UpdateDecision::Unopposed;
    }
    match winner(
        policy,
        update.monday_changed_at,
        update.salesforce_changed_at,
    ) {
        Winner::Monday => UpdateDecision::MondayWins,
        Winner::Salesforce => UpdateDecision::SalesforceWins,
    }
}

/// Whether two values of one field are the same, compared in the kind either carries (text
/// when both are null).
///
/// ```
/// use crmmap_engine::conflict::same;
/// use crmmap_engine::value::Value;
/// assert!(same(&Value::Null, &Value::text("")));
/// assert!(!same(&Value::text("a"), &Value::text("b")));
/// ```
pub fn same(a: &Value, b: &Value) -> bool {
    let kind = a.kind().or(b.kind()).unwrap_or(Kind::Text);
    a.same_as(b, kind)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const EARLY: Option<OffsetDateTime> = Some(datetime!(2024-01-01 10:00 UTC));
    const LATE: Option<OffsetDateTime> = Some(datetime!(2024-01-01 11:00 UTC));

    /// Decides `wanted` against `current`, with the last-synced value (`None`: never synced)
    /// and the values sent.
    fn run(
        policy: ConflictPolicy,
        (wanted, current, last): (&str, &str, Option<&str>),
        sent: &[&str],
        times: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    ) -> UpdateDecision {
        let (wanted, current) = (Value::text(wanted), Value::text(current));
        let last = last.map(Value::text);
        let sent: Vec<Value> = sent.iter().map(|s| Value::text(*s)).collect();
        decide_update(
            policy,
            &FieldUpdate {
                wanted: &wanted,
                current: &current,
                last_synced: last.as_ref(),
                sent: &sent,
                monday_changed_at: times.0,
                salesforce_changed_at: times.1,
            },
        )
    }

    #[test]
    fn a_value_salesforce_holds_is_not_written() {
        let p = ConflictPolicy::PreferMonday;
        let d = run(p, ("b", "b", Some("a")), &[], (None, None));
        assert_eq!(d, UpdateDecision::AlreadyHeld);
        assert!(!d.writes());
    }

    #[test]
    fn a_field_salesforce_did_not_change_is_written() {
        let p = ConflictPolicy::PreferSalesforce;
        for (last, sent) in [
            (Some("a"), &[][..]),
            (None, &[][..]),
            (Some("x"), &["y", "a"][..]),
        ] {
            let d = run(p, ("b", "a", last), sent, (None, None));
            assert_eq!(d, UpdateDecision::Unopposed, "{last:?} {sent:?}");
            assert!(d.writes());
        }
    }

    #[test]
    fn the_policy_breaks_a_real_conflict() {
        use ConflictPolicy::{PreferMonday as M, PreferNewest as N, PreferSalesforce as S};
        use UpdateDecision::{MondayWins, SalesforceWins};
        let sides = ("b", "c", Some("a"));
        let cases = [
            (M, (None, None), MondayWins),
            (S, (LATE, EARLY), SalesforceWins),
            (N, (LATE, EARLY), MondayWins),
            (N, (EARLY, LATE), SalesforceWins),
            (N, (LATE, LATE), SalesforceWins),
            (N, (None, LATE), SalesforceWins),
        ];
        for (policy, times, want) in cases {
            assert_eq!(
                run(policy, sides, &["x"], times),
                want,
                "{policy:?} {times:?}"
            );
        }
        assert!(!UpdateDecision::SalesforceWins.writes());
    }
}
