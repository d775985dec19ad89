//! The adapter table and the glue every request goes through once: body cap, authentication,
//! parse → engine → render, tracing. Callable without a socket ([`App::call`]) so tests can
//! drive it in-process (s3s `service.rs`, axum `testing`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bpm_compat_model::{Adapter, AuthScheme, CoreError, RequestCtx, Timestamp};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use tracing::{debug, debug_span, error, field, Instrument};

use super::auth::Users;
use crate::engine::Engine;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An adapter with its `Op` type erased, so dialects of different types share one table.
trait Dialect: Send + Sync {
    fn name(&self) -> &'static str;
    fn auth_scheme(&self) -> AuthScheme;
    fn handle<'a>(
        &'a self,
        req: Request<Bytes>,
        ctx: RequestCtx,
        engine: &'a Engine,
    ) -> BoxFuture<'a, Response<Bytes>>;
    fn error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes>;
}

impl<A: Adapter> Dialect for A {
    fn name(&self) -> &'static str {
        Adapter::name(self)
    }

    fn auth_scheme(&self) -> AuthScheme {
        Adapter::auth_scheme(self)
    }

    fn handle<'a>(
        &'a self,
        req: Request<Bytes>,
        ctx: RequestCtx,
        engine: &'a Engine,
    ) -> BoxFuture<'a, Response<Bytes>> {
        Box::pin(async move {
            let span = tracing::Span::current();
            let (op, command) = match self.parse(&req, &ctx) {
                Ok(parsed) => parsed,
                Err(err) => {
                    debug!(error = %err, "Request rejected by the dialect.");
                    return self.parse_error(err, &req, &ctx);
                }
            };
            span.record("op", self.op_name(&op));
            span.record("command", command.name());
            if let Some(id) = command.instance_id() {
                span.record("instance_id", id.0);
            }
            let result = engine.apply(command, &ctx).await;
            if let Err(err) = &result {
                log_error(err);
            }
            self.render(op, result, &ctx)
        })
    }

    fn error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes> {
        self.render_error(err, ctx)
    }
}

/// Each error is logged once, here: server-side failures for an operator, the rest at debug.
fn log_error(err: &CoreError) {
    match err {
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => error!(error = %err, "Command failed."),
        _ => debug!(error = %err, "Command refused."),
    }
}

/// A dialect and the path prefix it is mounted at (e.g. `/flowable-rest/service`).
pub struct Mount {
    prefix: String,
    dialect: Box<dyn Dialect>,
}

impl Mount {
    pub fn new<A: Adapter>(prefix: &str, adapter: A) -> Mount {
        let prefix = format!("/{}", prefix.trim_matches('/'));
        Mount {
            prefix,
            dialect: Box::new(adapter),
        }
    }

    /// The path below this mount, when the request is for it.
    fn below<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.prefix.as_str())?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('/')
        }
    }
}

#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

/// See [`App::downgrade`].
#[derive(Clone)]
pub struct WeakApp(std::sync::Weak<Inner>);

impl WeakApp {
    pub fn upgrade(&self) -> Option<App> {
        self.0.upgrade().map(|inner| App { inner })
    }
}

struct Inner {
    engine: Engine,
    mounts: Vec<Mount>,
    /// `None` switches authentication off.
    users: Option<Users>,
    max_body: usize,
    next_request_id: AtomicU64,
}

impl App {
    pub fn new(engine: Engine, mounts: Vec<Mount>, users: Option<Users>, max_body: usize) -> App {
        App {
            inner: Arc::new(Inner {
                engine,
                mounts,
                users,
                max_body,
                next_request_id: AtomicU64::new(1),
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// A handle that does not keep the app alive: for background workers that should stop
    /// with it.
    pub fn downgrade(&self) -> WeakApp {
        WeakApp(Arc::downgrade(&self.inner))
    }

    /// Serves a request from a connection: reads the body up to the cap, then [`App::call`].
    pub async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let limit = self.inner.max_body;
        let declared_too_large = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > limit as u64);
        let body = if declared_too_large {
            Err(())
        } else {
            match Limited::new(body, limit).collect().await {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(_) => Err(()),
            }
        };
        let response = match body {
            Ok(bytes) => self.call(Request::from_parts(parts, bytes)).await,
            Err(()) => {
                // Too large (or the client broke off): answer without reading the rest.
                let req = Request::from_parts(parts, Bytes::new());
                self.reject(req, CoreError::TooLarge { limit }).await
            }
        };
        response.map(Full::new)
    }

    async fn reject(&self, req: Request<Bytes>, err: CoreError) -> Response<Bytes> {
        match self.route(&req) {
            Some((mount, ctx)) => mount.dialect.error(err, &ctx),
            None => not_mounted(),
        }
    }

    fn route(&self, req: &Request<Bytes>) -> Option<(&Mount, RequestCtx)> {
        let path = req.uri().path();
        let mount = self.inner.mounts.iter().find(|m| m.below(path).is_some())?;
        let below = mount.below(path).unwrap_or_default().to_owned();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        let scheme = req.uri().scheme_str().unwrap_or("http");
        let ctx = RequestCtx {
            now: now(),
            request_id: self.inner.next_request_id.fetch_add(1, Ordering::Relaxed),
            base_url: [scheme, "://", host, &mount.prefix].concat(),
            path: below,
            user: None,
        };
        Some((mount, ctx))
    }

    /// Answers one request whose body has been read.
    pub async fn call(&self, req: Request<Bytes>) -> Response<Bytes> {
        let Some((mount, mut ctx)) = self.route(&req) else {
            return not_mounted();
        };
        let span = debug_span!(
            "request",
            vendor = mount.dialect.name(),
            method = %req.method(),
            path = %req.uri().path(),
            request_id = ctx.request_id,
            op = field::Empty,
            command = field::Empty,
            instance_id = field::Empty,
            status = field::Empty,
        );
        let started = Instant::now();
        async {
            if let Some(users) = &self.inner.users {
                let user = match mount.dialect.auth_scheme() {
                    AuthScheme::Basic => {
                        let header = req
                            .headers()
                            .get(header::AUTHORIZATION)
                            .and_then(|h| h.to_str().ok());
                        Ok(users.basic(header))
                    }
                    AuthScheme::AccessToken(name) => {
                        match req.headers().get(name).and_then(|h| h.to_str().ok()) {
                            Some(token) => self.inner.engine.token_user(token, ctx.now).await,
                            None => Ok(None),
                        }
                    }
                    AuthScheme::None => Ok(Some(String::new())),
                };
                match user {
                    Ok(Some(user)) if user.is_empty() => {}
                    Ok(Some(user)) => ctx.user = Some(user),
                    Ok(None) => {
                        debug!("Missing or wrong credentials.");
                        return mount.dialect.error(CoreError::Unauthorized, &ctx);
                    }
                    Err(err) => return mount.dialect.error(err, &ctx),
                }
            }
            let response = mount.dialect.handle(req, ctx, &self.inner.engine).await;
            let span = tracing::Span::current();
            span.record("status", response.status().as_u16());
            debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                "Request answered."
            );
            response
        }
        .instrument(span)
        .await
    }
}

/// The wall clock, as the engine and the dialects see it.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Timestamp(ms)
}

/// No dialect claims the path: a plain 404 that says which paths exist.
fn not_mounted() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(
        b"No BPM dialect is mounted at this path. Flowable REST lives under /flowable-rest/service/, Astro Zero under /u-route/baas/bp/v2.0/.\n",
    ));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
