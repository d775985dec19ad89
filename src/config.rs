//! Settings of `bpm-compat serve`: every flag also reads `BPM_COMPAT_<FLAG>` from the
//! environment (DESIGN.md, Command line).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::definitions::{self, DefinitionError};
use crate::engine::Engine;
use crate::server::{App, Mount, Users};
use crate::store::{MemoryStore, RedisStore, Store, StoreError};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "BPM_COMPAT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// `memory` (embedded, the default) or a Redis URL such as `redis://127.0.0.1:6379`.
    #[arg(long, env = "BPM_COMPAT_STORE", default_value = "memory")]
    pub store: String,

    /// Prefix of every Redis key (isolates several servers or tests on one Redis).
    #[arg(long, env = "BPM_COMPAT_REDIS_PREFIX", default_value = "bpm:")]
    pub redis_prefix: String,

    /// Multiplexed connections to Redis (default: one per two cores). Fewer batch more
    /// requests into each read and write; more spread reply parsing over more cores.
    #[arg(long, env = "BPM_COMPAT_REDIS_CONNECTIONS")]
    pub redis_connections: Option<usize>,

    /// Directory of process definitions (`*.bpmn`, `*.bpmn20.xml`, `*.process.json`;
    /// sub-directories are tenants).
    #[arg(long, env = "BPM_COMPAT_DEFINITIONS", default_value = "fixtures/definitions")]
    pub definitions: PathBuf,

    /// Switch authentication off, for clients that send no credentials.
    #[arg(long, env = "BPM_COMPAT_NO_AUTH")]
    pub no_auth: bool,

    /// The user directory, `user:password[,user:password...]`.
    #[arg(
        long,
        env = "BPM_COMPAT_USERS",
        default_value = "rest-admin:test",
        hide_env_values = true
    )]
    pub users: String,

    /// Where the Flowable REST API is mounted (Flowable's default context and servlet path).
    #[arg(
        long,
        env = "BPM_COMPAT_FLOWABLE_MOUNT",
        default_value = "/flowable-rest/service"
    )]
    pub flowable_mount: String,

    /// Where the Astro Zero BPM runtime API is mounted (its documented path).
    #[arg(
        long,
        env = "BPM_COMPAT_ASTRO_ZERO_MOUNT",
        default_value = "/u-route/baas/bp/v2.0"
    )]
    pub astro_zero_mount: String,

    /// Where Astro Zero's token endpoint (`…/oauth2/token`) is mounted.
    #[arg(
        long,
        env = "BPM_COMPAT_ASTRO_ZERO_AUTH_MOUNT",
        default_value = "/baas/auth/v1.0"
    )]
    pub astro_zero_auth_mount: String,

    /// Where IBM BPM's `wle/v1` REST API is mounted (its documented path).
    #[arg(long, env = "BPM_COMPAT_IBM_BPM_MOUNT", default_value = "/rest/bpm/wle/v1")]
    pub ibm_bpm_mount: String,

    /// Where Informatica P360's REST API is mounted (`rest/V2.0/…`, `rest/V1.0/…` below it).
    #[arg(long, env = "BPM_COMPAT_P360_MOUNT", default_value = "/rest")]
    pub p360_mount: String,

    /// Consume P360 Service API Queue requests from Redis Streams at this URL
    /// (`<redis-prefix>p360:requests`; see `p360_stream`); off when not given.
    #[arg(long, env = "BPM_COMPAT_P360_STREAM")]
    pub p360_stream: Option<String>,

    /// Consume P360 Service API Queue requests from ActiveMQ over STOMP at this `host:port`
    /// (see `p360_stomp`); off when not given.
    #[arg(long, env = "BPM_COMPAT_P360_STOMP")]
    pub p360_stomp: Option<String>,

    /// The ActiveMQ queue P360 requests arrive on.
    #[arg(long, env = "BPM_COMPAT_P360_QUEUE", default_value = "P360_SERVICE_API")]
    pub p360_queue: String,

    /// The ActiveMQ queue P360 replies go to when a request names no `reply-to`.
    #[arg(
        long,
        env = "BPM_COMPAT_P360_REPLY_QUEUE",
        default_value = "P360_SERVICE_API_REPLY"
    )]
    pub p360_reply_queue: String,

    /// The BPM's REST base URL: a scheduled P360 job called with
    /// `workflowCommunicationMode=REST` POSTs its final message to
    /// `<url>/<workflowServiceEndpoint>`; no REST callbacks when not given.
    #[arg(long, env = "BPM_COMPAT_P360_BPM_URL")]
    pub p360_bpm_url: Option<String>,

    /// Do not run P360's scheduled jobs on this node (another node's worker runs them; they
    /// are shared state in the store).
    #[arg(long, env = "BPM_COMPAT_NO_P360_JOBS")]
    pub no_p360_jobs: bool,

    /// Where Integration Server's invoke directive is mounted (webMethods'
    /// `/invoke/<folder>/<service>`).
    #[arg(long, env = "BPM_COMPAT_WEBMETHODS_MOUNT", default_value = "/invoke")]
    pub webmethods_mount: String,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BPM_COMPAT_MAX_BODY", default_value_t = 10 * 1024 * 1024)]
    pub max_body: usize,

    /// Seconds open connections get to finish after SIGINT/SIGTERM.
    #[arg(long, env = "BPM_COMPAT_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
}

