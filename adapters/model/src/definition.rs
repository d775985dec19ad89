//! Process definitions: the vendor-neutral graph every dialect starts instances of.

use serde::{Deserialize, Serialize};

/// A deployed process definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProcessDefinition {
    /// Store-wide id, `key:version:n` (Flowable's shape, opaque to everyone else).
    pub id: String,
    /// The BPMN process id; names the definition in every dialect.
    pub key: String,
    pub name: Option<String>,
    /// BPMN `<documentation>` of the process.
    pub description: Option<String>,
    pub category: Option<String>,
    pub version: u32,
    /// A version name a dialect shows instead of the number (Astro Zero's `1.0.1`).
    #[serde(default)]
    pub version_label: Option<String>,
    /// `""` is the default tenant.
    pub tenant_id: String,
    /// The file it was loaded from, e.g. `oneTask.bpmn20.xml`.
    pub resource_name: Option<String>,
    /// The deployment it came with.
    #[serde(default)]
    pub deployment_id: Option<String>,
    /// Its position among its deployment's definitions (resources in upload order, processes
    /// in document order), from 0: with `deployment_id`, a numeric name of the definition.
    #[serde(default)]
    pub ordinal: u32,
    pub activities: Vec<Activity>,
    pub flows: Vec<SequenceFlow>,
    /// BPMN DI, when the source had it.
    pub layout: Option<Layout>,
    /// Names a legacy client may use instead of `key`, by dialect (opaque to the core).
    #[serde(default)]
    pub aliases: Vec<Alias>,
    /// An integration process (webMethods' Process Audit Log): its instances are logged by
    /// their client step by step, not run by the engine, and cannot be suspended or stopped.
    #[serde(default)]
    pub integration: bool,
    /// Fields an integration process's steps log, declared before they are logged.
    #[serde(default)]
    pub logged_fields: Vec<LoggedField>,
}

/// A field a step of an integration process logs (its value becomes an instance variable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedField {
    pub step: String,
    /// The document (a label, or a document type name) the field belongs to.
    pub document: String,
    pub field: String,
}

/// A name under which one dialect knows a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub dialect: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: String,
    pub name: Option<String>,
    pub kind: ActivityKind,
    /// BPMN `<documentation>` of the element.
    #[serde(default)]
    pub documentation: Option<String>,
    /// The flow a gateway (or activity) takes when no condition of the others holds.
    #[serde(default)]
    pub default_flow: Option<String>,
    /// Who works on a user task, and its other task attributes.
    #[serde(default)]
    pub task: Option<TaskSpec>,
}

impl Activity {
    pub fn new(id: impl Into<String>, kind: ActivityKind) -> Activity {
        Activity {
            id: id.into(),
            name: None,
            kind,
            documentation: None,
            default_flow: None,
            task: None,
        }
    }
}

/// The attributes of a user task, as written in the definition: each may be a literal or an
/// expression over process variables (`${initiator}`), resolved when the task is created.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskSpec {
    pub assignee: Option<String>,
    pub owner: Option<String>,
    pub candidate_users: Vec<String>,
    pub candidate_groups: Vec<String>,
    pub priority: Option<String>,
    pub due_date: Option<String>,
    pub category: Option<String>,
    pub form_key: Option<String>,
    /// Flowable's `<flowable:formProperty>` elements: the fields of the task's form.
    pub form_properties: Vec<FormProperty>,
}

/// One field of a user task's form (Flowable `formProperty`, Activiti/Camunda alike).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FormProperty {
    pub id: String,
    pub name: Option<String>,
    /// `string`, `long`, `boolean`, `date`, `enum`, ... as written.
    pub kind: Option<String>,
    /// The process variable the field reads and writes (defaults to `id`).
    pub variable: Option<String>,
    pub default: Option<String>,
    pub date_pattern: Option<String>,
    pub required: bool,
    pub readable: bool,
    pub writable: bool,
    /// The choices of an `enum` field: (id, name).
    pub values: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum ActivityKind {
    /// `message` is the message name of a message start event.
    StartEvent {
        message: Option<String>,
    },
    EndEvent,
    UserTask,
    ServiceTask,
    ScriptTask,
    ReceiveTask,
    /// A plain `<task>` or a declarative step with no behaviour.
    Task,
    ExclusiveGateway,
    ParallelGateway,
}

impl ActivityKind {
    /// The BPMN element name (`userTask`, `exclusiveGateway`, ...), as history shows it.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActivityKind::StartEvent { .. } => "startEvent",
            ActivityKind::EndEvent => "endEvent",
            ActivityKind::UserTask => "userTask",
            ActivityKind::ServiceTask => "serviceTask",
            ActivityKind::ScriptTask => "scriptTask",
            ActivityKind::ReceiveTask => "receiveTask",
            ActivityKind::Task => "task",
            ActivityKind::ExclusiveGateway => "exclusiveGateway",
            ActivityKind::ParallelGateway => "parallelGateway",
        }
    }

    /// Whether an instance stops here until something outside moves it on.
    pub fn is_wait_state(&self) -> bool {
        matches!(self, ActivityKind::UserTask | ActivityKind::ReceiveTask)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceFlow {
    pub id: String,
    pub source: String,
    pub target: String,
    pub condition: Option<String>,
}

/// BPMN DI of a process: shapes and edges in diagram coordinates.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Layout {
    pub shapes: Vec<Shape>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub element: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub element: String,
    pub waypoints: Vec<(f64, f64)>,
}

impl ProcessDefinition {
    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }

    /// Sequence flows leaving `id`, in document order.
    pub fn outgoing<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a SequenceFlow> + 'a {
        self.flows.iter().filter(move |f| f.source == id)
    }

    /// How many sequence flows arrive at `id`.
    pub fn incoming_count(&self, id: &str) -> usize {
        self.flows.iter().filter(|f| f.target == id).count()
    }

    /// The start event a start should use: the message start for `message`, else the none
    /// start event (or the first start event when every start is a message start).
    pub fn start_event(&self, message: Option<&str>) -> Option<&Activity> {
        let starts = self
            .activities
            .iter()
            .filter(|a| matches!(a.kind, ActivityKind::StartEvent { .. }));
        match message {
            Some(m) => starts
                .into_iter()
                .find(|a| matches!(&a.kind, ActivityKind::StartEvent { message: Some(x) } if x == m)),
            None => {
                let all: Vec<&Activity> = starts.collect();
                all.iter()
                    .find(|a| matches!(a.kind, ActivityKind::StartEvent { message: None }))
                    .or_else(|| all.first())
                    .copied()
            }
        }
    }

    /// The message names this definition can be started by.
    pub fn start_messages(&self) -> impl Iterator<Item = &str> {
        self.activities.iter().filter_map(|a| match &a.kind {
            ActivityKind::StartEvent { message: Some(m) } => Some(m.as_str()),
            _ => None,
        })
    }

    pub fn has_layout(&self) -> bool {
        self.layout.as_ref().is_some_and(|l| !l.shapes.is_empty())
    }

    pub fn alias<'a>(&'a self, dialect: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.aliases
            .iter()
            .filter(move |a| a.dialect == dialect)
            .map(|a| a.name.as_str())
    }
}
