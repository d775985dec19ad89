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

/// A key prefix no other test shares (pid, wall clock and a counter; no glob characters,
/// no braces).
pub fn unique_prefix(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("bpmtest:{tag}:{}:{nanos}:{n}:", std::process::id())
}

pub async fn redis_raw() -> redis::aio::MultiplexedConnection {
    connect(&redis_url()).await.expect("Redis answers at REDIS_URL")
}

async fn connect(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)?.get_multiplexed_async_connection().await
}

/// Every key under `prefix` (SCAN is fine in tests, never on request paths).
pub async fn keys_under(prefix: &str) -> Vec<Vec<u8>> {
    keys_at(&mut redis_raw().await, prefix).await
}

async fn keys_at(con: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<Vec<u8>> {
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(con)
            .await
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

/// Deletes every key under `prefix` on the Redis at REDIS_URL.
pub async fn remove_keys(prefix: &str) {
    remove_keys_at(&redis_url(), prefix).await;
}

/// Deletes every key under `prefix` on the Redis at `url`; a Redis that is gone has none left.
pub async fn remove_keys_at(url: &str, prefix: &str) {
    let Ok(mut con) = connect(url).await else { return };
    let keys = keys_at(&mut con, prefix).await;
    for chunk in keys.chunks(500) {
        let _: redis::Value = redis::cmd("DEL")
            .arg(chunk)
            .query_async(&mut con)
            .await
            .expect("DEL");
    }
}

pub fn definitions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions")
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub root: String,
    /// The Flowable base: `http://127.0.0.1:PORT/flowable-rest/service`
    pub flowable: String,
    /// The Astro Zero base: `http://127.0.0.1:PORT/u-route/baas/bp/v2.0`
    pub astro: String,
    /// The webMethods services: `http://127.0.0.1:PORT/invoke/pub.monitor.integrationProcessLogging`
    pub webmethods: String,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    /// The Redis URL and key prefix to clean up on stop, when the store is Redis.
    redis_keys: Option<(String, String)>,
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
        let redis_keys =
            (config.store != "memory").then(|| (config.store.clone(), config.redis_prefix.clone()));
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
            astro: format!("{root}/u-route/baas/bp/v2.0"),
            webmethods: format!("{root}/invoke/pub.monitor.integrationProcessLogging"),
            root,
            stop: Some(stop),
            done: Some(done),
            redis_keys,
        }
    }

    /// Stops accepting, waits for the server to finish and removes its Redis keys.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.expect("server task");
        }
        if let Some((url, prefix)) = self.redis_keys.take() {
            remove_keys_at(&url, &prefix).await;
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
    let mut headers = Vec::new();
    if let Some(ct) = content_type {
        headers.push(("Content-Type".to_owned(), ct.to_owned()));
    }
    if let Some((u, p)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        headers.push(("Authorization".to_owned(), format!("Basic {token}")));
    }
    send_with(method, url, &headers, body).await
}

/// Sends one request with these headers.
pub async fn send_with(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: impl Into<Bytes>,
) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
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
