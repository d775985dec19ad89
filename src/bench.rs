//! `bpm-compat bench`: drives a running server's Flowable REST API with a closed-loop load
//! generator and reports requests/s and p50/p99 latency per scenario, each also as a ratio to
//! the HTTP ceiling (a minimal hyper server measured in the same run). See
//! `docs/PERFORMANCE.md` for how to run it and what each scenario sends.
//!
//! # Layout
//! - `load`: targets, the per-connection request loop, preloading;
//! - `stats`: exact percentiles over the merged latency samples;
//! - `ceiling`: the reference server and the child process that runs it.

mod ceiling;
mod load;
mod stats;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::HeaderValue;
use serde::Serialize;

pub use self::ceiling::{run_ceiling, serve_ceiling, CeilingArgs, CeilingProcess, CEILING_SUBCOMMAND};
use self::load::{Target, Workload};
pub use self::stats::{percentile, LatencySummary};

const DEFAULT_SCENARIOS: &str = "ceiling,start,get,list,set-variables";

/// `bpm-compat bench`: measure a running server.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The server's Flowable REST base URL.
    #[arg(
        long,
        env = "BPM_COMPAT_BENCH_BASE_URL",
        default_value = "http://127.0.0.1:8080/flowable-rest/service"
    )]
    pub base_url: String,
    /// Concurrent keep-alive connections (one closed loop each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub duration: u64,
    /// Unmeasured seconds before each scenario's measurement.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Basic-auth user.
    #[arg(long, env = "BPM_COMPAT_BENCH_USER", default_value = "rest-admin")]
    pub user: String,
    /// Basic-auth password.
    #[arg(
        long,
        env = "BPM_COMPAT_BENCH_PASSWORD",
        default_value = "test",
        hide_default_value = true
    )]
    pub password: String,
    /// Send no Authorization header.
    #[arg(long)]
    pub no_auth: bool,
    /// The process definition to start and list.
    #[arg(long, default_value = "oneTaskProcess")]
    pub definition_key: String,
    /// Scenarios to run, in order (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = DEFAULT_SCENARIOS)]
    pub scenarios: Vec<Scenario>,
    /// Start this many instances (five small variables and a business key each) before the
    /// scenarios, as fast as the connections allow, and report the rate.
    #[arg(long, default_value_t = 0)]
    pub preload: u64,
    /// Instances whose ids `get` and `set-variables` address; started first when the preload
    /// does not provide them.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub id_pool: u64,
    /// The server's Redis: report `used_memory` and `DBSIZE` before and after the preload, and
    /// the bytes per preloaded instance.
    #[arg(long, env = "BPM_COMPAT_BENCH_REDIS_URL")]
    pub redis_url: Option<String>,
    /// The server's process id (on this machine): report its CPU time per request of each
    /// scenario (from `/proc/<pid>/stat`), steadier than req/s for comparing two builds on a
    /// noisy machine, beside the load generator's own and the spawned ceiling server's. With
    /// `--redis-url`, Redis' too (`INFO cpu`).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Measure an already running ceiling server (`http://host:port`) instead of spawning one.
    #[arg(long)]
    pub ceiling_url: Option<String>,
    /// Print the report as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

