use std::process::ExitCode;

use bpm_compat::cli::{Cli, CliCommand};
use bpm_compat::config::ServeConfig;
use bpm_compat::{server, telemetry};
use clap::Parser;
use tracing::{error, info};

// glibc malloc took a fifth of the server's CPU time under load (perf, start-instance
// benchmark); mimalloc's thread-local free lists cut that (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    match cli
        .command
        .unwrap_or_else(|| CliCommand::Serve(Box::new(ServeConfig::parse_default())))
    {
        CliCommand::Serve(config) => serve(*config).await,
        CliCommand::Contract(args) => bpm_compat::contract::run_cli(args).await,
        CliCommand::Diff(args) => bpm_compat::diff::run_cli(args).await,
        CliCommand::Shadow(args) => bpm_compat::shadow::run_cli(args).await,
        CliCommand::Bench(args) => bpm_compat::bench::run_cli(args).await,
        CliCommand::MigrateStore(args) => bpm_compat::cli::run_migrate(args).await,
        CliCommand::BenchCeiling(args) => bpm_compat::bench::run_ceiling_cli(args).await,
    }
}

async fn serve(config: ServeConfig) -> ExitCode {
    let app = match config.build_app().await {
        Ok(app) => app,
        Err(e) => {
            error!(error = %e, "Cannot start.");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            error!(listen = %config.listen, error = %e, "Cannot listen.");
            return ExitCode::FAILURE;
        }
    };
    info!(listen = %config.listen, store = %config.store, "Serving; Flowable REST under {}.", config.flowable_mount);
    if let Some(stomp) = config.p360_stomp() {
        info!(broker = %stomp.address, queue = %stomp.queue, "Consuming P360 queue requests from ActiveMQ.");
        tokio::spawn(bpm_compat::p360_stomp::run_forever(app.clone(), stomp));
    }
    if let Some(stream) = config.p360_stream() {
        let app = app.clone();
        info!(stream = %stream.requests(), "Consuming P360 queue requests.");
        tokio::spawn(async move {
            if let Err(e) = bpm_compat::p360_stream::run(app, stream, std::future::pending()).await {
                error!(error = %e, "The P360 stream consumer stopped.");
            }
        });
    }
    match server::run(listener, app, server::shutdown_signal(), config.grace()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "Server failed.");
            ExitCode::FAILURE
        }
    }
}
