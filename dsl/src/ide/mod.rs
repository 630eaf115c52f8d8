//! Editor analysis for the language server: hover, completion, go to definition and rename.
//!
//! Pure functions of the sources, the optional schema snapshot, a file and a byte offset (the
//! server converts the editor's UTF-16 positions with [`position`]). Nothing here panics on
//! any text or offset: a file that does not parse still gets completion (read from its tokens)
//! and the other files still answer.
//!
//! | module | what |
//! |---|---|
//! | [`position`] | UTF-16 line/column ↔ byte offset |
//! | [`symbols`] | every name written in a parsed file and what it names |
//! | `hover` | the Markdown shown for a name |
//! | `tokens`, `complete` | what may be written at the cursor |
//! | `navigate` | go to definition, rename of a translate table |
//!
//! ```
//! use crmmap_dsl::{SourceMap, ide::Analysis};
//!
//! let mut map = SourceMap::new();
//! let text = "translate t {\n  \"A\" = \"a\"\n}\nobject O {\n  salesforce Lead\n  board 1\n  key k\n  field c : text <-> F : string | translate(t)\n}\n";
//! let id = map.add("m.crmmap", text);
//! let analysis = Analysis::new(&map, None);
//! let at = text.find("translate(t)").unwrap() + 10;
//! let definition = analysis.definition(id, at).unwrap();
//! assert_eq!(definition.start, 10);
//! assert!(analysis.hover(id, at).unwrap().markdown.contains("| `A` | `a` |"));
//! ```

mod complete;
mod hover;
mod navigate;
pub mod position;
pub mod symbols;
mod tokens;

pub use complete::{Completion, CompletionKind};
pub use hover::Hover;
pub use navigate::{Edit, RenameError};

use crate::ast::{self, Item, ObjectBlock, Stmt};
use crate::schema::SchemaSnapshot;
use crate::source::{FileId, SourceMap};
use symbols::Occurrence;

/// The sources (parsed once) and the snapshot that every question is answered from.
pub struct Analysis<'a> {
    map: &'a SourceMap,
    snapshot: Option<&'a SchemaSnapshot>,
    /// Each file's tree, `None` when it does not parse; indexed like `map.files()`.
    trees: Vec<Option<ast::File>>,
}

impl<'a> Analysis<'a> {
    /// Parses every file of `map`.
    pub fn new(map: &'a SourceMap, snapshot: Option<&'a SchemaSnapshot>) -> Self {
        let trees = map.files().iter().map(|f| crate::parse(f).ok()).collect();
        Analysis {
            map,
            snapshot,
            trees,
        }
    }

    fn tree(&self, file: FileId) -> Option<&ast::File> {
        self.trees.get(file.0 as usize).and_then(Option::as_ref)
    }

    fn text(&self, file: FileId) -> Option<&str> {
        self.map.files().get(file.0 as usize).map(|f| &*f.text)
    }

    /// The name under the cursor (an offset at either end of a name counts).
    fn occurrence_at(&self, file: FileId, offset: usize) -> Option<Occurrence> {
        let tree = self.tree(file)?;
        let offset = u32::try_from(offset).ok()?;
        symbols::occurrences(tree)
            .into_iter()
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// Every object declared in a file that parses.
    fn objects(&self) -> impl Iterator<Item = &ObjectBlock> {
        self.trees.iter().flatten().flat_map(|t| {
            t.items.iter().filter_map(|i| match i {
                Item::Object(o) => Some(o),
                Item::Translate(_) => None,
            })
        })
    }

    fn object(&self, name: &str) -> Option<&ObjectBlock> {
        self.objects().find(|o| o.name.node == name)
    }

    fn tables(&self) -> impl Iterator<Item = &ast::TranslateBlock> {
        self.trees.iter().flatten().flat_map(|t| {
            t.items.iter().filter_map(|i| match i {
                Item::Translate(t) => Some(t),
                Item::Object(_) => None,
            })
        })
    }
}

/// The sObject an object names (`salesforce X`).
fn sobject_of(o: &ObjectBlock) -> Option<&str> {
    o.stmts.iter().find_map(|s| match &s.node {
        Stmt::Salesforce(n) => Some(n.node.as_str()),
        _ => None,
    })
}

/// The board an object names (`board N`).
fn board_of(o: &ObjectBlock) -> Option<u64> {
    o.stmts.iter().find_map(|s| match &s.node {
        Stmt::Board(b) => Some(b.node),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
