//! Conflict decisions: given the last-synced value and both sides' current values, which side
//! wins and whether anything needs writing.
//!
//! - [`decide`]: both sides of a field compared with the last-synced value;
//! - [`decide_update`]: a monday change on its way to a Salesforce record that changed since
//!   (what the webhook runner applies, field by field, after a conditional update failed);
//! - [`winner`]: the conflict policy, shared by both, when both sides changed.

use crmmap_dsl::model::{ConflictPolicy, Direction, Kind};
use time::OffsetDateTime;

use crate::error::EvalError;
use crate::plan::FieldPlan;
use crate::transform::Env;
use crate::value::Value;

mod update;

pub use update::{FieldUpdate, UpdateDecision, decide_update, same};

/// Both sides of a field, in one kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Sides<'a> {
    /// The value both sides agreed on at the last sync (`Null` if never synced).
    pub last_synced: &'a Value,
    /// The monday side's current value.
    pub monday: &'a Value,
    /// The Salesforce side's current value.
    pub salesforce: &'a Value,
    /// When the monday value last changed, if known.
    pub monday_changed_at: Option<OffsetDateTime>,
    /// When the Salesforce value last changed, if known.
    pub salesforce_changed_at: Option<OffsetDateTime>,
}

/// What to do with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changed, or both sides already agree.
    InSync,
    /// Copy the monday value to Salesforce.
    ToSalesforce,
    /// Copy the Salesforce value to monday.
    ToMonday,
}

/// The side that wins a real conflict (both sides changed since the last sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Winner {
    /// The monday value is kept (and copied to Salesforce).
    Monday,
    /// The Salesforce value is kept (and copied to monday).
    Salesforce,
}

/// Which side wins when both changed, under `policy`: `salesforce`, `monday`, or for `newest`
/// the later change (on a tie or a missing time Salesforce wins, as the system of record).
///
/// ```
/// use crmmap_dsl::model::ConflictPolicy;
/// use crmmap_engine::conflict::{Winner, winner};
/// let (early, late) = (time::macros::datetime!(2024-01-01 10:00 UTC), time::macros::datetime!(2024-01-01 11:00 UTC));
/// assert_eq!(winner(ConflictPolicy::PreferNewest, Some(late), Some(early)), Winner::Monday);
/// assert_eq!(winner(ConflictPolicy::PreferNewest, Some(late), None), Winner::Salesforce);
/// ```
pub fn winner(
    policy: ConflictPolicy,
    monday_changed_at: Option<OffsetDateTime>,
    salesforce_changed_at: Option<OffsetDateTime>,
) -> Winner {
    match policy {
        ConflictPolicy::PreferSalesforce => Winner::Salesforce,
        ConflictPolicy::PreferMonday => Winner::Monday,
        ConflictPolicy::PreferNewest => match (monday_changed_at, salesforce_changed_at) {
            (Some(m), Some(s)) if m > s => Winner::Monday,
            _ => Winner::Salesforce,
        },
    }
}

/// Decides a field of `kind` under `policy`, for data flowing `direction`.
///
/// - a side changed when its value is not the same as the last-synced one ([`Value::same_as`]);
/// - when both sides agree there is nothing to write, whatever changed;
/// - when only one side changed, it wins (if data may flow from it);
/// - when both changed, the policy decides ([`winner`]).
///
/// ```
/// use crmmap_dsl::model::{ConflictPolicy, Direction, Kind};
/// use crmmap_engine::conflict::{Decision, Sides, decide};
/// use crmmap_engine::value::Value;
/// let (last, m, s) = (Value::text("a"), Value::text("b"), Value::text("a"));
/// let sides = Sides { last_synced: &last, monday: &m, salesforce: &s,
///     monday_changed_at: None, salesforce_changed_at: None };
/// assert_eq!(decide(ConflictPolicy::PreferSalesforce, Direction::Both, Kind::Text, &sides), Decision::ToSalesforce);
/// ```
pub fn decide(
    policy: ConflictPolicy,
    direction: Direction,
    kind: Kind,
    sides: &Sides<'_>,
) -> Decision {
    if sides.monday.same_as(sides.salesforce, kind) {
        return Decision::InSync;
    }
    let monday_changed = !sides.monday.same_as(sides.last_synced, kind);
    let salesforce_changed = !sides.salesforce.same_as(sides.last_synced, kind);
    let winner = match (monday_changed, salesforce_changed) {
        (false, false) => {
            // Both equal the last-synced value yet differ from each other: cannot happen with a
            // consistent comparison; prefer the system of record.
            Decision::ToMonday
        }
        (true, false) => Decision::ToSalesforce,
        (false, true) => Decision::ToMonday,
        (true, true) => {
            match winner(policy, sides.monday_changed_at, sides.salesforce_changed_at) {
                Winner::Monday => Decision::ToSalesforce,
                Winner::Salesforce => Decision::ToMonday,
            }
        }
    };
    // One-way fields only ever copy along their arrow.
    match (winner, direction) {
        (Decision::ToSalesforce, Direction::ToMonday) => {
            if salesforce_changed || monday_changed {
                // monday drifted from the source: restore it.
                Decision::ToMonday
            } else {
                Decision::InSync
            }
        }
        (Decision::ToMonday, Direction::ToSalesforce) => {
            if monday_changed {
                Decision::ToSalesforce
            } else {
                Decision::InSync
            }
        }
        (d, _) => d,
    }
}

