//! The transform library as data: each step's name, parameters, kinds, fallibility and
//! examples. The examples run as tests, and [`reference_markdown`] renders the reference that
//! `docs/language.md` can include, so the documentation cannot drift from the behaviour.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use time::macros::{date, datetime};

use crate::plan::{DatePattern, ExprPlan, StepPlan, Table};
use crate::value::{Number, Value};

/// One documented example: a step, a monday-side value and the Salesforce-side value it gives
/// going to Salesforce; when `both_ways` is set, the step also gives the monday value back.
#[derive(Clone, Debug)]
pub struct Example {
    /// The step as written in a mapping.
    pub written: &'static str,
    /// The step.
    pub step: StepPlan,
    /// The monday-side value.
    pub monday: Value,
    /// The Salesforce-side value.
    pub salesforce: Value,
    /// Whether the example also holds from Salesforce to monday.
    pub both_ways: bool,
}

/// A transform's documentation.
#[derive(Clone, Debug)]
pub struct TransformDoc {
    /// Its name in the language.
    pub name: &'static str,
    /// Its parameters, as written.
    pub params: &'static str,
    /// What it takes and gives going to Salesforce.
    pub kinds: &'static str,
    /// Whether it can fail at run time.
    pub fallible: bool,
    /// What it does, both ways.
    pub summary: &'static str,
    /// Examples, run as tests.
    pub examples: Vec<Example>,
}

/// The translate table the examples use: `"Curriculum" = "Curriculum Development"`.
pub(crate) fn example_table() -> StepPlan {
    let pairs = [
        ("Curriculum", "Curriculum Development"),
        ("Other Internet source", "Other Social Media"),
    ];
    StepPlan::Translate(Arc::new(Table {
        name: "needs".into(),
        to_salesforce: pairs
            .iter()
            .map(|(s, m)| ((*m).to_owned(), (*s).to_owned()))
            .collect(),
        to_monday: pairs
            .iter()
            .map(|(s, m)| ((*s).to_owned(), (*m).to_owned()))
            .collect::<HashMap<_, _>>(),
    }))
}

fn n(s: &str) -> Value {
    // INVARIANT: the examples' numbers are valid literals.
    Value::Number(Number::parse(s).unwrap_or(Number::ZERO))
}

fn ex(
    written: &'static str,
    step: StepPlan,
    monday: Value,
    salesforce: Value,
    both_ways: bool,
) -> Example {
    Example {
        written,
        step,
        monday,
        salesforce,
        both_ways,
    }
}

