//! End-to-end tests across crates: the shipped mappings against the seed system's data, and the
//! `crmmap` command line.

mod cli;
mod docs;
mod schema;
mod seed;
