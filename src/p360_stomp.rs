//! P360's Service API Queue on Apache ActiveMQ (the only broker P360 supports), over STOMP
//! 1.2, where STOMP headers are JMS properties: a request is a message on the request queue
//! (default `P360_SERVICE_API`) with `P360Url`, `Method` (default `POST`), an optional
//! `content-type`, `correlation-id` (JMSCorrelationID), `reply-to` (JMSReplyTo) and the
//! target service properties; the reply is sent to `reply-to` (else the configured reply queue,
//! default `P360_SERVICE_API_REPLY`) with the request's `correlation-id` (else its
//! `message-id`), a `Status` property (200, 400, 401 or 500), the target service that applies
//! and the answer as its body (the rules: `bpm_compat_p360::queue`). A scheduled endpoint's
//! reply is its job's final message, sent by `p360_jobs` when the job is done: the request is
//! acknowledged once the job is stored (an instance of `p360Job`), and the job's own delivery
//! is at least once.
//!
//! Messages are acknowledged one by one (`client-individual`) after the reply is sent; a
//! request answered with a server error is NACKed, so the broker redelivers it and moves it to
//! its dead-letter queue (`ActiveMQ.DLQ`) after its redelivery policy's attempts.

use std::time::Duration;

use bpm_compat_p360::queue::{QueueRequest, Reply};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tracing::{debug, warn};

use crate::p360_queue::{answer, Answer};
use crate::server::App;

#[derive(Debug, Clone)]
pub struct StompConfig {
    /// `host:port` of the broker's STOMP connector.
    pub address: String,
    pub login: Option<(String, String)>,
    /// The request queue's name (without `/queue/`).
    pub queue: String,
    /// Where replies go when a request names no `reply-to` (a queue name or a destination).
    pub reply_queue: String,
    /// The user requests act as.
    pub user: Option<(String, String)>,
}

