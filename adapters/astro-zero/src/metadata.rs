//! The BP metadata API (`metadata/definitions[/{bpm_id}]`, astrozero_api_0047 list,
//! astrozero_api_0048 get, and the create, update and delete pages of the same chapter): a BPM
//! as Astro Zero's designer stores it, translated to and from the core's definitions.
//!
//! # The design document
//! Huawei's pages show a BPM as one JSON object with keys in alphabetical order: `config`
//! (`cancelable`, `noCancelAfterElem`), `dataMappers` (elements that assign variables and go
//! on), `description`, `id`, `label`, `laneSet` (lanes with a `role` and the `elements` in
//! them), `name`, `slas`, and one array per kind of element. Every element has `name`,
//! `label`, `description`, `locationX`/`locationY` and `connector`, the name of the element
//! that follows it (`""`: none). The pages do not show every element array, so bpm-compat
//! reads and writes these, and documents them in fixtures/astro-zero/README.md:
//!
//! | array | core activity |
//! |---|---|
//! | `startEvents` (also a single `startEvent` object on input) | start event |
//! | `userTasks` | user task; the candidate group is its lane's `role` |
//! | `dataMappers` | a task that does not wait (also service and script tasks on output) |
//! | `decisions` (`rules: [{name, label, criteria, connector}]`, `defaultConnector`) | exclusive gateway; `criteria` like `{!amount} > 100` |
//! | `waits` | receive task |
//! | `parallelGateways` | parallel gateway; its branches are `connector` and then `connectors` (element names) |
//! | `endEvents` | end event; an element without a `connector` on input ends the BPM |
//!
//! Other keys (`slas`, `config`, element `assignmentItems`, …) are accepted and not kept:
//! the core has no SLA timers or data mappings.

use std::collections::BTreeMap;

