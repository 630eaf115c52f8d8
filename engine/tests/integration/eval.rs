//! Evaluation of the Lead-like plan in both directions.

use std::collections::BTreeMap;

use crmmap_engine::eval::{self, DeleteAction, Item, LinkWrite, Prior, Record};
use crmmap_engine::value::{Number, Value, monday};
use crmmap_engine::{Code, PlanSet, compile};
use crmmap_ids::ColumnId;
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use time::macros::{date, datetime};

use crate::lead;

const NOW: OffsetDateTime = datetime!(2024-06-15 12:00 UTC);

fn plans() -> PlanSet {
    compile(&lead::model())
}

fn record(v: Json) -> Record {
    v.as_object().unwrap().clone()
}

fn sample() -> Record {
    record(json!({
        "attributes": {"type": "Lead", "url": "/services/data/v62.0/sobjects/Lead/00Q5e00000AbCdEFGH"},
        "Id": "00Q5e00000AbCdEFGH",
        "SystemModstamp": "2024-06-14T10:00:00.000+0000",
        "LastModifiedDate": "2024-06-14T10:00:00.000+0000",
        "Company": "Acme Library",
        "LastName": "Lovelace",
        "FirstName": "Ada",
        "Website": null,
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
        "Is_Partner__c": true,
        "ConvertedAccountId": null,
        "Role__c": "Partner"
    }))
}

/// What monday holds after applying writes: read back the written JSON the way a webhook would
/// deliver it (the emulator and monday store what was written).
fn apply(plan: &crmmap_engine::Plan, prior: &mut Prior, writes: &eval::ItemWrites) {
    if let Some(n) = &writes.name {
        prior.name = Some(n.clone());
    }
    for (col, v) in &writes.column_values {
        let t = plan
            .field_for_column(col)
            .map_or(crmmap_dsl::model::ColumnType::Text, |f| f.column_type);
        prior
            .columns
            .insert(col.clone(), monday::read_webhook(t, v, None).unwrap());
    }
    for l in &writes.links {
        prior.links.insert(l.column.clone(), l.record_id.clone());
    }
}

#[test]
fn a_new_record_fills_every_non_empty_column() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let w = eval::record_to_item(plan, &sample(), None, NOW).unwrap();
    assert_eq!(w.name.as_deref(), Some("Acme Library"));
    let want: BTreeMap<ColumnId, Json> = [
        ("text_mkryhch5", json!("00Q5e00000AbCdEFGH")),
        ("text_mkry1xy1", json!("Lovelace")),
        ("text_mkry13cw", json!("Ada")),
        ("text_mkryzhzt", json!("2024-07-02T08:30:00.000+0000")),
        (
            "dropdown_mkstb9d4",
            json!({"labels": ["California", "Texas"]}),
        ),
        (
            "email_mksx3vtp",
            json!({"email": "ada@example.org", "text": "ada@example.org"}),
        ),
        ("color_mksj2adq", json!({"label": "Open"})),
        ("color_mksf6mtf", json!({"label": "Library"})),
        ("text_mkryxqtf", json!("false")),
        (
            "dropdown_mksfyfqp",
            json!({"labels": ["Curriculum Development", "Other"]}),
        ),
        ("long_text_mksfhq35", json!({"text": "Funding\nStaff"})),
        ("numeric_mkbudget", json!("125000.5")),
        ("date_mkfollow", json!({"date": "2024-07-01"})),
        ("checkbox_mkpartner", json!({"checked": "true"})),
    ]
    .into_iter()
    .map(|(k, v)| (ColumnId::from(k), v))
    .collect();
    assert_eq!(w.column_values, want);
    // `->` only: never written to monday.
    assert!(!w.column_values.contains_key("text_mksfswxm"));
    assert!(w.create_labels, "the needs dropdown may create labels");
    // ConvertedAccountId is null and nothing was linked before: no link write.
    assert!(w.links.is_empty());
}