/// Every transform, in the order the language reference lists them.
pub fn library() -> Vec<TransformDoc> {
    let t = Value::text;
    let labels = |l: &[&str]| Value::labels(l.iter().copied());
    vec![
        TransformDoc {
            name: "translate",
            params: "table",
            kinds: "text → text, labels → labels",
            fallible: false,
            summary: "monday labels become Salesforce values going to Salesforce, and back going to monday; \
                      values missing from the table pass through unchanged",
            examples: vec![
                ex(
                    "translate(needs)",
                    example_table(),
                    labels(&["Curriculum Development", "Seniors"]),
                    labels(&["Curriculum", "Seniors"]),
                    true,
                ),
                ex(
                    "translate(needs)",
                    example_table(),
                    t("Other Social Media"),
                    t("Other Internet source"),
                    true,
                ),
                ex(
                    "translate(needs)",
                    example_table(),
                    t("Unknown"),
                    t("Unknown"),
                    true,
                ),
            ],
        },
        TransformDoc {
            name: "join",
            params: "separator",
            kinds: "labels → text",
            fallible: false,
            summary: "labels joined with the separator; going to monday the text is split on it (pieces \
                      trimmed, empty pieces dropped)",
            examples: vec![
                ex(
                    "join(\";\")",
                    StepPlan::Join(";".into()),
                    labels(&["a", "b"]),
                    t("a;b"),
                    true,
                ),
                ex(
                    "join(\", \")",
                    StepPlan::Join(", ".into()),
                    labels(&["x"]),
                    t("x"),
                    true,
                ),
                ex(
                    "join(\";\")",
                    StepPlan::Join(";".into()),
                    Value::Labels(vec![]),
                    Value::Null,
                    false,
                ),
            ],
        },
        TransformDoc {
            name: "split",
            params: "separator",
            kinds: "text → labels",
            fallible: false,
            summary: "the mirror image of `join`",
            examples: vec![ex(
                "split(\";\")",
                StepPlan::Split(";".into()),
                t("a;b"),
                labels(&["a", "b"]),
                true,
            )],
        },
        TransformDoc {
            name: "trim",
            params: "",
            kinds: "text → text, labels → labels",
            fallible: false,
            summary: "surrounding whitespace removed, the same both ways",
            examples: vec![
                ex("trim", StepPlan::Trim, t("  a b "), t("a b"), false),
                ex(
                    "trim",
                    StepPlan::Trim,
                    labels(&[" a"]),
                    labels(&["a"]),
                    false,
                ),
            ],
        },
        TransformDoc {
            name: "upper",
            params: "",
            kinds: "text → text, labels → labels",
            fallible: false,
            summary: "upper case, the same both ways",
            examples: vec![ex("upper", StepPlan::Upper, t("ca"), t("CA"), false)],
        },
        TransformDoc {
            name: "lower",
            params: "",
            kinds: "text → text, labels → labels",
            fallible: false,
            summary: "lower case, the same both ways",
            examples: vec![ex("lower", StepPlan::Lower, t("CA"), t("ca"), false)],
        },
        TransformDoc {
            name: "capitalize",
            params: "",
            kinds: "text → text",
            fallible: false,
            summary: "the first letter or digit upper-cased (what comes before it, such as spaces or \
                      punctuation, is kept), the rest unchanged; the same both ways",
            examples: vec![
                ex(
                    "capitalize",
                    StepPlan::Capitalize,
                    t("élan vital"),
                    t("Élan vital"),
                    false,
                ),
                ex(
                    "capitalize",
                    StepPlan::Capitalize,
                    t("  ada"),
                    t("  Ada"),
                    false,
                ),
                ex(
                    "capitalize",
                    StepPlan::Capitalize,
                    t("(acme) inc"),
                    t("(Acme) inc"),
                    false,
                ),
            ],
        },
        TransformDoc {
            name: "default",
            params: "expression",
            kinds: "any → the same kind",
            fallible: false,
            summary: "the expression's value when the input is empty, the same both ways",
            examples: vec![
                ex(
                    "default(\"Open\")",
                    StepPlan::Default(Box::new(ExprPlan::Str("Open".into()))),
                    Value::Null,
                    t("Open"),
                    false,
                ),
                ex(
                    "default(\"Open\")",
                    StepPlan::Default(Box::new(ExprPlan::Str("Open".into()))),
                    t("MOU"),
                    t("MOU"),
                    true,
                ),
            ],
        },
        TransformDoc {
            name: "format_date",
            params: "pattern of YYYY, MM, DD, hh, mm, ss",
            kinds: "text → date (datetime when the pattern has a time)",
            fallible: true,
            summary: "going to Salesforce the text is parsed with the pattern (an error when it does not \
                      fit); going to monday the date is rendered with it",
            examples: vec![
                ex(
                    "format_date(\"DD/MM/YYYY\")",
                    StepPlan::FormatDate(DatePattern::new("DD/MM/YYYY")),
                    t("05/06/2024"),
                    Value::Date(date!(2024 - 06 - 05)),
                    true,
                ),
                ex(
                    "format_date(\"YYYY-MM-DD hh:mm\")",
                    StepPlan::FormatDate(DatePattern::new("YYYY-MM-DD hh:mm")),
                    t("2024-06-05 14:30"),
                    Value::DateTime(datetime!(2024-06-05 14:30 UTC)),
                    true,
                ),
            ],
        },
        TransformDoc {
            name: "round",
            params: "decimal places",
            kinds: "number → number",
            fallible: false,
            summary: "rounded half away from zero; one way only (`->` or `<-`)",
            examples: vec![
                ex("round(2)", StepPlan::Round(2), n("2.345"), n("2.35"), false),
                ex("round(0)", StepPlan::Round(0), n("-7.5"), n("-8"), false),
                ex("round(1)", StepPlan::Round(1), n("2.5"), n("2.5"), true),
            ],
        },
        TransformDoc {
            name: "first_names",
            params: "",
            kinds: "text → text",
            fallible: false,
            summary: "all but the last word of a name (the whole name when it is one word); one way only",
            examples: vec![
                ex(
                    "first_names",
                    StepPlan::FirstNames,
                    t("Ada King Lovelace"),
                    t("Ada King"),
                    false,
                ),
                ex(
                    "first_names",
                    StepPlan::FirstNames,
                    t("Cher"),
                    t("Cher"),
                    true,
                ),
            ],
        },
        TransformDoc {
            name: "last_name",
            params: "",
            kinds: "text → text",
            fallible: false,
            summary: "the last word of a name with two words or more, else empty; one way only",
            examples: vec![
                ex(
                    "last_name",
                    StepPlan::LastName,
                    t("Ada King Lovelace"),
                    t("Lovelace"),
                    false,
                ),
                ex(
                    "last_name",
                    StepPlan::LastName,
                    t("Cher"),
                    Value::Null,
                    false,
                ),
            ],
        },
    ]
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(empty)".to_owned(),
        Value::Text(s) => format!("{s:?}"),
        Value::Labels(l) => format!(
            "[{}]",
            l.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.display(),
    }
}

