//! The Informatica Product 360 Service API dialect (seed 002; fixtures/p360/README.md), HTTP
//! binding: the `rest/V2.0/…` (and `rest/V1.0/…`) paths the Service API Queue addresses with its
//! `P360Url` header. XML by default, JSON with `Content-Type`/`Accept: application/json`.
//!
//! # Served
//! | Method & path (below `/rest/`) | Command | Answer |
//! |---|---|---|
//! | `POST V2.0/manage/workflow` (`<workflow>`, `<workflows>` of them, or JSON) | one deployment of every valid workflow | `resultSummary` |
//! | `DELETE V2.0/manage/workflow/process?processId=…` | ends the instance | no body (204) |
//! | `POST V2.0/list/{entity}` (`entityItemTable`) | writes the items | `writeProtocol` |
//! | `GET V2.0/list/{entity}/byCatalog?catalog=…[&startIndex&pageSize&fields]` | a page of items | `entityItemTable` |
//! | `POST V2.0/manage/workflow/status/enter` / `…/leave` (`enterWorkflowStatus`) | moves the item | `statusModificationInfoEnter` / `…Leave` |
//! | `POST V2.0/manage/task` (`taskCreationProfile`) | starts `p360Task` (one user task named and assigned by the request) | `entityItemReference` with the task id |
//! | `POST V2.0/manage/merge`, `…/export`, `…/import`, `…/dataquality/executions`, `…/revision` | starts `p360Job` (see [`jobs`]) | 202, the job object |
//!
//! # Mapping
//! A workflow is a core definition: key = `identifier`, name = `label`, version label =
//! `version`; each status is a user task (id and name = the status, candidate group = the
//! workflow task's `userGroup`), in document order between a start and an end event. A
//! workflow whose key is new counts as created, one that adds a version as updated; one that
//! cannot be read (no identifier, no or unnamed statuses) as failed, and the others are stored
//! all the same. `processId` is the core instance id (P360's process ids are the BPM's).
//!
//! Errors: `<errorObject><errorMessage>…</errorMessage></errorObject>` (JSON:
//! `{"errorObject":{"errorMessage":…}}`) with the status codes of the seed: 400, 401, 404, 500.
//!
//! Items are state in the store (`<item>@<catalog>` ids, `MASTER` is catalog 1). Entering a
//! status needs the item, the workflow and the status (a user task of it); leaving needs the
//! item to be in that status; the flags of the answer say which check failed. An entered
//! status shows on the process (`processId`) as its business status.
//!
//! The queue's message properties and replies: [`queue`]; the scheduled jobs: [`jobs`].

use bpm_compat_model::{
    Adapter, AuthScheme, Command, CoreError, DeleteInstance, Deploy, InstanceId, Outcome, RequestCtx,
    Resource,
};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub mod items;
pub mod jobs;
pub mod queue;

/// A row of a list write as answered: its number, the item, and why it was refused (if so).
#[derive(Debug, Clone, PartialEq)]
pub struct RowMeta {
    pub row: usize,
    pub id: String,
    pub label: Option<String>,
    pub entity_id: Option<String>,
    pub refused: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// `manage/workflow`: how many workflows could not be read.
    ManageWorkflow {
        failed: u32,
    },
    EndProcess,
    /// `list/{entity}` (write).
    ListWrite(Vec<RowMeta>),
    /// `list/{entity}/byCatalog` (read): the entity, the columns asked for, the page size.
    ListRead {
        entity: String,
        columns: Vec<String>,
        page_size: usize,
    },
    /// `manage/workflow/status/enter` or `…/leave`.
    Status {
        enter: bool,
    },
    /// `manage/task`: the new task's id.
    CreateTask,
    /// A scheduled endpoint (`manage/merge`, …): the planned job.
    Schedule(jobs::JobKind),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub json: bool,
}

/// The P360 dialect. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct P360;

