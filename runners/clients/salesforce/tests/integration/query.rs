use std::collections::BTreeSet;

use crmmap_emu_salesforce::{EmulatorOptions, EndpointKind};
use crmmap_salesforce::soql::{Condition, Direction, Soql};
use crmmap_salesforce::{Error, QueryResponse, Record};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use time::macros::datetime;

use crate::common::rid;
use crate::common::*;

#[tokio::test]
async fn paging_across_several_pages() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        query_page_size: 7,
        ..Default::default()
    })
    .await;
    for i in 0..23 {
        emu.insert_record("Account", json!({"Name": format!("Paged {i:02}")}))
            .unwrap();
    }
    let client = client(&emu);
    let q = Soql::select(["Id", "Name"])
        .from("Account")
        .order_by("Name", Direction::Asc)
        .build()
        .unwrap();
    let pages: Vec<QueryResponse<Record>> =
        client.query_pages(q.clone()).try_collect().await.unwrap();
    assert_eq!(pages.len(), 4, "7 + 7 + 7 + 2");
    assert!(pages.iter().all(|p| p.total_size == 23));
    assert!(pages[..3].iter().all(|p| {
        !p.done
            && p.next_records_url
                .as_deref()
                .is_some_and(|u| u.contains("/query/01g"))
    }));
    assert!(pages[3].done && pages[3].next_records_url.is_none());
    let names: Vec<String> = client
        .query::<Record>(q)
        .map_ok(|r| r.get_str("Name").unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        names,
        (0..23).map(|i| format!("Paged {i:02}")).collect::<Vec<_>>()
    );
    let c = emu.counters();
    assert_eq!(c.get(EndpointKind::Query), 2);
    assert_eq!(c.get(EndpointKind::QueryMore), 6);
}

#[tokio::test]
async fn batch_size_header_is_sent() {
    let emu = default_emulator().await;
    let mut cfg = config(&emu, password_flow());
    cfg.query_batch_size = Some(500);
    let client = crmmap_salesforce::SalesforceClient::new(cfg).unwrap();
    let _: Vec<Record> = client
        .query("SELECT Id FROM Lead")
        .try_collect()
        .await
        .unwrap();
    let log = emu.request_log();
    let q = log.iter().find(|l| l.kind == EndpointKind::Query).unwrap();
    assert_eq!(q.query_options.as_deref(), Some("batchSize=500"));
}

#[tokio::test]
async fn query_all_sees_deleted_rows() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let keep = client
        .create("Account", &json!({"Name": "Keep"}))
        .await
        .unwrap();
    let gone = client
        .create("Account", &json!({"Name": "Gone"}))
        .await
        .unwrap();
    client.delete("Account", &rid(&gone)).await.unwrap();
    let q = "SELECT Id, Name, IsDeleted FROM Account";
    let live: Vec<Record> = client.query(q).try_collect().await.unwrap();
    assert_eq!(
        live.iter().map(|r| r.id().unwrap()).collect::<Vec<_>>(),
        [keep.as_str()]
    );
    let all: Vec<Record> = client.query_all(q).try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    let deleted = all.iter().find(|r| r.id() == Some(gone.as_str())).unwrap();
    assert_eq!(deleted.get("IsDeleted"), Some(&json!(true)));
    let only_deleted: Vec<Record> = client
        .query_all("SELECT Id FROM Account WHERE IsDeleted = true")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(only_deleted.len(), 1);
}

#[tokio::test]
async fn quotes_and_backslashes_round_trip() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let tricky = "O'Brien \\ \"x\"";
    let id = client
        .create("Account", &json!({"Name": tricky}))
        .await
        .unwrap();
    client
        .create("Account", &json!({"Name": "O'Brien"}))
        .await
        .unwrap();
    client
        .create("Account", &json!({"Name": "O'Brien \\\\ \"x\""}))
        .await
        .unwrap();
    let q = Soql::select(["Id", "Name"])
        .from("Account")
        .where_(Condition::eq("Name", tricky))
        .build()
        .unwrap();
    let found: Vec<Record> = client.query(q).try_collect().await.unwrap();
    assert_eq!(found.len(), 1, "exactly the record with that name");
    assert_eq!(found[0].id(), Some(id.as_str()));
    assert_eq!(found[0].get_str("Name"), Some(tricky));
    // Control characters and LIKE wildcards too.
    let odd = "line1\nline2\t50%_off";
    client
        .create("Account", &json!({"Name": odd}))
        .await
        .unwrap();
    let q = Soql::select(["Name"])
        .from("Account")
        .where_(Condition::contains("Name", "50%_o"))
        .build()
        .unwrap();
    let found: Vec<Record> = client.query(q).try_collect().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get_str("Name"), Some(odd));
}

fn ids(records: &[Record]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r.id().unwrap().to_string())
        .collect()
}

