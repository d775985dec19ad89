//! The route table: (method, path segments below the mount) → [`Op`].
//!
//! Path segments arrive percent-encoded and are decoded here, one by one, so a variable named
//! `a/b` can be addressed as `a%2Fb`. Routing never fails on an id: turning the id text into an
//! `InstanceId` is parsing (see `ids.rs`), with the vendor's not-found message.

use bpm_compat_model::{CoreError, IdentityLink};
use http::Method;

/// Which identity a single identity-link path addresses (`users` or `groups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFamily {
    Users,
    Groups,
}

impl LinkFamily {
    pub fn segment(self) -> &'static str {
        match self {
            LinkFamily::Users => "users",
            LinkFamily::Groups => "groups",
        }
    }
}

/// What a list response echoes and shows, decided while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListShape {
    /// The effective sort key as Flowable names it (`id`, `startTime`, ...).
    pub sort: String,
    /// `asc` or `desc`.
    pub order: String,
    /// Which variables list items carry: `None` = none (`variables: []`), `Some(None)` = all,
    /// `Some(Some(names))` = only these.
    pub variables: Option<Option<Vec<String>>>,
}

impl Default for ListShape {
    fn default() -> Self {
        ListShape {
            sort: "id".into(),
            order: "asc".into(),
            variables: None,
        }
    }
}

/// A `scope` query parameter of the variable endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VarScope {
    /// Absent or `local`.
    #[default]
    Local,
    Global,
}

