//! [`Outcome`] → Flowable response, per operation: status code (201/204/200 exactly as
//! Flowable), body shape and the absolute URLs (built from `ctx.base_url`, ids inserted without
//! percent-encoding as Flowable's `RestUrlBuilder` does).

use bpm_compat_model::{
    CoreError, Identity, IdentityLink, InstanceId, InstanceState, InstanceView, Outcome, RequestCtx,
    Variable, VariableValue,
};
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

use crate::errors::{error_response, json_response, json_response_sized, Category};
use crate::ids::{parse_instance_id, render_instance_id};
use crate::parse::{link_family, selected_variables};
use crate::routes::{LinkFamily, ListShape, Op, VarScope};
use crate::variables::to_rest;
use crate::wire::{DataResponse, ErrorInfo, ProcessInstanceResponse, RestIdentityLink, RestVariable};
use crate::{comments, diagram, executions, repository, routes::Family, tasks};

const LOCAL: Option<&str> = Some("local");

pub fn instance_url(base: &str, id: InstanceId) -> String {
    [base, "/runtime/process-instances/", &render_instance_id(id)].concat()
}

pub fn definition_url(base: &str, definition_id: &str) -> String {
    [base, "/repository/process-definitions/", definition_id].concat()
}

pub fn variable_data_url(base: &str, id: InstanceId, name: &str) -> String {
    format!("{}/variables/{name}/data", instance_url(base, id))
}

pub fn identity_link_url(base: &str, id: InstanceId, link: &IdentityLink) -> String {
    let (family, who) = match &link.identity {
        Identity::User(u) => (LinkFamily::Users, u),
        Identity::Group(g) => (LinkFamily::Groups, g),
    };
    format!(
        "{}/identitylinks/{}/{who}/{}",
        instance_url(base, id),
        family.segment(),
        link.link_type
    )
}

/// How much of the definition an instance response shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionFields {
    /// Name and description (GET, start).
    Shown,
    /// Name only (lists and queries): Flowable's process-instance query joins the definition
    /// table for `P.NAME_ as ProcessDefinitionName` but selects no description.
    NameOnly,
    /// Null (PUT responses).
    Hidden,
}

pub fn instance_response<'a>(
    view: &'a InstanceView,
    ctx: &RequestCtx,
    definition: DefinitionFields,
    variables: &[Variable],
) -> ProcessInstanceResponse<'a> {
    let i = &view.instance;
    let d = &view.definition;
    let ended = !i.state.is_open();
    let shown = definition == DefinitionFields::Shown;
    let named = definition != DefinitionFields::Hidden;
    ProcessInstanceResponse {
        id: render_instance_id(i.id),
        url: instance_url(&ctx.base_url, i.id),
        name: i.name.as_deref(),
        business_key: i.business_key.as_deref(),
        business_status: i.business_status.as_deref(),
        due_date: i.due_date.map(|t| t.to_iso_millis()),
        claim_time: i.claim_time.map(|t| t.to_iso_millis()),
        claimed_by: i.claimed_by.as_deref(),
        suspended: i.state == InstanceState::Suspended,
        ended,
        process_definition_id: &i.definition_id,
        process_definition_url: definition_url(&ctx.base_url, &i.definition_id),
        process_definition_name: d.name.as_deref().filter(|_| named),
        process_definition_description: d.description.as_deref().filter(|_| shown),
        activity_id: i.activity_id.as_deref(),
        start_user_id: i.start_user_id.as_deref(),
        start_time: i.start_time.to_iso_millis(),
        // No call activities: never a super instance.
        super_process_instance_id: None,
        variables: variables
            .iter()
            .map(|v| to_rest(v, LOCAL, || variable_data_url(&ctx.base_url, i.id, &v.name)))
            .collect(),
        callback_id: None,
        callback_type: None,
        reference_id: None,
        reference_type: None,
        propagated_stage_instance_id: None,
        tenant_id: &i.tenant_id,
        completed: ended,
    }
}

fn all_variables(view: &InstanceView) -> Vec<Variable> {
    selected_variables(&view.instance.variables, &Some(None))
}

pub fn link_response(base: &str, id: InstanceId, link: &IdentityLink) -> RestIdentityLink {
    rest_link(identity_link_url(base, id, link), link)
}

/// `{url, user, group, type}` of a link (of an instance or a task).
pub fn rest_link(url: String, link: &IdentityLink) -> RestIdentityLink {
    let (user, group) = match &link.identity {
        Identity::User(u) => (Some(u.clone()), None),
        Identity::Group(g) => (None, Some(g.clone())),
    };
    RestIdentityLink {
        url,
        user,
        group,
        link_type: link.link_type.clone(),
    }
}

