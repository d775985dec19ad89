//! The command line: one binary, one subcommand per job.

use clap::{Parser, Subcommand};

use crate::bench;
use crate::config::ServeConfig;

#[derive(Debug, Parser)]
#[command(
    name = "bpm-compat",
    version,
    about = "One BPM process state behind five vendors' wire protocols"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the server (the default when no subcommand is given).
    Serve(Box<ServeConfig>),
    /// Run contract fixtures (request -> expected response) against any endpoint.
    Contract(crate::contract::ContractArgs),
    /// Drive one vendor-neutral scenario through several dialects and compare them step by step.
    Diff(crate::diff::DiffArgs),
    /// A proxy for migrations: forwards each request to a primary and a candidate, answers the
    /// primary's response, and records where the candidate differs.
    Shadow(crate::shadow::ShadowArgs),
    /// Drive a running server with a load generator and report throughput and latency.
    Bench(bench::BenchArgs),
    /// The HTTP-ceiling reference server the benchmark spawns.
    #[command(name = bench::CEILING_SUBCOMMAND, hide = true)]
    BenchCeiling(bench::CeilingArgs),
}
