//! The scheduled endpoints of the Service API (seed 002, "Scheduling APIs like Merge, Export,
//! Import, DataQuality, Revision"): `manage/merge`, `manage/export`, `manage/import`,
//! `manage/dataquality/executions` and `manage/revision` plan a job and answer its job object
//! (HTTP 202); the job runs later and its result goes back to the caller's workflow: over the
//! queue as the deferred reply (or, with `EnforceIntermediateOkResponse`, as a callback after
//! an immediate OK), over REST to the workflow's service endpoint.
//!
//! A job is a process instance of the `p360Job` definition
//! (fixtures/definitions/p360Job.process.json): it waits at `queued`, a worker moves it to
//! `running` (the claim), does the work, moves it to `notifying` with its result, delivers the
//! final message and ends it. So a job is visible through every dialect (a Flowable client sees
//! an instance of `p360Job` with the variables below), and each move is one atomic step that
//! only one worker wins. This module is the pure part: reading the profiles, planning the work
//! over items, the job object and the final message; `bpm_compat::p360_jobs` does the I/O.
//!
//! What each job does (P360's own profiles name server-side templates this emulator does not
//! have, so these are bpm-compat's readings, documented in fixtures/p360/README.md):
//! - merge: every item of `rootEntity` (default `Article`) in the supplier `catalog` is merged
//!   into the master catalog (`<item>@1`): created there or its values updated;
//! - import: each entry of `files` with inline `content` (an `entityItemTable`, as a list
//!   write) is written; a file named only by id fails the job (there is no File API here);
//! - export and revision: every item of the entity in the catalog (default `MASTER`) is read
//!   and counted;
//! - data quality: every item is checked against the `rules`, each naming a field that must
//!   have a value; the items that miss one are counted as failed.

use std::collections::BTreeMap;

use bpm_compat_model::{Item, ProcessInstance, Timestamp, Variable, VariableValue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::items::{self, esc, text};
use crate::queue::Reply;

/// The definition jobs run in.
pub const JOB_PROCESS: &str = "p360Job";
/// The wait states of a job, in order.
pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const NOTIFYING: &str = "notifying";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    Merge,
    Export,
    Import,
    DataQuality,
    Revision,
}

impl JobKind {
    /// The kind a `manage/…` path names.
    pub fn from_path(segments: &[&str]) -> Option<JobKind> {
        match segments {
            ["merge"] => Some(JobKind::Merge),
            ["export"] => Some(JobKind::Export),
            ["import"] => Some(JobKind::Import),
            ["dataquality", "executions"] => Some(JobKind::DataQuality),
            ["revision"] => Some(JobKind::Revision),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            JobKind::Merge => "MERGE",
            JobKind::Export => "EXPORT",
            JobKind::Import => "IMPORT",
            JobKind::DataQuality => "DATA_QUALITY",
            JobKind::Revision => "REVISION",
        }
    }
}

/// A file of an import: its id, and its content when given inline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportFile {
    pub id: Option<String>,
    pub content: Option<String>,
}

/// What a job works on, read from its profile (stored on the job as `jobProfile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub kind: JobKind,
    pub entity: String,
    /// The catalog id (`MASTER` already read as `1`).
    pub catalog: String,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub files: Vec<ImportFile>,
    /// The export profile's name, a comment: kept for the job object.
    #[serde(default)]
    pub profile_name: Option<String>,
}

/// A profile document as paths (`catalog/id`) to texts, from JSON or XML alike; the import's
/// files apart.
struct Doc {
    fields: BTreeMap<String, String>,
    files: Vec<ImportFile>,
}

