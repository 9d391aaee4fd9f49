//! The model-based test of the seams (issue 12); see `tests/seams_model.rs`.

pub mod actions;
pub mod invariants;
pub mod rng;
pub mod world;
pub mod ws;