#[test]
fn an_unchanged_record_yields_no_writes() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut prior = Prior::default();
    let first = eval::record_to_item(plan, &sample(), None, NOW).unwrap();
    apply(plan, &mut prior, &first);
    let again = eval::record_to_item(plan, &sample(), Some(&prior), NOW).unwrap();
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn equal_but_differently_written_values_are_unchanged() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut prior = Prior::default();
    apply(
        plan,
        &mut prior,
        &eval::record_to_item(plan, &sample(), None, NOW).unwrap(),
    );
    let mut r = sample();
    r.insert("AnnualRevenue".into(), json!(125000.50));
    r.insert(
        "Capacity_Building_Needs__c".into(),
        json!("Other;Curriculum"),
    );
    r.insert("State".into(), json!("Texas;California"));
    r.insert("Website".into(), json!(""));
    assert!(
        eval::record_to_item(plan, &r, Some(&prior), NOW)
            .unwrap()
            .is_empty()
    );
    // Monday's stored values carry metadata keys; they are ignored.
    let stored = json!({"text": "Funding\nStaff", "changed_at": "2024-06-14T10:00:00.000Z"});
    prior.columns.insert(
        "long_text_mksfhq35".into(),
        monday::read_webhook(crmmap_dsl::model::ColumnType::LongText, &stored, None).unwrap(),
    );
    assert!(
        eval::record_to_item(plan, &r, Some(&prior), NOW)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn only_changed_fields_are_written() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut prior = Prior::default();
    apply(
        plan,
        &mut prior,
        &eval::record_to_item(plan, &sample(), None, NOW).unwrap(),
    );
    let mut r = sample();
    r.insert("Status".into(), json!("Contacted"));
    r.insert("FirstName".into(), json!("Ada "));
    r.insert("Company".into(), json!("Acme Libraries"));
    r.insert("ConvertedAccountId".into(), json!("001000000000001AAA"));
    let w = eval::record_to_item(plan, &r, Some(&prior), NOW).unwrap();
    assert_eq!(w.name.as_deref(), Some("Acme Libraries"));
    let cols: Vec<&str> = w.column_values.keys().map(ColumnId::as_str).collect();
    // Trailing whitespace is a change.
    assert_eq!(cols, ["color_mksj2adq", "text_mkry13cw"]);
    assert_eq!(
        w.links,
        [LinkWrite {
            column: "board_relation_mks9cjfs".into(),
            target: "Account".into(),
            record_id: Some("001000000000001AAA".into())
        }]
    );
}

#[test]
fn an_empty_reference_keeps_links_made_on_monday() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    // The Account column also sends links to Salesforce (Linked_Account__c): a null
    // ConvertedAccountId leaves it alone.
    let prior = Prior {
        links: [(
            ColumnId::from("board_relation_mks9cjfs"),
            Some("001000000000001AAA".to_owned()),
        )]
        .into(),
        ..Prior::default()
    };
    let w = eval::record_to_item(plan, &sample(), Some(&prior), NOW).unwrap();
    assert!(w.links.is_empty(), "{:?}", w.links);
    // A `<->` link clears with its reference.
    let contact = plans.plan("Contact").unwrap();
    let prior = Prior {
        links: [(
            ColumnId::from("board_relation_mks98dnn"),
            Some("001000000000001AAA".to_owned()),
        )]
        .into(),
        ..Prior::default()
    };
    let r = record(json!({"Id": "003000000000001AAA", "AccountId": null}));
    let w = eval::record_to_item(contact, &r, Some(&prior), NOW).unwrap();
    assert_eq!(
        w.links,
        [LinkWrite {
            column: "board_relation_mks98dnn".into(),
            target: "Account".into(),
            record_id: None
        }]
    );
}