impl Doc {
    fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .get(path)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn from_json(body: &[u8]) -> Result<Doc, String> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| format!("The JSON document cannot be read: {e}"))?;
        let Value::Object(_) = v else {
            return Err("The JSON document must be an object".into());
        };
        let mut fields = BTreeMap::new();
        flatten(&v, String::new(), &mut fields);
        let files = match v.get("files") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|f| match f {
                    Value::Object(o) => ImportFile {
                        id: o.get("id").map(text),
                        content: o.get("content").map(text),
                    },
                    other => ImportFile {
                        id: Some(text(other)),
                        content: None,
                    },
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Doc { fields, files })
    }

    fn from_xml(body: &[u8]) -> Result<Doc, String> {
        let mut fields = BTreeMap::new();
        let mut files: Vec<ImportFile> = Vec::new();
        for (path, value) in items::leaves(body, &["file"])? {
            // Below the root element.
            let Some((_, tail)) = path.split_once('/') else {
                continue;
            };
            match tail {
                "files/file" if value == items::START => files.push(ImportFile::default()),
                "files/file/id" => {
                    if let Some(f) = files.last_mut() {
                        f.id = Some(value);
                    }
                }
                "files/file/content" => {
                    if let Some(f) = files.last_mut() {
                        f.content = Some(value);
                    }
                }
                _ => {
                    fields.insert(tail.to_owned(), value);
                }
            }
        }
        Ok(Doc { fields, files })
    }
}

fn flatten(v: &Value, prefix: String, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}/{k}")
                };
                flatten(v, path, out);
            }
        }
        Value::Array(list) => {
            for v in list {
                flatten(v, prefix.clone(), out);
            }
        }
        Value::Null => {}
        other => {
            // A repeated path (an array's scalars) keeps them all, comma-separated.
            let t = text(other);
            out.entry(prefix)
                .and_modify(|e: &mut String| {
                    e.push(',');
                    e.push_str(&t);
                })
                .or_insert(t);
        }
    }
}

/// P360's master catalog: `MASTER` is catalog 1.
pub fn catalog_id(catalog: &str) -> String {
    if catalog.eq_ignore_ascii_case("MASTER") {
        "1".to_owned()
    } else {
        catalog.to_owned()
    }
}

/// Reads a scheduled endpoint's profile (JSON when `json`, else XML; an empty body is an
/// empty profile) into the job's spec, or says what is wrong with it.
pub fn read_profile(kind: JobKind, body: &[u8], json: bool) -> Result<JobSpec, String> {
    let doc = if body.iter().all(u8::is_ascii_whitespace) {
        Doc {
            fields: BTreeMap::new(),
            files: Vec::new(),
        }
    } else if json {
        Doc::from_json(body)?
    } else {
        Doc::from_xml(body)?
    };
    // An entity item (a catalog) is an object with an id, or its id alone.
    let item = |name: &str| {
        doc.get(&format!("{name}/id"))
            .or_else(|| doc.get(&format!("{name}/identifier")))
            .or_else(|| doc.get(name))
            .map(str::to_owned)
    };
    let entity = doc
        .get("rootEntity")
        .or_else(|| doc.get("entityIdentifier"))
        .or_else(|| doc.get("variables/entity"))
        .or_else(|| doc.get("entity"))
        .unwrap_or("Article")
        .to_owned();
    let catalog = item("catalog")
        .or_else(|| item("variables/catalog"))
        .or_else(|| doc.get("reportQuery/catalog").map(str::to_owned));
    let mut spec = JobSpec {
        kind,
        entity,
        catalog: catalog_id(catalog.as_deref().unwrap_or("MASTER")),
        rules: Vec::new(),
        files: Vec::new(),
        profile_name: doc.get("profileName").map(str::to_owned),
    };
    match kind {
        JobKind::Merge => {
            if catalog.is_none() {
                return Err(
                    if doc.get("entityReportQuery").is_some()
                        || doc.fields.keys().any(|k| k.starts_with("entityReportQuery/"))
                    {
                        "A merge by entityReportQuery is not served by bpm-compat: name the supplier catalog"
                            .into()
                    } else {
                        "Either catalog or entityReportQuery is mandatory".into()
                    },
                );
            }
            if spec.catalog == "1" {
                return Err(
                    "The master catalog cannot be merged into itself: name a supplier catalog".into(),
                );
            }
        }
        JobKind::Export => {
            if spec.profile_name.is_none() {
                return Err("profileName is required".into());
            }
        }
        JobKind::Import => {
            if doc.files.is_empty() {
                return Err("files is required".into());
            }
            spec.files = doc.files;
        }
        JobKind::DataQuality => {
            spec.rules = ["rules", "rules/identifier", "rules/rule", "rules/rule/identifier"]
                .iter()
                .filter_map(|p| doc.get(p))
                .flat_map(|r| r.split(','))
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            if spec.rules.is_empty() {
                return Err("rules is required".into());
            }
        }
        JobKind::Revision => {}
    }
    Ok(spec)
}

