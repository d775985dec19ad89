//! Request → [`Command`]: validation in Flowable's order and words, then the neutral command.
//! Pure: everything comes from the request and the [`RequestCtx`]; nothing here can panic.

use bpm_compat_model::{
    Blob, Claim, Command, CoreError, DefinitionSelector, DeleteInstance, DeleteInstances, IdentityLink,
    IdentityLinkRef, InstanceFilter, InstanceId, InstanceQuery, InstanceRef, InstanceSort, RequestCtx,
    SetMode, SetSuspended, SetVariables, SortOrder, StartInstance, TaskLinkRef, TaskRef, TextMatch,
    Timestamp, UpdateInstance, Variable, VariableFilter, VariableOp, VariableRef, VariableScope,
    VariableValue, Variables,
};
use bytes::Bytes;
use http::{header, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ids::{filter_instance_id, parse_instance_id};
use crate::multipart;
use crate::routes::{LinkFamily, ListShape, Op, VarScope};
use crate::variables;
use crate::wire::{
    BulkDeleteInstancesRestActionRequest, ProcessInstanceCreateRequest, ProcessInstanceQueryRequest,
    ProcessInstanceUpdateRequest, QueryVariable, RestIdentityLinkRequest, RestVariableRequest,
    TaskActionRequest,
};
use crate::{executions, repository, tasks};

/// The query string, decoded; the first of repeated names wins (Spring's `@RequestParam`).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(req: &Request<Bytes>) -> Params {
        let pairs = req
            .uri()
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default();
        Params(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The fields of a JSON query body (`POST query/tasks` and friends) as parameters of the
    /// matching GET list, ahead of the URL's own (the body wins): text as is, numbers and
    /// booleans as text, arrays of text comma-separated; `null` is absent. Variable filters
    /// (arrays of objects) are refused, not ignored.
    pub fn with_body(req: &Request<Bytes>, body: Value) -> Result<Params, CoreError> {
        let Value::Object(map) = body else {
            return Err(CoreError::invalid(
                "JSON parse error: the query body must be a JSON object",
            ));
        };
        let mut pairs = Vec::new();
        for (name, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) if items.is_empty() => continue,
                Value::Array(items) if items.iter().all(Value::is_string) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                _ => {
                    return Err(CoreError::invalid(format!(
                        "Query body field '{name}' is not supported by bpm-compat yet."
                    )))
                }
            };
            pairs.push((name, text));
        }
        pairs.extend(Params::of(req).0);
        Ok(Params(pairs))
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// `Boolean.valueOf`: `true` in any case is true, anything else false.
    fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A comma-separated list (`RequestUtil.parseToList`); empty text is no list.
    fn csv(&self, name: &str) -> Option<Vec<String>> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(str::to_string).collect())
    }
}

