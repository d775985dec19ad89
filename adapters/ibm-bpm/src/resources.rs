//! The process and task resources legacy clients call beside the service resource
//! (vendor-notes A.4, A.5): `process?action=start`, `process/{piid}` details and actions,
//! `process/{piid}/variables`, `task/{tkiid}` details and actions. Every PUT is also a POST,
//! with the query string or a form body.

use bpm_compat_model::{
    ClaimTask, Command, CoreError, DefinitionSelector, DeleteInstance, Identity, IdentityLink, InstanceId,
    InstanceRef, InstanceState, InstanceView, ProcessDefinition, ResumeTarget, SetMode, SetSuspended,
    SetVariables, StartInstance, Task, TaskId, TaskLinkRef, TaskRef, Timestamp, UpdateTask, VariableScope,
};
use http::Method;
use serde_json::{json, Map, Value};

use crate::{flag, invalid, param, plain, to_variables, variables, Parts};

/// What a process or task call answers.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceOp {
    /// ProcessDetails (with the tasks when the outcome has them).
    Process(ProcessShape),
    /// The variables set on a process.
    ProcessVariables(Map<String, Value>),
    /// TaskDetails.
    Task,
    /// A finished task: what is known of it after the step.
    TaskFinished(TaskId),
    /// `exposed/service` or `exposed/process`.
    Exposed { services: bool },
    /// `serviceModel/{id}`.
    ServiceModel(String),
}

/// What a ProcessDetails answer shows: its parts, and which of the instance's tasks
/// (`taskOffset`, `taskLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessShape {
    pub parts: Parts,
    pub task_offset: usize,
    pub task_limit: Option<usize>,
}

/// The process resource's `parts`: `|`-separated names; `none` (or `header` alone) shows the
/// header, anything else the variables and tasks too.
fn process_shape(p: &[(String, String)]) -> Result<ProcessShape, CoreError> {
    const NAMES: [&str; 11] = [
        "header",
        "summary",
        "data",
        "dataModel",
        "diagram",
        "executionTree",
        "actions",
        "relationships",
        "excludeDocs",
        "all",
        "none",
    ];
    let text = param(p, "parts").unwrap_or("all");
    let names: Vec<&str> = text.split('|').map(str::trim).collect();
    if let Some(bad) = names.iter().find(|n| !NAMES.contains(n)) {
        return Err(invalid(
            "CWTBG0012E",
            format!("The value '{bad}' of the parameter 'parts' is not valid."),
        ));
    }
    let parts = if names.iter().all(|n| *n == "none" || *n == "header") {
        Parts::None
    } else {
        Parts::All
    };
    let number = |name: &str| -> Result<Option<i64>, CoreError> {
        param(p, name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    invalid(
                        "CWTBG0012E",
                        format!("The value '{v}' of the parameter '{name}' is not a number."),
                    )
                })
            })
            .transpose()
    };
    Ok(ProcessShape {
        parts,
        task_offset: number("taskOffset")?.unwrap_or(0).max(0) as usize,
        // Zero or negative: no limit, as IBM documents it.
        task_limit: number("taskLimit")?.filter(|n| *n > 0).map(|n| n as usize),
    })
}

/// A BPD id: `25.<key>` names a definition by key; any other value is a declared `ibm-bpm`
/// alias (a real installation's `25.<uuid>`).
pub fn bpd_selector(bpd: &str, version: Option<String>) -> DefinitionSelector {
    selector("25.", bpd, version)
}

/// A service model id (`1.<key>`), an `<acronym>@<name>` alias or a key.
pub fn model_selector(id: &str, version: Option<String>) -> DefinitionSelector {
    selector("1.", id, version)
}

fn selector(prefix: &str, id: &str, version: Option<String>) -> DefinitionSelector {
    DefinitionSelector::Alias {
        dialect: "ibm-bpm".into(),
        name: unprefixed(prefix, id).to_owned(),
        version,
    }
}

/// `25.<key>` → `key`; a prefixed uuid (a real installation's id, declared as an alias) stays.
fn unprefixed<'a>(prefix: &str, id: &'a str) -> &'a str {
    match id.strip_prefix(prefix) {
        Some(key) if !looks_like_uuid(key) => key,
        _ => id,
    }
}