/// The BPM callback of a job: the query parameters of a scheduled call, or over the queue
/// what its message properties resolve them to (seed 002: they "are resolved automatically by
/// the respective JMS message properties").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Callback {
    pub service_endpoint: Option<String>,
    pub correlation_id: Option<String>,
    /// `REST` or `QUEUE`.
    pub mode: String,
    pub queue_id: Option<String>,
    /// Over the queue: the binding (`stomp`, `stream`), the failure target, whether an
    /// intermediate OK was sent, and whether the caller speaks JSON.
    pub transport: Option<String>,
    pub failure_target: Option<String>,
    pub intermediate_ok: bool,
    pub json: bool,
}

impl Callback {
    /// The job's variables for the callback.
    pub fn variables(&self) -> Vec<Variable> {
        let mut out = Vec::new();
        let mut text = |name: &str, v: Option<&String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.push(Variable::new(name, VariableValue::String(v.clone())));
            }
        };
        text("workflowServiceEndpoint", self.service_endpoint.as_ref());
        text("workflowCorrelationId", self.correlation_id.as_ref());
        text("workflowCommunicationMode", Some(&self.mode));
        text("workflowQueueId", self.queue_id.as_ref());
        text("jobTransport", self.transport.as_ref());
        text("jobFailureTarget", self.failure_target.as_ref());
        out.push(Variable::new(
            "jobIntermediateOk",
            VariableValue::Boolean(self.intermediate_ok),
        ));
        out.push(Variable::new(
            "jobFormat",
            VariableValue::String(if self.json { "json" } else { "xml" }.into()),
        ));
        out
    }

    /// The callback a job's variables hold.
    pub fn of(instance: &ProcessInstance) -> Callback {
        let text = |n: &str| var_text(instance, n);
        Callback {
            service_endpoint: text("workflowServiceEndpoint"),
            correlation_id: text("workflowCorrelationId"),
            mode: text("workflowCommunicationMode").unwrap_or_else(|| "REST".into()),
            queue_id: text("workflowQueueId"),
            transport: text("jobTransport"),
            failure_target: text("jobFailureTarget"),
            intermediate_ok: matches!(
                instance.variables.get("jobIntermediateOk"),
                Some(VariableValue::Boolean(true))
            ),
            json: text("jobFormat").as_deref() == Some("json"),
        }
    }
}

fn var_text(instance: &ProcessInstance, name: &str) -> Option<String> {
    instance
        .variables
        .get(name)
        .and_then(|v| v.as_text())
        .map(str::to_owned)
}

fn var_int(instance: &ProcessInstance, name: &str) -> Option<i64> {
    match instance.variables.get(name)? {
        VariableValue::Integer(i) => Some(i64::from(*i)),
        VariableValue::Long(i) => Some(*i),
        _ => None,
    }
}

/// The spec a job instance stores.
pub fn spec_of(instance: &ProcessInstance) -> Result<JobSpec, String> {
    match instance.variables.get("jobProfile") {
        Some(VariableValue::Json(v)) => {
            serde_json::from_value(v.clone()).map_err(|e| format!("The job's profile cannot be read: {e}"))
        }
        _ => Err("The job has no profile".into()),
    }
}

