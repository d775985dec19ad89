//! The load generator end to end, against in-process servers on 127.0.0.1:0: the ceiling, and
//! a fake Flowable that checks what each scenario sends. No timing thresholds: these tests say
//! that requests are counted and errors reported, never how fast anything is.
#![allow(clippy::unwrap_used)] // Integration-test helpers may unwrap: a panic is the failure report.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bpm_compat::bench::{self, BenchArgs, Scenario};
use bytes::Bytes;
use clap::Parser;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: BenchArgs,
}

fn args(extra: &[&str]) -> BenchArgs {
    let argv = ["bench", "--duration", "1", "--warmup", "0", "--connections", "4"]
        .iter()
        .chain(extra);
    Cli::try_parse_from(argv).unwrap().args
}

async fn ceiling() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(bench::serve_ceiling(listener));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_counts_ceiling_requests_without_errors() {
    let addr = ceiling().await;
    let url = format!("http://{addr}");
    let report = bench::run(&args(&["--scenarios", "ceiling", "--ceiling-url", &url]))
        .await
        .unwrap();

    assert_eq!(report.scenarios.len(), 1);
    let ceiling = &report.scenarios[0];
    assert_eq!(ceiling.scenario, Scenario::Ceiling);
    assert!(ceiling.requests > 0, "{ceiling:?}");
    assert_eq!(ceiling.errors, 0, "{:?}", ceiling.error_samples);
    assert!(ceiling.latency.p50_us <= ceiling.latency.p99_us);
    assert!(ceiling.latency.p99_us <= ceiling.latency.max_us);
    assert_eq!(ceiling.throughput_ratio, Some(1.0));
    assert!(report.to_markdown().contains("| ceiling |"));
}

