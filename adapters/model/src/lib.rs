//! The vendor-neutral model of bpm-compat: the [`Command`]s every dialect parses into, the
//! [`Outcome`]s the engine answers, the domain types they carry, [`CoreError`], and the
//! [`Adapter`] trait each dialect implements.
//!
//! This crate is pure: no I/O, no async runtime, no clock. Adapter crates depend on it and on
//! nothing else of the project.
//!
//! # Layout
//! - `time`: [`Timestamp`] and ISO conversions.
//! - `variable`: typed process variables.
//! - `definition`: process definitions (activities, flows, BPMN DI layout).
//! - `instance`: process instances, identity links, [`InstanceId`].
//! - `query`: filters, sorting and paging, with the reference matcher.
//! - `task`: user tasks and task queries.
//! - `repository`: deployments, their resources, and definition/deployment queries.
//! - `command` / `outcome`: what goes into and comes out of the engine.
//! - `error`: [`CoreError`] and the stable [`ErrorCode`] table.
//! - `adapter`: the [`Adapter`] contract and [`RequestCtx`].

pub mod adapter;
pub mod command;
pub mod definition;
pub mod error;
pub mod fixture;
pub mod instance;
pub mod outcome;
pub mod query;
pub mod repository;
pub mod task;
pub mod time;
pub mod variable;

pub use adapter::{percent_decode, Adapter, AuthScheme, RequestCtx};
pub use command::*;
pub use definition::*;
pub use error::{Clash, CoreError, ErrorCode, Missing};
pub use instance::*;
pub use outcome::*;
pub use query::*;
pub use repository::*;
pub use task::*;
pub use time::Timestamp;
pub use variable::*;
