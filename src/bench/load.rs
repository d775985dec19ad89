//! The closed-loop load generator: N connections, one task each, every task sending its next
//! request when the previous answer has arrived.
//!
//! Each task owns a raw hyper HTTP/1.1 client connection (`client::conn::http1`) over its own
//! `TcpStream`: no pool, no shared state on the hot path, so the generator costs as little CPU
//! as possible on a machine it shares with the server it measures. Latencies stay in a per-task
//! `Vec` and are merged when the scenario ends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::stats::LatencySummary;
use super::{BenchError, Scenario};

/// A request that takes longer than this is counted as an error, so a hung server ends the
/// scenario instead of the benchmark.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed connect, so a server that is down yields a count of errors rather than
/// a busy loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
/// Error messages kept per scenario to show what went wrong.
const ERROR_SAMPLES: usize = 5;

/// Where requests go: the TCP address to connect to, the Host header and the path prefix.
#[derive(Debug, Clone)]
pub struct Target {
    connect_to: String,
    host: HeaderValue,
    base_path: String,
}

impl Target {
    /// Parses an `http://host:port/base/path` URL. HTTPS is not supported: the benchmark
    /// measures the server, not TLS.
    pub fn parse(url: &str) -> Result<Self, BenchError> {
        let invalid = |why: &str| BenchError::InvalidUrl(format!("{url}: {why}"));
        let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http:// is supported"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| invalid("bad host"))?;
        Ok(Self {
            connect_to: format!("{}:{port}", authority.host()),
            host,
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    pub fn from_addr(addr: SocketAddr) -> Self {
        let text = addr.to_string();
        Self {
            host: HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("localhost")),
            connect_to: text,
            base_path: String::new(),
        }
    }

    pub fn connect_to(&self) -> &str {
        &self.connect_to
    }

    fn path(&self, rest: &str) -> String {
        format!("{}/{rest}", self.base_path)
    }
}

/// Everything a connection needs to build the next request of a scenario.
#[derive(Debug)]
pub struct Workload {
    auth: Option<HeaderValue>,
    /// The definition key as a JSON string literal, quotes included.
    definition_key_json: String,
    /// The definition key percent-encoded for a query string.
    definition_key_query: String,
    /// Instance ids to read and write in `get` and `set-variables`, set once they are started.
    ids: OnceLock<Vec<String>>,
    /// Business keys handed out so far (`bench-0` .. `bench-{n-1}`): the start scenarios take
    /// the next one, `list-business-key` looks a random one of them up.
    business_keys: AtomicU64,
}

impl Workload {
    pub fn new(auth: Option<HeaderValue>, definition_key: &str) -> Self {
        Self {
            auth,
            definition_key_json: serde_json::Value::from(definition_key).to_string(),
            definition_key_query: percent_encode(definition_key),
            ids: OnceLock::new(),
            business_keys: AtomicU64::new(0),
        }
    }

    /// Sets the ids `get` and `set-variables` address; the first non-empty set wins.
    pub fn set_ids(&self, ids: Vec<String>) {
        if !ids.is_empty() {
            let _ = self.ids.set(ids);
        }
    }

    pub fn has_ids(&self) -> bool {
        self.ids.get().is_some_and(|ids| !ids.is_empty())
    }

    pub fn business_keys_issued(&self) -> u64 {
        self.business_keys.load(Ordering::Relaxed)
    }

    fn start_body(&self) -> Bytes {
        let n = self.business_keys.fetch_add(1, Ordering::Relaxed);
        Bytes::from(format!(
            r#"{{"processDefinitionKey":{},"businessKey":"bench-{n}","variables":[{{"name":"v1","value":"text"}},{{"name":"v2","value":42}},{{"name":"v3","value":true}},{{"name":"v4","value":3.5}},{{"name":"v5","value":"x"}}]}}"#,
            self.definition_key_json
        ))
    }

    /// The next request of `scenario` on one connection, and the status that counts as success.
    fn request(
        &self,
        target: &Target,
        scenario: Scenario,
        rng: &mut Rng,
        seq: u64,
    ) -> Result<(Request<Full<Bytes>>, StatusCode), BenchError> {
        let (method, path, body, expected) = match scenario {
            Scenario::Ceiling => (Method::GET, target.path("ceiling"), None, StatusCode::OK),
            Scenario::Start => (
                Method::POST,
                target.path("runtime/process-instances"),
                Some(self.start_body()),
                StatusCode::CREATED,
            ),
            Scenario::Get => {
                let id = self.pick_id(rng)?;
                (
                    Method::GET,
                    target.path(&format!("runtime/process-instances/{id}")),
                    None,
                    StatusCode::OK,
                )
            }
            Scenario::List => (
                Method::GET,
                target.path(&format!(
                    "runtime/process-instances?processDefinitionKey={}&size=10",
                    self.definition_key_query
                )),
                None,
                StatusCode::OK,
            ),
            Scenario::ListBusinessKey => {
                let issued = self.business_keys_issued().max(1);
                let n = rng.below(issued);
                (
                    Method::GET,
                    target.path(&format!(
                        "runtime/process-instances?businessKey=bench-{n}&size=10"
                    )),
                    None,
                    StatusCode::OK,
                )
            }
            Scenario::SetVariables => {
                let id = self.pick_id(rng)?;
                let body = format!(r#"[{{"name":"counter","type":"integer","value":{seq}}}]"#);
                (
                    Method::PUT,
                    target.path(&format!("runtime/process-instances/{id}/variables")),
                    Some(Bytes::from(body)),
                    StatusCode::CREATED,
                )
            }
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, target.host.clone());
        if let Some(auth) = &self.auth {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        let request = match body {
            Some(body) => builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(Full::new(body)),
            None => builder.body(Full::new(Bytes::new())),
        };
        Ok((request.map_err(|e| BenchError::Request(e.to_string()))?, expected))
    }

    fn pick_id(&self, rng: &mut Rng) -> Result<&str, BenchError> {
        let ids = self
            .ids
            .get()
            .filter(|ids| !ids.is_empty())
            .ok_or(BenchError::NoInstances)?;
        let index = rng.below(ids.len() as u64) as usize;
        Ok(&ids[index])
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// xorshift64*: enough randomness to spread reads over ids, and no dependency.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread small seeds (connection numbers) apart; the state must never be zero.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound` > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// One keep-alive HTTP/1.1 connection that reconnects after a failure.
struct Conn {
    target: Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    fn new(target: Arc<Target>) -> Self {
        Self { target, sender: None }
    }

    /// Sends one request and reads the whole answer. After any failure the connection is
    /// dropped and the next call opens a new one.
    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), BenchError> {
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.send_inner(request))
            .await
            .unwrap_or(Err(BenchError::Timeout(REQUEST_TIMEOUT)));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn send_inner(&mut self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), BenchError> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            self.sender = Some(connect(&self.target).await?);
        }
        let Some(sender) = self.sender.as_mut() else {
            return Err(BenchError::Request("no connection".to_owned()));
        };
        sender.ready().await.map_err(BenchError::Http)?;
        let response = sender.send_request(request).await.map_err(BenchError::Http)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(BenchError::Http)?
            .to_bytes();
        Ok((status, body))
    }
}

async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, BenchError> {
    let stream = TcpStream::connect(target.connect_to())
        .await
        .map_err(BenchError::Connect)?;
    stream.set_nodelay(true).map_err(BenchError::Connect)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(BenchError::Http)?;
    // The connection task ends when the sender is dropped or the peer closes; its errors
    // surface on the sender, so there is nothing to report here.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Errors of one task or one scenario: how many, and the first few messages.
#[derive(Debug, Default)]
pub struct Errors {
    pub count: u64,
    pub samples: Vec<String>,
}

impl Errors {
    fn record(&mut self, message: impl FnOnce() -> String) {
        self.count += 1;
        if self.samples.len() < ERROR_SAMPLES {
            self.samples.push(message());
        }
    }

    fn merge(&mut self, other: Errors) {
        self.count += other.count;
        for sample in other.samples {
            if self.samples.len() >= ERROR_SAMPLES {
                break;
            }
            if !self.samples.contains(&sample) {
                self.samples.push(sample);
            }
        }
    }

    /// Records a failed exchange; after a connect failure, waits before the next attempt.
    async fn failed(&mut self, outcome: Result<(StatusCode, Bytes), BenchError>) {
        match outcome {
            Ok((status, body)) => self.record(|| {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                format!("HTTP {status}: {text}")
            }),
            Err(error) => {
                let pause = matches!(error, BenchError::Connect(_));
                self.record(|| error.to_string());
                if pause {
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                }
            }
        }
    }
}

/// The result of one timed scenario.
#[derive(Debug)]
pub struct Measured {
    pub latency: LatencySummary,
    pub errors: Errors,
}

/// Runs `scenario` against `target` over `connections` connections for `warmup + duration`.
///
/// A request counts (and its latency is kept) when it was sent after the warmup and answered
/// before the end; errors count over the whole run, warmup included, so none can hide.
pub async fn run_timed(
    workload: Arc<Workload>,
    target: Arc<Target>,
    scenario: Scenario,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for index in 0..connections {
        let workload = Arc::clone(&workload);
        let target = Arc::clone(&target);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(Arc::clone(&target));
            let mut rng = Rng::new(index as u64 + 1);
            let mut latencies = Vec::new();
            let mut errors = Errors::default();
            let mut seq = 0u64;
            while Instant::now() < end {
                seq += 1;
                let (request, expected) = match workload.request(&target, scenario, &mut rng, seq) {
                    Ok(built) => built,
                    Err(error) => {
                        errors.record(|| error.to_string());
                        break;
                    }
                };
                let sent = Instant::now();
                let outcome = conn.send(request).await;
                let done = Instant::now();
                match outcome {
                    Ok((status, _)) if status == expected => {
                        if sent >= measure_from && done <= end {
                            latencies.push(micros(done - sent));
                        }
                    }
                    other => errors.failed(other).await,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = Errors::default();
    for task in tasks {
        match task.await {
            Ok((latencies, task_errors)) => {
                all.extend(latencies);
                errors.merge(task_errors);
            }
            Err(join) => errors.record(|| format!("load task failed: {join}")),
        }
    }
    Measured {
        latency: LatencySummary::from_samples(all),
        errors,
    }
}

/// The result of starting a batch of instances.
#[derive(Debug)]
pub struct Started {
    pub ok: u64,
    pub errors: Errors,
    pub elapsed: Duration,
    pub ids: Vec<String>,
    /// Set when the batch gave up because most requests failed.
    pub aborted: bool,
}

/// Starts `count` instances as fast as `connections` connections allow, keeping up to
/// `keep_ids` of the new ids. Prints progress to stderr every few seconds when `progress` is
/// set. Gives up once errors pass 1,000 and outnumber successes: a server that is down must
/// not turn a million-instance preload into a million timeouts.
pub async fn start_instances(
    workload: Arc<Workload>,
    target: Arc<Target>,
    connections: usize,
    count: u64,
    keep_ids: usize,
    progress: bool,
) -> Started {
    let tickets = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let keep_per_task = keep_ids.div_ceil(connections.max(1));
    let start = Instant::now();

    let reporter = progress.then(|| {
        let ok = Arc::clone(&ok);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            tick.tick().await;
            loop {
                tick.tick().await;
                let done = ok.load(Ordering::Relaxed);
                let rate = done as f64 / start.elapsed().as_secs_f64();
                eprintln!("preload: {done}/{count} started ({rate:.0}/s)");
            }
        })
    });

    let mut tasks = Vec::with_capacity(connections);
    for index in 0..connections {
        let (workload, target) = (Arc::clone(&workload), Arc::clone(&target));
        let (tickets, ok, failed, abort) = (
            Arc::clone(&tickets),
            Arc::clone(&ok),
            Arc::clone(&failed),
            Arc::clone(&abort),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(Arc::clone(&target));
            let mut rng = Rng::new(index as u64 + 1);
            let mut ids = Vec::new();
            let mut errors = Errors::default();
            while !abort.load(Ordering::Relaxed) && tickets.fetch_add(1, Ordering::Relaxed) < count {
                let (request, _) = match workload.request(&target, Scenario::Start, &mut rng, 0) {
                    Ok(built) => built,
                    Err(error) => {
                        errors.record(|| error.to_string());
                        break;
                    }
                };
                match conn.send(request).await {
                    Ok((StatusCode::CREATED, body)) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if ids.len() < keep_per_task {
                            match instance_id(&body) {
                                Some(id) => ids.push(id),
                                None => errors.record(|| "201 answer without an \"id\"".to_owned()),
                            }
                        }
                    }
                    other => {
                        let failures = failed.fetch_add(1, Ordering::Relaxed) + 1;
                        if failures > 1_000 && failures > ok.load(Ordering::Relaxed) {
                            abort.store(true, Ordering::Relaxed);
                        }
                        errors.failed(other).await;
                    }
                }
            }
            (ids, errors)
        }));
    }
    let mut ids = Vec::new();
    let mut errors = Errors::default();
    for task in tasks {
        match task.await {
            Ok((task_ids, task_errors)) => {
                ids.extend(task_ids);
                errors.merge(task_errors);
            }
            Err(join) => errors.record(|| format!("load task failed: {join}")),
        }
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    ids.truncate(keep_ids);
    Started {
        ok: ok.load(Ordering::Relaxed),
        errors,
        elapsed: start.elapsed(),
        ids,
        aborted: abort.load(Ordering::Relaxed),
    }
}

/// The `"id"` of a Flowable process-instance answer (a string; a number is accepted too).
fn instance_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("id")? {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_splits_a_flowable_base_url() {
        let target = Target::parse("http://127.0.0.1:8080/flowable-rest/service/").unwrap();
        assert_eq!(target.connect_to(), "127.0.0.1:8080");
        assert_eq!(target.host, "127.0.0.1:8080");
        assert_eq!(
            target.path("runtime/process-instances"),
            "/flowable-rest/service/runtime/process-instances"
        );
        assert_eq!(
            Target::parse("http://localhost/x").unwrap().connect_to(),
            "localhost:80"
        );
        assert!(Target::parse("https://localhost/x").is_err());
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn requests_have_the_flowable_shapes() {
        let target = Target::parse("http://h:1/flowable-rest/service").unwrap();
        let workload = Workload::new(Some(HeaderValue::from_static("Basic x")), "one task");
        workload.set_ids(vec!["7".to_owned()]);
        let mut rng = Rng::new(1);
        let shape = |scenario| {
            let (request, expected) = workload.request(&target, scenario, &mut Rng::new(1), 3).unwrap();
            (request.method().clone(), request.uri().to_string(), expected)
        };
        assert_eq!(
            shape(Scenario::List),
            (
                Method::GET,
                "/flowable-rest/service/runtime/process-instances?processDefinitionKey=one%20task&size=10"
                    .to_owned(),
                StatusCode::OK
            )
        );
        assert_eq!(
            shape(Scenario::Get),
            (
                Method::GET,
                "/flowable-rest/service/runtime/process-instances/7".to_owned(),
                StatusCode::OK
            )
        );
        let (put, _) = workload
            .request(&target, Scenario::SetVariables, &mut rng, 3)
            .unwrap();
        assert_eq!(
            put.uri(),
            "/flowable-rest/service/runtime/process-instances/7/variables"
        );
        assert_eq!(put.headers()[AUTHORIZATION], "Basic x");

        let (start, expected) = workload.request(&target, Scenario::Start, &mut rng, 0).unwrap();
        assert_eq!((start.method(), expected), (&Method::POST, StatusCode::CREATED));
        assert_eq!(start.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(workload.business_keys_issued(), 1);
    }

    #[test]
    fn get_without_instances_is_an_error_not_a_panic() {
        let target = Target::parse("http://h:1/").unwrap();
        let workload = Workload::new(None, "k");
        assert!(matches!(
            workload.request(&target, Scenario::Get, &mut Rng::new(1), 0),
            Err(BenchError::NoInstances)
        ));
    }

    #[test]
    fn instance_ids_are_read_from_strings_and_numbers() {
        assert_eq!(instance_id(br#"{"id":"12","url":"x"}"#), Some("12".to_owned()));
        assert_eq!(instance_id(br#"{"id":12}"#), Some("12".to_owned()));
        assert_eq!(instance_id(br#"{"message":"no"}"#), None);
        assert_eq!(instance_id(b"not json"), None);
    }

    #[test]
    fn rng_stays_below_its_bound() {
        let mut rng = Rng::new(0);
        assert!((0..10_000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
