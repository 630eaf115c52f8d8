//! Mapping tests (`crmmap_engine::cases`): the loader's errors and spans, its behaviour on
//! hostile text, and what running a case reports.

use crmmap_dsl::SourceMap;
use crmmap_engine::PlanSet;
use crmmap_engine::cases::{Blame, Input, LoadError, Outcome, line_col, load, run_case};
use proptest::prelude::*;

const MAPPING: &str = r#"object Lead {
  salesforce Lead
  board 1
  key text_key
  name <-> Company
  on create in salesforce {
    LastName = LastName | default("Unknown")
  }
  field text_last   : text     <-> LastName : string
  field dropdown_st : dropdown <-> State    : string | translate(labels) | join(";")
}
translate labels {
  "WA" = "Washington"
  "OR" = "Oregon"
}
"#;

fn plans() -> PlanSet {
    let mut map = SourceMap::new();
    map.add("lead.crmmap", MAPPING);
    crmmap_engine::compile(&crmmap_dsl::check_sources(&map).model.unwrap())
}

/// The text a load error points at.
fn pointed<'a>(text: &'a str, e: &LoadError) -> &'a str {
    let span = e.span.clone().expect("a span");
    &text[span]
}

#[test]
fn a_valid_file_loads_every_direction() {
    let file = load(
        r#"
today = "2025-05-01"
[[case]]
name = "a"
object = "Lead"
direction = "salesforce_to_monday"
record = { Company = "Acme" }
expect = { name = "Acme" }
[[case]]
name = "b"
object = "Lead"
direction = "monday_to_salesforce"
column = "dropdown_st"
value = ["Washington"]
expect_only = { fields = { State = "WA" } }
[[case]]
name = "c"
object = "Lead"
direction = "monday_to_salesforce"
rename = "Acme"
expect = { fields = { Company = "Acme" } }
[[case]]
name = "d"
object = "Lead"
direction = "item_created"
item = { name = "Acme" }
expect = { fields = {} }
[[case]]
name = "e"
object = "Lead"
direction = "rule"
change = { Status = "Qualified" }
expect = { rules = [] }
"#,
    )
    .unwrap();
    assert_eq!(file.cases.len(), 5);
    assert_eq!(file.cases[0].today.to_string(), "2025-05-01");
    assert!(matches!(file.cases[2].input, Input::Rename { .. }));
    assert!(file.cases[1].only_listed && !file.cases[0].only_listed);
}

#[test]
fn load_errors_point_at_the_offending_text() {
    let cases = [
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"sideways\"\nexpect = {}\n",
            "\"sideways\"",
            "unknown variant",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"rule\"\nchange = {}\nexpected = {}\n",
            "expected",
            "unknown field",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = {}\ncolumn = \"x\"\nexpect = {}\n",
            "\"x\"",
            "`column` does not belong",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = {}\n",
            "\"a\"",
            "no `expect`",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"item_created\"\nitem = { name = \"x\" }\nexpect = { columns = { c = 1 } }\n",
            "1",
            "expects `fields`, not `columns`",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = {}\ntoday = \"soon\"\nexpect = {}\n",
            "\"soon\"",
            "not a date",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"rule\"\nchange = {}\nexpect = {}\n[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"rule\"\nchange = {}\nexpect = {}\n",
            "\"a\"",
            "two cases",
        ),
        (
            "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"rule\"\nchange = {}\nexpect = { propagates = { Stage = 1 } }\n",
            "1",
            "not `alias.Field`",
        ),
    ];
    for (text, at, message) in cases {
        let e = load(text).unwrap_err();
        assert!(e.message.contains(message), "{text}: {}", e.message);
        assert_eq!(pointed(text, &e), at, "{text}: {}", e.message);
    }
    let e = load("[[case]\nname = 1").unwrap_err();
    assert!(e.span.is_some(), "{e:?}");
    assert!(load("").unwrap_err().message.contains("no `[[case]]`"));
}

