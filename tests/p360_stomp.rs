//! P360's queue on a real Apache ActiveMQ over STOMP (scripts/activemq starts one; the test
//! command does): a request sent with P360's JMS properties as STOMP headers is answered on its
//! reply-to queue with its correlation id, the queue's Status property and the reply document.

use std::time::Duration;

use bpm_compat::config::ServeConfig;
use bpm_compat::p360_stomp::{run, Connection, Frame, StompConfig};

const BROKER: &str = "127.0.0.1:61613";

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}.{}.{nanos}", std::process::id())
}

async fn broker() -> Connection {
    Connection::open(BROKER, None).await.unwrap_or_else(|e| {
        panic!("{e}: the P360 queue test needs ActiveMQ with STOMP on {BROKER} (scripts/activemq start; scripts/test starts it)")
    })
}

type Consumer = tokio::task::JoinHandle<Result<(), String>>;

/// A consumer of a fresh request queue (a server on the memory store behind it) and a client
/// subscribed to a fresh reply queue: the queue names, the consumer's stop and task, the client.
async fn consumer_and_client(
    tag: &str,
) -> (
    String,
    String,
    tokio::sync::oneshot::Sender<()>,
    Consumer,
    Connection,
) {
    let queue = unique(&format!("P360_SERVICE_API.{tag}"));
    let replies = unique(&format!("P360_REPLIES.{tag}"));
    let app = ServeConfig {
        definitions: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions"),
        // The broker the app's job worker sends final messages through.
        p360_stomp: Some(BROKER.into()),
        ..ServeConfig::default()
    }
    .build_app()
    .await
    .expect("app");
    let cfg = StompConfig {
        address: BROKER.into(),
        login: None,
        queue: queue.clone(),
        reply_queue: replies.clone(),
        user: Some(("rest-admin".into(), "test".into())),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn(run(app, cfg, async {
        let _ = stopped.await;
    }));

    let mut client = broker().await;
    client
        .send(
            &Frame::new("SUBSCRIBE")
                .header("id", "r")
                .header("destination", &format!("/queue/{replies}"))
                .header("ack", "auto"),
        )
        .await
        .expect("subscribes");
    (queue, replies, stop, consumer, client)
}

#[tokio::test]
async fn queue_requests_through_activemq() {
    let (queue, replies, stop, consumer, mut client) = consumer_and_client("test").await;
    let workflow =
        "<workflow><identifier>QueueFlow</identifier><status><status>S1</status></status></workflow>";
    for (correlation, url) in [("q-1", Some("rest/V2.0/manage/workflow")), ("q-2", None)] {
        let mut f = Frame::new("SEND")
            .header("destination", &format!("/queue/{queue}"))
            .header("reply-to", &format!("/queue/{replies}"))
            .header("correlation-id", correlation)
            .header("Method", "POST")
            .body(workflow);
        if let Some(u) = url {
            f = f.header("P360Url", u);
        }
        client.send(&f).await.expect("sends");
    }
    let mut got = Vec::new();
    while got.len() < 2 {
        let frame = tokio::time::timeout(Duration::from_secs(20), client.receive())
            .await
            .expect("a reply within 20 s")
            .expect("a frame");
        if frame.command == "MESSAGE" {
            got.push(frame);
        }
    }
    let reply = |c: &str| {
        got.iter()
            .find(|f| f.get("correlation-id") == Some(c))
            .cloned()
            .expect("replied")
    };
    let ok = reply("q-1");
    assert_eq!(ok.get("Status"), Some("200"));
    assert!(
        String::from_utf8_lossy(&ok.body).contains("<createdCounter>1</createdCounter>"),
        "{ok:?}"
    );
    let bad = reply("q-2");
    assert_eq!(bad.get("Status"), Some("400"));
    assert!(String::from_utf8_lossy(&bad.body)
        .contains("<errorObject><errorMessage>The P360Url property is required"));
    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer ran");
}

/// The HTTP contract fixtures of P360, replayed over the queue (the Service API queue speaks
/// XML: JSON steps and credential steps are HTTP-only): each request becomes a message with
/// its path as `P360Url`; each reply must match the fixture's body, with the status the queue
/// maps the HTTP status to.
#[tokio::test]
async fn the_p360_fixtures_pass_over_the_queue() {
    use bpm_compat_model::fixture::{build_request, load_tree, match_response, Bindings};
    use bpm_compat_p360::queue::queue_status;

    let (queue, replies, stop, consumer, mut client) = consumer_and_client("fixtures").await;
    let scenarios =
        load_tree(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/p360")).expect("fixtures");
    let mut checked = 0;
    for (name, scenario) in &scenarios {
        let base = "http://queue/rest";
        let mut bindings = Bindings::new(base);
        for (n, step) in scenario.steps.iter().enumerate() {
            let built = build_request(&step.request, &bindings).expect("request builds");
            let json = built.headers.iter().any(|(k, v)| {
                (k.eq_ignore_ascii_case("accept") || k.eq_ignore_ascii_case("content-type"))
                    && v.contains("json")
            });
            // A scheduled endpoint's answer (202) is a job's deferred reply over the queue,
            // and the BPM callback parameters are the message's properties there, not URL
            // parameters: queue_scheduled_jobs tests both.
            if json
                || !built.auth
                || step.response.status == 202
                || built
                    .path_and_query
                    .split_once('?')
                    .is_some_and(|(_, q)| q.contains("workflow"))
            {
                continue;
            }
            let correlation = format!("{name}#{n}");
            let mut f = Frame::new("SEND")
                .header("destination", &format!("/queue/{queue}"))
                .header("reply-to", &format!("/queue/{replies}"))
                .header("correlation-id", &correlation)
                .header("P360Url", &format!("rest/{}", built.path_and_query))
                .header("Method", built.method.as_str())
                .body(built.body.to_vec());
            if let Some((_, ct)) = built
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                f = f.header("content-type", ct);
            }
            client.send(&f).await.expect("sends");
            let reply = loop {
                let frame = tokio::time::timeout(Duration::from_secs(20), client.receive())
                    .await
                    .expect("a reply within 20 s")
                    .expect("a frame");
                if frame.command == "MESSAGE" && frame.get("correlation-id") == Some(correlation.as_str()) {
                    break frame;
                }
            };
            let mut expected = step.response.clone();
            expected.status = queue_status(expected.status);
            let status: u16 = reply
                .get("Status")
                .and_then(|s| s.parse().ok())
                .expect("a Status property");
            let mut headers = http::HeaderMap::new();
            if let Some(ct) = reply
                .get("content-type")
                .and_then(|c| http::HeaderValue::from_str(c).ok())
            {
                headers.insert(http::header::CONTENT_TYPE, ct);
            }
            let mismatches = match_response(&expected, status, &headers, &reply.body, &mut bindings);
            assert!(
                mismatches.is_empty(),
                "{name} step '{}': {mismatches:?}",
                step.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "the fixture steps ran over the queue ({checked})");
    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer ran");
}

/// The scheduled endpoints over the queue (seed 002): by default the reply is the job's final
/// message, sent when the job is done; with `EnforceIntermediateOkResponse` an immediate OK
/// goes first and the final message follows with `CallbackTargetService`; a failed job answers
/// its `FailureTargetService`; a request without `reply-to` is answered on the configured reply
/// queue; BPM callback parameters in `P360Url` are refused.
#[tokio::test]
async fn queue_scheduled_jobs() {
    let (queue, replies, stop, consumer, mut client) = consumer_and_client("jobs").await;
    let send = |correlation: &str, url: &str, props: &[(&str, &str)], content_type: &str, body: &str| {
        let mut f = Frame::new("SEND")
            .header("destination", &format!("/queue/{queue}"))
            .header("correlation-id", correlation)
            .header("P360Url", url)
            .header("content-type", content_type)
            .body(body.to_owned());
        for (k, v) in props {
            f = f.header(k, v);
        }
        f
    };
    let with_reply_to = |f: Frame| f.header("reply-to", &format!("/queue/{replies}"));
    let supplier = "<entityItemTable><entityIdentifier>Article</entityIdentifier><columns><column><identifier>Article.Name</identifier></column></columns><rows><row><object><id>10@6</id></object><values><value>Rake</value></values></row><row><object><id>11@6</id></object><values><value>Hoe</value></values></row></rows></entityItemTable>";
    client
        .send(&with_reply_to(send(
            "items",
            "rest/V2.0/list/Article",
            &[],
            "application/xml",
            supplier,
        )))
        .await
        .expect("sends");
    let frames = [
        with_reply_to(send(
            "m-1",
            "rest/V2.0/manage/merge",
            &[
                ("SuccessTargetService", "MergeOk"),
                ("FailureTargetService", "MergeFailed"),
            ],
            "application/json",
            r#"{"catalog":"6"}"#,
        )),
        with_reply_to(send(
            "e-1",
            "rest/V2.0/manage/revision",
            &[
                ("EnforceIntermediateOkResponse", "true"),
                ("SuccessTargetService", "Planned"),
                ("CallbackTargetService", "Released"),
            ],
            "application/xml",
            "",
        )),
        // No reply-to: the configured reply queue (the same queue here).
        send(
            "i-1",
            "rest/V2.0/manage/import",
            &[("FailureTargetService", "ImportFailed")],
            "application/xml",
            "<importProfile><files><file><id>upload-7</id></file></files></importProfile>",
        ),
        with_reply_to(send(
            "q-1",
            "rest/V2.0/manage/revision?workflowQueueId=ELSEWHERE",
            &[],
            "application/xml",
            "",
        )),
    ];
    // The merge reads the supplier items: send it after their write is answered.
    let mut got: Vec<Frame> = Vec::new();
    let receive = async |client: &mut Connection, got: &mut Vec<Frame>, until: usize| {
        while got.len() < until {
            let frame = tokio::time::timeout(Duration::from_secs(20), client.receive())
                .await
                .expect("a reply within 20 s")
                .expect("a frame");
            if frame.command == "MESSAGE" {
                got.push(frame);
            }
        }
    };
    receive(&mut client, &mut got, 1).await;
    for f in &frames {
        client.send(f).await.expect("sends");
    }
    // items, m-1 once, e-1 twice, i-1 once, q-1 once.
    receive(&mut client, &mut got, 6).await;
    // Nothing more comes (no intermediate reply for the merge, no second one for anything).
    let extra = tokio::time::timeout(Duration::from_millis(700), client.receive()).await;
    assert!(extra.is_err(), "an unexpected message: {extra:?}");

    let of = |c: &str| -> Vec<&Frame> {
        got.iter()
            .filter(|f| f.get("correlation-id") == Some(c))
            .collect()
    };
    let text = |f: &Frame| String::from_utf8_lossy(&f.body).into_owned();
    assert_eq!(of("items")[0].get("Status"), Some("200"));

    let merge = of("m-1");
    assert_eq!(merge.len(), 1);
    assert_eq!(
        (merge[0].get("Status"), merge[0].get("SuccessTargetService")),
        (Some("200"), Some("MergeOk"))
    );
    let job: serde_json::Value = serde_json::from_slice(&merge[0].body).expect("JSON, as the request");
    assert_eq!(
        (
            job["type"].clone(),
            job["state"].clone(),
            job["createdCounter"].clone(),
            job["workflowCorrelationId"].clone()
        ),
        (
            serde_json::json!("MERGE"),
            serde_json::json!("FINISHED"),
            serde_json::json!(2),
            serde_json::json!("m-1")
        )
    );

    let revision = of("e-1");
    assert_eq!(revision.len(), 2);
    assert_eq!(
        (
            revision[0].get("Status"),
            revision[0].get("SuccessTargetService"),
            revision[0].get("CallbackTargetService")
        ),
        (Some("200"), Some("Planned"), None)
    );
    assert!(
        text(revision[0]).contains("<state>QUEUED</state>"),
        "{}",
        text(revision[0])
    );
    assert_eq!(
        (
            revision[1].get("Status"),
            revision[1].get("CallbackTargetService"),
            revision[1].get("SuccessTargetService")
        ),
        (Some("200"), Some("Released"), None)
    );
    // The merge ran first: the master catalog holds its two items.
    assert!(
        text(revision[1]).contains("<state>FINISHED</state>")
            && text(revision[1]).contains("<processedCounter>2</processedCounter>"),
        "{}",
        text(revision[1])
    );

    let import = of("i-1");
    assert_eq!(import.len(), 1);
    assert_eq!(
        (import[0].get("Status"), import[0].get("FailureTargetService")),
        (Some("400"), Some("ImportFailed"))
    );
    assert!(
        text(import[0]).contains("failed: File 'upload-7' is unknown: bpm-compat has no File API"),
        "{}",
        text(import[0])
    );

    let refused = of("q-1");
    assert_eq!(refused[0].get("Status"), Some("400"));
    assert!(
        text(refused[0]).contains("workflowQueueId must not be provided in the url"),
        "{}",
        text(refused[0])
    );
    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer ran");
}