use bpm_compat_model::{ActivityKind, CoreError, ProcessDefinition};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::ids::render_definition_id;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Design {
    name: Option<String>,
    label: Option<String>,
    description: Option<String>,
    version: Option<String>,
    start_event: Option<Element>,
    start_events: Vec<Element>,
    user_tasks: Vec<Element>,
    data_mappers: Vec<Element>,
    decisions: Vec<Decision>,
    waits: Vec<Element>,
    parallel_gateways: Vec<Element>,
    end_events: Vec<Element>,
    lane_set: Option<LaneSet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Element {
    name: String,
    label: Option<String>,
    description: Option<String>,
    connector: Option<String>,
    /// Further elements that follow at once (a parallel gateway's branches), by name.
    connectors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Decision {
    name: String,
    label: Option<String>,
    description: Option<String>,
    rules: Vec<Rule>,
    default_connector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Rule {
    criteria: Option<String>,
    connector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LaneSet {
    lanes: Vec<Lane>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lane {
    role: Option<String>,
    elements: Vec<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Astro Zero's criteria (`{!amount} > 100 && {!approved}`) as a JUEL condition
/// (`${amount > 100 && approved}`); a JUEL `${…}` passes as it is.
pub fn criteria_to_juel(criteria: &str) -> String {
    let c = criteria.trim();
    if c.starts_with("${") {
        return c.to_owned();
    }
    let mut out = String::with_capacity(c.len() + 3);
    let mut rest = c;
    while let Some(at) = rest.find("{!") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(after[..end].trim());
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    format!("${{{out}}}")
}

impl Design {
    pub fn name(&self) -> Option<&str> {
        nonempty(&self.name)
    }

    /// The design in the core's declarative definition format (src/definitions), which the
    /// engine parses and checks like any deployed file.
    pub fn to_declarative(&self) -> Result<Value, CoreError> {
        let Some(key) = self.name() else {
            return Err(CoreError::invalid("name is required"));
        };
        let role_of = |element: &str| {
            self.lane_set.iter().flat_map(|s| &s.lanes).find_map(|l| {
                l.elements
                    .iter()
                    .any(|e| e == element)
                    .then(|| nonempty(&l.role))
                    .flatten()
            })
        };
        let starts: Vec<&Element> = self.start_event.iter().chain(&self.start_events).collect();
        if starts.is_empty() {
            return Err(CoreError::invalid("The BPM has no start element"));
        }
        let mut steps: Vec<Value> = Vec::new();
        let mut flows: Vec<Value> = Vec::new();
        let mut dead_ends: Vec<String> = Vec::new();
        let step = |kind: &str, e_name: &str, label: &Option<String>, doc: &Option<String>| {
            let mut s = json!({"id": e_name, "type": kind});
            if let Some(l) = nonempty(label) {
                s["name"] = Value::from(l);
            }
            if let Some(d) = nonempty(doc) {
                s["documentation"] = Value::from(d);
            }
            s
        };
        let mut simple = |kind: &str, elements: Vec<&Element>, steps: &mut Vec<Value>| {
            for e in elements {
                let mut s = step(kind, &e.name, &e.label, &e.description);
                if kind == "userTask" {
                    if let Some(role) = role_of(&e.name) {
                        s["candidateGroups"] = json!([role]);
                    }
                }
                steps.push(s);
                let targets: Vec<&str> = nonempty(&e.connector)
                    .into_iter()
                    .chain(e.connectors.iter().map(String::as_str).filter(|c| !c.is_empty()))
                    .collect();
                for to in &targets {
                    flows.push(json!({"from": e.name, "to": to}));
                }
                if targets.is_empty() && kind != "endEvent" {
                    dead_ends.push(e.name.clone());
                }
            }
        };
        simple("startEvent", starts, &mut steps);
        simple("userTask", self.user_tasks.iter().collect(), &mut steps);
        simple("task", self.data_mappers.iter().collect(), &mut steps);
        simple("receiveTask", self.waits.iter().collect(), &mut steps);
        simple(
            "parallelGateway",
            self.parallel_gateways.iter().collect(),
            &mut steps,
        );
        simple("endEvent", self.end_events.iter().collect(), &mut steps);
        for d in &self.decisions {
            let mut s = step("exclusiveGateway", &d.name, &d.label, &d.description);
            for r in &d.rules {
                let Some(to) = nonempty(&r.connector) else {
                    return Err(CoreError::invalid(format!(
                        "A rule of decision '{}' has no connector",
                        d.name
                    )));
                };
                let mut f = json!({"from": d.name, "to": to});
                if let Some(c) = nonempty(&r.criteria) {
                    f["condition"] = Value::from(criteria_to_juel(c));
                }
                flows.push(f);
            }
            match nonempty(&d.default_connector) {
                Some(to) => {
                    flows.push(json!({"from": d.name, "to": to}));
                    s["default"] = Value::from(format!("flow{}", flows.len()));
                }
                None if d.rules.is_empty() => dead_ends.push(d.name.clone()),
                None => {}
            }
            steps.push(s);
        }
        if !dead_ends.is_empty() {
            // One end event for every element that leads nowhere, named so it clashes with none.
            let taken = |n: &str| steps.iter().any(|s| s["id"] == n);
            let mut end = "end".to_owned();
            while taken(&end) {
                end.push('_');
            }
            steps.push(json!({"id": end, "type": "endEvent"}));
            flows.extend(dead_ends.iter().map(|from| json!({"from": from, "to": end})));
        }
        let mut d = json!({"key": key, "steps": steps, "flows": flows});
        if let Some(l) = nonempty(&self.label) {
            d["name"] = Value::from(l);
        }
        if let Some(desc) = nonempty(&self.description) {
            d["description"] = Value::from(desc);
        }
        if let Some(v) = nonempty(&self.version) {
            d["versionLabel"] = Value::from(v);
        }
        Ok(d)
    }
}

/// A position as the designer writes it: whole numbers without a fraction.
fn coordinate(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        json!(v)
    }
}

/// `config` as the designer writes it; the core has no cancel rules.
fn config() -> Value {
    json!({"cancelable": false, "noCancelAfterElem": ""})
}

/// The definition's version label (`1.0.1`), else its number.
pub fn version(d: &ProcessDefinition) -> String {
    d.version_label.clone().unwrap_or_else(|| d.version.to_string())
}

/// A definition as `GET metadata/definitions/{id}` shows it.
pub fn design(d: &ProcessDefinition) -> Value {
    let mut arrays: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut names = Vec::new();
    let mut role = None;
    for a in &d.activities {
        let (x, y) = d
            .layout
            .iter()
            .flat_map(|l| &l.shapes)
            .find(|s| s.element == a.id)
            .map_or((0.0, 0.0), |s| (s.x, s.y));
        let mut unconditional = d
            .outgoing(&a.id)
            .filter(|f| f.condition.is_none() && a.default_flow.as_ref() != Some(&f.id))
            .map(|f| f.target.clone());
        let mut e = Map::new();
        e.insert("name".into(), Value::from(a.id.clone()));
        e.insert(
            "label".into(),
            Value::from(a.name.clone().unwrap_or_else(|| a.id.clone())),
        );
        e.insert(
            "description".into(),
            Value::from(a.documentation.clone().unwrap_or_default()),
        );
        e.insert("locationX".into(), coordinate(x));
        e.insert("locationY".into(), coordinate(y));
        let array = match a.kind {
            ActivityKind::StartEvent { .. } => "startEvents",
            ActivityKind::EndEvent => "endEvents",
            ActivityKind::UserTask => "userTasks",
            ActivityKind::ReceiveTask => "waits",
            ActivityKind::ParallelGateway => "parallelGateways",
            ActivityKind::ExclusiveGateway => "decisions",
            ActivityKind::ServiceTask | ActivityKind::ScriptTask | ActivityKind::Task => "dataMappers",
        };
        if a.kind == ActivityKind::ExclusiveGateway {
            let rules: Vec<Value> = d
                .outgoing(&a.id)
                .filter(|f| a.default_flow.as_ref() != Some(&f.id))
                .map(|f| {
                    json!({
                        "name": f.id,
                        "label": f.id,
                        "criteria": f.condition.clone().unwrap_or_default(),
                        "connector": f.target,
                    })
                })
                .collect();
            let default = a
                .default_flow
                .as_ref()
                .and_then(|id| d.flows.iter().find(|f| &f.id == id))
                .map(|f| f.target.clone())
                .unwrap_or_default();
            e.insert("rules".into(), Value::from(rules));
            e.insert("defaultConnector".into(), Value::from(default));
        } else {
            e.insert(
                "connector".into(),
                Value::from(unconditional.next().unwrap_or_default()),
            );
            e.insert(
                "connectors".into(),
                Value::from(unconditional.collect::<Vec<_>>()),
            );
        }
        if role.is_none() {
            role = a.task.as_ref().and_then(|t| t.candidate_groups.first().cloned());
        }
        names.push(a.id.clone());
        arrays.entry(array).or_default().push(Value::Object(e));
    }
    let mut m = Map::new();
    m.insert("active".into(), Value::Bool(true));
    m.insert("config".into(), config());
    m.insert(
        "description".into(),
        Value::from(d.description.clone().unwrap_or_default()),
    );
    m.insert("id".into(), Value::from(render_definition_id(d)));
    m.insert(
        "label".into(),
        Value::from(d.name.clone().unwrap_or_else(|| d.key.clone())),
    );
    m.insert(
        "laneSet".into(),
        json!({"label": "", "name": "", "lanes": [{
            "elements": names, "label": "lane", "name": "lane", "role": role.unwrap_or_default(),
        }]}),
    );
    m.insert("name".into(), Value::from(d.key.clone()));
    m.insert("slas".into(), json!([]));
    m.insert("version".into(), Value::from(version(d)));
    for (k, v) in arrays {
        m.insert(k.into(), Value::from(v));
    }
    Value::Object(m)
}

/// A definition as an item of `GET metadata/definitions`: the record's own fields, with
/// `config` as JSON text, as astrozero_api_0047's example shows it.
pub fn list_item(d: &ProcessDefinition) -> Value {
    json!({
        "active": true,
        "config": config().to_string(),
        "description": d.description.clone().unwrap_or_default(),
        "id": render_definition_id(d),
        "label": d.name.clone().unwrap_or_else(|| d.key.clone()),
        "name": d.key,
        "type": "BP",
        "version": version(d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_become_juel_conditions() {
        assert_eq!(criteria_to_juel("{!amount} > 100"), "${amount > 100}");
        assert_eq!(criteria_to_juel("{!a} == 'x' && {! b }"), "${a == 'x' && b}");
        assert_eq!(criteria_to_juel("${ok}"), "${ok}");
        assert_eq!(criteria_to_juel("{!broken"), "${{!broken}");
    }

    #[test]
    fn a_design_becomes_a_declarative_definition_with_an_implicit_end() {
        let design = serde_json::from_slice::<Design>(
            br#"{"name":"Loan","label":"Loan request","version":"1.0.1",
                 "startEvents":[{"name":"start","connector":"check"}],
                 "decisions":[{"name":"check","rules":[{"criteria":"{!amount} > 100","connector":"approve"}],
                               "defaultConnector":"book"}],
                 "userTasks":[{"name":"approve","label":"Approve","connector":"book"}],
                 "dataMappers":[{"name":"book","connector":""}],
                 "laneSet":{"lanes":[{"role":"LoanRequest.Applicant","elements":["approve"]}]},
                 "slas":[{"name":"ignored"}]}"#,
        )
        .expect("parses");
        let d = design.to_declarative().expect("translates");
        assert_eq!(
            d,
            json!({
                "key": "Loan", "name": "Loan request", "versionLabel": "1.0.1",
                "steps": [
                    {"id": "start", "type": "startEvent"},
                    {"id": "approve", "type": "userTask", "name": "Approve",
                     "candidateGroups": ["LoanRequest.Applicant"]},
                    {"id": "book", "type": "task"},
                    {"id": "check", "type": "exclusiveGateway", "default": "flow4"},
                    {"id": "end", "type": "endEvent"},
                ],
                "flows": [
                    {"from": "start", "to": "check"},
                    {"from": "approve", "to": "book"},
                    {"from": "check", "to": "approve", "condition": "${amount > 100}"},
                    {"from": "check", "to": "book"},
                    {"from": "book", "to": "end"},
                ],
            })
        );
    }

    #[test]
    fn a_design_needs_a_name_and_a_start() {
        let no_name = serde_json::from_slice::<Design>(br#"{"startEvents":[{"name":"s"}]}"#).expect("parses");
        assert!(no_name.to_declarative().is_err());
        let no_start = serde_json::from_slice::<Design>(br#"{"name":"x"}"#).expect("parses");
        assert!(no_start.to_declarative().is_err());
        assert!(serde_json::from_slice::<Design>(b"{").is_err());
        assert!(serde_json::from_slice::<Design>(br#"{"userTasks":"no"}"#).is_err());
    }
}
