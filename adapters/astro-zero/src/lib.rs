//! The Huawei Cloud Astro Zero BPM runtime dialect (`/u-route/baas/bp/v2.0/`), from the start
//! API page (seed 004) and Huawei's public "API Reference → BPM" pages (astrozero_api_0069
//! start, 0070 list (its example shows flat list items with `createdBy.__objectType`-style
//! keys), 0071–0073 instance operations, 0082 data-plane error codes); the sources are
//! listed in `fixtures/astro-zero/README.md`.
//!
//! Pure translation, sans-I/O, like every adapter: [`AstroZero::parse`](bpm_compat_model::Adapter::parse)
//! turns a request into one neutral command, [`AstroZero::render`](bpm_compat_model::Adapter::render)
//! wraps the engine's answer in Astro Zero's envelope `{"resCode","resMsg","result"}`.
//!
//! # Operations
//! | Method & path (below the mount) | Op | `result` |
//! |---|---|---|
//! | `POST runtime/instances` `{name, version?, variables?}` | [`OpKind::Start`] | the instance |
//! | `GET runtime/instances?states=…[&fields&orderField&orderType]` | [`OpKind::List`] | list items |
//! | `PUT runtime/instances/{id}` `{action: suspend\|resume\|terminate}` | [`OpKind::Action`] | the instance |
//! | `DELETE runtime/instances/{id}` | [`OpKind::Delete`] | none |
//! | `PUT runtime/instances/{id}/variables` `{name: value, …}` | [`OpKind::SetVariables`] | none |
//! | `GET metadata/definitions[?name&like&active&skip&limit]` | [`OpKind::ListDefinitions`] | BPM records |
//! | `GET metadata/definitions/{id}` | [`OpKind::GetDefinition`] | the BPM design ([`metadata`]) |
//! | `POST metadata/definitions` (a design) | [`OpKind::SaveDefinition`] | the new BPM's id |
//! | `PUT metadata/definitions/{id}` (a design) | [`OpKind::SaveDefinition`] | the id of the new version |
//! | `DELETE metadata/definitions/{id}` | [`OpKind::DeleteDefinition`] | `"1"` |
//!
//! # Authentication
//! A token from `POST /baas/auth/v1.0/oauth2/token` ([`auth::AstroZeroAuth`], mounted apart)
//! in the `access-token` header; without one, or with an unknown or expired one, a 401 with
//! resCode `405230401`. Switched off with the server's `--no-auth`.
//!
//! # BP metadata
//! A BPM record is a core definition: `name` its key, `label` its name, `version` its version
//! label. Definitions are immutable in the core, so an update (`PUT`) deploys a new version
//! of the BPM under a new id (the old id keeps naming the old version, which instances
//! started on it keep running); the answer's `result` is the new id. A delete removes the
//! definition's deployment. Ids: see [`ids`].
//!
//! # Mapping
//! - `name` is the definition key (or an `astro-zero` alias of the definition); `version` its
//!   version label (`versionLabel` in the declarative format, e.g. `1.0.1`) or number.
//! - `$Flow.BusinessKey` and `$Flow.Title` set the business key and the instance name (title);
//!   every other variable is stored with its JSON type (text, integer, double, boolean, JSON).
//!   `businessKey` shows the instance id when none was set, as Astro Zero does.
//! - A start answers the instance `Dispatched` with `bpStatus` `New`, as the seed shows (Astro
//!   Zero runs a started instance asynchronously); later reads show where it is.
//! - `state` (Astro Zero's state strings): an active instance waiting at a user task is
//!   `Waiting for user interaction`, otherwise `Running`; `Suspended`; `Completed OK`;
//!   `Terminated`; `Broken` (failed). `bpStatus` is the instance's business status, else the
//!   state. Times are `YYYY-MM-DD HH:MM:SS` in UTC; `endTime` is `""` while running.

pub mod auth;
pub mod errors;
pub mod ids;
pub mod metadata;
pub mod parse;
pub mod render;

use bpm_compat_model::{Adapter, AuthScheme, Command, CoreError, Outcome, RequestCtx};
use bytes::Bytes;
use http::{Request, Response};

/// One Astro Zero operation and the request's locale: what render needs besides the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    /// `resMsg` in Chinese (`Accept-Language: zh…` or `locale=zh_CN`).
    pub chinese: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    Start,
    /// The states asked for (Astro Zero strings), the fields to show (all when `None`).
    List {
        states: Vec<String>,
        fields: Option<Vec<String>>,
    },
    Action,
    Delete,
    SetVariables,
    /// `GET metadata/definitions`.
    ListDefinitions,
    /// `GET metadata/definitions/{id}` (a list narrowed to the one definition).
    GetDefinition,
    /// `POST metadata/definitions`, and `PUT metadata/definitions/{id}` (a new version).
    SaveDefinition,
    DeleteDefinition,
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self.kind {
            OpKind::Start => "start_instance",
            OpKind::List { .. } => "list_instances",
            OpKind::Action => "instance_action",
            OpKind::Delete => "delete_instance",
            OpKind::SetVariables => "set_variables",
            OpKind::ListDefinitions => "list_definitions",
            OpKind::GetDefinition => "get_definition",
            OpKind::SaveDefinition => "save_definition",
            OpKind::DeleteDefinition => "delete_definition",
        }
    }
}

/// The Astro Zero dialect. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct AstroZero;

impl Adapter for AstroZero {
    type Op = Op;

    fn name(&self) -> &'static str {
        "astro-zero"
    }

    /// Tokens from `POST /baas/auth/v1.0/oauth2/token` (see [`auth`]), in `access-token`.
    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::AccessToken("access-token")
    }

    fn op_name(&self, op: &Op) -> &'static str {
        op.name()
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
        parse::parse(req, ctx)
    }

    fn render(&self, op: Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes> {
        render::render(op, result, ctx)
    }

    fn render_error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes> {
        errors::error_response(&err, ctx)
    }
}
