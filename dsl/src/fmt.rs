//! fmt: [`ast::File`] → text in the one canonical layout.
//!
//! The layout: two-space indentation, one statement per line, runs of consecutive `field` or
//! `link` lines aligned in columns, `=` aligned inside assignment blocks, at most one blank
//! line kept where the source had blank lines, comments kept in their order (a comment after
//! a statement on the same line stays there; other comments go on their own line before the
//! next statement).
//!
//! [`format`] checks its own output: it re-parses it and compares the syntax trees, so a bug
//! in the printer can never change what a mapping means.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::model::SfType;
use crate::schema::SchemaSnapshot;
use crate::source::{SourceFile, SourceMap, Span, Spanned};

/// Why a file could not be formatted.
#[derive(Debug)]
pub enum FmtError {
    /// The input does not parse.
    Syntax(Box<Diagnostic>),
    /// The printer produced text that means something else: a bug, the file is left alone.
    Internal(String),
}

/// Formats one source file, verifying that the result parses to the same tree.
pub fn format(file: &SourceFile) -> Result<String, FmtError> {
    format_with_schema(file, None)
}

/// [`format`], and with a schema snapshot, writes in the field types a mapping leaves out
/// (`crmmap fmt --schema DIR`): each from the snapshot's field of the object's sObject. Types
/// crmmap does not map, and fields the snapshot lacks, stay as they are (`check` reports them).
/// The result is verified against the tree with the types filled in.
pub fn format_with_schema(
    file: &SourceFile,
    snapshot: Option<&SchemaSnapshot>,
) -> Result<String, FmtError> {
    let mut ast = crate::parse(file).map_err(|d| FmtError::Syntax(Box::new(d)))?;
    if let Some(snapshot) = snapshot {
        fill_types(&mut ast, snapshot);
    }
    let out = print(&ast, &file.text);
    let mut map = SourceMap::new();
    let id = map.add(file.path.clone(), out.as_str());
    match crate::parse(map.get(id)) {
        Ok(again) if again == ast => Ok(out),
        Ok(_) => Err(FmtError::Internal(format!(
            "internal error: formatting `{}` would change its meaning; the file was left unchanged, please report this",
            file.path
        ))),
        Err(d) => Err(FmtError::Internal(format!(
            "internal error: formatting `{}` produced text that does not parse ({}); the file was left unchanged, please report this",
            file.path, d.message
        ))),
    }
}

/// Gives every `field` line without a type the type its field has in the snapshot.
fn fill_types(file: &mut File, snapshot: &SchemaSnapshot) {
    for item in &mut file.items {
        let Item::Object(o) = item else { continue };
        let sobject = o.stmts.iter().find_map(|s| match &s.node {
            Stmt::Salesforce(n) => Some(n.node.clone()),
            _ => None,
        });
        let Some(sobject) = sobject else { continue };
        for stmt in &mut o.stmts {
            let Stmt::Field(f) = &mut stmt.node else {
                continue;
            };
            if f.field_type.is_some() {
                continue;
            }
            let taken = snapshot
                .field(&sobject, &f.field.node)
                .map(|s| s.field_type.as_str())
                .filter(|t| SfType::from_keyword(t).is_some());
            if let Some(t) = taken {
                f.field_type = Some(Spanned::new(t.to_string(), f.field.span));
            }
        }
    }
}

/// Prints a parsed file. `source` is the text it was parsed from (for blank lines).
pub fn print(file: &File, source: &str) -> String {
    let mut p = Printer {
        out: String::new(),
        source,
        comments: &file.comments,
        next_comment: 0,
        indent: 0,
    };
    for (i, item) in file.items.iter().enumerate() {
        let span = item.span();
        if i > 0 {
            p.out.push('\n');
        }
        p.leading(span.start);
        match item {
            Item::Object(o) => p.object(o),
            Item::Translate(t) => p.translate(t),
        }
    }
    p.rest(u32::MAX);
    p.out
}

struct Printer<'a> {
    out: String,
    source: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    indent: usize,
}

