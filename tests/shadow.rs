//! `bpm-compat shadow` between two bpm-compat servers, the candidate deliberately configured
//! differently (one definition renamed): the client gets the primary's answers, the recorded
//! differences name the renamed field per endpoint, and fields that differ between two calls
//! of the primary itself (URLs with each server's own port) are learned as noise through a
//! secondary primary; timestamps are declared.

mod common;

use std::sync::Arc;

use bpm_compat::shadow::{serve, Shadow, ShadowArgs};
use common::{StoreKind, TestServer, ADMIN};
use serde_json::json;

fn renamed_definitions() -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions");
    let dir = std::env::temp_dir().join(format!("bpm-compat-shadow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for entry in std::fs::read_dir(&src).expect("definitions") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let name = path.file_name().expect("name");
            let mut text = std::fs::read_to_string(&path).expect("readable");
            if name == "expenseApproval.process.json" {
                text = text.replace("\"Expense approval\"", "\"Expense approval (candidate)\"");
            }
            std::fs::write(dir.join(name), text).expect("written");
        }
    }
    dir
}

#[tokio::test]
async fn shadow_records_where_the_candidate_differs() {
    let primary = TestServer::start(StoreKind::Memory).await;
    let secondary = TestServer::start(StoreKind::Memory).await;
    let definitions = renamed_definitions();
    let candidate = TestServer::start_with(StoreKind::Memory, |c| c.definitions = definitions.clone()).await;
    let args = ShadowArgs {
        listen: "127.0.0.1:0".parse().expect("addr"),
        primary: primary.root.clone(),
        candidate: candidate.root.clone(),
        secondary: Some(secondary.root.clone()),
        // Timestamps: the three servers may or may not answer in the same millisecond, so they
        // are declared rather than left to learning.
        ignore: vec![
            "$.startTime".into(),
            "$.data[*].startTime".into(),
            "$.data[*].createTime".into(),
        ],
        max_body: 1 << 20,
    };
    let shadow = Arc::new(Shadow::new(&args));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let proxy = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, shadow.clone(), async {
        let _ = stopped.await;
    }));

    let flowable = format!("{proxy}/flowable-rest/service");
    let started = common::json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "expenseApproval", "businessKey": "SH-1"}),
    )
    .await;
    assert_eq!(started.status, 201);
    assert_eq!(
        started.json()["processDefinitionName"],
        "Expense approval",
        "the client gets the primary's answer"
    );
    let id = started.json()["id"].as_str().expect("id").to_owned();
    // Let the timestamps of the three servers drift apart.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let one = common::get(&format!("{flowable}/runtime/process-instances/{id}")).await;
    assert_eq!(one.status, 200);
    let list = common::get(&format!("{flowable}/runtime/process-instances?businessKey=SH-1")).await;
    assert_eq!(list.json()["total"], 1);
    let tasks = common::get(&format!("{flowable}/runtime/tasks?processInstanceId={id}")).await;
    assert_eq!(tasks.status, 200);

    let admin = common::send(
        "GET",
        &format!("{proxy}/_shadow/differences"),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await
    .json();
    assert_eq!(
        (admin["requests"].clone(), admin["withDifferences"].clone()),
        (json!(4), json!(3)),
        "{admin:#}"
    );
    let endpoint = |e: &str| admin["endpoints"][e].clone();
    let start = endpoint("POST /flowable-rest/service/runtime/process-instances");
    assert_eq!(
        start["fields"],
        json!({"$.processDefinitionName": 1}),
        "{admin:#}"
    );
    assert!(
        start["noise"].as_array().expect("noise").contains(&json!("$.url")),
        "the primary and its secondary answer their own URLs (each its own port): noise, not a difference: {start}"
    );
    assert_eq!(
        endpoint("GET /flowable-rest/service/runtime/process-instances/{id}")["fields"],
        json!({"$.processDefinitionName": 1})
    );
    assert_eq!(
        endpoint("GET /flowable-rest/service/runtime/process-instances")["fields"],
        json!({"$.data[*].processDefinitionName": 1})
    );
    let tasks_stats = endpoint("GET /flowable-rest/service/runtime/tasks");
    assert_eq!(
        (tasks_stats["requests"].clone(), tasks_stats["fields"].clone()),
        (json!(1), json!({}))
    );
    let example = &admin["examples"][0];
    assert_eq!(
        example["primary"]["body"]["processDefinitionName"],
        "Expense approval"
    );
    assert_eq!(
        example["candidate"]["body"]["processDefinitionName"],
        "Expense approval (candidate)"
    );

    let report = common::send(
        "GET",
        &format!("{proxy}/_shadow/report"),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await;
    let text = String::from_utf8_lossy(&report.body).into_owned();
    assert!(text.starts_with("4 request(s), 3 with differences"), "{text}");
    assert!(text.contains("      1  $.processDefinitionName"), "{text}");
    let _ = stop.send(());
    primary.stop().await;
    secondary.stop().await;
    candidate.stop().await;
    let _ = std::fs::remove_dir_all(definitions);
}