/// Routes' `Op` plus the request → the refined `Op` and the command.
pub fn parse(op: Op, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
    let params = Params::of(req);
    let instance = |id: &str| parse_instance_id(id).map(|id| InstanceRef { id });
    match op {
        Op::ListInstances { .. } => {
            let q = query_from_params(&params)?;
            let (query, shape) = build_query(q)?;
            Ok((Op::ListInstances { shape }, Command::ListInstances(query)))
        }
        Op::QueryInstances { .. } => {
            let mut q: ProcessInstanceQueryRequest = json_body(req)?;
            // Paging may come from the URL; the body wins.
            q.start = q.start.or_else(|| params.string("start").map(Value::String));
            q.size = q.size.or_else(|| params.string("size").map(Value::String));
            q.sort = q.sort.or_else(|| params.string("sort"));
            q.order = q.order.or_else(|| params.string("order"));
            let (query, shape) = build_query(q)?;
            Ok((Op::QueryInstances { shape }, Command::ListInstances(query)))
        }
        Op::StartInstance => Ok((Op::StartInstance, start(json_body(req)?, ctx)?)),
        Op::ListTasks { .. } => {
            let (query, shape) = tasks::task_query(&params)?;
            Ok((Op::ListTasks { shape }, Command::ListTasks(query)))
        }
        Op::QueryTasks { .. } => {
            let mut body: Value = json_body(req)?;
            let own = take_variable_filters(&mut body, "taskVariables")?;
            let instance_vars = take_variable_filters(&mut body, "processInstanceVariables")?;
            let mut params = Params::with_body(req, body)?;
            // The body's name for the GET's `candidateGroups`.
            if let Some(groups) = params.get("candidateGroupIn").map(str::to_owned) {
                params.0.insert(0, ("candidateGroups".into(), groups));
            }
            let (mut query, shape) = tasks::task_query(&params)?;
            query.filter.variables = own;
            query.filter.instance_variables = instance_vars;
            Ok((Op::QueryTasks { shape }, Command::ListTasks(query)))
        }
        Op::QueryHistoricInstances { .. } => {
            let mut body: Value = json_body(req)?;
            let vars = take_variable_filters(&mut body, "variables")?;
            let params = Params::with_body(req, body)?;
            let (mut query, shape) = tasks::historic_instance_query(&params)?;
            query.filter.variables = vars;
            Ok((
                Op::QueryHistoricInstances { shape },
                Command::ListInstances(query),
            ))
        }
        Op::QueryHistoricTasks { .. } => {
            let mut body: Value = json_body(req)?;
            let own = take_variable_filters(&mut body, "taskVariables")?;
            let instance_vars = take_variable_filters(&mut body, "processVariables")?;
            let params = Params::with_body(req, body)?;
            let (mut query, shape) = tasks::historic_task_query(&params)?;
            query.filter.variables = own;
            query.filter.instance_variables = instance_vars;
            Ok((Op::QueryHistoricTasks { shape }, Command::ListTasks(query)))
        }
        Op::GetTask { id } => {
            let r = TaskRef {
                id: tasks::parse_task_id(&id)?,
            };
            Ok((Op::GetTask { id }, Command::GetTask(r)))
        }
        Op::TaskAction { id, .. } => {
            // Flowable looks the task up before it reads the body.
            let task = tasks::parse_task_id(&id)?;
            let body: TaskActionRequest = json_body(req)?;
            let action = body.action.clone().unwrap_or_default();
            let cmd = tasks::task_action(task, body, ctx)?;
            Ok((Op::TaskAction { id, action }, cmd))
        }
        Op::UpdateTask { id } => {
            let task = tasks::parse_task_id(&id)?;
            let cmd = tasks::task_update(task, json_body(req)?)?;
            Ok((Op::UpdateTask { id }, cmd))
        }
        Op::ListTaskIdentityLinks { id } => {
            let r = TaskRef {
                id: tasks::parse_task_id(&id)?,
            };
            Ok((Op::ListTaskIdentityLinks { id }, Command::GetTaskIdentityLinks(r)))
        }
        Op::AddTaskIdentityLink { id, .. } => {
            let task = tasks::parse_task_id(&id)?;
            let link = tasks::task_link_body(json_body(req)?)?;
            let cmd = Command::AddTaskIdentityLink(TaskLinkRef {
                id: task,
                link: link.clone(),
            });
            Ok((Op::AddTaskIdentityLink { id, link: Some(link) }, cmd))
        }
        Op::GetTaskIdentityLink {
            ref id,
            ref family,
            ref identity,
            ref link_type,
        }
        | Op::DeleteTaskIdentityLink {
            ref id,
            ref family,
            ref identity,
            ref link_type,
        } => {
            let task = tasks::parse_task_id(id)?;
            let link = identity_link_path(family, identity, link_type)?;
            let cmd = match op {
                Op::GetTaskIdentityLink { .. } => Command::GetTaskIdentityLinks(TaskRef { id: task }),
                _ => Command::RemoveTaskIdentityLink(TaskLinkRef { id: task, link }),
            };
            Ok((op, cmd))
        }
        Op::ListTaskVariables { id } => {
            let task = tasks::parse_task_id(&id)?;
            let scope = tasks::task_scope(params.get("scope"))?;
            Ok((
                Op::ListTaskVariables { id },
                Command::GetTaskVariables { id: task, scope },
            ))
        }
        Op::CreateTaskVariables { id } => {
            let task = tasks::parse_task_id(&id)?;
            let (variables, scope) = tasks::task_variables_body(json_body(req)?)?;
            let cmd = Command::SetTaskVariables {
                id: task,
                scope,
                variables,
                mode: SetMode::Create,
            };
            Ok((Op::CreateTaskVariables { id }, cmd))
        }
        Op::GetTaskVariable { id, name } => {
            let task = tasks::parse_task_id(&id)?;
            let scope = tasks::task_scope(params.get("scope"))?;
            Ok((
                Op::GetTaskVariable { id, name },
                Command::GetTaskVariables { id: task, scope },
            ))
        }
        Op::UpdateTaskVariable { id, name } => {
            let task = tasks::parse_task_id(&id)?;
            let (variable, scope) = tasks::task_variable_body(json_body(req)?, &name)?;
            let cmd = Command::SetTaskVariables {
                id: task,
                scope,
                variables: vec![variable],
                mode: SetMode::Update,
            };
            Ok((Op::UpdateTaskVariable { id, name }, cmd))
        }
        Op::DeleteTaskVariable { id, name } => {
            let task = tasks::parse_task_id(&id)?;
            let scope = tasks::task_scope(params.get("scope"))?.unwrap_or(VariableScope::Local);
            let cmd = Command::DeleteTaskVariable {
                id: task,
                scope,
                name: name.clone(),
            };
            Ok((Op::DeleteTaskVariable { id, name }, cmd))
        }
        Op::ListExecutions { .. } => {
            let (cmd, shape) = executions::execution_query(&params)?;
            let with_root = params.get("activityId").is_none();
            Ok((Op::ListExecutions { shape, with_root }, cmd))
        }
        Op::GetExecution { id } => {
            let (instance, key) = executions::parse_execution_id(&id)?;
            let cmd = Command::GetExecutions {
                instance,
                key,
                activity_id: None,
            };
            Ok((Op::GetExecution { id }, cmd))
        }
        Op::ExecutionAction { id } => {
            executions::parse_execution_id(&id)?;
            let cmd = executions::execution_action(&id, json_body(req)?)?;
            Ok((Op::ExecutionAction { id }, cmd))
        }
        Op::ListHistoricInstances { .. } => {
            let (query, shape) = tasks::historic_instance_query(&params)?;
            Ok((Op::ListHistoricInstances { shape }, Command::ListInstances(query)))
        }
        Op::ListHistoricTasks { .. } => {
            let (query, shape) = tasks::historic_task_query(&params)?;
            Ok((Op::ListHistoricTasks { shape }, Command::ListTasks(query)))
        }
        Op::GetHistoricTask { id } => {
            let r = TaskRef {
                id: tasks::parse_task_id(&id)?,
            };
            Ok((Op::GetHistoricTask { id }, Command::GetHistoricTask(r)))
        }
        Op::ListHistoricActivities { .. } => {
            let (query, shape) = tasks::historic_activity_query(&params)?;
            Ok((
                Op::ListHistoricActivities { shape },
                Command::ListActivities(query),
            ))
        }
        Op::ListDeployments { .. } => {
            let (query, shape) = repository::deployment_query(&params)?;
            Ok((Op::ListDeployments { shape }, Command::ListDeployments(query)))
        }
        Op::Deploy => Ok((Op::Deploy, repository::deploy(req, &params)?)),
        Op::GetDeployment { id } => Ok((Op::GetDeployment { id: id.clone() }, Command::GetDeployment(id))),
        Op::DeleteDeployment { id } => Ok((
            Op::DeleteDeployment { id: id.clone() },
            Command::DeleteDeployment(id),
        )),
        Op::GetDeploymentResourceData { id, name } => Ok((
            Op::GetDeploymentResourceData {
                id: id.clone(),
                name: name.clone(),
            },
            Command::GetDeploymentResource { deployment: id, name },
        )),
        Op::ListDefinitions { .. } => {
            let (query, shape) = repository::definition_query(&params)?;
            Ok((Op::ListDefinitions { shape }, Command::ListDefinitions(query)))
        }
        Op::GetDefinition { id } => Ok((Op::GetDefinition { id: id.clone() }, Command::GetDefinition(id))),
        Op::GetDefinitionResourceData { id } => Ok((
            Op::GetDefinitionResourceData { id: id.clone() },
            Command::GetDefinitionResource(id),
        )),
        Op::GetHistoricVariableData { id, name } => {
            let r = instance(&id)?;
            Ok((
                Op::GetHistoricVariableData { id, name },
                Command::GetHistoricInstance(r),
            ))
        }
        Op::GetHistoricInstance { id } => {
            let r = instance(&id)?;
            Ok((Op::GetHistoricInstance { id }, Command::GetHistoricInstance(r)))
        }
        Op::ListInstanceComments { id } => {
            let r = instance(&id)?;
            Ok((Op::ListInstanceComments { id }, Command::GetComments(r)))
        }
        Op::GetInstanceComment { id, comment } => {
            let r = instance(&id)?;
            Ok((Op::GetInstanceComment { id, comment }, Command::GetComments(r)))
        }
        Op::CreateInstanceComment { id } => {
            let r = instance(&id)?;
            let command = crate::comments::create(r.id, req, ctx)?;
            Ok((Op::CreateInstanceComment { id }, command))
        }
        Op::DeleteInstances => Ok((Op::DeleteInstances, bulk_delete(json_body(req)?)?)),
        Op::GetInstance { id } => {
            let r = instance(&id)?;
            Ok((Op::GetInstance { id }, Command::GetInstance(r)))
        }
        Op::UpdateInstance { id } => {
            let r = instance(&id)?;
            let cmd = update(r.id, json_body(req)?, ctx)?;
            Ok((Op::UpdateInstance { id }, cmd))
        }
        Op::DeleteInstance { id } => {
            let r = instance(&id)?;
            let cmd = Command::DeleteInstance(DeleteInstance {
                id: r.id,
                reason: params.string("deleteReason"),
            });
            Ok((Op::DeleteInstance { id }, cmd))
        }
        Op::GetDiagram { id } => {
            let r = instance(&id)?;
            Ok((Op::GetDiagram { id }, Command::GetDiagram(r)))
        }
        Op::ListIdentityLinks { id } => {
            let r = instance(&id)?;
            Ok((Op::ListIdentityLinks { id }, Command::GetIdentityLinks(r)))
        }
        Op::AddIdentityLink { id, .. } => {
            let r = instance(&id)?;
            let link = identity_link_body(json_body(req)?)?;
            let cmd = Command::AddIdentityLink(IdentityLinkRef {
                id: r.id,
                link: link.clone(),
            });
            Ok((Op::AddIdentityLink { id, link: Some(link) }, cmd))
        }
        Op::GetIdentityLink {
            ref id,
            ref family,
            ref identity,
            ref link_type,
        }
        | Op::DeleteIdentityLink {
            ref id,
            ref family,
            ref identity,
            ref link_type,
        } => {
            let r = IdentityLinkRef {
                id: instance(id)?.id,
                link: identity_link_path(family, identity, link_type)?,
            };
            let cmd = match op {
                Op::GetIdentityLink { .. } => Command::GetIdentityLink(r),
                _ => Command::RemoveIdentityLink(r),
            };
            Ok((op, cmd))
        }
        Op::ListVariables { id, .. } => {
            let scope = scope_param(&params)?;
            let r = instance(&id)?;
            Ok((Op::ListVariables { id, scope }, Command::GetVariables(r)))
        }
        Op::CreateVariables { id, .. } => {
            let r = instance(&id)?;
            let (variables, multipart) = collection_body(req, &id)?;
            let cmd = Command::SetVariables(SetVariables {
                id: r.id,
                variables,
                mode: SetMode::Create,
            });
            Ok((Op::CreateVariables { id, multipart }, cmd))
        }
        Op::UpsertVariables { id, .. } => {
            let r = instance(&id)?;
            let (variables, multipart) = collection_body(req, &id)?;
            let cmd = Command::SetVariables(SetVariables {
                id: r.id,
                variables,
                mode: SetMode::Upsert,
            });
            Ok((Op::UpsertVariables { id, multipart }, cmd))
        }
        Op::DeleteVariables { id } => {
            let r = instance(&id)?;
            Ok((Op::DeleteVariables { id }, Command::DeleteVariables(r)))
        }
        Op::GetVariable { id, name, .. } => {
            let scope = scope_param(&params)?;
            let r = instance(&id)?;
            let cmd = Command::GetVariable(VariableRef {
                id: r.id,
                name: name.clone(),
            });
            Ok((Op::GetVariable { id, name, scope }, cmd))
        }
        Op::UpdateVariable { id, name, .. } => {
            let r = instance(&id)?;
            let (variable, multipart) = if is_multipart(req) {
                (multipart_variable(req, &id)?, true)
            } else {
                let body: RestVariableRequest = json_body(req)?;
                (single_variable(body, &id)?, false)
            };
            if variable.name != name {
                return Err(CoreError::invalid(
                    "Variable name in the body should be equal to the name used in the requested URL.",
                ));
            }
            let cmd = Command::SetVariables(SetVariables {
                id: r.id,
                variables: vec![variable],
                mode: SetMode::Update,
            });
            Ok((Op::UpdateVariable { id, name, multipart }, cmd))
        }
        Op::DeleteVariable { id, name, .. } => {
            let scope = scope_param(&params)?;
            let r = instance(&id)?;
            let cmd = match scope {
                VarScope::Local => Command::DeleteVariable(VariableRef {
                    id: r.id,
                    name: name.clone(),
                }),
                // An instance has no global variables: only check that it exists; render
                // answers the missing variable.
                VarScope::Global => Command::GetVariables(r),
            };
            Ok((Op::DeleteVariable { id, name, scope }, cmd))
        }
        Op::GetVariableData { id, name } => {
            let r = instance(&id)?;
            let cmd = Command::GetVariable(VariableRef {
                id: r.id,
                name: name.clone(),
            });
            Ok((Op::GetVariableData { id, name }, cmd))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bodies

fn content_type(req: &Request<Bytes>) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_multipart(req: &Request<Bytes>) -> bool {
    content_type(req).is_some_and(|ct| essence(&ct) == "multipart/form-data")
}

/// Reads a JSON body. A missing `Content-Type` is taken as JSON (lenient: `curl -d` users);
/// any other media type is a 415, as Spring answers.
pub fn json_body<T: DeserializeOwned>(req: &Request<Bytes>) -> Result<T, CoreError> {
    if let Some(ct) = content_type(req) {
        let e = essence(&ct);
        if !(e == "application/json" || (e.starts_with("application/") && e.ends_with("+json"))) {
            return Err(CoreError::UnsupportedMedia { content_type: ct });
        }
    }
    let body = req.body();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(CoreError::invalid("Required request body is missing"));
    }
    serde_json::from_slice(body).map_err(|e| CoreError::invalid(format!("JSON parse error: {e}")))
}

// ---------------------------------------------------------------------------------------
// Instances

/// Typed variables from their REST form, in order. A name given twice stays twice, as in
/// Flowable's echo of a create; whoever stores them keeps the last (a Java map).
pub(crate) fn named_variables(
    list: Vec<RestVariableRequest>,
    missing_name: &str,
) -> Result<Vec<Variable>, CoreError> {
    list.into_iter()
        .map(|v| {
            let name = v.name.ok_or_else(|| CoreError::invalid(missing_name))?;
            let value = variables::from_rest(&name, v.type_name.as_deref(), &v.value)?;
            Ok(Variable::new(name, value))
        })
        .collect()
}

fn start(body: ProcessInstanceCreateRequest, ctx: &RequestCtx) -> Result<Command, CoreError> {
    let set = [
        body.process_definition_id.is_some(),
        body.process_definition_key.is_some(),
        body.message.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set == 0 {
        return Err(CoreError::invalid(
            "Either processDefinitionId, processDefinitionKey or message is required.",
        ));
    }
    if set > 1 {
        return Err(CoreError::invalid(
            "Only one of processDefinitionId, processDefinitionKey or message should be set.",
        ));
    }
    let tenant = body.tenant_id.clone().filter(|t| !t.is_empty());
    if tenant.is_some() && body.process_definition_id.is_some() {
        return Err(CoreError::invalid(
            "TenantId can only be used with either processDefinitionKey or message.",
        ));
    }
    let tenant_id = tenant.unwrap_or_default();
    let definition = match (
        body.process_definition_id,
        body.process_definition_key,
        body.message,
    ) {
        (Some(id), _, _) => DefinitionSelector::Id(id),
        (_, Some(key), _) => DefinitionSelector::Key { key, tenant_id },
        (_, _, Some(name)) => DefinitionSelector::Message { name, tenant_id },
        (None, None, None) => {
            return Err(CoreError::invalid(
                "Either processDefinitionId, processDefinitionKey or message is required.",
            ))
        }
    };
    let mut variables = named_variables(body.variables.unwrap_or_default(), "Variable name is required.")?;
    // Start-form variables are plain start variables here (no form validation); a name in
    // both keeps the form's value (the engine keeps the last of a repeated name).
    variables.extend(named_variables(
        body.start_form_variables.unwrap_or_default(),
        "Variable name is required.",
    )?);
    let transient_variables = named_variables(
        body.transient_variables.unwrap_or_default(),
        "Variable name is required.",
    )?;
    Ok(Command::StartInstance(StartInstance {
        definition,
        name: body.name,
        business_key: body.business_key,
        variables,
        transient_variables,
        start_user: ctx.user.clone(),
        origin: Some("flowable".into()),
    }))
}

fn update(
    id: InstanceId,
    body: ProcessInstanceUpdateRequest,
    ctx: &RequestCtx,
) -> Result<Command, CoreError> {
    match body.action.as_deref().filter(|a| !a.is_empty()) {
        Some("suspend") => Ok(Command::SetSuspended(SetSuspended { id, suspended: true })),
        Some("activate") => Ok(Command::SetSuspended(SetSuspended { id, suspended: false })),
        Some("claim") => {
            let user = body
                .assignee
                .or_else(|| ctx.user.clone())
                .ok_or_else(|| CoreError::invalid("An assignee is required to claim a process instance."))?;
            Ok(Command::UpdateInstance(UpdateInstance {
                id,
                claim: Some(Some(Claim { user, at: ctx.now })),
                ..UpdateInstance::default()
            }))
        }
        Some("unclaim") => Ok(Command::UpdateInstance(UpdateInstance {
            id,
            claim: Some(None),
            ..UpdateInstance::default()
        })),
        Some(other) => Err(CoreError::invalid(format!("Invalid action: '{other}'."))),
        None => {
            let due_date = match body.due_date {
                Some(text) => Some(Timestamp::parse_iso(&text).ok_or_else(|| {
                    CoreError::invalid(format!("JSON parse error: invalid dueDate '{text}'"))
                })?),
                None => None,
            };
            Ok(Command::UpdateInstance(UpdateInstance {
                id,
                name: body.name,
                business_key: body.business_key,
                business_status: body.business_status,
                due_date,
                claim: None,
            }))
        }
    }
}

fn bulk_delete(body: BulkDeleteInstancesRestActionRequest) -> Result<Command, CoreError> {
    if body.action.as_deref() != Some("delete") {
        let action = body.action.as_deref().unwrap_or("null");
        return Err(CoreError::invalid(format!("Illegal action: '{action}'.")));
    }
    let texts = body.instance_ids.unwrap_or_default();
    if texts.is_empty() {
        return Err(CoreError::invalid("instanceIds is required."));
    }
    let mut ids = Vec::with_capacity(texts.len());
    for t in &texts {
        let id = parse_instance_id(t)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(Command::DeleteInstances(DeleteInstances {
        ids,
        reason: body.delete_reason,
    }))
}

// ---------------------------------------------------------------------------------------
// Identity links

fn identity_link_body(body: RestIdentityLinkRequest) -> Result<IdentityLink, CoreError> {
    let user = body.user.or(body.user_id);
    let group = body.group.or(body.group_id);
    if user.is_none() && group.is_none() {
        return Err(CoreError::invalid("User or group are required."));
    }
    let Some(link_type) = body.link_type else {
        return Err(CoreError::invalid("The identity link type is required."));
    };
    // With both, Flowable creates the group link.
    Ok(match (group, user) {
        (Some(g), _) => IdentityLink::group(g, link_type),
        (None, Some(u)) => IdentityLink::user(u, link_type),
        (None, None) => return Err(CoreError::invalid("User or group are required.")),
    })
}

pub fn link_family(family: &str) -> Result<LinkFamily, CoreError> {
    match family {
        "users" => Ok(LinkFamily::Users),
        "groups" => Ok(LinkFamily::Groups),
        _ => Err(CoreError::invalid(
            "Identity link family should be 'users' or 'groups'.",
        )),
    }
}

pub(crate) fn identity_link_path(
    family: &str,
    identity: &str,
    link_type: &str,
) -> Result<IdentityLink, CoreError> {
    Ok(match link_family(family)? {
        LinkFamily::Users => IdentityLink::user(identity, link_type),
        LinkFamily::Groups => IdentityLink::group(identity, link_type),
    })
}

// ---------------------------------------------------------------------------------------
// Variables

fn scope_param(params: &Params) -> Result<VarScope, CoreError> {
    scope_text(params.get("scope"))
}

fn scope_text(scope: Option<&str>) -> Result<VarScope, CoreError> {
    match scope {
        None => Ok(VarScope::Local),
        Some(s) if s.eq_ignore_ascii_case("local") => Ok(VarScope::Local),
        Some(s) if s.eq_ignore_ascii_case("global") => Ok(VarScope::Global),
        Some(s) => Err(CoreError::invalid(format!("Invalid variable scope: '{s}'"))),
    }
}

fn no_global(id: &str) -> CoreError {
    CoreError::invalid(format!(
        "Cannot set global variables on execution '{id}', task is not part of process."
    ))
}

/// A JSON array of variables, or one multipart file; the flag says which.
fn collection_body(req: &Request<Bytes>, id: &str) -> Result<(Vec<Variable>, bool), CoreError> {
    if is_multipart(req) {
        return Ok((vec![multipart_variable(req, id)?], true));
    }
    let list = rest_variable_list(json_body(req)?)?;
    let mut shared: Option<VarScope> = None;
    for v in &list {
        let scope = scope_text(v.scope.as_deref())?;
        match shared {
            None => shared = Some(scope),
            Some(s) if s != scope => {
                return Err(CoreError::invalid(
                    "Only allowed to update multiple variables in the same scope.",
                ))
            }
            Some(_) => {}
        }
    }
    if shared == Some(VarScope::Global) {
        return Err(no_global(id));
    }
    Ok((named_variables(list, "Variable name is required")?, false))
}

/// A JSON array of variables to create (Flowable's checks and words, in its order): not empty,
/// every one named.
pub(crate) fn rest_variable_list(raw: Value) -> Result<Vec<RestVariableRequest>, CoreError> {
    let failed = || CoreError::invalid("Failed to serialize to a RestVariable instance");
    let Value::Array(items) = raw else {
        return Err(failed());
    };
    let mut list = Vec::with_capacity(items.len());
    for item in items {
        list.push(serde_json::from_value::<RestVariableRequest>(item).map_err(|_| failed())?);
    }
    if list.is_empty() {
        return Err(CoreError::invalid(
            "Request did not contain a list of variables to create.",
        ));
    }
    if list.iter().any(|v| v.name.is_none()) {
        return Err(CoreError::invalid("Variable name is required"));
    }
    Ok(list)
}

fn single_variable(body: RestVariableRequest, id: &str) -> Result<Variable, CoreError> {
    let Some(name) = body.name else {
        return Err(CoreError::invalid("Variable name is required"));
    };
    if scope_text(body.scope.as_deref())? == VarScope::Global {
        return Err(no_global(id));
    }
    let value = variables::from_rest(&name, body.type_name.as_deref(), &body.value)?;
    Ok(Variable::new(name, value))
}

/// A binary or serializable variable from a multipart form (Flowable's `setBinaryVariable`).
fn multipart_variable(req: &Request<Bytes>, id: &str) -> Result<Variable, CoreError> {
    let ct = content_type(req).unwrap_or_default();
    let boundary = multipart::boundary(&ct)
        .ok_or_else(|| CoreError::invalid("Failed to parse multipart request: no boundary."))?;
    let parts = multipart::parse(req.body(), &boundary)?;
    let field = |key: &str| {
        parts
            .iter()
            .find(|p| !p.is_file() && p.name.as_deref() == Some(key))
            .map(multipart::Part::text)
    };
    let Some(file) = parts.iter().find(|p| p.is_file()) else {
        return Err(CoreError::invalid("No file content was found in request body."));
    };
    let Some(name) = field("name").filter(|n| !n.is_empty()) else {
        return Err(CoreError::invalid("No variable name was found in request body."));
    };
    if scope_text(field("scope").as_deref().filter(|s| !s.is_empty()))? == VarScope::Global {
        return Err(no_global(id));
    }
    let blob = Blob {
        data: file.data.clone(),
        content_type: file.content_type.clone(),
    };
    let value = match field("type").as_deref() {
        None | Some("") | Some("binary") => VariableValue::Binary(blob),
        Some("serializable") => VariableValue::Serializable(blob),
        Some(_) => {
            return Err(CoreError::invalid(
                "Only 'binary' and 'serializable' are supported as variable type.",
            ))
        }
    };
    Ok(Variable::new(name, value))
}

// ---------------------------------------------------------------------------------------
// Lists and queries

/// The GET list parameters in the query body's names, so both share one builder.
fn query_from_params(p: &Params) -> Result<ProcessInstanceQueryRequest, CoreError> {
    let version = match p.get("processDefinitionVersion") {
        Some(v) => Some(v.trim().parse::<i64>().map_err(|_| {
            CoreError::invalid(format!(
                "Value for param 'processDefinitionVersion' is not a valid number: '{v}'"
            ))
        })?),
        None => None,
    };
    let text = |k: &str| p.string(k).map(Value::String);
    Ok(ProcessInstanceQueryRequest {
        start: text("start"),
        size: text("size"),
        sort: p.string("sort"),
        order: p.string("order"),
        process_instance_id: p.string("id"),
        process_instance_name: p.string("name"),
        process_instance_name_like: p.string("nameLike"),
        process_instance_name_like_ignore_case: p.string("nameLikeIgnoreCase"),
        process_business_key: p.string("businessKey"),
        process_business_key_like: p.string("businessKeyLike"),
        process_business_key_like_ignore_case: p.string("businessKeyLikeIgnoreCase"),
        process_business_status: p.string("businessStatus"),
        process_business_status_like: p.string("businessStatusLike"),
        process_business_status_like_ignore_case: p.string("businessStatusLikeIgnoreCase"),
        process_definition_id: p.string("processDefinitionId"),
        process_definition_key: p.string("processDefinitionKey"),
        process_definition_key_like: p.string("processDefinitionKeyLike"),
        process_definition_key_like_ignore_case: p.string("processDefinitionKeyLikeIgnoreCase"),
        process_definition_name: p.string("processDefinitionName"),
        process_definition_name_like: p.string("processDefinitionNameLike"),
        process_definition_name_like_ignore_case: p.string("processDefinitionNameLikeIgnoreCase"),
        process_definition_category: p.string("processDefinitionCategory"),
        process_definition_category_like: p.string("processDefinitionCategoryLike"),
        process_definition_category_like_ignore_case: p.string("processDefinitionCategoryLikeIgnoreCase"),
        process_definition_version: version,
        process_definition_engine_version: p.string("processDefinitionEngineVersion"),
        started_by: p.string("startedBy"),
        started_before: text("startedBefore"),
        started_after: text("startedAfter"),
        active_activity_id: p.string("activeActivityId"),
        involved_user: p.string("involvedUser"),
        suspended: p.boolean("suspended"),
        super_process_instance_id: p.string("superProcessInstanceId"),
        sub_process_instance_id: p.string("subProcessInstanceId"),
        exclude_subprocesses: p.boolean("excludeSubprocesses"),
        root_scope_id: p.string("rootScopeId"),
        root_scope_ids: p.csv("rootScopeIds"),
        parent_scope_id: p.string("parentScopeId"),
        parent_scope_ids: p.csv("parentScopeIds"),
        callback_id: p.string("callbackId"),
        callback_ids: p.csv("callbackIds"),
        callback_type: p.string("callbackType"),
        parent_case_instance_id: p.string("parentCaseInstanceId"),
        tenant_id: p.string("tenantId"),
        tenant_id_like: p.string("tenantIdLike"),
        tenant_id_like_ignore_case: p.string("tenantIdLikeIgnoreCase"),
        without_tenant_id: p.boolean("withoutTenantId"),
        include_process_variables: p.boolean("includeProcessVariables"),
        include_process_variables_names: p.csv("includeProcessVariablesNames"),
        ..ProcessInstanceQueryRequest::default()
    })
}

/// A paging number: JSON number or numeric text; negative falls back to the default.
pub(crate) fn paging(value: Option<Value>, name: &str, default: usize) -> Result<usize, CoreError> {
    let n = match &value {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n < 0 => Ok(default),
        Some(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        None => {
            let text = match value {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            Err(CoreError::invalid(format!(
                "Value for param '{name}' is not a valid number: '{text}'"
            )))
        }
    }
}

/// Intersects an id restriction with what is already there.
fn restrict<T: PartialEq + Clone>(slot: &mut Option<Vec<T>>, items: Vec<T>) {
    *slot = Some(match slot.take() {
        None => items,
        Some(old) => old.into_iter().filter(|x| items.contains(x)).collect(),
    });
}

/// Adds a text condition to a slot that holds one. `equals` combined with a pattern is exact
/// (the pattern is checked against the value here); two patterns keep the first.
fn add_text(slot: &mut Option<TextMatch>, m: TextMatch, impossible: &mut bool) {
    match (slot.take(), m) {
        (None, m) => *slot = Some(m),
        (Some(TextMatch::Equals(x)), m) | (Some(m), TextMatch::Equals(x)) => {
            if !m.matches(Some(&x)) {
                *impossible = true;
            }
            *slot = Some(TextMatch::Equals(x));
        }
        (Some(old), _) => *slot = Some(old),
    }
}

pub(crate) fn texts(
    slot: &mut Option<TextMatch>,
    equals: Option<String>,
    like: Option<String>,
    like_ignore_case: Option<String>,
    impossible: &mut bool,
) {
    if let Some(v) = equals {
        add_text(slot, TextMatch::Equals(v), impossible);
    }
    if let Some(v) = like {
        add_text(slot, TextMatch::Like(v), impossible);
    }
    if let Some(v) = like_ignore_case {
        add_text(slot, TextMatch::LikeIgnoreCase(v), impossible);
    }
}

pub(crate) fn date_filter(value: Option<Value>) -> Result<Option<Timestamp>, CoreError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|ms| Some(Timestamp(ms)))
            .ok_or_else(|| CoreError::invalid(format!("Failed to parse date {n}"))),
        Some(Value::String(s)) => Timestamp::parse_iso(&s)
            .map(Some)
            .ok_or_else(|| CoreError::invalid(format!("Failed to parse date {s}"))),
        Some(other) => Err(CoreError::invalid(format!("Failed to parse date {other}"))),
    }
}

fn sort_key(sort: &str) -> Option<InstanceSort> {
    Some(match sort {
        "id" => InstanceSort::Id,
        "processDefinitionId" => InstanceSort::DefinitionId,
        "processDefinitionKey" => InstanceSort::DefinitionKey,
        "startTime" => InstanceSort::StartTime,
        "tenantId" => InstanceSort::TenantId,
        "businessKey" => InstanceSort::BusinessKey,
        _ => return None,
    })
}

/// The paging and sorting of a GET list, and the shape its envelope echoes.
pub(crate) struct Listing<S> {
    pub start: usize,
    pub size: usize,
    pub sort: S,
    pub order: SortOrder,
    pub shape: ListShape,
}

/// Reads `start`, `size` (defaults 0 and 10), `sort` (default `default_sort`, mapped by
/// `key`; an unknown key is Flowable's 400) and `order` of a GET list.
pub(crate) fn listing<S>(
    p: &Params,
    default_sort: &str,
    key: impl Fn(&str) -> Option<S>,
) -> Result<Listing<S>, CoreError> {
    let text = |name: &str| p.get(name).map(|v| Value::String(v.into()));
    let start = paging(text("start"), "start", 0)?;
    let size = paging(text("size"), "size", 10)?;
    let sort_name = p.get("sort").unwrap_or(default_sort).to_owned();
    let sort = key(&sort_name).ok_or_else(|| {
        CoreError::invalid(format!(
            "Value for param 'sort' is not valid, '{sort_name}' is not a valid property"
        ))
    })?;
    let (order, order_name) = order_param(p.get("order").map(str::to_owned))?;
    Ok(Listing {
        start,
        size,
        sort,
        order,
        shape: ListShape {
            sort: sort_name,
            order: order_name,
            variables: None,
        },
    })
}

/// The `order` parameter (default `asc`) and its name to echo.
pub(crate) fn order_param(order: Option<String>) -> Result<(SortOrder, String), CoreError> {
    let name = order.unwrap_or_else(|| "asc".into());
    match name.as_str() {
        "asc" => Ok((SortOrder::Asc, name)),
        "desc" => Ok((SortOrder::Desc, name)),
        other => Err(CoreError::invalid(format!(
            "Value for param 'order' is not valid : '{other}', must be 'asc' or 'desc'"
        ))),
    }
}

/// The neutral query and the list shape of a Flowable process-instance query.
pub fn build_query(q: ProcessInstanceQueryRequest) -> Result<(InstanceQuery, ListShape), CoreError> {
    let start = paging(q.start, "start", 0)?;
    let size = paging(q.size, "size", 10)?;
    let sort_name = q.sort.unwrap_or_else(|| "id".into());
    let sort = sort_key(&sort_name).ok_or_else(|| {
        CoreError::invalid(format!(
            "Value for param 'sort' is not valid, '{sort_name}' is not a valid property"
        ))
    })?;
    let (order, order_name) = order_param(q.order)?;

    let mut f = InstanceFilter::default();
    let mut impossible = false;
    let id_list = |texts: Vec<String>| {
        texts
            .iter()
            .filter_map(|t| filter_instance_id(t))
            .collect::<Vec<_>>()
    };
    if let Some(id) = q.process_instance_id {
        restrict(&mut f.ids, id_list(vec![id]));
    }
    if let Some(ids) = q.process_instance_ids {
        restrict(&mut f.ids, id_list(ids));
    }
    // Without call activities every instance is its own root.
    if let Some(id) = q.root_scope_id {
        restrict(&mut f.ids, id_list(vec![id]));
    }
    if let Some(ids) = q.root_scope_ids {
        restrict(&mut f.ids, id_list(ids));
    }
    texts(
        &mut f.name,
        q.process_instance_name,
        q.process_instance_name_like,
        q.process_instance_name_like_ignore_case,
        &mut impossible,
    );
    texts(
        &mut f.business_key,
        q.process_business_key,
        q.process_business_key_like,
        q.process_business_key_like_ignore_case,
        &mut impossible,
    );
    texts(
        &mut f.business_status,
        q.process_business_status,
        q.process_business_status_like,
        q.process_business_status_like_ignore_case,
        &mut impossible,
    );
    texts(
        &mut f.definition_key,
        q.process_definition_key,
        q.process_definition_key_like,
        q.process_definition_key_like_ignore_case,
        &mut impossible,
    );
    if let Some(keys) = q.process_definition_keys {
        restrict(&mut f.definition_keys, keys);
    }
    f.excluded_definition_keys = q.exclude_process_definition_keys;
    if let Some(id) = q.process_definition_id {
        restrict(&mut f.definition_ids, vec![id]);
    }
    if let Some(ids) = q.process_definition_ids {
        restrict(&mut f.definition_ids, ids);
    }
    texts(
        &mut f.definition_name,
        q.process_definition_name,
        q.process_definition_name_like,
        q.process_definition_name_like_ignore_case,
        &mut impossible,
    );
    texts(
        &mut f.definition_category,
        q.process_definition_category,
        q.process_definition_category_like,
        q.process_definition_category_like_ignore_case,
        &mut impossible,
    );
    if let Some(v) = q.process_definition_version {
        match u32::try_from(v) {
            Ok(v) => f.definition_version = Some(v),
            Err(_) => impossible = true,
        }
    }
    // Our definitions carry no engine version and no deployment; instances of called
    // processes, callbacks and case parents do not exist here.
    impossible |= q.process_definition_engine_version.is_some()
        || q.deployment_id.is_some()
        || q.deployment_id_in.is_some()
        || q.super_process_instance_id.is_some()
        || q.sub_process_instance_id.is_some()
        || q.parent_scope_id.is_some()
        || q.parent_scope_ids.is_some()
        || q.callback_id.is_some()
        || q.callback_ids.is_some()
        || q.callback_type.is_some()
        || q.parent_case_instance_id.is_some();
    f.started_by = q.started_by;
    f.started_before = date_filter(q.started_before)?;
    f.started_after = date_filter(q.started_after)?;
    if let Some(a) = q.active_activity_id {
        restrict(&mut f.activity_ids, vec![a]);
    }
    if let Some(a) = q.active_activity_ids {
        restrict(&mut f.activity_ids, a);
    }
    f.involved_user = q.involved_user;
    f.suspended = q.suspended;
    texts(
        &mut f.tenant_id,
        q.tenant_id,
        q.tenant_id_like,
        q.tenant_id_like_ignore_case,
        &mut impossible,
    );
    f.without_tenant = q.without_tenant_id == Some(true);
    for v in q.variables.unwrap_or_default() {
        f.variables.push(query_variable(v)?);
    }
    f.impossible = impossible;

    let variables = match (q.include_process_variables_names, q.include_process_variables) {
        (Some(names), _) => Some(Some(names)),
        (None, Some(true)) => Some(None),
        (None, _) => None,
    };
    let query = InstanceQuery {
        filter: f,
        sort,
        order,
        start,
        size,
        with_details: variables.is_some(),
    };
    let shape = ListShape {
        sort: sort_name,
        order: order_name,
        variables,
    };
    Ok((query, shape))
}

fn variable_op(name: &str) -> Option<VariableOp> {
    Some(match name {
        "equals" => VariableOp::Equals,
        "notEquals" => VariableOp::NotEquals,
        "equalsIgnoreCase" => VariableOp::EqualsIgnoreCase,
        "notEqualsIgnoreCase" => VariableOp::NotEqualsIgnoreCase,
        "like" => VariableOp::Like,
        "likeIgnoreCase" => VariableOp::LikeIgnoreCase,
        "lessThan" => VariableOp::LessThan,
        "lessThanOrEquals" => VariableOp::LessThanOrEquals,
        "greaterThan" => VariableOp::GreaterThan,
        "greaterThanOrEquals" => VariableOp::GreaterThanOrEquals,
        "exists" => VariableOp::Exists,
        "notExists" => VariableOp::NotExists,
        _ => return None,
    })
}

/// Takes the variable filters (`[{name, value, operation, type}]`) out of a query body.
fn take_variable_filters(body: &mut Value, field: &str) -> Result<Vec<VariableFilter>, CoreError> {
    let Some(raw) = body.as_object_mut().and_then(|m| m.remove(field)) else {
        return Ok(Vec::new());
    };
    if raw.is_null() {
        return Ok(Vec::new());
    }
    let items: Vec<QueryVariable> = serde_json::from_value(raw)
        .map_err(|e| CoreError::invalid(format!("JSON parse error: '{field}': {e}")))?;
    items.into_iter().map(query_variable).collect()
}

/// One `variables[]` item of a query body (Flowable's `QueryVariable` validation).
pub fn query_variable(q: QueryVariable) -> Result<VariableFilter, CoreError> {
    let label = q.name.clone().unwrap_or_else(|| "null".into());
    let Some(op_name) = q.operation else {
        return Err(CoreError::invalid(format!(
            "Variable operation is missing for variable: {label}"
        )));
    };
    let op = variable_op(&op_name)
        .ok_or_else(|| CoreError::invalid(format!("Unsupported variable query operation: {op_name}")))?;
    let valueless = matches!(op, VariableOp::Exists | VariableOp::NotExists);
    if !valueless && q.value.is_null() {
        return Err(CoreError::invalid(format!(
            "Variable value is missing for variable: {label}"
        )));
    }
    if q.name.is_none() && op != VariableOp::Equals {
        return Err(CoreError::invalid(
            "Value-only query (without a variable-name) is only supported when using 'equals' operation.",
        ));
    }
    let value = if valueless {
        None
    } else {
        Some(variables::from_rest(&label, q.type_name.as_deref(), &q.value)?)
    };
    let textual = value
        .as_ref()
        .is_some_and(|v| matches!(v, VariableValue::String(_)));
    match op {
        VariableOp::Like | VariableOp::LikeIgnoreCase if !textual => {
            return Err(CoreError::invalid(format!(
                "Only string variable values are supported for like comparison, variable: {label}"
            )))
        }
        VariableOp::EqualsIgnoreCase | VariableOp::NotEqualsIgnoreCase if !textual => {
            return Err(CoreError::invalid(format!(
                "Only string variable values are supported when ignoring casing, variable: {label}"
            )))
        }
        _ => {}
    }
    Ok(VariableFilter {
        name: q.name,
        op,
        value,
    })
}

/// Variables a list item shows, per the list shape.
pub fn selected_variables(all: &Variables, selection: &Option<Option<Vec<String>>>) -> Vec<Variable> {
    match selection {
        None => Vec::new(),
        Some(None) => all
            .iter()
            .map(|(k, v)| Variable::new(k.clone(), v.clone()))
            .collect(),
        Some(Some(names)) => all
            .iter()
            .filter(|(k, _)| names.contains(k))
            .map(|(k, v)| Variable::new(k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
