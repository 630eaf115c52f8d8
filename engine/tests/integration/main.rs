//! crmmap-engine integration tests (one binary).

mod cases;
mod eval;
mod fixtures;
mod hostile;
mod lead;
mod mappings;
mod plan;
mod purity;
mod roundtrip;
