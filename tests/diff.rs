//! `bpm-compat diff` over the fixture scenarios on both stores: the dialects agree wherever
//! the scenarios do not declare otherwise; and a dialect answering wrongly (a proxy that
//! rewrites one dialect's responses) shows up as a difference.

mod common;

use std::convert::Infallible;
use std::path::PathBuf;

use bpm_compat::diff::{load, run};
use bytes::Bytes;
use common::{StoreKind, TestServer, ADMIN};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

fn scenarios() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenario dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

const DIALECTS: [&str; 3] = ["flowable", "astro-zero", "ibm-bpm"];

async fn scenarios_agree(store: StoreKind) {
    let server = TestServer::start(store).await;
    let files = scenarios();
    assert!(files.len() >= 2, "the scenarios are there");
    let dialects: Vec<String> = DIALECTS.iter().map(|d| (*d).to_owned()).collect();
    for file in files {
        let scenario = load(&file).expect("scenario loads");
        let reports = run(&scenario, &dialects, &server.root, ADMIN.0, ADMIN.1)
            .await
            .expect("runs");
        assert_eq!(reports.len(), scenario.steps.len());
        for r in &reports {
            assert!(
                r.differences.is_empty(),
                "{} step {} ({:?}): {:?}\n{:#?}",
                file.display(),
                r.step,
                r.op,
                r.differences,
                r.results
            );
            for d in DIALECTS {
                assert!(r.results.contains_key(d), "every dialect ran step {}", r.step);
            }
        }
        // The scenarios really move the process: it leaves `active` at some step.
        let states: Vec<Option<String>> = reports
            .iter()
            .map(|r| r.results["flowable"].state.clone())
            .collect();
        assert!(
            states.iter().any(|s| s.as_deref() != Some("active")),
            "{states:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn scenarios_agree_on_memory() {
    scenarios_agree(StoreKind::Memory).await;
}

#[tokio::test]
async fn scenarios_agree_on_redis() {
    scenarios_agree(StoreKind::Redis).await;
}

/// A proxy to `upstream` that answers Astro Zero's suspended instances as running: a broken
/// adapter, from the diff's point of view.
async fn lying_proxy(upstream: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("address");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let client = client.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    let upstream = upstream.clone();
                    async move {
                        let (mut parts, body) = req.into_parts();
                        let path = parts
                            .uri
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default();
                        parts.uri = format!("{upstream}{path}").parse().expect("uri");
                        parts.headers.remove(http::header::HOST);
                        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let resp = client
                            .request(hyper::Request::from_parts(parts, Full::new(body)))
                            .await
                            .expect("upstream answers");
                        let (parts, body) = resp.into_parts();
                        let mut bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        if path.starts_with("/u-route/") {
                            let text = String::from_utf8_lossy(&bytes)
                                .replace("\"state\":\"Suspended\"", "\"state\":\"Running\"");
                            bytes = Bytes::from(text);
                        }
                        let mut resp = hyper::Response::from_parts(parts, Full::new(bytes));
                        resp.headers_mut().remove(http::header::CONTENT_LENGTH);
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_dialect_that_answers_wrongly_is_a_difference() {
    let server = TestServer::start(StoreKind::Memory).await;
    let proxy = lying_proxy(server.root.clone()).await;
    let scenario = load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/approval.json"))
        .expect("scenario loads");
    let dialects: Vec<String> = DIALECTS.iter().map(|d| (*d).to_owned()).collect();
    let reports = run(&scenario, &dialects, &proxy, ADMIN.0, ADMIN.1)
        .await
        .expect("runs");
    let differing: Vec<(usize, Vec<String>)> = reports
        .iter()
        .filter(|r| !r.differences.is_empty())
        .map(|r| (r.step, r.differences.clone()))
        .collect();
    assert_eq!(
        differing,
        vec![
            (
                5,
                vec![
                    "state: astro-zero=\"active\", flowable=\"suspended\", ibm-bpm=\"suspended\"".to_owned()
                ]
            ),
            (
                6,
                vec![
                    "state: astro-zero=\"active\", flowable=\"suspended\", ibm-bpm=\"suspended\"".to_owned()
                ]
            ),
        ],
        "exactly the suspended steps differ, on the state field"
    );
    server.stop().await;
}