/// Every definition's latest version (exposed items and service models read from these).
pub fn latest_definitions() -> bpm_compat_model::DefinitionQuery {
    bpm_compat_model::DefinitionQuery {
        filter: bpm_compat_model::DefinitionFilter {
            latest: true,
            without_tenant: true,
            ..bpm_compat_model::DefinitionFilter::default()
        },
        sort: bpm_compat_model::DefinitionSort::Key,
        order: bpm_compat_model::SortOrder::Asc,
        start: 0,
        size: 10_000,
    }
}

fn ibm_alias(d: &ProcessDefinition) -> Option<&str> {
    d.aliases
        .iter()
        .find(|a| a.dialect == "ibm-bpm")
        .map(|a| a.name.as_str())
}

/// The definition a service model id, alias or key names.
pub fn find_model<'a>(
    defs: &'a [std::sync::Arc<ProcessDefinition>],
    id: &str,
) -> Option<&'a ProcessDefinition> {
    let key = unprefixed("1.", id);
    defs.iter()
        .map(|d| d.as_ref())
        .find(|d| d.key == key || d.aliases.iter().any(|a| a.dialect == "ibm-bpm" && a.name == id))
}

/// `exposed/service` (definitions with an `<acronym>@<name>` alias: startable services) or
/// `exposed/process` (every BPD).
pub fn exposed(defs: &[std::sync::Arc<ProcessDefinition>], services: bool) -> Value {
    let items: Vec<Value> = defs
        .iter()
        .filter(|d| !d.integration && (!services || ibm_alias(d).is_some_and(|a| a.contains('@'))))
        .map(|d| {
            let name = d.name.clone().unwrap_or_else(|| d.key.clone());
            let acronym = ibm_alias(d)
                .and_then(|a| a.split_once('@'))
                .map(|(a, _)| a.to_owned());
            let (kind, id, run) = if services {
                let alias = ibm_alias(d).unwrap_or_default();
                (
                    "service",
                    format!("1.{}", d.key),
                    format!(
                        "/rest/bpm/wle/v1/service/{}?action=start",
                        alias.replace(' ', "%20")
                    ),
                )
            } else {
                (
                    "process",
                    bpd_id(&d.key),
                    format!("/rest/bpm/wle/v1/process?action=start&bpdId={}", bpd_id(&d.key)),
                )
            };
            json!({
                "ID": id,
                "type": kind,
                "subtype": if services { Value::from("startable_service") } else { Value::Null },
                "display": name,
                "itemID": id,
                "itemReference": id,
                "runURL": run,
                "processAppID": acronym.as_ref().map(|a| format!("2066.{a}")),
                "processAppName": acronym,
                "snapshotID": format!("2064.{}", d.id),
                "snapshotName": d.version_label.clone().unwrap_or_else(|| d.version.to_string()),
                "tip": true,
            })
        })
        .collect();
    json!({"exposedItemsList": items})
}

/// A step's type in IBM's words.
fn step_type(kind: &bpm_compat_model::ActivityKind) -> &'static str {
    use bpm_compat_model::ActivityKind as K;
    match kind {
        K::StartEvent { .. } => "Start",
        K::EndEvent => "End",
        K::UserTask => "Coach",
        K::ServiceTask => "IntegrationService",
        K::ScriptTask => "Script",
        K::ReceiveTask => "Wait",
        K::Task => "Task",
        K::ExclusiveGateway => "Decision",
        K::ParallelGateway => "ParallelGateway",
    }
}

