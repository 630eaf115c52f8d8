use proptest::prelude::*;

use super::*;
use crate::schema::{BoardSchema, ColumnSchema, FieldSchema, SObjectSchema};
use crate::source::FileId;

const TABLES: &str = "translate stages {\n  \"Open\" = \"Öffnen\"\n  \"Won\" = \"Gewonnen\"\n}\n";
const LEAD: &str = "// Leads: é 😀\nobject Lead {\n  salesforce Lead\n  board 7\n  key text_key\n  name <-> Company\n  field color_st : status <-> Status : picklist | translate(stages)\n  field text_c : text <-> City : string | trim\n  link board_relation_a <-> Account via AccountId\n}\n";
const ACCOUNT: &str =
    "object Account {\n  salesforce Account\n  board 8\n  key text_k\n  name <-> Name\n}\n";

fn map() -> (SourceMap, FileId, FileId) {
    let mut map = SourceMap::new();
    let tables = map.add("tables.crmmap", TABLES);
    let lead = map.add("lead.crmmap", LEAD);
    map.add("account.crmmap", ACCOUNT);
    (map, tables, lead)
}

fn snapshot() -> SchemaSnapshot {
    let column = |id: &str, title: &str, t: &str, labels: &[&str]| ColumnSchema {
        id: id.into(),
        title: title.into(),
        column_type: t.into(),
        labels: labels.iter().map(|&l| l.into()).collect(),
        board_ids: Vec::new(),
    };
    let field = |name: &str, label: &str, t: &str, values: &[&str]| FieldSchema {
        name: name.into(),
        label: label.into(),
        field_type: t.into(),
        createable: true,
        updateable: true,
        picklist_values: values.iter().map(|&v| v.into()).collect(),
        restricted_picklist: !values.is_empty(),
        reference_to: Vec::new(),
    };
    SchemaSnapshot {
        boards: vec![BoardSchema {
            version: 1,
            id: 7,
            name: "Leads".into(),
            columns: vec![
                column("color_st", "Lead Status", "status", &["Öffnen", "Gewonnen"]),
                column("text_c", "City", "text", &[]),
            ],
        }],
        sobjects: vec![SObjectSchema {
            version: 1,
            name: "Lead".into(),
            fields: vec![
                field("Status", "Lead Status", "picklist", &["Open", "Won"]),
                field("City", "City", "string", &[]),
            ],
        }],
    }
}

fn at(text: &str, needle: &str, plus: usize) -> usize {
    text.find(needle).expect("needle in fixture") + plus
}

#[test]
fn hover_shows_a_columns_title_type_and_labels_from_the_snapshot() {
    let (map, _, lead) = map();
    let snap = snapshot();
    let a = Analysis::new(&map, Some(&snap));
    let h = a.hover(lead, at(LEAD, "color_st", 3)).expect("hover");
    assert_eq!(
        h.markdown,
        "**column** `color_st` : `status` of object `Lead`\n\n**Lead Status**: `status` on board 7 (Leads)\n\nlabels: `Öffnen`, `Gewonnen`"
    );
    assert_eq!(h.span.start as usize, at(LEAD, "color_st", 0));
    // Without a snapshot: what the mapping says.
    let a = Analysis::new(&map, None);
    let h = a.hover(lead, at(LEAD, "color_st", 0)).expect("hover");
    assert_eq!(
        h.markdown,
        "**column** `color_st` : `status` of object `Lead`"
    );
}

#[test]
fn hover_shows_a_fields_label_type_and_picklist_values() {
    let (map, _, lead) = map();
    let snap = snapshot();
    let a = Analysis::new(&map, Some(&snap));
    let h = a.hover(lead, at(LEAD, "Status :", 0)).expect("hover");
    assert_eq!(
        h.markdown,
        "**field** `Lead.Status` : `picklist`\n\n**Lead Status**: `picklist` (createable, updateable)\n\npicklist values (restricted): `Open`, `Won`"
    );
    let h = a.hover(lead, at(LEAD, "Company", 2)).expect("hover");
    assert!(
        h.markdown.contains("not a field of `Lead` in the snapshot"),
        "{}",
        h.markdown
    );
}

