//! Client → emulator over real HTTP on 127.0.0.1.

mod answers;
mod common;
mod fixtures;
mod limits;
mod partial_batches;
mod protocol;
mod reads;
mod request_limits;
mod uncertain;
mod unknown_outcome;
mod webhooks;
mod writes;