fn rest_variable(ctx: &RequestCtx, id: InstanceId, v: &Variable, scope: Option<&str>) -> RestVariable {
    to_rest(v, scope, || variable_data_url(&ctx.base_url, id, &v.name))
}

fn empty(status: StatusCode) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = status;
    resp
}

fn bytes_response(data: Vec<u8>, content_type: &'static str) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(data));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An error answer with a detail no `CoreError` carries.
fn plain_error(category: Category, exception: String) -> Response<Bytes> {
    json_response(
        category.status(),
        &ErrorInfo {
            message: category.message().to_string(),
            exception: Some(exception),
        },
    )
}

fn unexpected(op: &Op) -> CoreError {
    CoreError::Internal {
        message: format!("unexpected outcome for {}", op.name()),
    }
}

/// The id of an op that passed parsing (so it parses again).
fn op_id(text: &str) -> Result<InstanceId, CoreError> {
    parse_instance_id(text)
}

fn one_variable(outcome: Outcome) -> Option<Variable> {
    match outcome {
        Outcome::Variable(v) => Some(v),
        Outcome::Variables(list) => list.into_iter().next(),
        _ => None,
    }
}

/// The raw bytes of a binary or serializable variable (`.../variables/{name}/data`).
fn variable_data(value: VariableValue) -> Response<Bytes> {
    match value {
        VariableValue::Binary(blob) => bytes_response(blob.data, "application/octet-stream"),
        VariableValue::Serializable(blob) => {
            bytes_response(blob.data, "application/x-java-serialized-object")
        }
        _ => plain_error(
            Category::NotFound,
            "The variable does not have a binary data stream.".into(),
        ),
    }
}

/// The `{data, total, start, sort, order, size}` envelope of a list.
fn list_response<T: serde::Serialize>(
    data: Vec<T>,
    total: u64,
    start: usize,
    shape: &ListShape,
) -> Response<Bytes> {
    // A list of ten instances is ~10 KB: sized up front, not grown from 2 KB three times over.
    let capacity = 1024 * (data.len() + 1);
    json_response_sized(
        StatusCode::OK,
        &DataResponse {
            size: data.len(),
            data,
            total,
            start,
            sort: shape.sort.clone(),
            order: shape.order.clone(),
        },
        capacity,
    )
}

/// Renders the engine's answer to an operation.
pub fn render(op: Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes> {
    let family = op.family();
    match result.and_then(|outcome| render_ok(op, outcome, ctx)) {
        Ok(resp) => resp,
        Err(err) => error_response(&err, family, ctx),
    }
}

fn render_ok(op: Op, outcome: Outcome, ctx: &RequestCtx) -> Result<Response<Bytes>, CoreError> {
    let base = ctx.base_url.as_str();
    Ok(match (&op, outcome) {
        (Op::ListInstances { shape } | Op::QueryInstances { shape }, Outcome::Instances(page)) => {
            let data: Vec<ProcessInstanceResponse> = page
                .items
                .iter()
                .map(|view| {
                    let vars = selected_variables(&view.instance.variables, &shape.variables);
                    instance_response(view, ctx, DefinitionFields::NameOnly, &vars)
                })
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::StartInstance, Outcome::Instance(view)) => {
            // The start response shows the variables set during the start.
            let vars = all_variables(&view);
            json_response(
                StatusCode::CREATED,
                &instance_response(&view, ctx, DefinitionFields::Shown, &vars),
            )
        }
        (Op::GetInstance { .. }, Outcome::Instance(view)) => json_response(
            StatusCode::OK,
            &instance_response(&view, ctx, DefinitionFields::Shown, &[]),
        ),
        (Op::UpdateInstance { .. }, Outcome::Instance(view)) => json_response(
            StatusCode::OK,
            &instance_response(&view, ctx, DefinitionFields::Hidden, &[]),
        ),
        (Op::DeleteInstances | Op::DeleteInstance { .. }, _) => empty(StatusCode::NO_CONTENT),
        (Op::GetDiagram { .. }, Outcome::Diagram(view) | Outcome::Instance(view)) => {
            if !view.definition.has_layout() {
                return Ok(plain_error(
                    Category::BadRequest,
                    format!(
                        "Process instance with id '{}' has no graphical notation defined.",
                        render_instance_id(view.instance.id)
                    ),
                ));
            }
            bytes_response(diagram::render_png(&view)?, "image/png")
        }
        (Op::ListIdentityLinks { id }, Outcome::IdentityLinks(links)) => {
            let id = op_id(id)?;
            let body: Vec<RestIdentityLink> = links.iter().map(|l| link_response(base, id, l)).collect();
            json_response(StatusCode::OK, &body)
        }
        (Op::AddIdentityLink { id, link }, outcome) => {
            let id = op_id(id)?;
            let link = match outcome {
                Outcome::IdentityLink(l) => l,
                _ => link.clone().ok_or_else(|| unexpected(&op))?,
            };
            json_response(StatusCode::CREATED, &link_response(base, id, &link))
        }
        (
            Op::GetIdentityLink {
                id,
                family,
                identity,
                link_type,
            },
            outcome,
        ) => {
            let id = op_id(id)?;
            let link = match outcome {
                Outcome::IdentityLink(l) => l,
                _ => match link_family(family)? {
                    LinkFamily::Users => IdentityLink::user(identity.clone(), link_type.clone()),
                    LinkFamily::Groups => IdentityLink::group(identity.clone(), link_type.clone()),
                },
            };
            json_response(StatusCode::OK, &link_response(base, id, &link))
        }
        (Op::DeleteIdentityLink { .. }, _) => empty(StatusCode::NO_CONTENT),
        (Op::ListVariables { id, scope }, Outcome::Variables(list)) => {
            let id = op_id(id)?;
            let body: Vec<RestVariable> = match scope {
                VarScope::Local => list.iter().map(|v| rest_variable(ctx, id, v, LOCAL)).collect(),
                // A process instance has no parent scope.
                VarScope::Global => Vec::new(),
            };
            json_response(StatusCode::OK, &body)
        }
        (
            Op::CreateVariables { id, multipart } | Op::UpsertVariables { id, multipart },
            Outcome::Variables(list),
        ) => {
            let id = op_id(id)?;
            if *multipart {
                let v = list.first().ok_or_else(|| unexpected(&op))?;
                json_response(StatusCode::CREATED, &rest_variable(ctx, id, v, LOCAL))
            } else {
                let body: Vec<RestVariable> = list.iter().map(|v| rest_variable(ctx, id, v, LOCAL)).collect();
                json_response(StatusCode::CREATED, &body)
            }
        }
        (
            Op::CreateVariables { id, multipart } | Op::UpsertVariables { id, multipart },
            Outcome::Variable(v),
        ) => {
            let id = op_id(id)?;
            let one = rest_variable(ctx, id, &v, LOCAL);
            if *multipart {
                json_response(StatusCode::CREATED, &one)
            } else {
                json_response(StatusCode::CREATED, &vec![one])
            }
        }
        (Op::DeleteVariables { .. }, _) => empty(StatusCode::NO_CONTENT),
        (Op::GetVariable { id, name, scope }, outcome) => {
            let iid = op_id(id)?;
            if *scope == VarScope::Global {
                return Ok(plain_error(
                    Category::NotFound,
                    format!("Execution '{id}' does not have a variable with name: '{name}'."),
                ));
            }
            let v = one_variable(outcome).ok_or_else(|| unexpected(&op))?;
            json_response(StatusCode::OK, &rest_variable(ctx, iid, &v, None))
        }
        (Op::UpdateVariable { id, multipart, .. }, outcome) => {
            let id = op_id(id)?;
            let v = one_variable(outcome).ok_or_else(|| unexpected(&op))?;
            let scope = if *multipart { LOCAL } else { None };
            json_response(StatusCode::OK, &rest_variable(ctx, id, &v, scope))
        }
        (Op::DeleteVariable { id, name, scope }, _) => match scope {
            VarScope::Local => empty(StatusCode::NO_CONTENT),
            VarScope::Global => plain_error(
                Category::NotFound,
                format!("Execution '{id}' does not have a variable '{name}' in scope global"),
            ),
        },
        (Op::GetHistoricVariableData { id, name }, Outcome::Instance(view)) => {
            match view.instance.variables.get(name) {
                Some(value) => variable_data(value.clone()),
                None => plain_error(
                    Category::NotFound,
                    format!("Historic process instance '{id}' variable value for {name} couldn't be found."),
                ),
            }
        }
        (Op::GetVariableData { .. }, outcome) => {
            let v = one_variable(outcome).ok_or_else(|| unexpected(&op))?;
            variable_data(v.value)
        }
        (Op::ListTasks { shape } | Op::QueryTasks { shape }, Outcome::Tasks(page)) => {
            let data: Vec<_> = page.items.iter().map(|v| tasks::task_response(v, ctx)).collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::GetTask { .. }, Outcome::Task(view)) => {
            json_response(StatusCode::OK, &tasks::task_response(&view, ctx))
        }
        // Flowable answers every task action with 200 and no body.
        (Op::TaskAction { .. }, _) => empty(StatusCode::OK),
        (
            Op::ListHistoricInstances { shape } | Op::QueryHistoricInstances { shape },
            Outcome::Instances(page),
        ) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|view| {
                    let vars = selected_variables(&view.instance.variables, &shape.variables);
                    tasks::historic_instance_response(view, ctx, &vars)
                })
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::ListInstanceComments { .. }, Outcome::Comments(list)) => comments::list(&list, ctx),
        (Op::GetInstanceComment { id, comment }, Outcome::Comments(list)) => {
            comments::one(&list, parse_instance_id(id)?, comment, ctx)?
        }
        (Op::CreateInstanceComment { .. }, Outcome::Comment(c)) => comments::created(&c, ctx),
        // The single GET does not ask for variables: always `[]`.
        (Op::GetHistoricInstance { .. }, Outcome::Instance(view)) => json_response(
            StatusCode::OK,
            &tasks::historic_instance_response(&view, ctx, &[]),
        ),
        (Op::UpdateTask { .. }, Outcome::Task(view)) => {
            json_response(StatusCode::OK, &tasks::task_response(&view, ctx))
        }
        (Op::ListTaskIdentityLinks { id }, Outcome::IdentityLinks(links)) => {
            let id = tasks::parse_task_id(id)?;
            let body: Vec<_> = links
                .iter()
                .map(|l| tasks::task_link_response(base, id, l))
                .collect();
            json_response(StatusCode::OK, &body)
        }
        (Op::AddTaskIdentityLink { id, .. }, Outcome::IdentityLink(link)) => {
            let id = tasks::parse_task_id(id)?;
            json_response(StatusCode::CREATED, &tasks::task_link_response(base, id, &link))
        }
        (
            Op::GetTaskIdentityLink {
                id,
                family,
                identity,
                link_type,
            },
            Outcome::IdentityLinks(links),
        ) => {
            let tid = tasks::parse_task_id(id)?;
            let wanted = crate::parse::identity_link_path(family, identity, link_type)?;
            if !links.contains(&wanted) {
                return Ok(plain_error(
                    Category::NotFound,
                    "Could not find the requested identity link.".into(),
                ));
            }
            json_response(StatusCode::OK, &tasks::task_link_response(base, tid, &wanted))
        }
        (Op::DeleteTaskIdentityLink { .. } | Op::DeleteTaskVariable { .. }, _) => {
            empty(StatusCode::NO_CONTENT)
        }
        (Op::ListTaskVariables { id }, Outcome::ScopedVariables(list)) => {
            let id = tasks::parse_task_id(id)?;
            let body: Vec<_> = list
                .iter()
                .map(|(v, s)| tasks::task_variable(base, id, v, *s))
                .collect();
            json_response(StatusCode::OK, &body)
        }
        (Op::CreateTaskVariables { id }, Outcome::ScopedVariables(list)) => {
            let id = tasks::parse_task_id(id)?;
            let body: Vec<_> = list
                .iter()
                .map(|(v, s)| tasks::task_variable(base, id, v, *s))
                .collect();
            json_response(StatusCode::CREATED, &body)
        }
        (Op::GetTaskVariable { id, name }, Outcome::ScopedVariables(list)) => {
            let tid = tasks::parse_task_id(id)?;
            match list.iter().find(|(v, _)| &v.name == name) {
                Some((v, s)) => json_response(StatusCode::OK, &tasks::task_variable(base, tid, v, *s)),
                None => plain_error(
                    Category::NotFound,
                    format!("Task '{id}' does not have a variable with name: '{name}'."),
                ),
            }
        }
        (Op::UpdateTaskVariable { id, .. }, Outcome::ScopedVariables(list)) => {
            let id = tasks::parse_task_id(id)?;
            let (v, s) = list.first().ok_or_else(|| unexpected(&op))?;
            json_response(StatusCode::OK, &tasks::task_variable(base, id, v, *s))
        }
        (
            Op::UpdateTask { .. }
            | Op::ListTaskIdentityLinks { .. }
            | Op::AddTaskIdentityLink { .. }
            | Op::GetTaskIdentityLink { .. }
            | Op::ListTaskVariables { .. }
            | Op::CreateTaskVariables { .. }
            | Op::GetTaskVariable { .. }
            | Op::UpdateTaskVariable { .. },
            _,
        ) => return Err(unexpected(&op)),
        (Op::ListExecutions { shape, with_root }, Outcome::Executions { instance, waits }) => {
            let mut data = Vec::with_capacity(waits.len() + 1);
            // The root execution has no activity: a filter on one leaves it out.
            if *with_root {
                data.push(executions::root_execution(&instance, base));
            }
            data.extend(
                waits
                    .iter()
                    .map(|w| executions::child_execution(&instance, w, base)),
            );
            let total = data.len() as u64;
            list_response(data, total, 0, shape)
        }
        (Op::GetExecution { id }, Outcome::Executions { instance, waits }) => {
            let body = match (id.contains('.'), waits.first()) {
                (true, Some(w)) => executions::child_execution(&instance, w, base),
                _ => executions::root_execution(&instance, base),
            };
            json_response(StatusCode::OK, &body)
        }
        // The execution goes on to where the path waits next; when the path ended, 204.
        (Op::ExecutionAction { .. }, Outcome::Executions { instance, waits }) => match waits.first() {
            Some(w) => json_response(StatusCode::OK, &executions::child_execution(&instance, w, base)),
            None => empty(StatusCode::NO_CONTENT),
        },
        (Op::ExecutionAction { .. }, _) => empty(StatusCode::NO_CONTENT),
        (Op::ListExecutions { .. } | Op::GetExecution { .. }, _) => return Err(unexpected(&op)),
        (Op::ListHistoricTasks { shape } | Op::QueryHistoricTasks { shape }, Outcome::Tasks(page)) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|v| tasks::historic_task_response(v, ctx))
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::GetHistoricTask { .. }, Outcome::Task(view)) => {
            json_response(StatusCode::OK, &tasks::historic_task_response(&view, ctx))
        }
        (Op::ListHistoricActivities { shape }, Outcome::Activities(page)) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|v| tasks::historic_activity_response(v, ctx))
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::ListDeployments { shape }, Outcome::Deployments(page)) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|d| repository::deployment_response(d, base))
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::Deploy, Outcome::Deployed { deployment: d, .. }) => {
            json_response(StatusCode::CREATED, &repository::deployment_response(&d, base))
        }
        (Op::GetDeployment { .. }, Outcome::Deployment(d)) => {
            json_response(StatusCode::OK, &repository::deployment_response(&d, base))
        }
        (Op::DeleteDeployment { .. }, _) => empty(StatusCode::NO_CONTENT),
        (
            Op::GetDeploymentResourceData { .. } | Op::GetDefinitionResourceData { .. },
            Outcome::Resource(r),
        ) => repository::resource_data(&r),
        (Op::ListDefinitions { shape }, Outcome::Definitions(page)) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|d| repository::definition_response(d, base))
                .collect();
            list_response(data, page.total, page.start, shape)
        }
        (Op::GetDefinition { .. }, Outcome::Definition(d)) => {
            json_response(StatusCode::OK, &repository::definition_response(&d, base))
        }
        (
            Op::ListHistoricTasks { .. }
            | Op::QueryHistoricTasks { .. }
            | Op::GetHistoricTask { .. }
            | Op::ListHistoricActivities { .. }
            | Op::ListDeployments { .. }
            | Op::Deploy
            | Op::GetDeployment { .. }
            | Op::GetDeploymentResourceData { .. }
            | Op::GetDefinitionResourceData { .. }
            | Op::ListDefinitions { .. }
            | Op::GetDefinition { .. },
            _,
        ) => return Err(unexpected(&op)),
        (
            Op::ListInstances { .. }
            | Op::QueryInstances { .. }
            | Op::ListTasks { .. }
            | Op::QueryTasks { .. }
            | Op::QueryHistoricInstances { .. }
            | Op::GetTask { .. }
            | Op::ListHistoricInstances { .. }
            | Op::GetHistoricInstance { .. }
            | Op::GetHistoricVariableData { .. }
            | Op::ListInstanceComments { .. }
            | Op::GetInstanceComment { .. }
            | Op::CreateInstanceComment { .. }
            | Op::StartInstance
            | Op::GetInstance { .. }
            | Op::UpdateInstance { .. }
            | Op::GetDiagram { .. }
            | Op::ListIdentityLinks { .. }
            | Op::ListVariables { .. }
            | Op::CreateVariables { .. }
            | Op::UpsertVariables { .. },
            _,
        ) => return Err(unexpected(&op)),
    })
}

/// Renders an error that has no operation, in the words of the path's resource.
pub fn render_error(err: CoreError, ctx: &RequestCtx) -> Response<Bytes> {
    let family: Family = crate::routes::family_of_path(&ctx.path);
    error_response(&err, family, ctx)
}

#[cfg(test)]
#[path = "render_tests.rs"]
pub(crate) mod tests;
