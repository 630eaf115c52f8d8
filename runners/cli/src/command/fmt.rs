//! `crmmap fmt`.

use std::path::PathBuf;

use clap::Args;
use crmmap_dsl::fmt::{FmtError, format_with_schema};
use crmmap_dsl::{SourceMap, diag};

use crate::exit::CrmmapExit;

/// Arguments of `crmmap fmt`.
#[derive(Args)]
pub struct FmtArgs {
    /// Mapping files or directories (default: `mappings`).
    pub paths: Vec<PathBuf>,
    /// Write nothing; print a diff and exit 1 when a file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// Write in the field types a mapping leaves out, from a snapshot written by
    /// `crmmap schema pull`.
    #[arg(long, value_name = "DIR")]
    pub schema: Option<PathBuf>,
}

/// Runs `crmmap fmt`.
pub fn fmt(args: &FmtArgs) -> CrmmapExit {
    let map = match super::read_mappings(&args.paths) {
        Ok(map) => map,
        Err(e) => return super::fail(&e),
    };
    let snapshot = match super::read_schema(args.schema.as_deref(), false) {
        Ok(snapshot) => snapshot,
        Err(e) => return super::fail(&e),
    };
    let mut exit = CrmmapExit::Clean;
    for file in map.files() {
        let formatted = match format_with_schema(file, snapshot.as_ref()) {
            Ok(text) => text,
            Err(FmtError::Syntax(d)) => {
                let mut one = SourceMap::new();
                one.add(file.path.clone(), file.text.clone());
                eprint!("{}", diag::render_human(&[*d], &map, 100, false));
                exit = worst(exit, CrmmapExit::Problems);
                continue;
            }
            Err(FmtError::Internal(message)) => {
                eprintln!("error: {message}");
                exit = worst(exit, CrmmapExit::Failure);
                continue;
            }
        };
        if formatted == *file.text {
            continue;
        }
        if args.check {
            print!("{}", unified_diff(&file.path, &file.text, &formatted));
            exit = worst(exit, CrmmapExit::Problems);
        } else if let Err(e) = std::fs::write(&*file.path, &formatted) {
            eprintln!("error: cannot write `{}`: {e}", file.path);
            exit = worst(exit, CrmmapExit::Failure);
        } else {
            eprintln!("formatted {}", file.path);
        }
    }
    exit
}

fn worst(a: CrmmapExit, b: CrmmapExit) -> CrmmapExit {
    use CrmmapExit::*;
    match (a, b) {
        (Failure, _) | (_, Failure) => Failure,
        (Problems, _) | (_, Problems) => Problems,
        _ => Clean,
    }
}

/// A unified diff between a file and its formatted text.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(path, &format!("{path} (formatted)"))
        .to_string()
}
