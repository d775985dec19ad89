//! The IBM BPM / Business Automation Workflow `wle/v1` dialect: the service resource of seed
//! 003 (`POST service/{instanceId}?action=…`), with IBM's general REST conventions. Sources:
//! fixtures/ibm-bpm/README.md.
//!
//! Pure translation, like every adapter: [`IbmBpm::parse`](Adapter::parse) reads the merged
//! query and form parameters into one neutral command; [`IbmBpm::render`](Adapter::render)
//! answers IBM's envelope in JSON or XML.
//!
//! # Operations (below `/rest/bpm/wle/v1/`)
//! | Call | Command | `data` |
//! |---|---|---|
//! | `POST service/{model}?action=start[&params&parts&createTask&snapshotId&caller…]` | start | the service run model |
//! | `POST`/`PUT service/{key}?action=<button>[&params]` | resume: completes the task the service waits at | the run model |
//! | `GET`/`POST`/`PUT service/{key}?action=getData&field=…\|fields=…` | variables | `{result, resultMap}` |
//! | `POST`/`PUT service/{key}?action=setData&field=…&value=…\|params=…` | set variables | `{result, resultMap}` of what was set |
//! | `GET service/currentlyRunning` | open instances | `{instanceIDs}` |
//! | `GET exposed/service`, `GET exposed/process` | the latest definitions | `{exposedItemsList}` |
//! | `GET serviceModel/{model}` | the definition | the service model (header, diagram, dataModel) |
//! | `POST process?action=start&bpdId=…[&snapshotId&params&parts]` | start | ProcessDetails |
//! | `GET process/{piid}[?parts]` | the instance and its tasks | ProcessDetails |
//! | `PUT`/`POST process/{piid}?action=suspend\|resume\|terminate\|delete\|retry` | the action | ProcessDetails |
//! | `PUT`/`POST process/{piid}/variables` (JSON body) | set variables | `{variables}` |
//! | `GET task/{tkiid}` | the task | TaskDetails |
//! | `… task/{tkiid}?action=getData\|setData\|assign\|start\|finish\|cancel\|update` | the task action | TaskDetails, `{result, resultMap}` |
//!
//! `{model}` is `<acronym>@<service name>` (a definition's `ibm-bpm` alias, e.g.
//! `FIN@Expense Approval`), `1.<definition key>` (the service model id bpm-compat shows) or a
//! definition key; `{key}` is `@<piid>` (a running instance) or
//! a decimal task id.
//!
//! # Conventions (every call)
//! Query and form-body (`application/x-www-form-urlencoded`) parameters are one set; a POST
//! with `X-Method-Override`/`X-HTTP-Method-Override` (header, or lower-case query parameter)
//! is that method; the `accept` parameter works like `Accept` (JSON by default, XML on request,
//! 406 otherwise); `callback=` wraps JSON (JSONP); `federationMode=true` drops the wrapper; a
//! boolean parameter that does not parse is 400.
//!
//! # The run model
//! `serviceStatus` is `coach` while the instance waits at a user task (the coach is generated
//! from the task: a form with its title and an input per form property, one `bg0_ok` "Ok"
//! action), `end` when it ended, `error` when it failed, else `running`; `key` is `@<piid>`;
//! `step` the current (or last) activity's name; `data` the variables.

pub mod resources;
pub mod wire;

use bpm_compat_model::{
    percent_decode, ActivityKind, Adapter, AuthScheme, Command, CoreError, InstanceFilter, InstanceQuery,
    InstanceRef, InstanceState, InstanceView, Outcome, RequestCtx, ResumeTarget, SetMode, SetVariables,
    SortOrder, StartInstance, TaskId, Variable, VariableScope, VariableValue,
};
use bytes::Bytes;
use http::{header, Method, Request, Response};
use serde_json::{json, Map, Value};

use wire::Shape;

/// Which parts of a run model to answer (`parts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    All,
    Data,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// A start or a resume: the run model.
    Run(Parts),
    /// `getData`: the fields asked for (one `field`, or `fields`).
    /// With `fail_fast` (the default `failureMode`) a missing field fails the call, else it
    /// is left out.
    GetData {
        fields: Vec<String>,
        single: bool,
        fail_fast: bool,
    },
    /// `setData`: what was set.
    SetData(Map<String, Value>),
    CurrentlyRunning,
    /// A process or task resource call.
    Resource(resources::ResourceOp),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub shape: Shape,
}

/// The IBM BPM dialect. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct IbmBpm;