/// What one scenario sends (paths relative to the Flowable base URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `GET` on the ceiling server: a fixed `{"ok":true}`.
    Ceiling,
    /// `POST runtime/process-instances` with a business key and five variables → 201.
    Start,
    /// `GET runtime/process-instances/{id}` of a pooled instance → 200.
    Get,
    /// `GET runtime/process-instances?processDefinitionKey=K&size=10` → 200.
    List,
    /// `GET runtime/process-instances?businessKey=bench-N&size=10` of a started instance → 200.
    ListBusinessKey,
    /// `PUT runtime/process-instances/{id}/variables` with one integer → 201.
    SetVariables,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling",
            Scenario::Start => "start",
            Scenario::Get => "get",
            Scenario::List => "list",
            Scenario::ListBusinessKey => "list-business-key",
            Scenario::SetVariables => "set-variables",
        }
    }

    fn needs_ids(self) -> bool {
        matches!(self, Scenario::Get | Scenario::SetVariables)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("invalid URL {0}")]
    InvalidUrl(String),
    #[error("connect failed: {0}")]
    Connect(#[source] std::io::Error),
    #[error("HTTP exchange failed: {0}")]
    Http(#[source] hyper::Error),
    #[error("request could not be built: {0}")]
    Request(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("no instance ids to address (the id pool is empty)")]
    NoInstances,
    #[error("ceiling server: {0}")]
    Ceiling(#[source] std::io::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: Scenario,
    /// Successful requests sent after the warmup and answered before the end.
    pub requests: u64,
    pub requests_per_sec: f64,
    #[serde(flatten)]
    pub latency: LatencySummary,
    /// Unexpected statuses, transport failures and timeouts, warmup included.
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// req/s divided by the ceiling's req/s.
    pub throughput_ratio: Option<f64>,
    /// p99 divided by the ceiling's p99.
    pub p99_ratio: Option<f64>,
    /// Why the scenario did not run, if it did not.
    pub skipped: Option<String>,
    /// Server CPU time per request, µs (`--server-pid`), warmup included: CPU over warmup and
    /// measurement divided by the measured rate times both.
    pub server_cpu_us: Option<f64>,
    /// Redis CPU time per request, µs (`--redis-url`), counted the same way.
    pub redis_cpu_us: Option<f64>,
    /// The load generator's (this process's) CPU time per request, µs, counted the same way:
    /// it shares the machine with the server and Redis, so the three together bound the rate.
    pub generator_cpu_us: Option<f64>,
}

/// The preload's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PreloadReport {
    pub requested: u64,
    pub started: u64,
    pub seconds: f64,
    pub per_sec: f64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub aborted: bool,
    pub redis: Option<RedisMemory>,
}

/// Redis memory around the preload.
#[derive(Debug, Clone, Serialize)]
pub struct RedisMemory {
    pub used_memory_before: u64,
    pub used_memory_after: u64,
    pub keys_before: u64,
    pub keys_after: u64,
    pub bytes_per_instance: Option<f64>,
    pub keys_per_instance: Option<f64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub base_url: String,
    pub connections: u16,
    pub duration_secs: u64,
    pub warmup_secs: u64,
    pub preload: Option<PreloadReport>,
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    pub fn errors(&self) -> u64 {
        self.scenarios.iter().map(|s| s.errors).sum::<u64>() + self.preload.as_ref().map_or(0, |p| p.errors)
    }

    /// The report as Markdown: the command, the settings and one table row per scenario.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Command: `{}`\n", self.command);
        let _ = writeln!(
            out,
            "{} connections, {} s measured per scenario after {} s warmup, against {}\n",
            self.connections, self.duration_secs, self.warmup_secs, self.base_url
        );
        if let Some(preload) = &self.preload {
            let _ = writeln!(
                out,
                "Preload: {} of {} instances started in {:.1} s ({:.0}/s), {} errors{}\n",
                preload.started,
                preload.requested,
                preload.seconds,
                preload.per_sec,
                preload.errors,
                if preload.aborted {
                    " (aborted: too many errors)"
                } else {
                    ""
                }
            );
            if let Some(redis) = &preload.redis {
                let _ = writeln!(
                    out,
                    "Redis: used_memory {} → {} bytes, keys {} → {}; {} bytes and {} keys per instance\n",
                    redis.used_memory_before,
                    redis.used_memory_after,
                    redis.keys_before,
                    redis.keys_after,
                    redis
                        .bytes_per_instance
                        .map_or("n/a".to_owned(), |b| format!("{b:.0}")),
                    redis
                        .keys_per_instance
                        .map_or("n/a".to_owned(), |k| format!("{k:.2}")),
                );
            }
        }
        out.push_str(
            "| scenario | req/s | ratio to ceiling | p50 ms | p99 ms | p99 ratio to ceiling | max ms | errors |\n",
        );
        out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|\n");
        for s in &self.scenarios {
            if let Some(why) = &s.skipped {
                let _ = writeln!(
                    out,
                    "| {} | skipped: {why} | | | | | | {} |",
                    s.scenario.name(),
                    s.errors
                );
                continue;
            }
            let ratio = |r: Option<f64>| r.map_or("n/a".to_owned(), |r| format!("{r:.2}"));
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                s.scenario.name(),
                s.requests_per_sec,
                ratio(s.throughput_ratio),
                millis(s.latency.p50_us),
                millis(s.latency.p99_us),
                ratio(s.p99_ratio),
                millis(s.latency.max_us),
                s.errors
            );
        }
        // Shown when a server's CPU was measured (`--server-pid`, or the spawned ceiling's).
        if self
            .scenarios
            .iter()
            .any(|s| s.server_cpu_us.is_some() || s.redis_cpu_us.is_some())
        {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let _ = write!(
                out,
                "\nCPU per request (µs, warmup included; the ceiling's server is the ceiling \
                 process). The processes share this machine's {cores} cores, so {cores} s / the \
                 total is the rate their CPU alone allows:\n\n\
                 | scenario | load generator | server | Redis | total | CPU-bound req/s |\n\
                 |---|--:|--:|--:|--:|--:|\n"
            );
            let us = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.1}"));
            for s in &self.scenarios {
                let parts = [s.generator_cpu_us, s.server_cpu_us, s.redis_cpu_us];
                let total = parts
                    .iter()
                    .any(Option::is_some)
                    .then(|| parts.iter().flatten().sum::<f64>());
                // Without the server's figure the total misses the biggest part.
                let bound = total
                    .filter(|t| s.server_cpu_us.is_some() && *t > 0.0)
                    .map_or("n/a".to_owned(), |t| format!("{:.0}", cores as f64 * 1e6 / t));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    s.scenario.name(),
                    us(s.generator_cpu_us),
                    us(s.server_cpu_us),
                    us(s.redis_cpu_us),
                    us(total),
                    bound
                );
            }
        }
        let samples: Vec<_> = self
            .preload
            .iter()
            .map(|p| ("preload", &p.error_samples))
            .chain(
                self.scenarios
                    .iter()
                    .map(|s| (s.scenario.name(), &s.error_samples)),
            )
            .filter(|(_, samples)| !samples.is_empty())
            .collect();
        if !samples.is_empty() {
            out.push_str("\nErrors (first few per scenario):\n");
            for (name, samples) in samples {
                for sample in samples {
                    let _ = writeln!(out, "- {name}: {sample}");
                }
            }
        }
        out
    }
}

