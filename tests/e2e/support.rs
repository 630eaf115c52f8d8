//! Shared helpers of the end-to-end tests (from the test kit).

/// The workspace root.
pub use crmmap_testkit::workspace_root as root;