/// The service model of a definition (seed 003's `ServiceModel`: header, diagram, dataModel).
pub fn service_model(d: &ProcessDefinition) -> Value {
    let shape = |id: &str| {
        d.layout
            .iter()
            .flat_map(|l| &l.shapes)
            .find(|s| s.element == id)
            .map_or((0, 0), |s| {
                ((s.x + s.width / 2.0) as i64, (s.y + s.height / 2.0) as i64)
            })
    };
    let steps: Vec<Value> = d
        .activities
        .iter()
        .map(|a| {
            let (x, y) = shape(&a.id);
            let lines: Vec<Value> = d
                .outgoing(&a.id)
                .map(|f| {
                    let points = d
                        .layout
                        .iter()
                        .flat_map(|l| &l.edges)
                        .find(|e| e.element == f.id)
                        .map(|e| {
                            e.waypoints
                                .iter()
                                .map(|(x, y)| format!("{x},{y}"))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    json!({"to": f.target, "points": points})
                })
                .collect();
            json!({
                "ID": a.id, "name": a.name.clone().unwrap_or_else(|| a.id.clone()), "x": x, "y": y,
                "type": step_type(&a.kind),
                "lines": {"stepLine": lines},
            })
        })
        .collect();
    let mut inputs = Map::new();
    for f in d
        .activities
        .iter()
        .filter_map(|a| a.task.as_ref())
        .flat_map(|t| &t.form_properties)
    {
        let var = f.variable.clone().unwrap_or_else(|| f.id.clone());
        inputs.insert(
            var,
            json!({"type": f.kind.clone().unwrap_or_else(|| "String".into()), "isList": false,
                   "description": f.name.clone().unwrap_or_default()}),
        );
    }
    json!({
        "header": {
            "UUID": format!("1.{}", d.key),
            "type": "Service",
            "name": ibm_alias(d).and_then(|a| a.split_once('@')).map_or_else(|| d.name.clone().unwrap_or_else(|| d.key.clone()), |(_, n)| n.to_owned()),
            "description": d.description.clone().unwrap_or_default(),
            "richDescription": "",
            "snapshotId": format!("2064.{}", d.id),
        },
        "diagram": {"step": steps},
        "dataModel": {"properties": inputs.clone(), "inputs": inputs, "outputs": {}, "validation": {}},
    })
}

fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A definition's BPD id as IBM clients see it.
pub fn bpd_id(key: &str) -> String {
    format!("25.{key}")
}

fn decimal(text: &str, what: &str) -> Result<u64, CoreError> {
    text.parse()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            invalid(
                "CWTBG0547E",
                format!("The {what} ID '{text}' is not valid: it must be decimal."),
            )
        })
}

pub fn parse_process(
    segments: &[&str],
    p: &[(String, String)],
    m: &Method,
    body: &[u8],
    user: Option<String>,
) -> Result<(ResourceOp, Command), CoreError> {
    let writes = *m == Method::POST || *m == Method::PUT;
    let parts = process_shape(p)?;
    match segments {
        ["process"] if *m == Method::POST => {
            match param(p, "action") {
                Some("start") => {}
                Some(other) => {
                    return Err(invalid(
                        "CWTBG0010E",
                        format!("The action '{other}' is not valid."),
                    ))
                }
                None => return Err(invalid("CWTBG0009E", "The action parameter is required.".into())),
            }
            let Some(bpd) = param(p, "bpdId").filter(|b| !b.is_empty()) else {
                return Err(invalid(
                    "CWTBG0011E",
                    "A value is required for the parameter 'bpdId'.".into(),
                ));
            };
            // snapshotId > branchId > processAppId: only a snapshot pins a version here.
            let version = param(p, "snapshotId").map(str::to_owned);
            let vars = variables(p)?;
            Ok((
                ResourceOp::Process(parts),
                Command::StartInstance(StartInstance {
                    definition: bpd_selector(bpd, version),
                    name: None,
                    business_key: None,
                    variables: to_variables(&vars),
                    transient_variables: Vec::new(),
                    start_user: user,
                    origin: Some("ibm-bpm".into()),
                }),
            ))
        }
        ["process", piid] => {
            let id = InstanceId(decimal(piid, "process instance")?);
            match (param(p, "action"), m) {
                (None, &Method::GET) => Ok((
                    ResourceOp::Process(parts),
                    Command::GetInstanceDetails(InstanceRef { id }),
                )),
                (Some("suspend"), _) if writes => Ok((
                    ResourceOp::Process(parts),
                    Command::SetSuspended(SetSuspended { id, suspended: true }),
                )),
                (Some("resume"), _) if writes => Ok((
                    ResourceOp::Process(parts),
                    Command::SetSuspended(SetSuspended { id, suspended: false }),
                )),
                (Some("terminate" | "delete"), _) if writes => Ok((
                    ResourceOp::Process(parts),
                    Command::DeleteInstance(DeleteInstance {
                        id,
                        reason: Some("terminated".into()),
                    }),
                )),
                // Failed instances are ended in the core: none can be retried.
                (Some("update"), _) if writes => {
                    let Some(due) = param(p, "dueDate") else {
                        return Err(invalid(
                            "CWTBG0011E",
                            "A value is required for the parameter 'dueDate'.".into(),
                        ));
                    };
                    let due = Timestamp::parse_iso(due).ok_or_else(|| {
                        invalid(
                            "CWTBG0012E",
                            format!("The value '{due}' of the parameter 'dueDate' is not valid."),
                        )
                    })?;
                    Ok((
                        ResourceOp::Process(parts),
                        Command::UpdateInstance(bpm_compat_model::UpdateInstance {
                            id,
                            due_date: Some(due),
                            ..bpm_compat_model::UpdateInstance::default()
                        }),
                    ))
                }
                (Some("retry"), _) if writes => Ok((
                    ResourceOp::Process(parts),
                    Command::Refuse {
                        error: CoreError::NotAllowed {
                            message: format!("Process instance {id} is not failed and running"),
                        },
                        instance: None,
                    },
                )),
                (Some(other), _) => Err(invalid(
                    "CWTBG0010E",
                    format!("The action '{other}' is not valid."),
                )),
                (None, _) => Err(invalid("CWTBG0009E", "The action parameter is required.".into())),
            }
        }
        ["process", piid, "variables"] if writes => {
            let id = InstanceId(decimal(piid, "process instance")?);
            let values = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => {
                    return Err(invalid(
                        "CWTBG0536E",
                        "The variables must be a JSON object.".into(),
                    ))
                }
                Err(e) => {
                    return Err(invalid(
                        "CWTBG0536E",
                        format!("The variables cannot be parsed as JSON: {e}"),
                    ))
                }
            };
            Ok((
                ResourceOp::ProcessVariables(values.clone()),
                Command::SetVariables(SetVariables {
                    id,
                    variables: to_variables(&values),
                    mode: SetMode::Upsert,
                }),
            ))
        }
        _ => Err(CoreError::Unsupported {
            operation: format!("{m} process/{}", segments[1..].join("/")),
        }),
    }
}

