//! Every contract fixture through the real server on 127.0.0.1, on both stores: the same
//! files `bpm-compat contract` runs against any endpoint, a real Flowable included.

mod common;

use std::path::PathBuf;

use bpm_compat::contract::{run, ContractOptions};
use common::{StoreKind, TestServer, ADMIN};

/// Runs `fixtures/<vendor>` against the dialect mounted at `mount` with Flowable's default
/// user in HTTP Basic, and expects at least `cases` scenarios, all passing.
async fn basic_auth_fixtures_pass(store: StoreKind, vendor: &str, mount: &str, cases: usize) {
    let server = TestServer::start(store).await;
    let opts = ContractOptions {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(vendor),
        base_url: format!("{}{mount}", server.root),
        user: Some(ADMIN.0.into()),
        password: Some(ADMIN.1.into()),
        headers: Vec::new(),
    };
    let report = run(&opts).await.expect("fixtures load");
    println!("{report}");
    assert!(report.passed() >= cases, "the fixture set is there: {report}");
    assert_eq!(report.failed(), 0, "{report}");
    server.stop().await;
}

async fn flowable_fixtures_pass(store: StoreKind) {
    basic_auth_fixtures_pass(store, "flowable", "/flowable-rest/service", 21).await;
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
    basic_auth_fixtures_pass(store, "webmethods", "/invoke", 1).await;
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
    basic_auth_fixtures_pass(store, "ibm-bpm", "/rest/bpm/wle/v1", 2).await;
}

#[tokio::test]
async fn ibm_bpm_fixtures_pass_on_memory() {
    ibm_bpm_fixtures_pass(StoreKind::Memory).await;
}

#[tokio::test]
async fn ibm_bpm_fixtures_pass_on_redis() {
    ibm_bpm_fixtures_pass(StoreKind::Redis).await;
}

#[tokio::test]
async fn p360_fixtures_pass_on_memory() {
    basic_auth_fixtures_pass(StoreKind::Memory, "p360", "/rest", 1).await;
}

#[tokio::test]
async fn p360_fixtures_pass_on_redis() {
    basic_auth_fixtures_pass(StoreKind::Redis, "p360", "/rest", 1).await;
}
