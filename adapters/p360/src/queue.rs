//! The Service API Queue's message properties (seed 002, "Request Header"): how a queue
//! message becomes the HTTP request the dialect answers, and how its answer becomes the reply
//! message. Shared by both queue bindings (ActiveMQ over STOMP, Redis Streams); pure.
//!
//! - Request: `P360Url` (the `rest/…` path and query), `Method` (default `POST`), the body;
//!   `SuccessTargetService`, `FailureTargetService`, `CallbackTargetService` and
//!   `EnforceIntermediateOkResponse` travel to the dialect as request headers of those names,
//!   with `JMSCorrelationID`, `JMSReplyTo` and `P360-Transport` (the binding), so a scheduled
//!   endpoint resolves its BPM callback from them (seed: "the query parameters like
//!   workflowServiceEndpoint, workflowCorrelationId, workflowQueueId are resolved automatically
//!   by the respective JMS message properties").
//! - Reply: to the request's reply destination with its correlation id, the `Status` property
//!   (200, 400, 401, 500) and, so that a client's dispatcher can route it, the target service
//!   that applies as a property of its own name: `SuccessTargetService` on a 200,
//!   `FailureTargetService` otherwise (P360's generic header table is not public; this is
//!   bpm-compat's choice, in fixtures/p360/README.md).
//! - A scheduled endpoint's answer (HTTP 202, the planned job) is not sent: its reply is the
//!   job's final message, sent when the job is done, unless `EnforceIntermediateOkResponse` is
//!   `true`: then it is sent at once as the intermediate OK, and the final message follows
//!   with `CallbackTargetService` (default: the success target).

use bytes::Bytes;
use http::Request;

/// The message properties a binding passes to the dialect as request headers.
pub const FORWARDED: [&str; 4] = [
    "SuccessTargetService",
    "FailureTargetService",
    "CallbackTargetService",
    "EnforceIntermediateOkResponse",
];

/// A request message as both bindings read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueRequest {
    pub url: Option<String>,
    pub method: Option<String>,
    pub content_type: Option<String>,
    /// The request's correlation id, else its message id.
    pub correlation: String,
    /// Where its replies go: its reply destination, else the binding's reply queue.
    pub reply_to: String,
    /// The forwarded properties ([`FORWARDED`]) it has.
    pub properties: Vec<(&'static str, String)>,
    /// `stomp` or `stream`.
    pub transport: &'static str,
}

/// A reply message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub destination: String,
    pub correlation: String,
    pub status: u16,
    pub content_type: String,
    pub target: Option<(&'static str, String)>,
    pub body: Bytes,
}

/// A JMS boolean property's value.
fn is_true(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

/// The queue's status for an HTTP status: 200, 400, 401 or 500.
pub fn queue_status(http: u16) -> u16 {
    match http {
        200..=299 => 200,
        401 => 401,
        500..=599 => 500,
        _ => 400,
    }
}

impl QueueRequest {
    /// Reads the forwarded properties with `get` (a binding's property lookup).
    pub fn with_properties(mut self, get: impl Fn(&str) -> Option<String>) -> QueueRequest {
        self.properties = FORWARDED
            .iter()
            .filter_map(|name| get(name).filter(|v| !v.is_empty()).map(|v| (*name, v)))
            .collect();
        self
    }

    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn enforce_ok(&self) -> bool {
        self.property("EnforceIntermediateOkResponse")
            .is_some_and(is_true)
    }

    /// The HTTP request the dialect answers, or why there is none (the reply's error text).
    pub fn to_http(&self, body: Bytes, authorization: Option<&str>) -> Result<Request<Bytes>, String> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Err("The P360Url property is required".into());
        };
        let method = self.method.as_deref().unwrap_or("POST").to_ascii_uppercase();
        let mut b = Request::builder()
            .method(method.as_str())
            .uri(format!("/{}", url.trim().trim_start_matches('/')))
            .header(
                http::header::CONTENT_TYPE,
                self.content_type.as_deref().unwrap_or("application/xml"),
            )
            .header("P360-Transport", self.transport)
            .header("JMSCorrelationID", self.correlation.as_str())
            .header("JMSReplyTo", self.reply_to.as_str());
        for (k, v) in &self.properties {
            b = b.header(*k, v.as_str());
        }
        if let Some(a) = authorization {
            b = b.header(http::header::AUTHORIZATION, a);
        }
        b.body(body)
            .map_err(|e| format!("The request cannot be built: {e}"))
    }

    /// The reply for the dialect's answer; `None` when the answer is a planned job whose reply
    /// is deferred to its final message.
    pub fn reply(&self, http_status: u16, content_type: &str, body: Bytes) -> Option<Reply> {
        if http_status == 202 && !self.enforce_ok() {
            return None;
        }
        Some(self.routed(http_status, content_type, body))
    }

    /// A reply to this request with the queue's status for `http_status` and the target
    /// service that applies: the success target on 200, the failure target otherwise.
    fn routed(&self, http_status: u16, content_type: &str, body: Bytes) -> Reply {
        let status = queue_status(http_status);
        let name = if status == 200 {
            "SuccessTargetService"
        } else {
            "FailureTargetService"
        };
        Reply {
            destination: self.reply_to.clone(),
            correlation: self.correlation.clone(),
            status,
            content_type: content_type.to_owned(),
            target: self.property(name).map(|t| (name, t.to_owned())),
            body,
        }
    }

    /// The reply for a request that cannot be answered (`text` says why).
    pub fn refusal(&self, text: &str) -> Reply {
        self.routed(
            400,
            "application/xml",
            Bytes::from(crate::error_body(text, false)),
        )
    }
}