/// The most open instances `currentlyRunning` lists.
pub const RUNNING_LIMIT: usize = 1000;

pub(crate) fn invalid(id: &str, text: String) -> CoreError {
    CoreError::invalid(format!("{id}: {text}"))
}

/// Query parameters, then those of a form body.
fn params(req: &Request<Bytes>) -> Result<Vec<(String, String)>, CoreError> {
    let mut p: Vec<(String, String)> = serde_urlencoded::from_str(req.uri().query().unwrap_or_default())
        .map_err(|e| invalid("CWTBG0012E", format!("The query string cannot be read: {e}")))?;
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        let body = std::str::from_utf8(req.body())
            .map_err(|_| invalid("CWTBG0012E", "The form body is not UTF-8.".into()))?;
        let form: Vec<(String, String)> = serde_urlencoded::from_str(body)
            .map_err(|e| invalid("CWTBG0012E", format!("The form body cannot be read: {e}")))?;
        p.extend(form);
    }
    Ok(p)
}

pub(crate) fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The answer's representation: `accept` parameter, else `Accept`; 406 for what IBM cannot
/// produce.
pub fn shape(req: &Request<Bytes>, p: &[(String, String)]) -> Result<Shape, CoreError> {
    let accept = param(p, "accept").map(str::to_owned).or_else(|| {
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let mut xml = false;
    if let Some(accept) = accept.filter(|a| !a.trim().is_empty()) {
        let media: Vec<String> = accept
            .split(',')
            .map(|m| {
                m.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let pick = media.iter().find_map(|m| match m.as_str() {
            "application/json" | "*/*" | "application/*" => Some(false),
            "application/xml" | "text/xml" => Some(true),
            _ => None,
        });
        match pick {
            Some(x) => xml = x,
            None => return Err(CoreError::NotAcceptable),
        }
    }
    Ok(Shape {
        xml,
        federation: flag(p, "federationMode")?.unwrap_or(false),
        callback: param(p, "callback").filter(|c| !c.is_empty()).map(str::to_owned),
    })
}

/// A boolean parameter: `true`/`false` (any case), else 400.
pub(crate) fn flag(p: &[(String, String)], name: &str) -> Result<Option<bool>, CoreError> {
    match param(p, name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(invalid(
            "CWTBG0012E",
            format!("The value '{v}' of the parameter '{name}' is not valid: it must be true or false."),
        )),
    }
}

/// The method after `X-Method-Override` / `X-HTTP-Method-Override` (header or parameter).
fn method(req: &Request<Bytes>, p: &[(String, String)]) -> Method {
    if req.method() != Method::POST {
        return req.method().clone();
    }
    let header = ["x-method-override", "x-http-method-override"]
        .iter()
        .find_map(|h| {
            req.headers()
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    let query = param(p, "x-method-override")
        .or_else(|| param(p, "x-http-method-override"))
        .map(str::to_owned);
    header
        .or(query)
        .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
        .unwrap_or(Method::POST)
}

/// `params`: a JSON object of variables.
pub(crate) fn variables(p: &[(String, String)]) -> Result<Map<String, Value>, CoreError> {
    match param(p, "params") {
        None => Ok(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(invalid(
                "CWTBG0536E",
                "The params parameter must be a JSON object.".into(),
            )),
            Err(e) => Err(invalid(
                "CWTBG0536E",
                format!("The params parameter cannot be parsed as JSON: {e}"),
            )),
        },
    }
}

pub(crate) fn to_variables(m: &Map<String, Value>) -> Vec<Variable> {
    m.iter()
        .map(|(k, v)| Variable::new(k.clone(), VariableValue::from_json(v)))
        .collect()
}

/// A running service's key: `@<piid>` or a decimal task id.
enum Key {
    Instance(u64),
    Task(u64),
}

fn key(id: &str) -> Option<Key> {
    if let Some(n) = id.strip_prefix('@') {
        return n
            .parse()
            .ok()
            .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))
            .map(Key::Instance);
    }
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return id.parse().ok().map(Key::Task);
    }
    None
}

/// `failureMode`: `fail_fast` (the default) stops at the first problem; `embedded` and
/// `embedded_pi` leave it out of the answer.
pub(crate) fn fail_fast(p: &[(String, String)]) -> Result<bool, CoreError> {
    match param(p, "failureMode").unwrap_or("fail_fast") {
        "fail_fast" => Ok(true),
        "embedded" | "embedded_pi" => Ok(false),
        other => Err(invalid(
            "CWTBG0012E",
            format!("The value '{other}' of the parameter 'failureMode' is not valid: embedded_pi, embedded or fail_fast."),
        )),
    }
}

pub(crate) fn parts(p: &[(String, String)]) -> Result<Parts, CoreError> {
    match param(p, "parts").unwrap_or("all") {
        "all" => Ok(Parts::All),
        "data" => Ok(Parts::Data),
        "none" => Ok(Parts::None),
        other => Err(invalid(
            "CWTBG0012E",
            format!("The value '{other}' of the parameter 'parts' is not valid: data, all or none."),
        )),
    }
}

/// The seed's rules for the caller parameters.
fn check_caller(p: &[(String, String)]) -> Result<(), CoreError> {
    let branch = param(p, "callerModelBranchId").is_some();
    let snapshot = param(p, "callerModelSnapshotId").is_some();
    if branch && snapshot {
        return Err(invalid(
            "CWTBG0012E",
            "The parameters 'callerModelBranchId' and 'callerModelSnapshotId' cannot both be specified."
                .into(),
        ));
    }
    if param(p, "callerModelId").is_some() && !branch && !snapshot {
        return Err(invalid(
            "CWTBG0011E",
            "A value is required for the parameter 'callerModelBranchId' or 'callerModelSnapshotId' when 'callerModelId' is specified.".into(),
        ));
    }
    Ok(())
}

fn parse_service(
    req: &Request<Bytes>,
    ctx: &RequestCtx,
    p: &[(String, String)],
    m: &Method,
    id: &str,
) -> Result<(OpKind, Command), CoreError> {
    let Some(action) = param(p, "action").filter(|a| !a.is_empty()) else {
        return Err(invalid("CWTBG0009E", "The action parameter is required.".into()));
    };
    let writes = *m == Method::POST || *m == Method::PUT;
    let bad_action = || {
        invalid(
            "CWTBG0010E",
            format!(
                "The action '{action}' is not valid for the {} method on '{id}'.",
                m
            ),
        )
    };
    let _ = req;
    match (key(id), action) {
        (None, "start") if *m == Method::POST => {
            flag(p, "createTask")?;
            check_caller(p)?;
            let parts = parts(p)?;
            let vars = variables(p)?;
            let start = StartInstance {
                definition: resources::model_selector(id, param(p, "snapshotId").map(str::to_owned)),
                name: None,
                business_key: None,
                variables: to_variables(&vars),
                transient_variables: Vec::new(),
                start_user: ctx.user.clone(),
                origin: Some("ibm-bpm".into()),
            };
            Ok((OpKind::Run(parts), Command::StartInstance(start)))
        }
        (None, _) if id.starts_with('@') || id.bytes().all(|b| b.is_ascii_digit()) => Err(invalid(
            "CWTBG0547E",
            format!(
                "The instance ID '{id}' is not valid: a task ID is decimal, a service ID is '@' and decimal."
            ),
        )),
        (None, _) => Err(bad_action()),
        (Some(k), "getData") => {
            let (fields, single) = match (param(p, "field"), param(p, "fields")) {
                (Some(f), _) => (vec![f.to_owned()], true),
                (None, Some(fs)) => (
                    fs.split(',')
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.is_empty())
                        .collect(),
                    false,
                ),
                (None, None) => {
                    return Err(invalid(
                        "CWTBG0011E",
                        "A value is required for the parameter 'field' or 'fields'.".into(),
                    ))
                }
            };
            let command = match k {
                Key::Instance(n) => Command::GetVariables(InstanceRef {
                    id: bpm_compat_model::InstanceId(n),
                }),
                Key::Task(t) => Command::GetTaskVariables {
                    id: TaskId(t),
                    scope: Some(VariableScope::Global),
                },
            };
            Ok((
                OpKind::GetData {
                    fields,
                    single,
                    fail_fast: fail_fast(p)?,
                },
                command,
            ))
        }
        (Some(k), "setData") if writes => {
            fail_fast(p)?;
            let values = match (param(p, "field"), param(p, "value")) {
                (Some(field), Some(value)) => {
                    let v: Value =
                        serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
                    let mut m = Map::new();
                    m.insert(field.to_owned(), v);
                    m
                }
                (Some(_), None) => {
                    return Err(invalid(
                        "CWTBG0011E",
                        "A value is required for the parameter 'value'.".into(),
                    ))
                }
                _ => {
                    if param(p, "params").is_none() {
                        return Err(invalid(
                            "CWTBG0011E",
                            "A value is required for the parameter 'field' or 'params'.".into(),
                        ));
                    }
                    variables(p)?
                }
            };
            let vars = to_variables(&values);
            let command = match k {
                Key::Instance(n) => Command::SetVariables(SetVariables {
                    id: bpm_compat_model::InstanceId(n),
                    variables: vars,
                    mode: SetMode::Upsert,
                }),
                Key::Task(t) => Command::SetTaskVariables {
                    id: TaskId(t),
                    scope: VariableScope::Global,
                    variables: vars,
                    mode: SetMode::Upsert,
                },
            };
            Ok((OpKind::SetData(values), command))
        }
        // JavaScript evaluation is off unless the server enables it (IBM's default).
        (Some(_), "js") => Err(CoreError::Forbidden {
            message: "CWTBG0529E: The execution of JavaScript through the REST API is disabled.".into(),
        }),
        (Some(_), "start" | "setData") => Err(bad_action()),
        // Any other action on a running service is the coach button or boundary event that
        // resumes it.
        (Some(k), _) if writes => {
            let parts = parts(p)?;
            let vars = variables(p)?;
            let target = match k {
                Key::Instance(n) => ResumeTarget::Instance(bpm_compat_model::InstanceId(n)),
                Key::Task(t) => ResumeTarget::Task(TaskId(t)),
            };
            Ok((
                OpKind::Run(parts),
                Command::Resume {
                    target,
                    variables: to_variables(&vars),
                    user: ctx.user.clone(),
                },
            ))
        }
        (Some(_), _) => Err(bad_action()),
    }
}

impl Adapter for IbmBpm {
    type Op = Op;

    fn name(&self) -> &'static str {
        "ibm-bpm"
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Basic
    }

    fn op_name(&self, op: &Op) -> &'static str {
        match op.kind {
            OpKind::Run(_) => "service_run",
            OpKind::GetData { .. } => "service_get_data",
            OpKind::SetData(_) => "service_set_data",
            OpKind::CurrentlyRunning => "service_currently_running",
            OpKind::Resource(resources::ResourceOp::Process(_)) => "process",
            OpKind::Resource(resources::ResourceOp::ProcessVariables(_)) => "process_variables",
            OpKind::Resource(resources::ResourceOp::Task) => "task",
            OpKind::Resource(resources::ResourceOp::TaskFinished(_)) => "task_finish",
            OpKind::Resource(resources::ResourceOp::Exposed { .. }) => "exposed",
            OpKind::Resource(resources::ResourceOp::ServiceModel(_)) => "service_model",
        }
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
        let p = params(req)?;
        let shape = shape(req, &p)?;
        let m = method(req, &p);
        let path = ctx.path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let (kind, command) = match segments.as_slice() {
            ["service", "currentlyRunning"] if m == Method::GET => (
                OpKind::CurrentlyRunning,
                Command::ListInstances(InstanceQuery {
                    filter: InstanceFilter::default(),
                    sort: bpm_compat_model::InstanceSort::Id,
                    order: SortOrder::Asc,
                    start: 0,
                    size: RUNNING_LIMIT,
                    // It renders the ids alone.
                    with_details: false,
                }),
            ),
            ["service", id] => {
                let id = percent_decode(id);
                parse_service(req, ctx, &p, &m, &id)?
            }
            ["exposed", kind @ ("service" | "process")] if m == Method::GET => (
                OpKind::Resource(resources::ResourceOp::Exposed {
                    services: *kind == "service",
                }),
                Command::ListDefinitions(resources::latest_definitions()),
            ),
            ["serviceModel", id] if m == Method::GET => (
                OpKind::Resource(resources::ResourceOp::ServiceModel(percent_decode(id))),
                Command::ListDefinitions(resources::latest_definitions()),
            ),
            ["process", ..] => {
                let (op, command) =
                    resources::parse_process(&segments, &p, &m, req.body(), ctx.user.clone())?;
                (OpKind::Resource(op), command)
            }
            ["task", tkiid] => resources::parse_task(tkiid, &p, &m, ctx.user.clone())?,
            _ => {
                return Err(CoreError::Unsupported {
                    operation: format!("{m} /rest/bpm/wle/v1/{path}"),
                })
            }
        };
        Ok((Op { kind, shape }, command))
    }

    fn render(&self, op: Op, result: Result<Outcome, CoreError>, _ctx: &RequestCtx) -> Response<Bytes> {
        let shape = &op.shape;
        let outcome = match result {
            Ok(o) => o,
            // The process resource names a missing instance by its piid.
            Err(CoreError::NotFound(bpm_compat_model::Missing::Instance(id)))
                if matches!(
                    op.kind,
                    OpKind::Resource(
                        resources::ResourceOp::Process(_) | resources::ResourceOp::ProcessVariables(_)
                    )
                ) =>
            {
                return wire::error(
                    &wire::IbmError::new(
                        http::StatusCode::NOT_FOUND,
                        "CWTBG0629E",
                        format!("The process instance with the ID '{id}' does not exist."),
                        vec![id.to_string()],
                    ),
                    shape,
                )
            }
            Err(e) => return wire::error(&wire::ibm_error(&e), shape),
        };
        match (op.kind, outcome) {
            (OpKind::Run(parts), Outcome::Instance(view)) => wire::success(
                run_model(&view, parts),
                "svc:ServiceRunModel",
                &["data", "coachEvals", "actionsMap"],
                shape,
            ),
            (
                OpKind::GetData {
                    fields,
                    single,
                    fail_fast,
                },
                outcome,
            ) => {
                let vars: Vec<Variable> = match outcome {
                    Outcome::Variables(v) => v,
                    Outcome::ScopedVariables(v) => v.into_iter().map(|(v, _)| v).collect(),
                    _ => Vec::new(),
                };
                let mut map = Map::new();
                for f in &fields {
                    match vars.iter().find(|v| &v.name == f) {
                        Some(v) => {
                            map.insert(f.clone(), plain(&v.value));
                        }
                        None if !fail_fast => {}
                        None => {
                            return wire::error(
                                &wire::IbmError::new(
                                    http::StatusCode::BAD_REQUEST,
                                    "CWTBG0543E",
                                    format!("The variable '{f}' does not exist."),
                                    vec![f.clone()],
                                ),
                                shape,
                            )
                        }
                    }
                }
                data_result(map, single, shape)
            }
            (OpKind::SetData(values), _) => {
                let single = values.len() == 1;
                data_result(values, single, shape)
            }
            (OpKind::Resource(op), outcome) => render_resource(op, outcome, shape),
            (OpKind::CurrentlyRunning, Outcome::Instances(page)) => {
                let ids: Vec<String> = page.items.iter().map(|v| format!("@{}", v.instance.id)).collect();
                wire::success(json!({"instanceIDs": ids}), "svc:RunningServices", &[], shape)
            }
            (_, _) => wire::error(
                &wire::ibm_error(&CoreError::Internal {
                    message: "unexpected outcome".into(),
                }),
                shape,
            ),
        }
    }

    fn render_error(&self, err: CoreError, _ctx: &RequestCtx) -> Response<Bytes> {
        wire::error(&wire::ibm_error(&err), &Shape::default())
    }

    fn parse_error(&self, err: CoreError, req: &Request<Bytes>, _ctx: &RequestCtx) -> Response<Bytes> {
        // In the representation the request asked for, when it asked for one IBM can produce.
        let shape = params(req)
            .ok()
            .and_then(|p| shape(req, &p).ok())
            .unwrap_or_default();
        wire::error(&wire::ibm_error(&err), &shape)
    }
}