/// One Flowable operation. Path parameters are decoded text as the client wrote them; the
/// other fields are filled by `parse` and tell `render` what shape to answer in.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `GET runtime/process-instances`
    ListInstances { shape: ListShape },
    /// `POST query/process-instances`
    QueryInstances { shape: ListShape },
    /// `POST runtime/process-instances`
    StartInstance,
    /// `POST runtime/process-instances/delete`
    DeleteInstances,
    /// `GET runtime/process-instances/{id}`
    GetInstance { id: String },
    /// `PUT runtime/process-instances/{id}` (update, or an action: suspend, activate, claim,
    /// unclaim)
    UpdateInstance { id: String },
    /// `DELETE runtime/process-instances/{id}`
    DeleteInstance { id: String },
    /// `GET runtime/process-instances/{id}/diagram`
    GetDiagram { id: String },
    /// `GET runtime/process-instances/{id}/identitylinks`
    ListIdentityLinks { id: String },
    /// `POST runtime/process-instances/{id}/identitylinks`; `link` is what the body asked for.
    AddIdentityLink { id: String, link: Option<IdentityLink> },
    /// `GET runtime/process-instances/{id}/identitylinks/{family}/{identityId}/{type}`
    GetIdentityLink {
        id: String,
        family: String,
        identity: String,
        link_type: String,
    },
    /// `DELETE runtime/process-instances/{id}/identitylinks/{family}/{identityId}/{type}`
    DeleteIdentityLink {
        id: String,
        family: String,
        identity: String,
        link_type: String,
    },
    /// `GET runtime/process-instances/{id}/variables`
    ListVariables { id: String, scope: VarScope },
    /// `POST runtime/process-instances/{id}/variables` (JSON array or multipart)
    CreateVariables { id: String, multipart: bool },
    /// `PUT runtime/process-instances/{id}/variables` (JSON array or multipart)
    UpsertVariables { id: String, multipart: bool },
    /// `DELETE runtime/process-instances/{id}/variables`
    DeleteVariables { id: String },
    /// `GET runtime/process-instances/{id}/variables/{name}`
    GetVariable {
        id: String,
        name: String,
        scope: VarScope,
    },
    /// `PUT runtime/process-instances/{id}/variables/{name}` (JSON object or multipart)
    UpdateVariable {
        id: String,
        name: String,
        multipart: bool,
    },
    /// `DELETE runtime/process-instances/{id}/variables/{name}`
    DeleteVariable {
        id: String,
        name: String,
        scope: VarScope,
    },
    /// `GET runtime/process-instances/{id}/variables/{name}/data`
    GetVariableData { id: String, name: String },
    /// `GET runtime/tasks`
    ListTasks { shape: ListShape },
    /// `POST query/tasks`: the list filters in a JSON body.
    QueryTasks { shape: ListShape },
    /// `POST query/historic-process-instances`
    QueryHistoricInstances { shape: ListShape },
    /// `POST query/historic-task-instances`
    QueryHistoricTasks { shape: ListShape },
    /// `GET runtime/tasks/{taskId}`
    GetTask { id: String },
    /// `POST runtime/tasks/{taskId}`: `complete`, `claim`, `delegate` or `resolve` (filled
    /// by parsing).
    TaskAction { id: String, action: String },
    /// `PUT runtime/tasks/{taskId}`
    UpdateTask { id: String },
    /// `GET runtime/tasks/{taskId}/identitylinks`
    ListTaskIdentityLinks { id: String },
    /// `POST runtime/tasks/{taskId}/identitylinks`
    AddTaskIdentityLink { id: String, link: Option<IdentityLink> },
    /// `GET runtime/tasks/{taskId}/identitylinks/{family}/{identityId}/{type}`
    GetTaskIdentityLink {
        id: String,
        family: String,
        identity: String,
        link_type: String,
    },
    /// `DELETE runtime/tasks/{taskId}/identitylinks/{family}/{identityId}/{type}`
    DeleteTaskIdentityLink {
        id: String,
        family: String,
        identity: String,
        link_type: String,
    },
    /// `GET runtime/tasks/{taskId}/variables`
    ListTaskVariables { id: String },
    /// `POST runtime/tasks/{taskId}/variables`
    CreateTaskVariables { id: String },
    /// `GET runtime/tasks/{taskId}/variables/{name}`
    GetTaskVariable { id: String, name: String },
    /// `PUT runtime/tasks/{taskId}/variables/{name}`
    UpdateTaskVariable { id: String, name: String },
    /// `DELETE runtime/tasks/{taskId}/variables/{name}`
    DeleteTaskVariable { id: String, name: String },
    /// `GET runtime/executions`; `with_root` when the root execution is listed too (no
    /// activity filter).
    ListExecutions { shape: ListShape, with_root: bool },
    /// `GET runtime/executions/{id}`
    GetExecution { id: String },
    /// `PUT runtime/executions/{id}` (`trigger`)
    ExecutionAction { id: String },
    /// `GET history/historic-process-instances`
    ListHistoricInstances { shape: ListShape },
    /// `GET history/historic-process-instances/{id}`
    GetHistoricInstance { id: String },
    /// `GET history/historic-process-instances/{id}/variables/{name}/data`
    GetHistoricVariableData { id: String, name: String },
    /// `GET history/historic-process-instances/{id}/comments`
    ListInstanceComments { id: String },
    /// `POST history/historic-process-instances/{id}/comments`
    CreateInstanceComment { id: String },
    /// `GET history/historic-process-instances/{id}/comments/{commentId}`
    GetInstanceComment { id: String, comment: String },
    /// `GET history/historic-task-instances`
    ListHistoricTasks { shape: ListShape },
    /// `GET history/historic-task-instances/{taskId}`
    GetHistoricTask { id: String },
    /// `GET history/historic-activity-instances`
    ListHistoricActivities { shape: ListShape },
    /// `GET repository/deployments`
    ListDeployments { shape: ListShape },
    /// `POST repository/deployments` (multipart)
    Deploy,
    /// `GET repository/deployments/{id}`
    GetDeployment { id: String },
    /// `DELETE repository/deployments/{id}`
    DeleteDeployment { id: String },
    /// `GET repository/deployments/{id}/resourcedata/{name}`
    GetDeploymentResourceData { id: String, name: String },
    /// `GET repository/process-definitions`
    ListDefinitions { shape: ListShape },
    /// `GET repository/process-definitions/{id}`
    GetDefinition { id: String },
    /// `GET repository/process-definitions/{id}/resourcedata`
    GetDefinitionResourceData { id: String },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::ListInstances { .. } => "list_process_instances",
            Op::QueryInstances { .. } => "query_process_instances",
            Op::StartInstance => "start_process_instance",
            Op::DeleteInstances => "bulk_delete_process_instances",
            Op::GetInstance { .. } => "get_process_instance",
            Op::UpdateInstance { .. } => "update_process_instance",
            Op::DeleteInstance { .. } => "delete_process_instance",
            Op::GetDiagram { .. } => "get_process_instance_diagram",
            Op::ListIdentityLinks { .. } => "list_identity_links",
            Op::AddIdentityLink { .. } => "add_identity_link",
            Op::GetIdentityLink { .. } => "get_identity_link",
            Op::DeleteIdentityLink { .. } => "delete_identity_link",
            Op::ListVariables { .. } => "list_variables",
            Op::CreateVariables { .. } => "create_variables",
            Op::UpsertVariables { .. } => "upsert_variables",
            Op::DeleteVariables { .. } => "delete_variables",
            Op::GetVariable { .. } => "get_variable",
            Op::UpdateVariable { .. } => "update_variable",
            Op::DeleteVariable { .. } => "delete_variable",
            Op::GetVariableData { .. } => "get_variable_data",
            Op::ListTasks { .. } => "list_tasks",
            Op::GetTask { .. } => "get_task",
            Op::QueryTasks { .. } => "query_tasks",
            Op::QueryHistoricInstances { .. } => "query_historic_process_instances",
            Op::QueryHistoricTasks { .. } => "query_historic_task_instances",
            Op::TaskAction { .. } => "task_action",
            Op::UpdateTask { .. } => "update_task",
            Op::ListTaskIdentityLinks { .. } => "list_task_identity_links",
            Op::AddTaskIdentityLink { .. } => "add_task_identity_link",
            Op::GetTaskIdentityLink { .. } => "get_task_identity_link",
            Op::DeleteTaskIdentityLink { .. } => "delete_task_identity_link",
            Op::ListTaskVariables { .. } => "list_task_variables",
            Op::CreateTaskVariables { .. } => "create_task_variables",
            Op::GetTaskVariable { .. } => "get_task_variable",
            Op::UpdateTaskVariable { .. } => "update_task_variable",
            Op::DeleteTaskVariable { .. } => "delete_task_variable",
            Op::ListExecutions { .. } => "list_executions",
            Op::GetExecution { .. } => "get_execution",
            Op::ExecutionAction { .. } => "execution_action",
            Op::ListHistoricInstances { .. } => "list_historic_process_instances",
            Op::GetHistoricInstance { .. } => "get_historic_process_instance",
            Op::GetHistoricVariableData { .. } => "get_historic_variable_data",
            Op::ListInstanceComments { .. } => "list_process_instance_comments",
            Op::CreateInstanceComment { .. } => "create_process_instance_comment",
            Op::GetInstanceComment { .. } => "get_process_instance_comment",
            Op::ListHistoricTasks { .. } => "list_historic_task_instances",
            Op::GetHistoricTask { .. } => "get_historic_task_instance",
            Op::ListHistoricActivities { .. } => "list_historic_activity_instances",
            Op::ListDeployments { .. } => "list_deployments",
            Op::Deploy => "create_deployment",
            Op::GetDeployment { .. } => "get_deployment",
            Op::DeleteDeployment { .. } => "delete_deployment",
            Op::GetDeploymentResourceData { .. } => "get_deployment_resource_data",
            Op::ListDefinitions { .. } => "list_process_definitions",
            Op::GetDefinition { .. } => "get_process_definition",
            Op::GetDefinitionResourceData { .. } => "get_process_definition_resource_data",
        }
    }
}