/// The transform reference in Markdown: one section per transform with its examples.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for doc in library() {
        let _ = writeln!(out, "### `{}`\n", doc.name);
        if !doc.params.is_empty() {
            let _ = writeln!(out, "- parameters: {}", doc.params);
        }
        let _ = writeln!(out, "- kinds: {}", doc.kinds);
        let _ = writeln!(
            out,
            "- fallible: {}",
            if doc.fallible { "yes" } else { "no" }
        );
        let _ = writeln!(out, "\n{}.\n", doc.summary);
        let _ = writeln!(
            out,
            "| step | monday | Salesforce | both ways |\n|---|---|---|---|"
        );
        for e in &doc.examples {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                e.written,
                shown(&e.monday),
                shown(&e.salesforce),
                if e.both_ways { "yes" } else { "→ only" }
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{EmptyEnv, Flow, apply};

    #[test]
    fn examples_run() {
        let env = EmptyEnv {
            today: date!(2024 - 12 - 25),
        };
        for doc in library() {
            assert!(!doc.examples.is_empty(), "{} has no example", doc.name);
            for e in doc.examples {
                assert_eq!(e.step.to_string(), e.written);
                let got = apply(&e.step, e.monday.clone(), Flow::ToSalesforce, &env).unwrap();
                assert_eq!(got, e.salesforce, "{} forward on {:?}", e.written, e.monday);
                if e.both_ways {
                    let back = apply(&e.step, e.salesforce.clone(), Flow::ToMonday, &env).unwrap();
                    assert_eq!(
                        back, e.monday,
                        "{} backward on {:?}",
                        e.written, e.salesforce
                    );
                }
            }
        }
    }

    #[test]
    fn every_step_is_documented() {
        let names: Vec<&str> = library().iter().map(|d| d.name).collect();
        for s in crmmap_dsl::check::TRANSFORMS {
            assert!(names.contains(s), "{s} is not documented");
        }
        let md = reference_markdown();
        assert!(
            md.contains("### `format_date`\n\n- parameters: pattern of YYYY, MM, DD, hh, mm, ss\n")
        );
        assert!(md.contains("| `join(\";\")` | [\"a\", \"b\"] | \"a;b\" | yes |"));
    }
}
