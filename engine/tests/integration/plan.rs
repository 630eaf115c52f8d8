//! Compiled plans: static facts, order, and the `explain` text.

use crmmap_dsl::model::ItemDeletePolicy;
use crmmap_engine::compile;
use crmmap_engine::plan::DeletePlan;
use crmmap_ids::ColumnId;

use crate::lead;

#[test]
fn objects_are_ordered_parents_first() {
    let plans = compile(&lead::model());
    assert_eq!(plans.order, ["Opportunity", "Account", "Lead", "Contact"]);
    let names: Vec<&str> = plans.in_order().map(|p| p.object.as_str()).collect();
    assert_eq!(names, plans.order);
}

#[test]
fn link_cycles_are_broken_in_declaration_order() {
    let mut model = lead::model();
    // Account now links back to Lead: Lead ↔ Account is a cycle.
    let lead_link = model.objects[0].links[0].clone();
    let account = model
        .objects
        .iter_mut()
        .find(|o| o.name == "Account")
        .unwrap();
    account.links.push(crmmap_dsl::model::Link {
        target: "Lead".into(),
        via: "Lead__c".into(),
        ..lead_link
    });
    let plans = compile(&model);
    assert_eq!(plans.order.len(), 4);
    // The cycle is broken at the first object declared; the rest still go parents first.
    assert_eq!(plans.order, ["Opportunity", "Lead", "Account", "Contact"]);
}

#[test]
fn select_lists_what_flows_to_monday() {
    let plans = compile(&lead::model());
    let plan = plans.plan("Lead").unwrap();
    assert_eq!(
        plan.select.fields,
        [
            "Id",
            "SystemModstamp",
            "LastModifiedDate",
            "LastName",
            "FirstName",
            "Website",
            "CreatedDate",
            "State",
            "Email",
            "Status",
            "Sector__c",
            "IsConverted",
            "Capacity_Building_Needs__c",
            "Main_Challenges__c",
            "AnnualRevenue",
            "Follow_Up__c",
            "Is_Partner__c",
            "Company",
            "Linked_Account__c",
            "ConvertedAccountId",
        ]
    );
    assert!(
        !plan.select.fields.iter().any(|f| f == "Other_Industry__c"),
        "-> fields are not read"
    );
    assert_eq!(
        plan.select.where_clause().unwrap(),
        "(Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z)"
    );
}

#[test]
fn facts_name_what_is_read_and_written() {
    let plans = compile(&lead::model());
    let plan = plans.plan("Lead").unwrap();
    let f = &plan.facts;
    assert_eq!(f.salesforce_read, plan.select.fields);
    assert!(
        f.salesforce_written
            .iter()
            .any(|x| x == "Other_Industry__c")
    );
    assert!(
        !f.salesforce_written.iter().any(|x| x == "CreatedDate"),
        "<- fields are not written"
    );
    for x in [
        "Company",
        "RecordTypeId",
        "LeadSource",
        "Linked_Account__c",
        "Status",
    ] {
        assert!(f.salesforce_written.iter().any(|w| w == x), "{x}");
    }
    assert!(f.monday_read.contains(&ColumnId::from("text_mksfswxm")));
    assert!(
        f.monday_read
            .contains(&ColumnId::from("board_relation_mks9cjfs"))
    );
    assert!(
        !f.monday_read.contains(&ColumnId::from("text_mkryzhzt")),
        "<- columns are not read"
    );
    assert_eq!(f.monday_read[0], "text_mkryhch5");
    assert!(f.monday_written.contains(&ColumnId::from("text_mkryzhzt")));
    assert!(!f.monday_written.contains(&ColumnId::from("text_mksfswxm")));
    assert!(f.reads_name && f.writes_name);
    assert_eq!(f.creates, ["Account", "Opportunity"]);
    // NumberOfEmployees is parsed from a text column.
    assert!(f.fallible);
    assert!(matches!(plan.on_delete, DeletePlan::Set(_)));
    let account = plans.plan("Account").unwrap();
    assert!(!account.facts.fallible);
}

#[test]
fn field_fallibility_follows_kinds() {
    let plans = compile(&lead::model());
    let plan = plans.plan("Lead").unwrap();
    let f = |c: &str| plan.field_for_column(c).unwrap();
    // Text to text: cannot fail.
    assert!(!f("text_mkry1xy1").fallible_to_salesforce && !f("text_mkry1xy1").fallible_to_monday);
    // A datetime renders as text; numbers stay numbers through `round`.
    assert!(!f("text_mkryzhzt").fallible_to_monday);
    assert!(
        !f("numeric_mkbudget").fallible_to_salesforce && !f("numeric_mkbudget").fallible_to_monday
    );
    // Text becoming a boolean or a number is parsed.
    assert!(f("text_mkryxqtf").fallible_to_salesforce);
    assert!(!f("text_mkryxqtf").fallible_to_monday);
    assert!(f("text_mkemployees").fallible_to_salesforce);
}

#[test]
fn explain_lead() {
    let plans = compile(&lead::model());
    insta::assert_snapshot!("explain_lead", plans.plan("Lead").unwrap().explain());
}

#[test]
fn explain_shows_a_salesforce_delete_policy_other_than_log() {
    let mut model = lead::model();
    let logged = compile(&model).plan("Lead").unwrap().explain();
    assert!(!logged.contains("salesforce delete"), "{logged}");
    model.objects[0].on_salesforce_delete = ItemDeletePolicy::Archive;
    let archived = compile(&model).plan("Lead").unwrap().explain();
    assert!(
        archived.contains("salesforce delete  archive item"),
        "{archived}"
    );
}

#[test]
fn explain_plan_set() {
    let plans = compile(&lead::model());
    insta::assert_snapshot!("explain_plan_set", plans.to_string());
}
