//! The contract between the server and a dialect: pure parse and render (sans-I/O, as in
//! quinn-proto). Parsing and rendering never await, never read the clock and never touch the
//! store; everything they need from outside comes in [`RequestCtx`].

use bytes::Bytes;
use http::{Request, Response};

use crate::command::Command;
use crate::error::CoreError;
use crate::outcome::Outcome;
use crate::time::Timestamp;

/// What the server knows about a request besides the request itself.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCtx {
    /// The time the request arrived.
    pub now: Timestamp,
    /// Server-assigned, unique per process; for logs and generated ids.
    pub request_id: u64,
    /// `scheme://host[:port]` plus the dialect's mount, without a trailing slash
    /// (e.g. `http://localhost:8080/flowable-rest/service`): the base of absolute URLs.
    pub base_url: String,
    /// The request path below the mount, without a leading slash, still percent-encoded
    /// (e.g. `runtime/process-instances/7`).
    pub path: String,
    /// The authenticated user, when authentication is on and succeeded.
    pub user: Option<String>,
}

/// How a dialect authenticates its clients; the server checks credentials once, for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// HTTP Basic against the user directory.
    Basic,
    /// A token the store issued (see `Command::IssueToken`), in this request header.
    AccessToken(&'static str),
    /// The dialect does its own (e.g. tokens); the server checks nothing.
    None,
}

/// One vendor dialect.
pub trait Adapter: Send + Sync + 'static {
    /// The vendor operation a request was routed to; carried from parse to render so the
    /// response can take the operation's shape.
    type Op: Send + 'static;

    /// Short dialect name (`flowable`, `ibm-bpm`, ...), used in logs and as `origin`.
    fn name(&self) -> &'static str;

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Basic
    }

    /// A stable name of an operation, for spans.
    fn op_name(&self, op: &Self::Op) -> &'static str;

    /// Routes and parses a request. An error here is rendered with [`Adapter::render_error`].
    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Self::Op, Command), CoreError>;

    /// Renders the engine's answer to an operation.
    fn render(&self, op: Self::Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes>;

    /// Renders an error that has no operation (routing, parsing, authentication, body limits).
    fn render_error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes>;

    /// Renders an error of [`Adapter::parse`]; the request is at hand (a dialect may answer
    /// in the representation it asked for). By default, [`Adapter::render_error`].
    fn parse_error(&self, err: CoreError, req: &Request<Bytes>, ctx: &RequestCtx) -> Response<Bytes> {
        let _ = req;
        self.render_error(err, ctx)
    }
}

/// Decodes `%XX` escapes of one path segment (`+` stays a plus in paths). Invalid escapes are
/// kept as written; invalid UTF-8 is replaced. Adapters read ids from [`RequestCtx::path`],
/// which is still percent-encoded.
pub fn percent_decode(segment: &str) -> String {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
