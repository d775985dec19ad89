//! bpm-compat: one BPM process state behind five vendors' wire protocols.
//!
//! # Layout
//! - `definitions`: process definitions loaded at start-up (BPMN 2.0 XML and a declarative
//!   JSON format), looked up by id, key, message and dialect alias.
//! - `engine`: applies a [`Command`](bpm_compat_model::Command) to the store, answers an
//!   [`Outcome`](bpm_compat_model::Outcome). Knows no vendor.
//! - `store`: the [`Store`](store::Store) trait; `memory` (embedded default, the reference)
//!   and `redis`.
//! - `server`: hyper accept loop, graceful shutdown, and the glue that routes a request to the
//!   dialect mounted at its path (parse → engine → render).
//! - `config`, `cli`, `telemetry`: the binary's settings, subcommands and logging.
//! - `contract`: the HTTP runner of the contract fixtures (`bpm-compat contract`).
//! - `bench`: the load generator and HTTP-ceiling server behind `bpm-compat bench`.
//!
//! The dialects themselves live in `adapters/*`, pure crates that depend only on
//! `adapters/model`.

pub mod bench;
pub mod cli;
pub mod config;
pub mod contract;
pub mod definitions;
pub mod diff;
pub mod engine;
pub mod p360_jobs;
pub mod p360_queue;
pub mod p360_stomp;
pub mod p360_stream;
pub mod server;
pub mod shadow;
pub mod store;
pub mod telemetry;
