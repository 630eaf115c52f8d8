//! Translate tables: declared once, each Salesforce value listed once, and used somewhere.

use std::collections::{HashMap, HashSet};

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::model::TranslateTable;
use crate::source::Span;

use super::Cx;

/// What the checks of a field need to know about a table it translates with.
pub(super) struct TableInfo {
    /// Where the table is declared.
    pub(super) span: Span,
    /// Whether every monday label translates back to one Salesforce value.
    pub(super) one_to_one: bool,
}

impl Cx<'_> {
    /// Every translate table of every file (objects refer to them from any file).
    pub(super) fn tables(&mut self, files: &[ast::File]) -> Vec<TranslateTable> {
        let mut translates = Vec::new();
        for item in files.iter().flat_map(|f| &f.items) {
            if let ast::Item::Translate(t) = item {
                if let Some(first) = self.tables.get(&t.name.node) {
                    let d = Diagnostic::new(
                        Code::E0203,
                        t.name.span,
                        format!("translate table `{}` is declared twice", t.name.node),
                    )
                    .label("declared again here")
                    .secondary(first.span, "first declared here")
                    .help("merge the two tables or rename one of them");
                    self.error(d);
                    continue;
                }
                let table = self.translate(t);
                let rights: HashSet<&String> = table.pairs.iter().map(|(_, m)| m).collect();
                let info = TableInfo {
                    span: t.name.span,
                    one_to_one: rights.len() == table.pairs.len(),
                };
                self.tables.insert(t.name.node.clone(), info);
                translates.push(table);
            }
        }
        translates
    }

    /// Warns about every table no step translates with (W0001).
    pub(super) fn unused_tables(&mut self) {
        let unused: Vec<(String, Span)> = self
            .tables
            .iter()
            .filter(|(name, _)| !self.used_tables.contains(*name))
            .map(|(name, info)| (name.clone(), info.span))
            .collect();
        for (name, span) in unused {
            self.error(
                Diagnostic::new(
                    Code::W0001,
                    span,
                    format!("translate table `{name}` is never used"),
                )
                .label("unused")
                .help("use it with `| translate(...)` on a field, or delete it"),
            );
        }
    }

    fn translate(&mut self, t: &ast::TranslateBlock) -> TranslateTable {
        let mut lefts: HashMap<&str, Span> = HashMap::new();
        let mut pairs = Vec::new();
        for p in &t.pairs {
            let (sf, monday) = &p.node;
            if let Some(first) = lefts.get(sf.node.as_str()) {
                let d = Diagnostic::new(
                    Code::E0212,
                    sf.span,
                    format!(
                        "`{}` is translated twice in table `{}`",
                        sf.node, t.name.node
                    ),
                )
                .label("listed again here")
                .secondary(*first, "first listed here")
                .help("a Salesforce value can have only one monday label; delete one of the lines");
                self.error(d);
                continue;
            }
            lefts.insert(&sf.node, sf.span);
            pairs.push((sf.node.clone(), monday.node.clone()));
        }
        TranslateTable {
            name: t.name.node.clone(),
            pairs,
            origin: self.origin(t.name.span),
        }
    }
}
