//! `bpm-compat shadow`: a proxy for migrations. Each request goes to the primary (typically
//! the real vendor) and to the candidate (typically bpm-compat); the client gets the primary's
//! answer, and the differences between the two answers are recorded per endpoint and field.
//!
//! Noise is learned the way Twitter's Diffy does it: with `--secondary` (a second instance of
//! the primary), a field that differs between the primary and the secondary for the same
//! request (ids, timestamps) is noise for that endpoint from then on and never counted;
//! `--ignore` declares such fields up front. Differences are served at
//! `GET /_shadow/differences` (JSON) and `GET /_shadow/report` (text), on the proxy's own
//! listener.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use serde_json::Value;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

const TIMEOUT: Duration = Duration::from_secs(30);
/// The examples kept for the report.
const EXAMPLES: usize = 20;

#[derive(Debug, Clone, clap::Args)]
pub struct ShadowArgs {
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The system of record: its answers go to the client.
    #[arg(long)]
    pub primary: String,
    /// The system under comparison.
    #[arg(long)]
    pub candidate: String,
    /// A second instance of the primary, to learn which fields differ between two calls of
    /// the primary itself (noise).
    #[arg(long)]
    pub secondary: Option<String>,
    /// Fields never compared, as JSON paths with `*` for any key or index (`$.id`,
    /// `$.data[*].startTime`, `$.*.url`); repeatable.
    #[arg(long)]
    pub ignore: Vec<String>,
    /// Largest request body forwarded, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_body: usize,
}

