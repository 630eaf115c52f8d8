//! End-to-end tests across crates: the shipped mappings against the seed system's data, and the
//! documentation against the code. (The `crmmap` binary's own tests live with it, in
//! `runners/cli/tests`, where cargo hands them the built binary.)

mod action;
mod docs;
mod mapping_tests;
mod seed;
