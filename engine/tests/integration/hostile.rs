//! Properties: no outside value takes evaluation down.
//!
//! Arbitrary Unicode text and arbitrary JSON (with the keys monday and Salesforce use, huge and
//! edge-case numbers, deep nesting) go to every value parser and conversion, every monday
//! column read and write (with and without label settings), every transform both ways, and
//! the shipped plans' webhook evaluation. Each returns a value or an error, never a panic;
//! where a law holds (what parses re-renders and re-parses alike, what is written reads back),
//! it is asserted too.

use std::sync::LazyLock;

use crmmap_dsl::model::{ColumnType, Kind, SfType};
use crmmap_engine::PlanSet;
use crmmap_engine::library::{example_step, library};
use crmmap_engine::plan::{ExprPlan, StepPlan};
use crmmap_engine::transform::{EmptyEnv, Flow, apply, evaluate, to_column_kind};
use crmmap_engine::value::monday::{self, ColumnRead, LabelSettings};
use crmmap_engine::value::{self, Number, Value, salesforce};
use crmmap_ids::ColumnId;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use time::macros::date;
use time::{Date, OffsetDateTime, Time, UtcOffset};

#[path = "../shared/webhook_change.rs"]
mod webhook_change;

const KINDS: [Kind; 6] = [
    Kind::Text,
    Kind::Number,
    Kind::Bool,
    Kind::Date,
    Kind::DateTime,
    Kind::Labels,
];

const ENV: EmptyEnv = EmptyEnv {
    today: date!(2024 - 06 - 15),
};

/// Text of every sort: any Unicode, and near misses of numbers and dates with odd tails.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,12}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{2}(\\.[0-9]{0,40})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?\\PC{0,2}",
        "[ +-]?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,11})?\\PC{0,1}",
        "(team:)?[0-9é]{0,6}(;[a-zé ]{0,4}){0,3}",
        Just("2024-01-01T10:00:00.12345678é".to_owned()),
        Just("9999-12-31T23:00:00-05:00".to_owned()),
        Just("0e999999999".to_owned()),
    ]
}

/// Keys monday and Salesforce values use, so objects reach the readers' inner branches.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "value",
            "text",
            "label",
            "index",
            "date",
            "time",
            "checked",
            "ids",
            "labels",
            "chosenValues",
            "name",
            "personsAndTeams",
            "id",
            "kind",
            "linkedPulseIds",
            "linkedPulseId",
            "item_ids",
            "email",
            "phone",
            "url",
            "number",
            "changed_at",
            "bool",
            "datetime",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,4}",
    ]
}

fn number_json() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        prop::sample::select(vec![
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            -0.0,
            1e308,
            1e-308,
            1.7014118346046923e38,
            -1.7014118346046923e38,
        ])
        .prop_map(Json::from),
    ]
}

/// Arbitrary JSON, nested.
fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        number_json(),
        text().prop_map(Json::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

fn any_date() -> impl Strategy<Value = Date> {
    (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
        .prop_map(|d| Date::from_julian_day(d).unwrap_or(Date::MIN))
}

fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
    (
        any_date(),
        0u32..86_400,
        0u32..1_000_000_000,
        -93_599i32..=93_599,
    )
        .prop_map(|(d, s, n, o)| {
            let time =
                Time::from_hms_nano((s / 3600) as u8, (s / 60 % 60) as u8, (s % 60) as u8, n)
                    .unwrap_or(Time::MIDNIGHT);
            let offset = UtcOffset::from_whole_seconds(o).unwrap_or(UtcOffset::UTC);
            d.with_time(time).assume_offset(offset)
        })
}

/// Any value, including dates and instants far outside what either system writes.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        text().prop_map(Value::Text),
        text().prop_filter_map("not a number", |t| Number::parse(&t)
            .ok()
            .map(Value::Number)),
        any::<bool>().prop_map(Value::Bool),
        any_date().prop_map(Value::Date),
        any_instant().prop_map(Value::DateTime),
        prop::collection::vec(text(), 0..4).prop_map(Value::Labels),
    ]
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop::sample::select(ColumnType::ALL.to_vec())
}

fn sf_type() -> impl Strategy<Value = SfType> {
    prop::sample::select(SfType::ALL.to_vec())
}

/// Every step of the transform library, as its examples write it.
fn steps() -> Vec<StepPlan> {
    library()
        .iter()
        .flat_map(|t| t.examples.iter().map(example_step))
        .collect()
}