/// One answer, as compared.
#[derive(Debug, Clone, Serialize)]
pub struct Captured {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStats {
    pub requests: u64,
    pub with_differences: u64,
    /// Per field (array indices as `[*]`): how many requests differed there.
    pub fields: BTreeMap<String, u64>,
    /// Fields learned as noise.
    pub noise: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub endpoint: String,
    pub fields: Vec<String>,
    pub primary: Captured,
    pub candidate: Captured,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub requests: u64,
    pub with_differences: u64,
    pub endpoints: BTreeMap<String, EndpointStats>,
    pub examples: Vec<Example>,
}

pub struct Shadow {
    client: HttpClient,
    primary: String,
    candidate: String,
    secondary: Option<String>,
    ignore: Vec<String>,
    max_body: usize,
    recorded: Mutex<Recorded>,
}

/// `/runtime/process-instances/12` → `/runtime/process-instances/{id}`: segments that are ids
/// (digits, `@digits`, 20-character Astro ids, uuids) are one endpoint.
pub fn endpoint(method: &Method, path: &str) -> String {
    let template: Vec<String> = path
        .split('/')
        .map(|s| {
            let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
            let astro = s.len() == 20 && (s.starts_with("002N") || s.starts_with("001L"));
            let uuid = s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            if digits(s) || s.strip_prefix('@').is_some_and(digits) || astro || uuid {
                "{id}".to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    format!("{method} {}", template.join("/"))
}

/// Leaves of a JSON document by path (`$.a.b[0]`).
pub fn flatten(v: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                flatten(x, format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                flatten(x, format!("{path}[{i}]"), out);
            }
        }
        other => {
            out.insert(path, other.clone());
        }
    }
}

/// A path with its array indices as `[*]`.
fn generic(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Whether `pattern` (`*` for one key or index) names `path` (already generic).
fn matches(pattern: &str, path: &str) -> bool {
    let split = |s: &str| -> Vec<String> { s.replace("[*]", ".[*]").split('.').map(str::to_owned).collect() };
    let (p, f) = (split(pattern), split(path));
    p.len() == f.len()
        && p.iter()
            .zip(&f)
            .all(|(a, b)| a == "*" || a == "[*]" && b == "[*]" || a == b)
}

/// The fields (generic paths) on which two answers differ.
pub fn differences(a: &Captured, b: &Captured) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if a.status != b.status {
        out.insert("status".to_owned());
    }
    let essence = |c: &Option<String>| {
        c.as_deref().map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    };
    if essence(&a.content_type) != essence(&b.content_type) {
        out.insert("header.content-type".to_owned());
    }
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    flatten(&a.body, "$".into(), &mut fa);
    flatten(&b.body, "$".into(), &mut fb);
    for k in fa.keys().chain(fb.keys()) {
        if fa.get(k) != fb.get(k) {
            out.insert(generic(k));
        }
    }
    out
}

impl Shadow {
    pub fn new(args: &ShadowArgs) -> Shadow {
        Shadow {
            client: Client::builder(TokioExecutor::new()).build_http(),
            primary: args.primary.trim_end_matches('/').to_owned(),
            candidate: args.candidate.trim_end_matches('/').to_owned(),
            secondary: args
                .secondary
                .as_ref()
                .map(|s| s.trim_end_matches('/').to_owned()),
            ignore: args.ignore.iter().map(|p| generic(p)).collect(),
            max_body: args.max_body,
            recorded: Mutex::new(Recorded::default()),
        }
    }

    pub fn recorded(&self) -> Recorded {
        self.recorded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn forward(
        &self,
        base: &str,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<(Response<Bytes>, Captured), String> {
        let mut b = Request::builder()
            .method(method.clone())
            .uri(format!("{base}{path_and_query}"));
        for (k, v) in headers {
            if k != header::HOST && k != header::CONTENT_LENGTH && k != header::CONNECTION {
                b = b.header(k, v);
            }
        }
        let req = b.body(Full::new(body.clone())).map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| format!("{base}: no answer"))?
            .map_err(|e| format!("{base}: {e}"))?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| format!("{base}: {e}"))?
            .to_bytes();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let parsed = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        let captured = Captured {
            status: parts.status.as_u16(),
            content_type,
            body: parsed,
        };
        Ok((Response::from_parts(parts, bytes), captured))
    }

    /// Forwards one request and records what differs; answers the primary's response.
    pub async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        if path.starts_with("/_shadow/") {
            return self.admin(&parts.method, &path);
        }
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        };
        let pq = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or(path.clone());
        let (m, h) = (&parts.method, &parts.headers);
        let secondary = async {
            match &self.secondary {
                Some(s) => Some(self.forward(s, m, &pq, h, &body).await),
                None => None,
            }
        };
        let (primary, candidate, secondary) = tokio::join!(
            self.forward(&self.primary, m, &pq, h, &body),
            self.forward(&self.candidate, m, &pq, h, &body),
            secondary
        );
        let (response, primary) = match primary {
            Ok(p) => p,
            Err(e) => {
                return plain(
                    StatusCode::BAD_GATEWAY,
                    &format!("the primary did not answer: {e}"),
                )
            }
        };
        let candidate = candidate.map(|(_, c)| c).unwrap_or_else(|e| Captured {
            status: 502,
            content_type: None,
            body: Value::String(e),
        });
        let noise = match secondary {
            Some(Ok((_, s))) => differences(&primary, &s),
            _ => BTreeSet::new(),
        };
        self.record(endpoint(m, &path), &primary, &candidate, noise);
        let (parts, bytes) = response.into_parts();
        Response::from_parts(parts, Full::new(bytes))
    }

    fn record(&self, endpoint: String, primary: &Captured, candidate: &Captured, noise: BTreeSet<String>) {
        let mut r = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        let stats = r.endpoints.entry(endpoint.clone()).or_default();
        stats.noise.extend(noise);
        stats.requests += 1;
        let fields: Vec<String> = differences(primary, candidate)
            .into_iter()
            .filter(|f| !stats.noise.contains(f) && !self.ignore.iter().any(|p| matches(p, f)))
            .collect();
        if !fields.is_empty() {
            stats.with_differences += 1;
            for f in &fields {
                *stats.fields.entry(f.clone()).or_default() += 1;
            }
        }
        r.requests += 1;
        if !fields.is_empty() {
            r.with_differences += 1;
            if r.examples.len() < EXAMPLES {
                r.examples.push(Example {
                    endpoint,
                    fields,
                    primary: primary.clone(),
                    candidate: candidate.clone(),
                });
            }
        }
    }

