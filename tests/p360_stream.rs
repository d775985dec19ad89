//! P360's queue over Redis Streams, on a real Redis: a request added to the request stream is
//! answered on the reply stream with its correlation id and the queue's status; a request left
//! pending by a consumer that died is claimed and answered; one delivered too often goes to the
//! dead-letter stream, acknowledged, without a reply.

mod common;

use std::time::Duration;

use bpm_compat::config::ServeConfig;
use bpm_compat::p360_stream::{run, StreamConfig, GROUP};
use common::{redis_url, remove_keys, unique_prefix};
use redis::Value;

async fn con() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url().as_str())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

fn fields(v: &Value) -> Vec<(String, String)> {
    let Value::Array(kv) = v else { return Vec::new() };
    kv.chunks(2)
        .filter_map(|c| match (c.first(), c.get(1)) {
            (Some(Value::BulkString(k)), Some(Value::BulkString(v))) => Some((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

/// Every entry of a stream, as field lists.
async fn read_all(con: &mut redis::aio::MultiplexedConnection, stream: &str) -> Vec<Vec<(String, String)>> {
    let v: Value = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(con)
        .await
        .expect("xrange");
    let Value::Array(entries) = v else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| match e {
            Value::Array(pair) => pair.get(1).map(fields),
            _ => None,
        })
        .collect()
}

/// Adds an entry (field/value pairs) to a stream.
async fn add(c: &mut redis::aio::MultiplexedConnection, stream: &str, fields: &[(&str, &str)]) {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(stream).arg("*");
    for (k, v) in fields {
        cmd.arg(*k).arg(*v);
    }
    let _: Value = cmd.query_async(c).await.expect("xadd");
}

fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

const WORKFLOW: &str =
    "<workflow><identifier>StreamFlow</identifier><status><status>S1</status></status></workflow>";

#[tokio::test]
async fn queue_requests_over_redis_streams() {
    let prefix = unique_prefix("p360q");
    let cfg = StreamConfig {
        redis_url: redis_url(),
        prefix: prefix.clone(),
        consumer: "node-a".into(),
        max_deliveries: 2,
        claim_idle: Duration::from_millis(0),
        user: Some(("rest-admin".into(), "test".into())),
    };
    let mut c = con().await;
    let requests = cfg.requests();
    // Before the consumer runs: a request a dead consumer read once (it will be claimed and
    // answered) and a poison one it read three times (over max_deliveries: dead letter).
    let _: Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&requests)
        .arg(GROUP)
        .arg("$")
        .arg("MKSTREAM")
        .query_async(&mut c)
        .await
        .expect("group");
    add(
        &mut c,
        &requests,
        &[
            ("P360Url", "rest/V2.0/manage/workflow"),
            ("JMSCorrelationID", "orphan"),
            ("body", WORKFLOW),
        ],
    )
    .await;
    add(
        &mut c,
        &requests,
        &[
            ("P360Url", "rest/V2.0/manage/workflow"),
            ("JMSCorrelationID", "poison"),
            ("body", WORKFLOW),
        ],
    )
    .await;
    let read: Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg("ghost")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg(&requests)
        .arg(">")
        .query_async(&mut c)
        .await
        .expect("ghost reads");
    let ids: Vec<String> = match &read {
        Value::Array(streams) => match streams.first() {
            Some(Value::Array(pair)) => match pair.get(1) {
                Some(Value::Array(entries)) => entries
                    .iter()
                    .filter_map(|e| match e {
                        Value::Array(p) => match p.first() {
                            Some(Value::BulkString(id)) => Some(String::from_utf8_lossy(id).into_owned()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    assert_eq!(ids.len(), 2);
    for _ in 0..2 {
        // XCLAIM counts a delivery each time.
        let _: Value = redis::cmd("XCLAIM")
            .arg(&requests)
            .arg(GROUP)
            .arg("ghost")
            .arg(0)
            .arg(&ids[1])
            .query_async(&mut c)
            .await
            .expect("xclaim");
    }

    let app = ServeConfig {
        definitions: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions"),
        ..ServeConfig::default()
    }
    .build_app()
    .await
    .expect("app");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn(run(app, cfg.clone(), async {
        let _ = stopped.await;
    }));

    add(
        &mut c,
        &requests,
        &[
            ("P360Url", "rest/V2.0/manage/workflow"),
            ("Method", "POST"),
            ("JMSCorrelationID", "c-1"),
            ("body", WORKFLOW),
        ],
    )
    .await;
    add(
        &mut c,
        &requests,
        &[("JMSCorrelationID", "c-2"), ("body", "<nothing/>")],
    )
    .await;

    let mut replies = Vec::new();
    for _ in 0..100 {
        replies = read_all(&mut c, &cfg.replies()).await;
        if replies.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let by = |id: &str| {
        replies
            .iter()
            .find(|r| get(r, "JMSCorrelationID") == Some(id))
            .cloned()
    };
    let orphan = by("orphan").expect("the orphaned request is claimed and answered");
    assert_eq!(get(&orphan, "Status"), Some("200"));
    assert!(
        get(&orphan, "body").is_some_and(|b| b.contains("<createdCounter>1</createdCounter>")),
        "{orphan:?}"
    );
    let first = by("c-1").expect("answered");
    assert_eq!(get(&first, "Status"), Some("200"));
    assert!(
        get(&first, "body").is_some_and(|b| b.contains("<updatedCounter>1</updatedCounter>")),
        "the second store of the workflow is an update: {first:?}"
    );
    let bad = by("c-2").expect("answered");
    assert_eq!(get(&bad, "Status"), Some("400"));
    assert!(get(&bad, "body")
        .is_some_and(|b| b.contains("<errorObject><errorMessage>The P360Url property is required")));
    assert!(by("poison").is_none(), "no reply for a dead letter: {replies:?}");
    let dead = read_all(&mut c, &cfg.dead()).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(get(&dead[0], "JMSCorrelationID"), Some("poison"));
    assert!(get(&dead[0], "reason").is_some_and(|r| r.starts_with("delivered")));
    let pending: Value = redis::cmd("XPENDING")
        .arg(&requests)
        .arg(GROUP)
        .query_async(&mut c)
        .await
        .expect("xpending");
    assert!(
        matches!(&pending, Value::Array(p) if p.first() == Some(&Value::Int(0))),
        "every request acknowledged: {pending:?}"
    );

    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer ran");
    remove_keys(&prefix).await;
}

/// A scheduled endpoint over Redis Streams: the request is acknowledged without a reply, and
/// the job's final message is added to the reply stream when the job is done, with the
/// request's correlation id and its `SuccessTargetService`.
#[tokio::test]
async fn scheduled_jobs_answer_when_done_over_redis_streams() {
    let prefix = unique_prefix("p360jobs");
    let app = ServeConfig {
        definitions: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions"),
        // The stream binding the app's job worker sends final messages through.
        p360_stream: Some(redis_url()),
        redis_prefix: prefix.clone(),
        ..ServeConfig::default()
    };
    let cfg = app.p360_stream().expect("configured");
    let app = app.build_app().await.expect("app");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn(run(app, cfg.clone(), async {
        let _ = stopped.await;
    }));
    let mut c = con().await;
    // The consumer creates its group at the stream's end: wait for it before adding.
    for _ in 0..100 {
        let groups: redis::RedisResult<Value> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(cfg.requests())
            .query_async(&mut c)
            .await;
        if matches!(groups, Ok(Value::Array(ref g)) if !g.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    add(
        &mut c,
        &cfg.requests(),
        &[
            ("P360Url", "rest/V2.0/manage/export"),
            ("JMSCorrelationID", "x-1"),
            ("SuccessTargetService", "Exported"),
            (
                "body",
                "<exportSchedulingProfile><profileName>Nightly</profileName></exportSchedulingProfile>",
            ),
        ],
    )
    .await;
    for _ in 0..200 {
        if !read_all(&mut c, &cfg.replies()).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a wrong second reply the time to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let replies = read_all(&mut c, &cfg.replies()).await;
    assert_eq!(replies.len(), 1, "only the final message: {replies:?}");
    let r = &replies[0];
    assert_eq!(
        (
            get(r, "Status"),
            get(r, "JMSCorrelationID"),
            get(r, "SuccessTargetService")
        ),
        (Some("200"), Some("x-1"), Some("Exported"))
    );
    let body = get(r, "body").unwrap_or_default();
    assert!(
        body.contains("<type>EXPORT</type><state>FINISHED</state>")
            && body.contains("<workflowCorrelationId>x-1</workflowCorrelationId>"),
        "{body}"
    );
    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer ran");
    remove_keys(&prefix).await;
}
