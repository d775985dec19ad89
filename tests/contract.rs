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
        headers: Vec::new(),
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
    let server = TestServer::start(store).await;
    // A token from Astro Zero's token endpoint, sent as `access-token` on every request (what
    // `bpm-compat contract --header 'access-token: …'` does against a real Astro Zero).
    let reply = common::send_with(
        "POST",
        &format!("{}/baas/auth/v1.0/oauth2/token", server.root),
        &[("Content-Type".into(), "application/x-www-form-urlencoded".into())],
        "grant_type=client_credentials&client_id=rest-admin&client_secret=test",
    )
    .await;
    let token = reply.json()["access_token"].as_str().expect("a token").to_owned();
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/astro-zero"),
        base_url: server.astro.clone(),
        user: None,
        password: None,
        headers: vec![("access-token".into(), token)],
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

async fn webmethods_fixtures_pass(store: StoreKind) {
    let server = TestServer::start(store).await;
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/webmethods"),
        base_url: format!("{}/invoke", server.root),
        user: Some(ADMIN.0.into()),
        password: Some(ADMIN.1.into()),
        headers: Vec::new(),
    };
    let report = run(&opts).await.expect("fixtures load");
    println!("{report}");
    assert!(report.passed() >= 1, "the fixture set is there: {report}");
    assert_eq!(report.failed(), 0, "{report}");
    server.stop().await;
}

#[tokio::test]
async fn webmethods_fixtures_pass_on_memory() {
    webmethods_fixtures_pass(StoreKind::Memory).await;
}

#[tokio::test]
async fn webmethods_fixtures_pass_on_redis() {
    webmethods_fixtures_pass(StoreKind::Redis).await;
}

async fn ibm_bpm_fixtures_pass(store: StoreKind) {
    let server = TestServer::start(store).await;
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ibm-bpm"),
        base_url: format!("{}/rest/bpm/wle/v1", server.root),
        user: Some(ADMIN.0.into()),
        password: Some(ADMIN.1.into()),
        headers: Vec::new(),
    };
    let report = run(&opts).await.expect("fixtures load");
    println!("{report}");
    assert!(report.passed() >= 1, "the fixture set is there: {report}");
    assert_eq!(report.failed(), 0, "{report}");
    server.stop().await;
}

#[tokio::test]
async fn ibm_bpm_fixtures_pass_on_memory() {
    ibm_bpm_fixtures_pass(StoreKind::Memory).await;
}

#[tokio::test]
async fn ibm_bpm_fixtures_pass_on_redis() {
    ibm_bpm_fixtures_pass(StoreKind::Redis).await;
}
