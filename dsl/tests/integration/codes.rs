//! The code registry, its documentation and its fixtures agree.

use crmmap_dsl::Code;

use crate::root;

#[test]
fn every_code_has_a_section_in_docs_errors() {
    let doc = std::fs::read_to_string(root().join("docs/errors.md")).unwrap();
    for code in Code::ALL {
        let heading = format!("## {code}: {}", code.title());
        assert!(doc.contains(&heading), "docs/errors.md lacks `{heading}`");
    }
    let documented = doc
        .lines()
        .filter(|l| l.starts_with("## E") || l.starts_with("## W"))
        .count();
    assert_eq!(
        documented,
        Code::ALL.len(),
        "docs/errors.md documents codes that do not exist"
    );
}

#[test]
fn every_code_has_a_fixture() {
    let names: Vec<String> = crate::crmmap_files("dsl/tests/fixtures/check")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for code in Code::ALL {
        let prefix = format!("{code}_");
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "no fixture dsl/tests/fixtures/check/{prefix}*.crmmap"
        );
    }
}

#[test]
fn codes_are_formatted_and_ordered() {
    let rendered: Vec<String> = Code::ALL.iter().map(ToString::to_string).collect();
    assert!(rendered.iter().all(|c| c.len() == 5));
    let mut sorted = rendered.clone();
    sorted.sort();
    assert_eq!(rendered, sorted);
    assert_eq!(Code::W0001.to_string(), "W0001");
    assert_eq!(Code::E0101.to_string(), "E0101");
}