#[test]
fn hover_shows_a_transforms_documentation_and_a_tables_entries() {
    let (map, tables, lead) = map();
    let a = Analysis::new(&map, None);
    let h = a.hover(lead, at(LEAD, "trim", 1)).expect("hover");
    assert!(
        h.markdown.starts_with("**transform** `trim`"),
        "{}",
        h.markdown
    );
    assert!(h.markdown.contains("- fallible: no"), "{}", h.markdown);
    let table = "**translate** `stages`\n\n| Salesforce | monday |\n|---|---|\n| `Open` | `Öffnen` |\n| `Won` | `Gewonnen` |\n";
    let from_use = a.hover(lead, at(LEAD, "(stages)", 1)).expect("hover");
    assert_eq!(from_use.markdown, table);
    let from_declaration = a.hover(tables, at(TABLES, "stages", 0)).expect("hover");
    assert_eq!(from_declaration.markdown, table);
    // Comments: nothing.
    assert_eq!(a.hover(lead, at(LEAD, "Leads", 0)), None);
}

#[test]
fn definition_goes_to_tables_and_objects_in_other_files() {
    let (map, tables, lead) = map();
    let a = Analysis::new(&map, None);
    let d = a.definition(lead, at(LEAD, "(stages)", 3)).expect("table");
    assert_eq!(
        (d.file, d.start as usize),
        (tables, at(TABLES, "stages", 0))
    );
    let d = a
        .definition(lead, at(LEAD, "Account via", 0))
        .expect("object");
    assert_eq!((d.file.0, d.start as usize), (2, at(ACCOUNT, "Account", 0)));
    assert_eq!(a.definition(lead, at(LEAD, "City", 0)), None);
}

#[test]
fn rename_changes_the_declaration_and_every_use() {
    let (map, tables, lead) = map();
    let a = Analysis::new(&map, None);
    let edits = a
        .rename(lead, at(LEAD, "(stages)", 1), "phases")
        .expect("renamed");
    let places: Vec<(FileId, usize)> = edits
        .iter()
        .map(|e| (e.span.file, e.span.start as usize))
        .collect();
    assert_eq!(
        places,
        [
            (tables, at(TABLES, "stages", 0)),
            (lead, at(LEAD, "stages)", 0))
        ]
    );
    assert!(
        edits
            .iter()
            .all(|e| e.text == "phases" && e.span.end - e.span.start == 6)
    );
    assert_eq!(
        a.rename(lead, at(LEAD, "(stages)", 1), "2x"),
        Err(RenameError::InvalidName("2x".into()))
    );
    assert_eq!(
        a.rename(lead, at(LEAD, "(stages)", 1), "today"),
        Err(RenameError::InvalidName("today".into()))
    );
    assert_eq!(
        a.rename(lead, at(LEAD, "(stages)", 1), "na-me"),
        Err(RenameError::InvalidName("na-me".into()))
    );
    assert_eq!(
        a.rename(lead, at(LEAD, "City", 0), "x"),
        Err(RenameError::NotATable)
    );
}

#[test]
fn rename_refuses_a_taken_name_and_unparsed_files() {
    let (mut map, tables, _) = map();
    map.add("more.crmmap", "translate other {\n}\n");
    let a = Analysis::new(&map, None);
    assert_eq!(
        a.rename(tables, at(TABLES, "stages", 0), "other"),
        Err(RenameError::Taken("other".into()))
    );
    map.add("broken.crmmap", "object {");
    let a = Analysis::new(&map, None);
    assert_eq!(
        a.rename(tables, at(TABLES, "stages", 0), "phases"),
        Err(RenameError::Unparsed("broken.crmmap".into()))
    );
}

fn labels(c: &[Completion]) -> Vec<&str> {
    c.iter().map(|c| c.label.as_str()).collect()
}

