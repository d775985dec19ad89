//! What both P360 queue bindings share (the message rules are in `bpm_compat_p360::queue`):
//! answering a request message through the dialect, and sending a message to a workflow over
//! whichever binding it came from (a job's final message, `p360_jobs`).

use base64::Engine as _;
use bpm_compat_p360::queue::{QueueRequest, Reply};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::p360_stomp::StompConfig;
use crate::p360_stream::StreamConfig;
use crate::server::App;

/// What becomes of a request message.
#[derive(Debug)]
pub enum Answer {
    /// Send this reply, then acknowledge the request.
    Reply(Reply),
    /// Acknowledge without a reply: the answer is a planned job's final message.
    Deferred,
    /// A server error (the store unreachable): deliver the request again.
    Retry,
}

/// Answers one request message through the app (the P360 dialect), as `user`.
pub async fn answer(app: &App, user: Option<&(String, String)>, req: &QueueRequest, body: Bytes) -> Answer {
    let authorization = user.map(|(u, p)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    });
    let http = match req.to_http(body, authorization.as_deref()) {
        Ok(r) => r,
        Err(why) => return Answer::Reply(req.refusal(&why)),
    };
    let resp = app.call(http).await;
    let status = resp.status().as_u16();
    if status >= 500 {
        return Answer::Retry;
    }
    let content_type = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/xml")
        .to_owned();
    match req.reply(status, &content_type, resp.into_body()) {
        Some(r) => Answer::Reply(r),
        None => Answer::Deferred,
    }
}

/// Where a node can send messages to workflows: its queue bindings, and the BPM's REST base
/// URL for callbacks in `REST` mode.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    pub stomp: Option<StompConfig>,
    pub stream: Option<StreamConfig>,
    pub bpm_url: Option<String>,
}

impl Outbox {
    /// Whether [`Outbox::send_queue`] has a binding for `transport`.
    pub fn has_queue(&self, transport: Option<&str>) -> bool {
        if self.stomp_for(transport) {
            self.stomp.is_some()
        } else {
            self.stream.is_some()
        }
    }

    fn stomp_for(&self, transport: Option<&str>) -> bool {
        match transport {
            Some("stomp") => true,
            Some("stream") => false,
            _ => self.stomp.is_some(),
        }
    }

    /// Sends `reply` over the queue binding `transport` names (else the one this node has).
    pub async fn send_queue(&self, transport: Option<&str>, reply: &Reply) -> Result<(), String> {
        if self.stomp_for(transport) {
            let cfg = self
                .stomp
                .as_ref()
                .ok_or("this node has no ActiveMQ binding to send the message with")?;
            crate::p360_stomp::send_once(cfg, reply).await
        } else {
            let cfg = self
                .stream
                .as_ref()
                .ok_or("this node has no Redis Streams binding to send the message with")?;
            crate::p360_stream::send_once(cfg, reply).await
        }
    }

    /// POSTs `reply`'s body to the workflow's service endpoint below the BPM's base URL, with
    /// the workflow's correlation id as a query parameter; nothing when no base URL is set.
    pub async fn send_rest(&self, endpoint: &str, reply: &Reply) -> Result<(), String> {
        let Some(base) = &self.bpm_url else {
            return Ok(());
        };
        let mut url = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            endpoint.trim_start_matches('/')
        );
        if !reply.correlation.is_empty() {
            let q = serde_urlencoded::to_string([("workflowCorrelationId", reply.correlation.as_str())])
                .map_err(|e| e.to_string())?;
            url = format!("{url}?{q}");
        }
        let mut b = http::Request::post(&url).header(http::header::CONTENT_TYPE, reply.content_type.as_str());
        b = b.header("Status", reply.status.to_string());
        if let Some((name, value)) = &reply.target {
            b = b.header(*name, value.as_str());
        }
        let req = b.body(Full::new(reply.body.clone())).map_err(|e| e.to_string())?;
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = resp.status();
        let _ = resp.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{url} answered {status}"))
        }
    }
}
