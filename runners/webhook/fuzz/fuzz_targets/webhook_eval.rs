//! Any request body: the webhook parser reads it or says why not, and an event for a board of
//! the shipped mappings evaluates on its plan, with the engine calls the runner makes, without
//! panicking (stored values read back, written fields read back with their types).
#![no_main]

use std::sync::LazyLock;

use crmmap_engine::PlanSet;
use crmmap_webhook::event::{self, EventKind, Incoming};
use libfuzzer_sys::fuzz_target;

#[path = "../../../../engine/tests/shared/webhook_change.rs"]
mod webhook_change;

static PLANS: LazyLock<PlanSet> = LazyLock::new(webhook_change::shipped_plans);

fuzz_target!(|body: &[u8]| {
    let Ok(Incoming::Event(ev)) = event::parse(body) else {
        return;
    };
    // An unmapped board is answered without evaluation; the fuzzer's board ids rarely hit a
    // mapped one, so every plan sees the event.
    let plans: Vec<_> = match PLANS.plan_for_board(ev.board_id) {
        Some(plan) => vec![plan],
        None => PLANS.plans.iter().collect(),
    };
    for plan in plans {
        match &ev.kind {
            EventKind::ColumnChanged {
                column,
                value,
                previous,
            } => {
                webhook_change::column_changed(plan, column, value, previous);
                // The fuzzer rarely spells a real column id: the same values on every column.
                for f in &plan.fields {
                    webhook_change::column_changed(plan, &f.column, value, previous);
                }
            }
            EventKind::Created { name }
            | EventKind::Renamed { name, .. }
            | EventKind::Deleted { name }
            | EventKind::Archived { name } => webhook_change::named(plan, name),
            EventKind::Other(_) => {}
        }
    }
});
