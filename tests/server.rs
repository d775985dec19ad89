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
