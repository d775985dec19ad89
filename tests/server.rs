//! The server glue on a real socket: mounts, authentication, body cap, graceful shutdown.

mod common;

use common::{send, StoreKind, TestServer, ADMIN};

#[tokio::test]
async fn unmounted_paths_are_a_plain_404() {
    let server = TestServer::start(StoreKind::Memory).await;
    let reply = send("GET", &format!("{}/nowhere", server.root), None, "", None).await;
    assert_eq!(reply.status, 404);
    assert!(String::from_utf8_lossy(&reply.body).contains("/flowable-rest/service/"));
    server.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_and_closes_the_port() {
    let server = TestServer::start(StoreKind::Memory).await;
    let root = server.root.clone();
    server.stop().await;
    let addr = root.trim_start_matches("http://");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener is closed after shutdown"
    );
}

#[tokio::test]
async fn redis_server_starts_when_redis_answers() {
    let server = TestServer::start(StoreKind::Redis).await;
    let reply = send("GET", &format!("{}/nowhere", server.root), None, "", Some(ADMIN)).await;
    assert_eq!(reply.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_the_dialect_error_and_write_nothing() {
    let server = TestServer::start_with(StoreKind::Memory, |c| c.max_body = 64).await;
    let big = format!(
        r#"{{"processDefinitionKey":"oneTaskProcess","businessKey":"{}"}}"#,
        "x".repeat(200)
    );
    let url = format!("{}/runtime/process-instances", server.flowable);
    let reply = send("POST", &url, Some("application/json"), big, Some(ADMIN)).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["message"], "Bad request");
    assert!(
        body["exception"].as_str().is_some_and(|e| e.contains("64")),
        "{body}"
    );
    let list = send("GET", &url, None, "", Some(ADMIN)).await.json();
    assert_eq!(list["total"], 0, "nothing was started: {list}");

    // The same cap in the other dialects' envelopes.
    let invoke = format!("{}/createProcessMetadata", server.webmethods);
    let big = format!(r#"{{"processKey":"P","processLabel":"{}"}}"#, "x".repeat(200));
    let reply = send("POST", &invoke, Some("application/json"), big, Some(ADMIN)).await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.json()["$errorType"],
        "com.wm.app.b2b.server.ServiceException",
        "Integration Server's error output"
    );
    let ibm = format!("{}/rest/bpm/wle/v1/process", server.root);
    let form = format!("action=start&bpdId=25.expenseApproval&params={}", "x".repeat(200));
    let reply = send(
        "POST",
        &ibm,
        Some("application/x-www-form-urlencoded"),
        form,
        Some(ADMIN),
    )
    .await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.json()["Data"]["errorNumber"],
        "CWTBG0012E",
        "IBM's error envelope"
    );
    let list = send("GET", &url, None, "", Some(ADMIN)).await.json();
    assert_eq!(list["total"], 0, "still nothing was started: {list}");
    server.stop().await;
}

/// Malformed and mistyped input gets each new dialect's own error envelope, and changes
/// nothing.
#[tokio::test]
async fn bad_input_gets_the_dialect_envelope_and_writes_nothing() {
    let server = TestServer::start(StoreKind::Memory).await;
    let invoke = |service: &str| format!("{}/{service}", server.webmethods);
    for (ct, body) in [
        ("application/json", "{\"processKey\": "),
        ("application/json", "[1, 2]"),
        (
            "text/xml",
            "<IDataXMLCoder><record><value>x</record></IDataXMLCoder>",
        ),
        ("application/octet-stream", "\u{0}\u{1}"),
    ] {
        let reply = send(
            "POST",
            &invoke("createProcessMetadata"),
            Some(ct),
            body.to_owned(),
            Some(ADMIN),
        )
        .await;
        assert!(
            reply.status == 500 || reply.status == 415,
            "{ct}: {}",
            reply.status
        );
        // In the request's representation: JSON, IData XML for an XML request, the CGI
        // handler's HTML table for anything else.
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        match ct {
            "text/xml" => assert!(
                text.contains("<value name=\"$error\">cannot parse the XML document"),
                "{text}"
            ),
            "application/json" => assert!(reply.json()["$error"].is_string(), "{ct}: {text}"),
            _ => assert!(text.contains("<TD valign=top><B>$error</B></TD>"), "{ct}: {text}"),
        }
    }
    let ibm = format!("{}/rest/bpm/wle/v1", server.root);
    for (url, ct, body) in [
        (
            format!("{ibm}/process/1/variables"),
            "application/json",
            "{\"a\":",
        ),
        (
            format!("{ibm}/process?action=start&bpdId=25.expenseApproval&params=%5B"),
            "application/json",
            "",
        ),
    ] {
        let reply = send("PUT", &url, Some(ct), body.to_owned(), Some(ADMIN)).await;
        let reply = if reply.status == 404 {
            send("POST", &url, Some(ct), body.to_owned(), Some(ADMIN)).await
        } else {
            reply
        };
        assert_eq!(
            reply.status,
            400,
            "{url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json()["Data"]["errorNumber"], "CWTBG0536E");
    }
    let list = send(
        "GET",
        &format!("{}/runtime/process-instances", server.flowable),
        None,
        "",
        Some(ADMIN),
    )
    .await
    .json();
    assert_eq!(list["total"], 0, "nothing was started: {list}");
    server.stop().await;
}

#[tokio::test]
async fn authentication_can_be_switched_off() {
    let server = TestServer::start_with(StoreKind::Memory, |c| c.no_auth = true).await;
    let url = format!("{}/runtime/process-instances", server.flowable);
    let body = r#"{"processDefinitionKey":"oneTaskProcess"}"#;
    let reply = send("POST", &url, Some("application/json"), body, None).await;
    assert_eq!(reply.status, 201);
    let started = reply.json();
    // No authenticated user: no start user and no starter link.
    assert_eq!(started["startUserId"], serde_json::Value::Null);
    let links = send(
        "GET",
        &format!("{url}/{}/identitylinks", started["id"].as_str().unwrap_or("")),
        None,
        "",
        None,
    )
    .await
    .json();
    assert_eq!(links, serde_json::json!([]));
    server.stop().await;
}

/// A Redis of our own on a free port, so the test can stop it under the server.
struct OwnRedis {
    child: std::process::Child,
    url: String,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        OwnRedis { child, url }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_store_that_goes_down_is_a_flowable_500_not_a_hang() {
    let mut redis = OwnRedis::start();
    let url = redis.url.clone();
    let server = TestServer::start_with(StoreKind::Redis, |c| c.store = url).await;
    let instances = format!("{}/runtime/process-instances", server.flowable);
    let body = r#"{"processDefinitionKey":"oneTaskProcess"}"#;
    let reply = send("POST", &instances, Some("application/json"), body, Some(ADMIN)).await;
    assert_eq!(reply.status, 201, "works while Redis is up");

    let _ = redis.child.kill();
    let _ = redis.child.wait();
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        send("POST", &instances, Some("application/json"), body, Some(ADMIN)),
    )
    .await
    .expect("the server answers while its store is down");
    assert_eq!(answered.status, 500);
    let body = answered.json();
    assert_eq!(body["message"], "Internal server error");
    // No internals (no Redis error text) reach the client.
    let text = body.to_string().to_lowercase();
    assert!(!text.contains("redis") && !text.contains("connection"), "{body}");
    server.stop().await;
}