/// One STOMP frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Frame {
    pub fn new(command: &str) -> Frame {
        Frame {
            command: command.into(),
            ..Frame::default()
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Frame {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Frame {
        self.body = body.into();
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        // STOMP 1.2: the first occurrence of a repeated header wins.
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The frame on the wire: header values escaped, the body sized by `content-length`.
    pub fn encode(&self) -> Vec<u8> {
        let escape = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
                .replace(':', "\\c")
        };
        let mut out = format!("{}\n", self.command).into_bytes();
        for (k, v) in &self.headers {
            out.extend(format!("{}:{}\n", escape(k), escape(v)).into_bytes());
        }
        if !self.body.is_empty() {
            out.extend(format!("content-length:{}\n", self.body.len()).into_bytes());
        }
        out.push(b'\n');
        out.extend(&self.body);
        out.push(0);
        out
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('c') => out.push(':'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A STOMP connection: frames in and out.
pub struct Connection {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

/// Frames larger than this are refused (a bound against a misbehaving peer).
const MAX_FRAME: usize = 16 * 1024 * 1024;

impl Connection {
    pub async fn open(address: &str, login: Option<&(String, String)>) -> Result<Connection, String> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot reach the broker at {address}: {e}"))?;
        let (r, w) = stream.into_split();
        let mut con = Connection {
            reader: BufReader::new(r),
            writer: w,
        };
        let mut connect = Frame::new("CONNECT")
            .header("accept-version", "1.2")
            .header("host", "localhost")
            .header("heart-beat", "0,0");
        if let Some((l, p)) = login {
            connect = connect.header("login", l).header("passcode", p);
        }
        con.send(&connect).await?;
        let answer = con.receive().await?;
        if answer.command != "CONNECTED" {
            return Err(format!(
                "the broker refused the connection: {} {}",
                answer.command,
                String::from_utf8_lossy(&answer.body)
            ));
        }
        Ok(con)
    }

    pub async fn send(&mut self, frame: &Frame) -> Result<(), String> {
        self.writer
            .write_all(&frame.encode())
            .await
            .map_err(|e| format!("cannot write to the broker: {e}"))
    }

    /// The next frame (heart-beat newlines between frames are skipped).
    pub async fn receive(&mut self) -> Result<Frame, String> {
        let mut line = Vec::new();
        // The command line, after any heart-beat newlines.
        loop {
            line.clear();
            read_line(&mut self.reader, &mut line).await?;
            if !line.is_empty() {
                break;
            }
        }
        let command = String::from_utf8_lossy(&line).into_owned();
        let mut frame = Frame::new(&command);
        loop {
            line.clear();
            read_line(&mut self.reader, &mut line).await?;
            if line.is_empty() {
                break;
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            if let Some((k, v)) = text.split_once(':') {
                frame.headers.push((unescape(k), unescape(v)));
            }
            if frame.headers.len() > 1000 {
                return Err("a frame with too many headers".into());
            }
        }
        let length = frame.get("content-length").and_then(|l| l.parse::<usize>().ok());
        match length {
            Some(n) if n <= MAX_FRAME => {
                let mut body = vec![0; n];
                self.reader
                    .read_exact(&mut body)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut nul = [0u8; 1];
                self.reader
                    .read_exact(&mut nul)
                    .await
                    .map_err(|e| e.to_string())?;
                frame.body = body;
            }
            Some(_) => return Err("a frame larger than allowed".into()),
            None => loop {
                let b = self.reader.read_u8().await.map_err(|e| e.to_string())?;
                if b == 0 {
                    break;
                }
                if frame.body.len() >= MAX_FRAME {
                    return Err("a frame larger than allowed".into());
                }
                frame.body.push(b);
            },
        }
        Ok(frame)
    }
}

async fn read_line(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        let b = r
            .read_u8()
            .await
            .map_err(|e| format!("the broker closed the connection: {e}"))?;
        if b == b'\n' {
            if out.last() == Some(&b'\r') {
                out.pop();
            }
            return Ok(());
        }
        if out.len() > 64 * 1024 {
            return Err("a header line longer than allowed".into());
        }
        out.push(b);
    }
}

/// A STOMP destination for a queue name (`/queue/<name>`) or a destination as it is.
pub fn destination(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/queue/{name}")
    }
}

/// The frame that sends a reply: its destination, the correlation id, the `Status` property,
/// the target service property that applies, and the body.
pub fn reply_frame(reply: &Reply) -> Frame {
    let mut f = Frame::new("SEND")
        .header("destination", &destination(&reply.destination))
        .header("correlation-id", &reply.correlation)
        .header("Status", &reply.status.to_string())
        .header("content-type", &reply.content_type);
    if let Some((name, value)) = &reply.target {
        f = f.header(name, value);
    }
    f.body(reply.body.to_vec())
}

/// Sends one message on a connection of its own, and waits for the broker's receipt.
pub async fn send_once(cfg: &StompConfig, reply: &Reply) -> Result<(), String> {
    let mut con = Connection::open(&cfg.address, cfg.login.as_ref()).await?;
    con.send(&reply_frame(reply).header("receipt", "sent")).await?;
    loop {
        let f = con.receive().await?;
        match f.command.as_str() {
            "RECEIPT" => break,
            "ERROR" => {
                return Err(format!(
                    "the broker refused the message: {}",
                    String::from_utf8_lossy(&f.body)
                ))
            }
            _ => {}
        }
    }
    let _ = con.send(&Frame::new("DISCONNECT")).await;
    Ok(())
}

/// Consumes the request queue until `shutdown` resolves or the connection fails.
pub async fn run(
    app: App,
    cfg: StompConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let mut con = Connection::open(&cfg.address, cfg.login.as_ref()).await?;
    con.send(
        &Frame::new("SUBSCRIBE")
            .header("id", "requests")
            .header("destination", &format!("/queue/{}", cfg.queue))
            .header("ack", "client-individual"),
    )
    .await?;
    tokio::pin!(shutdown);
    loop {
        let msg = tokio::select! {
            f = con.receive() => f?,
            () = &mut shutdown => return Ok(()),
        };
        if msg.command != "MESSAGE" {
            if msg.command == "ERROR" {
                warn!(body = %String::from_utf8_lossy(&msg.body), "The broker reported an error.");
            }
            continue;
        }
        let ack_id = msg
            .get("ack")
            .or(msg.get("message-id"))
            .unwrap_or_default()
            .to_owned();
        let request = QueueRequest {
            url: msg.get("P360Url").map(str::to_owned),
            method: msg.get("Method").map(str::to_owned),
            content_type: msg.get("content-type").map(str::to_owned),
            correlation: msg
                .get("correlation-id")
                .or(msg.get("message-id"))
                .unwrap_or_default()
                .to_owned(),
            reply_to: msg
                .get("reply-to")
                .map(str::to_owned)
                .unwrap_or_else(|| destination(&cfg.reply_queue)),
            properties: Vec::new(),
            transport: "stomp",
        }
        .with_properties(|name| msg.get(name).map(str::to_owned));
        match answer(&app, cfg.user.as_ref(), &request, Bytes::from(msg.body.clone())).await {
            Answer::Reply(reply) => {
                con.send(&reply_frame(&reply)).await?;
                con.send(&Frame::new("ACK").header("id", &ack_id)).await?;
            }
            Answer::Deferred => con.send(&Frame::new("ACK").header("id", &ack_id)).await?,
            Answer::Retry => {
                debug!(id = %ack_id, "P360 request NACKed for redelivery.");
                con.send(&Frame::new("NACK").header("id", &ack_id)).await?;
            }
        }
    }
}

/// Keeps a consumer running: reconnects after a lost connection.
pub async fn run_forever(app: App, cfg: StompConfig) {
    loop {
        if let Err(e) = run(app.clone(), cfg.clone(), std::future::pending()).await {
            warn!(error = %e, "The P360 STOMP consumer lost its broker; reconnecting.");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_escape_their_headers_and_size_their_bodies() {
        let f = Frame::new("SEND")
            .header("destination", "/queue/a")
            .header("P360Url", "rest/V2.0/list/Article/byCatalog?catalog=MASTER")
            .header("note", "a:b\nc")
            .body("<x/>");
        let wire = f.encode();
        let text = String::from_utf8_lossy(&wire);
        assert!(text.starts_with("SEND\ndestination:/queue/a\n"), "{text}");
        assert!(text.contains("note:a\\cb\\nc\n"), "{text}");
        assert!(text.contains("content-length:4\n\n<x/>\0"), "{text}");
        assert_eq!(unescape("a\\cb\\nc\\\\"), "a:b\nc\\");
    }
}
