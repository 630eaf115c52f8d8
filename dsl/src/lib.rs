//! The crmmap mapping language front end.
//!
//! ```text
//! text ──parse──▶ ast::File ──check──▶ model::Model
//!                 (syntax)            (check, diagnostics)
//! ```
//!
//! Nothing here does I/O: sources are strings handed in by the caller.
//!
//! ```
//! use crmmap_dsl::{SourceMap, check_sources};
//!
//! let mut map = SourceMap::new();
//! map.add(
//!     "mappings/account.crmmap",
//!     "object Account {\n  salesforce Account\n  board 9378000326\n  key text_mkrykpx4\n  name <-> Name\n  field text_mkry84sc : text <-> BillingCity : string\n}\n",
//! );
//! let checked = check_sources(&map);
//! assert!(checked.diagnostics.is_empty());
//! let model = checked.model.unwrap();
//! assert_eq!(model.objects[0].fields[0].field, "BillingCity");
//!
//! // A mistake is reported with a stable code and a span.
//! let mut map = SourceMap::new();
//! map.add("bad.crmmap", "object A {\n  salesforce A\n  board 1\n  key k\n  field c : txt <-> F : string\n}\n");
//! let checked = check_sources(&map);
//! assert_eq!(checked.diagnostics[0].code.to_string(), "E0301");
//! assert!(checked.model.is_none());
//! ```

pub mod ast;
pub mod diag;
pub mod fmt;
pub mod ide;
pub mod init;
pub mod model;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod transform;

pub use diag::{Code, Diagnostic, Severity};
pub use source::{FileId, SourceFile, SourceMap, Span, Spanned};
pub use syntax::parse;
pub mod check;

pub use check::{Checked, check, check_sources, check_sources_with_schema, check_with_schema};