/// Label settings: none, the shapes monday sends, or anything.
fn settings() -> impl Strategy<Value = Option<LabelSettings>> {
    prop_oneof![
        Just(None),
        Just(Some(LabelSettings::from_settings(
            &json!({"labels": {"0": "Working on it", "1": "Done", "5": "é"}})
        ))),
        Just(Some(LabelSettings::from_settings(
            &json!({"labels": [{"id": 1, "name": "A"}, {"id": "2", "label": "B"}]})
        ))),
        json().prop_map(|j| Some(LabelSettings::from_settings(&json!({ "labels": j })))),
    ]
}

/// Whether every date a value holds has a four-digit year (the years both systems write).
fn in_calendar(v: &Value) -> bool {
    match v {
        Value::Date(d) => (0..=9999).contains(&d.year()),
        Value::DateTime(t) => t
            .checked_to_offset(UtcOffset::UTC)
            .is_some_and(|t| (0..=9999).contains(&t.year())),
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn numbers_parse_or_say_why(s in text()) {
        if let Ok(n) = Number::parse(&s) {
            // What parses re-renders and re-parses to the same number.
            prop_assert_eq!(Number::parse(&n.to_string()), Ok(n), "{:?}", s);
            let _ = n.to_json();
            let _ = n.round(2);
        }
    }

    #[test]
    fn dates_and_datetimes_parse_or_say_why(s in text()) {
        if let Ok(d) = value::parse_date(&s) {
            prop_assert_eq!(value::parse_date(&value::format_date(d)), Ok(d));
        }
        if let Ok(t) = value::parse_datetime(&s) {
            // The stored form keeps every nanosecond; Salesforce's keeps milliseconds.
            let stored = Value::DateTime(t).to_json();
            prop_assert_eq!(Value::from_json(&stored), Ok(Value::DateTime(t)), "{:?}", s);
            let shown = value::parse_datetime(&value::format_datetime(t));
            let millis = t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).ok();
            prop_assert_eq!(shown.ok(), millis, "{:?}", s);
        }
        let _ = value::parse_bool(&s);
    }

    #[test]
    fn conversions_give_the_kind_asked_for_or_an_error(v in any_value()) {
        for kind in KINDS {
            if let Ok(c) = v.convert(kind) {
                prop_assert!(c.kind().is_none_or(|k| k == kind), "{:?} as {:?}: {:?}", v, kind, c);
            }
            prop_assert!(v.same_as(&v, kind), "{:?} as {:?}", v, kind);
        }
        let _ = v.display();
        let _ = format!("{v:?}");
    }

    #[test]
    fn stored_values_read_back_or_say_why(j in json(), wrap in prop::sample::select(vec![
        "", "text", "number", "bool", "date", "datetime", "labels",
    ])) {
        let j = if wrap.is_empty() { j } else { json!({ wrap: j }) };
        if let Ok(v) = Value::from_json(&j) {
            prop_assert_eq!(Value::from_json(&v.to_json()), Ok(v));
        }
    }

    #[test]
    fn monday_reads_take_any_json(
        ct in column_type(),
        j in json(),
        shown in text(),
        labels in settings(),
    ) {
        let labels = labels.as_ref();
        let _ = monday::read_webhook(ct, &j, labels);
        // The API read: `value` is a JSON string there, or already parsed.
        for api in [
            json!({"text": shown, "value": j.to_string()}),
            json!({"text": shown, "value": j, "linked_item_ids": j, "values": j, "label": j}),
            j.clone(),
        ] {
            if let Ok(cv) = ColumnRead::from_api(&api) {
                let _ = monday::read(ct, &cv, labels);
            }
        }
        let _ = monday::read(ct, &ColumnRead { text: Some(shown), value: Some(j), ..ColumnRead::default() }, labels);
    }

    #[test]
    fn what_monday_is_written_reads_back(ct in column_type(), v in any_value()) {
        // Values reach a column in its kind (`to_column_kind`); what is written then reads
        // back as the same value.
        let Ok(v) = to_column_kind(v, ct) else { return Ok(()) };
        let Ok(written) = monday::write(ct, &v) else { return Ok(()) };
        if !in_calendar(&v) {
            return Ok(());
        }
        let back = monday::read_webhook(ct, &written, None);
        prop_assert!(
            back.as_ref().is_ok_and(|b| b.same_as(&v, ct.kind())),
            "{ct}: {v:?} -> {written} -> {back:?}"
        );
    }

    #[test]
    fn salesforce_reads_and_writes_take_anything(t in sf_type(), j in json(), v in any_value()) {
        let _ = salesforce::read(t, &j);
        let _ = salesforce::read_untyped(&j);
        let _ = salesforce::write_untyped(&v);
        if let Ok(written) = salesforce::write(t, &v) {
            // What is written to a field reads back with the field's type.
            if in_calendar(&v) {
                let back = salesforce::read(t, &written);
                prop_assert!(back.is_ok(), "{t}: {v:?} -> {written} -> {back:?}");
            }
        }
    }

    #[test]
    fn every_step_runs_both_ways_on_anything(v in any_value(), s in text()) {
        for step in steps() {
            for flow in [Flow::ToSalesforce, Flow::ToMonday] {
                let _ = apply(&step, v.clone(), flow, &ENV);
                let e = ExprPlan::Pipe(Box::new(ExprPlan::Str(s.clone())), vec![step.clone()]);
                let _ = evaluate(&e, &ENV, flow);
            }
        }
        let _ = evaluate(&ExprPlan::AddDays(Box::new(ExprPlan::Str(s.clone())), 1), &ENV, Flow::ToSalesforce);
        for ct in ColumnType::ALL {
            let _ = to_column_kind(v.clone(), *ct);
        }
    }
}

