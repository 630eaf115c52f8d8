//! The documentation says what the code does.

use crmmap_tests::root;

const BEGIN: &str = "<!-- transforms:begin -->\n";
const END: &str = "<!-- transforms:end -->";

#[test]
fn the_transform_reference_in_the_language_doc_is_generated_from_the_library() {
    let path = root().join("docs/language.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = doc.find(END).expect("end marker");
    let generated = crmmap_engine::library::reference_markdown();
    if std::env::var_os("CRMMAP_UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &doc[..start], generated, &doc[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        generated,
        "docs/language.md is out of date: run `CRMMAP_UPDATE_DOCS=1 cargo test -p crmmap-tests docs`"
    );
}

#[test]
fn every_transform_the_checker_knows_is_in_the_library() {
    let names: Vec<&str> = crmmap_engine::library::library()
        .iter()
        .map(|t| t.name)
        .collect();
    for step in crmmap_dsl::transform::names() {
        assert!(
            names.contains(&step),
            "{step} is not documented in the library"
        );
    }
}
