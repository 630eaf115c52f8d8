//! The webhook runner.