/// Which error messages a failure gets: Flowable words the same missing instance differently
/// depending on the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Process-instance resources: "Could not find a process instance with id 'X'."
    Instance,
    /// The start resource: a missing definition is a 400.
    Start,
    /// Bulk delete: "No process instance found for id 'x'".
    Bulk,
    /// Variable resources: "Could not find an execution with id 'X'."
    Variables,
    /// `DELETE .../variables/{name}`: the "in scope local" wording.
    VariableDelete,
    /// Task resources.
    Task,
    /// The claim action: its own wording for a suspended task.
    TaskClaim,
    /// Historic task resources.
    HistoricTask,
    /// `DELETE runtime/tasks/{id}/variables/{name}`: the "in scope" wording.
    TaskVariableDelete,
    /// Lists and unknown paths.
    Other,
}

impl Op {
    pub fn family(&self) -> Family {
        match self {
            Op::ListInstances { .. }
            | Op::QueryInstances { .. }
            | Op::ListTasks { .. }
            | Op::QueryTasks { .. }
            | Op::QueryHistoricInstances { .. }
            | Op::QueryHistoricTasks { .. }
            | Op::ListHistoricInstances { .. } => Family::Other,
            Op::TaskAction { action, .. } if action == "claim" => Family::TaskClaim,
            Op::GetTask { .. }
            | Op::TaskAction { .. }
            | Op::UpdateTask { .. }
            | Op::ListTaskIdentityLinks { .. }
            | Op::AddTaskIdentityLink { .. }
            | Op::GetTaskIdentityLink { .. }
            | Op::DeleteTaskIdentityLink { .. }
            | Op::ListTaskVariables { .. }
            | Op::CreateTaskVariables { .. }
            | Op::GetTaskVariable { .. }
            | Op::UpdateTaskVariable { .. } => Family::Task,
            Op::DeleteTaskVariable { .. } => Family::TaskVariableDelete,
            Op::GetHistoricInstance { .. }
            | Op::GetHistoricVariableData { .. }
            | Op::ListInstanceComments { .. }
            | Op::CreateInstanceComment { .. }
            | Op::GetInstanceComment { .. } => Family::Instance,
            Op::ListExecutions { .. } => Family::Other,
            Op::GetExecution { .. } | Op::ExecutionAction { .. } => Family::Variables,
            Op::ListHistoricTasks { .. } | Op::ListHistoricActivities { .. } => Family::Other,
            Op::GetHistoricTask { .. } => Family::HistoricTask,
            Op::ListDeployments { .. }
            | Op::Deploy
            | Op::GetDeployment { .. }
            | Op::DeleteDeployment { .. }
            | Op::GetDeploymentResourceData { .. }
            | Op::ListDefinitions { .. }
            | Op::GetDefinition { .. }
            | Op::GetDefinitionResourceData { .. } => Family::Other,
            Op::StartInstance => Family::Start,
            Op::DeleteInstances => Family::Bulk,
            Op::GetInstance { .. }
            | Op::UpdateInstance { .. }
            | Op::DeleteInstance { .. }
            | Op::GetDiagram { .. }
            | Op::ListIdentityLinks { .. }
            | Op::AddIdentityLink { .. }
            | Op::GetIdentityLink { .. }
            | Op::DeleteIdentityLink { .. } => Family::Instance,
            Op::ListVariables { .. }
            | Op::CreateVariables { .. }
            | Op::UpsertVariables { .. }
            | Op::DeleteVariables { .. }
            | Op::GetVariable { .. }
            | Op::UpdateVariable { .. }
            | Op::GetVariableData { .. } => Family::Variables,
            Op::DeleteVariable { .. } => Family::VariableDelete,
        }
    }
}

