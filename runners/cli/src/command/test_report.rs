//! How `crmmap test` reports: rendered for people (miette, as `check` does), as JSON, or as
//! GitHub Actions annotations. A failing case shows expected and actual values side by side and
//! points at the mapping lines that produced them.
//!
//! Codes: `T0001` a test file cannot be read, `T0101` a case failed, `T0102` a case could not
//! run (a name the mappings do not have, a value its column cannot hold, an evaluation error).

use std::fmt;
use std::ops::Range;

use crmmap_dsl::ast::{Item, Stmt};
use crmmap_dsl::diag::{escape_data, escape_property};
use crmmap_dsl::{SourceFile, SourceMap};
use crmmap_engine::cases::{Blame, Case, FileRun, Mismatch, Outcome, line_col};
use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde_json::json;

/// A place in a mapping file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    path: String,
    text: String,
    span: Range<usize>,
}

impl Place {
    fn json(&self) -> serde_json::Value {
        let (line, column) = line_col(&self.text, self.span.start);
        let (end_line, end_column) = line_col(&self.text, self.span.end);
        json!({ "path": self.path, "line": line, "column": column,
                "end_line": end_line, "end_column": end_column })
    }
}

/// Where in the mappings each blame is.
fn places(blame: &[Blame], map: &SourceMap) -> Vec<Place> {
    let mut out: Vec<Place> = Vec::new();
    for b in blame {
        for p in place(b, map) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn place(blame: &Blame, map: &SourceMap) -> Vec<Place> {
    let at = |file: &SourceFile, span: Range<usize>| Place {
        path: file.path.to_string(),
        text: file.text.to_string(),
        span,
    };
    let range = |s: crmmap_dsl::Span| s.start as usize..s.end as usize;
    match blame {
        Blame::At(origin) => map
            .files()
            .iter()
            .filter(|f| *f.path == *origin.file)
            .filter_map(|f| line_span(&f.text, origin.line, origin.column).map(|s| at(f, s)))
            .take(1)
            .collect(),
        Blame::NameRule { object } | Blame::Key { object } => {
            let want = |s: &Stmt| match blame {
                Blame::Key { .. } => matches!(s, Stmt::Key(_)),
                _ => matches!(s, Stmt::NameBoth(_) | Stmt::NameToMonday(_)),
            };
            asts(map)
                .flat_map(|(f, ast)| {
                    ast.items
                        .into_iter()
                        .filter_map(|i| match i {
                            Item::Object(o) if o.name.node == *object => Some(o),
                            _ => None,
                        })
                        .flat_map(|o| o.stmts)
                        .filter(|s| want(&s.node))
                        .map(|s| at(f, range(s.span)))
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Blame::Table { table, values } => asts(map)
            .flat_map(|(f, ast)| {
                ast.items
                    .into_iter()
                    .filter_map(|i| match i {
                        Item::Translate(t) if t.name.node == *table => Some(t),
                        _ => None,
                    })
                    .flat_map(|t| {
                        let entries: Vec<Place> = t
                            .pairs
                            .iter()
                            .filter(|p| {
                                values.contains(&p.node.0.node) || values.contains(&p.node.1.node)
                            })
                            .map(|p| at(f, range(p.span)))
                            .collect();
                        if entries.is_empty() {
                            vec![at(f, range(t.name.span))]
                        } else {
                            entries
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

fn asts(map: &SourceMap) -> impl Iterator<Item = (&SourceFile, crmmap_dsl::ast::File)> {
    map.files()
        .iter()
        .filter_map(|f| crmmap_dsl::parse(f).ok().map(|a| (f, a)))
}

/// The text of 1-based `line` from 1-based character `column` to the line's end, trailing
/// spaces left out.
fn line_span(text: &str, line: u32, column: u32) -> Option<Range<usize>> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let skip: usize = l
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            let end = start + l.trim_end().len();
            return Some((start + skip).min(end)..end);
        }
        start += l.len();
    }
    None
}

/// One report rendered by miette: a case, a file error, or (related) a mapping place.
struct Report {
    message: String,
    code: Option<&'static str>,
    severity: miette::Severity,
    source: NamedSource<String>,
    labels: Vec<(Range<usize>, String)>,
    help: Option<String>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (s, t))| {
                let span = SourceSpan::new(s.start.into(), s.end.saturating_sub(s.start));
                let text = (!t.is_empty()).then(|| t.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty()).then(|| {
            Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic))
                as Box<dyn Iterator<Item = &dyn miette::Diagnostic>>
        })
    }
}

fn shown(v: Option<&String>) -> &str {
    v.map_or("(not written)", String::as_str)
}

/// Expected and actual values side by side.
fn table(mismatches: &[Mismatch]) -> String {
    let w0 = mismatches
        .iter()
        .map(|m| m.what.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let w1 = mismatches
        .iter()
        .map(|m| shown(m.expected.as_ref()).chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!("{:w0$}  {:w1$}  actual", "what", "expected");
    for m in mismatches {
        out.push_str(&format!(
            "\n{:w0$}  {:w1$}  {}",
            m.what,
            shown(m.expected.as_ref()),
            shown(m.actual.as_ref())
        ));
    }
    out
}

fn related(blame: &[Blame], map: &SourceMap, text: &str) -> Vec<Report> {
    places(blame, map)
        .into_iter()
        .map(|p| Report {
            message: format!("{text} here"),
            code: None,
            severity: miette::Severity::Advice,
            source: NamedSource::new(&p.path, p.text.clone()).with_language("crmmap"),
            labels: vec![(p.span, String::new())],
            help: None,
            related: Vec::new(),
        })
        .collect()
}

fn reports(run: &FileRun, map: &SourceMap) -> Vec<Report> {
    let source = || NamedSource::new(&run.path, run.text.clone()).with_language("toml");
    let cases = match &run.cases {
        Ok(cases) => cases,
        Err(e) => {
            return vec![Report {
                message: format!("cannot read the test file: {}", e.message),
                code: Some("T0001"),
                severity: miette::Severity::Error,
                source: source(),
                labels: e.span.iter().map(|s| (s.clone(), String::new())).collect(),
                help: None,
                related: Vec::new(),
            }];
        }
    };
    let mut out = Vec::new();
    for (case, outcome) in cases {
        match outcome {
            Outcome::Passed => {}
            Outcome::Failed(ms) => {
                let blame: Vec<Blame> = ms.iter().flat_map(|m| m.blame.clone()).collect();
                out.push(Report {
                    message: format!("case `{}` failed ({})", case.name, case.object),
                    code: Some("T0101"),
                    severity: miette::Severity::Error,
                    source: source(),
                    labels: std::iter::once((case.name_span.clone(), String::new()))
                        .chain(ms.iter().map(|m| {
                            (
                                m.span.clone(),
                                format!("{}: got {}", m.what, shown(m.actual.as_ref())),
                            )
                        }))
                        .collect(),
                    help: Some(table(ms)),
                    related: related(&blame, map, "the value is produced"),
                });
            }
            Outcome::Error(e) => out.push(Report {
                message: format!("case `{}` could not run: {}", case.name, e.message),
                code: Some("T0102"),
                severity: miette::Severity::Error,
                source: source(),
                labels: vec![(e.span.clone(), String::new())],
                help: None,
                related: related(&e.blame, map, "declared"),
            }),
        }
    }
    out
}

/// Counts: (files, cases passed, cases failed, files that could not be read).
fn counts(runs: &[FileRun]) -> (usize, usize, usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    let mut unreadable = 0;
    for r in runs {
        match &r.cases {
            Ok(cases) => {
                for (_, o) in cases {
                    if o.passed() {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
            Err(_) => unreadable += 1,
        }
    }
    (runs.len(), passed, failed, unreadable)
}

/// The human rendering: each failure with carets, then one summary line.
pub fn human(runs: &[FileRun], map: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for run in runs {
        for r in reports(run, map) {
            // Writing to a String cannot fail; a renderer's own failure leaves its part out.
            let _ = handler.render_report(&mut out, &r);
            out.push('\n');
        }
    }
    let (files, passed, failed, unreadable) = counts(runs);
    out.push_str(&format!(
        "{files} test file{}: {passed} case{} passed, {failed} failed",
        plural(files),
        plural(passed),
    ));
    if unreadable > 0 {
        out.push_str(&format!(
            ", {unreadable} file{} unreadable",
            plural(unreadable)
        ));
    }
    out.push('\n');
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Version of the JSON output; fields are only ever added.
pub const JSON_FORMAT_VERSION: u32 = 1;

fn case_json(run: &FileRun, case: &Case, outcome: &Outcome, map: &SourceMap) -> serde_json::Value {
    let (line, column) = line_col(&run.text, case.name_span.start);
    let at = |span: &Range<usize>| {
        let (line, column) = line_col(&run.text, span.start);
        json!({ "line": line, "column": column })
    };
    let mapping = |b: &[Blame]| -> Vec<serde_json::Value> {
        places(b, map).iter().map(Place::json).collect()
    };
    let (status, failures, error) = match outcome {
        Outcome::Passed => ("passed", Vec::new(), serde_json::Value::Null),
        Outcome::Failed(ms) => (
            "failed",
            ms.iter()
                .map(|m| {
                    json!({ "what": m.what, "expected": m.expected, "actual": m.actual,
                            "at": at(&m.span), "mapping": mapping(&m.blame) })
                })
                .collect(),
            serde_json::Value::Null,
        ),
        Outcome::Error(e) => (
            "error",
            Vec::new(),
            json!({ "message": e.message, "at": at(&e.span), "mapping": mapping(&e.blame) }),
        ),
    };
    json!({ "path": run.path, "name": case.name, "object": case.object, "line": line,
            "column": column, "status": status, "failures": failures, "error": error })
}

/// The JSON document: `{"version": 1, "passed": n, "failed": n, "files": [...], "cases": [...]}`.
pub fn json(runs: &[FileRun], map: &SourceMap) -> String {
    let mut cases = Vec::new();
    let mut files = Vec::new();
    for run in runs {
        match &run.cases {
            Ok(list) => {
                files.push(json!({ "path": run.path, "error": null }));
                cases.extend(list.iter().map(|(c, o)| case_json(run, c, o, map)));
            }
            Err(e) => {
                let (line, column) = e
                    .span
                    .as_ref()
                    .map_or((1, 1), |s| line_col(&run.text, s.start));
                files.push(json!({ "path": run.path, "error": { "code": "T0001",
                    "message": e.message, "line": line, "column": column } }));
            }
        }
    }
    let (_, passed, failed, _) = counts(runs);
    let doc = json!({ "version": JSON_FORMAT_VERSION, "passed": passed, "failed": failed,
                      "files": files, "cases": cases });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
}

/// GitHub Actions workflow commands: an error on the case, a notice on each mapping line
/// that produced a wrong value.
pub fn github(runs: &[FileRun], map: &SourceMap) -> String {
    let mut out = String::new();
    let mut line =
        |kind: &str, path: &str, text: &str, span: &Range<usize>, title: &str, msg: &str| {
            let (l, c) = line_col(text, span.start);
            let (el, ec) = line_col(text, span.end);
            out.push_str(&format!(
                "::{kind} file={},line={l},col={c},endLine={el},endColumn={ec},title={}::{}\n",
                escape_property(path),
                escape_property(title),
                escape_data(msg)
            ));
        };
    for run in runs {
        let cases = match &run.cases {
            Ok(cases) => cases,
            Err(e) => {
                let span = e.span.clone().unwrap_or(0..0);
                line(
                    "error",
                    &run.path,
                    &run.text,
                    &span,
                    "T0001",
                    &format!("cannot read the test file: {}", e.message),
                );
                continue;
            }
        };
        for (case, outcome) in cases {
            let (message, blame, title) = match outcome {
                Outcome::Passed => continue,
                Outcome::Failed(ms) => (
                    format!(
                        "case `{}` failed ({})\n{}",
                        case.name,
                        case.object,
                        table(ms)
                    ),
                    ms.iter().flat_map(|m| m.blame.clone()).collect::<Vec<_>>(),
                    "T0101",
                ),
                Outcome::Error(e) => (
                    format!("case `{}` could not run: {}", case.name, e.message),
                    e.blame.clone(),
                    "T0102",
                ),
            };
            line(
                "error",
                &run.path,
                &run.text,
                &case.name_span,
                title,
                &message,
            );
            let note = if title == "T0101" {
                "produces a value checked by"
            } else {
                "is where the error arose in"
            };
            for p in places(&blame, map) {
                line(
                    "notice",
                    &p.path,
                    &p.text,
                    &p.span,
                    title,
                    &format!("this line {note} case `{}` ({})", case.name, run.path),
                );
            }
        }
    }
    out
}
