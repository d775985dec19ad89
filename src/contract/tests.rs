//! Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::*;

/// What the canned server saw: method, path and query, Authorization header.
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// A tiny server on 127.0.0.1:0 with canned answers:
/// - `POST /svc/things` → 201 `{"id":"42","url":"<base>/things/42"}`
/// - `GET /svc/things/42` → 200 `{"id":"42"}` when authenticated, else 401 with `WWW-Authenticate`
/// - `DELETE /svc/things/42` → 204
/// - anything else → 404 `{"message":"Not found"}`
async fn canned_server() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}/svc");
    let seen: Seen = Arc::default();
    let (base2, seen2) = (base.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (base, seen) = (base2.clone(), seen2.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let (base, seen) = (base.clone(), seen.clone());
                    async move { Ok::<_, Infallible>(answer(req, &base, &seen).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (base, seen)
}

async fn answer(req: Request<Incoming>, base: &str, seen: &Seen) -> Response<Full<Bytes>> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let method = req.method().to_string();
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    seen.lock()
        .unwrap()
        .push((method.clone(), pq.clone(), auth.clone()));
    let _ = req.into_body().collect().await;
    let json = |status: u16, body: String| {
        Response::builder()
            .status(status)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    match (method.as_str(), pq.as_str()) {
        ("POST", "/svc/things") => json(201, format!(r#"{{"id":"42","url":"{base}/things/42"}}"#)),
        ("GET", "/svc/things/42") if auth.is_none() => Response::builder()
            .status(401)
            .header("WWW-Authenticate", "Basic realm=\"Realm\"")
            .body(Full::new(Bytes::new()))
            .unwrap(),
        ("GET", "/svc/things/42") => json(200, r#"{"id":"42"}"#.to_string()),
        ("DELETE", "/svc/things/42") => Response::builder()
            .status(204)
            .body(Full::new(Bytes::new()))
            .unwrap(),
        _ => json(404, r#"{"message":"Not found"}"#.to_string()),
    }
}

/// A fresh directory under the system temp dir holding `vendor/<files>`.
fn fixture_dir(files: &[(&str, serde_json::Value)]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let root = std::env::temp_dir().join(format!("bpm-compat-contract-{}-{n}", std::process::id()));
    let dir = root.join("vendor");
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(content).unwrap()).unwrap();
    }
    dir
}

fn good_scenario() -> serde_json::Value {
    serde_json::json!({
    "description": "create, read, delete", "source": "test",
    "steps": [
        {"name": "create", "request": {"method": "POST", "path": "things", "json": {"a": 1}},
         "response": {"status": 201, "headers": {"Content-Type": "application/json"},
                      "json": {"id": "{{bind:t}}", "url": "{{base}}/things/{{t}}"}}},
        {"name": "read", "request": {"method": "GET", "path": "things/{{t}}"},
         "response": {"status": 200, "json": {"id": "{{t}}"}}},
        {"name": "read without credentials", "request": {"method": "GET", "path": "things/{{t}}", "auth": false},
         "response": {"status": 401, "headers": {"WWW-Authenticate": "Basic realm=\"Realm\""}, "any": true}},
        {"name": "delete", "request": {"method": "DELETE", "path": "things/{{t}}"},
         "response": {"status": 204, "empty": true}}
    ]})
}

fn bad_scenario() -> serde_json::Value {
    serde_json::json!({
    "description": "expects the wrong thing at step 1", "source": "test",
    "steps": [
        {"name": "read", "request": {"method": "GET", "path": "things/42"},
         "response": {"status": 200, "json": {"id": "43"}}},
        {"name": "never sent", "request": {"method": "DELETE", "path": "things/42"},
         "response": {"status": 204, "empty": true}}
    ]})
}

fn opts(dir: PathBuf, base: &str) -> ContractOptions {
    ContractOptions {
        dir,
        base_url: base.to_string(),
        user: Some("rest-admin".to_string()),
        password: Some("test".to_string()),
        headers: Vec::new(),
    }
}

#[tokio::test]
async fn runs_cases_over_http_and_reports_each_with_a_summary() {
    let (base, seen) = canned_server().await;
    let dir = fixture_dir(&[("a/good.json", good_scenario()), ("b/bad.json", bad_scenario())]);
    let report = run(&opts(dir, &base)).await.unwrap();

    assert_eq!(report.passed(), 1);
    assert_eq!(report.failed(), 1);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "PASS vendor/a/good");
    assert_eq!(
        lines[1],
        "FAIL vendor/b/bad: step 'read': $.id: expected \"43\" got \"42\""
    );
    assert_eq!(lines[2], "1 passed, 1 failed");
    assert_eq!(lines.len(), 3);

    let seen = seen.lock().unwrap().clone();
    let basic = Some("Basic cmVzdC1hZG1pbjp0ZXN0".to_string());
    assert_eq!(seen[0], ("POST".into(), "/svc/things".into(), basic.clone()));
    assert_eq!(seen[1], ("GET".into(), "/svc/things/42".into(), basic.clone()));
    assert_eq!(
        seen[2],
        ("GET".into(), "/svc/things/42".into(), None),
        "auth:false sends no credentials"
    );
    assert_eq!(seen[3].0, "DELETE");
    // The bad case stopped at its first failing step: one request only.
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[4], ("GET".into(), "/svc/things/42".into(), basic));
}

#[tokio::test]
async fn without_credentials_the_authenticated_step_fails() {
    let (base, _) = canned_server().await;
    let dir = fixture_dir(&[("good.json", good_scenario())]);
    let mut o = opts(dir, &base);
    o.user = None;
    o.password = None;
    let report = run(&o).await.unwrap();
    assert_eq!(report.failed(), 1);
    let failure = report.cases[0].failure.clone().unwrap();
    assert!(
        failure.starts_with("step 'read': status: expected 200 got 401"),
        "{failure}"
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_cases_instead_of_aborting() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = fixture_dir(&[("good.json", good_scenario())]);
    let report = run(&opts(dir, &format!("http://127.0.0.1:{port}/svc")))
        .await
        .unwrap();
    assert_eq!(report.failed(), 1);
    assert!(report.cases[0]
        .failure
        .as_deref()
        .unwrap()
        .contains("request failed"));
    assert!(report.to_string().ends_with("0 passed, 1 failed\n"));
}

#[tokio::test]
async fn load_problems_are_errors() {
    let empty = fixture_dir(&[]);
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        run(&opts(empty, "http://127.0.0.1:1")).await,
        Err(ContractError::NoScenarios(_))
    ));

    let broken = fixture_dir(&[("x.json", serde_json::json!({"description": "no steps"}))]);
    assert!(matches!(load_dir(&broken), Err(ContractError::Fixture { .. })));

    let good = fixture_dir(&[("good.json", good_scenario())]);
    assert!(matches!(
        run(&opts(good, "ftp://x")).await,
        Err(ContractError::BadBaseUrl(_))
    ));
}

#[test]
fn load_dir_is_recursive_sorted_and_ignores_other_files() {
    let dir = fixture_dir(&[
        ("z/b.json", good_scenario()),
        ("a.json", good_scenario()),
        ("z/a.json", good_scenario()),
    ]);
    std::fs::write(dir.join("README.md"), "not a fixture").unwrap();
    let names: Vec<String> = load_dir(&dir).unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["vendor/a", "vendor/z/a", "vendor/z/b"]);
}

#[test]
fn args_convert_into_options() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: ContractArgs,
    }
    let cli = Cli::parse_from([
        "x",
        "fixtures/flowable",
        "--base-url",
        "http://h:1/s",
        "--user",
        "u",
        "--password",
        "p",
    ]);
    let o: ContractOptions = cli.args.into();
    assert_eq!(o.dir, PathBuf::from("fixtures/flowable"));
    assert_eq!(o.base_url, "http://h:1/s");
    assert_eq!((o.user.as_deref(), o.password.as_deref()), (Some("u"), Some("p")));
}

#[test]
fn the_repository_fixtures_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/flowable");
    if dir.is_dir() {
        let scenarios = load_dir(&dir).unwrap();
        assert!(!scenarios.is_empty());
        for (name, s) in &scenarios {
            assert!(!s.source.trim().is_empty(), "{name} has no source");
        }
    }
}
