//! The shipped mapping tests (`mappings/tests/*.toml`) pass, and they cannot rot: every change
//! to a translate-table entry or to a transform use in `mappings/` makes some of them fail.
//!
//! Each mutant is a copy of the mappings with one change: an entry's Salesforce value or monday
//! label altered; a transform step removed, or, when the mappings without it do not check, its
//! text argument altered. A mutant that does not check is caught by `crmmap check` already;
//! every mutant that checks must fail a shipped test.

use std::path::Path;

use crmmap_dsl::ast::{Call, Expr, Item, RuleStmt, Stmt};
use crmmap_dsl::{SourceMap, Spanned};
use crmmap_engine::cases;

use crmmap_tests::root;

type Files = Vec<(String, String)>;

fn read(dir: &Path, ext: &str) -> Files {
    let mut out: Files = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect();
    out.sort();
    out
}

fn shipped() -> (Files, Files) {
    let dir = root().join("mappings");
    (read(&dir, "crmmap"), read(&dir.join("tests"), "toml"))
}

/// `None` when the mappings do not check; else whether every case passes.
fn suite_passes(mappings: &Files, tests: &Files) -> Option<bool> {
    let mut map = SourceMap::new();
    for (path, text) in mappings {
        map.add(path.as_str(), text.as_str());
    }
    let model = crmmap_dsl::check_sources(&map).model?;
    let plans = crmmap_engine::compile(&model);
    Some(
        cases::run_files(&plans, tests)
            .iter()
            .all(cases::FileRun::passed),
    )
}

#[test]
fn the_shipped_mapping_tests_pass() {
    let (mappings, tests) = shipped();
    assert_eq!(tests.len(), 4, "one test file per shipped object");
    let mut map = SourceMap::new();
    for (path, text) in &mappings {
        map.add(path.as_str(), text.as_str());
    }
    let plans = crmmap_engine::compile(&crmmap_dsl::check_sources(&map).model.unwrap());
    for run in cases::run_files(&plans, &tests) {
        let list = run.cases.as_ref().unwrap();
        for (case, outcome) in list {
            assert!(outcome.passed(), "{}: {}: {outcome:?}", run.path, case.name);
        }
    }
}

/// One change to one mapping file.
struct Mutant {
    /// The transform use (or table entry side) it changes.
    group: usize,
    file: usize,
    what: String,
    text: String,
}

/// The text with `start..end` replaced.
fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    format!("{}{with}{}", &text[..start], &text[end..])
}

/// The string literal at `start..end` (quotes included) with `~` added inside.
fn alter_literal(text: &str, start: usize, end: usize) -> String {
    let literal = &text[start..end];
    assert!(literal.ends_with('"'), "{literal}");
    splice(text, end - 1, end - 1, "~")
}

/// Every transform call in an expression, nested ones included.
fn calls_in_expr<'a>(e: &'a Spanned<Expr>, out: &mut Vec<&'a Spanned<Call>>) {
    match &e.node {
        Expr::Paren(inner) => calls_in_expr(inner, out),
        Expr::Sum(first, rest) => {
            calls_in_expr(first, out);
            for (_, r) in rest {
                calls_in_expr(r, out);
            }
        }
        Expr::Pipe(inner, calls) => {
            calls_in_expr(inner, out);
            for c in calls {
                out.push(c);
                for a in c.node.args.iter().flatten() {
                    calls_in_expr(a, out);
                }
            }
        }
        _ => {}
    }
}

fn push_steps<'a>(steps: &'a [Spanned<Call>], out: &mut Vec<&'a Spanned<Call>>) {
    for c in steps {
        out.push(c);
        for a in c.node.args.iter().flatten() {
            calls_in_expr(a, out);
        }
    }
}

