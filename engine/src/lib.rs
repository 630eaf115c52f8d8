//! crmmap's pure engine: compile checked mappings into plans and evaluate them.

pub mod error;
pub mod value;
