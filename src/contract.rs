//! The HTTP contract runner behind `bpm-compat contract <fixtures dir> --base-url URL`.
//!
//! It loads every `*.json` scenario under a directory (recursively, in sorted path order), runs
//! each one's steps in order over real HTTP against the base URL, and compares every response
//! with the fixture's expectation ([`bpm_compat_model::fixture`]). A scenario is one case; it
//! fails at its first failing step. The same files run against bpm-compat or a real vendor.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use bpm_compat_model::fixture::{build_request, match_response, Bindings, Scenario, Step};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long one request may take before its case fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What to run and against what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractOptions {
    pub dir: PathBuf,
    pub base_url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Headers sent with every request that carries credentials (e.g. Astro Zero's
    /// `access-token`).
    pub headers: Vec<(String, String)>,
}

/// `bpm-compat contract` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ContractArgs {
    /// Directory of fixture scenarios (`*.json`, searched recursively), e.g. `fixtures/flowable`.
    pub dir: PathBuf,
    /// Base URL the fixture paths are relative to, e.g. `http://127.0.0.1:8080/flowable-rest/service`.
    #[arg(long)]
    pub base_url: String,
    /// User for HTTP Basic authentication.
    #[arg(long)]
    pub user: Option<String>,
    /// Password for HTTP Basic authentication.
    #[arg(long)]
    pub password: Option<String>,
    /// `NAME:VALUE` of a header sent with every request that carries credentials (repeatable),
    /// e.g. `--header 'access-token: 0f3c…'` for Astro Zero.
    #[arg(long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not NAME:VALUE"))?;
    let (name, value) = (name.trim(), value.trim());
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("'{name}': {e}"))?;
    http::HeaderValue::from_str(value).map_err(|e| format!("'{value}': {e}"))?;
    Ok((name.to_owned(), value.to_owned()))
}

impl From<ContractArgs> for ContractOptions {
    fn from(args: ContractArgs) -> ContractOptions {
        ContractOptions {
            dir: args.dir,
            base_url: args.base_url,
            user: args.user,
            password: args.password,
            headers: args.headers,
        }
    }
}

/// Problems that stop the run before any case runs. A case that fails (including one whose
/// server cannot be reached) is not an error; it is a failed case in the [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad fixture {path}: {message}")]
    Fixture { path: PathBuf, message: String },
    #[error("no *.json scenarios under {0}")]
    NoScenarios(PathBuf),
    #[error("bad base URL '{0}': expected http://host[:port][/path]")]
    BadBaseUrl(String),
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The fixture path below the directory, without `.json` (e.g. `flowable/start/by-key`).
    pub name: String,
    /// `None` when every step matched; else the failing step and its first mismatch.
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub cases: Vec<CaseResult>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_none()).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// One line per case, then `N passed, N failed` on its own line.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for case in &self.cases {
            match &case.failure {
                None => writeln!(f, "PASS {}", case.name)?,
                Some(why) => writeln!(f, "FAIL {}: {}", case.name, why)?,
            }
        }
        writeln!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Loads every `*.json` scenario under `dir`, named by its path relative to the directory's
/// parent (so `fixtures/flowable` yields `flowable/start/by-key`), in sorted path order.
pub fn load_dir(dir: &Path) -> Result<Vec<(String, Scenario)>, ContractError> {
    let mut files = Vec::new();
    collect_json(dir, &mut files)?;
    files.sort();
    let root = dir.parent().unwrap_or(dir);
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| ContractError::Io {
            path: path.clone(),
            source,
        })?;
        let scenario = Scenario::from_json(&text).map_err(|message| ContractError::Fixture {
            path: path.clone(),
            message,
        })?;
        let relative = path.strip_prefix(root).unwrap_or(&path).with_extension("");
        let name = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        out.push((name, scenario));
    }
    Ok(out)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ContractError> {
    let io = |source| ContractError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Runs every scenario under `opts.dir` against `opts.base_url`.
pub async fn run(opts: &ContractOptions) -> Result<Report, ContractError> {
    let base = opts.base_url.trim_end_matches('/').to_string();
    if !base.starts_with("http://") || base.parse::<http::Uri>().is_err() {
        return Err(ContractError::BadBaseUrl(opts.base_url.clone()));
    }
    let scenarios = load_dir(&opts.dir)?;
    if scenarios.is_empty() {
        return Err(ContractError::NoScenarios(opts.dir.clone()));
    }
    let mut credentials: Vec<(String, String)> = opts.headers.clone();
    if let Some(user) = &opts.user {
        let pair = format!("{user}:{}", opts.password.as_deref().unwrap_or(""));
        credentials.push((
            http::header::AUTHORIZATION.to_string(),
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)),
        ));
    }
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut report = Report::default();
    for (name, scenario) in scenarios {
        let failure = run_scenario(&client, &base, &credentials, &scenario).await.err();
        report.cases.push(CaseResult { name, failure });
    }
    Ok(report)
}

async fn run_scenario(
    client: &HttpClient,
    base: &str,
    credentials: &[(String, String)],
    scenario: &Scenario,
) -> Result<(), String> {
    let mut bindings = Bindings::new(base);
    for step in &scenario.steps {
        run_step(client, base, credentials, step, &mut bindings)
            .await
            .map_err(|why| format!("step '{}': {why}", step.name))?;
    }
    Ok(())
}

async fn run_step(
    client: &HttpClient,
    base: &str,
    credentials: &[(String, String)],
    step: &Step,
    bindings: &mut Bindings,
) -> Result<(), String> {
    let built = build_request(&step.request, bindings).map_err(|e| format!("fixture error: {e}"))?;
    let mut builder = http::Request::builder()
        .method(built.method.clone())
        .uri(built.url(base));
    for (name, value) in &built.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if built.auth {
        for (name, value) in credentials {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    let request = builder
        .body(Full::new(built.body.clone()))
        .map_err(|e| format!("cannot build request: {e}"))?;
    let response = tokio::time::timeout(REQUEST_TIMEOUT, client.request(request))
        .await
        .map_err(|_| format!("no response within {}s", REQUEST_TIMEOUT.as_secs()))?
        .map_err(|e| format!("request failed: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(REQUEST_TIMEOUT, body.collect())
        .await
        .map_err(|_| "response body timed out".to_string())?
        .map_err(|e| format!("reading the response body failed: {e}"))?
        .to_bytes();
    let mismatches = match_response(
        &step.response,
        parts.status.as_u16(),
        &parts.headers,
        &body,
        bindings,
    );
    match mismatches.first() {
        None => Ok(()),
        Some(first) if mismatches.len() == 1 => Err(first.to_string()),
        Some(first) => Err(format!("{first} (and {} more)", mismatches.len() - 1)),
    }
}

/// Runs the subcommand: prints the report and maps it to the exit code (0 all passed, 1 any
/// failure, 2 the run could not start).
pub async fn run_cli(args: ContractArgs) -> ExitCode {
    match run(&args.into()).await {
        Ok(report) => {
            print!("{report}");
            if report.failed() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("contract: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests;
