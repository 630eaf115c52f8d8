//! The formatter: shipped mappings are already formatted; formatting is idempotent, keeps
//! comments and never changes the syntax tree.

use crmmap_dsl::fmt::format;
use crmmap_dsl::{SourceMap, parse};

use crate::{crmmap_files, one_file};

fn fmt_text(name: &str, text: &str) -> String {
    let mut map = SourceMap::new();
    let id = map.add(name, text);
    format(map.get(id)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The three properties every formatted file must have.
pub fn assert_sound(name: &str, text: &str) -> String {
    let mut map = SourceMap::new();
    let id = map.add(name, text);
    let before = parse(map.get(id)).unwrap();
    let once = fmt_text(name, text);
    let twice = fmt_text(name, &once);
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    let id2 = map.add(name, once.as_str());
    let after = parse(map.get(id2)).unwrap();
    assert_eq!(before, after, "{name}: formatting changed the syntax tree");
    let texts = |f: &crmmap_dsl::ast::File| {
        f.comments
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(&before),
        texts(&after),
        "{name}: comments lost or reordered"
    );
    once
}

#[test]
fn shipped_mappings_are_formatted() {
    for path in crmmap_files("mappings") {
        let map = one_file(&path);
        let file = &map.files()[0];
        let formatted = assert_sound(&file.path, &file.text);
        assert_eq!(
            formatted, *file.text,
            "{} is not formatted; run `crmmap fmt`",
            file.path
        );
    }
}

#[test]
fn fmt_fixtures() {
    insta::glob!("../fixtures", "fmt/*.crmmap", |path| {
        let map = one_file(path);
        let file = &map.files()[0];
        insta::assert_snapshot!(assert_sound(&file.path, &file.text));
    });
}

#[test]
fn check_fixtures_that_parse_format_soundly() {
    for path in crmmap_files("dsl/tests/fixtures/check") {
        let map = one_file(&path);
        let file = &map.files()[0];
        if parse(file).is_ok() {
            assert_sound(&file.path, &file.text);
        }
    }
}

#[test]
fn a_syntax_error_is_reported_not_formatted() {
    let mut map = SourceMap::new();
    let id = map.add("bad.crmmap", "object {");
    assert!(matches!(
        format(map.get(id)),
        Err(crmmap_dsl::fmt::FmtError::Syntax(_))
    ));
}

#[test]
fn fmt_with_a_schema_writes_the_types_in() {
    let text = "object Lead {\n  salesforce Lead\n  board 1\n  key text_id\n  field text_first : text <-> FirstName\n  field color_status : status -> Status | trim\n  field text_x : text <- Unknown__c\n}\n";
    let mut map = crmmap_dsl::SourceMap::new();
    let id = map.add("a.crmmap", text);
    let snapshot = crate::diagnostics::fixture_snapshot();
    let out = crmmap_dsl::fmt::format_with_schema(map.get(id), Some(&snapshot)).unwrap();
    assert_eq!(
        out,
        "object Lead {\n  salesforce Lead\n  board 1\n  key text_id\n  field text_first   : text   <-> FirstName  : string\n  field color_status : status ->  Status     : picklist | trim\n  field text_x       : text   <-  Unknown__c\n}\n"
    );
    // Formatting the result again changes nothing, with or without the snapshot.
    let id = map.add("b.crmmap", out.clone());
    assert_eq!(
        crmmap_dsl::fmt::format_with_schema(map.get(id), Some(&snapshot)).unwrap(),
        out
    );
    assert_eq!(crmmap_dsl::fmt::format(map.get(id)).unwrap(), out);
    // Without a snapshot, a missing type stays missing.
    let id = map.add("c.crmmap", text);
    assert!(
        crmmap_dsl::fmt::format(map.get(id))
            .unwrap()
            .contains("<-> FirstName\n")
    );
}
