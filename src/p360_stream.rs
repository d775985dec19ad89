//! P360's Service API Queue over Redis Streams, for deployments without a JMS broker.
//!
//! A client adds a request to the stream `<prefix>p360:requests` with the queue's message
//! properties as fields — `P360Url` (required, e.g. `rest/V2.0/manage/workflow`), `Method`
//! (default `POST`), `ContentType` (default `application/xml`), `JMSCorrelationID`, `ReplyTo`
//! (a stream; default `<prefix>p360:replies`), `SuccessTargetService`, `FailureTargetService`,
//! `CallbackTargetService`, `EnforceIntermediateOkResponse` — and the request document in
//! `body`. The consumer group `bpm-compat` reads it, the P360 dialect answers it, and the reply
//! goes to the reply stream with `Status` (200, 400, 401 or 500, the queue's codes),
//! `JMSCorrelationID` (the request's, else its stream id), the target service that applies,
//! `ContentType` and `body` (the rules: `bpm_compat_p360::queue`). A scheduled endpoint's reply
//! is its job's final message, added by `p360_jobs` when the job is done: the request is
//! acknowledged once the job is stored (an instance of `p360Job`), and the job's own delivery
//! is at least once.
//!
//! Delivery is at least once: a request is acknowledged only after its reply is written, so a
//! node that dies in between leaves it pending and another consumer claims it once it has been
//! idle for `claim_idle`; a request whose answer is a server error (the store unreachable) is
//! left pending too and retried. After `max_deliveries` deliveries a request goes to the
//! dead-letter stream `<prefix>p360:dead` (its fields and a `reason`) and is acknowledged. A
//! request answered twice (a node dying between the reply and the acknowledgement) gets two
//! replies with one correlation id.

use std::time::Duration;

use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use redis::Value;
use tracing::{debug, warn};

use bpm_compat_p360::queue::{QueueRequest, Reply};

use crate::p360_queue::{answer, Answer};
use crate::server::App;

pub const GROUP: &str = "bpm-compat";

#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub redis_url: String,
    pub prefix: String,
    /// This node's consumer name in the group.
    pub consumer: String,
    pub max_deliveries: u64,
    /// How long a pending request stays with a consumer before others may claim it.
    pub claim_idle: Duration,
    /// The user queue requests act as (the queue itself is the trust boundary).
    pub user: Option<(String, String)>,
}

impl StreamConfig {
    pub fn requests(&self) -> String {
        format!("{}p360:requests", self.prefix)
    }
    pub fn replies(&self) -> String {
        format!("{}p360:replies", self.prefix)
    }
    pub fn dead(&self) -> String {
        format!("{}p360:dead", self.prefix)
    }
}

/// One stream entry: its id and fields.
type Entry = (String, Vec<(String, Vec<u8>)>);

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// Entries of an `XREADGROUP`/`XAUTOCLAIM`-shaped array `[[id, [k, v, …]], …]`.
fn entries(v: &Value) -> Vec<Entry> {
    let Value::Array(items) = v else { return Vec::new() };
    items
        .iter()
        .filter_map(|e| {
            let Value::Array(pair) = e else { return None };
            let id = text(pair.first()?)?;
            let Value::Array(kv) = pair.get(1)? else {
                return Some((id, Vec::new()));
            };
            let fields = kv
                .chunks(2)
                .filter_map(|c| {
                    let k = text(c.first()?)?;
                    let v = match c.get(1)? {
                        Value::BulkString(b) => b.clone(),
                        Value::SimpleString(s) => s.clone().into_bytes(),
                        _ => return None,
                    };
                    Some((k, v))
                })
                .collect();
            Some((id, fields))
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
}

fn field_text(fields: &[(String, Vec<u8>)], name: &str) -> Option<String> {
    field(fields, name).map(|v| String::from_utf8_lossy(v).into_owned())
}

async fn ensure_group(con: &mut MultiplexedConnection, stream: &str) -> Result<(), String> {
    let created: redis::RedisResult<Value> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("$")
        .arg("MKSTREAM")
        .query_async(con)
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
        Err(e) => Err(format!("cannot create the consumer group on {stream}: {e}")),
    }
}

/// How often a pending entry was delivered.
async fn deliveries(con: &mut MultiplexedConnection, stream: &str, id: &str) -> Result<u64, String> {
    let v: Value = redis::cmd("XPENDING")
        .arg(stream)
        .arg(GROUP)
        .arg(id)
        .arg(id)
        .arg(1)
        .query_async(con)
        .await
        .map_err(|e| e.to_string())?;
    // [[id, consumer, idle, deliveries]]
    if let Value::Array(rows) = v {
        if let Some(Value::Array(row)) = rows.first() {
            if let Some(Value::Int(n)) = row.get(3) {
                return Ok(*n as u64);
            }
        }
    }
    Ok(0)
}

async fn handle(
    app: &App,
    cfg: &StreamConfig,
    con: &mut MultiplexedConnection,
    entry: &Entry,
) -> Result<(), String> {
    let (id, fields) = entry;
    let stream = cfg.requests();
    let delivered = deliveries(con, &stream, id).await?;
    if delivered > cfg.max_deliveries {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(cfg.dead()).arg("*");
        for (k, v) in fields {
            cmd.arg(k).arg(v.as_slice());
        }
        cmd.arg("reason")
            .arg(format!("delivered {delivered} times without an answer"))
            .arg("requestId")
            .arg(id);
        let _: Value = cmd.query_async(con).await.map_err(|e| e.to_string())?;
        ack(con, &stream, id).await?;
        warn!(id, "P360 request moved to the dead-letter stream.");
        return Ok(());
    }
    let request = QueueRequest {
        url: field_text(fields, "P360Url"),
        method: field_text(fields, "Method"),
        content_type: field_text(fields, "ContentType"),
        correlation: field_text(fields, "JMSCorrelationID").unwrap_or_else(|| id.clone()),
        reply_to: field_text(fields, "ReplyTo")
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| cfg.replies()),
        properties: Vec::new(),
        transport: "stream",
    }
    .with_properties(|name| field_text(fields, name));
    let body = Bytes::from(field(fields, "body").unwrap_or_default().to_vec());
    match answer(app, cfg.user.as_ref(), &request, body).await {
        Answer::Reply(reply) => add_reply(con, &reply).await?,
        Answer::Deferred => {}
        Answer::Retry => {
            debug!(id, "P360 request left pending for a retry.");
            return Ok(());
        }
    }
    ack(con, &stream, id).await
}

