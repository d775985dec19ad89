//! What the engine answers. Adapters choose what of it to show.

use std::sync::Arc;

use crate::definition::ProcessDefinition;
use crate::instance::{IdentityLink, ProcessInstance};
use crate::query::Page;
use crate::variable::Variable;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Instance(InstanceView),
    Instances(Page<InstanceView>),
    IdentityLinks(Vec<IdentityLink>),
    IdentityLink(IdentityLink),
    Variables(Vec<Variable>),
    Variable(Variable),
    Diagram(InstanceView),
    /// Done, nothing to show.
    Done,
}

/// An instance with the definition it runs, so a dialect can show definition fields.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    pub instance: ProcessInstance,
    pub definition: Arc<ProcessDefinition>,
}