/// IBM's priority names for the core's priority (Flowable's scale, 50 the default).
pub fn priority(p: i32) -> (i32, &'static str) {
    match p {
        75.. => (10, "Highest"),
        60..=74 => (20, "High"),
        40..=59 => (30, "Normal"),
        20..=39 => (40, "Low"),
        _ => (50, "Lowest"),
    }
}

fn core_priority(text: &str) -> Option<i32> {
    Some(match text {
        "Highest" | "10" => 80,
        "High" | "20" => 65,
        "Normal" | "30" => 50,
        "Low" | "40" => 30,
        "Lowest" | "50" => 10,
        _ => return None,
    })
}

pub fn parse_task(
    tkiid: &str,
    p: &[(String, String)],
    m: &Method,
    user: Option<String>,
) -> Result<(crate::OpKind, Command), CoreError> {
    use crate::OpKind;
    let id = TaskId(decimal(tkiid, "task")?);
    let writes = *m == Method::POST || *m == Method::PUT;
    let task_op = OpKind::Resource(ResourceOp::Task);
    let claim = |user: Option<String>| Command::ClaimTask(ClaimTask { id, user });
    match (param(p, "action"), m) {
        (None, &Method::GET) => Ok((task_op, Command::GetHistoricTask(TaskRef { id }))),
        (Some("getData"), _) => {
            let fields: Vec<String> = match (param(p, "fields"), param(p, "field")) {
                (Some(fs), _) => fs
                    .split(',')
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect(),
                (None, Some(f)) => vec![f.to_owned()],
                (None, None) => {
                    return Err(invalid(
                        "CWTBG0011E",
                        "A value is required for the parameter 'fields'.".into(),
                    ))
                }
            };
            let single = fields.len() == 1 && param(p, "field").is_some();
            Ok((
                OpKind::GetData {
                    fields,
                    single,
                    fail_fast: crate::fail_fast(p)?,
                },
                Command::GetTaskVariables {
                    id,
                    scope: Some(VariableScope::Global),
                },
            ))
        }
        (Some("setData"), _) if writes => {
            let values = variables(p)?;
            Ok((
                OpKind::SetData(values.clone()),
                Command::SetTaskVariables {
                    id,
                    scope: VariableScope::Global,
                    variables: to_variables(&values),
                    mode: SetMode::Upsert,
                },
            ))
        }
        (Some("assign"), _) if writes => {
            if flag(p, "toMe")? == Some(true) {
                return Ok((task_op, claim(user)));
            }
            if flag(p, "back")? == Some(true) {
                return Ok((task_op, claim(None)));
            }
            if let Some(to) = param(p, "toUser").filter(|u| !u.is_empty()) {
                return Ok((
                    task_op,
                    Command::UpdateTask(UpdateTask {
                        id,
                        assignee: Some(Some(to.to_owned())),
                        ..UpdateTask::default()
                    }),
                ));
            }
            if let Some(group) = param(p, "toGroup").filter(|g| !g.is_empty()) {
                return Ok((
                    task_op,
                    Command::AddTaskIdentityLink(TaskLinkRef {
                        id,
                        link: IdentityLink {
                            identity: Identity::Group(group.to_owned()),
                            link_type: "candidate".into(),
                        },
                    }),
                ));
            }
            Err(invalid(
                "CWTBG0011E",
                "A value is required for one of the parameters 'toMe', 'toUser', 'toGroup' or 'back'.".into(),
            ))
        }
        // Starting a task claims it for the caller (the coach then runs against it).
        (Some("start"), _) if writes => Ok((task_op, claim(user))),
        (Some("cancel"), _) if writes => Ok((task_op, claim(None))),
        (Some("finish" | "complete"), _) if writes => {
            let vars = variables(p)?;
            Ok((
                OpKind::Resource(ResourceOp::TaskFinished(id)),
                Command::Resume {
                    target: ResumeTarget::Task(id),
                    variables: to_variables(&vars),
                    user,
                },
            ))
        }
        (Some("update"), _) if writes => {
            let due = match param(p, "dueDate") {
                None => None,
                Some(d) => Some(Some(Timestamp::parse_iso(d).ok_or_else(|| {
                    invalid(
                        "CWTBG0012E",
                        format!("The value '{d}' of the parameter 'dueDate' is not valid."),
                    )
                })?)),
            };
            let priority = match param(p, "priority") {
                None => None,
                Some(text) => Some(core_priority(text).ok_or_else(|| {
                    invalid(
                        "CWTBG0012E",
                        format!("The value '{text}' of the parameter 'priority' is not valid."),
                    )
                })?),
            };
            Ok((
                task_op,
                Command::UpdateTask(UpdateTask {
                    id,
                    due_date: due,
                    priority,
                    ..UpdateTask::default()
                }),
            ))
        }
        (Some(other), _) => Err(invalid(
            "CWTBG0010E",
            format!("The action '{other}' is not valid."),
        )),
        (None, _) => Err(invalid("CWTBG0009E", "The action parameter is required.".into())),
    }
}

