//! The shipped mappings reproduce the seed system exactly: every (column, field, direction,
//! transform) pair of `tests/fixtures/seed-mappings.toml` is in the compiled plans, and the plans
//! hold nothing else.
//!
//! How seed entries map onto plans:
//! - `to_salesforce` entries are `->` flows; `to_monday` entries are `<-` flows; a column in
//!   both is one `<->` field in the mappings and counts once per direction here;
//! - an entry whose field is `Id` is the object's key column (`key`), not a field;
//! - the seed's `join_labels` transform is a dropdown column flowing to Salesforce: the plan
//!   joins labels (an explicit `join(";")`, or natively into a `multipicklist`); the seed
//!   translated every dropdown label on the way to monday, so a dropdown flowing to monday must
//!   carry the shared translate table (crmmap applies it both ways);
//! - `links_to_salesforce` entries are `->` links; `links_to_monday` entries are `<-` links whose
//!   reference field is the one the seed's `source_col` received from Salesforce.

use std::collections::{BTreeMap, BTreeSet};

use crmmap_dsl::SourceMap;
use crmmap_dsl::model::{ColumnType, Direction, SfType};
use crmmap_engine::plan::{PlanSet, StepPlan};
use crmmap_tests::root;
use serde::Deserialize;

#[derive(Deserialize)]
struct Seed {
    objects: BTreeMap<String, SeedObject>,
    links_to_monday: Vec<SeedMondayLink>,
    dropdown_translations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct SeedObject {
    salesforce_object: String,
    board_id: String,
    salesforce_id_column: String,
    record_type_id_on_create: Option<String>,
    select_conditions_or: Vec<String>,
    #[serde(default)]
    to_salesforce: BTreeMap<String, (String, String, String)>,
    #[serde(default)]
    to_monday: BTreeMap<String, String>,
    #[serde(default)]
    links_to_salesforce: BTreeMap<String, (String, String)>,
}

#[derive(Deserialize)]
struct SeedMondayLink {
    source_board: String,
    source_col: String,
    target_board: String,
    connect_col: String,
}

/// `(object, column, field, direction, transform)`.
type Pair = (String, String, String, &'static str, &'static str);
/// `(object, column, target object, reference field, direction)`.
type LinkPair = (String, String, String, String, &'static str);

fn seed() -> Seed {
    let path = root().join("tests/fixtures/seed-mappings.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn plans() -> PlanSet {
    let mut map = SourceMap::new();
    let mut files: Vec<_> = std::fs::read_dir(root().join("mappings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "crmmap"))
        .collect();
    files.sort();
    for f in files {
        map.add(
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap(),
        );
    }
    let checked = crmmap_dsl::check_sources(&map);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    crmmap_engine::compile(&checked.model.unwrap())
}

fn seed_column_type(column: &str) -> ColumnType {
    if column.starts_with("dropdown_") {
        ColumnType::Dropdown
    } else if column.starts_with("color_") {
        ColumnType::Status
    } else if column.starts_with("long_text_") {
        ColumnType::LongText
    } else if column.starts_with("numeric_") {
        ColumnType::Numbers
    } else if column.starts_with("date_") {
        ColumnType::Date
    } else if column.starts_with("email_") {
        ColumnType::Email
    } else {
        ColumnType::Text
    }
}

#[test]
fn plans_hold_exactly_the_seed_field_pairs() {
    let seed = seed();
    let plans = plans();
    let mut expected: BTreeSet<Pair> = BTreeSet::new();
    for (name, o) in &seed.objects {
        let plan = plans
            .plan(name)
            .unwrap_or_else(|| panic!("no plan for {name}"));
        assert_eq!(plan.sobject, o.salesforce_object);
        assert_eq!(plan.board.to_string(), o.board_id);
        assert_eq!(plan.key_column, o.salesforce_id_column, "{name} key column");
        for (column, (field, key, transform)) in &o.to_salesforce {
            if field == "Id" {
                assert_eq!(
                    column, &o.salesforce_id_column,
                    "{name}: Id must come from the key column"
                );
                continue;
            }
            let kind = match transform.as_str() {
                "join_labels" => "join_labels",
                "identity" => "identity",
                other => panic!("unknown seed transform {other}"),
            };
            // The seed's value key says which part of the column value it read.
            let expected_key = match seed_column_type(column) {
                ColumnType::Status => "label",
                ColumnType::Dropdown => "labels",
                ColumnType::Date => "date",
                _ => "value",
            };
            assert_eq!(key, expected_key, "{name}.{column}");
            expected.insert((name.clone(), column.clone(), field.clone(), "->", kind));
        }
        for (column, field) in &o.to_monday {
            if field == "Id" {
                assert_eq!(
                    column, &o.salesforce_id_column,
                    "{name}: Id goes to the key column"
                );
                continue;
            }
            let kind = if seed_column_type(column) == ColumnType::Dropdown {
                "translate_labels"
            } else {
                "identity"
            };
            expected.insert((name.clone(), column.clone(), field.clone(), "<-", kind));
        }
    }

    let mut actual: BTreeSet<Pair> = BTreeSet::new();
    for plan in &plans.plans {
        for f in &plan.fields {
            assert_eq!(
                f.column_type,
                seed_column_type(f.column.as_str()),
                "{}.{} column type",
                plan.object,
                f.column
            );
            let translates = f
                .steps
                .iter()
                .any(|s| matches!(s, StepPlan::Translate(t) if t.name == "dropdown_labels"));
            let joins = f
                .steps
                .iter()
                .any(|s| matches!(s, StepPlan::Join(sep) if sep == ";"));
            if f.column_type == ColumnType::Dropdown {
                assert!(
                    translates,
                    "{}.{}: dropdowns carry the translate table",
                    plan.object, f.column
                );
                assert!(
                    joins || f.field_type == SfType::Multipicklist,
                    "{}.{}: labels must be joined",
                    plan.object,
                    f.column
                );
                assert_eq!(
                    f.steps.len(),
                    1 + usize::from(joins),
                    "{}.{}: no other steps",
                    plan.object,
                    f.column
                );
            } else {
                assert!(
                    f.steps.is_empty(),
                    "{}.{}: the seed used no transform",
                    plan.object,
                    f.column
                );
            }
            if f.direction.to_salesforce() {
                let kind = if f.column_type == ColumnType::Dropdown {
                    "join_labels"
                } else {
                    "identity"
                };
                actual.insert((
                    plan.object.to_string(),
                    f.column.to_string(),
                    f.field.clone(),
                    "->",
                    kind,
                ));
            }
            if f.direction.to_monday() {
                let kind = if f.column_type == ColumnType::Dropdown {
                    "translate_labels"
                } else {
                    "identity"
                };
                actual.insert((
                    plan.object.to_string(),
                    f.column.to_string(),
                    f.field.clone(),
                    "<-",
                    kind,
                ));
            }
        }
    }
    let missing: Vec<_> = expected.difference(&actual).collect();
    let invented: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && invented.is_empty(),
        "missing: {missing:#?}\ninvented: {invented:#?}"
    );
    // to_salesforce: 26 + 12 + 19 + 5; to_monday: 30 + 14 + 25 + 12 (the Id entries are keys).
    assert_eq!(
        expected.len(),
        143,
        "the seed has 143 column/field pairs besides the Id"
    );
}

#[test]
fn plans_hold_exactly_the_seed_links() {
    let seed = seed();
    let plans = plans();
    let object_of_board = |board: &str| {
        seed.objects
            .iter()
            .find(|(_, o)| o.board_id == board)
            .map(|(n, _)| n.clone())
            .unwrap()
    };
    let mut expected: BTreeSet<LinkPair> = BTreeSet::new();
    for (name, o) in &seed.objects {
        for (column, (target, field)) in &o.links_to_salesforce {
            expected.insert((
                name.clone(),
                column.clone(),
                target.clone(),
                field.clone(),
                "->",
            ));
        }
    }
    for l in &seed.links_to_monday {
        let source = object_of_board(&l.source_board);
        let target = object_of_board(&l.target_board);
        let field = seed.objects[&source].to_monday[&l.source_col].clone();
        expected.insert((source, l.connect_col.clone(), target, field, "<-"));
    }
    let mut actual: BTreeSet<LinkPair> = BTreeSet::new();
    for plan in &plans.plans {
        for l in &plan.links {
            for (flows, arrow) in [
                (l.direction.to_salesforce(), "->"),
                (l.direction.to_monday(), "<-"),
            ] {
                if flows {
                    actual.insert((
                        plan.object.to_string(),
                        l.column.to_string(),
                        l.target.to_string(),
                        l.via.clone(),
                        arrow,
                    ));
                }
            }
        }
    }
    assert_eq!(actual, expected);
    assert_eq!(expected.len(), 14);
}

#[test]
fn plans_hold_the_seed_selections_record_type_and_translations() {
    let seed = seed();
    let plans = plans();
    for (name, o) in &seed.objects {
        let plan = plans.plan(name).unwrap();
        assert_eq!(
            plan.select.conditions, o.select_conditions_or,
            "{name} selection"
        );
        assert_eq!(
            plan.record_type, o.record_type_id_on_create,
            "{name} record type"
        );
        for field in ["Id", "SystemModstamp"] {
            assert!(
                plan.select.fields.iter().any(|f| f == field),
                "{name} selects {field}"
            );
        }
    }
    let table = plans
        .plans
        .iter()
        .flat_map(|p| &p.fields)
        .find_map(|f| {
            f.steps.iter().find_map(|s| match s {
                StepPlan::Translate(t) => Some(t.clone()),
                _ => None,
            })
        })
        .unwrap();
    let to_monday: BTreeMap<String, String> = table.to_monday.clone().into_iter().collect();
    assert_eq!(to_monday, seed.dropdown_translations);
    assert_eq!(
        table.to_salesforce.len(),
        seed.dropdown_translations.len(),
        "one-to-one"
    );
}

#[test]
fn plans_follow_the_seed_name_rules_and_lifecycle() {
    let plans = plans();
    let lead = plans.plan("Lead").unwrap();
    let rule = &lead.rules[0];
    assert_eq!(
        (rule.when_field.as_str(), rule.becomes.as_str()),
        ("Status", "Qualified")
    );
    let created: Vec<&str> = rule.creates.iter().map(|c| c.object.as_str()).collect();
    assert_eq!(created, ["Account", "Contact", "Opportunity"]);
    for (object, to_sf) in [
        ("Lead", vec!["Company"]),
        ("Account", vec!["Name"]),
        ("Contact", vec!["FirstName", "LastName"]),
        ("Opportunity", vec!["Name"]),
    ] {
        let plan = plans.plan(object).unwrap();
        let fields: Vec<&str> = plan
            .name_to_salesforce
            .iter()
            .map(|a| a.field.as_str())
            .collect();
        assert_eq!(fields, to_sf, "{object} name rule");
        assert!(plan.name_to_monday.is_some(), "{object} names its items");
    }
    let opp = plans.plan("Opportunity").unwrap();
    let defaults: Vec<&str> = opp.on_create.iter().map(|a| a.field.as_str()).collect();
    assert_eq!(defaults, ["StageName", "CloseDate"]);
    assert!(
        lead.fields
            .iter()
            .all(|f| f.direction != Direction::Both || f.field != "Id")
    );
}