impl ServeConfig {
    /// The settings `serve` would take with no flags (environment variables still apply).
    pub fn parse_default() -> ServeConfig {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: ServeConfig,
        }
        <Only as clap::Parser>::parse_from(["bpm-compat"]).config
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: "memory".into(),
            redis_prefix: "bpm:".into(),
            redis_connections: None,
            definitions: PathBuf::from("fixtures/definitions"),
            no_auth: false,
            users: "rest-admin:test".into(),
            flowable_mount: "/flowable-rest/service".into(),
            astro_zero_mount: "/u-route/baas/bp/v2.0".into(),
            astro_zero_auth_mount: "/baas/auth/v1.0".into(),
            webmethods_mount: "/invoke".into(),
            ibm_bpm_mount: "/rest/bpm/wle/v1".into(),
            p360_mount: "/rest".into(),
            p360_stream: None,
            p360_stomp: None,
            p360_queue: "P360_SERVICE_API".into(),
            p360_reply_queue: "P360_SERVICE_API_REPLY".into(),
            p360_bpm_url: None,
            no_p360_jobs: false,
            max_body: 10 * 1024 * 1024,
            shutdown_grace: 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Definitions(#[from] DefinitionError),
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot deploy the definitions directory: {0}")]
    Deploy(#[from] bpm_compat_model::CoreError),
    #[error("store must be `memory` or a redis:// URL, not '{0}'")]
    StoreKind(String),
    #[error("bad --users: {0}")]
    Users(String),
}

impl ServeConfig {
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }

    pub async fn open_store(&self) -> Result<Arc<dyn Store>, StartError> {
        if self.store == "memory" {
            Ok(Arc::new(MemoryStore::new()))
        } else if self.store.starts_with("redis://") || self.store.starts_with("rediss://") {
            Ok(Arc::new(
                RedisStore::connect_with(
                    &self.store,
                    &self.redis_prefix,
                    self.redis_connections
                        .unwrap_or_else(crate::store::redis::default_connections),
                )
                .await?,
            ))
        } else {
            Err(StartError::StoreKind(self.store.clone()))
        }
    }

    /// The Redis Streams binding of P360's queue, when configured: as the directory's first
    /// user, consumer named by host and process.
    pub fn p360_stream(&self) -> Option<crate::p360_stream::StreamConfig> {
        let url = self.p360_stream.clone()?;
        Some(crate::p360_stream::StreamConfig {
            redis_url: url,
            prefix: self.redis_prefix.clone(),
            consumer: format!("node-{}", std::process::id()),
            max_deliveries: 5,
            claim_idle: std::time::Duration::from_secs(30),
            user: self.queue_user(),
        })
    }

    /// The ActiveMQ (STOMP) binding of P360's queue, when configured.
    pub fn p360_stomp(&self) -> Option<crate::p360_stomp::StompConfig> {
        let address = self.p360_stomp.clone()?;
        Some(crate::p360_stomp::StompConfig {
            address,
            login: None,
            queue: self.p360_queue.clone(),
            reply_queue: self.p360_reply_queue.clone(),
            user: self.queue_user(),
        })
    }

    /// The worker that runs P360's scheduled jobs, sending their final messages over this
    /// node's queue bindings.
    pub fn p360_jobs(&self) -> crate::p360_jobs::JobsConfig {
        crate::p360_jobs::JobsConfig {
            poll: std::time::Duration::from_millis(100),
            lease: std::time::Duration::from_secs(30),
            outbox: crate::p360_queue::Outbox {
                stomp: self.p360_stomp(),
                stream: self.p360_stream(),
                bpm_url: self.p360_bpm_url.clone(),
            },
        }
    }

    /// The user queue requests act as: the directory's first, unless authentication is off.
    fn queue_user(&self) -> Option<(String, String)> {
        if self.no_auth {
            return None;
        }
        self.users
            .split(',')
            .next()
            .and_then(|u| u.split_once(':'))
            .map(|(u, p)| (u.trim().to_owned(), p.trim().to_owned()))
    }

    /// Loads definitions, opens the store, mounts every dialect and starts the P360 job
    /// worker.
    pub async fn build_app(&self) -> Result<App, StartError> {
        let files = definitions::load_dir(&self.definitions)?;
        let store = self.open_store().await?;
        let users = if self.no_auth {
            None
        } else {
            Some(Users::parse(&self.users).map_err(StartError::Users)?)
        };
        let engine = Engine::new(store).with_users(users.clone());
        engine.deploy_files(files, crate::server::now()).await?;
        let mounts = vec![
            Mount::new(&self.flowable_mount, bpm_compat_flowable::Flowable),
            Mount::new(&self.astro_zero_mount, bpm_compat_astro_zero::AstroZero),
            Mount::new(
                &self.astro_zero_auth_mount,
                bpm_compat_astro_zero::auth::AstroZeroAuth,
            ),
            Mount::new(&self.webmethods_mount, bpm_compat_webmethods::WebMethods),
            Mount::new(&self.ibm_bpm_mount, bpm_compat_ibm_bpm::IbmBpm),
            // After IBM BPM: mounts are tried in order, and `/rest` is a prefix of IBM's.
            Mount::new(&self.p360_mount, bpm_compat_p360::P360),
        ];
        let app = App::new(engine, mounts, users, self.max_body);
        // P360's scheduled jobs run beside the app, and stop with it.
        if !self.no_p360_jobs {
            tokio::spawn(crate::p360_jobs::run(app.downgrade(), self.p360_jobs()));
        }
        Ok(app)
    }
}
