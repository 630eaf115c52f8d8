//! Properties: every two-way field round-trips, and equal values never produce writes.
//!
//! For every (column type, field type, steps) combination the language allows (the checker's
//! kind rules, restated below), a value that reached Salesforce from monday comes back the same
//! after Salesforce → monday → Salesforce, through both systems' JSON formats.
//!
//! `first_names` and `last_name` are left out: they drop words, and the checker rejects them
//! (like `round`) on two-way fields (E0403). `round` is kept: it round-trips anyway.

use crmmap_dsl::model::*;
use crmmap_engine::compile;
use crmmap_engine::eval::{self, Prior};
use crmmap_engine::plan::FieldPlan;
use crmmap_engine::transform::EmptyEnv;
use crmmap_engine::value::{Number, Value, monday, salesforce};
use crmmap_ids::ColumnId;
use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};

/// The checker's rule for the kind after a step (the registry's `Transform::output`).
fn through(step: &Step, input: Kind) -> Option<Kind> {
    use Kind::*;
    match (step, input) {
        (Step::Translate(_) | Step::Trim | Step::Upper | Step::Lower, Text | Labels) => Some(input),
        (Step::Join(_), Labels) => Some(Text),
        (Step::Split(_), Text) => Some(Labels),
        (Step::Capitalize | Step::FirstNames | Step::LastName, Text) => Some(Text),
        // The checker requires the default's value to have the input's kind; the tests use a
        // text default.
        (Step::Default(_), Text) => Some(Text),
        (Step::FormatDate(_), Text) => Some(Date),
        (Step::Round(_), Number) => Some(Number),
        _ => None,
    }
}

/// The checker's rule for which kinds can be stored in which (dsl `check::kinds::compatible`).
fn compatible(monday: Kind, sf: Kind) -> bool {
    use Kind::*;
    match (monday, sf) {
        (a, b) if a == b => true,
        (Text, _) | (_, Text) if monday != Labels => true,
        (Date, DateTime) | (DateTime, Date) => true,
        (Text, Labels) => true,
        _ => false,
    }
}

fn step_sets() -> Vec<Vec<Step>> {
    let tr = || Step::Translate("labels".into());
    vec![
        vec![],
        vec![tr()],
        vec![Step::Join(";".into())],
        vec![Step::Join(", ".into())],
        vec![tr(), Step::Join(";".into())],
        vec![Step::Split(";".into())],
        vec![Step::Split(";".into()), tr()],
        vec![Step::Trim],
        vec![Step::Upper],
        vec![Step::Lower],
        vec![Step::Capitalize],
        vec![Step::Trim, Step::Capitalize],
        vec![Step::Default(Box::new(Expr::Str("n/a".into())))],
        vec![Step::FormatDate("DD/MM/YYYY".into())],
        vec![Step::FormatDate("YYYY-MM-DD hh:mm:ss".into())],
        vec![Step::Round(2)],
        vec![Step::Round(0)],
    ]
}

/// Every allowed two-way combination.
fn combos() -> Vec<(ColumnType, SfType, Vec<Step>)> {
    let mut out = Vec::new();
    for &ct in ColumnType::ALL {
        if ct == ColumnType::BoardRelation {
            continue; // only in links
        }
        for &ft in SfType::ALL {
            for steps in step_sets() {
                let mut kind = Some(ct.kind());
                for s in &steps {
                    kind = kind.and_then(|k| through(s, k));
                }
                if kind.is_some_and(|k| compatible(k, ft.kind())) {
                    out.push((ct, ft, steps));
                }
            }
        }
    }
    out
}

fn field_plan(ct: ColumnType, ft: SfType, steps: Vec<Step>) -> FieldPlan {
    let origin = Origin {
        file: "prop.crmmap".into(),
        line: 1,
        column: 1,
    };
    let model = Model {
        translates: vec![TranslateTable {
            name: "labels".into(),
            pairs: vec![
                ("Curriculum".into(), "Curriculum Development".into()),
                (
                    "Train the trainer".into(),
                    "Digital Navigator and/or Instructor Training".into(),
                ),
                ("Open".into(), "Working on it".into()),
            ],
            origin: origin.clone(),
        }],
        objects: vec![Object {
            name: "X".into(),
            sobject: "X__c".into(),
            board: 1,
            key_column: "key".into(),
            selections: vec![],
            record_type: None,
            name_to_monday: None,
            name_to_salesforce: vec![],
            on_create: vec![],
            on_delete: DeletePolicy::Log,
            on_salesforce_delete: ItemDeletePolicy::Log,
            conflict: ConflictPolicy::PreferSalesforce,
            fields: vec![Field {
                column: "col".into(),
                column_type: ct,
                direction: Direction::Both,
                field: "F__c".into(),
                field_type: ft,
                steps,
                conflict: None,
                create_labels: false,
                origin: origin.clone(),
            }],
            links: vec![],
            rules: vec![],
            origin,
        }],
    };
    compile(&model).plans.remove(0).fields.remove(0)
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9]([A-Za-z0-9 /-]{0,8}[A-Za-z0-9])?",
        Just("Curriculum Development".to_owned()),
        Just("Curriculum".to_owned()),
        Just("Working on it".to_owned()),
        Just("Open".to_owned()),
    ]
}