fn render_resource(op: resources::ResourceOp, outcome: Outcome, shape: &Shape) -> Response<Bytes> {
    use resources::ResourceOp as R;
    const PROCESS: &str = "bpm:ProcessInstance";
    const TASK: &str = "bpm:Task";
    let maps = ["variables", "resultMap"];
    match (op, outcome) {
        (R::Process(parts), Outcome::InstanceDetails { instance, tasks }) => wire::success(
            resources::process_details(&instance, Some(&tasks), parts),
            PROCESS,
            &maps,
            shape,
        ),
        (R::Process(parts), Outcome::Instance(view)) => wire::success(
            resources::process_details(&view, None, parts),
            PROCESS,
            &maps,
            shape,
        ),
        (R::ProcessVariables(values), _) => {
            wire::success(json!({"variables": values}), PROCESS, &maps, shape)
        }
        (R::Exposed { services }, Outcome::Definitions(page)) => wire::success(
            resources::exposed(&page.items, services),
            "bpm:ExposedItems",
            &[],
            shape,
        ),
        (R::ServiceModel(id), Outcome::Definitions(page)) => match resources::find_model(&page.items, &id) {
            Some(d) => wire::success(
                resources::service_model(d),
                "svc:ServiceModel",
                &["properties", "inputs", "outputs", "validation"],
                shape,
            ),
            None => wire::error(
                &wire::IbmError::new(
                    http::StatusCode::NOT_FOUND,
                    "CWTBG0057E",
                    format!("Service '{id}' does not exist."),
                    vec![id.clone()],
                ),
                shape,
            ),
        },
        (R::Task, Outcome::Task(view)) => {
            wire::success(resources::task_details(&view.task), TASK, &["variables"], shape)
        }
        // Changes that answer nothing (a candidate group added): the task is as asked.
        (R::Task, _) => wire::success(json!({}), TASK, &[], shape),
        (R::TaskFinished(id), Outcome::Instance(view)) => wire::success(
            json!({"tkiid": id.to_string(), "state": "STATE_FINISHED", "status": "Closed",
                   "containmentContextID": view.instance.id.to_string()}),
            TASK,
            &[],
            shape,
        ),
        (_, _) => wire::error(
            &wire::ibm_error(&CoreError::Internal {
                message: "unexpected outcome".into(),
            }),
            shape,
        ),
    }
}