fn millis(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// A reproducible command line for the report (the password is left out).
fn command_line(args: &BenchArgs) -> String {
    let scenarios: Vec<_> = args.scenarios.iter().map(|s| s.name()).collect();
    let mut command = format!(
        "bpm-compat bench --base-url {} --connections {} --duration {} --warmup {} --scenarios {}",
        args.base_url,
        args.connections,
        args.duration,
        args.warmup,
        scenarios.join(",")
    );
    if args.no_auth {
        command.push_str(" --no-auth");
    } else if args.user != "rest-admin" {
        let _ = write!(command, " --user {}", args.user);
    }
    if args.definition_key != "oneTaskProcess" {
        let _ = write!(command, " --definition-key {}", args.definition_key);
    }
    if args.preload > 0 {
        let _ = write!(command, " --preload {}", args.preload);
    }
    if let Some(url) = &args.redis_url {
        let _ = write!(command, " --redis-url {url}");
    }
    if let Some(url) = &args.ceiling_url {
        let _ = write!(command, " --ceiling-url {url}");
    }
    command
}

/// Runs the benchmark and returns its report; progress goes to stderr.
pub async fn run(args: &BenchArgs) -> Result<Report, BenchError> {
    let target = Arc::new(Target::parse(&args.base_url)?);
    let auth = (!args.no_auth).then(|| {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", args.user, args.password));
        HeaderValue::from_str(&format!("Basic {token}"))
    });
    let auth = auth
        .transpose()
        .map_err(|_| BenchError::Request("user or password not a header".into()))?;
    let workload = Arc::new(Workload::new(auth, &args.definition_key));
    let connections = usize::from(args.connections);
    let warmup = Duration::from_secs(args.warmup);
    let duration = Duration::from_secs(args.duration);
    let id_pool = usize::try_from(args.id_pool).unwrap_or(usize::MAX);
    let mut seed_errors: Option<(u64, Vec<String>)> = None;

    let mut preload = None;
    if args.preload > 0 {
        let before = match &args.redis_url {
            Some(url) => Some(redis_snapshot(url).await?),
            None => None,
        };
        eprintln!(
            "preload: starting {} instances over {connections} connections",
            args.preload
        );
        let started = load::start_instances(
            Arc::clone(&workload),
            Arc::clone(&target),
            connections,
            args.preload,
            id_pool,
            true,
        )
        .await;
        let redis = match (&args.redis_url, before) {
            (Some(url), Some(before)) => Some(redis_memory(before, redis_snapshot(url).await?, started.ok)),
            _ => None,
        };
        let seconds = started.elapsed.as_secs_f64();
        preload = Some(PreloadReport {
            requested: args.preload,
            started: started.ok,
            seconds,
            per_sec: started.ok as f64 / seconds.max(f64::EPSILON),
            errors: started.errors.count,
            error_samples: started.errors.samples,
            aborted: started.aborted,
            redis,
        });
        workload.set_ids(started.ids);
    }

    if args.scenarios.iter().any(|s| s.needs_ids()) && !workload.has_ids() {
        eprintln!("seeding: starting {id_pool} instances for get/set-variables");
        let started = load::start_instances(
            Arc::clone(&workload),
            Arc::clone(&target),
            connections,
            args.id_pool,
            id_pool,
            false,
        )
        .await;
        workload.set_ids(started.ids);
        if started.errors.count > 0 {
            seed_errors = Some((started.errors.count, started.errors.samples));
        }
    }

    let mut scenarios = Vec::with_capacity(args.scenarios.len());
    for &scenario in &args.scenarios {
        eprintln!(
            "{}: {} s warmup + {} s",
            scenario.name(),
            args.warmup,
            args.duration
        );
        if scenario.needs_ids() && !workload.has_ids() {
            let (errors, samples) = seed_errors.clone().unwrap_or_default();
            scenarios.push(skipped(scenario, "no instance could be started", errors, samples));
            continue;
        }
        // Where the scenario goes, and whose CPU to count: the ceiling's own server (killed when
        // `ceiling` is dropped, before the next scenario), or the server's and Redis'.
        let (scenario_target, ceiling, server_pid, redis_url) = if scenario == Scenario::Ceiling {
            match &args.ceiling_url {
                Some(url) => (Arc::new(Target::parse(url)?), None, None, None),
                None => {
                    let process = tokio::task::spawn_blocking(CeilingProcess::spawn)
                        .await
                        .map_err(|join| BenchError::Ceiling(std::io::Error::other(join.to_string())))??;
                    let pid = process.pid();
                    (
                        Arc::new(Target::from_addr(process.addr)),
                        Some(process),
                        Some(pid),
                        None,
                    )
                }
            }
        } else {
            (
                Arc::clone(&target),
                None,
                args.server_pid,
                args.redis_url.as_deref(),
            )
        };
        let before = cpu_snapshot(server_pid, redis_url).await;
        let measured = load::run_timed(
            Arc::clone(&workload),
            scenario_target,
            scenario,
            connections,
            warmup,
            duration,
        )
        .await;
        let requests =
            measured.latency.count as f64 / duration.as_secs_f64() * (warmup + duration).as_secs_f64();
        let cpu = cpu_snapshot(server_pid, redis_url).await.since(before, requests);
        drop(ceiling);
        scenarios.push(ScenarioReport {
            scenario,
            requests: measured.latency.count,
            requests_per_sec: measured.latency.count as f64 / duration.as_secs_f64(),
            latency: measured.latency,
            errors: measured.errors.count,
            error_samples: measured.errors.samples,
            throughput_ratio: None,
            p99_ratio: None,
            skipped: None,
            server_cpu_us: cpu.server,
            redis_cpu_us: cpu.redis,
            generator_cpu_us: cpu.generator,
        });
    }
    add_ratios(&mut scenarios);

    Ok(Report {
        command: command_line(args),
        base_url: args.base_url.clone(),
        connections: args.connections,
        duration_secs: args.duration,
        warmup_secs: args.warmup,
        preload,
        scenarios,
    })
}

fn skipped(scenario: Scenario, why: &str, errors: u64, error_samples: Vec<String>) -> ScenarioReport {
    ScenarioReport {
        scenario,
        requests: 0,
        requests_per_sec: 0.0,
        latency: LatencySummary::default(),
        errors,
        error_samples,
        throughput_ratio: None,
        p99_ratio: None,
        skipped: Some(why.to_owned()),
        server_cpu_us: None,
        redis_cpu_us: None,
        generator_cpu_us: None,
    }
}

/// CPU seconds used so far by the load generator (this process), the server and Redis, those
/// that can be read; or, from [`CpuSnapshot::since`], microseconds per request.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSnapshot {
    generator: Option<f64>,
    server: Option<f64>,
    redis: Option<f64>,
}