fn iso(t: Timestamp) -> String {
    let s = t.to_iso_millis();
    format!("{}Z", &s[..19])
}

fn opt_iso(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::from(iso(t)))
}

/// TaskDetails.
pub fn task_details(t: &Task) -> Value {
    let (state, status) = match (t.is_open(), &t.assignee) {
        (false, _) => ("STATE_FINISHED", "Closed"),
        (true, Some(_)) => ("STATE_CLAIMED", "Received"),
        (true, None) => ("STATE_READY", "Received"),
    };
    let (prio, prio_name) = priority(t.priority);
    let name = t.name.clone().unwrap_or_else(|| t.task_definition_key.clone());
    let data: Map<String, Value> = t.variables.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
    json!({
        "tkiid": t.id.to_string(),
        "name": name,
        "displayName": format!("Step: {name}"),
        "description": t.description.clone().unwrap_or_default(),
        "state": state,
        "status": status,
        "kind": "KIND_PARTICIPATING",
        "priority": prio,
        "priorityName": prio_name,
        "activationTime": iso(t.create_time),
        "startTime": opt_iso(t.claim_time),
        "completionTime": opt_iso(t.end_time),
        "dueTime": opt_iso(t.due_date),
        "lastModificationTime": iso(t.end_time.or(t.claim_time).unwrap_or(t.create_time)),
        "assignedTo": t.assignee.clone().or_else(|| t.candidates.first().map(|c| match c {
            Identity::User(u) => u.clone(),
            Identity::Group(g) => g.clone(),
        })),
        "assignedToType": match (&t.assignee, t.candidates.first()) {
            (Some(_), _) => "user",
            (None, Some(Identity::Group(_))) => "group",
            _ => "user",
        },
        "owner": t.owner.clone(),
        "originator": Value::Null,
        "clientTypes": ["IBM_WLE_Coach"],
        "containmentContextID": t.instance_id.to_string(),
        "processInstanceName": Value::Null,
        "data": {"variables": data},
    })
}