/// The seed mapping's selections (unioned conditions) run unchanged against the sample org.
#[tokio::test]
async fn seed_semi_join_selections() {
    let emu = emulator(EmulatorOptions {
        generated_records_per_object: 40,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let account_conditions = [
        "Id in (SELECT AccountId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4')",
        "Id in (SELECT ConvertedAccountId FROM Lead WHERE Role__c ='Partner' AND CreatedDate >= 2024-07-01T00:00:00Z)",
    ];
    let contact_conditions = [
        "Id in (SELECT ContactId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4')",
        "Id in (SELECT ConvertedContactId FROM Lead WHERE Role__c ='Partner' AND CreatedDate >= 2024-07-01T00:00:00Z AND ConvertedContactId != null)",
    ];
    let lead_conditions = ["Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z"];
    let opp_conditions = ["RecordTypeId = '0123p000000EILEAA4'"];
    for (object, conds) in [
        ("Account", &account_conditions[..]),
        ("Contact", &contact_conditions[..]),
        ("Lead", &lead_conditions[..]),
        ("Opportunity", &opp_conditions[..]),
    ] {
        let mut union = BTreeSet::new();
        for c in conds {
            let q = Soql::select(["Id", "Name", "CreatedDate"])
                .from(object)
                .where_(Condition::trusted(*c))
                .build()
                .unwrap();
            let rows: Vec<Record> = client.query(q).try_collect().await.unwrap();
            union.extend(ids(&rows));
        }
        let all: Vec<Record> = client
            .query(format!("SELECT Id FROM {object}"))
            .try_collect()
            .await
            .unwrap();
        assert!(
            !union.is_empty(),
            "{object}: the selection keeps some records"
        );
        assert!(
            union.len() < all.len(),
            "{object}: the selection leaves some records out"
        );
        // One query with the conditions ORed gives the same set.
        let ored = Condition::any(conds.iter().map(|c| Condition::trusted(*c))).unwrap();
        let q = Soql::select(["Id"])
            .from(object)
            .where_(ored)
            .build()
            .unwrap();
        let rows: Vec<Record> = client.query(q).try_collect().await.unwrap();
        assert_eq!(ids(&rows), union, "{object}");
    }
    // Built with the typed builder, the Lead selection is the same.
    let q = Soql::select(["Id"])
        .from("Lead")
        .where_(
            Condition::eq("Role__c", "Partner")
                .and(Condition::ge("CreatedDate", datetime!(2024-07-01 0:00 UTC))),
        )
        .build()
        .unwrap();
    let built: Vec<Record> = client.query(q).try_collect().await.unwrap();
    let raw: Vec<Record> = client
        .query(format!("SELECT Id FROM Lead WHERE {}", lead_conditions[0]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&built), ids(&raw));
}

#[tokio::test]
async fn default_sample_selection_is_exact() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let partners: Vec<Record> = client
        .query("SELECT Id, Name, Role__c, CreatedDate FROM Lead WHERE Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z")
        .try_collect()
        .await
        .unwrap();
    let mut names: Vec<&str> = partners
        .iter()
        .map(|r| r.get_str("Name").unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Ana Reyes", "Jordan O'Connell", "Marcus Webb"]);
    let accounts: Vec<Record> = client
        .query("SELECT Name FROM Account WHERE Id in (SELECT AccountId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4') ORDER BY Name")
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = accounts
        .iter()
        .map(|r| r.get_str("Name").unwrap())
        .collect();
    assert_eq!(
        names,
        ["Digital Bridges Coalition", "Valley County Government"]
    );
}

#[tokio::test]
async fn parent_paths_and_typed_values() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let rows: Vec<Record> = client
        .query("SELECT Name, Account.Name, Amount, CloseDate, CreatedDate FROM Opportunity WHERE Amount > 10000 ORDER BY Amount DESC")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get("Amount"), Some(&json!(25000)));
    assert_eq!(
        rows[0].get("Account").and_then(|a| a.get("Name")),
        Some(&json!("Digital Bridges Coalition"))
    );
    assert_eq!(rows[0].get_str("CloseDate"), Some("2024-12-15"));
    let created = rows[0].get_str("CreatedDate").unwrap();
    assert!(
        created.ends_with(".000+0000") && created.len() == 28,
        "{created}"
    );
}

#[tokio::test]
async fn query_errors_are_typed() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let cases = [
        (
            "SELECT Id, Foo__c FROM Lead",
            "INVALID_FIELD",
            "No such column 'Foo__c' on entity 'Lead'",
        ),
        (
            "SELECT Id FROM Whatever__c",
            "INVALID_TYPE",
            "sObject type 'Whatever__c' is not supported",
        ),
        (
            "SELECT Id FROM Lead WHERE",
            "MALFORMED_QUERY",
            "unexpected token: '<EOF>'",
        ),
        (
            "SELECT Id FROM Lead WHERE CreatedDate > '2024-01-01'",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
    ];
    for (q, code, text) in cases {
        let err = client.query::<Record>(q).next().await.unwrap().unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(api.status, 400);
        assert_eq!(api.errors[0].error_code, code, "{q}");
        assert!(
            api.errors[0].message.contains(text),
            "{q}: {}",
            api.errors[0].message
        );
        assert!(
            api.errors[0].message.contains("ERROR at Row:1:Column:"),
            "{}",
            api.errors[0].message
        );
    }
}
