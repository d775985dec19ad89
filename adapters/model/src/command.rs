//! The closed set of commands every dialect parses into (mini-redis `Command`, one struct per
//! command). The engine applies a command atomically and answers an [`Outcome`](crate::Outcome).

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::instance::{Comment, IdentityLink, InstanceId, InstanceState, Item};
use crate::query::InstanceQuery;
use crate::repository::{DefinitionQuery, DeploymentQuery, Resource};
use crate::task::{ActivityQuery, DelegationState, TaskId, TaskQuery, VariableScope};
use crate::time::Timestamp;
use crate::variable::Variable;

// One command per request, moved a couple of times: boxing the large query would cost an
// allocation per list call and buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Command {
    StartInstance(StartInstance),
    /// Starts an instance and answers the first task it waits at (a dialect whose "create a
    /// task" is a process with one user task: P360's task creation).
    StartForTask(StartInstance),
    GetInstance(InstanceRef),
    /// Any instance, running or ended (history).
    GetHistoricInstance(InstanceRef),
    ListInstances(InstanceQuery),
    UpdateInstance(UpdateInstance),
    SetSuspended(SetSuspended),
    DeleteInstance(DeleteInstance),
    /// All or nothing: any unknown id fails the whole batch before anything changes.
    DeleteInstances(DeleteInstances),
    GetIdentityLinks(InstanceRef),
    GetIdentityLink(IdentityLinkRef),
    AddIdentityLink(IdentityLinkRef),
    RemoveIdentityLink(IdentityLinkRef),
    GetVariables(InstanceRef),
    GetVariable(VariableRef),
    SetVariables(SetVariables),
    DeleteVariable(VariableRef),
    DeleteVariables(InstanceRef),
    /// The instance together with its definition's layout, for a diagram.
    GetDiagram(InstanceRef),
    GetTask(TaskRef),
    /// Any task, open or ended (history).
    GetHistoricTask(TaskRef),
    ListTasks(TaskQuery),
    /// Activity records of instances (history).
    ListActivities(ActivityQuery),
    /// Completes an open task and moves its instance on.
    CompleteTask(CompleteTask),
    /// Sets, changes or (with `user: None`) removes a task's assignee.
    ClaimTask(ClaimTask),
    DelegateTask(DelegateTask),
    /// Hands a delegated task back to its owner.
    ResolveTask(TaskRef),
    /// Changes the given fields of an open task.
    UpdateTask(UpdateTask),
    GetTaskIdentityLinks(TaskRef),
    AddTaskIdentityLink(TaskLinkRef),
    RemoveTaskIdentityLink(TaskLinkRef),
    /// A task's variables: local, its instance's, or both (`scope: None`, local first).
    GetTaskVariables {
        id: TaskId,
        scope: Option<VariableScope>,
    },
    SetTaskVariables {
        id: TaskId,
        scope: VariableScope,
        variables: Vec<Variable>,
        mode: SetMode,
    },
    DeleteTaskVariable {
        id: TaskId,
        scope: VariableScope,
        name: String,
    },
    /// The paths of an instance (its executions): the instance itself and every activity a
    /// path waits at, optionally only `key` (an activity record key) or one `activity_id`.
    GetExecutions {
        instance: InstanceId,
        key: Option<String>,
        activity_id: Option<String>,
    },
    /// Moves on the path waiting at a receive task (the activity record `key`; empty names the
    /// instance's root execution, which cannot be triggered).
    TriggerExecution {
        instance: InstanceId,
        key: String,
        variables: Vec<Variable>,
        transient_variables: Vec<Variable>,
    },
    /// Issues an access token to a client of the user directory (OAuth2 client credentials:
    /// the client id is the user, the secret its password).
    IssueToken {
        client_id: String,
        client_secret: String,
    },
    /// Deploys files; every process in them becomes a new definition version.
    Deploy(Deploy),
    GetDeployment(String),
    ListDeployments(DeploymentQuery),
    DeleteDeployment(String),
    /// One file of a deployment.
    GetDeploymentResource {
        deployment: String,
        name: String,
    },
    ListDefinitions(DefinitionQuery),
    GetDefinition(String),
    /// Deletes the deployment a definition came with (and so the other definitions of that
    /// deployment, if it has any).
    DeleteDefinition(DefinitionRef),
    /// An instance, running or ended, with all its tasks (open and ended).
    GetInstanceDetails(InstanceRef),
    /// Completes the open task an instance waits at (or the given task), moving it on, and
    /// answers the instance after the step (a coach-style resume: IBM BPM's service resource).
    Resume {
        target: ResumeTarget,
        variables: Vec<Variable>,
        user: Option<String>,
    },
    /// Adds a comment (its `id` is assigned) to an instance, open or ended.
    AddComment(Comment),
    /// An instance's comments, oldest first.
    GetComments(InstanceRef),
    /// Logs an error on the instance a client's id names (its business key, in any
    /// definition; the newest such instance), as a comment of kind `error`.
    LogError {
        id: String,
        source: Option<String>,
        message: String,
        details: Option<String>,
        user: Option<String>,
    },
    /// Writes items (new ones stored, known ones merged), all or none.
    WriteItems(Vec<Item>),
    /// A page of the items of an entity in a catalog.
    ListItems {
        entity: String,
        catalog: String,
        start: usize,
        size: usize,
    },
    /// Moves an item into (`enter`) or out of a status of a workflow definition (P360's
    /// workflow status): checks the item, the definition and the status, records the item's
    /// status in the workflow, and shows an entered status on the named instance as its
    /// business status.
    ChangeItemStatus(ItemStatusChange),
    /// A new id, unique across nodes and restarts with overwhelming likelihood: 32 lowercase
    /// hexadecimal digits. Nothing is written.
    GenerateId,
    /// An answer the dialect already knows is this error (input its vendor refuses as a
    /// business outcome rather than a protocol error): the engine answers it as it is, so the
    /// dialect renders it like any other failed command; on a logged `instance`, the failure
    /// is recorded as its error, as every failed logged change is.
    Refuse {
        error: CoreError,
        instance: Option<LoggedInstance>,
    },
    /// Declares (part of) an integration process: its client logs its instances step by
    /// step instead of the engine running them (webMethods' Process Audit Log). Each change
    /// is a new version of the definition.
    DefineIntegration(IntegrationChange),
    /// Opens an instance of an integration process under the id its client gives it (kept
    /// as the business key, unique within the definition key).
    LogInstance {
        instance: LoggedInstance,
        user: Option<String>,
    },
    /// Sets a logged status: `state` says what it means to the core (an open state keeps
    /// the instance open, a closed one ends it), `label` is the client's word for it.
    LogInstanceStatus {
        instance: LoggedInstance,
        state: InstanceState,
        label: String,
    },
    /// Starts a step instance (`status: None`: `Started`) or sets its status, ending it when
    /// `ends`.
    LogStep {
        instance: LoggedInstance,
        step: String,
        iteration: u32,
        status: Option<StepStatus>,
    },
    /// Logs a declared field's value on a step instance: it becomes an instance variable.
    LogField {
        instance: LoggedInstance,
        step: String,
        iteration: u32,
        variable: Variable,
    },
    /// The file a definition was deployed from.
    GetDefinitionResource(String),
}