pub use bpm_compat_model::percent_decode;

/// The route of a path without looking at the method: the methods it accepts and the op
/// each one maps to.
fn table(method: &Method, segments: &[String]) -> Option<(&'static [Method], Option<Op>)> {
    use Method as M;
    const GET_POST: &[Method] = &[M::GET, M::POST];
    const GET_POST_PUT: &[Method] = &[M::GET, M::POST, M::PUT];
    const GET_PUT: &[Method] = &[M::GET, M::PUT];
    const POST: &[Method] = &[M::POST];
    const GET_PUT_DELETE: &[Method] = &[M::GET, M::PUT, M::DELETE];
    const GET: &[Method] = &[M::GET];
    const GET_DELETE: &[Method] = &[M::GET, M::DELETE];
    const ALL_FOUR: &[Method] = &[M::GET, M::POST, M::PUT, M::DELETE];

    // Spring does not match empty segments (no trailing-slash matching since Spring 6).
    if segments.iter().any(String::is_empty) {
        return None;
    }
    let m = method.clone();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let id = |i: usize| segments[i].clone();
    let (allowed, op): (&'static [Method], Option<Op>) = match s.as_slice() {
        ["runtime", "process-instances"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListInstances {
                    shape: ListShape::default(),
                }),
                M::POST => Some(Op::StartInstance),
                _ => None,
            },
        ),
        ["runtime", "process-instances", "delete"] if m == M::POST => (POST, Some(Op::DeleteInstances)),
        ["query", "process-instances"] => (
            POST,
            match m {
                M::POST => Some(Op::QueryInstances {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["query", "tasks"] => (
            POST,
            match m {
                M::POST => Some(Op::QueryTasks {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["query", "historic-process-instances"] => (
            POST,
            match m {
                M::POST => Some(Op::QueryHistoricInstances {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["query", "historic-task-instances"] => (
            POST,
            match m {
                M::POST => Some(Op::QueryHistoricTasks {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _] => (
            GET_PUT_DELETE,
            match m {
                M::GET => Some(Op::GetInstance { id: id(2) }),
                M::PUT => Some(Op::UpdateInstance { id: id(2) }),
                M::DELETE => Some(Op::DeleteInstance { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "tasks"] => (
            GET,
            match m {
                M::GET => Some(Op::ListTasks {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["runtime", "tasks", _] => (
            GET_POST_PUT,
            match m {
                M::GET => Some(Op::GetTask { id: id(2) }),
                M::POST => Some(Op::TaskAction {
                    id: id(2),
                    action: String::new(),
                }),
                M::PUT => Some(Op::UpdateTask { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "tasks", _, "identitylinks"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListTaskIdentityLinks { id: id(2) }),
                M::POST => Some(Op::AddTaskIdentityLink {
                    id: id(2),
                    link: None,
                }),
                _ => None,
            },
        ),
        ["runtime", "tasks", _, "identitylinks", _, _, _] => (
            GET_DELETE,
            match m {
                M::GET => Some(Op::GetTaskIdentityLink {
                    id: id(2),
                    family: id(4),
                    identity: id(5),
                    link_type: id(6),
                }),
                M::DELETE => Some(Op::DeleteTaskIdentityLink {
                    id: id(2),
                    family: id(4),
                    identity: id(5),
                    link_type: id(6),
                }),
                _ => None,
            },
        ),
        ["runtime", "tasks", _, "variables"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListTaskVariables { id: id(2) }),
                M::POST => Some(Op::CreateTaskVariables { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "tasks", _, "variables", _] => (
            GET_PUT_DELETE,
            match m {
                M::GET => Some(Op::GetTaskVariable {
                    id: id(2),
                    name: id(4),
                }),
                M::PUT => Some(Op::UpdateTaskVariable {
                    id: id(2),
                    name: id(4),
                }),
                M::DELETE => Some(Op::DeleteTaskVariable {
                    id: id(2),
                    name: id(4),
                }),
                _ => None,
            },
        ),
        ["runtime", "executions"] => (
            GET,
            match m {
                M::GET => Some(Op::ListExecutions {
                    shape: ListShape::default(),
                    with_root: true,
                }),
                _ => None,
            },
        ),
        ["runtime", "executions", _] => (
            GET_PUT,
            match m {
                M::GET => Some(Op::GetExecution { id: id(2) }),
                M::PUT => Some(Op::ExecutionAction { id: id(2) }),
                _ => None,
            },
        ),
        ["history", "historic-process-instances"] => (
            GET,
            match m {
                M::GET => Some(Op::ListHistoricInstances {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["history", "historic-process-instances", _] => (
            GET,
            match m {
                M::GET => Some(Op::GetHistoricInstance { id: id(2) }),
                _ => None,
            },
        ),
        ["history", "historic-process-instances", _, "comments"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListInstanceComments { id: id(2) }),
                M::POST => Some(Op::CreateInstanceComment { id: id(2) }),
                _ => None,
            },
        ),
        ["history", "historic-process-instances", _, "comments", _] => (
            GET,
            match m {
                M::GET => Some(Op::GetInstanceComment {
                    id: id(2),
                    comment: id(4),
                }),
                _ => None,
            },
        ),
        ["history", "historic-process-instances", _, "variables", _, "data"] => (
            GET,
            match m {
                M::GET => Some(Op::GetHistoricVariableData {
                    id: id(2),
                    name: id(4),
                }),
                _ => None,
            },
        ),
        ["history", "historic-task-instances"] => (
            GET,
            match m {
                M::GET => Some(Op::ListHistoricTasks {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["history", "historic-task-instances", _] => (
            GET,
            match m {
                M::GET => Some(Op::GetHistoricTask { id: id(2) }),
                _ => None,
            },
        ),
        ["history", "historic-activity-instances"] => (
            GET,
            match m {
                M::GET => Some(Op::ListHistoricActivities {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["repository", "deployments"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListDeployments {
                    shape: ListShape::default(),
                }),
                M::POST => Some(Op::Deploy),
                _ => None,
            },
        ),
        ["repository", "deployments", _] => (
            GET_DELETE,
            match m {
                M::GET => Some(Op::GetDeployment { id: id(2) }),
                M::DELETE => Some(Op::DeleteDeployment { id: id(2) }),
                _ => None,
            },
        ),
        ["repository", "deployments", _, "resourcedata", _] => (
            GET,
            match m {
                M::GET => Some(Op::GetDeploymentResourceData {
                    id: id(2),
                    name: id(4),
                }),
                _ => None,
            },
        ),
        ["repository", "process-definitions"] => (
            GET,
            match m {
                M::GET => Some(Op::ListDefinitions {
                    shape: ListShape::default(),
                }),
                _ => None,
            },
        ),
        ["repository", "process-definitions", _] => (
            GET,
            match m {
                M::GET => Some(Op::GetDefinition { id: id(2) }),
                _ => None,
            },
        ),
        ["repository", "process-definitions", _, "resourcedata"] => (
            GET,
            match m {
                M::GET => Some(Op::GetDefinitionResourceData { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "diagram"] => (
            GET,
            match m {
                M::GET => Some(Op::GetDiagram { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "identitylinks"] => (
            GET_POST,
            match m {
                M::GET => Some(Op::ListIdentityLinks { id: id(2) }),
                M::POST => Some(Op::AddIdentityLink {
                    id: id(2),
                    link: None,
                }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "identitylinks", _, _, _] => (
            GET_DELETE,
            match m {
                M::GET => Some(Op::GetIdentityLink {
                    id: id(2),
                    family: id(4),
                    identity: id(5),
                    link_type: id(6),
                }),
                M::DELETE => Some(Op::DeleteIdentityLink {
                    id: id(2),
                    family: id(4),
                    identity: id(5),
                    link_type: id(6),
                }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "variables"] => (
            ALL_FOUR,
            match m {
                M::GET => Some(Op::ListVariables {
                    id: id(2),
                    scope: VarScope::Local,
                }),
                M::POST => Some(Op::CreateVariables {
                    id: id(2),
                    multipart: false,
                }),
                M::PUT => Some(Op::UpsertVariables {
                    id: id(2),
                    multipart: false,
                }),
                M::DELETE => Some(Op::DeleteVariables { id: id(2) }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "variables", _] => (
            GET_PUT_DELETE,
            match m {
                M::GET => Some(Op::GetVariable {
                    id: id(2),
                    name: id(4),
                    scope: VarScope::Local,
                }),
                M::PUT => Some(Op::UpdateVariable {
                    id: id(2),
                    name: id(4),
                    multipart: false,
                }),
                M::DELETE => Some(Op::DeleteVariable {
                    id: id(2),
                    name: id(4),
                    scope: VarScope::Local,
                }),
                _ => None,
            },
        ),
        ["runtime", "process-instances", _, "variables", _, "data"] => (
            GET,
            match m {
                M::GET => Some(Op::GetVariableData {
                    id: id(2),
                    name: id(4),
                }),
                _ => None,
            },
        ),
        _ => return None,
    };
    Some((allowed, op))
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').map(percent_decode).collect()
}

/// Routes a request. An unknown path or a method the path does not accept is
/// `CoreError::Unsupported` with `"{METHOD} {path}"` as the operation; `errors.rs` tells the
/// two apart with [`allowed_methods`] (404 versus 405).
pub fn route(method: &Method, path: &str) -> Result<Op, CoreError> {
    let segs = segments(path);
    match table(method, &segs) {
        Some((_, Some(op))) => Ok(op),
        _ => Err(CoreError::Unsupported {
            operation: format!("{method} {path}"),
        }),
    }
}

/// The methods a path accepts; empty for an unknown path. `runtime/process-instances/delete`
/// also matches the single-instance route, so it accepts POST as well as GET/PUT/DELETE (an
/// instance with id `delete` simply does not exist).
pub fn allowed_methods(path: &str) -> Vec<Method> {
    let segs = segments(path);
    let mut out: Vec<Method> = Vec::new();
    for m in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
        if let Some((allowed, _)) = table(&m, &segs) {
            for a in allowed {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
        }
    }
    out
}

/// The error family of a path, for errors that have no op (parse failures).
pub fn family_of_path(path: &str) -> Family {
    let segs = segments(path);
    // Only the bulk delete parses ids out of a body here; a GET of an instance named
    // `delete` shares the path and gets the bulk wording too (still a 404).
    if segs == ["runtime", "process-instances", "delete"] {
        return Family::Bulk;
    }
    for m in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
        if let Some((_, Some(op))) = table(&m, &segs) {
            return match op {
                // The family of DELETE .../variables/{name} only differs for missing variables,
                // which parsing never reports.
                Op::DeleteVariable { .. } => Family::Variables,
                op => op.family(),
            };
        }
    }
    Family::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(method: Method, path: &str) -> Op {
        route(&method, path).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    #[test]
    fn every_route() {
        let id = || "7".to_string();
        let cases: Vec<(Method, &str, Op)> = vec![
            (
                Method::GET,
                "runtime/process-instances",
                Op::ListInstances {
                    shape: ListShape::default(),
                },
            ),
            (Method::POST, "runtime/process-instances", Op::StartInstance),
            (
                Method::POST,
                "runtime/process-instances/delete",
                Op::DeleteInstances,
            ),
            (
                Method::POST,
                "query/process-instances",
                Op::QueryInstances {
                    shape: ListShape::default(),
                },
            ),
            (
                Method::GET,
                "runtime/process-instances/7",
                Op::GetInstance { id: id() },
            ),
            (
                Method::PUT,
                "runtime/process-instances/7",
                Op::UpdateInstance { id: id() },
            ),
            (
                Method::DELETE,
                "runtime/process-instances/7",
                Op::DeleteInstance { id: id() },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/diagram",
                Op::GetDiagram { id: id() },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/identitylinks",
                Op::ListIdentityLinks { id: id() },
            ),
            (
                Method::POST,
                "runtime/process-instances/7/identitylinks",
                Op::AddIdentityLink { id: id(), link: None },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/identitylinks/users/kermit/participant",
                Op::GetIdentityLink {
                    id: id(),
                    family: "users".into(),
                    identity: "kermit".into(),
                    link_type: "participant".into(),
                },
            ),
            (
                Method::DELETE,
                "runtime/process-instances/7/identitylinks/groups/sales/candidate",
                Op::DeleteIdentityLink {
                    id: id(),
                    family: "groups".into(),
                    identity: "sales".into(),
                    link_type: "candidate".into(),
                },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/variables",
                Op::ListVariables {
                    id: id(),
                    scope: VarScope::Local,
                },
            ),
            (
                Method::POST,
                "runtime/process-instances/7/variables",
                Op::CreateVariables {
                    id: id(),
                    multipart: false,
                },
            ),
            (
                Method::PUT,
                "runtime/process-instances/7/variables",
                Op::UpsertVariables {
                    id: id(),
                    multipart: false,
                },
            ),
            (
                Method::DELETE,
                "runtime/process-instances/7/variables",
                Op::DeleteVariables { id: id() },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/variables/a%2Fb",
                Op::GetVariable {
                    id: id(),
                    name: "a/b".into(),
                    scope: VarScope::Local,
                },
            ),
            (
                Method::PUT,
                "runtime/process-instances/7/variables/v",
                Op::UpdateVariable {
                    id: id(),
                    name: "v".into(),
                    multipart: false,
                },
            ),
            (
                Method::DELETE,
                "runtime/process-instances/7/variables/v",
                Op::DeleteVariable {
                    id: id(),
                    name: "v".into(),
                    scope: VarScope::Local,
                },
            ),
            (
                Method::GET,
                "runtime/process-instances/7/variables/v/data",
                Op::GetVariableData {
                    id: id(),
                    name: "v".into(),
                },
            ),
        ];
        for (method, path, want) in cases {
            assert_eq!(ok(method.clone(), path), want, "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_and_methods() {
        for (m, p) in [
            (Method::GET, "runtime/process-instance"),
            (Method::GET, "runtime/process-instances/"),
            (Method::GET, ""),
            (Method::GET, "runtime/process-instances/7/variables/v/data/x"),
            (Method::POST, "runtime/process-instances/7"),
            (Method::PATCH, "runtime/process-instances"),
            (Method::GET, "query/process-instances"),
        ] {
            let err = route(&m, p).expect_err(p);
            assert_eq!(
                err,
                CoreError::Unsupported {
                    operation: format!("{m} {p}")
                }
            );
        }
        assert_eq!(
            allowed_methods("runtime/process-instances/7"),
            vec![Method::GET, Method::PUT, Method::DELETE]
        );
        assert_eq!(allowed_methods("query/process-instances"), vec![Method::POST]);
        assert!(allowed_methods("nope").is_empty());
    }

    #[test]
    fn families() {
        assert_eq!(
            family_of_path("runtime/process-instances/x/variables"),
            Family::Variables
        );
        assert_eq!(
            family_of_path("runtime/process-instances/x/variables/v"),
            Family::Variables
        );
        assert_eq!(family_of_path("runtime/process-instances/x"), Family::Instance);
        assert_eq!(family_of_path("runtime/process-instances"), Family::Other);
        assert_eq!(family_of_path("runtime/process-instances/delete"), Family::Bulk);
        assert_eq!(family_of_path("what"), Family::Other);
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b+c");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }
}