impl CpuSnapshot {
    /// Microseconds of CPU per request from `before` to this snapshot.
    fn since(self, before: CpuSnapshot, requests: f64) -> CpuSnapshot {
        let per = |b: Option<f64>, a: Option<f64>| match (b, a) {
            (Some(b), Some(a)) if requests > 0.0 => Some((a - b) * 1e6 / requests),
            _ => None,
        };
        CpuSnapshot {
            generator: per(before.generator, self.generator),
            server: per(before.server, self.server),
            redis: per(before.redis, self.redis),
        }
    }
}

async fn cpu_snapshot(server_pid: Option<u32>, redis_url: Option<&str>) -> CpuSnapshot {
    let redis = match redis_url {
        Some(url) => redis_cpu_seconds(url).await.ok(),
        None => None,
    };
    CpuSnapshot {
        generator: process_cpu_seconds(std::process::id()),
        server: server_pid.and_then(process_cpu_seconds),
        redis,
    }
}

/// utime + stime of a process from `/proc/<pid>/stat`, in seconds (Linux's USER_HZ, 100).
fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

async fn redis_cpu_seconds(url: &str) -> Result<f64, BenchError> {
    let (info, _) = redis_info(url, "cpu").await?;
    Ok(info
        .lines()
        .filter_map(|line| {
            line.strip_prefix("used_cpu_sys:")
                .or_else(|| line.strip_prefix("used_cpu_user:"))
        })
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum())
}

