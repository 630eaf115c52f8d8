//! The `crmmap` binary, run as a user runs it: stdout, stderr and exit codes.

mod busy;
mod commands;
mod init;
mod limits;
mod lsp;
mod picklist_org;
mod retry;
mod schema;
mod serve;
mod serve_pubsub;
mod test_command;
mod watch;

/// The workspace root (mappings and fixtures are addressed from there).
pub use crmmap_testkit::workspace_root as root;