impl Command {
    /// A stable name for logs and spans.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartInstance(_) => "start_instance",
            Command::StartForTask(_) => "start_for_task",
            Command::GetInstance(_) => "get_instance",
            Command::GetHistoricInstance(_) => "get_historic_instance",
            Command::ListInstances(_) => "list_instances",
            Command::UpdateInstance(_) => "update_instance",
            Command::SetSuspended(_) => "set_suspended",
            Command::DeleteInstance(_) => "delete_instance",
            Command::DeleteInstances(_) => "delete_instances",
            Command::GetIdentityLinks(_) => "get_identity_links",
            Command::GetIdentityLink(_) => "get_identity_link",
            Command::AddIdentityLink(_) => "add_identity_link",
            Command::RemoveIdentityLink(_) => "remove_identity_link",
            Command::GetVariables(_) => "get_variables",
            Command::GetVariable(_) => "get_variable",
            Command::SetVariables(_) => "set_variables",
            Command::DeleteVariable(_) => "delete_variable",
            Command::DeleteVariables(_) => "delete_variables",
            Command::GetDiagram(_) => "get_diagram",
            Command::GetTask(_) => "get_task",
            Command::GetHistoricTask(_) => "get_historic_task",
            Command::ListTasks(_) => "list_tasks",
            Command::ListActivities(_) => "list_activities",
            Command::CompleteTask(_) => "complete_task",
            Command::ClaimTask(_) => "claim_task",
            Command::DelegateTask(_) => "delegate_task",
            Command::ResolveTask(_) => "resolve_task",
            Command::UpdateTask(_) => "update_task",
            Command::GetTaskIdentityLinks(_) => "get_task_identity_links",
            Command::AddTaskIdentityLink(_) => "add_task_identity_link",
            Command::RemoveTaskIdentityLink(_) => "remove_task_identity_link",
            Command::GetTaskVariables { .. } => "get_task_variables",
            Command::SetTaskVariables { .. } => "set_task_variables",
            Command::DeleteTaskVariable { .. } => "delete_task_variable",
            Command::IssueToken { .. } => "issue_token",
            Command::GetExecutions { .. } => "get_executions",
            Command::TriggerExecution { .. } => "trigger_execution",
            Command::Deploy(_) => "deploy",
            Command::GetDeployment(_) => "get_deployment",
            Command::ListDeployments(_) => "list_deployments",
            Command::DeleteDeployment(_) => "delete_deployment",
            Command::GetDeploymentResource { .. } => "get_deployment_resource",
            Command::ListDefinitions(_) => "list_definitions",
            Command::GetDefinition(_) => "get_definition",
            Command::DeleteDefinition(_) => "delete_definition",
            Command::Resume { .. } => "resume",
            Command::GetInstanceDetails(_) => "get_instance_details",
            Command::AddComment(_) => "add_comment",
            Command::GetComments(_) => "get_comments",
            Command::LogError { .. } => "log_error",
            Command::WriteItems(_) => "write_items",
            Command::ListItems { .. } => "list_items",
            Command::ChangeItemStatus(_) => "change_item_status",
            Command::GenerateId => "generate_id",
            Command::Refuse { .. } => "refuse",
            Command::DefineIntegration(_) => "define_integration",
            Command::LogInstance { .. } => "log_instance",
            Command::LogInstanceStatus { .. } => "log_instance_status",
            Command::LogStep { .. } => "log_step",
            Command::LogField { .. } => "log_field",
            Command::GetDefinitionResource(_) => "get_definition_resource",
        }
    }

    /// The task the command addresses, for spans.
    pub fn task_id(&self) -> Option<TaskId> {
        match self {
            Command::GetTask(r)
            | Command::GetHistoricTask(r)
            | Command::ResolveTask(r)
            | Command::GetTaskIdentityLinks(r) => Some(r.id),
            Command::UpdateTask(c) => Some(c.id),
            Command::AddTaskIdentityLink(c) | Command::RemoveTaskIdentityLink(c) => Some(c.id),
            Command::GetTaskVariables { id, .. }
            | Command::SetTaskVariables { id, .. }
            | Command::DeleteTaskVariable { id, .. } => Some(*id),
            Command::CompleteTask(c) => Some(c.id),
            Command::ClaimTask(c) => Some(c.id),
            Command::DelegateTask(c) => Some(c.id),
            _ => None,
        }
    }

    /// The instance the command addresses, for spans.
    pub fn instance_id(&self) -> Option<InstanceId> {
        match self {
            Command::GetInstance(r)
            | Command::GetHistoricInstance(r)
            | Command::GetIdentityLinks(r)
            | Command::GetVariables(r)
            | Command::DeleteVariables(r)
            | Command::GetDiagram(r)
            | Command::GetComments(r)
            | Command::GetInstanceDetails(r) => Some(r.id),
            Command::AddComment(c) => Some(c.instance_id),
            Command::UpdateInstance(c) => Some(c.id),
            Command::GetExecutions { instance, .. } | Command::TriggerExecution { instance, .. } => {
                Some(*instance)
            }
            Command::SetSuspended(c) => Some(c.id),
            Command::DeleteInstance(c) => Some(c.id),
            Command::GetIdentityLink(c) | Command::AddIdentityLink(c) | Command::RemoveIdentityLink(c) => {
                Some(c.id)
            }
            Command::GetVariable(c) | Command::DeleteVariable(c) => Some(c.id),
            Command::SetVariables(c) => Some(c.id),
            Command::StartInstance(_)
            | Command::StartForTask(_)
            | Command::ListInstances(_)
            | Command::DeleteInstances(_)
            | Command::GetTask(_)
            | Command::GetHistoricTask(_)
            | Command::ListTasks(_)
            | Command::ListActivities(_)
            | Command::CompleteTask(_)
            | Command::ClaimTask(_)
            | Command::DelegateTask(_)
            | Command::ResolveTask(_)
            | Command::UpdateTask(_)
            | Command::GetTaskIdentityLinks(_)
            | Command::AddTaskIdentityLink(_)
            | Command::RemoveTaskIdentityLink(_)
            | Command::GetTaskVariables { .. }
            | Command::SetTaskVariables { .. }
            | Command::DeleteTaskVariable { .. }
            | Command::IssueToken { .. }
            | Command::Deploy(_)
            | Command::GetDeployment(_)
            | Command::ListDeployments(_)
            | Command::DeleteDeployment(_)
            | Command::GetDeploymentResource { .. }
            | Command::ListDefinitions(_)
            | Command::GetDefinition(_)
            | Command::DeleteDefinition(_)
            | Command::LogError { .. }
            | Command::Resume { .. }
            | Command::WriteItems(_)
            | Command::ListItems { .. }
            | Command::ChangeItemStatus(_)
            | Command::GenerateId
            | Command::Refuse { .. }
            | Command::DefineIntegration(_)
            | Command::LogInstance { .. }
            | Command::LogInstanceStatus { .. }
            | Command::LogStep { .. }
            | Command::LogField { .. }
            | Command::GetDefinitionResource(_) => None,
        }
    }
}