/// The callback of a scheduled call that came over the queue, from the headers its binding
/// set ([`QueueRequest::to_http`]); `None` for an HTTP call.
pub fn callback_from_headers(headers: &http::HeaderMap, json: bool) -> Option<crate::jobs::Callback> {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
    };
    let transport = get("P360-Transport")?;
    let enforce = get("EnforceIntermediateOkResponse").is_some_and(|v| is_true(&v));
    let success = get("SuccessTargetService");
    Some(crate::jobs::Callback {
        service_endpoint: if enforce {
            get("CallbackTargetService").or(success)
        } else {
            success
        },
        correlation_id: get("JMSCorrelationID"),
        mode: "QUEUE".into(),
        queue_id: get("JMSReplyTo"),
        transport: Some(transport),
        failure_target: get("FailureTargetService"),
        intermediate_ok: enforce,
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(props: &[(&str, &str)]) -> QueueRequest {
        QueueRequest {
            url: Some("rest/V2.0/manage/merge".into()),
            correlation: "c-1".into(),
            reply_to: "/queue/R".into(),
            transport: "stomp",
            ..QueueRequest::default()
        }
        .with_properties(|n| props.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn replies_carry_the_target_that_applies() {
        let r = request(&[("SuccessTargetService", "Ok"), ("FailureTargetService", "Bad")]);
        let ok = r.reply(200, "application/xml", Bytes::new()).expect("a reply");
        assert_eq!(
            (ok.status, ok.target),
            (200, Some(("SuccessTargetService", "Ok".into())))
        );
        let bad = r.reply(404, "application/xml", Bytes::new()).expect("a reply");
        assert_eq!(
            (bad.status, bad.target),
            (400, Some(("FailureTargetService", "Bad".into())))
        );
        assert_eq!(bad.correlation, "c-1");
    }

    #[test]
    fn a_planned_job_is_answered_at_once_only_when_enforced() {
        assert_eq!(request(&[]).reply(202, "application/xml", Bytes::new()), None);
        let r = request(&[
            ("EnforceIntermediateOkResponse", "TRUE"),
            ("SuccessTargetService", "Ok"),
        ]);
        assert_eq!(
            r.reply(202, "application/xml", Bytes::new()).map(|r| r.status),
            Some(200)
        );
    }

    #[test]
    fn the_dialect_sees_the_properties_as_headers_and_resolves_the_callback() {
        let r = request(&[
            ("EnforceIntermediateOkResponse", "true"),
            ("SuccessTargetService", "Ok"),
            ("CallbackTargetService", "Done"),
            ("FailureTargetService", "Bad"),
        ]);
        let req = r.to_http(Bytes::new(), None).expect("builds");
        assert_eq!(req.uri().path(), "/rest/V2.0/manage/merge");
        let cb = callback_from_headers(req.headers(), false).expect("over the queue");
        assert_eq!(cb.service_endpoint.as_deref(), Some("Done"));
        assert_eq!(cb.queue_id.as_deref(), Some("/queue/R"));
        assert_eq!(cb.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(cb.failure_target.as_deref(), Some("Bad"));
        assert!(cb.intermediate_ok);
        let plain = request(&[("SuccessTargetService", "Ok"), ("CallbackTargetService", "Done")]);
        let req = plain.to_http(Bytes::new(), None).expect("builds");
        let cb = callback_from_headers(req.headers(), false).expect("over the queue");
        assert_eq!(cb.service_endpoint.as_deref(), Some("Ok"));
        assert_eq!(request(&[]).to_http(Bytes::new(), None).map(|_| ()), Ok(()));
        assert!(QueueRequest::default().to_http(Bytes::new(), None).is_err());
    }
}