/// The shipped plans, compiled once.
static SHIPPED: LazyLock<PlanSet> = LazyLock::new(webhook_change::shipped_plans);

/// Every column of the shipped plans, as `(plan index, column)`.
fn shipped_columns() -> Vec<(usize, ColumnId)> {
    SHIPPED
        .plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.fields
                .iter()
                .map(|f| f.column.clone())
                .chain(p.links.iter().map(|l| l.column.clone()))
                .chain([p.key_column.clone(), ColumnId::from("unmapped")])
                .map(move |c| (i, c))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn shipped_plans_evaluate_any_webhook_change(
        at in prop::sample::select(shipped_columns()),
        value in json(),
        previous in json(),
        name in text(),
    ) {
        let Some(plan) = SHIPPED.plans.get(at.0) else { return Ok(()) };
        webhook_change::column_changed(plan, &at.1, &value, &previous);
        webhook_change::named(plan, &name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 250, ..ProptestConfig::default() })]

    #[test]
    fn shipped_plans_take_any_salesforce_record(
        plan_index in 0usize..4,
        fields in prop::collection::vec(json(), 1..8),
        id in prop_oneof![text().prop_map(Json::from), json()],
    ) {
        let Some(plan) = SHIPPED.plans.get(plan_index) else { return Ok(()) };
        let mut record = serde_json::Map::new();
        record.insert("Id".to_owned(), id);
        for (f, j) in plan.fields.iter().zip(fields.iter().cycle()) {
            record.insert(f.field.clone(), j.clone());
        }
        let _ = crmmap_engine::eval::record_to_item(plan, &record, None, webhook_change::NOW);
        let _ = crmmap_engine::eval::propagations(plan, &serde_json::Map::new(), &record, webhook_change::NOW);
        let _ = crmmap_engine::eval::rules_fired(plan, &serde_json::Map::new(), &record);
    }

    #[test]
    fn shipped_plans_take_any_api_item(
        plan_index in 0usize..4,
        values in prop::collection::vec((json(), text()), 1..8),
        name in text(),
    ) {
        let Some(plan) = SHIPPED.plans.get(plan_index) else { return Ok(()) };
        // `items { column_values { id text value } }` with anything in `text` and `value`.
        let columns: Vec<Json> = plan
            .fields
            .iter()
            .map(|f| f.column.clone())
            .chain([plan.key_column.clone()])
            .zip(values.iter().cycle())
            .map(|(id, (v, shown))| json!({"id": id, "text": shown, "value": v.to_string()}))
            .collect();
        let labels = std::collections::BTreeMap::new();
        if let Ok(item) = crmmap_engine::eval::item_from_api(plan, &name, &columns, &labels) {
            let _ = crmmap_engine::eval::item_to_create(plan, &item, webhook_change::NOW);
            let prior = crmmap_engine::eval::Prior::from_item(&item);
            let record = serde_json::Map::new();
            let _ = crmmap_engine::eval::record_to_item(plan, &record, Some(&prior), webhook_change::NOW);
        }
    }
}
