//! The crmmap mapping language front end.
//!
//! ```text
//! text ──parse──▶ ast::File ──check──▶ model::Model
//!                 (syntax)            (check, diagnostics)
//! ```
//!
//! Nothing here does I/O: sources are strings handed in by the caller.

pub mod ast;
pub mod diag;
pub mod fmt;
pub mod model;
pub mod schema;
pub mod source;
pub mod syntax;

pub use diag::{Code, Diagnostic, Severity};
pub use source::{FileId, SourceFile, SourceMap, Span, Spanned};
pub use syntax::parse;
pub mod check;

pub use check::{Checked, check, check_sources, check_sources_with_schema, check_with_schema};
