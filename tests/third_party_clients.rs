//! Real third-party clients against the server, on both stores.
//!
//! Flowable: no general Flowable REST client exists on PyPI or npm (Flowable publishes only an
//! external-worker client), so the client is Yelp's `bravado`, a Swagger 2.0 client that builds
//! every request from Flowable's own published Swagger document
//! (`fixtures/specs/flowable/flowable-swagger-process.yaml`): operation ids, parameters and
//! multipart uploads as a generated Flowable client sends them. It runs the whole client flow
//! (`tests/clients/flowable_bravado.py`): deploy, find the latest definition, start, claim,
//! complete with variables through an exclusive and a parallel gateway, read history.
//!
//! The interpreter is `BPM_COMPAT_PYTHON`, else `target/py-clients/bin/python`; `scripts/test`
//! creates that virtualenv from `tests/clients/requirements.txt`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{StoreKind, TestServer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    match std::env::var_os("BPM_COMPAT_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => root().join("target/py-clients/bin/python"),
    }
}

async fn bravado_runs_the_flowable_client_flow(store: StoreKind) {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run scripts/test, or `python3 -m venv target/py-clients && \
         target/py-clients/bin/pip install -r tests/clients/requirements.txt`",
        python.display()
    );
    let server = TestServer::start(store).await;
    let base = server.flowable.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(root().join("tests/clients/flowable_bravado.py"))
            .arg(base)
            .arg(root().join("fixtures/specs/flowable/flowable-swagger-process.yaml"))
            .output()
    })
    .await
    .expect("joins")
    .expect("the client runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("flow passed"),
        "the bravado client flow failed:\n{stdout}\n{stderr}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bravado_flowable_flow_on_memory() {
    bravado_runs_the_flowable_client_flow(StoreKind::Memory).await;
}

#[tokio::test]
async fn bravado_flowable_flow_on_redis() {
    bravado_runs_the_flowable_client_flow(StoreKind::Redis).await;
}