/// The variables a new job starts with.
pub fn start_variables(spec: &JobSpec, callback: &Callback) -> Vec<Variable> {
    let mut vars = vec![
        Variable::new("jobType", VariableValue::String(spec.kind.name().into())),
        Variable::new(
            "jobProfile",
            VariableValue::Json(serde_json::to_value(spec).unwrap_or(Value::Null)),
        ),
    ];
    vars.extend(callback.variables());
    vars
}

/// The items a job reads first: (entity, catalog), or none (an import).
pub fn source(spec: &JobSpec) -> Option<(&str, &str)> {
    match spec.kind {
        JobKind::Import => None,
        _ => Some((&spec.entity, &spec.catalog)),
    }
}

/// A job's work over the items it read: what to write, what it counts, and why it failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Work {
    pub writes: Vec<Item>,
    pub processed: usize,
    /// Items (or rows) that failed, with why.
    pub failed: Vec<String>,
    /// The job as a whole failed.
    pub error: Option<String>,
}

/// Plans a job's work (pure): `items` are the source items ([`source`]).
pub fn plan(spec: &JobSpec, items: &[Item]) -> Work {
    let mut work = Work::default();
    match spec.kind {
        JobKind::Merge => {
            for i in items.iter().filter(|i| i.entity == spec.entity) {
                let number = i.id.split_once('@').map_or(i.id.as_str(), |(n, _)| n);
                work.writes.push(Item {
                    id: format!("{number}@1"),
                    ..i.clone()
                });
            }
            work.processed = work.writes.len();
        }
        JobKind::Import => {
            for (n, f) in spec.files.iter().enumerate() {
                let name = f.id.clone().unwrap_or_else(|| format!("#{}", n + 1));
                let Some(content) = f.content.as_ref().filter(|c| !c.trim().is_empty()) else {
                    work.error = Some(format!(
                        "File '{name}' is unknown: bpm-compat has no File API; give the file's content inline"
                    ));
                    return work;
                };
                let table = match items::table_from_xml(content.as_bytes()) {
                    Ok(t) => t,
                    Err(e) => {
                        work.error = Some(format!("File '{name}' cannot be read: {e}"));
                        return work;
                    }
                };
                let entity = if table.entity.is_empty() {
                    spec.entity.clone()
                } else {
                    table.entity.clone()
                };
                let (metas, written) = crate::table_items(&table, &entity);
                work.failed.extend(
                    metas
                        .into_iter()
                        .filter_map(|m| m.refused.map(|why| format!("{name} row {}: {why}", m.row))),
                );
                work.writes.extend(written);
            }
            work.processed = work.writes.len() + work.failed.len();
        }
        JobKind::Export | JobKind::Revision => work.processed = items.len(),
        JobKind::DataQuality => {
            for i in items {
                let missing: Vec<&str> = spec
                    .rules
                    .iter()
                    .filter(|r| i.values.get(*r).is_none_or(|v| v.is_empty()))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    work.failed.push(format!("{}: {}", i.id, missing.join(", ")));
                }
            }
            work.processed = items.len();
        }
    }
    work
}

/// The variables a finished job gets: its state, counters and message. `created` are the
/// store's answers for `work.writes` (true: created, false: updated).
pub fn result_variables(work: &Work, created: &[bool], now: Timestamp) -> Vec<Variable> {
    let int = |n: usize| VariableValue::Long(n as i64);
    let state = if work.error.is_some() {
        "FAILED"
    } else {
        "FINISHED"
    };
    let mut vars = vec![
        Variable::new("jobState", VariableValue::String(state.into())),
        Variable::new("jobFinished", VariableValue::Date(now)),
        Variable::new("processedCounter", int(work.processed)),
        Variable::new("createdCounter", int(created.iter().filter(|c| **c).count())),
        Variable::new("updatedCounter", int(created.iter().filter(|c| !**c).count())),
        Variable::new("failedCounter", int(work.failed.len())),
    ];
    let message = match &work.error {
        Some(e) => Some(e.clone()),
        None if !work.failed.is_empty() => Some(work.failed.join("; ")),
        None => None,
    };
    if let Some(m) = message {
        vars.push(Variable::new("jobMessage", VariableValue::String(m)));
    }
    vars
}

