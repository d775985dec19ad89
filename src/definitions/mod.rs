//! Process definitions: the file formats, the definitions directory, and [`Definitions`], the
//! snapshot of the store's repository the engine resolves definitions in.
//!
//! Two formats:
//! - BPMN 2.0 XML, in files named `*.bpmn` or `*.bpmn20.xml` (Flowable's conventions), see
//!   [`bpmn`];
//! - a small declarative JSON format in files named `*.process.json`, see [`Declarative`].
//!
//! Definitions live in the store (deployments, see `Store::deploy`), so every node sharing it
//! sees a deployment. The definitions directory is deployed at start-up, one deployment per
//! file named by the file, with duplicate filtering: files directly in the directory belong to
//! the default tenant (`""`), files in a sub-directory to the tenant named by it; they are
//! deployed in sorted path order, so a key that appears again in the same tenant becomes the
//! next version. A definition's id is `key:version:deploymentId`.

pub mod bpmn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpm_compat_model::{
    Activity, ActivityKind, Alias, DefinitionSelector, Deployment, FormProperty, LoggedField,
    ProcessDefinition, Resource, SequenceFlow, TaskSpec,
};
use serde::Deserialize;

use crate::engine::expr::Expr;
use crate::store::Repository;

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
    /// A version name dialects may select and show (Astro Zero's `1.0.1`).
    #[serde(rename = "versionLabel")]
    pub version_label: Option<String>,
    pub steps: Vec<Step>,
    pub flows: Option<Vec<DeclaredFlow>>,
    #[serde(default)]
    pub aliases: Vec<Alias>,
    /// An integration process (logged by its client, not run; see `ProcessDefinition`).
    #[serde(default)]
    pub integration: bool,
    #[serde(default, rename = "loggedFields")]
    pub logged_fields: Vec<LoggedField>,
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
    /// For `userTask`: the fields of its form (as Flowable's `formProperty`: `id`, `name`,
    /// `kind`, `variable`, `required`, …).
    #[serde(default, rename = "formProperties")]
    pub form_properties: Vec<FormProperty>,
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
                form_properties: s.form_properties.clone(),
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
            version_label: self.version_label,
            tenant_id: String::new(),
            resource_name: None,
            deployment_id: None,
            ordinal: 0,
            activities,
            flows,
            layout: None,
            aliases: self.aliases,
            integration: self.integration,
            logged_fields: self.logged_fields,
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

/// A file of the definitions directory, to be deployed at start-up (one deployment per
/// file, named by the file, with duplicate filtering so restarts and other nodes do not make
/// new versions of unchanged files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirFile {
    pub tenant_id: String,
    pub resource: Resource,
}

/// Reads `dir` (see the module docs) and checks that every file parses. A missing directory
/// is an error: a typo in `--definitions` should not start a server that can run nothing.
pub fn load_dir(dir: &Path) -> Result<Vec<DirFile>, DefinitionError> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for (path, tenant_id) in files {
        let bytes = std::fs::read(&path).map_err(|source| DefinitionError::Io {
            path: path.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        parse_resource(&name, &bytes).map_err(|message| DefinitionError::Invalid {
            path: path.clone(),
            message,
        })?;
        out.push(DirFile {
            tenant_id,
            resource: Resource { name, bytes },
        });
    }
    Ok(out)
}

/// Whether a file name is one the repository parses: BPMN (`*.bpmn`, `*.bpmn20.xml`) or the
/// declarative format (`*.process.json`).
pub fn is_process_file(name: &str) -> bool {
    name.ends_with(".bpmn") || name.ends_with(".bpmn20.xml") || name.ends_with(".process.json")
}

/// The process definitions in one file, checked (see `validate`), without id or version.
pub fn parse_resource(name: &str, bytes: &[u8]) -> Result<Vec<ProcessDefinition>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{name} is not UTF-8: {e}"))?;
    let defs = if name.ends_with(".process.json") {
        let d: Declarative = serde_json::from_str(text).map_err(|e| e.to_string())?;
        vec![d.into_definition()?]
    } else if is_process_file(name) {
        bpmn::parse(text)?
    } else {
        return Err(format!(
            "{name} is not a process file (.bpmn20.xml, .bpmn or .process.json)"
        ));
    };
    let mut keys = std::collections::HashSet::new();
    for d in &defs {
        validate(d)?;
        if !keys.insert(d.key.as_str()) {
            return Err(format!("process '{}' is defined twice", d.key));
        }
    }
    Ok(defs
        .into_iter()
        .map(|d| ProcessDefinition {
            resource_name: Some(name.to_owned()),
            ..d
        })
        .collect())
}