#[test]
fn cleared_fields_clear_columns() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut prior = Prior::default();
    apply(
        plan,
        &mut prior,
        &eval::record_to_item(plan, &sample(), None, NOW).unwrap(),
    );
    let mut r = sample();
    r.insert("Status".into(), Json::Null);
    r.insert("AnnualRevenue".into(), Json::Null);
    r.insert("Capacity_Building_Needs__c".into(), Json::Null);
    r.insert("Is_Partner__c".into(), json!(false));
    let w = eval::record_to_item(plan, &r, Some(&prior), NOW).unwrap();
    assert_eq!(w.column_values["color_mksj2adq"], Json::Null);
    assert_eq!(w.column_values["numeric_mkbudget"], json!(""));
    assert_eq!(w.column_values["dropdown_mksfyfqp"], Json::Null);
    assert_eq!(w.column_values["checkbox_mkpartner"], Json::Null);
    assert_eq!(w.column_values.len(), 4);
}

#[test]
fn fields_absent_from_the_record_are_left_alone() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let r = record(json!({"Id": "00Q5e00000AbCdEFGH", "Status": "Open"}));
    let w = eval::record_to_item(plan, &r, None, NOW).unwrap();
    let cols: Vec<&str> = w.column_values.keys().map(ColumnId::as_str).collect();
    assert_eq!(cols, ["color_mksj2adq", "text_mkryhch5"]);
    assert_eq!(w.name, None);
}

#[test]
fn a_bad_value_is_a_located_error() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut r = sample();
    r.insert("Follow_Up__c".into(), json!("next week"));
    let e = eval::record_to_item(plan, &r, None, NOW).unwrap_err();
    assert_eq!(e.code, Code::NotADate);
    assert_eq!(
        e.to_string(),
        "R0102: cannot read `next week` as a date (column `date_mkfollow`, field `Follow_Up__c`) at mappings/lead.crmmap:33"
    );
}

fn item() -> Item {
    Item {
        name: "  acme library ".into(),
        columns: [
            ("text_mkry13cw", Value::text("Ada")),
            ("text_mkry1xy1", Value::Null),
            ("dropdown_mkstb9d4", Value::labels(["Texas", "California"])),
            ("color_mksj2adq", Value::text("Open")),
            (
                "dropdown_mksfyfqp",
                Value::labels([
                    "Strategic plan for Digital Inclusion in your community",
                    "Other",
                ]),
            ),
            ("text_mksfswxm", Value::text("  Libraries ")),
            (
                "numeric_mkbudget",
                Value::Number(Number::parse("10.456").unwrap()),
            ),
            ("date_mkfollow", Value::Date(date!(2024 - 07 - 01))),
            ("checkbox_mkpartner", Value::Null),
            ("text_mkryzhzt", Value::text("ignored: <- only")),
        ]
        .into_iter()
        .map(|(k, v)| (ColumnId::from(k), v))
        .collect(),
    }
}

#[test]
fn a_new_item_creates_a_record() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let w = eval::item_to_create(plan, &item(), NOW).unwrap();
    assert_eq!(
        w.to_json(),
        json!({
            "AnnualRevenue": 10.46,
            "Capacity_Building_Needs__c": "Needs assessment;Other",
            "Company": "  acme library ",
            "FirstName": "Ada",
            "Follow_Up__c": "2024-07-01",
            "LastName": "Unknown",
            "LeadSource": "Web",
            "Other_Industry__c": "Libraries",
            "RecordTypeId": "0123p000000EILJAA4",
            "State": "Texas;California",
            "Status": "Open",
        })
    );
}

