//! `crmmap test`: runs the mapping tests kept next to the mappings.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use crmmap_dsl::diag;
use crmmap_engine::cases::{self, FileRun};

use super::check::Format;
use super::test_report;
use crate::exit::CrmmapExit;

/// Arguments of `crmmap test`.
#[derive(Args)]
pub struct TestArgs {
    /// Mapping files or directories (default: `mappings`). The tests are the `.toml` files under
    /// each directory's `tests/`.
    pub paths: Vec<PathBuf>,
    /// Test files or directories to run instead of each mapping directory's `tests/`.
    #[arg(long = "tests", value_name = "PATH")]
    pub tests: Vec<PathBuf>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `crmmap test`: 0 when every case passes, 1 when one fails, 2 when a file cannot be
/// read or parsed or the mappings do not check.
pub fn test(args: &TestArgs) -> CrmmapExit {
    let map = match super::read_mappings(&args.paths) {
        Ok(map) => map,
        Err(e) => return super::fail(&e),
    };
    let checked = crmmap_dsl::check_sources(&map);
    let Some(model) = checked.model else {
        match args.format {
            Format::Human => eprint!(
                "{}",
                diag::render_human(&checked.diagnostics, &map, 100, false)
            ),
            Format::Json => println!("{}", diag::render_json(&checked.diagnostics, &map)),
            Format::Github => print!("{}", diag::render_github(&checked.diagnostics, &map)),
        }
        eprintln!("error: the mappings have errors; run `crmmap check` for details");
        return CrmmapExit::Failure;
    };
    let plans = crmmap_engine::compile(&model);
    let files = match read_tests(args) {
        Ok(files) => files,
        Err(e) => return super::fail(&e),
    };
    let runs = cases::run_files(&plans, &files);
    match args.format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", test_report::human(&runs, &map, color));
        }
        Format::Json => println!("{}", test_report::json(&runs, &map)),
        Format::Github => print!("{}", test_report::github(&runs, &map)),
    }
    if runs.iter().any(|r| r.cases.is_err()) {
        CrmmapExit::Failure
    } else if runs.iter().all(FileRun::passed) {
        CrmmapExit::Clean
    } else {
        CrmmapExit::Problems
    }
}

/// The test files, `(path, text)` in path order.
fn read_tests(args: &TestArgs) -> Result<Vec<(String, String)>, String> {
    let mut paths = Vec::new();
    if args.tests.is_empty() {
        let defaults = [PathBuf::from(super::DEFAULT_MAPPINGS)];
        let roots = if args.paths.is_empty() {
            &defaults[..]
        } else {
            &args.paths
        };
        for root in roots.iter().filter(|p| p.is_dir()) {
            let dir = root.join("tests");
            if dir.is_dir() {
                walk(&dir, &mut paths)?;
            }
        }
    } else {
        for p in &args.tests {
            if p.is_dir() {
                walk(p, &mut paths)?;
            } else if p.exists() {
                paths.push(p.clone());
            } else {
                return Err(format!("`{}` does not exist", p.display()));
            }
        }
    }
    if paths.is_empty() {
        return Err("no test files found (`.toml` files under the mappings' `tests/`)".into());
    }
    paths
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|text| (p.display().to_string(), text))
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let read = || -> std::io::Result<Vec<PathBuf>> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        Ok(entries)
    };
    let entries = read().map_err(|e| format!("cannot read directory `{}`: {e}", dir.display()))?;
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
    Ok(())
}