/// Every transform use in a file: field steps, name rules, create defaults, rule assignments
/// and propagations.
fn transform_uses(file: &crmmap_dsl::ast::File) -> Vec<&Spanned<Call>> {
    let mut out = Vec::new();
    for item in &file.items {
        let Item::Object(o) = item else { continue };
        for s in &o.stmts {
            match &s.node {
                Stmt::Field(f) => push_steps(&f.steps, &mut out),
                Stmt::NameToMonday(e) => calls_in_expr(e, &mut out),
                Stmt::NameToSalesforce { value: Some(e), .. } => calls_in_expr(e, &mut out),
                Stmt::OnCreate(assignments) => {
                    for a in assignments {
                        calls_in_expr(&a.node.value, &mut out);
                    }
                }
                Stmt::Rule(r) => {
                    for rs in &r.stmts {
                        match &rs.node {
                            RuleStmt::Create(c) => {
                                for a in &c.assignments {
                                    calls_in_expr(&a.node.value, &mut out);
                                }
                            }
                            RuleStmt::Set(a) => calls_in_expr(&a.node.value, &mut out),
                            RuleStmt::Propagate { steps, .. } => push_steps(steps, &mut out),
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn mutants(mappings: &Files) -> (Vec<Mutant>, Vec<Mutant>) {
    let mut entries = Vec::new();
    let mut transforms = Vec::new();
    let mut map = SourceMap::new();
    for (path, text) in mappings {
        map.add(path.as_str(), text.as_str());
    }
    for (i, source) in map.files().iter().enumerate() {
        let text: &str = &source.text;
        let ast = crmmap_dsl::parse(source).unwrap();
        for item in &ast.items {
            let Item::Translate(t) = item else { continue };
            for pair in &t.pairs {
                let (sf, monday) = &pair.node;
                for (side, s) in [("Salesforce value", sf), ("monday label", monday)] {
                    entries.push(Mutant {
                        group: entries.len(),
                        file: i,
                        what: format!("{side} {:?} of table `{}`", s.node, t.name.node),
                        text: alter_literal(text, s.span.start as usize, s.span.end as usize),
                    });
                }
            }
        }
        for (group, call) in transform_uses(&ast).into_iter().enumerate() {
            let group = group + 1000 * i;
            let (start, end) = (call.span.start as usize, call.span.end as usize);
            let before = text[..start].trim_end();
            assert!(
                before.ends_with('|'),
                "a step follows `|`: {}",
                &text[start..end]
            );
            let pipe = before.len() - 1;
            let line = source.line_col(call.span.start).0;
            transforms.push(Mutant {
                group,
                file: i,
                what: format!("`{}` removed ({}:{line})", &text[start..end], source.path),
                text: splice(text, pipe, end, ""),
            });
            if let Some(arg) = call
                .node
                .args
                .iter()
                .flatten()
                .find(|a| matches!(a.node, Expr::Str(_)))
            {
                transforms.push(Mutant {
                    group,
                    file: i,
                    what: format!(
                        "`{}` argument altered ({}:{line})",
                        &text[start..end],
                        source.path
                    ),
                    text: alter_literal(text, arg.span.start as usize, arg.span.end as usize),
                });
            }
        }
    }
    (entries, transforms)
}

fn with(mappings: &Files, m: &Mutant) -> Files {
    let mut out = mappings.clone();
    out[m.file].1 = m.text.clone();
    out
}

#[test]
fn every_translate_entry_change_fails_a_shipped_test() {
    let (mappings, tests) = shipped();
    let (entries, _) = mutants(&mappings);
    assert_eq!(entries.len(), 18, "nine entries, two sides each");
    let survivors: Vec<&str> = entries
        .iter()
        .filter(|m| suite_passes(&with(&mappings, m), &tests) != Some(false))
        .map(|m| m.what.as_str())
        .collect();
    assert!(
        survivors.is_empty(),
        "no shipped test notices: {survivors:#?}"
    );
}

#[test]
fn every_transform_change_fails_a_shipped_test() {
    let (mappings, tests) = shipped();
    let (_, transforms) = mutants(&mappings);
    assert!(transforms.len() > 20, "{}", transforms.len());
    let mut survivors = Vec::new();
    let mut caught = std::collections::BTreeSet::new();
    for m in &transforms {
        match suite_passes(&with(&mappings, m), &tests) {
            Some(true) => survivors.push(m.what.as_str()),
            Some(false) => {
                caught.insert(m.group);
            }
            None => {}
        }
    }
    assert!(
        survivors.is_empty(),
        "no shipped test notices: {survivors:#?}"
    );
    // Every use has a mutant that checks and fails a test: none is only caught by `check`.
    let unchecked: Vec<&str> = transforms
        .iter()
        .filter(|m| !caught.contains(&m.group))
        .map(|m| m.what.as_str())
        .collect();
    assert!(
        unchecked.is_empty(),
        "uses no test exercises: {unchecked:#?}"
    );
}

/// The ```toml blocks of a document that hold `[[case]]`s.
fn toml_cases(doc: &str) -> Vec<String> {
    doc.split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains("[[case]]"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_documented_examples_pass_against_the_shipped_mappings() {
    let (mappings, _) = shipped();
    let mut examples = Vec::new();
    for doc in ["README.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        for (i, block) in toml_cases(&text).into_iter().enumerate() {
            examples.push((format!("{doc} example {i}"), block));
        }
    }
    assert_eq!(examples.len(), 2, "one example in each document");
    assert_eq!(
        suite_passes(&mappings, &examples),
        Some(true),
        "{examples:#?}"
    );
}

/// The texts of a test value: a text split at `;`, or each text of an array.
fn texts(v: &toml::Value) -> Vec<String> {
    match v {
        toml::Value::String(s) => s.split(';').map(|p| p.trim().to_owned()).collect(),
        toml::Value::Array(a) => a.iter().flat_map(texts).collect(),
        _ => Vec::new(),
    }
}

fn mentions(values: &cases::Values, text: &str) -> bool {
    values
        .values()
        .any(|g| texts(&g.value).iter().any(|t| t == text))
}

#[test]
fn every_translate_entry_is_tested_in_both_directions() {
    let (mappings, tests) = shipped();
    let mut map = SourceMap::new();
    for (path, text) in &mappings {
        map.add(path.as_str(), text.as_str());
    }
    let model = crmmap_dsl::check_sources(&map).model.unwrap();
    let all: Vec<cases::Case> = tests
        .iter()
        .flat_map(|(_, text)| cases::load(text).unwrap().cases)
        .collect();
    let mut untested = Vec::new();
    for table in &model.translates {
        for (sf, label) in &table.pairs {
            let to_monday = all.iter().any(|c| match &c.input {
                cases::Input::SalesforceToMonday { record } => {
                    mentions(record, sf) && mentions(&c.expect.columns, label)
                }
                _ => false,
            });
            let to_salesforce = all.iter().any(|c| match &c.input {
                cases::Input::ColumnChange { value, .. } => {
                    texts(&value.value).contains(label) && mentions(&c.expect.fields, sf)
                }
                _ => false,
            });
            if !to_monday {
                untested.push(format!("{sf:?} → {label:?}"));
            }
            if !to_salesforce {
                untested.push(format!("{label:?} → {sf:?}"));
            }
        }
    }
    assert!(
        untested.is_empty(),
        "entries no case exercises: {untested:#?}"
    );
}