#[test]
fn a_column_change_updates_one_field() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let change = |col: &str, new: Value, old: Value, current: Option<Json>| {
        eval::column_change(
            plan,
            &ColumnId::from(col),
            &new,
            &old,
            current.as_ref(),
            NOW,
        )
        .unwrap()
        .map(|w| w.to_json())
    };
    assert_eq!(
        change(
            "color_mksj2adq",
            Value::text("Qualified"),
            Value::text("Open"),
            None
        ),
        Some(json!({"Status": "Qualified"}))
    );
    assert_eq!(
        change(
            "dropdown_mksfyfqp",
            Value::labels(["Curriculum Development"]),
            Value::Null,
            Some(json!("Other"))
        ),
        Some(json!({"Capacity_Building_Needs__c": "Curriculum"}))
    );
    assert_eq!(
        change("checkbox_mkpartner", Value::Null, Value::Bool(true), None),
        Some(json!({"Is_Partner__c": false}))
    );
    // Unchanged, unmapped, `<-` only, or Salesforce already holds the value: nothing.
    assert_eq!(
        change(
            "color_mksj2adq",
            Value::text("Open"),
            Value::text("Open"),
            None
        ),
        None
    );
    assert_eq!(
        change(
            "dropdown_mksfyfqp",
            Value::labels(["a", "b"]),
            Value::labels(["b", "a"]),
            None
        ),
        None
    );
    assert_eq!(
        change("text_unmapped", Value::text("x"), Value::Null, None),
        None
    );
    assert_eq!(
        change("text_mkryzhzt", Value::text("x"), Value::Null, None),
        None
    );
    assert_eq!(
        change(
            "numeric_mkbudget",
            Value::text("12"),
            Value::text("11"),
            Some(json!(12.0))
        ),
        None
    );
    // Bad input is an error naming the field.
    let e = eval::column_change(
        plan,
        &ColumnId::from("numeric_mkbudget"),
        &Value::text("lots"),
        &Value::Null,
        None,
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.column.as_deref()),
        (Code::NotANumber, Some("numeric_mkbudget"))
    );
}

#[test]
fn rename_and_links_and_delete() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    assert_eq!(
        eval::rename(plan, "Acme", NOW).unwrap().to_json(),
        json!({"Company": "Acme"})
    );
    let added = ["001000000000001AAA".to_owned()];
    assert_eq!(
        eval::link_change(
            plan,
            &ColumnId::from("board_relation_mks9cjfs"),
            &added,
            &[]
        )
        .unwrap()
        .to_json(),
        json!({"Linked_Account__c": "001000000000001AAA"})
    );
    assert_eq!(
        eval::link_change(
            plan,
            &ColumnId::from("board_relation_mks9cjfs"),
            &[],
            &added
        )
        .unwrap()
        .to_json(),
        json!({"Linked_Account__c": null})
    );
    assert_eq!(
        eval::link_change(plan, &ColumnId::from("board_relation_mks9cjfs"), &[], &[]),
        None
    );
    assert_eq!(
        eval::link_change(plan, &ColumnId::from("board_relation_other"), &added, &[]),
        None
    );
    let DeleteAction::Update(w) = eval::on_delete(plan, "Acme", NOW).unwrap() else {
        panic!("update expected")
    };
    assert_eq!(w.to_json(), json!({"Status": "Unqualified"}));
    assert_eq!(
        eval::on_delete(plans.plan("Account").unwrap(), "x", NOW).unwrap(),
        DeleteAction::Log
    );
}

#[test]
fn a_rule_fires_once_and_creates_in_order() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let old = sample();
    let mut new = sample();
    new.insert("Status".into(), json!("Qualified"));
    let fired = eval::rules_fired(plan, &old, &new);
    assert_eq!(fired.len(), 1);
    let rule = fired[0];
    assert_eq!(
        rule.create_needs(),
        vec![vec![], vec!["account".to_owned()]]
    );
    // Already qualified: nothing fires again.
    assert!(eval::rules_fired(plan, &new, &new).is_empty());

    let mut aliases = eval::Aliases::new();
    let account = rule.create_fields(plan, 0, &new, &aliases, NOW).unwrap();
    assert_eq!(account.to_json(), json!({"Name": "Acme Library"}));
    // The opportunity reads `account.Id`: not before the account exists.
    let e = rule
        .create_fields(plan, 1, &new, &aliases, NOW)
        .unwrap_err();
    assert_eq!(e.code, Code::UnresolvedAlias);
    aliases.insert(
        "account".into(),
        record(json!({"Id": "001000000000009AAA"})),
    );
    let opp = rule.create_fields(plan, 1, &new, &aliases, NOW).unwrap();
    assert_eq!(
        opp.to_json(),
        json!({
            "AccountId": "001000000000009AAA",
            "CloseDate": "2024-07-15",
            "Name": "Acme Library - partnership",
            "StageName": "Need Analysis",
        })
    );
    let sets = rule.set_fields(plan, &new, &aliases, NOW).unwrap();
    assert_eq!(
        sets.to_json(),
        json!({"Linked_Account__c": "001000000000009AAA"})
    );
}

