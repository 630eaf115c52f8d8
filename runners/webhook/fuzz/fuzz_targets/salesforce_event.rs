//! Any request body at `POST /events/salesforce` (or any EventBridge event the Lambda is given):
//! the change-event parser reads it or says why not, and an event of a mapped sObject goes
//! through the engine's decision and evaluation the runner makes, without panicking.
#![no_main]

use std::sync::LazyLock;

use crmmap_engine::PlanSet;
use crmmap_engine::change_event::{Apply, plan_change};
use crmmap_engine::eval;
use crmmap_webhook::salesforce::event;
use libfuzzer_sys::fuzz_target;

#[path = "../../../../engine/tests/shared/webhook_change.rs"]
#[expect(dead_code, reason = "this target needs only the shipped plans")]
mod webhook_change;

static PLANS: LazyLock<PlanSet> = LazyLock::new(webhook_change::shipped_plans);

fuzz_target!(|body: &[u8]| {
    let Ok(envelope) = event::parse(body) else {
        return;
    };
    let ev = &envelope.event;
    // The fuzzer rarely names a mapped sObject: an unmapped one goes through every plan.
    let mut plans: Vec<_> = PLANS.plans_for_sobject(&ev.entity).collect();
    if plans.is_empty() {
        plans = PLANS.plans.iter().collect();
    }
    let now = time::macros::datetime!(2026-12-07 12:00 UTC);
    for plan in plans {
        for id in &ev.record_ids {
            if let Apply::Write { record, with_name } = plan_change(plan, id, &ev.changed, &ev.values)
            {
                let _ = eval::record_part_to_update(plan, &record, None, now, with_name);
            }
        }
    }
});