/// A job's state as its job object shows it.
pub fn state(instance: &ProcessInstance) -> String {
    if let Some(s) = var_text(instance, "jobState") {
        return s;
    }
    match instance.activity_id.as_deref() {
        Some(QUEUED) => "QUEUED".into(),
        Some(RUNNING) => "RUNNING".into(),
        Some(_) => "FINISHED".into(),
        None => "CANCELED".into(),
    }
}

/// The job object (bpm-compat's shape: P360's is not public): id, type, state, dates, the
/// workflow correlation id, and once finished its counters and message.
pub fn job_object(instance: &ProcessInstance, json: bool) -> String {
    let finished = match instance.variables.get("jobFinished") {
        Some(VariableValue::Date(t)) => Some(*t),
        _ => instance.end_time,
    };
    let mut fields: Vec<(&str, Value)> = vec![
        ("id", json!(instance.id.to_string())),
        ("type", json!(var_text(instance, "jobType"))),
        ("state", json!(state(instance))),
        ("creationDate", json!(instance.start_time.to_iso_millis())),
        ("finishDate", json!(finished.map(Timestamp::to_iso_millis))),
        (
            "workflowCorrelationId",
            json!(var_text(instance, "workflowCorrelationId")),
        ),
    ];
    for c in [
        "processedCounter",
        "createdCounter",
        "updatedCounter",
        "failedCounter",
    ] {
        if let Some(n) = var_int(instance, c) {
            fields.push((c, json!(n)));
        }
    }
    if let Some(m) = var_text(instance, "jobMessage") {
        fields.push(("message", json!(m)));
    }
    if json {
        let m: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        return Value::Object(m).to_string();
    }
    let mut out = format!("{}<job>", crate::XML_HEAD);
    for (k, v) in fields {
        match v {
            Value::Null => out.push_str(&format!("<{k}/>")),
            other => out.push_str(&format!("<{k}>{}</{k}>", esc(&text(&other)))),
        }
    }
    out.push_str("</job>");
    out
}