/// IBM's two state words for an instance.
fn states(s: InstanceState) -> (&'static str, &'static str) {
    match s {
        InstanceState::Active => ("Active", "STATE_RUNNING"),
        InstanceState::Suspended => ("Suspended", "STATE_SUSPENDED"),
        InstanceState::Completed => ("Completed", "STATE_FINISHED"),
        InstanceState::Failed | InstanceState::FailedEscalated => ("Failed", "STATE_FAILED"),
        InstanceState::Terminated => ("Terminated", "STATE_TERMINATED"),
    }
}

/// ProcessDetails; `tasks` when known.
pub fn process_details(view: &InstanceView, tasks: Option<&[Task]>, shape: ProcessShape) -> Value {
    let parts = shape.parts;
    let i = &view.instance;
    let d = &view.definition;
    let (execution_state, state) = states(i.state);
    let template = d.name.clone().unwrap_or_else(|| d.key.clone());
    let mut m = Map::new();
    m.insert("piid".into(), Value::from(i.id.to_string()));
    m.insert(
        "name".into(),
        Value::from(i.name.clone().unwrap_or_else(|| format!("{template} ({})", i.id))),
    );
    m.insert(
        "description".into(),
        Value::from(d.description.clone().unwrap_or_default()),
    );
    m.insert("executionState".into(), Value::from(execution_state));
    m.insert("state".into(), Value::from(state));
    m.insert("creationTime".into(), Value::from(iso(i.start_time)));
    m.insert(
        "lastModificationTime".into(),
        Value::from(iso(i.end_time.unwrap_or(i.start_time))),
    );
    m.insert("dueDate".into(), opt_iso(i.due_date));
    m.insert("processTemplateID".into(), Value::from(bpd_id(&d.key)));
    m.insert("processTemplateName".into(), Value::from(template));
    let app = d
        .aliases
        .iter()
        .find(|a| a.dialect == "ibm-bpm")
        .and_then(|a| a.name.split_once('@'))
        .map(|(acronym, _)| acronym.to_owned());
    m.insert("processAppAcronym".into(), app.map_or(Value::Null, Value::from));
    m.insert(
        "snapshotName".into(),
        Value::from(d.version_label.clone().unwrap_or_else(|| d.version.to_string())),
    );
    m.insert("snapshotID".into(), Value::from(format!("2064.{}", d.id)));
    if parts == Parts::None {
        return Value::Object(m);
    }
    let vars: Map<String, Value> = i.variables.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
    m.insert("variables".into(), Value::Object(vars));
    if parts == Parts::Data {
        return Value::Object(m);
    }
    m.insert("comments".into(), json!([]));
    if let Some(tasks) = tasks {
        let page = tasks
            .iter()
            .skip(shape.task_offset)
            .take(shape.task_limit.unwrap_or(usize::MAX));
        m.insert("tasks".into(), Value::Array(page.map(task_details).collect()));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpd_ids_name_keys_or_declared_aliases() {
        let alias = |s: &DefinitionSelector| match s {
            DefinitionSelector::Alias { name, .. } => name.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(
            alias(&bpd_selector("25.expenseApproval", None)),
            "expenseApproval"
        );
        let uuid = "25.2e0f3c1a-1b2c-4d5e-8f90-123456789abc";
        assert_eq!(
            alias(&bpd_selector(uuid, None)),
            uuid,
            "a real BPD id is looked up as an alias"
        );
        assert_eq!(bpd_id("expenseApproval"), "25.expenseApproval");
    }

    #[test]
    fn task_details_follow_the_task() {
        let mut t = Task {
            id: TaskId(31),
            instance_id: InstanceId(7),
            task_definition_key: "approve".into(),
            name: Some("Approve".into()),
            priority: 50,
            create_time: Timestamp(1_303_928_554_000),
            candidates: vec![Identity::Group("managers".into())],
            ..Task::default()
        };
        let d = task_details(&t);
        assert_eq!(
            (
                d["tkiid"].clone(),
                d["state"].clone(),
                d["status"].clone(),
                d["priorityName"].clone()
            ),
            (
                json!("31"),
                json!("STATE_READY"),
                json!("Received"),
                json!("Normal")
            )
        );
        assert_eq!(
            (d["assignedTo"].clone(), d["assignedToType"].clone()),
            (json!("managers"), json!("group"))
        );
        assert_eq!(d["activationTime"], "2011-04-27T18:22:34Z");
        assert_eq!(d["containmentContextID"], "7");
        t.assignee = Some("jdoe".into());
        assert_eq!(task_details(&t)["state"], "STATE_CLAIMED");
        t.end_time = Some(Timestamp(1_303_928_600_000));
        let done = task_details(&t);
        assert_eq!(
            (done["state"].clone(), done["status"].clone()),
            (json!("STATE_FINISHED"), json!("Closed"))
        );
        assert_eq!(done["completionTime"], "2011-04-27T18:23:20Z");
    }

    #[test]
    fn process_details_page_their_tasks_and_honour_parts() {
        let definition = ProcessDefinition {
            id: "p:1:1".into(),
            key: "p".into(),
            name: Some("Purchase".into()),
            version: 1,
            aliases: vec![bpm_compat_model::Alias {
                dialect: "ibm-bpm".into(),
                name: "PUR@Purchase".into(),
            }],
            ..ProcessDefinition::default()
        };
        let instance = bpm_compat_model::NewInstance {
            definition_id: "p:1:1".into(),
            definition_key: "p".into(),
            definition_version: 1,
            tenant_id: String::new(),
            name: None,
            business_key: None,
            state: InstanceState::Suspended,
            activity_id: None,
            tokens: Vec::new(),
            start_activity_id: None,
            end_activity_id: None,
            start_time: Timestamp(0),
            end_time: None,
            start_user_id: None,
            origin: None,
            variables: bpm_compat_model::Variables::new(),
            identity_links: Vec::new(),
            tasks: Vec::new(),
            activities: Vec::new(),
        }
        .with_id(InstanceId(9));
        let view = InstanceView {
            definition: std::sync::Arc::new(definition),
            instance,
        };
        let tasks: Vec<Task> = (1..=3)
            .map(|n| Task {
                id: TaskId(n),
                ..Task::default()
            })
            .collect();
        let all = ProcessShape {
            parts: Parts::All,
            task_offset: 1,
            task_limit: Some(1),
        };
        let d = process_details(&view, Some(&tasks), all);
        assert_eq!(
            (
                d["piid"].clone(),
                d["executionState"].clone(),
                d["state"].clone(),
                d["processAppAcronym"].clone()
            ),
            (
                json!("9"),
                json!("Suspended"),
                json!("STATE_SUSPENDED"),
                json!("PUR")
            )
        );
        assert_eq!(d["name"], "Purchase (9)");
        let ids: Vec<&Value> = d["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| &t["tkiid"])
            .collect();
        assert_eq!(ids, vec![&json!("2")], "taskOffset 1, taskLimit 1");
        let header = process_details(
            &view,
            Some(&tasks),
            ProcessShape {
                parts: Parts::None,
                ..all
            },
        );
        assert!(
            header.get("variables").is_none() && header.get("tasks").is_none(),
            "{header}"
        );
    }

    #[test]
    fn priorities_map_both_ways() {
        assert_eq!(priority(50), (30, "Normal"), "the core's default is IBM's Normal");
        for name in ["Highest", "High", "Normal", "Low", "Lowest"] {
            let core = core_priority(name).expect("known");
            assert_eq!(priority(core).1, name);
        }
        assert_eq!(core_priority("Urgent"), None);
    }
}
