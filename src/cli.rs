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
    /// Bring a Redis store's data to this binary's key layout (stop every server on it first).
    MigrateStore(MigrateArgs),
    /// The HTTP-ceiling reference server the benchmark spawns.
    #[command(name = bench::CEILING_SUBCOMMAND, hide = true)]
    BenchCeiling(bench::CeilingArgs),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The Redis to migrate, e.g. `redis://127.0.0.1:6379`.
    #[arg(long, env = "BPM_COMPAT_STORE")]
    pub store: String,

    /// Prefix of the keys to migrate (as the servers on it were given).
    #[arg(long, env = "BPM_COMPAT_REDIS_PREFIX", default_value = "bpm:")]
    pub redis_prefix: String,
}

/// `bpm-compat migrate-store`: migrates, and says what it did.
pub async fn run_migrate(args: MigrateArgs) -> std::process::ExitCode {
    use crate::store::redis::migrate;
    match migrate(&args.store, &args.redis_prefix).await {
        Ok(m) => {
            let (prefix, to) = (&args.redis_prefix, &m.to);
            match m.from.as_deref() {
                Some(from) if from == to => println!("prefix {prefix:?} is already in layout {to}"),
                None => println!("prefix {prefix:?} holds no data; marked layout {to}"),
                Some(from) => println!(
                    "prefix {prefix:?}: layout {from} -> {to}, {} indexes with {} entries converted, \
                     {} counts moved, {} instances' fields packed",
                    m.indexes, m.entries, m.counts, m.rows
                ),
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("migrate-store: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
