//! BPMN 2.0 XML → [`ProcessDefinition`]s: the subset the core runs (start/end events, tasks,
//! gateways, sequence flows with conditions) and BPMN DI shapes and edges when present.
//! Elements outside that subset inside a process are rejected by name, not silently dropped,
//! except extension elements and lanes, which carry no behaviour. User tasks keep their
//! assignment attributes (`flowable:assignee`, `candidateUsers`, `candidateGroups`, ... in any
//! extension namespace, or `<humanPerformer>` / `<potentialOwner>`) and documentation.

use std::collections::HashMap;

use bpm_compat_model::{
    Activity, ActivityKind, Edge, FormProperty, Layout, ProcessDefinition, SequenceFlow, Shape, TaskSpec,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// A process as parsed, before the registry gives it a version and an id.
pub type Parsed = ProcessDefinition;

pub fn parse(xml: &str) -> Result<Vec<Parsed>, String> {
    let mut reader = Reader::from_str(xml);
    // No trimming per chunk: text around entity references comes in several events, and the
    // spaces between them matter; whole texts are trimmed when their element ends.
    // Empty elements come as a start/end pair, so the element stack stays balanced.
    reader.config_mut().expand_empty_elements = true;

    let mut processes: Vec<Parsed> = Vec::new();
    let mut messages: HashMap<String, String> = HashMap::new();
    let mut layout = Layout::default();
    // Element names from the root to the current element.
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut pending_message_refs: Vec<(usize, usize, String)> = Vec::new();
    // Flowable's definition category.
    let mut target_namespace: Option<String> = None;

    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                let name = local(&e);
                let parent = stack.last().map(String::as_str);
                text.clear();
                match (parent, name.as_str()) {
                    (None, "definitions") => target_namespace = attr(&e, "targetNamespace")?,
                    (_, "message") => {
                        if let (Some(id), Some(n)) = (attr(&e, "id")?, attr(&e, "name")?) {
                            messages.insert(id, n);
                        }
                    }
                    (_, "process") => {
                        let id = attr(&e, "id")?.ok_or("a <process> has no id")?;
                        processes.push(ProcessDefinition {
                            key: id,
                            name: attr(&e, "name")?,
                            version: 1,
                            ..ProcessDefinition::default()
                        });
                    }
                    (Some("process"), "sequenceFlow") => {
                        let p = processes.last_mut().ok_or("sequenceFlow outside a process")?;
                        p.flows.push(SequenceFlow {
                            id: attr(&e, "id")?.unwrap_or_default(),
                            source: attr(&e, "sourceRef")?.ok_or("a sequenceFlow has no sourceRef")?,
                            target: attr(&e, "targetRef")?.ok_or("a sequenceFlow has no targetRef")?,
                            condition: None,
                        });
                    }
                    (Some("process"), node) if activity_kind(node).is_some() => {
                        let p = processes.last_mut().ok_or("flow node outside a process")?;
                        let id = attr(&e, "id")?.ok_or_else(|| format!("a <{node}> has no id"))?;
                        let kind = activity_kind(node).unwrap_or(ActivityKind::Task);
                        let task = match kind {
                            ActivityKind::UserTask => Some(task_spec(&e)?),
                            _ => None,
                        };
                        p.activities.push(Activity {
                            id,
                            name: attr(&e, "name")?,
                            kind,
                            documentation: None,
                            default_flow: attr(&e, "default")?,
                            task,
                        });
                    }
                    (Some("process"), "documentation" | "extensionElements" | "laneSet" | "dataObject")
                    | (Some("process"), "textAnnotation" | "association" | "ioSpecification")
                    | (Some("process"), "dataObjectReference" | "dataStoreReference") => {}
                    (Some("process"), other) => {
                        return Err(format!("unsupported BPMN element <{other}> in a process"));
                    }
                    (Some("startEvent"), "messageEventDefinition") => {
                        if let Some(r) = attr(&e, "messageRef")? {
                            let pi = processes.len() - 1;
                            let ai = processes[pi].activities.len() - 1;
                            pending_message_refs.push((pi, ai, r));
                        }
                    }
                    (_, "BPMNShape") => layout.shapes.push(Shape {
                        element: attr(&e, "bpmnElement")?.unwrap_or_default(),
                        x: 0.0,
                        y: 0.0,
                        width: 0.0,
                        height: 0.0,
                    }),
                    (Some("extensionElements"), "formProperty") => {
                        let task = processes
                            .last_mut()
                            .and_then(|p| p.activities.last_mut())
                            .filter(|_| stack.iter().rev().nth(1).is_some_and(|n| n == "userTask"))
                            .and_then(|a| a.task.as_mut());
                        if let Some(task) = task {
                            let flag = |name: &str, default: bool| -> Result<bool, String> {
                                Ok(attr(&e, name)?.map_or(default, |v| v.trim() == "true"))
                            };
                            task.form_properties.push(FormProperty {
                                id: attr(&e, "id")?.ok_or("a formProperty has no id")?,
                                name: attr(&e, "name")?,
                                kind: attr(&e, "type")?,
                                variable: attr(&e, "variable")?,
                                default: attr(&e, "default")?,
                                date_pattern: attr(&e, "datePattern")?,
                                required: flag("required", false)?,
                                readable: flag("readable", true)?,
                                writable: flag("writable", true)?,
                                values: Vec::new(),
                            });
                        }
                    }
                    (Some("formProperty"), "value") => {
                        let property = processes
                            .last_mut()
                            .and_then(|p| p.activities.last_mut())
                            .and_then(|a| a.task.as_mut())
                            .and_then(|t| t.form_properties.last_mut());
                        if let Some(property) = property {
                            if let Some(id) = attr(&e, "id")? {
                                property.values.push((id, attr(&e, "name")?));
                            }
                        }
                    }
                    (Some("BPMNShape"), "Bounds") => {
                        if let Some(s) = layout.shapes.last_mut() {
                            s.x = num(&e, "x")?;
                            s.y = num(&e, "y")?;
                            s.width = num(&e, "width")?;
                            s.height = num(&e, "height")?;
                        }
                    }
                    (_, "BPMNEdge") => layout.edges.push(Edge {
                        element: attr(&e, "bpmnElement")?.unwrap_or_default(),
                        waypoints: Vec::new(),
                    }),
                    (Some("BPMNEdge"), "waypoint") => {
                        if let Some(edge) = layout.edges.last_mut() {
                            edge.waypoints.push((num(&e, "x")?, num(&e, "y")?));
                        }
                    }
                    _ => {}
                }
                stack.push(name);
            }
            Event::Text(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml_content(XmlVersion::Implicit1_0))
                {
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (Some("process"), "documentation") => {
                        if let Some(p) = processes.last_mut() {
                            p.description = Some(text.trim().to_owned());
                        }
                    }
                    (Some(node), "documentation") if activity_kind(node).is_some() => {
                        if let Some(a) = processes.last_mut().and_then(|p| p.activities.last_mut()) {
                            a.documentation = Some(text.trim().to_owned());
                        }
                    }
                    (Some("resourceAssignmentExpression"), "formalExpression") => {
                        // <humanPerformer> names the assignee, <potentialOwner> candidates:
                        // `user(kermit), group(management)`, a bare name being a group.
                        let role = stack
                            .iter()
                            .rev()
                            .find(|n| *n == "humanPerformer" || *n == "potentialOwner");
                        let task = processes
                            .last_mut()
                            .and_then(|p| p.activities.last_mut())
                            .and_then(|a| a.task.as_mut());
                        if let (Some(role), Some(task)) = (role, task) {
                            if role == "humanPerformer" {
                                task.assignee = Some(text.trim().to_owned());
                            } else {
                                for part in split_list(text.trim()) {
                                    if let Some(u) =
                                        part.strip_prefix("user(").and_then(|r| r.strip_suffix(')'))
                                    {
                                        task.candidate_users.push(u.trim().to_owned());
                                    } else if let Some(g) =
                                        part.strip_prefix("group(").and_then(|r| r.strip_suffix(')'))
                                    {
                                        task.candidate_groups.push(g.trim().to_owned());
                                    } else {
                                        task.candidate_groups.push(part);
                                    }
                                }
                            }
                        }
                    }
                    (Some("sequenceFlow"), "conditionExpression") => {
                        if let Some(f) = processes.last_mut().and_then(|p| p.flows.last_mut()) {
                            f.condition = Some(text.trim().to_owned());
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }

    for (pi, ai, r) in pending_message_refs {
        // A messageRef names a <message> id; Flowable also accepts the message name itself.
        let name = messages.get(&r).cloned().unwrap_or(r);
        processes[pi].activities[ai].kind = ActivityKind::StartEvent { message: Some(name) };
    }
    if processes.is_empty() {
        return Err("no <process> element".into());
    }
    for p in &mut processes {
        p.category = target_namespace.clone();
        let ids: Vec<&str> = p.activities.iter().map(|a| a.id.as_str()).collect();
        let mine = |el: &str| ids.contains(&el) || p.flows.iter().any(|f| f.id == el);
        let shapes: Vec<Shape> = layout
            .shapes
            .iter()
            .filter(|s| mine(&s.element))
            .cloned()
            .collect();
        let edges: Vec<Edge> = layout
            .edges
            .iter()
            .filter(|e| mine(&e.element))
            .cloned()
            .collect();
        if !shapes.is_empty() {
            p.layout = Some(Layout { shapes, edges });
        }
    }
    Ok(processes)
}

/// A user task's attributes, in any extension namespace (`flowable:`, `activiti:`, `camunda:`).
fn task_spec(e: &BytesStart<'_>) -> Result<TaskSpec, String> {
    let list = |v: Option<String>| v.map(|v| split_list(&v)).unwrap_or_default();
    Ok(TaskSpec {
        assignee: attr(e, "assignee")?,
        owner: attr(e, "owner")?,
        candidate_users: list(attr(e, "candidateUsers")?),
        candidate_groups: list(attr(e, "candidateGroups")?),
        priority: attr(e, "priority")?,
        due_date: attr(e, "dueDate")?,
        category: attr(e, "category")?,
        form_key: attr(e, "formKey")?,
        form_properties: Vec::new(),
    })
}

/// A comma-separated list, trimmed, without empty parts; commas inside `${...}` do not split.
fn split_list(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("bad attribute value: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn num(e: &BytesStart<'_>, name: &str) -> Result<f64, String> {
    attr(e, name)?
        .ok_or_else(|| format!("missing attribute {name}"))?
        .trim()
        .parse()
        .map_err(|_| format!("attribute {name} is not a number"))
}

fn activity_kind(element: &str) -> Option<ActivityKind> {
    Some(match element {
        "startEvent" => ActivityKind::StartEvent { message: None },
        "endEvent" => ActivityKind::EndEvent,
        "userTask" => ActivityKind::UserTask,
        "serviceTask" | "sendTask" | "businessRuleTask" => ActivityKind::ServiceTask,
        "scriptTask" => ActivityKind::ScriptTask,
        "receiveTask" => ActivityKind::ReceiveTask,
        "task" | "manualTask" | "intermediateThrowEvent" => ActivityKind::Task,
        "exclusiveGateway" | "inclusiveGateway" => ActivityKind::ExclusiveGateway,
        "parallelGateway" => ActivityKind::ParallelGateway,
        _ => return None,
    })
}