/// Fills in each scenario's ratios to the ceiling, when the ceiling ran and answered.
fn add_ratios(scenarios: &mut [ScenarioReport]) {
    let Some(ceiling) = scenarios
        .iter()
        .find(|s| s.scenario == Scenario::Ceiling && s.skipped.is_none() && s.requests > 0)
        .map(|s| (s.requests_per_sec, s.latency.p99_us))
    else {
        return;
    };
    for s in scenarios.iter_mut().filter(|s| s.skipped.is_none()) {
        s.throughput_ratio = Some(s.requests_per_sec / ceiling.0);
        s.p99_ratio = (ceiling.1 > 0).then(|| s.latency.p99_us as f64 / ceiling.1 as f64);
    }
}

#[derive(Debug, Clone, Copy)]
struct RedisSnapshot {
    used_memory: u64,
    keys: u64,
}

/// A section of Redis' `INFO`, and `DBSIZE`.
async fn redis_info(url: &str, section: &str) -> Result<(String, u64), BenchError> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(&mut connection)
        .await?;
    let keys: u64 = redis::cmd("DBSIZE").query_async(&mut connection).await?;
    Ok((info, keys))
}

async fn redis_snapshot(url: &str) -> Result<RedisSnapshot, BenchError> {
    let (info, keys) = redis_info(url, "memory").await?;
    let used_memory = info
        .lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| {
            BenchError::Redis(redis::RedisError::from((
                redis::ErrorKind::Parse,
                "INFO memory without used_memory",
            )))
        })?;
    Ok(RedisSnapshot { used_memory, keys })
}

