//! The `crmmap` binary, run as a user runs it: stdout, stderr and exit codes.

mod busy;
mod commands;
mod limits;
mod retry;
mod schema;
mod serve;

/// The workspace root (mappings and fixtures are addressed from there).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}
