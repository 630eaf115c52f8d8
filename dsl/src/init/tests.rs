//! `init` on small boards: what it matches, what it leaves out, and that what it writes checks
//! clean against the same snapshot and is already formatted.

use super::*;
use crate::schema::{BoardSchema, ColumnSchema, FieldSchema, SObjectSchema, SchemaSnapshot};
use crate::source::SourceMap;

fn column(id: &str, title: &str, t: &str, labels: &[&str]) -> ColumnSchema {
    ColumnSchema {
        id: id.into(),
        title: title.into(),
        column_type: t.into(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        board_ids: Vec::new(),
    }
}

fn field(name: &str, label: &str, t: &str) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        label: label.into(),
        field_type: t.into(),
        createable: true,
        updateable: true,
        picklist_values: Vec::new(),
        restricted_picklist: false,
        reference_to: Vec::new(),
    }
}

fn picklist(name: &str, values: &[&str], restricted: bool) -> FieldSchema {
    FieldSchema {
        picklist_values: values.iter().map(|s| s.to_string()).collect(),
        restricted_picklist: restricted,
        ..field(name, name, "picklist")
    }
}

fn read_only(mut f: FieldSchema) -> FieldSchema {
    f.createable = false;
    f.updateable = false;
    f
}

fn snapshot() -> SchemaSnapshot {
    SchemaSnapshot {
        boards: vec![BoardSchema {
            version: 1,
            id: 7,
            name: "Grants\nboard".into(),
            columns: vec![
                column("name", "Name", "name", &[]),
                column("text_id", "Salesforce ID", "text", &[]),
                column("text_first", "First name", "text", &[]),
                column("text_mail", "E-mail", "email", &[]),
                column("text_mail2", "Email", "text", &[]),
                column("date_created", "Created", "date", &[]),
                column(
                    "color_stage",
                    "Stage",
                    "status",
                    &["Open", "closed-won", "Lost", "Parked"],
                ),
                column("color_kind", "Kind", "status", &["Small", "Big", "Other"]),
                column(
                    "dropdown_topics",
                    "Topics",
                    "dropdown",
                    &["Health", "Schools"],
                ),
                column("numeric_amount", "Amounts", "numbers", &[]),
                column("text_misc", "Notes of the week", "text", &[]),
                column("board_relation_acc", "Account", "board_relation", &[]),
                column("formula_x", "Score", "formula", &[]),
            ],
        }],
        sobjects: vec![SObjectSchema {
            version: 1,
            name: "Grant__c".into(),
            fields: vec![
                read_only(field("Id", "Record ID", "id")),
                field("Name", "Grant Name", "string"),
                field("FirstName__c", "First Name", "string"),
                field("Email__c", "Email", "email"),
                read_only(field("CreatedDate", "Created Date", "datetime")),
                picklist("Stage__c", &["Open", "Closed Won", "Lost"], true),
                picklist("Kind__c", &["Small", "Big", "Huge"], false),
                FieldSchema {
                    field_type: "multipicklist".into(),
                    ..picklist("Topics__c", &["Health", "Schools"], false)
                },
                field("Amount__c", "Amount", "currency"),
                field("Location__c", "Location", "location"),
            ],
        }],
    }
}

fn run(s: &SchemaSnapshot, key: Option<&str>) -> Result<Draft, InitError> {
    init(&InitRequest {
        object: "Grant",
        board: &s.boards[0],
        sobject: &s.sobjects[0],
        key,
    })
}

#[test]
fn columns_are_matched_by_title_and_label_with_types_directions_and_labels() {
    let s = snapshot();
    let d = run(&s, None).unwrap();
    assert_eq!(d.key, "text_id");
    let pairs: Vec<(&str, &str, Direction)> = d
        .fields
        .iter()
        .map(|m| (m.column.as_str(), m.field.as_str(), m.direction))
        .collect();
    assert_eq!(
        pairs,
        [
            ("text_first", "FirstName__c", Direction::Both),
            ("text_mail", "Email__c", Direction::Both),
            // One column writes a field; the other reads it.
            ("text_mail2", "Email__c", Direction::ToMonday),
            // The restricted picklist has no value for `Parked`: Salesforce would refuse it.
            ("color_stage", "Stage__c", Direction::ToMonday),
            ("color_kind", "Kind__c", Direction::Both),
            ("dropdown_topics", "Topics__c", Direction::Both),
            ("numeric_amount", "Amount__c", Direction::Both),
        ]
    );
    let left: Vec<&str> = d.unmatched.iter().map(|u| u.column.as_str()).collect();
    assert_eq!(
        left,
        [
            "date_created",
            "text_misc",
            "board_relation_acc",
            "formula_x"
        ]
    );
    let text = &d.text;
    assert!(text.contains("name <-> Name"), "{text}");
    assert!(
        text.contains("translate grant_stage {\n  \"Closed Won\" = \"closed-won\"\n}"),
        "{text}"
    );
    // `Huge` has no label on the board: writes to monday create it.
    assert!(text.contains(": picklist create labels"), "{text}");
    assert!(
        text.contains("// color_stage \"Stage\" ~ Stage__c: `<-` because the restricted picklist has no value for the labels \"Parked\""),
        "{text}"
    );
    assert!(
        text.contains(
            "// color_kind \"Kind\" ~ Kind__c: `create labels` adds \"Huge\" to the board"
        ),
        "{text}"
    );
    assert!(
        text.contains("// numeric_amount \"Amounts\" ~ Amount__c: alike at 0.86"),
        "{text}"
    );
    assert!(text.contains("\"Grants board\""), "{text}");

    // What it wrote checks clean against the snapshot it came from, and is formatted.
    let mut map = SourceMap::new();
    let id = map.add("grant.crmmap", text.as_str());
    let checked = crate::check_sources_with_schema(&map, Some(&s));
    assert!(!checked.has_errors(), "{text}\n{:#?}", checked.diagnostics);
    assert_eq!(crate::fmt::format(map.get(id)).unwrap(), *text);
}

