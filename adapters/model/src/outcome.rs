//! What the engine answers. Adapters choose what of it to show.

use std::sync::Arc;

use crate::definition::ProcessDefinition;
use crate::instance::{ActivityRecord, Comment, IdentityLink, InstanceId, Item, ProcessInstance};
use crate::query::Page;
use crate::repository::{Deployment, Resource};
use crate::task::{Task, VariableScope};
use crate::variable::Variable;
use crate::variable::Variables;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Instance(InstanceView),
    Instances(Page<InstanceView>),
    IdentityLinks(Vec<IdentityLink>),
    IdentityLink(IdentityLink),
    Variables(Vec<Variable>),
    Variable(Variable),
    Diagram(InstanceView),
    Task(TaskView),
    Tasks(Page<TaskView>),
    Deployment(Deployment),
    /// A deployment just written, with the definitions it made (their versions tell new keys
    /// from new versions of known ones).
    Deployed {
        deployment: Deployment,
        definitions: Vec<ProcessDefinition>,
    },
    Deployments(Page<Deployment>),
    Definition(Arc<ProcessDefinition>),
    Definitions(Page<Arc<ProcessDefinition>>),
    Resource(Resource),
    Activities(Page<ActivityView>),
    /// An instance and the activities its paths wait at.
    Executions {
        instance: InstanceView,
        waits: Vec<ActivityView>,
    },
    /// An issued access token and its lifetime in seconds.
    Token {
        token: String,
        expires_in: u64,
    },
    /// Variables with the scope each comes from.
    ScopedVariables(Vec<(Variable, VariableScope)>),
    /// A generated id.
    Id(String),
    /// Per item written, whether it was new.
    ItemsWritten(Vec<bool>),
    Items(Page<Item>),
    /// What a status change found and did.
    StatusChanged(StatusChange),
    /// An instance with its tasks, open and ended, oldest first.
    InstanceDetails {
        instance: InstanceView,
        tasks: Vec<Task>,
    },
    Comment(Comment),
    Comments(Vec<Comment>),
    /// Done, nothing to show.
    Done,
}

/// An instance with the definition it runs, so a dialect can show definition fields.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    pub instance: ProcessInstance,
    pub definition: Arc<ProcessDefinition>,
}

/// A task with its process definition and, when asked for, its instance's variables.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub task: Task,
    pub definition: Arc<ProcessDefinition>,
    pub process_variables: Option<Variables>,
    /// The task's own variables, when asked for.
    pub local_variables: Option<Variables>,
}

/// The checks of an item status change and its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusChange {
    pub item_found: bool,
    pub workflow_found: bool,
    pub status_found: bool,
    /// For a leave: the item was in that status.
    pub was_in_status: bool,
    pub done: bool,
}

/// An activity record with what dialects show beside it: its instance, the definition (for
/// the activity's name and type) and, for a user task, the task.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityView {
    pub instance_id: InstanceId,
    pub tenant_id: String,
    pub record: ActivityRecord,
    pub definition: Arc<ProcessDefinition>,
    pub task: Option<Task>,
}

impl ActivityView {
    /// `<instance id>.<record key>`: unique across the store.
    pub fn id(&self) -> String {
        format!("{}.{}", self.instance_id, self.record.key)
    }

    pub fn activity_name(&self) -> Option<&str> {
        self.definition
            .activity(&self.record.activity_id)
            .and_then(|a| a.name.as_deref())
    }

    /// The BPMN element name; `sequenceFlow` for a flow taken.
    pub fn activity_type(&self) -> Option<&'static str> {
        let id = &self.record.activity_id;
        match self.definition.activity(id) {
            Some(a) => Some(a.kind.type_name()),
            None => self
                .definition
                .flows
                .iter()
                .any(|f| &f.id == id)
                .then_some("sequenceFlow"),
        }
    }
}
