//! Test support: a real server on 127.0.0.1 with a chosen store, and a small HTTP client.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bpm_compat::config::ServeConfig;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Redis,
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix no other test shares.
pub fn unique_prefix(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "test:{tag}:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn definitions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions")
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub root: String,
    /// The Flowable base: `http://127.0.0.1:PORT/flowable-rest/service`
    pub flowable: String,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(store: StoreKind) -> TestServer {
        Self::start_with(store, |_| {}).await
    }

    pub async fn start_with(store: StoreKind, tweak: impl FnOnce(&mut ServeConfig)) -> TestServer {
        let mut config = ServeConfig {
            definitions: definitions_dir(),
            ..ServeConfig::default()
        };
        if store == StoreKind::Redis {
            config.store = redis_url();
            config.redis_prefix = unique_prefix("server");
        }
        tweak(&mut config);
        let app = config.build_app().await.unwrap_or_else(|e| {
            panic!(
                "server does not start (Redis tests need a Redis at {}): {e}",
                redis_url()
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            bpm_compat::server::run(listener, app, shutdown, std::time::Duration::from_secs(5))
                .await
                .expect("server runs");
        });
        let root = format!("http://{addr}");
        TestServer {
            flowable: format!("{root}/flowable-rest/service"),
            root,
            stop: Some(stop),
            done: Some(done),
        }
    }

    /// Stops accepting and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.expect("server task");
        }
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub const ADMIN: (&str, &str) = ("rest-admin", "test");

/// Sends one request; `auth` adds Basic credentials.
pub async fn send(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
    auth: Option<(&str, &str)>,
) -> Reply {
    use base64::Engine as _;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    if let Some((u, p)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        req = req.header("Authorization", format!("Basic {token}"));
    }
    let req = req.body(Full::new(body.into())).expect("request builds");
    let res = client.request(req).await.expect("server answers");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

pub async fn get(url: &str) -> Reply {
    send("GET", url, None, Bytes::new(), Some(ADMIN)).await
}

pub async fn json(method: &str, url: &str, body: serde_json::Value) -> Reply {
    send(
        method,
        url,
        Some("application/json"),
        body.to_string(),
        Some(ADMIN),
    )
    .await
}