#[test]
fn the_created_date_matches_when_the_title_says_so_and_is_read_only() {
    let mut s = snapshot();
    s.boards[0].columns[5].title = "Created Date".into();
    let d = run(&s, None).unwrap();
    let created = d
        .fields
        .iter()
        .find(|m| m.column == "date_created")
        .unwrap();
    assert_eq!(created.field, "CreatedDate");
    assert_eq!(created.direction, Direction::ToMonday);
}

#[test]
fn the_key_column_is_found_or_named_or_refused() {
    let mut s = snapshot();
    assert_eq!(run(&s, Some("text_misc")).unwrap().key, "text_misc");
    assert!(matches!(
        run(&s, Some("color_kind")),
        Err(InitError::BadKey { .. })
    ));
    s.boards[0].columns[1].title = "Reference".into();
    match run(&s, None) {
        Err(InitError::NoKey { candidates, .. }) => {
            assert!(candidates.contains(&"text_id".to_string()))
        }
        other => panic!("{other:?}"),
    }
    let err = init(&InitRequest {
        object: "Grant-Request",
        board: &s.boards[0],
        sobject: &s.sobjects[0],
        key: Some("text_id"),
    })
    .unwrap_err();
    assert!(err.to_string().contains("cannot be an object name"));
}

#[test]
fn an_empty_board_gives_a_mapping_with_only_the_key() {
    let mut s = snapshot();
    s.boards[0].columns.truncate(2);
    let d = run(&s, None).unwrap();
    assert!(d.fields.is_empty());
    let mut map = SourceMap::new();
    map.add("grant.crmmap", d.text.as_str());
    let checked = crate::check_sources_with_schema(&map, Some(&s));
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn any_column() -> impl Strategy<Value = ColumnSchema> {
        (
            "[a-z][a-z0-9_]{0,8}",
            "\\PC{0,16}",
            prop::sample::select(vec![
                "text",
                "status",
                "dropdown",
                "numbers",
                "date",
                "email",
                "checkbox",
                "long_text",
                "mirror",
            ]),
            proptest::collection::vec("\\PC{0,10}", 0..5),
        )
            .prop_map(|(id, title, t, labels)| ColumnSchema {
                id,
                title,
                column_type: t.to_string(),
                labels,
                board_ids: Vec::new(),
            })
    }

    fn any_field() -> impl Strategy<Value = FieldSchema> {
        (
            "[A-Z][A-Za-z0-9_]{0,10}",
            "\\PC{0,16}",
            prop::sample::select(vec![
                "string",
                "picklist",
                "multipicklist",
                "double",
                "date",
                "datetime",
                "boolean",
                "reference",
                "textarea",
                "address",
            ]),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec("\\PC{0,10}", 0..5),
            any::<bool>(),
        )
            .prop_map(|(name, label, t, c, u, values, restricted)| FieldSchema {
                name,
                label,
                field_type: t.to_string(),
                createable: c,
                updateable: u,
                picklist_values: values,
                restricted_picklist: restricted,
                reference_to: Vec::new(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        // Boards and orgs are outside data: whatever their titles, labels and values, init
        // never panics, and what it writes checks without errors against the same snapshot
        // and is already formatted.
        #[test]
        fn whatever_the_schema_the_mapping_checks_clean(
            mut columns in proptest::collection::vec(any_column(), 0..8),
            fields in proptest::collection::vec(any_field(), 0..8),
        ) {
            // Half the columns are titled after a field, with its values (and one more) as
            // labels, so that matches, translations and one-way fields are exercised.
            if !fields.is_empty() {
                for (i, c) in columns.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
                    if let Some(f) = fields.get(i % fields.len()) {
                        c.title = if i % 4 == 0 { f.name.clone() } else { f.label.clone() };
                        c.labels = f.picklist_values.iter().map(|v| v.to_lowercase()).collect();
                        c.labels.push("Extra".into());
                    }
                }
            }
            columns.insert(0, column("text_key", "Salesforce Id", "text", &[]));
            let mut seen = std::collections::HashSet::new();
            columns.retain(|c| seen.insert(c.id.clone()));
            let mut seen = std::collections::HashSet::new();
            let fields: Vec<FieldSchema> = fields.into_iter().filter(|f| seen.insert(f.name.clone())).collect();
            let s = SchemaSnapshot {
                boards: vec![BoardSchema { version: 1, id: 1, name: "B".into(), columns }],
                sobjects: vec![SObjectSchema { version: 1, name: "Thing__c".into(), fields }],
            };
            let d = init(&InitRequest { object: "Thing", board: &s.boards[0], sobject: &s.sobjects[0], key: None }).unwrap();
            let mut map = SourceMap::new();
            let id = map.add("t.crmmap", d.text.as_str());
            let checked = crate::check_sources_with_schema(&map, Some(&s));
            prop_assert!(!checked.has_errors(), "{}\n{:#?}", d.text, checked.diagnostics);
            prop_assert_eq!(crate::fmt::format(map.get(id)).unwrap(), d.text.clone());
        }
    }
}
