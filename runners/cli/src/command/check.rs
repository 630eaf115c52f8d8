//! `crmmap check`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use crmmap_dsl::{Severity, diag};

use crate::exit::CrmmapExit;

/// Arguments of `crmmap check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Mapping files or directories (default: `mappings`).
    pub paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also check against a schema snapshot written by `crmmap schema pull` (default: the
    /// `[check] schema` of `./crmmap.toml`, when it names one).
    #[arg(long, value_name = "DIR")]
    pub schema: Option<PathBuf>,
}

/// Output formats of `crmmap check`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Rendered for people, with carets.
    Human,
    /// A versioned JSON document.
    Json,
    /// GitHub Actions annotations.
    Github,
}

/// Runs `crmmap check`.
pub fn check(args: &CheckArgs) -> CrmmapExit {
    let map = match super::read_mappings(&args.paths) {
        Ok(map) => map,
        Err(e) => return super::fail(&e),
    };
    let snapshot = match super::read_schema(args.schema.as_deref(), true) {
        Ok(snapshot) => snapshot,
        Err(e) => return super::fail(&e),
    };
    let checked = crmmap_dsl::check_sources_with_schema(&map, snapshot.as_ref());
    let diags = &checked.diagnostics;
    match args.format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", diag::render_human(diags, &map, 100, color));
            let errors = diags
                .iter()
                .filter(|d| d.severity() == Severity::Error)
                .count();
            let warnings = diags.len() - errors;
            eprintln!(
                "{} file{} checked: {errors} error{}, {warnings} warning{}",
                map.files().len(),
                plural(map.files().len()),
                plural(errors),
                plural(warnings)
            );
        }
        Format::Json => println!("{}", diag::render_json(diags, &map)),
        Format::Github => print!("{}", diag::render_github(diags, &map)),
    }
    if checked.has_errors() {
        CrmmapExit::Problems
    } else {
        CrmmapExit::Clean
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
