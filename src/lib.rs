//! bpm-compat: one BPM process state behind five vendors' wire protocols.

pub mod contract;
pub mod store;