#[test]
fn a_monday_status_change_can_fire_a_rule() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let old = sample();
    let w = eval::column_change(
        plan,
        &ColumnId::from("color_mksj2adq"),
        &Value::text("Qualified"),
        &Value::text("Open"),
        None,
        NOW,
    )
    .unwrap()
    .unwrap();
    assert_eq!(eval::rules_fired(plan, &old, &w.apply_to(&old)).len(), 1);
}

#[test]
fn propagation_copies_changes_to_created_records() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let mut old = sample();
    old.insert("Status".into(), json!("Qualified"));
    let mut new = old.clone();
    new.insert("Status".into(), json!("MOU"));
    let writes = eval::propagations(plan, &old, &new, NOW).unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (
            writes[0].alias.as_str(),
            writes[0].sobject.as_str(),
            writes[0].field.as_str(),
            &writes[0].value
        ),
        ("opportunity", "Opportunity", "StageName", &json!("MOU"))
    );
    assert!(
        eval::propagations(plan, &new, &new, NOW)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn conflicts_follow_each_fields_policy() {
    use crmmap_engine::conflict::Decision;
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let env = crmmap_engine::transform::EmptyEnv {
        today: date!(2024 - 06 - 15),
    };
    let times = (None, None);
    // Status prefers monday; Sector follows the object (Salesforce).
    let status = plan.field_for_column("color_mksj2adq").unwrap();
    let d = status.decide(
        &Value::text("Open"),
        &Value::text("Contacted"),
        &Value::text("Qualified"),
        times,
        &env,
    );
    assert_eq!(d.unwrap(), Decision::ToSalesforce);
    let sector = plan.field_for_column("color_mksf6mtf").unwrap();
    let d = sector.decide(
        &Value::text("Library"),
        &Value::text("Other"),
        &Value::text("Nonprofit"),
        times,
        &env,
    );
    assert_eq!(d.unwrap(), Decision::ToMonday);
    // monday's labels are translated before comparing: both sides agree.
    let needs = plan.field_for_column("dropdown_mksfyfqp").unwrap();
    let d = needs.decide(
        &Value::Null,
        &Value::labels(["Curriculum Development"]),
        &Value::labels(["Curriculum"]),
        times,
        &env,
    );
    assert_eq!(d.unwrap(), Decision::InSync);
}

#[test]
fn items_read_from_the_api_create_records() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let cvs = vec![
        json!({"id": "text_mkry13cw", "type": "text", "text": "Ada", "value": "\"Ada\""}),
        json!({"id": "color_mksj2adq", "type": "status", "text": "", "value": "{\"index\":1,\"changed_at\":\"x\"}"}),
        json!({"id": "dropdown_mksfyfqp", "type": "dropdown", "text": "", "value": "{\"ids\":[3]}"}),
        json!({"id": "numeric_mkbudget", "type": "numbers", "text": "12", "value": "\"12\""}),
        json!({"id": "board_relation_mks9cjfs", "type": "board_relation", "text": "", "value": null, "linked_item_ids": ["77"]}),
        json!({"id": "unmapped", "type": "text", "text": "x", "value": "\"x\""}),
    ];
    let labels = BTreeMap::from([
        (
            "color_mksj2adq".to_owned(),
            monday::LabelSettings::from_settings(&json!({"labels": {"1": "Open"}})),
        ),
        (
            "dropdown_mksfyfqp".to_owned(),
            monday::LabelSettings::from_pairs([(3, "Curriculum Development")]),
        ),
    ]);
    let item = eval::item_from_api(plan, "Acme", &cvs, &labels).unwrap();
    assert_eq!(item.columns.len(), 5);
    assert_eq!(
        item.columns["board_relation_mks9cjfs"],
        Value::labels(["77"])
    );
    let w = eval::evaluate(plan, eval::Change::ItemCreated(&item), NOW).unwrap();
    let eval::Writes::CreateRecord(w) = w else {
        panic!("a create expected: {w:?}")
    };
    assert_eq!(w.fields["Status"], json!("Open"));
    assert_eq!(w.fields["Capacity_Building_Needs__c"], json!("Curriculum"));
    assert_eq!(w.fields["AnnualRevenue"], json!(12));
    // An unknown status index is an error naming the column.
    let bad = vec![
        json!({"id": "color_mksj2adq", "type": "status", "text": "", "value": "{\"index\":9}"}),
    ];
    let e = eval::item_from_api(plan, "Acme", &bad, &labels).unwrap_err();
    assert_eq!(
        (e.code, e.column.as_deref()),
        (Code::UnknownLabelId, Some("color_mksj2adq"))
    );
}