impl Printer<'_> {
    fn pad(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn line(&mut self, text: &str) {
        self.pad();
        self.out.push_str(text);
    }

    /// Comments that start before `pos`, each on its own line.
    fn leading(&mut self, pos: u32) {
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.span.start >= pos {
                break;
            }
            self.pad();
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.next_comment += 1;
            if self.blank_after(c.span.end, pos) {
                self.out.push('\n');
            }
        }
    }

    /// Ends a statement line: a comment on the same source line stays there.
    fn end_line(&mut self, end: u32) {
        if let Some(c) = self.comments.get(self.next_comment) {
            let between = self
                .source
                .get(end as usize..c.span.start as usize)
                .unwrap_or("\n");
            // Only whitespace (no newline, no other statement) between the two.
            if c.span.start >= end && between.chars().all(|ch| ch == ' ' || ch == '\t') {
                self.out.push(' ');
                self.out.push_str(&c.text);
                self.next_comment += 1;
            }
        }
        self.out.push('\n');
    }

    /// Comments left before `pos` (the end of a block or of the file).
    fn rest(&mut self, pos: u32) {
        self.leading(pos);
    }

    /// Whether the source has a blank line between `from` and `to`.
    fn blank_after(&self, from: u32, to: u32) -> bool {
        let Some(text) = self
            .source
            .get(from as usize..(to as usize).min(self.source.len()))
        else {
            return false;
        };
        // Only the whitespace right after `from` counts, up to the next token or comment.
        let gap: &str = text
            .split(|c: char| !c.is_whitespace())
            .next()
            .unwrap_or("");
        gap.matches('\n').count() >= 2
    }

    /// The offset just after the first `{` at or after `pos` (the end of a block's head line).
    fn brace_after(&self, pos: u32) -> u32 {
        self.source
            .get(pos as usize..)
            .and_then(|rest| rest.find('{'))
            .map_or(pos, |i| pos + i as u32 + 1)
    }

    fn separate(&mut self, prev_end: Option<u32>, start: u32) {
        if let Some(end) = prev_end
            && self.blank_after(end, start)
        {
            self.out.push('\n');
        }
    }

    fn object(&mut self, o: &ObjectBlock) {
        self.line(&format!("object {} {{", o.name.node));
        self.end_line(self.brace_after(o.name.span.end));
        self.indent += 1;
        let mut prev_end = None;
        let mut i = 0;
        while i < o.stmts.len() {
            // A run of field (or link) lines is aligned as a table.
            let run = self.run_len(&o.stmts[i..]);
            if run > 0 {
                let rows: Vec<&Spanned<Stmt>> = o.stmts[i..i + run].iter().collect();
                self.separate(prev_end, rows[0].span.start);
                self.table(&rows);
                prev_end = Some(rows[run - 1].span.end);
                i += run;
                continue;
            }
            let s = &o.stmts[i];
            self.separate(prev_end, s.span.start);
            self.leading(s.span.start);
            self.stmt(s);
            prev_end = Some(s.span.end);
            i += 1;
        }
        self.rest(o.span.end);
        self.indent -= 1;
        self.line("}");
        self.end_line(o.span.end);
    }

    /// How many statements from the start form one aligned run of `field` or `link` lines:
    /// same kind, no comment and no blank line between them.
    fn run_len(&self, stmts: &[Spanned<Stmt>]) -> usize {
        let kind = |s: &Stmt| match s {
            Stmt::Field(_) => Some(0),
            Stmt::Link(_) => Some(1),
            _ => None,
        };
        let Some(first) = stmts.first().and_then(|s| kind(&s.node)) else {
            return 0;
        };
        let mut n = 1;
        while let Some(s) = stmts.get(n) {
            let prev = &stmts[n - 1];
            let comment_between = self
                .comments
                .iter()
                // A comment inside the previous row counts too: it is printed between the rows.
                .any(|c| c.span.start > prev.span.start && c.span.start < s.span.start);
            if kind(&s.node) != Some(first)
                || comment_between
                || self.blank_after(prev.span.end, s.span.start)
            {
                break;
            }
            n += 1;
        }
        n
    }

    fn table(&mut self, rows: &[&Spanned<Stmt>]) {
        let cells: Vec<Vec<String>> = rows.iter().map(|s| row_cells(&s.node)).collect();
        let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                cells
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (row, s) in cells.iter().zip(rows) {
            self.leading(s.span.start);
            let mut text = String::new();
            for (c, cell) in row.iter().enumerate() {
                if widths[c] == 0 {
                    continue;
                }
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(cell);
                // Pad the cells before the Salesforce type; the type and the steps follow unpadded.
                if c + 1 < row.len() && c + 1 < ALIGNED_CELLS {
                    let w = cell.chars().count();
                    text.extend(std::iter::repeat_n(' ', widths[c] - w));
                }
            }
            self.line(text.trim_end());
            self.end_line(s.span.end);
        }
    }

    fn stmt(&mut self, s: &Spanned<Stmt>) {
        let text = match &s.node {
            Stmt::Salesforce(n) => format!("salesforce {}", n.node),
            Stmt::Board(b) => format!("board {}", b.node),
            Stmt::Key(k) => format!("key {}", k.node),
            Stmt::Select(q) => format!("select where {}", string(&q.node)),
            Stmt::RecordType(r) => format!("record type {}", string(&r.node)),
            Stmt::Conflict(side) => format!("conflict prefer {}", side.node),
            Stmt::ConflictField { field, side } => {
                format!("conflict {} prefer {}", field.node, side.node)
            }
            Stmt::NameBoth(f) => format!("name <-> {}", f.node),
            Stmt::NameToMonday(e) => format!("name <- {}", expr(&e.node)),
            Stmt::NameToSalesforce { field, value } => match value {
                Some(v) => format!("name -> {} = {}", field.node, expr(&v.node)),
                None => format!("name -> {}", field.node),
            },
            Stmt::OnCreate(list) => {
                return self.block("on create in salesforce", list, s.span);
            }
            Stmt::OnDelete(DeleteAction::Log) => "on delete log".into(),
            Stmt::OnDelete(DeleteAction::Delete) => "on delete delete".into(),
            Stmt::OnDelete(DeleteAction::Set(list)) => {
                return self.block("on delete set", list, s.span);
            }
            Stmt::OnSalesforceDelete(action) => format!(
                "on salesforce delete {}",
                match action {
                    ItemDeleteAction::Log => "log",
                    ItemDeleteAction::Archive => "archive",
                    ItemDeleteAction::Delete => "delete",
                }
            ),
            Stmt::Field(_) | Stmt::Link(_) => row_cells(&s.node).join(" "),
            Stmt::Rule(r) => return self.rule(r, s.span),
        };
        self.line(&text);
        self.end_line(s.span.end);
    }

    /// `head { assignments }` with `=` aligned.
    fn block(&mut self, head: &str, list: &[Spanned<Assignment>], span: Span) {
        if list.is_empty() {
            self.line(&format!("{head} {{}}"));
            self.end_line(span.end);
            return;
        }
        self.line(&format!("{head} {{"));
        self.end_line(self.brace_after(span.start));
        self.indent += 1;
        self.assignments(list);
        self.rest(span.end);
        self.indent -= 1;
        self.line("}");
        self.end_line(span.end);
    }

    fn assignments(&mut self, list: &[Spanned<Assignment>]) {
        let width = list
            .iter()
            .map(|a| a.node.field.node.chars().count())
            .max()
            .unwrap_or(0);
        let mut prev_end = None;
        for a in list {
            self.separate(prev_end, a.span.start);
            self.leading(a.span.start);
            let name = &a.node.field.node;
            let pad = " ".repeat(width - name.chars().count());
            self.line(&format!("{name}{pad} = {}", expr(&a.node.value.node)));
            self.end_line(a.span.end);
            prev_end = Some(a.span.end);
        }
    }

    fn rule(&mut self, r: &RuleBlock, span: Span) {
        self.line(&format!("rule {} {{", r.name.node));
        self.end_line(self.brace_after(r.name.span.end));
        self.indent += 1;
        self.leading(r.when_field.span.start);
        self.line(&format!(
            "when {} becomes {}",
            r.when_field.node,
            string(&r.becomes.node)
        ));
        self.end_line(r.becomes.span.end);
        let mut prev_end = Some(r.becomes.span.end);
        for s in &r.stmts {
            self.separate(prev_end, s.span.start);
            self.leading(s.span.start);
            match &s.node {
                RuleStmt::Create(c) => {
                    let head = format!("create {} as {}", c.object.node, c.alias.node);
                    self.block(&head, &c.assignments, s.span);
                }
                RuleStmt::Set(a) => {
                    self.line(&format!(
                        "set {} = {}",
                        a.node.field.node,
                        expr(&a.node.value.node)
                    ));
                    self.end_line(s.span.end);
                }
                RuleStmt::Propagate { from, to, steps } => {
                    self.line(&format!(
                        "propagate {} -> {}{}",
                        from.node,
                        to.node.join("."),
                        pipes(steps)
                    ));
                    self.end_line(s.span.end);
                }
            }
            prev_end = Some(s.span.end);
        }
        self.rest(span.end);
        self.indent -= 1;
        self.line("}");
        self.end_line(span.end);
    }

    fn translate(&mut self, t: &TranslateBlock) {
        self.line(&format!("translate {} {{", t.name.node));
        self.end_line(self.brace_after(t.name.span.end));
        self.indent += 1;
        let mut prev_end = None;
        for p in &t.pairs {
            self.separate(prev_end, p.span.start);
            self.leading(p.span.start);
            let (sf, monday) = &p.node;
            self.line(&format!("{} = {}", string(&sf.node), string(&monday.node)));
            self.end_line(p.span.end);
            prev_end = Some(p.span.end);
        }
        self.rest(t.span.end);
        self.indent -= 1;
        self.line("}");
        self.end_line(t.span.end);
    }
}

