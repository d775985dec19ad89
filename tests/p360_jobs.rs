//! P360's scheduled jobs over HTTP, on both stores: a merge planned through the REST API runs
//! in the background, its merged items show in the master catalog, the job is a process
//! instance Flowable shows with its result, and the workflow's REST endpoint gets the final
//! message; a failing job calls back with its error.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{get, send_with, StoreKind, TestServer, ADMIN};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request the fake BPM received: the request line, its headers (lower-case names) and body.
type Received = (String, Vec<(String, String)>, String);

/// A minimal HTTP endpoint standing in for the BPM: records each request, answers 200.
async fn fake_bpm() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let record = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let mut lines = head.lines();
                let line = lines.next().unwrap_or_default().to_owned();
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
                record.lock().expect("lock").push((line, headers, body));
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, got)
}

/// The ended job as Flowable's history shows it, with its variables, waiting up to 10 s.
async fn ended_job(server: &TestServer, id: &str) -> Value {
    for _ in 0..200 {
        let h = get(&format!(
            "{}/history/historic-process-instances?processInstanceId={id}&includeProcessVariables=true",
            server.flowable
        ))
        .await
        .json();
        if !h["data"][0]["endTime"].is_null() {
            return h["data"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not end within 10 s");
}

fn variable(instance: &Value, name: &str) -> Value {
    instance["variables"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == name))
        .map(|v| v["value"].clone())
        .unwrap_or(Value::Null)
}

async fn p360(
    server: &TestServer,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> common::Reply {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", ADMIN.0, ADMIN.1));
    let headers = [
        ("Content-Type", content_type.to_owned()),
        ("Accept", content_type.to_owned()),
        ("Authorization", format!("Basic {token}")),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    send_with(
        method,
        &format!("{}/rest/V2.0/{path}", server.root),
        &headers,
        body.to_owned(),
    )
    .await
}

async fn scheduled_jobs_run_and_call_back(store: StoreKind) {
    let (bpm, received) = fake_bpm().await;
    let server = TestServer::start_with(store, |c| c.p360_bpm_url = Some(format!("{bpm}/bpm"))).await;

    // A master item the merge updates, and a supplier catalog (5) with it and a new one.
    let table = |rows: &str| {
        format!("<entityItemTable><entityIdentifier>Article</entityIdentifier><columns><column><identifier>Article.Name</identifier></column></columns><rows>{rows}</rows></entityItemTable>")
    };
    let row = |id: &str, name: &str| {
        format!("<row><object><id>{id}</id><entityId>1000</entityId></object><values><value>{name}</value></values></row>")
    };
    let written = p360(
        &server,
        "POST",
        "list/Article",
        "application/xml",
        &table(
            &[
                row("1@1", "Drill"),
                row("1@5", "Drill, supplier's"),
                row("2@5", "Saw"),
            ]
            .concat(),
        ),
    )
    .await;
    assert_eq!(written.status, 200, "{:?}", written.body);

    let planned = p360(
        &server,
        "POST",
        "manage/merge?workflowServiceEndpoint=MergeDone&workflowCorrelationId=wf-7",
        "application/json",
        r#"{"rootEntity":"Article","catalog":{"id":"5"}}"#,
    )
    .await;
    assert_eq!(planned.status, 202, "{:?}", planned.body);
    let job = planned.json();
    assert_eq!(
        (job["type"].clone(), job["state"].clone()),
        (json!("MERGE"), json!("QUEUED"))
    );
    let id = job["id"].as_str().expect("job id").to_owned();

    // The job is an instance of p360Job: Flowable sees it end with its result.
    let ended = ended_job(&server, &id).await;
    assert_eq!(
        ended["processDefinitionId"]
            .as_str()
            .map(|d| d.starts_with("p360Job:")),
        Some(true)
    );
    assert_eq!(ended["businessKey"], "wf-7");
    assert_eq!(variable(&ended, "jobState"), "FINISHED");
    assert_eq!(
        (
            variable(&ended, "processedCounter"),
            variable(&ended, "createdCounter"),
            variable(&ended, "updatedCounter")
        ),
        (json!(2), json!(1), json!(1))
    );

    // The supplier's items are in the master catalog now.
    let master = get(&format!(
        "{}/rest/V2.0/list/Article/byCatalog?catalog=MASTER&fields=Article.Name",
        server.root
    ))
    .await;
    let text = String::from_utf8_lossy(&master.body).into_owned();
    assert!(text.contains("<totalSize>2</totalSize>"), "{text}");
    assert!(
        text.contains("<row><object><id>1@1</id><entityId>1000</entityId></object><values><value>Drill, supplier's</value></values></row><row><object><id>2@1</id><entityId>1000</entityId></object><values><value>Saw</value></values></row>"),
        "{text}"
    );

    // The workflow's endpoint got the final message: the finished job.
    let calls = received.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (line, headers, body) = &calls[0];
    assert_eq!(line, "POST /bpm/MergeDone?workflowCorrelationId=wf-7 HTTP/1.1");
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(header("status"), Some("200"));
    assert_eq!(header("successtargetservice"), Some("MergeDone"));
    let called: Value = serde_json::from_str(body).expect("JSON, as the call was");
    assert_eq!(called["id"], json!(id));
    assert_eq!(called["state"], "FINISHED");
    assert_eq!(called["createdCounter"], 1);
    assert!(called["finishDate"].is_string(), "{called}");

    // An import of a file this server does not have fails, and says so to the workflow.
    let planned = p360(
        &server,
        "POST",
        "manage/import?workflowServiceEndpoint=ImportDone&workflowCorrelationId=wf-8",
        "application/xml",
        "<importProfile><files><file><id>upload-3</id></file></files></importProfile>",
    )
    .await;
    assert_eq!(planned.status, 202, "{:?}", planned.body);
    let text = String::from_utf8_lossy(&planned.body).into_owned();
    let id = text
        .split("<id>")
        .nth(1)
        .and_then(|t| t.split("</id>").next())
        .expect("job id")
        .to_owned();
    let ended = ended_job(&server, &id).await;
    assert_eq!(variable(&ended, "jobState"), "FAILED");
    for _ in 0..100 {
        if received.lock().expect("lock").len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = received.lock().expect("lock").clone();
    let (line, headers, body) = calls.get(1).expect("the import's callback");
    assert_eq!(line, "POST /bpm/ImportDone?workflowCorrelationId=wf-8 HTTP/1.1");
    assert!(headers.contains(&("status".into(), "400".into())), "{headers:?}");
    assert_eq!(
        body,
        &format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><errorObject><errorMessage>Job {id} (IMPORT) failed: File 'upload-3' is unknown: bpm-compat has no File API; give the file's content inline</errorMessage></errorObject>")
    );
    server.stop().await;
}

#[tokio::test]
async fn scheduled_jobs_run_and_call_back_on_memory() {
    scheduled_jobs_run_and_call_back(StoreKind::Memory).await;
}

#[tokio::test]
async fn scheduled_jobs_run_and_call_back_on_redis() {
    scheduled_jobs_run_and_call_back(StoreKind::Redis).await;
}

/// A job whose worker died is taken over after the lease, not before: a job left `running`
/// (claimed a minute ago) is worked and ended by the next pass; one whose claim is recent is
/// left to its worker. The app runs no worker of its own (`no_p360_jobs`), so each pass is
/// the test's.
#[tokio::test]
async fn a_dead_workers_job_is_taken_over_after_the_lease() {
    use bpm_compat::config::ServeConfig;
    use bpm_compat::p360_jobs::{pass, JobsConfig};
    use bpm_compat_model::{Command, InstanceId, Outcome, RequestCtx, Timestamp, Variable, VariableValue};

    let app = ServeConfig {
        definitions: common::definitions_dir(),
        no_auth: true,
        no_p360_jobs: true,
        ..ServeConfig::default()
    }
    .build_app()
    .await
    .expect("app");
    let call = |method: &str, uri: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(bytes::Bytes::from(body.to_owned()))
            .expect("request")
    };
    let table = "<entityItemTable><entityIdentifier>Article</entityIdentifier><columns><column><identifier>Article.Name</identifier></column></columns><rows><row><object><id>5@9</id></object><values><value>Vise</value></values></row></rows></entityItemTable>";
    let mut written = call("POST", "/rest/V2.0/list/Article", table);
    written
        .headers_mut()
        .insert("Content-Type", http::HeaderValue::from_static("application/xml"));
    assert_eq!(app.call(written).await.status(), 200);
    let mut jobs = Vec::new();
    for _ in 0..2 {
        let planned = app
            .call(call("POST", "/rest/V2.0/manage/merge", r#"{"catalog":"9"}"#))
            .await;
        assert_eq!(planned.status(), 202);
        let job: Value = serde_json::from_slice(planned.body()).expect("JSON");
        jobs.push(InstanceId(
            job["id"].as_str().expect("id").parse().expect("number"),
        ));
    }
    // Both claimed by workers that died: one a minute ago, one just now.
    let ctx = RequestCtx {
        now: bpm_compat::server::now(),
        request_id: 0,
        base_url: String::new(),
        path: String::new(),
        user: None,
    };
    for (job, ago) in jobs.iter().zip([60_000, 0]) {
        let Ok(Outcome::Executions { waits, .. }) = app
            .engine()
            .apply(
                Command::GetExecutions {
                    instance: *job,
                    key: None,
                    activity_id: Some("queued".into()),
                },
                &ctx,
            )
            .await
        else {
            panic!("the job waits at queued");
        };
        let claimed = Timestamp(ctx.now.0 - ago);
        app.engine()
            .apply(
                Command::TriggerExecution {
                    instance: *job,
                    key: waits[0].record.key.clone(),
                    variables: vec![Variable::new("jobStarted", VariableValue::Date(claimed))],
                    transient_variables: Vec::new(),
                },
                &ctx,
            )
            .await
            .expect("claimed");
    }
    let cfg = JobsConfig {
        poll: Duration::from_millis(100),
        lease: Duration::from_secs(30),
        outbox: Default::default(),
    };
    assert!(
        pass(&app, &cfg, &mut Default::default()).await,
        "there were open jobs"
    );
    let state = |id: InstanceId| {
        let app = app.clone();
        let ctx = ctx.clone();
        async move {
            match app
                .engine()
                .apply(
                    Command::GetHistoricInstance(bpm_compat_model::InstanceRef { id }),
                    &ctx,
                )
                .await
            {
                Ok(Outcome::Instance(v)) => (
                    v.instance.activity_id.clone(),
                    v.instance.variables.get("jobState").cloned(),
                    v.instance.variables.get("createdCounter").cloned(),
                ),
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(
        state(jobs[0]).await,
        (
            None,
            Some(VariableValue::String("FINISHED".into())),
            Some(VariableValue::Long(1))
        )
    );
    assert_eq!(state(jobs[1]).await, (Some("running".into()), None, None));
}
