//! Process definitions loaded at start-up from a directory.
//!
//! Two formats:
//! - BPMN 2.0 XML, in files named `*.bpmn` or `*.bpmn20.xml` (Flowable's conventions), see
//!   [`bpmn`];
//! - a small declarative JSON format in files named `*.process.json`, see [`Declarative`].
//!
//! Files directly in the directory belong to the default tenant (`""`); files in a
//! sub-directory belong to the tenant named by it. Files are read in sorted path order; a key
//! that appears again in the same tenant becomes the next version. Each definition's id is
//! `key:version:n`, `n` its position in that order, so the same directory gives the same ids
//! on every node and after every restart.

pub mod bpmn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpm_compat_model::{
    Activity, ActivityKind, Alias, DefinitionSelector, ProcessDefinition, SequenceFlow, TaskSpec,
};
use serde::Deserialize;

use crate::engine::expr::Expr;

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The declarative format: steps in order, chained by implicit sequence flows unless `flows`
/// is given.
///
/// ```text
/// {"key": "expenseApproval", "name": "Expense approval", "version": 1,
///  "steps": [{"id": "start", "type": "startEvent"}, {"id": "approve", "type": "userTask"},
///            {"id": "end", "type": "endEvent"}],
///  "aliases": [{"dialect": "ibm-bpm", "name": "FIN@Expense Approval"}]}
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Declarative {
    pub key: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub version: Option<u32>,
    pub steps: Vec<Step>,
    pub flows: Option<Vec<DeclaredFlow>>,
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    /// For `startEvent`: the message that starts it.
    pub message: Option<String>,
    pub documentation: Option<String>,
    /// For `userTask`: who works on it (literals or `${...}` expressions).
    pub assignee: Option<String>,
    #[serde(default, rename = "candidateUsers")]
    pub candidate_users: Vec<String>,
    #[serde(default, rename = "candidateGroups")]
    pub candidate_groups: Vec<String>,
    /// For gateways: the flow (`flowN`, by position in `flows`) taken when no condition holds.
    #[serde(rename = "default")]
    pub default_flow: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredFlow {
    pub from: String,
    pub to: String,
    pub condition: Option<String>,
}

impl Declarative {
    fn into_definition(self) -> Result<ProcessDefinition, String> {
        let mut activities = Vec::new();
        for s in &self.steps {
            let kind = match s.kind.as_str() {
                "startEvent" => ActivityKind::StartEvent {
                    message: s.message.clone(),
                },
                "endEvent" => ActivityKind::EndEvent,
                "userTask" => ActivityKind::UserTask,
                "serviceTask" => ActivityKind::ServiceTask,
                "scriptTask" => ActivityKind::ScriptTask,
                "receiveTask" => ActivityKind::ReceiveTask,
                "task" => ActivityKind::Task,
                "exclusiveGateway" => ActivityKind::ExclusiveGateway,
                "parallelGateway" => ActivityKind::ParallelGateway,
                other => return Err(format!("step '{}' has unknown type '{other}'", s.id)),
            };
            let task = (kind == ActivityKind::UserTask).then(|| TaskSpec {
                assignee: s.assignee.clone(),
                candidate_users: s.candidate_users.clone(),
                candidate_groups: s.candidate_groups.clone(),
                ..TaskSpec::default()
            });
            activities.push(Activity {
                id: s.id.clone(),
                name: s.name.clone(),
                kind,
                documentation: s.documentation.clone(),
                default_flow: s.default_flow.clone(),
                task,
            });
        }
        let flows = match self.flows {
            Some(flows) => flows
                .into_iter()
                .enumerate()
                .map(|(i, f)| SequenceFlow {
                    id: format!("flow{}", i + 1),
                    source: f.from,
                    target: f.to,
                    condition: f.condition,
                })
                .collect(),
            None => activities
                .windows(2)
                .enumerate()
                .map(|(i, w)| SequenceFlow {
                    id: format!("flow{}", i + 1),
                    source: w[0].id.clone(),
                    target: w[1].id.clone(),
                    condition: None,
                })
                .collect(),
        };
        Ok(ProcessDefinition {
            id: String::new(),
            key: self.key,
            name: self.name,
            description: self.description,
            category: self.category,
            version: self.version.unwrap_or(0),
            tenant_id: String::new(),
            resource_name: None,
            activities,
            flows,
            layout: None,
            aliases: self.aliases,
        })
    }
}

/// Checks what the engine relies on: unique activity ids, flows between known activities,
/// at least one start event, conditions that parse, default flows that leave their gateway.
fn validate(d: &ProcessDefinition) -> Result<(), String> {
    if d.key.is_empty() {
        return Err("the process has an empty key".into());
    }
    let mut seen = std::collections::HashSet::new();
    for a in &d.activities {
        if !seen.insert(a.id.as_str()) {
            return Err(format!("activity id '{}' is used twice", a.id));
        }
    }
    for f in &d.flows {
        for end in [&f.source, &f.target] {
            if d.activity(end).is_none() {
                return Err(format!(
                    "sequence flow '{}' refers to unknown activity '{end}'",
                    f.id
                ));
            }
        }
    }
    if d.start_event(None).is_none() {
        return Err(format!("process '{}' has no start event", d.key));
    }
    for f in &d.flows {
        if let Some(c) = &f.condition {
            Expr::parse(c).map_err(|e| format!("sequence flow '{}': {e}", f.id))?;
        }
    }
    for a in &d.activities {
        if let Some(flow) = &a.default_flow {
            if !d.outgoing(&a.id).any(|f| f.id == *flow) {
                return Err(format!(
                    "default flow '{flow}' of '{}' is not one of its outgoing flows",
                    a.id
                ));
            }
        }
    }
    Ok(())
}

/// Every loaded definition, looked up by id, by key (latest version per tenant), by start
/// message and by dialect alias.
#[derive(Debug, Default)]
pub struct Definitions {
    all: Vec<Arc<ProcessDefinition>>,
    by_id: HashMap<String, Arc<ProcessDefinition>>,
}

impl Definitions {
    /// Loads `dir` (see the module docs). A missing directory is an error: a typo in
    /// `--definitions` should not start a server that can run nothing.
    pub fn load_dir(dir: &Path) -> Result<Definitions, DefinitionError> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files)?;
        files.sort();
        let mut parsed = Vec::new();
        for (path, tenant) in files {
            let text = std::fs::read_to_string(&path).map_err(|source| DefinitionError::Io {
                path: path.clone(),
                source,
            })?;
            let invalid = |message: String| DefinitionError::Invalid {
                path: path.clone(),
                message,
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let defs = if name.as_deref().is_some_and(|n| n.ends_with(".process.json")) {
                let d: Declarative = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
                vec![d.into_definition().map_err(invalid)?]
            } else {
                bpmn::parse(&text).map_err(invalid)?
            };
            for mut d in defs {
                validate(&d).map_err(invalid)?;
                d.tenant_id = tenant.clone();
                d.resource_name = name.clone();
                parsed.push(d);
            }
        }
        Ok(Definitions::from_parsed(parsed))
    }

    /// Versions and ids definitions given in deployment order (a `version` of 0 means "next").
    pub fn from_parsed(parsed: Vec<ProcessDefinition>) -> Definitions {
        let mut latest: HashMap<(String, String), u32> = HashMap::new();
        let mut out = Definitions::default();
        for (n, mut d) in parsed.into_iter().enumerate() {
            let slot = latest.entry((d.tenant_id.clone(), d.key.clone())).or_insert(0);
            if d.version <= *slot {
                d.version = *slot + 1;
            }
            *slot = d.version;
            d.id = format!("{}:{}:{}", d.key, d.version, n + 1);
            let d = Arc::new(d);
            out.by_id.insert(d.id.clone(), d.clone());
            out.all.push(d);
        }
        out
    }

    pub fn all(&self) -> &[Arc<ProcessDefinition>] {
        &self.all
    }

    pub fn get(&self, id: &str) -> Option<&Arc<ProcessDefinition>> {
        self.by_id.get(id)
    }

    fn latest(&self, mut pick: impl FnMut(&ProcessDefinition) -> bool) -> Option<&Arc<ProcessDefinition>> {
        self.all.iter().filter(|d| pick(d)).max_by_key(|d| d.version)
    }

    pub fn resolve(&self, selector: &DefinitionSelector) -> Option<&Arc<ProcessDefinition>> {
        match selector {
            DefinitionSelector::Id(id) => self.get(id),
            DefinitionSelector::Key { key, tenant_id } => {
                self.latest(|d| d.key == *key && d.tenant_id == *tenant_id)
            }
            DefinitionSelector::Message { name, tenant_id } => {
                self.latest(|d| d.tenant_id == *tenant_id && d.start_messages().any(|m| m == name))
            }
            DefinitionSelector::Alias {
                dialect,
                name,
                version,
            } => self.latest(|d| {
                (d.key == *name || d.alias(dialect).any(|a| a == name))
                    && version
                        .as_ref()
                        .is_none_or(|v| v.parse::<u32>().ok() == Some(d.version))
            }),
        }
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), DefinitionError> {
    let io = |source| DefinitionError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            // One level of tenant directories.
            if dir == root {
                collect(root, &path, out)?;
            }
        } else if name.ends_with(".bpmn") || name.ends_with(".bpmn20.xml") || name.ends_with(".process.json")
        {
            let tenant = if dir == root {
                String::new()
            } else {
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            out.push((path, tenant));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Definitions {
        Definitions::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions"))
            .expect("loads")
    }

    #[test]
    fn loads_the_shipped_definitions() {
        let defs = fixtures();
        let one = defs
            .resolve(&DefinitionSelector::Key {
                key: "oneTaskProcess".into(),
                tenant_id: String::new(),
            })
            .expect("oneTaskProcess");
        assert_eq!(one.name.as_deref(), Some("The One Task Process"));
        assert_eq!(one.description.as_deref(), Some("One task process description"));
        assert_eq!(
            one.first_wait_state("theStart").map(|a| a.id.as_str()),
            Some("processTask")
        );
        assert!(one.has_layout());
        let layout = one.layout.as_ref().expect("layout");
        assert_eq!(layout.shapes.len(), 3);
        assert_eq!(layout.edges.len(), 2);

        let t1 = defs
            .resolve(&DefinitionSelector::Key {
                key: "oneTaskProcess".into(),
                tenant_id: "tenant1".into(),
            })
            .expect("tenant copy");
        assert_eq!(t1.tenant_id, "tenant1");
        assert_ne!(t1.id, one.id);
        assert!(!t1.has_layout());

        let msg = defs
            .resolve(&DefinitionSelector::Message {
                name: "newOrderMessage".into(),
                tenant_id: String::new(),
            })
            .expect("message start");
        assert_eq!(msg.key, "messageStartProcess");
        assert_eq!(
            msg.start_event(Some("newOrderMessage")).map(|a| a.id.as_str()),
            Some("messageStart")
        );

        let decl = defs
            .resolve(&DefinitionSelector::Alias {
                dialect: "ibm-bpm".into(),
                name: "FIN@Expense Approval".into(),
                version: None,
            })
            .expect("alias");
        assert_eq!(decl.key, "expenseApproval");
        assert_eq!(
            decl.first_wait_state("submitted").map(|a| a.id.as_str()),
            Some("approve")
        );
        let auto = defs
            .get(
                &defs
                    .resolve(&DefinitionSelector::Key {
                        key: "autoComplete".into(),
                        tenant_id: String::new(),
                    })
                    .expect("auto")
                    .id,
            )
            .expect("by id");
        assert!(auto.first_wait_state("start").is_none());
    }

    #[test]
    fn redeploying_a_key_makes_the_next_version() {
        let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#;
        let mut parsed = bpmn::parse(xml).expect("v1");
        parsed.extend(bpmn::parse(xml).expect("v2"));
        let defs = Definitions::from_parsed(parsed);
        let latest = defs
            .resolve(&DefinitionSelector::Key {
                key: "p".into(),
                tenant_id: String::new(),
            })
            .expect("latest");
        assert_eq!((latest.version, latest.id.as_str()), (2, "p:2:2"));
        assert!(defs.get("p:1:1").is_some());
    }

    #[test]
    fn rejects_what_it_cannot_run() {
        let bad = [
            ("<definitions/>", "no <process>"),
            (
                r#"<definitions><process id="p"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="nowhere"/></process></definitions>"#,
                "unknown activity",
            ),
            (
                r#"<definitions><process id="p"><startEvent id="s"/><subProcess id="x"/></process></definitions>"#,
                "unsupported BPMN element <subProcess>",
            ),
            ("<definitions><process id=\"p\"><startEvent", "XML error"),
        ];
        for (xml, expected) in bad {
            let err = bpmn::parse(xml)
                .and_then(|ds| ds.iter().try_for_each(validate))
                .expect_err(xml);
            assert!(err.contains(expected), "{xml}: {err}");
        }
    }

    #[test]
    fn documentation_entities_are_resolved() {
        let xml = r#"<definitions><process id="p"><documentation>A &amp; B &#x263A;</documentation><startEvent id="s"/></process></definitions>"#;
        let d = bpmn::parse(xml).expect("parses");
        assert_eq!(d[0].description.as_deref(), Some("A & B \u{263A}"));
    }
}