/// One workflow definition as P360 reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workflow {
    pub identifier: String,
    pub label: Option<String>,
    pub version: Option<String>,
    /// Status name and the user group of its workflow task.
    pub statuses: Vec<(String, Option<String>)>,
}

impl Workflow {
    fn valid(&self) -> bool {
        !self.identifier.trim().is_empty()
            && !self.statuses.is_empty()
            && self.statuses.iter().all(|(s, _)| !s.trim().is_empty())
    }

    /// The workflow in the core's declarative definition format.
    pub fn to_declarative(&self) -> Value {
        let mut steps = vec![json!({"id": "start", "type": "startEvent"})];
        for (status, group) in &self.statuses {
            let mut step = json!({"id": status, "type": "userTask", "name": status});
            if let Some(g) = group.as_ref().filter(|g| !g.is_empty()) {
                step["candidateGroups"] = json!([g]);
            }
            steps.push(step);
        }
        steps.push(json!({"id": "end", "type": "endEvent"}));
        let mut d = json!({"key": self.identifier, "steps": steps});
        if let Some(l) = self.label.as_ref().filter(|l| !l.is_empty()) {
            d["name"] = json!(l);
        }
        if let Some(v) = self.version.as_ref().filter(|v| !v.is_empty()) {
            d["versionLabel"] = json!(v);
        }
        d
    }
}

