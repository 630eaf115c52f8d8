//! `check` on a generated mapping with 10,000 field lines (parse + check, as `crmmap check` does).
//!
//! Run with `cargo bench -p crmmap-dsl --bench check`. Prints the median of several runs.

use std::time::Instant;

use crmmap_dsl::SourceMap;

fn generated(fields: usize) -> String {
    let mut s = String::from(
        "object Big {\n  salesforce Big__c\n  board 1\n  key text_id\n  select where \"Active__c = true\"\n  name <-> Name\n",
    );
    let kinds = [
        ("text", "<->", "string", ""),
        ("status", "<->", "picklist", ""),
        ("dropdown", "<->", "multipicklist", " | translate(labels)"),
        (
            "dropdown",
            "->",
            "string",
            " | translate(labels) | join(\";\")",
        ),
        ("numbers", "<-", "currency", ""),
        ("date", "<->", "date", ""),
        ("long_text", "<->", "textarea", " | trim"),
        ("email", "<->", "email", ""),
    ];
    for i in 0..fields {
        let (ty, arrow, sf, steps) = kinds[i % kinds.len()];
        s.push_str(&format!(
            "  field {ty}_{i:05} : {ty} {arrow} Field_{i:05}__c : {sf}{steps}\n"
        ));
    }
    s.push_str("}\n\ntranslate labels {\n");
    for i in 0..50 {
        s.push_str(&format!("  \"Value {i}\" = \"Label {i}\"\n"));
    }
    s.push_str("}\n");
    s
}

fn main() {
    let text = generated(10_000);
    let lines = text.lines().count();
    let mut times = Vec::new();
    for _ in 0..15 {
        let mut map = SourceMap::new();
        map.add("big.crmmap", text.as_str());
        let start = Instant::now();
        let checked = crmmap_dsl::check_sources(&map);
        times.push(start.elapsed());
        assert!(
            checked.diagnostics.is_empty(),
            "{:?}",
            checked.diagnostics.first()
        );
        assert_eq!(checked.model.unwrap().objects[0].fields.len(), 10_000);
    }
    times.sort();
    println!(
        "check: {} lines, 10000 field lines, {} bytes: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        lines,
        text.len(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
}
