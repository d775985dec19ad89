//! The `bpm-compat` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use bpm_compat::bench;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bpm-compat", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drive a running server with a load generator and report throughput and latency.
    Bench(bench::BenchArgs),
    /// The HTTP-ceiling reference server the benchmark spawns.
    #[command(name = bench::CEILING_SUBCOMMAND, hide = true)]
    BenchCeiling(bench::CeilingArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Bench(args) => bench::run_cli(args).await,
        Command::BenchCeiling(args) => bench::run_ceiling_cli(args).await,
    }
}