#[test]
fn line_col_counts_characters() {
    let text = "ab\nçd\n";
    assert_eq!(line_col(text, 0), (1, 1));
    assert_eq!(line_col(text, 3), (2, 1));
    assert_eq!(line_col(text, 5), (2, 2));
    assert_eq!(line_col(text, 999), (3, 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_loads_or_fails_with_a_span_inside_it(text in "\\PC{0,200}") {
        if let Err(e) = load(&text)
            && let Some(span) = e.span
        {
            prop_assert!(span.start <= span.end && span.end <= text.len());
        }
    }

    #[test]
    fn a_damaged_case_never_panics(cut in 0usize..400, insert in "[\\[\\]{}=\",a-z0-9 \n]{0,6}") {
        let valid = "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"monday_to_salesforce\"\ncolumn = \"dropdown_st\"\nvalue = [\"Washington\"]\nprevious = \"Oregon\"\nexpect = { fields = { State = \"WA\" } }\n";
        let at = valid.char_indices().map(|(i, _)| i).nth(cut % valid.len()).unwrap_or(0);
        let text = format!("{}{insert}{}", &valid[..at], &valid[at..]);
        if let Ok(file) = load(&text) {
            // Whatever loads also runs without panicking.
            let plans = plans();
            for case in &file.cases {
                let _ = run_case(&plans, case);
            }
        }
    }
}

fn one(text: &str) -> Outcome {
    let file = load(text).unwrap();
    run_case(&plans(), &file.cases[0])
}

#[test]
fn a_passing_case_passes_and_a_wrong_value_is_shown_with_its_origin() {
    let ok = one(
        "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = { Company = \"Acme\", State = \"WA;OR\" }\nexpect = { name = \"Acme\", columns = { dropdown_st = [\"Oregon\", \"Washington\"] } }\n",
    );
    assert_eq!(ok, Outcome::Passed);
    let text = "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = { Company = \"Acme\", State = \"WA\" }\nexpect = { name = \"Acme\", columns = { dropdown_st = [\"Oregon\"] } }\n";
    let Outcome::Failed(ms) = one(text) else {
        panic!("the case fails")
    };
    assert_eq!(ms.len(), 1, "{ms:?}");
    let m = &ms[0];
    assert_eq!(m.what, "column `dropdown_st`");
    assert_eq!(m.expected.as_deref(), Some(r#"["Oregon"]"#));
    assert_eq!(m.actual.as_deref(), Some(r#"["Washington"]"#));
    assert_eq!(&text[m.span.clone()], r#"["Oregon"]"#);
    let Blame::At(origin) = &m.blame[0] else {
        panic!("{:?}", m.blame)
    };
    assert_eq!((&*origin.file, origin.line), ("lead.crmmap", 10));
    assert!(
        m.blame
            .iter()
            .any(|b| matches!(b, Blame::Table { table, values }
        if table == "labels" && values.contains(&"Washington".to_owned())))
    );
}

#[test]
fn expect_lists_every_write_and_expect_only_the_listed_ones() {
    let body = "object = \"Lead\"\ndirection = \"salesforce_to_monday\"\nrecord = { Company = \"Acme\", LastName = \"Lovelace\" }\n";
    let exact = one(&format!(
        "[[case]]\nname = \"a\"\n{body}expect = {{ name = \"Acme\" }}\n"
    ));
    let Outcome::Failed(ms) = exact else {
        panic!("an unlisted write fails `expect`")
    };
    assert_eq!(ms[0].what, "column `text_last`");
    assert_eq!(ms[0].expected, None);
    let only = one(&format!(
        "[[case]]\nname = \"a\"\n{body}expect_only = {{ name = \"Acme\" }}\n"
    ));
    assert_eq!(only, Outcome::Passed);
    let missing = one(&format!(
        "[[case]]\nname = \"a\"\n{body}expect_only = {{ columns = {{ text_key = \"x\" }} }}\n"
    ));
    let Outcome::Failed(ms) = missing else {
        panic!("a write that does not happen fails")
    };
    assert_eq!(
        (ms[0].expected.as_deref(), ms[0].actual.as_deref()),
        (Some("\"x\""), None)
    );
}

#[test]
fn monday_changes_creates_and_renames_run_through_the_plan() {
    let change = one(
        "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"monday_to_salesforce\"\ncolumn = \"dropdown_st\"\nvalue = \"Oregon;Washington\"\nexpect = { fields = { State = \"OR;WA\" } }\n",
    );
    assert_eq!(change, Outcome::Passed);
    let create = one(
        "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"item_created\"\nitem = { name = \"Acme\" }\nexpect = { fields = { Company = \"Acme\", LastName = \"Unknown\" } }\n",
    );
    assert_eq!(create, Outcome::Passed);
    let Outcome::Failed(ms) = one(
        "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"item_created\"\nitem = { name = \"Acme\" }\nexpect = { fields = { Company = \"Acme\", LastName = \"Known\" } }\n",
    ) else {
        panic!("a wrong default fails")
    };
    assert!(
        ms[0]
            .blame
            .iter()
            .any(|b| matches!(b, Blame::At(o) if o.line == 7)),
        "the create default is blamed: {:?}",
        ms[0].blame
    );
}

#[test]
fn names_the_mappings_lack_are_errors_at_the_case() {
    let text = "[[case]]\nname = \"a\"\nobject = \"Leed\"\ndirection = \"monday_to_salesforce\"\nrename = \"x\"\nexpect = { fields = {} }\n";
    let Outcome::Error(e) = one(text) else {
        panic!("an unknown object is an error")
    };
    assert_eq!(&text[e.span], "\"Leed\"");
    let text = "[[case]]\nname = \"a\"\nobject = \"Lead\"\ndirection = \"monday_to_salesforce\"\ncolumn = \"nope\"\nvalue = \"x\"\nexpect = { fields = {} }\n";
    let Outcome::Error(e) = one(text) else {
        panic!("an unknown column is an error")
    };
    assert_eq!(&text[e.span], "\"nope\"");
}
