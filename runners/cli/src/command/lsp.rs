//! `crmmap lsp`: the language server over stdio (editors start it; see `crmmap_lsp`).

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap lsp` (none: the server finds `crmmap.toml` from each file).
#[derive(Args)]
pub struct LspArgs {
    /// Accepted and ignored: clients such as `vscode-languageclient` pass it.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

/// Runs the language server until the client exits.
pub fn lsp(_args: &LspArgs) -> CrmmapExit {
    match crmmap_lsp::run_stdio() {
        Ok(()) => CrmmapExit::Clean,
        Err(e) => super::fail(&e),
    }
}