/// `<workflow>` documents (alone or in any wrapper).
pub fn workflows_from_xml(body: &[u8]) -> Result<Vec<Workflow>, String> {
    let mut out: Vec<Workflow> = Vec::new();
    for (path, text) in items::leaves(body, &["workflow", "status"])? {
        let mut up = path.rsplit('/');
        let (name, parent, grand) = (up.next(), up.next(), up.next());
        let start = text == items::START;
        let Some(w) = out.last_mut().filter(|_| !(start && name == Some("workflow"))) else {
            if start && name == Some("workflow") {
                out.push(Workflow::default());
            }
            continue;
        };
        match (grand, parent, name) {
            // A status of a workflow holds a status element: its name.
            (_, Some("workflow"), Some("status")) if start => w.statuses.push((String::new(), None)),
            (_, Some("workflow"), Some("identifier")) => w.identifier = text,
            (_, Some("workflow"), Some("label")) => w.label = Some(text),
            (_, Some("workflow"), Some("version")) => w.version = Some(text),
            (Some("workflow"), Some("status"), Some("status")) if !start => {
                if let Some(s) = w.statuses.last_mut() {
                    s.0 = text;
                }
            }
            (_, Some("workflowTask"), Some("userGroup")) => {
                if let Some(s) = w.statuses.last_mut() {
                    s.1 = Some(text);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The REST Workflow API's JSON model (a flattened task container, per P360's own JSON).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonWorkflow {
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    status: Vec<JsonStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonStatus {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    workflow_task: Option<JsonTask>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonTask {
    #[serde(default)]
    user_group: Option<String>,
}

pub fn workflows_from_json(body: &[u8]) -> Result<Vec<Workflow>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("The JSON document cannot be read: {e}"))?;
    let items = match value {
        Value::Array(a) => a,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|v| {
            let w: JsonWorkflow = serde_json::from_value(v).map_err(|e| format!("Not a workflow: {e}"))?;
            Ok(Workflow {
                identifier: w.identifier.unwrap_or_default(),
                label: w.label,
                version: w.version.as_ref().map(items::text),
                statuses: w
                    .status
                    .into_iter()
                    .map(|s| {
                        (
                            s.status.unwrap_or_default(),
                            s.workflow_task.and_then(|t| t.user_group),
                        )
                    })
                    .collect(),
            })
        })
        .collect()
}

fn media(req: &Request<Bytes>, name: header::HeaderName) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// JSON when the client sends or asks for it; XML otherwise.
fn wants_json(req: &Request<Bytes>) -> bool {
    let accept = media(req, header::ACCEPT);
    accept == "application/json"
        || ((accept.is_empty() || accept == "*/*") && media(req, header::CONTENT_TYPE) == "application/json")
}

impl Adapter for P360 {
    type Op = Op;

    fn name(&self) -> &'static str {
        "p360"
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Basic
    }

    fn op_name(&self, op: &Op) -> &'static str {
        match op.kind {
            OpKind::ManageWorkflow { .. } => "manage_workflow",
            OpKind::EndProcess => "end_process",
            OpKind::ListWrite(_) => "list_write",
            OpKind::ListRead { .. } => "list_read",
            OpKind::Status { enter: true } => "status_enter",
            OpKind::Status { enter: false } => "status_leave",
            OpKind::CreateTask => "create_task",
            OpKind::Schedule(_) => "schedule_job",
        }
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
        let json = wants_json(req);
        let path = ctx.path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let m = req.method();
        if let ["V2.0" | "V1.0", "manage", rest @ ..] = segments.as_slice() {
            if let Some(kind) = jobs::JobKind::from_path(rest).filter(|_| m == Method::POST) {
                return schedule(kind, req, ctx, json);
            }
        }
        match segments.as_slice() {
            ["V2.0" | "V1.0", "manage", "workflow"] if m == Method::POST => {
                let workflows = if json_body(req)? {
                    workflows_from_json(req.body())
                } else {
                    workflows_from_xml(req.body())
                }
                .map_err(CoreError::invalid)?;
                if workflows.is_empty() {
                    return Err(CoreError::invalid("The request holds no workflow"));
                }
                let failed = workflows.iter().filter(|w| !w.valid()).count() as u32;
                let mut resources = Vec::new();
                for w in workflows.iter().filter(|w| w.valid()) {
                    let bytes =
                        serde_json::to_vec_pretty(&w.to_declarative()).map_err(|e| CoreError::Internal {
                            message: format!("cannot write a definition: {e}"),
                        })?;
                    resources.push(Resource {
                        name: format!("{}.process.json", w.identifier),
                        bytes,
                    });
                }
                let op = Op {
                    kind: OpKind::ManageWorkflow { failed },
                    json,
                };
                if resources.is_empty() {
                    // Nothing to store: the summary counts the failures alone.
                    return Ok((
                        op,
                        Command::Refuse {
                            error: CoreError::invalid("No workflow of the request can be stored"),
                            instance: None,
                        },
                    ));
                }
                Ok((
                    op,
                    Command::Deploy(Deploy {
                        name: Some("P360 workflows".into()),
                        key: None,
                        category: None,
                        tenant_id: String::new(),
                        resources,
                        replaces: None,
                    }),
                ))
            }
            ["V2.0" | "V1.0", "manage", "workflow", "process"] if m == Method::DELETE => {
                let params = query(req);
                let Some(id) = params
                    .iter()
                    .find(|(k, _)| k == "processId")
                    .map(|(_, v)| v.clone())
                else {
                    return Err(CoreError::invalid("processId is required"));
                };
                let id: u64 = id
                    .parse()
                    .map_err(|_| CoreError::NotFound(bpm_compat_model::Missing::InstanceText(id.clone())))?;
                Ok((
                    Op {
                        kind: OpKind::EndProcess,
                        json,
                    },
                    Command::DeleteInstance(DeleteInstance {
                        id: InstanceId(id),
                        reason: Some("P360 workflow ended".into()),
                    }),
                ))
            }
            ["V2.0" | "V1.0", "manage", "workflow", "status", which @ ("enter" | "leave")]
                if m == Method::POST =>
            {
                let enter = *which == "enter";
                let fields = if media(req, header::CONTENT_TYPE) == "application/json" {
                    items::status_request_from_json(req.body())
                } else {
                    items::status_request_from_xml(req.body())
                }
                .map_err(CoreError::invalid)?;
                let field = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();
                let (Some(item), Some(workflow), Some(status)) =
                    (field("itemId"), field("workflowId"), field("status"))
                else {
                    return Err(CoreError::invalid("itemId, workflowId and status are required"));
                };
                Ok((
                    Op {
                        kind: OpKind::Status { enter },
                        json,
                    },
                    Command::ChangeItemStatus(bpm_compat_model::ItemStatusChange {
                        item,
                        workflow,
                        status,
                        process: field("processId"),
                        enter,
                    }),
                ))
            }
            ["V2.0" | "V1.0", "manage", "task"] if m == Method::POST => {
                let profile = items::task_profile_from_xml(req.body()).map_err(CoreError::invalid)?;
                let Some(name) = profile.get("task/name").filter(|n| !n.is_empty()).cloned() else {
                    return Err(CoreError::invalid("task/name is required"));
                };
                let var = |k: &str, v: String| {
                    bpm_compat_model::Variable::new(k, bpm_compat_model::VariableValue::String(v))
                };
                let text = |k: &str| profile.get(k).cloned().unwrap_or_default();
                let start = bpm_compat_model::StartInstance {
                    definition: bpm_compat_model::DefinitionSelector::Key {
                        key: TASK_PROCESS.into(),
                        tenant_id: String::new(),
                    },
                    name: None,
                    business_key: profile
                        .get("task/workflowCorrelationId")
                        .filter(|c| !c.is_empty())
                        .cloned(),
                    variables: vec![
                        var("taskName", name),
                        var("taskUser", text("task/user")),
                        var("taskType", text("task/taskType")),
                        var("entity", text("task/entity")),
                        var("items", text("items")),
                    ],
                    transient_variables: Vec::new(),
                    start_user: ctx.user.clone(),
                    origin: Some("p360".into()),
                };
                Ok((
                    Op {
                        kind: OpKind::CreateTask,
                        json,
                    },
                    Command::StartForTask(start),
                ))
            }
            ["V2.0" | "V1.0", "list", entity] if m == Method::POST => {
                let entity = bpm_compat_model::percent_decode(entity);
                let table = items::table_from_xml(req.body()).map_err(CoreError::invalid)?;
                if !table.entity.is_empty() && table.entity != entity {
                    return Err(CoreError::invalid(format!(
                        "The table's entity '{}' is not the path's '{entity}'",
                        table.entity
                    )));
                }
                let (metas, written) = table_items(&table, &entity);
                Ok((
                    Op {
                        kind: OpKind::ListWrite(metas),
                        json,
                    },
                    Command::WriteItems(written),
                ))
            }
            ["V2.0" | "V1.0", "list", entity, "byCatalog"] if m == Method::GET => {
                let params = query(req);
                let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
                let Some(catalog) = get("catalog").filter(|c| !c.is_empty()) else {
                    return Err(CoreError::invalid("catalog is required"));
                };
                let number = |n: &str, default: usize| -> Result<usize, CoreError> {
                    get(n).map_or(Ok(default), |v| {
                        v.parse()
                            .map_err(|_| CoreError::invalid(format!("{n} must be a number, not '{v}'")))
                    })
                };
                let start = number("startIndex", 0)?;
                let page_size = number("pageSize", 100)?.clamp(1, 10_000);
                let columns: Vec<String> = get("fields")
                    .map(|f| {
                        f.split(',')
                            .map(|c| c.trim().to_owned())
                            .filter(|c| !c.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                let entity = bpm_compat_model::percent_decode(entity);
                Ok((
                    Op {
                        kind: OpKind::ListRead {
                            entity: entity.clone(),
                            columns,
                            page_size,
                        },
                        json,
                    },
                    Command::ListItems {
                        entity,
                        catalog: jobs::catalog_id(catalog),
                        start,
                        size: page_size,
                    },
                ))
            }
            _ => Err(CoreError::Unsupported {
                operation: format!("{m} /rest/{path}"),
            }),
        }
    }

    fn render(&self, op: Op, result: Result<Outcome, CoreError>, _ctx: &RequestCtx) -> Response<Bytes> {
        match (&op.kind, result) {
            (OpKind::ManageWorkflow { failed }, Ok(Outcome::Deployed { definitions, .. })) => {
                let created = definitions.iter().filter(|d| d.version == 1).count();
                let updated = definitions.len() - created;
                summary(created, updated, *failed as usize, op.json)
            }
            (OpKind::ManageWorkflow { failed }, Err(CoreError::Invalid { .. })) if *failed > 0 => {
                summary(0, 0, *failed as usize, op.json)
            }
            (OpKind::ListWrite(metas), Ok(Outcome::ItemsWritten(created))) => {
                let mut created = created.into_iter();
                let written: Vec<items::Written> = metas
                    .iter()
                    .map(|m| items::Written {
                        row: m.row,
                        id: m.id.clone(),
                        label: m.label.clone(),
                        entity_id: m.entity_id.clone(),
                        status: match &m.refused {
                            Some(why) => Err(why.clone()),
                            None => Ok(created.next().unwrap_or(false)),
                        },
                    })
                    .collect();
                respond(StatusCode::OK, items::write_protocol(&written, op.json), op.json)
            }
            (
                OpKind::ListRead {
                    entity,
                    columns,
                    page_size,
                },
                Ok(Outcome::Items(page)),
            ) => respond(
                StatusCode::OK,
                items::entity_item_table(entity, &page, *page_size, columns, op.json),
                op.json,
            ),
            (OpKind::Status { enter }, Ok(Outcome::StatusChanged(c))) => {
                respond(StatusCode::OK, items::status_info(&c, *enter, op.json), op.json)
            }
            (OpKind::CreateTask, Ok(Outcome::Task(view))) => {
                let id = view.task.id.to_string();
                let body = if op.json {
                    json!({"id": id}).to_string()
                } else {
                    format!("{XML_HEAD}<entityItemReference><id>{id}</id></entityItemReference>")
                };
                respond(StatusCode::OK, body, op.json)
            }
            (OpKind::Schedule(_), Ok(Outcome::Instance(view))) => respond(
                StatusCode::ACCEPTED,
                jobs::job_object(&view.instance, op.json),
                op.json,
            ),
            (OpKind::EndProcess, Ok(_)) => {
                let mut resp = Response::new(Bytes::new());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                resp
            }
            (_, Err(e)) => error(&e, op.json),
            (_, Ok(_)) => error(
                &CoreError::Internal {
                    message: "unexpected outcome".into(),
                },
                op.json,
            ),
        }
    }

    fn render_error(&self, err: CoreError, _ctx: &RequestCtx) -> Response<Bytes> {
        error(&err, false)
    }

    fn parse_error(&self, err: CoreError, req: &Request<Bytes>, _ctx: &RequestCtx) -> Response<Bytes> {
        error(&err, wants_json(req))
    }
}

/// A list write's rows as items of `entity`: each row's outcome, and the items of the rows
/// that name an item (`<item>@<catalog>`) to write, their empty values left out.
pub(crate) fn table_items(table: &items::Table, entity: &str) -> (Vec<RowMeta>, Vec<bpm_compat_model::Item>) {
    let mut metas = Vec::new();
    let mut written = Vec::new();
    for (n, row) in table.rows.iter().enumerate() {
        let valid = row
            .id
            .split_once('@')
            .is_some_and(|(i, c)| !i.is_empty() && !c.is_empty());
        metas.push(RowMeta {
            row: n,
            id: row.id.clone(),
            label: row.label.clone(),
            entity_id: row.entity_id.clone(),
            refused: (!valid).then(|| format!("'{}' is not an item id (<item>@<catalog>)", row.id)),
        });
        if valid {
            written.push(bpm_compat_model::Item {
                id: row.id.clone(),
                entity: entity.to_owned(),
                entity_id: row.entity_id.clone(),
                label: row.label.clone().filter(|l| !l.is_empty()),
                values: table
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.values.iter().cloned())
                    .filter(|(_, v)| !v.is_empty())
                    .collect(),
            });
        }
    }
    (metas, written)
}

/// The request's query parameters, in order.
fn query(req: &Request<Bytes>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default()
}

/// Whether the body is JSON (else XML); other content types are refused.
fn json_body(req: &Request<Bytes>) -> Result<bool, CoreError> {
    let ct = media(req, header::CONTENT_TYPE);
    match ct.as_str() {
        "application/json" => Ok(true),
        "" | "application/xml" | "text/xml" => Ok(false),
        _ => Err(CoreError::UnsupportedMedia { content_type: ct }),
    }
}

/// A scheduled endpoint (`manage/merge`, …): reads the profile and the BPM callback (from the
/// queue's message properties, else the query) and starts the job.
fn schedule(
    kind: jobs::JobKind,
    req: &Request<Bytes>,
    ctx: &RequestCtx,
    json: bool,
) -> Result<(Op, Command), CoreError> {
    let spec = jobs::read_profile(kind, req.body(), json_body(req)?).map_err(CoreError::invalid)?;
    let callback = match queue::callback_from_headers(req.headers(), json) {
        Some(cb) => {
            // Seed 002: over the queue they "must not be provided in the url".
            let params = query(req);
            if let Some(p) = CALLBACK_PARAMETERS
                .iter()
                .find(|p| params.iter().any(|(k, _)| k == *p))
            {
                return Err(CoreError::invalid(format!(
                    "{p} must not be provided in the url: the queue resolves it from the message properties"
                )));
            }
            cb
        }
        None => callback_from_query(req, json)?,
    };
    Ok((
        Op {
            kind: OpKind::Schedule(kind),
            json,
        },
        Command::StartInstance(bpm_compat_model::StartInstance {
            definition: bpm_compat_model::DefinitionSelector::Key {
                key: jobs::JOB_PROCESS.into(),
                tenant_id: String::new(),
            },
            name: Some(format!("{} job", kind.name())),
            business_key: callback.correlation_id.clone(),
            variables: jobs::start_variables(&spec, &callback),
            transient_variables: Vec::new(),
            start_user: ctx.user.clone(),
            origin: Some("p360".into()),
        }),
    ))
}

/// The BPM callback parameters of the scheduled endpoints' URLs.
const CALLBACK_PARAMETERS: [&str; 4] = [
    "workflowServiceEndpoint",
    "workflowCorrelationId",
    "workflowCommunicationMode",
    "workflowQueueId",
];

/// The BPM callback parameters of a scheduled call over HTTP (P360's query parameters).
fn callback_from_query(req: &Request<Bytes>, json: bool) -> Result<jobs::Callback, CoreError> {
    let params = query(req);
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mode = get("workflowCommunicationMode")
        .unwrap_or_else(|| "REST".into())
        .to_ascii_uppercase();
    if mode != "REST" && mode != "QUEUE" {
        return Err(CoreError::invalid(format!(
            "workflowCommunicationMode must be REST or QUEUE, not '{mode}'"
        )));
    }
    Ok(jobs::Callback {
        service_endpoint: get("workflowServiceEndpoint"),
        correlation_id: get("workflowCorrelationId"),
        mode,
        queue_id: get("workflowQueueId"),
        json,
        ..jobs::Callback::default()
    })
}

/// The definition a created task runs in (fixtures/definitions/p360Task.process.json).
pub const TASK_PROCESS: &str = "p360Task";

pub(crate) const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>";

fn respond(status: StatusCode, body: String, json: bool) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    let ct = if json {
        "application/json"
    } else {
        "application/xml"
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

fn summary(created: usize, updated: usize, failed: usize, json: bool) -> Response<Bytes> {
    if json {
        let body = json!({"createdCounter": created, "updatedCounter": updated, "failedCounter": failed});
        return respond(StatusCode::OK, body.to_string(), true);
    }
    respond(
        StatusCode::OK,
        format!(
            "{XML_HEAD}<resultSummary><createdCounter>{created}</createdCounter><updatedCounter>{updated}</updatedCounter><failedCounter>{failed}</failedCounter></resultSummary>"
        ),
        false,
    )
}

/// The `errorObject` document (XML, or P360's JSON) for a message.
pub(crate) fn error_body(message: &str, json: bool) -> String {
    if json {
        json!({"errorObject": {"errorMessage": message}}).to_string()
    } else {
        format!(
            "{XML_HEAD}<errorObject><errorMessage>{}</errorMessage></errorObject>",
            items::esc(message)
        )
    }
}

/// `errorObject` with the seed's status codes.
pub fn error(err: &CoreError, json: bool) -> Response<Bytes> {
    use bpm_compat_model::ErrorCode as C;
    let status = match err.code() {
        C::Unauthorized => StatusCode::UNAUTHORIZED,
        C::NotFound | C::UnsupportedOperation => StatusCode::NOT_FOUND,
        C::Internal | C::Unavailable | C::ProcessFailure => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match err {
        CoreError::Internal { .. } | CoreError::Unavailable { .. } => "Internal server error".to_owned(),
        CoreError::Unauthorized => "Unauthorized".to_owned(),
        other => other.to_string(),
    };
    let mut resp = respond(status, error_body(&message, json), json);
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"P360\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"<workflow><identifier>Workflow1</identifier><label>Workflow1</label><version>1.0</version>
        <status><status>workflowStatus01</status><workflowTask><container><id>1</id><entityId>MASTER</entityId></container>
        <entity>Article</entity><workflowCommunicationMode>QUEUE</workflowCommunicationMode>
        <workflowServiceEndpoint>Workflow01FinishStatus01Service</workflowServiceEndpoint>
        <workflowQueueId>P360_BPM</workflowQueueId><userGroup>Allmighty</userGroup></workflowTask></status>
        <status><status>workflowStatus02</status><workflowTask><userGroup>Allmighty</userGroup></workflowTask></status></workflow>"#;

    #[test]
    fn the_seeds_workflow_reads_as_statuses_with_their_groups() {
        let w = workflows_from_xml(SEED.as_bytes()).expect("reads");
        assert_eq!(
            w,
            vec![Workflow {
                identifier: "Workflow1".into(),
                label: Some("Workflow1".into()),
                version: Some("1.0".into()),
                statuses: vec![
                    ("workflowStatus01".into(), Some("Allmighty".into())),
                    ("workflowStatus02".into(), Some("Allmighty".into())),
                ],
            }]
        );
        assert_eq!(
            w[0].to_declarative(),
            json!({"key": "Workflow1", "name": "Workflow1", "versionLabel": "1.0", "steps": [
                {"id": "start", "type": "startEvent"},
                {"id": "workflowStatus01", "type": "userTask", "name": "workflowStatus01", "candidateGroups": ["Allmighty"]},
                {"id": "workflowStatus02", "type": "userTask", "name": "workflowStatus02", "candidateGroups": ["Allmighty"]},
                {"id": "end", "type": "endEvent"}]})
        );
    }

    #[test]
    fn json_workflows_have_a_flat_container() {
        let body = br#"{"identifier":"W2","version":1.5,"status":[{"status":"S1","displayOrder":1,
            "workflowTask":{"container":"1","containerEntityId":"MasterCatalog","entity":"Article","userGroup":"Ops"}}]}"#;
        let w = workflows_from_json(body).expect("reads");
        assert_eq!(w[0].version.as_deref(), Some("1.5"));
        assert_eq!(w[0].statuses, vec![("S1".into(), Some("Ops".into()))]);
    }

    #[test]
    fn unreadable_workflows_are_told_apart() {
        let w = workflows_from_xml(b"<workflows><workflow><label>no id</label><status><status>S</status></status></workflow></workflows>")
            .expect("reads");
        assert!(!w[0].valid());
        assert!(workflows_from_xml(b"<workflow><identifier>x</identifier>").is_err());
    }
}
