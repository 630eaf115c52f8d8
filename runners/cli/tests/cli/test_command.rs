//! `crmmap test`: the shipped mapping tests pass; failures, unreadable test files and mappings
//! that do not check give exit codes 1 and 2, in each output format.

use crate::commands::crmmap;

const FAILING: &str = "tests/fixtures/cli/mapping-tests/failing.toml";

#[test]
fn the_shipped_mapping_tests_pass() {
    insta::assert_snapshot!(crmmap(&["test", "mappings"]));
}

#[test]
fn a_failing_case_shows_expected_actual_and_the_mapping_line_and_exits_1() {
    insta::assert_snapshot!("human", crmmap(&["test", "mappings", "--tests", FAILING]));
    insta::assert_snapshot!(
        "json",
        crmmap(&["test", "mappings", "--tests", FAILING, "--format", "json"])
    );
    insta::assert_snapshot!(
        "github",
        crmmap(&["test", "mappings", "--tests", FAILING, "--format", "github"])
    );
}

#[test]
fn unreadable_tests_and_mappings_that_do_not_check_exit_2() {
    insta::assert_snapshot!(
        "unreadable",
        crmmap(&[
            "test",
            "mappings",
            "--tests",
            "tests/fixtures/cli/mapping-tests/unreadable.toml"
        ])
    );
    let out = crmmap(&["test", "tests/fixtures/cli/broken", "--tests", FAILING]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    let out = crmmap(&["test", "mappings", "--tests", "no/such/file.toml"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
}
