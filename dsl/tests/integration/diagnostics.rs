//! Every fixture under `fixtures/check/` produces the code its name starts with; the rendered
//! diagnostics (human, JSON and GitHub) are snapshots.

use crmmap_dsl::schema::SchemaSnapshot;
use crmmap_dsl::{Code, check_sources, check_sources_with_schema, diag};

use crate::{one_file, root};

/// The schema snapshot the E06xx fixtures are checked against (`fixtures/schema/`).
pub fn fixture_snapshot() -> SchemaSnapshot {
    let dir = root().join("dsl/tests/fixtures/schema");
    let mut snapshot = SchemaSnapshot::default();
    for sub in ["monday", "salesforce"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            if sub == "monday" {
                snapshot.boards.push(serde_json::from_str(&text).unwrap());
            } else {
                snapshot.sobjects.push(serde_json::from_str(&text).unwrap());
            }
        }
    }
    snapshot
}

#[test]
fn check_fixtures() {
    insta::glob!("../fixtures", "check/*.crmmap", |path| {
        let map = one_file(path);
        let name = path.file_stem().unwrap().to_string_lossy();
        let code = name.split('_').next().unwrap();
        // Schema codes (E06xx, W06xx) need a snapshot; the other fixtures must not depend on one.
        let snapshot = (code.starts_with("E06") || code.starts_with("W06")).then(fixture_snapshot);
        let checked = check_sources_with_schema(&map, snapshot.as_ref());
        assert!(
            checked
                .diagnostics
                .iter()
                .any(|d| d.code.to_string() == code),
            "{name} does not produce {code}: {:#?}",
            checked.diagnostics
        );
        if code.starts_with('E') {
            assert!(
                checked.model.is_none(),
                "{name}: an error must withhold the model"
            );
        }
        let human = diag::render_human(&checked.diagnostics, &map, 100, false);
        let json = diag::render_json(&checked.diagnostics, &map);
        let github = diag::render_github(&checked.diagnostics, &map);
        insta::assert_snapshot!(format!(
            "{human}\n--- json ---\n{json}\n--- github ---\n{github}"
        ));
    });
}

/// The text a diagnostic's primary label covers.
fn underlined(map: &crmmap_dsl::SourceMap, d: &crmmap_dsl::Diagnostic) -> String {
    let span = d.span();
    map.get(span.file).text[span.start as usize..span.end as usize].to_string()
}

#[test]
fn the_snapshot_checks_are_silent_without_a_snapshot_and_on_clean_mappings() {
    let map = one_file(&root().join("dsl/tests/fixtures/check/E0601_unknown_column.crmmap"));
    assert!(check_sources(&map).diagnostics.is_empty());
    let mut map = crmmap_dsl::SourceMap::new();
    map.add(
        "ok.crmmap",
        "object Lead {\n  salesforce Lead\n  board 1\n  key text_id\n  field text_first : text <-> FirstName : string\n  field color_status : status -> Status : picklist\n  link board_relation_a -> Account via Linked_Account__c\n}\nobject Account {\n  salesforce Account\n  board 2\n  key text_id\n  name <-> Name\n}\n",
    );
    let checked = check_sources_with_schema(&map, Some(&fixture_snapshot()));
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

#[test]
fn types_left_out_are_taken_from_the_snapshot() {
    let mut map = crmmap_dsl::SourceMap::new();
    map.add(
        "ok.crmmap",
        "object Lead {\n  salesforce Lead\n  board 1\n  key text_id\n  field text_first : text <-> FirstName\n}\nobject Account {\n  salesforce Account\n  board 2\n  key text_id\n}\n",
    );
    // Without a snapshot there is nothing to take the type from.
    let codes: Vec<Code> = check_sources(&map)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, [Code::E0309]);
    let checked = check_sources_with_schema(&map, Some(&fixture_snapshot()));
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let model = checked.model.unwrap();
    assert_eq!(
        model.objects[0].fields[0].field_type,
        crmmap_dsl::model::SfType::String
    );
}

#[test]
fn a_number_field_taken_from_the_snapshot_is_a_number() {
    let mut map = crmmap_dsl::SourceMap::new();
    map.add(
        "ok.crmmap",
        "object Lead {\n  salesforce Lead\n  board 1\n  key text_id\n  field text_first : text <- Score__c\n}\nobject Account {\n  salesforce Account\n  board 2\n  key text_id\n}\n",
    );
    let checked = check_sources_with_schema(&map, Some(&fixture_snapshot()));
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let model = checked.model.unwrap();
    assert_eq!(
        model.objects[0].fields[0].field_type,
        crmmap_dsl::model::SfType::Double
    );
}

#[test]
fn labels_cover_exactly_the_offending_text() {
    let cases = [
        ("E0301_unknown_column_type", Code::E0301, "txt"),
        ("E0209_unknown_transform", Code::E0209, "trimm"),
        ("E0206_unknown_object", Code::E0206, "Acount"),
        ("E0401_writes_read_only", Code::E0401, "CreatedDate"),
        ("E0101_missing_arrow", Code::E0101, "=>"),
        ("E0307_unknown_side", Code::E0307, "salesfrce"),
    ];
    for (file, code, text) in cases {
        let map = one_file(&root().join(format!("dsl/tests/fixtures/check/{file}.crmmap")));
        let checked = check_sources(&map);
        let d = checked.diagnostics.iter().find(|d| d.code == code).unwrap();
        assert_eq!(underlined(&map, d), text, "{file}");
    }
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let mut map = crmmap_dsl::SourceMap::new();
    map.add(
        "a.crmmap",
        "object A {\n  salesforce A\n  board 1\n  key k\n  field a : txt <-> X : string\n  field b : text <-> Y : string | nope\n  field c : date <-> Z : boolean\n}\n",
    );
    map.add("b.crmmap", "object B {\n  field oops\n}\n");
    map.add("c.crmmap", "object C {\n  salesforce C\n  board 3\n}\n");
    let checked = check_sources(&map);
    let codes: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(codes, ["E0301", "E0209", "E0303", "E0101", "E0207"]);
}

#[test]
fn the_shipped_mappings_check_clean() {
    let mut map = crmmap_dsl::SourceMap::new();
    for f in crate::crmmap_files("mappings") {
        map.add(
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap(),
        );
    }
    let checked = check_sources(&map);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let model = checked.model.unwrap();
    let names: Vec<&str> = model.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Account", "Contact", "Lead", "Opportunity"]);
}
