//! What the engine answers. Adapters choose what of it to show.

use std::sync::Arc;

use crate::definition::ProcessDefinition;
use crate::instance::{IdentityLink, ProcessInstance};
use crate::query::Page;
use crate::repository::{Deployment, Resource};
use crate::task::Task;
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
    Deployments(Page<Deployment>),
    Definition(Arc<ProcessDefinition>),
    Definitions(Page<Arc<ProcessDefinition>>),
    Resource(Resource),
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
}
