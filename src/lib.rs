//! bpm-compat: one BPM process state behind five vendors' wire protocols.

pub mod bench;
pub mod store;
