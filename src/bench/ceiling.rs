//! The HTTP ceiling: the least a hyper 1 server can do per request (answer a fixed body), run
//! in its own process like the real server, so a scenario's ratio to it says how much of the
//! machine's HTTP capacity the server's own work leaves.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::BenchError;

/// The hidden subcommand the benchmark runs the current executable with.
pub const CEILING_SUBCOMMAND: &str = "bench-ceiling";

const BODY: &[u8] = br#"{"ok":true}"#;

/// `bpm-compat bench-ceiling`: the reference server the benchmark spawns (hidden).
#[derive(Debug, Clone, clap::Args)]
pub struct CeilingArgs {
    /// Address to listen on; the bound address is printed on stdout as one line.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Exit when stdin closes, so the server dies with the benchmark that spawned it.
    #[arg(long)]
    pub exit_on_stdin_eof: bool,
}

/// Answers every request on `listener` with `200 {"ok":true}` over HTTP/1.1 keep-alive, until
/// the task is dropped.
pub async fn serve_ceiling(listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "Ceiling accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_request: Request<Incoming>| async {
                let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Ok::<_, Infallible>(response)
            });
            // A client closing its connection is the normal end, not worth reporting.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Runs the ceiling server for `bpm-compat bench-ceiling`.
pub async fn run_ceiling(args: CeilingArgs) -> Result<(), BenchError> {
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(BenchError::Ceiling)?;
    let addr = listener.local_addr().map_err(BenchError::Ceiling)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{addr}")
        .and_then(|()| stdout.flush())
        .map_err(BenchError::Ceiling)?;
    drop(stdout);
    if args.exit_on_stdin_eof {
        // A plain thread: a blocking read of stdin has no business on the runtime.
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    serve_ceiling(listener).await;
    Ok(())
}

/// A ceiling server in a child process; killed when dropped.
#[derive(Debug)]
pub struct CeilingProcess {
    child: Child,
    /// Held open so the child can tell when the benchmark has gone (`--exit-on-stdin-eof`).
    _stdin: Option<ChildStdin>,
    pub addr: SocketAddr,
}

impl CeilingProcess {
    /// Starts `<current executable> bench-ceiling` and reads the address it bound. Blocking: call
    /// it from `spawn_blocking`.
    pub fn spawn() -> Result<Self, BenchError> {
        let exe = std::env::current_exe().map_err(BenchError::Ceiling)?;
        let mut child = Command::new(exe)
            .args([
                CEILING_SUBCOMMAND,
                "--listen",
                "127.0.0.1:0",
                "--exit-on-stdin-eof",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(BenchError::Ceiling)?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let read = match child.stdout.take() {
            Some(stdout) => BufReader::new(stdout).read_line(&mut line),
            None => Ok(0),
        };
        let mut process = Self {
            child,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        // On every error below, dropping `process` kills the child.
        read.map_err(BenchError::Ceiling)?;
        process.addr = line.trim().parse().map_err(|_| {
            BenchError::Ceiling(std::io::Error::other(format!(
                "`{CEILING_SUBCOMMAND}` printed {line:?} instead of its address"
            )))
        })?;
        Ok(process)
    }

    /// The child's process id (its CPU time is the ceiling server's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for CeilingProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
