//! The Pub/Sub client against the emulator's Pub/Sub endpoint, over real gRPC on loopback.

mod org_log;
mod subscribe;
mod support;
