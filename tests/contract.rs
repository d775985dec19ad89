//! Every contract fixture through the real server on 127.0.0.1, on both stores: the same
//! files `bpm-compat contract` runs against any endpoint, a real Flowable included.

mod common;

use std::path::PathBuf;

use bpm_compat::contract::{run, ContractOptions};
use common::{StoreKind, TestServer, ADMIN};

async fn flowable_fixtures_pass(store: StoreKind) {
    let server = TestServer::start(store).await;
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/flowable"),
        base_url: server.flowable.clone(),
        user: Some(ADMIN.0.into()),
        password: Some(ADMIN.1.into()),
    };
    let report = run(&opts).await.expect("fixtures load");
    println!("{report}");
    assert!(report.passed() > 20, "the fixture set is there: {report}");
    assert_eq!(report.failed(), 0, "{report}");
    server.stop().await;
}

#[tokio::test]
async fn flowable_fixtures_pass_on_memory() {
    flowable_fixtures_pass(StoreKind::Memory).await;
}

#[tokio::test]
async fn flowable_fixtures_pass_on_redis() {
    flowable_fixtures_pass(StoreKind::Redis).await;
}

async fn astro_zero_fixtures_pass(store: StoreKind) {
    // The runner speaks HTTP Basic, not Astro Zero's tokens (tests/cross_protocol.rs tests
    // those): the fixtures run with authentication off.
    let server = TestServer::start_with(store, |c| c.no_auth = true).await;
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/astro-zero"),
        base_url: server.astro.clone(),
        user: None,
        password: None,
    };
    let report = run(&opts).await.expect("fixtures load");
    println!("{report}");
    assert!(report.passed() >= 2, "the fixture set is there: {report}");
    assert_eq!(report.failed(), 0, "{report}");
    server.stop().await;
}

#[tokio::test]
async fn astro_zero_fixtures_pass_on_memory() {
    astro_zero_fixtures_pass(StoreKind::Memory).await;
}

#[tokio::test]
async fn astro_zero_fixtures_pass_on_redis() {
    astro_zero_fixtures_pass(StoreKind::Redis).await;
}
