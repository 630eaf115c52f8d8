//! Mapping tests: cases that state what a change must write, run through the real plans.
//!
//! A test file (TOML, kept next to the mappings in `tests/`) lists cases; each names an object,
//! a direction and its input, and the writes it expects: every write (`expect`) or only the
//! listed ones (`expect_only`). [`load`] reads a file with spans for every problem;
//! [`run_case`] evaluates a case with the engine's own entry points ([`crate::eval::evaluate`],
//! and the rule functions for a rule firing) and compares, naming for each difference the part
//! of the mappings that produced the value ([`Blame`]). Nothing here reads a file or a clock:
//! `today` comes from the case.

mod file;
mod run;
mod values;

pub use file::{
    Case, DEFAULT_TODAY, Expect, Given, Input, LoadError, TestFile, Values, line_col, load,
};
pub use run::{Blame, CaseError, Mismatch, Outcome, Texts, created_id, run_case};
pub use values::{same_json, show_json, show_value, toml_to_json, toml_to_value};

use crate::plan::PlanSet;

/// A test file's cases and how each ended, or why the file could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRun {
    /// The file's path as given.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Each case with its outcome, in file order; or the load error.
    pub cases: Result<Vec<(Case, Outcome)>, LoadError>,
}

impl FileRun {
    /// Whether the file was read and every case passed.
    pub fn passed(&self) -> bool {
        self.cases
            .as_ref()
            .is_ok_and(|cases| cases.iter().all(|(_, o)| o.passed()))
    }
}

/// Loads and runs every test file (`(path, text)` pairs) against the plans.
pub fn run_files(plans: &PlanSet, files: &[(String, String)]) -> Vec<FileRun> {
    files
        .iter()
        .map(|(path, text)| FileRun {
            path: path.clone(),
            text: text.clone(),
            cases: load(text).map(|file| {
                file.cases
                    .into_iter()
                    .map(|case| {
                        let outcome = run_case(plans, &case);
                        (case, outcome)
                    })
                    .collect()
            }),
        })
        .collect()
}