/// Acknowledges a request: it leaves the group's pending list.
async fn ack(con: &mut MultiplexedConnection, stream: &str, id: &str) -> Result<(), String> {
    let _: Value = redis::cmd("XACK")
        .arg(stream)
        .arg(GROUP)
        .arg(id)
        .query_async(con)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Adds a reply to its stream: `Status`, `JMSCorrelationID`, the target service that
/// applies, `ContentType` and `body`.
async fn add_reply(con: &mut MultiplexedConnection, reply: &Reply) -> Result<(), String> {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&reply.destination)
        .arg("*")
        .arg("Status")
        .arg(reply.status)
        .arg("JMSCorrelationID")
        .arg(&reply.correlation);
    if let Some((name, value)) = &reply.target {
        cmd.arg(*name).arg(value);
    }
    cmd.arg("ContentType")
        .arg(&reply.content_type)
        .arg("body")
        .arg(reply.body.as_ref());
    let _: Value = cmd.query_async(con).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Sends one message on a connection of its own.
pub async fn send_once(cfg: &StreamConfig, reply: &Reply) -> Result<(), String> {
    let client = redis::Client::open(cfg.redis_url.as_str()).map_err(|e| e.to_string())?;
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("cannot reach {}: {e}", cfg.redis_url))?;
    add_reply(&mut con, reply).await
}

/// Consumes requests until `shutdown` resolves.
pub async fn run(
    app: App,
    cfg: StreamConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let client = redis::Client::open(cfg.redis_url.as_str()).map_err(|e| e.to_string())?;
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("cannot reach {}: {e}", cfg.redis_url))?;
    let stream = cfg.requests();
    ensure_group(&mut con, &stream).await?;
    tokio::pin!(shutdown);
    loop {
        // Requests other consumers (or this one before a restart) left pending.
        let claimed: redis::RedisResult<Value> = redis::cmd("XAUTOCLAIM")
            .arg(&stream)
            .arg(GROUP)
            .arg(&cfg.consumer)
            .arg(cfg.claim_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(16)
            .query_async(&mut con)
            .await;
        let mut batch = match &claimed {
            Ok(Value::Array(parts)) => parts.get(1).map(entries).unwrap_or_default(),
            _ => Vec::new(),
        };
        if batch.is_empty() {
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP")
                .arg(GROUP)
                .arg(&cfg.consumer)
                .arg("COUNT")
                .arg(16)
                .arg("BLOCK")
                .arg(200)
                .arg("STREAMS")
                .arg(&stream)
                .arg(">");
            let read = cmd.query_async::<Value>(&mut con);
            tokio::select! {
                v = read => {
                    if let Ok(Value::Array(streams)) = v {
                        for s in streams {
                            if let Value::Array(pair) = s {
                                if let Some(list) = pair.get(1) {
                                    batch.extend(entries(list));
                                }
                            }
                        }
                    }
                }
                () = &mut shutdown => return Ok(()),
            }
        }
        for entry in &batch {
            if let Err(e) = handle(&app, &cfg, &mut con, entry).await {
                warn!(error = %e, id = %entry.0, "P360 request failed; it stays pending.");
            }
        }
    }
}