/// Cells of a `field` or `link` line that are padded to align; the rest follow unpadded.
const ALIGNED_CELLS: usize = 8;

fn row_cells(s: &Stmt) -> Vec<String> {
    match s {
        Stmt::Field(f) => {
            let mut cells = vec![
                "field".to_string(),
                f.column.node.clone(),
                ":".into(),
                f.column_type.node.clone(),
                f.arrow.node.as_str().into(),
                f.field.node.clone(),
            ];
            if let Some(t) = &f.field_type {
                cells.push(":".into());
                cells.push(t.node.clone());
            }
            let mut tail = pipes(&f.steps).trim_start().to_string();
            if f.create_labels {
                if !tail.is_empty() {
                    tail.push(' ');
                }
                tail.push_str("create labels");
            }
            if !tail.is_empty() {
                while cells.len() < ALIGNED_CELLS {
                    cells.push(String::new());
                }
                cells.push(tail);
            }
            cells
        }
        Stmt::Link(l) => vec![
            "link".into(),
            l.column.node.clone(),
            l.arrow.node.as_str().into(),
            l.target.node.clone(),
            "via".into(),
            l.via.node.clone(),
        ],
        _ => Vec::new(),
    }
}

fn pipes(steps: &[Spanned<Call>]) -> String {
    steps
        .iter()
        .map(|c| format!(" | {}", call(&c.node)))
        .collect()
}

fn call(c: &Call) -> String {
    match &c.args {
        None => c.name.node.clone(),
        Some(args) => format!(
            "{}({})",
            c.name.node,
            args.iter()
                .map(|a| expr(&a.node))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Prints an expression.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::Str(s) => string(s),
        Expr::Number(n) => n.clone(),
        Expr::Days(1) => "1 day".into(),
        Expr::Days(d) => format!("{d} days"),
        Expr::Today => "today".into(),
        Expr::Path(p) => p.join("."),
        Expr::Paren(inner) => format!("({})", expr(&inner.node)),
        Expr::Sum(first, rest) => {
            let mut s = expr(&first.node);
            for (op, t) in rest {
                s.push_str(match op {
                    AddOp::Add => " + ",
                    AddOp::Sub => " - ",
                });
                s.push_str(&expr(&t.node));
            }
            s
        }
        Expr::Pipe(base, steps) => format!("{}{}", expr(&base.node), pipes(steps)),
    }
}

/// A string literal with the escapes the grammar knows.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