/// A stand-in for the Flowable adapter: answers each scenario's request with the status the
/// real API gives, but only when the request has the shape the benchmark promises, and 400
/// (counted as an error by the generator) when it does not.
async fn fake_flowable() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let next_id = Arc::new(AtomicU64::new(1));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let next_id = Arc::clone(&next_id);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let next_id = Arc::clone(&next_id);
                    async move { Ok::<_, Infallible>(flowable(request, &next_id).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn flowable(request: Request<Incoming>, next_id: &AtomicU64) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    // base64("rest-admin:test")
    if request
        .headers()
        .get("authorization")
        .is_none_or(|v| v != "Basic cmVzdC1hZG1pbjp0ZXN0")
    {
        return reply(StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#.into());
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(rest) = path.strip_prefix("/flowable-rest/service/runtime/process-instances") else {
        return reply(StatusCode::NOT_FOUND, String::new());
    };
    let bad = || {
        reply(
            StatusCode::BAD_REQUEST,
            format!("unexpected {method} {path}?{query} {json}"),
        )
    };
    match (&method, rest) {
        (&Method::POST, "") => {
            let variables = json["variables"].as_array().map_or(0, Vec::len);
            let business_key = json["businessKey"].as_str().unwrap_or_default();
            if json["processDefinitionKey"] != "oneTaskProcess"
                || variables != 5
                || !business_key.starts_with("bench-")
            {
                return bad();
            }
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            reply(
                StatusCode::CREATED,
                format!(r#"{{"id":"{id}","businessKey":"{business_key}"}}"#),
            )
        }
        (&Method::GET, "") => {
            let by_key = query == "processDefinitionKey=oneTaskProcess&size=10";
            let by_business_key = query.starts_with("businessKey=bench-") && query.ends_with("&size=10");
            if by_key || by_business_key {
                reply(
                    StatusCode::OK,
                    r#"{"data":[],"total":0,"start":0,"size":0}"#.into(),
                )
            } else {
                bad()
            }
        }
        (&Method::GET, id) if id.len() > 1 && id[1..].parse::<u64>().is_ok() => {
            reply(StatusCode::OK, format!(r#"{{"id":"{}"}}"#, &id[1..]))
        }
        (&Method::PUT, vars) if vars.ends_with("/variables") => {
            if json[0]["name"] == "counter" && json[0]["type"] == "integer" && json[0]["value"].is_u64() {
                reply(StatusCode::CREATED, body_text(&body))
            } else {
                bad()
            }
        }
        _ => bad(),
    }
}

fn body_text(body: &Bytes) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_sends_what_flowable_expects() {
    let server = fake_flowable().await;
    let ceiling = format!("http://{}", ceiling().await);
    let base = format!("http://{server}/flowable-rest/service");
    let all = "ceiling,start,get,list,list-business-key,set-variables";
    let report = bench::run(&args(&[
        "--base-url",
        &base,
        "--ceiling-url",
        &ceiling,
        "--scenarios",
        all,
        "--preload",
        "40",
        "--id-pool",
        "20",
    ]))
    .await
    .unwrap();

    let preload = report.preload.as_ref().unwrap();
    assert_eq!(
        (preload.started, preload.errors),
        (40, 0),
        "{:?}",
        preload.error_samples
    );
    assert_eq!(report.scenarios.len(), 6);
    for scenario in &report.scenarios {
        assert!(scenario.skipped.is_none(), "{scenario:?}");
        assert!(scenario.requests > 0, "{scenario:?}");
        assert_eq!(
            scenario.errors, 0,
            "{:?}: {:?}",
            scenario.scenario, scenario.error_samples
        );
        assert!(scenario.throughput_ratio.is_some());
    }
    assert_eq!(report.errors(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_counted_as_errors_and_shown() {
    let server = fake_flowable().await;
    let base = format!("http://{server}/flowable-rest/service");
    let report = bench::run(&args(&[
        "--base-url",
        &base,
        "--no-auth",
        "--scenarios",
        "list,get",
    ]))
    .await
    .unwrap();

    let list = &report.scenarios[0];
    assert_eq!(list.requests, 0);
    assert!(list.errors > 0);
    assert!(
        list.error_samples[0].starts_with("HTTP 401"),
        "{:?}",
        list.error_samples
    );
    // No instance could be started for `get`: it is skipped, with the seeding errors.
    let get = &report.scenarios[1];
    assert!(get.skipped.is_some());
    assert!(get.errors > 0);
    let markdown = report.to_markdown();
    assert!(markdown.contains("| get | skipped"), "{markdown}");
    assert!(markdown.contains("- list: HTTP 401"), "{markdown}");
    assert!(report.errors() > 0);
}

#[test]
fn the_binary_spawns_its_ceiling_in_a_child_process() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bpm-compat"))
        .args([
            "bench",
            "--scenarios",
            "ceiling",
            "--duration",
            "1",
            "--warmup",
            "0",
        ])
        .args(["--connections", "4", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ceiling = &report["scenarios"][0];
    assert_eq!(ceiling["scenario"], "ceiling");
    assert!(ceiling["requests"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(ceiling["errors"], 0, "{report}");
    // The spawned ceiling's CPU is its server's; the generator's is this run's own.
    for figure in ["server_cpu_us", "generator_cpu_us"] {
        let cpu = ceiling[figure]
            .as_f64()
            .unwrap_or_else(|| panic!("{figure}: {report}"));
        assert!(cpu > 0.0, "{figure}: {report}");
    }
}

/// Needs a Redis (`REDIS_URL`, e.g. `redis://127.0.0.1:6379`); skipped without one. Only reads
/// `INFO memory` and `DBSIZE`, writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preload_reports_redis_memory() {
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL not set: skipped");
        return;
    };
    let server = fake_flowable().await;
    let base = format!("http://{server}/flowable-rest/service");
    let report = bench::run(&args(&[
        "--base-url",
        &base,
        "--scenarios",
        "list",
        "--preload",
        "10",
        "--redis-url",
        &redis_url,
    ]))
    .await
    .unwrap();

    let redis = report.preload.unwrap().redis.unwrap();
    assert!(redis.used_memory_before > 0 && redis.used_memory_after > 0);
    assert!(redis.bytes_per_instance.is_some());
}

/// `--server-pid` reports the server's CPU time per request beside the load generator's: here
/// the fake server runs in this test's process, which does measurable work for every
/// request; without the option there is no server figure and no table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cpu_per_request_is_reported_for_a_given_pid() {
    let server = fake_flowable().await;
    let base = format!("http://{server}/flowable-rest/service");
    let pid = std::process::id().to_string();
    let report = bench::run(&args(&[
        "--base-url",
        &base,
        "--scenarios",
        "list",
        "--server-pid",
        &pid,
    ]))
    .await
    .unwrap();
    let list = &report.scenarios[0];
    assert!(list.requests > 0, "{list:?}");
    let cpu = list.server_cpu_us.expect("a CPU figure");
    assert!(cpu > 0.0 && cpu < 1_000_000.0, "{cpu}");
    assert_eq!(list.redis_cpu_us, None);
    let generator = list.generator_cpu_us.expect("the generator's CPU figure");
    assert!(generator > 0.0 && generator < 1_000_000.0, "{generator}");
    let markdown = report.to_markdown();
    assert!(markdown.contains("CPU per request"), "{markdown}");
    // The row adds what was measured: here the server is this process too.
    let total = format!("| {:.1} |", generator + cpu);
    assert!(markdown.contains(&total), "{total} in {markdown}");

    let without = bench::run(&args(&["--base-url", &base, "--scenarios", "list"]))
        .await
        .unwrap();
    assert_eq!(without.scenarios[0].server_cpu_us, None);
    assert!(!without.to_markdown().contains("CPU per request"));
}