#[test]
fn webhook_values_update_fields() {
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let value =
        json!({"label": {"index": 2, "text": "Qualified", "is_done": false}, "post_id": null});
    let w = eval::webhook_column_change(
        plan,
        &ColumnId::from("color_mksj2adq"),
        &value,
        &Json::Null,
        None,
        None,
        NOW,
    )
    .unwrap();
    assert_eq!(w.unwrap().to_json(), json!({"Status": "Qualified"}));
    let chosen = json!({"chosenValues": [{"id": 1, "name": "Curriculum Development"}]});
    let before =
        json!({"chosenValues": [{"id": 1, "name": "Curriculum Development"}], "changed_at": "x"});
    assert_eq!(
        eval::webhook_column_change(
            plan,
            &ColumnId::from("dropdown_mksfyfqp"),
            &chosen,
            &before,
            None,
            None,
            NOW
        )
        .unwrap(),
        None
    );
}

#[test]
fn evaluate_dispatches_every_change() {
    use eval::{Change, Writes};
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let r = sample();
    assert!(matches!(
        eval::evaluate(
            plan,
            Change::Record {
                record: &r,
                prior: None
            },
            NOW
        )
        .unwrap(),
        Writes::Item(_)
    ));
    let (v, p) = (Value::text("Open"), Value::text("Open"));
    let same = Change::ColumnChanged {
        column: &ColumnId::from("color_mksj2adq"),
        value: &v,
        previous: &p,
        current: None,
    };
    assert_eq!(eval::evaluate(plan, same, NOW).unwrap(), Writes::Nothing);
    let w = eval::evaluate(plan, Change::Renamed("New name"), NOW).unwrap();
    assert_eq!(
        w,
        Writes::UpdateRecord(eval::SfWrites {
            fields: [("Company".to_owned(), json!("New name"))].into()
        })
    );
    let links = Change::LinksChanged {
        column: &ColumnId::from("board_relation_mks9cjfs"),
        added: &[],
        removed: &[],
    };
    assert_eq!(eval::evaluate(plan, links, NOW).unwrap(), Writes::Nothing);
    assert!(matches!(
        eval::evaluate(plan, Change::ItemDeleted("x"), NOW).unwrap(),
        Writes::UpdateRecord(_)
    ));
    let account = plans.plan("Account").unwrap();
    assert_eq!(
        eval::evaluate(account, Change::ItemDeleted("x"), NOW).unwrap(),
        Writes::Nothing
    );
}