/// Completes at the end of `typed`, inserted as a new line before the lead object's `}`.
fn complete_in_lead(typed: &str, snapshot: Option<&SchemaSnapshot>) -> Vec<Completion> {
    let text = LEAD.replace("\n}\n", &format!("\n  {typed}\n}}\n"));
    let mut map = SourceMap::new();
    map.add("tables.crmmap", TABLES);
    let id = map.add("lead.crmmap", text.as_str());
    let offset = text.rfind(typed).expect("typed") + typed.len();
    Analysis::new(&map, snapshot).completion(id, offset)
}

#[test]
fn completion_follows_the_grammar() {
    let snap = snapshot();
    let columns = complete_in_lead("field col", Some(&snap));
    assert_eq!(labels(&columns), ["color_st", "text_c"]);
    assert_eq!(columns[0].detail.as_deref(), Some("Lead Status (status)"));
    assert_eq!(columns[0].kind, CompletionKind::Column);
    let fields = complete_in_lead("field text_c : text <-> ", Some(&snap));
    assert_eq!(labels(&fields), ["Status", "City"]);
    assert_eq!(fields[0].detail.as_deref(), Some("Lead Status (picklist)"));
    assert!(labels(&complete_in_lead("field text_c : te", None)).contains(&"long_text"));
    assert!(
        labels(&complete_in_lead("field text_c : text <-> City : ", None))
            .contains(&"multipicklist")
    );
    assert_eq!(
        labels(&complete_in_lead("field text_c : text <-> City | tr", None))[..2],
        ["translate", "join"]
    );
    assert_eq!(
        labels(&complete_in_lead(
            "field text_c : text <-> City | translate(",
            None
        )),
        ["stages"]
    );
    assert_eq!(
        labels(&complete_in_lead("link board_relation_a <-> ", None)),
        ["Lead"]
    );
    assert!(labels(&complete_in_lead("fi", None)).contains(&"field"));
    assert_eq!(
        labels(&complete_in_lead("conflict prefer ", None)),
        ["salesforce", "monday", "newest"]
    );
    // Without a snapshot, fields are the ones the mappings name for the object.
    assert_eq!(
        labels(&complete_in_lead("name -> ", None)),
        ["AccountId", "City", "Company", "Status"]
    );
}

#[test]
fn completion_at_the_top_level_offers_the_blocks() {
    let mut map = SourceMap::new();
    let id = map.add("x.crmmap", "object A {\n}\n\n");
    let a = Analysis::new(&map, None);
    assert_eq!(labels(&a.completion(id, 14)), ["object", "translate"]);
    // Inside a string: nothing sensible to offer, and no panic.
    let id = map.add("y.crmmap", "translate t {\n  \"é");
    let a = Analysis::new(&map, None);
    let _ = a.completion(id, 18);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ide_functions_never_panic(
        text in "(object|translate|field|link|rule|when|create|set|key|board|\\{|\\}|\\(|\\)|\\||:|<->|->|<-|=|\"|é|😀|\n| |[a-z]{1,4}|[0-9]{1,3}|//)*",
        offset in 0usize..400,
    ) {
        let mut map = SourceMap::new();
        map.add("tables.crmmap", TABLES);
        let id = map.add("x.crmmap", text.as_str());
        let snap = snapshot();
        for snapshot in [None, Some(&snap)] {
            let a = Analysis::new(&map, snapshot);
            let _ = a.hover(id, offset);
            let _ = a.completion(id, offset);
            let _ = a.definition(id, offset);
            let _ = a.rename(id, offset, "renamed");
            let _ = a.hover(FileId(9), offset);
            let _ = a.completion(FileId(9), offset);
        }
    }

    #[test]
    fn ide_functions_never_panic_on_the_fixture_at_any_offset(offset in 0usize..600, cut in 0usize..400) {
        let text: String = LEAD.chars().take(cut).collect();
        let (mut map, _, lead) = map();
        let broken = map.add("cut.crmmap", text.as_str());
        let snap = snapshot();
        let a = Analysis::new(&map, Some(&snap));
        for id in [lead, broken] {
            let _ = a.hover(id, offset);
            let _ = a.completion(id, offset);
            let _ = a.definition(id, offset);
        }
    }
}