/// Every deployed definition, looked up by id, by key (latest version per tenant), by start
/// message and by dialect alias: a snapshot of the store's repository.
#[derive(Debug, Default)]
pub struct Definitions {
    all: Vec<Arc<ProcessDefinition>>,
    by_id: HashMap<String, Arc<ProcessDefinition>>,
    deployments: Vec<Deployment>,
}

impl Definitions {
    pub fn new(repository: Repository) -> Definitions {
        let all: Vec<Arc<ProcessDefinition>> = repository.definitions.into_iter().map(Arc::new).collect();
        Definitions {
            by_id: all.iter().map(|d| (d.id.clone(), d.clone())).collect(),
            all,
            deployments: repository.deployments,
        }
    }

    pub fn all(&self) -> &[Arc<ProcessDefinition>] {
        &self.all
    }

    pub fn deployments(&self) -> &[Deployment] {
        &self.deployments
    }

    pub fn get(&self, id: &str) -> Option<&Arc<ProcessDefinition>> {
        self.by_id.get(id)
    }

    /// Whether `d` is the latest version of its key in its tenant.
    pub fn is_latest(&self, d: &ProcessDefinition) -> bool {
        self.latest(|x| x.key == d.key && x.tenant_id == d.tenant_id)
            .is_some_and(|l| l.id == d.id)
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
                    && version.as_ref().is_none_or(|v| {
                        d.version_label.as_deref() == Some(v.as_str())
                            || v.parse::<u32>().ok() == Some(d.version)
                    })
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
        } else if is_process_file(&name) {
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

    use crate::engine::Engine;
    use crate::store::MemoryStore;
    use bpm_compat_model::{Command, Deploy, RequestCtx, Timestamp};

    /// Where a fresh instance started at `from` waits.
    fn waits_at(d: &ProcessDefinition, from: &str) -> Vec<String> {
        crate::engine::run::start(d, from, &bpm_compat_model::Variables::new())
            .expect("runs")
            .tokens
    }

    /// The shipped directory, deployed as `serve` does it.
    async fn fixtures() -> Arc<Definitions> {
        let files =
            load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/definitions")).expect("loads");
        let engine = Engine::new(Arc::new(MemoryStore::new()));
        engine
            .deploy_files(files.clone(), Timestamp(0))
            .await
            .expect("deploys");
        // Deploying the same files again changes nothing (duplicate filtering).
        let before = engine.definitions().await.expect("definitions").all().len();
        engine
            .deploy_files(files, Timestamp(1))
            .await
            .expect("deploys again");
        let defs = engine.definitions().await.expect("definitions");
        assert_eq!(defs.all().len(), before);
        defs
    }

    #[tokio::test]
    async fn loads_the_shipped_definitions() {
        let defs = fixtures().await;
        let one = defs
            .resolve(&DefinitionSelector::Key {
                key: "oneTaskProcess".into(),
                tenant_id: String::new(),
            })
            .expect("oneTaskProcess");
        assert_eq!(one.name.as_deref(), Some("The One Task Process"));
        assert_eq!(one.description.as_deref(), Some("One task process description"));
        assert_eq!(waits_at(one, "theStart"), vec!["processTask"]);
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
        assert_eq!(waits_at(decl, "submitted"), vec!["approve"]);
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
        assert!(waits_at(auto, "start").is_empty(), "it ends without waiting");
    }

    #[tokio::test]
    async fn redeploying_a_key_makes_the_next_version() {
        let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#;
        let engine = Engine::new(Arc::new(MemoryStore::new()));
        let ctx = RequestCtx {
            now: Timestamp(0),
            request_id: 1,
            base_url: String::new(),
            path: String::new(),
            user: None,
        };
        for _ in 0..2 {
            let deploy = Command::Deploy(Deploy {
                name: Some("p".into()),
                key: None,
                category: None,
                tenant_id: String::new(),
                resources: vec![Resource {
                    name: "p.bpmn".into(),
                    bytes: xml.as_bytes().to_vec(),
                }],
                replaces: None,
            });
            engine.apply(deploy, &ctx).await.expect("deploys");
        }
        let defs = engine.definitions().await.expect("definitions");
        let latest = defs
            .resolve(&DefinitionSelector::Key {
                key: "p".into(),
                tenant_id: String::new(),
            })
            .expect("latest");
        assert_eq!((latest.version, latest.id.as_str()), (2, "p:2:2"));
        assert!(defs.get("p:1:1").is_some());
        assert!(defs.is_latest(latest));
        assert!(!defs.is_latest(defs.get("p:1:1").expect("v1")));
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
    fn user_task_attributes_and_form_properties() {
        let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:flowable="http://flowable.org/bpmn" xmlns:activiti="http://activiti.org/bpmn" targetNamespace="ns">
  <process id="p">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
    <userTask id="a" name="A" flowable:assignee="${initiator}" flowable:candidateUsers="kermit, ${who}" flowable:candidateGroups="mgmt,sales" flowable:priority="70" flowable:formKey="form:a">
      <documentation>Do A</documentation>
      <extensionElements>
        <flowable:formProperty id="amount" name="Amount" type="long" required="true"/>
        <flowable:formProperty id="kind" type="enum" writable="false" variable="expenseKind">
          <flowable:value id="travel" name="Travel"/>
          <flowable:value id="food"/>
        </flowable:formProperty>
      </extensionElements>
    </userTask>
    <sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <userTask id="b" activiti:candidateGroups="old">
      <humanPerformer><resourceAssignmentExpression><formalExpression>gonzo</formalExpression></resourceAssignmentExpression></humanPerformer>
      <potentialOwner><resourceAssignmentExpression><formalExpression>user(fozzie), group(acct), legal</formalExpression></resourceAssignmentExpression></potentialOwner>
    </userTask>
  </process>
</definitions>"#;
        let d = bpmn::parse(xml).expect("parses").remove(0);
        assert_eq!(
            d.category.as_deref(),
            Some("ns"),
            "the targetNamespace is the category"
        );
        let a = d.activity("a").expect("a");
        assert_eq!(a.documentation.as_deref(), Some("Do A"));
        let t = a.task.as_ref().expect("task spec");
        assert_eq!(t.assignee.as_deref(), Some("${initiator}"));
        assert_eq!(t.candidate_users, vec!["kermit", "${who}"]);
        assert_eq!(t.candidate_groups, vec!["mgmt", "sales"]);
        assert_eq!(
            (t.priority.as_deref(), t.form_key.as_deref()),
            (Some("70"), Some("form:a"))
        );
        assert_eq!(t.form_properties.len(), 2);
        let amount = &t.form_properties[0];
        assert_eq!(
            (
                amount.id.as_str(),
                amount.name.as_deref(),
                amount.kind.as_deref(),
                amount.required
            ),
            ("amount", Some("Amount"), Some("long"), true)
        );
        assert!(amount.readable && amount.writable);
        let kind = &t.form_properties[1];
        assert_eq!(kind.variable.as_deref(), Some("expenseKind"));
        assert!(!kind.writable);
        assert_eq!(
            kind.values,
            vec![
                ("travel".to_owned(), Some("Travel".to_owned())),
                ("food".to_owned(), None)
            ]
        );
        let b = d.activity("b").expect("b").task.as_ref().expect("task spec");
        assert_eq!(b.assignee.as_deref(), Some("gonzo"));
        assert_eq!(b.candidate_users, vec!["fozzie"]);
        assert_eq!(b.candidate_groups, vec!["old", "acct", "legal"]);
    }

    #[test]
    fn documentation_entities_are_resolved() {
        let xml = r#"<definitions><process id="p"><documentation>A &amp; B &#x263A;</documentation><startEvent id="s"/></process></definitions>"#;
        let d = bpmn::parse(xml).expect("parses");
        assert_eq!(d[0].description.as_deref(), Some("A & B \u{263A}"));
    }
}
