//! The Flowable REST dialect: process instances, tasks, the repository (deployments and
//! process definitions) and history as Flowable 7.x / 8.0 serve them, mounted by the server
//! at `/flowable-rest/service/`. `docs/FLOWABLE.md` lists every endpoint and its status.
//!
//! Pure translation, sans-I/O: [`Flowable::parse`](bpm_compat_model::Adapter::parse) turns a
//! request into one neutral [`Command`](bpm_compat_model::Command), and
//! [`Flowable::render`](bpm_compat_model::Adapter::render) turns the engine's `Outcome` or
//! `CoreError` into Flowable's exact response. No I/O, no async, no clock.
//!
//! References: the user guide, section "REST API" / "Process Instances"
//! (<https://www.flowable.com/open-source/docs/bpmn/ch14-REST>), the Swagger spec
//! `flowable-swagger-process.yaml` (older than the code), and the code of
//! `flowable/flowable-engine` (`modules/flowable-rest`, `modules/flowable-common-rest`), which
//! wins where they differ.
//!
//! # Layout
//! - `routes`: the route table, (method, path segments) → [`Op`].
//! - `parse`: request → `Command`, with Flowable's validation messages.
//! - `render`: `Outcome` → response (status, JSON, URLs).
//! - `errors`: `CoreError` → `{"message", "exception"}`, exhaustively.
//! - `wire`: serde types named after Flowable's DTOs.
//! - `ids`: instance id ⇄ Flowable id (decimal text).
//! - `variables`: REST variable converters and type inference.
//! - `multipart`: a small `multipart/form-data` reader for binary variables.
//! - `diagram`: the PNG of an instance's diagram.
//! - `tasks`: `runtime/tasks` and `history/*`: their queries, bodies and responses.
//! - `repository`: `repository/deployments` and `repository/process-definitions`.
//!
//! # Operations
//! | Method & path (below the mount) | Op | Success |
//! |---|---|---|
//! | `GET runtime/process-instances` | [`Op::ListInstances`] | 200 |
//! | `POST runtime/process-instances` | [`Op::StartInstance`] | 201 |
//! | `POST runtime/process-instances/delete` | [`Op::DeleteInstances`] | 204 |
//! | `POST query/process-instances` | [`Op::QueryInstances`] | 200 |
//! | `GET runtime/process-instances/{id}` | [`Op::GetInstance`] | 200 |
//! | `PUT runtime/process-instances/{id}` | [`Op::UpdateInstance`] | 200 |
//! | `DELETE runtime/process-instances/{id}` | [`Op::DeleteInstance`] | 204 |
//! | `GET …/{id}/diagram` | [`Op::GetDiagram`] | 200 `image/png` |
//! | `GET …/{id}/identitylinks` | [`Op::ListIdentityLinks`] | 200 |
//! | `POST …/{id}/identitylinks` | [`Op::AddIdentityLink`] | 201 |
//! | `GET …/{id}/identitylinks/{users\|groups}/{identityId}/{type}` | [`Op::GetIdentityLink`] | 200 |
//! | `DELETE …/{id}/identitylinks/{users\|groups}/{identityId}/{type}` | [`Op::DeleteIdentityLink`] | 204 |
//! | `GET …/{id}/variables` | [`Op::ListVariables`] | 200 |
//! | `POST …/{id}/variables` (JSON or multipart) | [`Op::CreateVariables`] | 201 |
//! | `PUT …/{id}/variables` (JSON or multipart) | [`Op::UpsertVariables`] | 201 |
//! | `DELETE …/{id}/variables` | [`Op::DeleteVariables`] | 204 |
//! | `GET …/{id}/variables/{name}` | [`Op::GetVariable`] | 200 |
//! | `PUT …/{id}/variables/{name}` (JSON or multipart) | [`Op::UpdateVariable`] | 200 |
//! | `DELETE …/{id}/variables/{name}` | [`Op::DeleteVariable`] | 204 |
//! | `GET …/{id}/variables/{name}/data` | [`Op::GetVariableData`] | 200 bytes |
//!
//! Tasks, history and the repository: see [`Op`] (one variant per endpoint) and
//! `docs/FLOWABLE.md`. Not served (404 like any unknown path): `variables-async`,
//! `change-state`, `migrate`, `validate-migration`, `inject`, `evaluate-conditions`,
//! executions, jobs, forms, comments and attachments.
//!
//! # Deliberate differences from Flowable
//! - Non-numeric `start`, `size` (and GET `processDefinitionVersion`) are a 400 "Value for
//!   param 'start' is not a valid number: 'x'"; Flowable lets the NumberFormatException become
//!   a 500.
//! - Unknown paths are a 404 and a wrong method on a known path a 405 (with `Allow`), both with
//!   Flowable's `{message, exception}` body; Flowable's catch-all may answer these with 500s.
//! - A request body without `Content-Type` is read as JSON (Spring would answer 415); any
//!   other non-JSON media type is a 415 "Content is not supported".
//! - Malformed JSON and wrong JSON types are a 400 "JSON parse error: …" (serde's wording, no
//!   internals); numbers are not coerced into strings as Jackson would.
//! - A body above the server's limit (`CoreError::TooLarge`) is a 400 "Bad request".
//! - 500s (store unavailable, internal errors) say only "Error with ID: <request id>", as
//!   Flowable does with `sendFullErrorException=false`.
//! - Variables: a JSON object/array without `type` is stored as `json` (Flowable stores a Java
//!   `Map`/`List` as `serializable`, unreadable to non-Java clients); malformed `bigDecimal`,
//!   `bigInteger`, `uuid` values are a 400 (Flowable: 500); dates and instants render with
//!   three fraction digits and `Z` (Flowable 8 omits a zero fraction; every version parses
//!   ours); `localDateTime` keeps the text the client sent.
//! - `PUT …/variables/{name}` without `name` in the body is a 400 "Variable name is required"
//!   (Flowable: 500); `GET …/variables/{name}?scope=local` of a missing variable is a 404
//!   (Flowable: 200 with a null value); `?scope=global` on single variables is always a 404.
//! - Multipart POST of an existing variable is a 409 like the JSON POST (Flowable: 500).
//! - `claim` without `assignee` claims for the authenticated user (400 when there is none).
//! - Query filters that cannot hold here answer nothing (`impossible`): sub/super process,
//!   parent scope, callback, parent case, deployment and engine-version filters (no call
//!   activities, callbacks or deployments exist). `excludeSubprocesses` is a no-op; `rootScopeId`
//!   selects the instance itself. Two patterns on one text field (`nameLike` and
//!   `nameLikeIgnoreCase`) keep the first; `equals` with a pattern is exact.
//! - `startFormVariables` are start variables (no form validation); `outcome` and
//!   `overrideDefinitionTenantId` are ignored.
//! - `returnVariables` does not change the start response: it always shows the instance's
//!   variables after the start (the variables passed in, as Flowable shows them).

pub mod comments;
pub mod diagram;
pub mod errors;
pub mod executions;
pub mod ids;
pub mod multipart;
pub mod parse;
pub mod render;
pub mod repository;
pub mod routes;
pub mod tasks;
pub mod variables;
pub mod wire;

use bpm_compat_model::{Adapter, Command, CoreError, Outcome, RequestCtx};
use bytes::Bytes;
use http::{Request, Response};

pub use routes::Op;

/// The Flowable REST dialect. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct Flowable;

impl Adapter for Flowable {
    type Op = Op;

    fn name(&self) -> &'static str {
        "flowable"
    }

    fn op_name(&self, op: &Op) -> &'static str {
        op.name()
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
        let op = routes::route(req.method(), &ctx.path)?;
        parse::parse(op, req, ctx)
    }

    fn render(&self, op: Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes> {
        render::render(op, result, ctx)
    }

    fn render_error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes> {
        render::render_error(err, ctx)
    }
}