/// `{result, resultMap}`: `result` is the JSON text of the one value, or of the map.
fn data_result(map: Map<String, Value>, single: bool, shape: &Shape) -> Response<Bytes> {
    let result = if single {
        map.values().next().cloned().unwrap_or(Value::Null).to_string()
    } else {
        Value::Object(map.clone()).to_string()
    };
    wire::success(
        json!({"result": result, "resultMap": map}),
        "svc:ServiceData",
        &["resultMap"],
        shape,
    )
}

/// A variable as the plain JSON IBM's symbol table shows; dates in ISO 8601 UTC seconds.
pub(crate) fn plain(v: &VariableValue) -> Value {
    match v {
        VariableValue::Null => Value::Null,
        VariableValue::String(s)
        | VariableValue::LocalDate(s)
        | VariableValue::LocalDateTime(s)
        | VariableValue::BigDecimal(s)
        | VariableValue::BigInteger(s)
        | VariableValue::Uuid(s) => Value::String(s.clone()),
        VariableValue::Short(n) => json!(n),
        VariableValue::Integer(n) => json!(n),
        VariableValue::Long(n) => json!(n),
        VariableValue::Double(n) => json!(n),
        VariableValue::Boolean(b) => json!(b),
        VariableValue::Date(t) | VariableValue::Instant(t) => {
            let iso = t.to_iso_millis();
            Value::String(format!("{}Z", &iso[..19]))
        }
        VariableValue::Json(j) => j.clone(),
        VariableValue::Binary(_) | VariableValue::Serializable(_) => Value::Null,
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The service run model of an instance.
pub fn run_model(view: &InstanceView, parts: Parts) -> Value {
    let i = &view.instance;
    let d = &view.definition;
    let current = i.activity_id.as_deref().and_then(|a| d.activity(a));
    let at_coach =
        i.state == InstanceState::Active && current.is_some_and(|a| a.kind == ActivityKind::UserTask);
    let status = match i.state {
        InstanceState::Completed | InstanceState::Terminated => "end",
        InstanceState::Failed | InstanceState::FailedEscalated => "error",
        _ if at_coach => "coach",
        _ => "running",
    };
    let step_activity = current.or_else(|| i.end_activity_id.as_deref().and_then(|a| d.activity(a)));
    let step = step_activity
        .map(|a| a.name.clone().unwrap_or_else(|| a.id.clone()))
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("serviceStatus".into(), Value::from(status));
    m.insert("key".into(), Value::from(format!("@{}", i.id)));
    m.insert("step".into(), Value::from(step.clone()));
    if parts == Parts::None {
        return Value::Object(m);
    }
    let data: Map<String, Value> = i.variables.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
    m.insert("data".into(), Value::Object(data));
    if parts == Parts::Data || !at_coach {
        return Value::Object(m);
    }
    let mut coach = String::from("<Form xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
    coach.push_str(&format!(" <FormTitle>{}</FormTitle>\n", esc(&step)));
    for f in current
        .and_then(|a| a.task.as_ref())
        .map(|t| t.form_properties.as_slice())
        .unwrap_or_default()
    {
        let var = f.variable.clone().unwrap_or_else(|| f.id.clone());
        coach.push_str(&format!(
            " <InputText binding=\"tw.local.{}\">\n  <Label>{}</Label>\n </InputText>\n",
            esc(&var),
            esc(f.name.as_deref().unwrap_or(&f.id))
        ));
    }
    coach.push_str("</Form>");
    m.insert("coach".into(), Value::from(coach));
    m.insert("coachEvals".into(), json!({}));
    m.insert("actions".into(), json!(["bg0_ok"]));
    m.insert("actionsMap".into(), json!({"bg0_ok": "Ok"}));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpm_compat_model::{Activity, FormProperty, InstanceId, ProcessDefinition, TaskSpec, Timestamp};

    fn ctx(path: &str) -> RequestCtx {
        RequestCtx {
            now: Timestamp(0),
            request_id: 1,
            base_url: "http://localhost:9080/rest/bpm/wle/v1".into(),
            path: path.into(),
            user: Some("tw_admin".into()),
        }
    }

    fn req(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Bytes> {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::from(body.to_owned())).expect("request")
    }

    fn parse(r: &Request<Bytes>) -> Result<(Op, Command), CoreError> {
        let path = r.uri().path().trim_start_matches("/rest/bpm/wle/v1/").to_owned();
        IbmBpm.parse(r, &ctx(&path))
    }

    #[test]
    fn put_actions_tunnel_through_post_by_header_or_parameter() {
        for r in [
            req(
                "PUT",
                "/rest/bpm/wle/v1/service/@5?action=setData&field=a&value=1",
                &[],
                "",
            ),
            req(
                "POST",
                "/rest/bpm/wle/v1/service/@5?action=setData&field=a&value=1",
                &[],
                "",
            ),
            req(
                "POST",
                "/rest/bpm/wle/v1/service/@5",
                &[
                    ("X-HTTP-Method-Override", "PUT"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                "action=setData&field=a&value=1",
            ),
            req(
                "POST",
                "/rest/bpm/wle/v1/service/@5?action=setData&field=a&value=1&x-method-override=PUT",
                &[],
                "",
            ),
        ] {
            let (op, command) = parse(&r).expect("parses");
            assert!(matches!(op.kind, OpKind::SetData(_)), "{op:?}");
            assert!(
                matches!(&command, Command::SetVariables(s) if s.id == InstanceId(5) && s.variables[0].value == VariableValue::Integer(1)),
                "{command:?}"
            );
        }
        // A GET cannot set data.
        let r = req(
            "GET",
            "/rest/bpm/wle/v1/service/@5?action=setData&field=a&value=1",
            &[],
            "",
        );
        assert!(
            matches!(parse(&r), Err(CoreError::Invalid { message }) if message.starts_with("CWTBG0010E"))
        );
    }

    #[test]
    fn keys_name_instances_or_tasks() {
        let r = req("POST", "/rest/bpm/wle/v1/service/31?action=bg0_ok", &[], "");
        let (_, command) = parse(&r).expect("parses");
        assert!(matches!(
            command,
            Command::Resume {
                target: ResumeTarget::Task(TaskId(31)),
                ..
            }
        ));
        let r = req("POST", "/rest/bpm/wle/v1/service/@31?action=bg0_ok", &[], "");
        let (_, command) = parse(&r).expect("parses");
        assert!(matches!(
            command,
            Command::Resume {
                target: ResumeTarget::Instance(InstanceId(31)),
                ..
            }
        ));
        let r = req("POST", "/rest/bpm/wle/v1/service/@31?action=start", &[], "");
        assert!(parse(&r).is_err(), "a running service is not started again");
    }

    #[test]
    fn accept_parameter_and_header_choose_the_representation() {
        let p = |q: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(q).expect("query");
        let plain = req("GET", "/x", &[], "");
        assert!(!shape(&plain, &[]).expect("json").xml);
        let xml = req("GET", "/x", &[("Accept", "application/xml")], "");
        assert!(shape(&xml, &[]).expect("xml").xml);
        assert!(shape(&plain, &p("accept=application/xml")).expect("xml").xml);
        assert_eq!(shape(&xml, &p("accept=text/html")), Err(CoreError::NotAcceptable));
        let s = shape(&plain, &p("federationMode=true&callback=f")).expect("shape");
        assert!(s.federation && s.callback.as_deref() == Some("f"));
        assert!(
            shape(&plain, &p("federationMode=yes")).is_err(),
            "a boolean that does not parse"
        );
    }

    #[test]
    fn a_coach_is_generated_from_the_task_and_its_form() {
        let task = Activity {
            id: "review".into(),
            name: Some("Review <order>".into()),
            kind: ActivityKind::UserTask,
            documentation: None,
            default_flow: None,
            task: Some(TaskSpec {
                form_properties: vec![FormProperty {
                    id: "amount".into(),
                    name: Some("Amount".into()),
                    variable: Some("order.amount".into()),
                    ..FormProperty::default()
                }],
                ..TaskSpec::default()
            }),
        };
        let definition = ProcessDefinition {
            id: "p:1:1".into(),
            key: "p".into(),
            version: 1,
            activities: vec![task],
            ..ProcessDefinition::default()
        };
        let mut variables = bpm_compat_model::Variables::new();
        variables.insert("when".into(), VariableValue::Date(Timestamp(1_303_928_554_000)));
        let instance = bpm_compat_model::NewInstance {
            definition_id: "p:1:1".into(),
            definition_key: "p".into(),
            definition_version: 1,
            tenant_id: String::new(),
            name: None,
            business_key: None,
            state: InstanceState::Active,
            activity_id: Some("review".into()),
            tokens: vec!["review".into()],
            start_activity_id: None,
            end_activity_id: None,
            start_time: Timestamp(0),
            end_time: None,
            start_user_id: None,
            origin: None,
            variables,
            identity_links: Vec::new(),
            tasks: Vec::new(),
            activities: Vec::new(),
        }
        .with_id(InstanceId(2));
        let view = InstanceView {
            definition: std::sync::Arc::new(definition),
            instance,
        };
        let model = run_model(&view, Parts::All);
        assert_eq!(model["serviceStatus"], "coach");
        assert_eq!(model["key"], "@2");
        assert_eq!(model["data"], json!({"when": "2011-04-27T18:22:34Z"}));
        assert_eq!(
            model["coach"],
            "<Form xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n <FormTitle>Review &lt;order&gt;</FormTitle>\n <InputText binding=\"tw.local.order.amount\">\n  <Label>Amount</Label>\n </InputText>\n</Form>"
        );
        assert_eq!(model["actions"], json!(["bg0_ok"]));
        // In XML: bpm:ResponseData, the payload typed svc:ServiceRunModel, maps as cmn:Map items.
        let xml = wire::success(
            model.clone(),
            "svc:ServiceRunModel",
            &["data", "coachEvals", "actionsMap"],
            &Shape {
                xml: true,
                ..Shape::default()
            },
        );
        let text = String::from_utf8_lossy(xml.body()).into_owned();
        for part in [
            "<bpm:ResponseData xmlns:bpm=\"http://rest.bpm.ibm.com/v1/data\"",
            "<status>200</status><data xsi:type=\"svc:ServiceRunModel\">",
            "<actions>bg0_ok</actions>",
            "<actionsMap xsi:type=\"cmn:Map\"><item key=\"bg0_ok\"><value xsi:type=\"xs:string\">Ok</value></item></actionsMap>",
            "<data xsi:type=\"cmn:Map\"><item key=\"when\"><value xsi:type=\"xs:string\">2011-04-27T18:22:34Z</value></item></data>",
            "<key>@2</key><serviceStatus>coach</serviceStatus>",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let none = run_model(&view, Parts::None);
        assert_eq!(
            none,
            json!({"serviceStatus": "coach", "key": "@2", "step": "Review <order>"})
        );
    }

    #[test]
    fn errors_take_ibms_envelope_in_json_and_xml() {
        let e = wire::ibm_error(&CoreError::invalid(
            "CWTBG0009E: The action parameter is required.",
        ));
        assert_eq!((e.status.as_u16(), e.number.as_str()), (400, "CWTBG0009E"));
        let json = wire::error(&e, &Shape::default());
        let body: Value = serde_json::from_slice(json.body()).expect("json");
        assert_eq!(body["status"], "error");
        assert_eq!(
            body["Data"]["errorMessage"],
            "CWTBG0009E: The action parameter is required."
        );
        assert!(body.get("data").is_none(), "errors carry a capital Data");
        let xml = wire::error(
            &e,
            &Shape {
                xml: true,
                ..Shape::default()
            },
        );
        let text = String::from_utf8_lossy(xml.body()).into_owned();
        assert!(text.contains("<RestRuntimeException xmlns=\"http://rest.bpm.ibm.com/v1/data/exception\"><status>error</status><Data><status>error</status>"), "{text}");
        assert!(text.contains("<errorNumber>CWTBG0009E</errorNumber>"), "{text}");
    }
}