impl FieldPlan {
    /// Decides this field from a last-synced and current Salesforce value (field kind) and the
    /// current monday value (column kind), under the field's policy and direction.
    pub fn decide(
        &self,
        last_synced: &Value,
        monday: &Value,
        salesforce: &Value,
        times: (Option<OffsetDateTime>, Option<OffsetDateTime>),
        env: &dyn Env,
    ) -> Result<Decision, EvalError> {
        let monday_sf = self.value_to_salesforce(monday.clone(), env)?;
        let sides = Sides {
            last_synced,
            monday: &monday_sf,
            salesforce,
            monday_changed_at: times.0,
            salesforce_changed_at: times.1,
        };
        Ok(decide(
            self.conflict,
            self.direction,
            self.field_type.kind(),
            &sides,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn run(policy: ConflictPolicy, direction: Direction, last: &str, m: &str, s: &str) -> Decision {
        run_at(policy, direction, last, m, s, None, None)
    }

    fn run_at(
        policy: ConflictPolicy,
        direction: Direction,
        last: &str,
        m: &str,
        s: &str,
        mt: Option<OffsetDateTime>,
        st: Option<OffsetDateTime>,
    ) -> Decision {
        let (last, m, s) = (Value::text(last), Value::text(m), Value::text(s));
        let sides = Sides {
            last_synced: &last,
            monday: &m,
            salesforce: &s,
            monday_changed_at: mt,
            salesforce_changed_at: st,
        };
        decide(policy, direction, Kind::Text, &sides)
    }

    #[test]
    fn unchanged_or_agreeing_sides_write_nothing() {
        for p in [
            ConflictPolicy::PreferSalesforce,
            ConflictPolicy::PreferMonday,
            ConflictPolicy::PreferNewest,
        ] {
            assert_eq!(run(p, Direction::Both, "a", "a", "a"), Decision::InSync);
            assert_eq!(run(p, Direction::Both, "a", "b", "b"), Decision::InSync);
            assert_eq!(run(p, Direction::Both, "", "", ""), Decision::InSync);
        }
    }

    #[test]
    fn the_side_that_changed_wins() {
        let p = ConflictPolicy::PreferSalesforce;
        assert_eq!(
            run(p, Direction::Both, "a", "b", "a"),
            Decision::ToSalesforce
        );
        assert_eq!(run(p, Direction::Both, "a", "a", "c"), Decision::ToMonday);
    }

    #[test]
    fn policies_break_real_conflicts() {
        use ConflictPolicy::{PreferMonday as M, PreferNewest as N, PreferSalesforce as S};
        use Decision::{ToMonday, ToSalesforce};
        let early = Some(datetime!(2024-01-01 10:00 UTC));
        let late = Some(datetime!(2024-01-01 11:00 UTC));
        let cases = [
            (S, (None, None), ToMonday),
            (M, (None, None), ToSalesforce),
            (N, (late, early), ToSalesforce),
            (N, (early, late), ToMonday),
            (N, (late, late), ToMonday),
            (N, (late, None), ToMonday),
        ];
        for (policy, (mt, st), want) in cases {
            let got = run_at(policy, Direction::Both, "a", "b", "c", mt, st);
            assert_eq!(got, want, "{policy:?} {mt:?} {st:?}");
        }
    }

    #[test]
    fn one_way_fields_copy_along_their_arrow_only() {
        use ConflictPolicy::{PreferMonday as M, PreferSalesforce as S};
        use Decision::{InSync, ToMonday, ToSalesforce};
        let cases = [
            // `<-`: a monday edit is overwritten by the source.
            (M, Direction::ToMonday, "b", "a", ToMonday),
            (M, Direction::ToMonday, "b", "c", ToMonday),
            // `->`: Salesforce edits do not flow back.
            (S, Direction::ToSalesforce, "a", "c", InSync),
            (S, Direction::ToSalesforce, "b", "c", ToSalesforce),
        ];
        for (policy, direction, m, s, want) in cases {
            let got = run(policy, direction, "a", m, s);
            assert_eq!(got, want, "{policy:?} {direction:?} {m} {s}");
        }
    }
}