/// Which definition a start uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DefinitionSelector {
    /// A definition id (`key:version:n`).
    Id(String),
    /// The latest version of a key in a tenant (`""` = default tenant).
    Key { key: String, tenant_id: String },
    /// The latest definition (in a tenant) with a message start event of this name.
    Message { name: String, tenant_id: String },
    /// A name a dialect knows the definition by (its key, or a declared alias), optionally
    /// pinned to a version label.
    Alias {
        dialect: String,
        name: String,
        version: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartInstance {
    pub definition: DefinitionSelector,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub variables: Vec<Variable>,
    /// Visible to the start only; never stored.
    pub transient_variables: Vec<Variable>,
    /// The authenticated user; becomes the start user and gets a `starter` link.
    pub start_user: Option<String>,
    /// The dialect that starts it.
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InstanceRef {
    pub id: InstanceId,
}

/// Updates the given fields; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct UpdateInstance {
    pub id: InstanceId,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub business_status: Option<String>,
    pub due_date: Option<Timestamp>,
    /// `Some(Some(claim))` claims, `Some(None)` unclaims.
    pub claim: Option<Option<Claim>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub user: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetSuspended {
    pub id: InstanceId,
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteInstance {
    pub id: InstanceId,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteInstances {
    pub ids: Vec<InstanceId>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityLinkRef {
    pub id: InstanceId,
    pub link: IdentityLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableRef {
    pub id: InstanceId,
    pub name: String,
}

/// How `SetVariables` treats names that exist or do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetMode {
    /// Every name must be new, else `Conflict(VariableExists)` and nothing is written.
    Create,
    /// Create or overwrite.
    Upsert,
    /// Every name must exist, else `NotFound(Variable)` and nothing is written.
    Update,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetVariables {
    pub id: InstanceId,
    pub variables: Vec<Variable>,
    pub mode: SetMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TaskRef {
    pub id: TaskId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompleteTask {
    pub id: TaskId,
    /// Written to the instance before it moves on.
    pub variables: Vec<Variable>,
    /// Seen by the conditions of this step only; never stored.
    pub transient_variables: Vec<Variable>,
    /// The user completing it.
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimTask {
    pub id: TaskId,
    /// `None` unclaims.
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegateTask {
    pub id: TaskId,
    pub assignee: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    pub name: Option<String>,
    pub key: Option<String>,
    pub category: Option<String>,
    /// `""` is the default tenant.
    pub tenant_id: String,
    pub resources: Vec<Resource>,
    /// A new version of this definition: it must exist, and the deployment must hold only
    /// definitions of its key (a dialect whose definitions are edited in place, Astro Zero's
    /// metadata API, updates this way; running instances keep the version they started on).
    pub replaces: Option<DefinitionRef>,
}

/// An item entering or leaving a workflow status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemStatusChange {
    pub item: String,
    /// The definition key.
    pub workflow: String,
    pub status: String,
    /// The instance (process) the change belongs to, as the client names it.
    pub process: Option<String>,
    pub enter: bool,
}

/// What a resume moves on: an instance's (first) open task, or one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResumeTarget {
    Instance(InstanceId),
    Task(TaskId),
}

/// A change to an integration process's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IntegrationChange {
    /// A new process; its key must be unused.
    Process { key: String, label: String },
    Step {
        key: String,
        step: String,
        label: String,
    },
    LoggedField {
        key: String,
        step: String,
        document: String,
        field: String,
    },
}

/// An instance by the id its client gave it, within its definition key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedInstance {
    pub key: String,
    pub id: String,
}

/// A step's new status: the client's label, and whether the step ends with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepStatus {
    pub label: String,
    pub ends: bool,
}

/// A definition named by its deployment and its position in it (see
/// [`ProcessDefinition::ordinal`](crate::ProcessDefinition)): a numeric name for dialects
/// whose definition ids are numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionRef {
    pub deployment: String,
    pub ordinal: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskLinkRef {
    pub id: TaskId,
    pub link: IdentityLink,
}

/// Sets the given fields of a task; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct UpdateTask {
    pub id: TaskId,
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub assignee: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    pub delegation_state: Option<Option<DelegationState>>,
    pub due_date: Option<Option<Timestamp>>,
    pub priority: Option<i32>,
    pub category: Option<Option<String>>,
    pub form_key: Option<Option<String>>,
}