/// The final message of a job that has its result (at `notifying`, or ended): a finished
/// job's object (routed to the callback target when an intermediate OK went first, else to
/// the success target), or a failed job's `errorObject` (to the failure target).
/// Its destination is the callback's queue (empty over REST), its correlation id the
/// workflow's.
pub fn final_message(instance: &ProcessInstance) -> Reply {
    let cb = Callback::of(instance);
    let content_type = if cb.json {
        "application/json"
    } else {
        "application/xml"
    };
    if state(instance) == "FAILED" {
        let message = format!(
            "Job {} ({}) failed: {}",
            instance.id,
            var_text(instance, "jobType").unwrap_or_default(),
            var_text(instance, "jobMessage").unwrap_or_default()
        );
        let body = crate::error_body(&message, cb.json);
        return Reply {
            destination: cb.queue_id.unwrap_or_default(),
            correlation: cb.correlation_id.unwrap_or_default(),
            status: 400,
            content_type: content_type.into(),
            target: cb.failure_target.map(|t| ("FailureTargetService", t)),
            body: body.into(),
        };
    }
    let name = if cb.intermediate_ok {
        "CallbackTargetService"
    } else {
        "SuccessTargetService"
    };
    Reply {
        destination: cb.queue_id.unwrap_or_default(),
        correlation: cb.correlation_id.unwrap_or_default(),
        status: 200,
        content_type: content_type.into(),
        target: cb.service_endpoint.map(|t| (name, t)),
        body: job_object(instance, cb.json).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, values: &[(&str, &str)]) -> Item {
        Item {
            id: id.into(),
            entity: "Article".into(),
            entity_id: Some("1000".into()),
            label: None,
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn profiles_read_alike_from_json_and_xml() {
        let j = read_profile(
            JobKind::Merge,
            br#"{"rootEntity":"Article","catalog":{"id":"5","label":"Supplier"}}"#,
            true,
        )
        .expect("reads");
        let x = read_profile(
            JobKind::Merge,
            b"<mergeProfile><rootEntity>Article</rootEntity><catalog><id>5</id></catalog></mergeProfile>",
            false,
        )
        .expect("reads");
        assert_eq!(j, x);
        assert_eq!(j.catalog, "5");
        assert_eq!(
            read_profile(JobKind::Merge, br#"{"catalog":"MASTER"}"#, true),
            Err("The master catalog cannot be merged into itself: name a supplier catalog".into())
        );
        assert_eq!(
            read_profile(
                JobKind::Merge,
                br#"{"entityReportQuery":{"reportName":"byItems"}}"#,
                true
            ),
            Err("A merge by entityReportQuery is not served by bpm-compat: name the supplier catalog".into())
        );
        assert_eq!(
            read_profile(JobKind::Export, b"{}", true),
            Err("profileName is required".into())
        );
        let dq = read_profile(
            JobKind::DataQuality,
            br#"{"rules":["Article.Name","Article.Ean"],"entityIdentifier":"Article"}"#,
            true,
        )
        .expect("reads");
        assert_eq!(dq.rules, vec!["Article.Name", "Article.Ean"]);
        let rev = read_profile(JobKind::Revision, b"", false).expect("an empty profile");
        assert_eq!((rev.entity.as_str(), rev.catalog.as_str()), ("Article", "1"));
    }

    #[test]
    fn a_merge_moves_supplier_items_to_the_master_catalog() {
        let spec = read_profile(JobKind::Merge, br#"{"catalog":"5"}"#, true).expect("reads");
        let work = plan(&spec, &[item("7@5", &[("Article.Name", "Drill")])]);
        assert_eq!(work.writes, vec![item("7@1", &[("Article.Name", "Drill")])]);
        assert_eq!(work.processed, 1);
        let vars = result_variables(&work, &[true], Timestamp(0));
        let get = |n: &str| vars.iter().find(|v| v.name == n).map(|v| v.value.clone());
        assert_eq!(get("jobState"), Some(VariableValue::String("FINISHED".into())));
        assert_eq!(get("createdCounter"), Some(VariableValue::Long(1)));
        assert_eq!(get("updatedCounter"), Some(VariableValue::Long(0)));
    }

    #[test]
    fn an_import_writes_inline_files_and_fails_on_unknown_ones() {
        let table = "<entityItemTable><entityIdentifier>Article</entityIdentifier><columns><column><identifier>Article.Name</identifier></column></columns><rows><row><object><id>9@1</id></object><values><value>Saw</value></values></row><row><object><id>bad</id></object><values><value>x</value></values></row></rows></entityItemTable>";
        let body = json!({"files": [{"id": "f1", "content": table}]}).to_string();
        let spec = read_profile(JobKind::Import, body.as_bytes(), true).expect("reads");
        let work = plan(&spec, &[]);
        assert_eq!(
            work.writes,
            vec![Item {
                entity_id: None,
                ..item("9@1", &[("Article.Name", "Saw")])
            }]
        );
        assert_eq!(
            work.failed,
            vec!["f1 row 1: 'bad' is not an item id (<item>@<catalog>)"]
        );
        let spec = read_profile(JobKind::Import, br#"{"files":["upload-1"]}"#, true).expect("reads");
        assert_eq!(
            plan(&spec, &[]).error.as_deref(),
            Some("File 'upload-1' is unknown: bpm-compat has no File API; give the file's content inline")
        );
    }

    #[test]
    fn data_quality_counts_items_missing_a_ruled_field() {
        let spec = read_profile(JobKind::DataQuality, br#"{"rules":["Article.Name"]}"#, true).expect("reads");
        let work = plan(
            &spec,
            &[item("1@1", &[("Article.Name", "Drill")]), item("2@1", &[])],
        );
        assert_eq!(work.processed, 2);
        assert_eq!(work.failed, vec!["2@1: Article.Name"]);
        assert!(work.writes.is_empty());
    }
}
