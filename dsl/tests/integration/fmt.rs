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
