//! Field transforms per second on the Lead-like plan, single thread.
//!
//! Run with `cargo bench -p crmmap-engine --bench eval`. A field transform is one field of one
//! record taken from Salesforce JSON to monday JSON (read, steps backward, conversion,
//! comparison with the prior value, write), or one monday value to Salesforce JSON.

#[path = "../tests/integration/lead.rs"]
mod lead;

use std::hint::black_box;
use std::time::{Duration, Instant};

use crmmap_engine::compile;
use crmmap_engine::eval;
use crmmap_engine::transform::EmptyEnv;
use crmmap_engine::value::{Value, salesforce};
use serde_json::json;
use time::macros::{date, datetime};

/// Runs `f` (which performs `per_call` transforms) for about `budget`; returns transforms/s.
fn measure(budget: Duration, per_call: usize, mut f: impl FnMut()) -> f64 {
    // Warm up.
    for _ in 0..1_000 {
        f();
    }
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1_000 {
            f();
        }
        calls += 1_000;
    }
    let secs = start.elapsed().as_secs_f64();
    (calls as f64 * per_call as f64) / secs
}

fn main() {
    let plans = compile(&lead::model());
    let plan = plans.plan("Lead").unwrap();
    let record = json!({
        "Id": "00Q5e00000AbCdEFGH",
        "Company": "Acme Library",
        "LastName": "Lovelace",
        "FirstName": "Ada",
        "Website": "https://acme.example.org",
        "CreatedDate": "2024-07-02T08:30:00.000+0000",
        "State": "California;Texas",
        "Email": "ada@example.org",
        "Status": "Open",
        "Sector__c": "Library",
        "IsConverted": false,
        "Capacity_Building_Needs__c": "Curriculum;Other",
        "Main_Challenges__c": "Funding\nStaff",
        "AnnualRevenue": 125000.5,
        "Follow_Up__c": "2024-07-01",
        "Is_Partner__c": true
    });
    let record = record.as_object().unwrap().clone();
    let now = datetime!(2024-06-15 12:00 UTC);
    let to_monday_fields = plan.fields_to_monday().count();
    let budget = Duration::from_secs(2);

    let rate = measure(budget, to_monday_fields, || {
        black_box(eval::record_to_item(black_box(plan), black_box(&record), None, now).unwrap());
    });
    println!(
        "salesforce -> monday: {rate:>12.0} field transforms/s ({to_monday_fields} fields per record)"
    );

    let env = EmptyEnv {
        today: date!(2024 - 06 - 15),
    };
    let inputs: Vec<(usize, Value)> = vec![
        (6, Value::text("Qualified")),
        (9, Value::labels(["Curriculum Development", "Other"])),
        (4, Value::labels(["Texas", "California"])),
        (12, crmmap_engine::transform::number("10.456").unwrap()),
        (13, Value::Date(date!(2024 - 07 - 01))),
        (0, Value::text("Lovelace")),
    ];
    let rate = measure(budget, inputs.len(), || {
        for (i, v) in &inputs {
            let f = &plan.fields[*i];
            let sf = f.value_to_salesforce(v.clone(), &env).unwrap();
            black_box(salesforce::write(f.field_type, &sf).unwrap());
        }
    });
    println!("monday -> salesforce: {rate:>12.0} field transforms/s");
}