fn redis_memory(before: RedisSnapshot, after: RedisSnapshot, instances: u64) -> RedisMemory {
    let per_instance = |delta: f64| (instances > 0).then(|| delta / instances as f64);
    RedisMemory {
        used_memory_before: before.used_memory,
        used_memory_after: after.used_memory,
        keys_before: before.keys,
        keys_after: after.keys,
        bytes_per_instance: per_instance(after.used_memory as f64 - before.used_memory as f64),
        keys_per_instance: per_instance(after.keys as f64 - before.keys as f64),
    }
}

/// `bpm-compat bench`: runs, prints the report (Markdown or JSON) on stdout, and fails when any
/// request failed, so errors cannot pass unnoticed in a script.
pub async fn run_cli(args: BenchArgs) -> ExitCode {
    let report = match run(&args).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("bench failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("bench failed: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", report.to_markdown());
    }
    let errors = report.errors();
    if errors > 0 {
        eprintln!("bench: {errors} requests failed; see the errors column");
        return ExitCode::FAILURE;
    }
    // A scenario whose requests never came back within the run has no errors and no figures:
    // that is a failure too, not a quiet row of zeros.
    let stalled: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| s.skipped.is_none() && s.requests == 0)
        .map(|s| s.scenario.name())
        .collect();
    if !stalled.is_empty() {
        eprintln!(
            "bench: no request of {} completed within the run",
            stalled.join(", ")
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `bpm-compat bench-ceiling` (hidden): the reference server, in its own process.
pub async fn run_ceiling_cli(args: CeilingArgs) -> ExitCode {
    match run_ceiling(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-ceiling failed: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: Scenario, rps: f64, p99_us: u64) -> ScenarioReport {
        let mut report = skipped(name, "", 0, Vec::new());
        report.skipped = None;
        report.requests = 1;
        report.requests_per_sec = rps;
        report.latency.p99_us = p99_us;
        report
    }

    #[test]
    fn ratios_are_relative_to_the_ceiling() {
        let mut scenarios = vec![
            report(Scenario::Start, 25_000.0, 4_000),
            report(Scenario::Ceiling, 50_000.0, 2_000),
        ];
        add_ratios(&mut scenarios);
        assert_eq!(scenarios[0].throughput_ratio, Some(0.5));
        assert_eq!(scenarios[0].p99_ratio, Some(2.0));
        assert_eq!(scenarios[1].throughput_ratio, Some(1.0));
    }

    #[test]
    fn without_a_ceiling_there_are_no_ratios() {
        let mut scenarios = vec![report(Scenario::Start, 25_000.0, 4_000)];
        add_ratios(&mut scenarios);
        assert_eq!(scenarios[0].throughput_ratio, None);
        assert!(report_markdown(scenarios).contains("| start | 25000 | n/a | 0.00 | 4.00 | n/a |"));
    }

    fn report_markdown(scenarios: Vec<ScenarioReport>) -> String {
        Report {
            command: "bpm-compat bench".into(),
            base_url: "http://x".into(),
            connections: 1,
            duration_secs: 1,
            warmup_secs: 0,
            preload: None,
            scenarios,
        }
        .to_markdown()
    }

    #[test]
    fn redis_memory_is_divided_by_the_instances_started() {
        let memory = redis_memory(
            RedisSnapshot {
                used_memory: 1_000_000,
                keys: 10,
            },
            RedisSnapshot {
                used_memory: 1_800_000,
                keys: 1_010,
            },
            1_000,
        );
        assert_eq!(memory.bytes_per_instance, Some(800.0));
        assert_eq!(memory.keys_per_instance, Some(1.0));
        assert_eq!(
            redis_memory(memory_snapshot(), memory_snapshot(), 0).bytes_per_instance,
            None
        );
    }

    fn memory_snapshot() -> RedisSnapshot {
        RedisSnapshot {
            used_memory: 1,
            keys: 1,
        }
    }
}
