//! Diagnostics: one type for every problem `check` reports, and its three renderings
//! (human, JSON, GitHub Actions annotations).

mod codes;

use std::fmt;

pub use codes::Code;
use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::source::{SourceMap, Span};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes `check` fail.
    Error,
    /// Reported; does not make `check` fail.
    Warning,
}

/// A labelled span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub text: String,
    /// Whether this is the main location.
    pub primary: bool,
}

/// One problem found in the mappings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// One line, lowercase, no final period; user names in backticks.
    pub message: String,
    /// Locations; the first primary one is where the caret goes.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
    /// Diagnostics about other places (a first declaration in another file, say).
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// A diagnostic with a primary label at `span`.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            labels: vec![Label {
                span,
                text: String::new(),
                primary: true,
            }],
            help: None,
            related: Vec::new(),
        }
    }

    /// Sets the primary label's text.
    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.labels[0].text = text.into();
        self
    }

    /// Adds a secondary label.
    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Self {
        if span.file == self.labels[0].span.file {
            self.labels.push(Label {
                span,
                text: text.into(),
                primary: false,
            });
        } else {
            let mut note = Diagnostic::new(self.code, span, text);
            note.labels[0].primary = false;
            self.related.push(note);
        }
        self
    }

    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The diagnostic's severity (from its code).
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// The primary span.
    pub fn span(&self) -> Span {
        self.labels
            .iter()
            .find(|l| l.primary)
            .unwrap_or(&self.labels[0])
            .span
    }
}

/// A diagnostic bundled with its source, ready for miette's renderers.
pub struct Report<'a> {
    diag: &'a Diagnostic,
    /// Whether this is a secondary location shown under another diagnostic.
    secondary: bool,
    source: NamedSource<String>,
    related: Vec<Report<'a>>,
}

impl<'a> Report<'a> {
    /// Wraps `diag` with the text of its file.
    pub fn new(diag: &'a Diagnostic, map: &SourceMap) -> Self {
        Self::build(diag, map, false)
    }

    fn build(diag: &'a Diagnostic, map: &SourceMap, secondary: bool) -> Self {
        let file = map.get(diag.span().file);
        Report {
            diag,
            secondary,
            source: NamedSource::new(&*file.path, file.text.to_string()).with_language("crmmap"),
            related: diag
                .related
                .iter()
                .map(|r| Report::build(r, map, true))
                .collect(),
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.secondary {
            return None;
        }
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        if self.secondary {
            return Some(miette::Severity::Advice);
        }
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.diag.labels.iter().map(|l| {
            let span = SourceSpan::new(
                (l.span.start as usize).into(),
                (l.span.end - l.span.start) as usize,
            );
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            if l.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// Renders diagnostics for people, with carets under the spans (colours when `color` is set).
///
/// The graphical renderer is miette's terminal renderer, linked with the `fancy` feature (the
/// CLI turns it on). Without it (the Lambda, which only logs), the same diagnostics are
/// rendered as plain narrated text, and `width` and `color` do not apply.
#[cfg(feature = "fancy")]
pub fn render_human(diags: &[Diagnostic], map: &SourceMap, width: usize, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    render_each(diags, map, |out, report| handler.render_report(out, report))
}

/// Renders diagnostics for people, as plain narrated text (the `fancy` feature is off).
#[cfg(not(feature = "fancy"))]
pub fn render_human(diags: &[Diagnostic], map: &SourceMap, _width: usize, _color: bool) -> String {
    let handler = miette::NarratableReportHandler::new();
    render_each(diags, map, |out, report| handler.render_report(out, report))
}

/// Renders each diagnostic with `render`, a blank line after each.
fn render_each(
    diags: &[Diagnostic],
    map: &SourceMap,
    render: impl Fn(&mut String, &Report<'_>) -> std::fmt::Result,
) -> String {
    let mut out = String::new();
    for d in diags {
        let report = Report::new(d, map);
        // Writing to a String cannot fail; a renderer's own failure leaves its part out.
        let _ = render(&mut out, &report);
        out.push('\n');
    }
    out
}

/// The JSON shape of one diagnostic (`crmmap check --format json`). Versioned by
/// [`JSON_FORMAT_VERSION`]; fields are only ever added.
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic {
    /// `E0204`.
    pub code: String,
    /// `error` or `warning`.
    pub severity: Severity,
    /// File path as given.
    pub path: String,
    /// 1-based line of the primary span's start.
    pub line: u32,
    /// 1-based column of the primary span's start.
    pub column: u32,
    /// 1-based line of the primary span's end.
    pub end_line: u32,
    /// 1-based column of the primary span's end.
    pub end_column: u32,
    /// The message.
    pub message: String,
    /// The help text.
    pub help: Option<String>,
    /// Every label.
    pub labels: Vec<JsonLabel>,
}

/// A label in [`JsonDiagnostic`].
#[derive(Clone, Debug, Serialize)]
pub struct JsonLabel {
    /// File path.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end.
    pub end: u32,
    /// Text.
    pub text: String,
    /// Main location or not.
    pub primary: bool,
}

/// Version of the JSON output.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// The JSON document for a run: `{"version": 1, "diagnostics": [...]}`.
pub fn render_json(diags: &[Diagnostic], map: &SourceMap) -> String {
    let list: Vec<JsonDiagnostic> = diags.iter().map(|d| to_json(d, map)).collect();
    let doc = serde_json::json!({ "version": JSON_FORMAT_VERSION, "diagnostics": list });
    // INVARIANT: these types always serialize.
    serde_json::to_string_pretty(&doc).expect("diagnostics serialize")
}

fn to_json(d: &Diagnostic, map: &SourceMap) -> JsonDiagnostic {
    let span = d.span();
    let file = map.get(span.file);
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    let mut labels: Vec<JsonLabel> = d.labels.iter().map(|l| json_label(l, map)).collect();
    labels.extend(
        d.related
            .iter()
            .flat_map(|r| r.labels.iter().map(|l| json_label(l, map))),
    );
    JsonDiagnostic {
        code: d.code.to_string(),
        severity: d.severity(),
        path: file.path.to_string(),
        line,
        column,
        end_line,
        end_column,
        message: d.message.clone(),
        help: d.help.clone(),
        labels,
    }
}

fn json_label(l: &Label, map: &SourceMap) -> JsonLabel {
    let file = map.get(l.span.file);
    let (line, column) = file.line_col(l.span.start);
    JsonLabel {
        path: file.path.to_string(),
        line,
        column,
        start: l.span.start,
        end: l.span.end,
        text: l.text.clone(),
        primary: l.primary,
    }
}

/// GitHub Actions workflow commands, one line per diagnostic.
pub fn render_github(diags: &[Diagnostic], map: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let j = to_json(d, map);
        let kind = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = j.message.clone();
        if let Some(help) = &j.help {
            message.push_str("\n\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&j.path),
            j.line,
            j.column,
            j.end_line,
            j.end_column,
            j.code,
            escape_data(&message)
        ));
    }
    out
}

/// Escapes the message of a GitHub Actions workflow command (`::error …::MESSAGE`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property of a GitHub Actions workflow command (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
