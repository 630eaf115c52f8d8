//! The client against the emulator, over real HTTP on 127.0.0.1.

mod allocation;
mod auth;
mod collections;
mod common;
mod crud;
mod fixtures;
mod query;
mod retries;
mod soql_props;