fn day() -> impl Strategy<Value = Date> {
    (0i64..40_000).prop_map(|d| date!(1970 - 01 - 01) + Duration::days(d))
}

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (day(), 0i64..86_400).prop_map(|(d, s)| d.midnight().assume_utc() + Duration::seconds(s))
}

fn number() -> impl Strategy<Value = Number> {
    (-1_000_000_000_000i64..1_000_000_000_000, 0u32..5)
        .prop_map(|(m, scale)| Number::parse(&format!("{m}e-{scale}")).unwrap())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-zéß İ]{0,6}",
        label(),
        number().prop_map(|n| n.to_string()),
        day().prop_map(|d| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())),
        day().prop_map(|d| d.to_string()),
        instant().prop_map(|t| format!(
            "{} {:02}:{:02}:{:02}",
            t.date(),
            t.hour(),
            t.minute(),
            t.second()
        )),
        Just("true".to_owned()),
        Just("false".to_owned()),
        prop::collection::vec(label(), 1..4).prop_map(|l| l.join(";")),
    ]
}

/// A value a monday column of this type can hold.
fn monday_value(ct: ColumnType) -> BoxedStrategy<Value> {
    let labels = |s: BoxedStrategy<String>| {
        prop::collection::vec(s, 0..4)
            .prop_map(Value::Labels)
            .boxed()
    };
    match ct {
        ColumnType::Numbers => {
            prop_oneof![Just(Value::Null), number().prop_map(Value::Number)].boxed()
        }
        ColumnType::Dropdown => labels(label().boxed()),
        ColumnType::People => {
            labels(prop_oneof!["[1-9][0-9]{0,9}", "team:[1-9][0-9]{0,5}"].boxed())
        }
        ColumnType::Date => prop_oneof![
            Just(Value::Null),
            day().prop_map(Value::Date),
            instant().prop_map(Value::DateTime),
        ]
        .boxed(),
        ColumnType::Checkbox => {
            prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool)].boxed()
        }
        _ => text()
            .prop_map(|t| {
                if t.is_empty() {
                    Value::Null
                } else {
                    Value::Text(t)
                }
            })
            .boxed(),
    }
}

/// What Salesforce stores for a value: written as JSON and read back.
fn stored_in_salesforce(ft: SfType, v: &Value) -> Value {
    let json = salesforce::write(ft, v).unwrap();
    salesforce::read(ft, &json).unwrap()
}

/// What monday stores for a value: written as JSON and read back.
fn stored_in_monday(ct: ColumnType, v: &Value) -> Value {
    let json = monday::write(ct, v).unwrap();
    monday::read_webhook(ct, &json, None).unwrap()
}

fn case() -> impl Strategy<Value = ((ColumnType, SfType, Vec<Step>), Value)> {
    let all = combos();
    (0..all.len()).prop_flat_map(move |i| {
        let c = all[i].clone();
        let ct = c.0;
        (Just(c), monday_value(ct))
    })
}

const ENV: EmptyEnv = EmptyEnv {
    today: date!(2024 - 06 - 15),
};