    fn admin(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        if method != Method::GET {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "GET only");
        }
        let r = self.recorded();
        match path {
            "/_shadow/differences" => {
                let body = serde_json::to_vec_pretty(&r).unwrap_or_default();
                let mut resp = Response::new(Full::new(Bytes::from(body)));
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                resp
            }
            "/_shadow/report" => plain(StatusCode::OK, &report(&r)),
            _ => plain(StatusCode::NOT_FOUND, "/_shadow/differences or /_shadow/report"),
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The summary a migration team reads: counts per endpoint and field.
pub fn report(r: &Recorded) -> String {
    let mut out = format!(
        "{} request(s), {} with differences\n",
        r.requests, r.with_differences
    );
    for (endpoint, s) in &r.endpoints {
        let _ = writeln!(
            out,
            "\n{endpoint}: {} request(s), {} with differences",
            s.requests, s.with_differences
        );
        for (field, n) in &s.fields {
            let _ = writeln!(out, "  {n:>5}  {field}");
        }
        if !s.noise.is_empty() {
            let noise: Vec<&str> = s.noise.iter().map(String::as_str).collect();
            let _ = writeln!(out, "  noise: {}", noise.join(", "));
        }
    }
    out
}

/// Serves the proxy until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shadow: Arc<Shadow>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let shadow = shadow.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shadow = shadow.clone();
                        async move { Ok::<_, Infallible>(shadow.handle(req).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            () = &mut shutdown => break,
        }
    }
}

pub async fn run_cli(args: ShadowArgs) -> ExitCode {
    for url in [
        Some(&args.primary),
        Some(&args.candidate),
        args.secondary.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if !url.starts_with("http://") || url.parse::<http::Uri>().is_err() {
            eprintln!("shadow: not an http:// URL: {url}");
            return ExitCode::from(2);
        }
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("shadow: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "shadow: {} → primary {}, candidate {}; differences at http://{}/_shadow/report",
        args.listen, args.primary, args.candidate, args.listen
    );
    let shadow = Arc::new(Shadow::new(&args));
    serve(listener, shadow.clone(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    print!("{}", report(&shadow.recorded()));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn captured(status: u16, body: Value) -> Captured {
        Captured {
            status,
            content_type: Some("application/json".into()),
            body,
        }
    }

    #[test]
    fn endpoints_group_ids() {
        assert_eq!(
            endpoint(
                &Method::GET,
                "/flowable-rest/service/runtime/process-instances/10000000000001/variables"
            ),
            "GET /flowable-rest/service/runtime/process-instances/{id}/variables"
        );
        assert_eq!(
            endpoint(
                &Method::PUT,
                "/u-route/baas/bp/v2.0/runtime/instances/002N000000Sy2NphoRbU"
            ),
            "PUT /u-route/baas/bp/v2.0/runtime/instances/{id}"
        );
        assert_eq!(
            endpoint(&Method::POST, "/rest/bpm/wle/v1/service/@12"),
            "POST /rest/bpm/wle/v1/service/{id}"
        );
    }

    #[test]
    fn differences_are_generic_paths() {
        let a = captured(
            200,
            json!({"data": [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}], "total": 2}),
        );
        let b = captured(
            200,
            json!({"data": [{"id": "1", "name": "a"}, {"id": "2", "name": "c"}], "total": 2, "extra": true}),
        );
        assert_eq!(
            differences(&a, &b).into_iter().collect::<Vec<_>>(),
            vec!["$.data[*].name".to_owned(), "$.extra".to_owned()]
        );
        let c = captured(
            404,
            json!({"data": [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}], "total": 2}),
        );
        assert_eq!(
            differences(&a, &c).into_iter().collect::<Vec<_>>(),
            vec!["status".to_owned()]
        );
    }

    #[test]
    fn ignore_patterns_match_keys_and_indices() {
        assert!(matches("$.data[*].startTime", "$.data[*].startTime"));
        assert!(matches("$.*.url", "$.data.url"));
        assert!(!matches("$.*.url", "$.data.x.url"));
        assert!(matches(&generic("$.data[0].id"), "$.data[*].id"));
        assert!(!matches("$.id", "$.data[*].id"));
    }
}
