//! The crmmap mapping language front end.
//!
//! ```text
//! text ──parse──▶ ast::File ──check──▶ model::Model
//! ```
//!
//! Nothing here does I/O beyond what the caller hands in: sources are strings.

pub mod model;