#[test]
fn every_allowed_pairing_is_covered() {
    let all = combos();
    // Each column type pairs with some field type, and some combination uses each step set.
    for &ct in ColumnType::ALL
        .iter()
        .filter(|c| **c != ColumnType::BoardRelation)
    {
        assert!(all.iter().any(|c| c.0 == ct), "{ct}");
    }
    for steps in step_sets() {
        assert!(all.iter().any(|c| c.2 == steps), "{steps:?}");
    }
    assert!(all.len() > 300, "{}", all.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn two_way_fields_round_trip(((ct, ft, steps), m) in case()) {
        let fp = field_plan(ct, ft, steps.clone());
        // Input monday cannot turn into this field's kind is a runtime error, not a round trip.
        let Ok(v) = fp.value_to_salesforce(m.clone(), &ENV) else { return Ok(()) };
        let v = stored_in_salesforce(ft, &v);
        // `default` fills empty values in both directions: an empty Salesforce value becomes
        // the default by design (it can only get there from text that empties on conversion).
        if v.is_empty() && steps.iter().any(|s| matches!(s, Step::Default(_))) {
            return Ok(());
        }
        let back = fp.value_to_monday(v.clone(), &ENV);
        prop_assert!(back.is_ok(), "{ct} {ft} {steps:?}: {m:?} -> {v:?} -> {back:?}");
        let mv = stored_in_monday(ct, &back.unwrap());
        let again = fp.value_to_salesforce(mv.clone(), &ENV);
        prop_assert!(again.is_ok(), "{ct} {ft} {steps:?}: {m:?} -> {v:?} -> {mv:?} -> {again:?}");
        let v2 = stored_in_salesforce(ft, &again.unwrap());
        prop_assert!(
            v2.same_as(&v, ft.kind()),
            "{ct} {ft} {steps:?}: {m:?} -> {v:?} -> {mv:?} -> {v2:?}"
        );
    }

    #[test]
    fn what_monday_already_holds_is_never_written(((ct, ft, steps), m) in case()) {
        let fp = field_plan(ct, ft, steps);
        let Ok(v) = fp.value_to_salesforce(m, &ENV) else { return Ok(()) };
        let v = stored_in_salesforce(ft, &v);
        // monday holds what the record maps to; the same record again writes nothing.
        let held = stored_in_monday(ct, &fp.value_to_monday(v.clone(), &ENV).unwrap());
        let record = serde_json::json!({ "F__c": salesforce::write(ft, &v).unwrap() });
        let single = single_field_plan(fp);
        let prior = Prior { columns: [(ColumnId::from("col"), held)].into_iter().collect(), ..Prior::default() };
        let w = eval::record_to_item(&single, record.as_object().unwrap(), Some(&prior), OffsetDateTime::UNIX_EPOCH).unwrap();
        prop_assert!(w.column_values.is_empty(), "{w:?}");
    }

    #[test]
    fn equal_values_never_write_to_salesforce(((ct, ft, steps), m) in case(), reorder in any::<bool>()) {
        let fp = field_plan(ct, ft, steps);
        let single = single_field_plan(fp.clone());
        // The same value, possibly written differently (labels reordered), changes nothing.
        let other = match (&m, reorder) {
            (Value::Labels(l), true) => Value::Labels(l.iter().rev().cloned().collect()),
            (v, _) => v.clone(),
        };
        let w = eval::column_change(&single, &ColumnId::from("col"), &other, &m, None, OffsetDateTime::UNIX_EPOCH);
        prop_assert!(matches!(w, Ok(None)), "{w:?}");
        // And Salesforce already holding the value suppresses the write.
        if let Ok(v) = fp.value_to_salesforce(m.clone(), &ENV) {
            let current = salesforce::write(ft, &v).unwrap();
            let w = eval::column_change(&single, &ColumnId::from("col"), &m, &Value::text("\u{1}old"), Some(&current), OffsetDateTime::UNIX_EPOCH);
            prop_assert!(matches!(w, Ok(None)), "{ct} {ft}: {m:?} vs {current}: {w:?}");
        }
    }

    #[test]
    fn stored_values_read_back_exactly(
        v in prop_oneof![
            Just(Value::Null),
            text().prop_map(Value::Text),
            number().prop_map(Value::Number),
            any::<bool>().prop_map(Value::Bool),
            day().prop_map(Value::Date),
            (instant(), 0u32..1_000_000_000).prop_map(|(t, ns)| Value::DateTime(t.replace_nanosecond(ns).unwrap())),
            prop::collection::vec(label(), 0..4).prop_map(Value::Labels),
        ]
    ) {
        prop_assert_eq!(Value::from_json(&v.to_json()).unwrap(), v);
    }

    #[test]
    fn comparison_is_reflexive_and_symmetric(a in monday_value(ColumnType::Dropdown), b in monday_value(ColumnType::Dropdown)) {
        prop_assert!(a.same_as(&a, Kind::Labels));
        prop_assert_eq!(a.same_as(&b, Kind::Labels), b.same_as(&a, Kind::Labels));
    }

    #[test]
    fn numbers_compare_by_value(n in number(), zeros in 0usize..4) {
        let text = n.to_string();
        let padded = if text.contains('.') { format!("{text}{}", "0".repeat(zeros)) } else { format!("{text}.{}", "0".repeat(zeros + 1)) };
        prop_assert!(Value::Number(n).same_as(&Value::text(padded), Kind::Number));
        prop_assert!(Value::Number(n).same_as(&Value::Number(Number::from_f64(n.to_f64()).unwrap()), Kind::Number) || text.len() > 15);
    }
}

/// A plan with one field, ready for `eval`.
fn single_field_plan(fp: FieldPlan) -> crmmap_engine::Plan {
    let mut plans = compile(&Model {
        translates: vec![],
        objects: vec![Object {
            name: "X".into(),
            sobject: "X__c".into(),
            board: 1,
            key_column: "key".into(),
            selections: vec![],
            record_type: None,
            name_to_monday: None,
            name_to_salesforce: vec![],
            on_create: vec![],
            on_delete: DeletePolicy::Log,
            on_salesforce_delete: ItemDeletePolicy::Log,
            conflict: ConflictPolicy::PreferSalesforce,
            fields: vec![],
            links: vec![],
            rules: vec![],
            origin: Origin {
                file: "prop.crmmap".into(),
                line: 1,
                column: 1,
            },
        }],
    });
    let mut plan = plans.plans.remove(0);
    plan.fields.push(fp);
    plan
}
