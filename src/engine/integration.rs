//! Integration processes (webMethods' Process Audit Log): definitions their client declares
//! piece by piece, and instances it logs — created under its own id, moved through statuses,
//! with step instances and logged fields — instead of the engine running them. Every change
//! is one store step guarded by the instance's revision, like a task step.
//!
//! A definition is a declarative file (`integration: true`, no flows) whose steps are plain
//! tasks; each declaration deploys it again as a new version, so the repository keeps its
//! history and every node sees it. A logged instance waits at no activity; its status label is
//! its business status.

use std::sync::Arc;

use bpm_compat_model::{
    ActivityKind, ActivityRecord, Clash, Comment, CoreError, DefinitionSelector, Deploy, InstanceFilter,
    InstanceQuery, InstanceSort, InstanceState, IntegrationChange, LoggedField, LoggedInstance, Missing,
    NewInstance, ProcessDefinition, ProcessInstance, RequestCtx, Resource, SortOrder, StepLog, StepStatus,
    TextMatch, Variable, Variables,
};
use serde_json::{json, Value};

use super::Engine;
use crate::store::{Closing, Commit, Progress};

/// The start event every integration definition has (the engine's definitions need one); no
/// client step id can be it, as those are alphanumeric.
const START: &str = "$start";

impl Engine {
    /// The latest version of a definition (default tenant).
    pub(super) fn latest(&self, key: &str) -> Result<Arc<ProcessDefinition>, CoreError> {
        let selector = DefinitionSelector::Key {
            key: key.to_owned(),
            tenant_id: String::new(),
        };
        self.snapshot()
            .resolve(&selector)
            .cloned()
            .ok_or(CoreError::NotFound(Missing::Definition(selector)))
    }

    /// A step a client may log on instances of `key`: a declared step of an integration
    /// process, or any activity of a process the engine runs (an instance started elsewhere
    /// can be logged too).
    fn check_step(&self, key: &str, step: &str) -> Result<(), CoreError> {
        let d = self.latest(key)?;
        let known = d
            .activities
            .iter()
            .any(|a| a.id == step && (!d.integration || a.kind == ActivityKind::Task));
        if !known {
            return Err(CoreError::NotFound(Missing::Step {
                key: key.to_owned(),
                step: step.to_owned(),
            }));
        }
        Ok(())
    }

    /// The latest version of an integration process.
    fn integration(&self, key: &str) -> Result<Arc<ProcessDefinition>, CoreError> {
        let d = self.latest(key)?;
        if !d.integration {
            return Err(CoreError::invalid(format!(
                "Process '{key}' is not an integration process"
            )));
        }
        Ok(d)
    }

    /// Whether any integration process is deployed: until one is, suspends and deletes need
    /// not read the instance to check it is not one.
    pub(super) fn has_integration(&self) -> bool {
        self.snapshot().all().iter().any(|d| d.integration)
    }

    /// Integration processes cannot be stopped, suspended, resumed or resubmitted.
    pub(super) fn refuse_integration(&self, i: &ProcessInstance) -> Result<(), CoreError> {
        let integration = self
            .snapshot()
            .get(&i.definition_id)
            .is_some_and(|d| d.integration);
        if integration && i.state.is_open() {
            return Err(CoreError::Conflict(Clash::IntegrationProcess(i.id)));
        }
        Ok(())
    }

    pub(super) async fn define_integration(
        &self,
        change: IntegrationChange,
        ctx: &RequestCtx,
    ) -> Result<(), CoreError> {
        let (key, label, mut steps, mut fields) = match &change {
            IntegrationChange::Process { key, label } => {
                let selector = DefinitionSelector::Key {
                    key: key.clone(),
                    tenant_id: String::new(),
                };
                if self.snapshot().resolve(&selector).is_some() {
                    return Err(CoreError::Conflict(Clash::DefinitionExists(key.clone())));
                }
                (key.clone(), label.clone(), Vec::new(), Vec::new())
            }
            IntegrationChange::Step { key, .. } | IntegrationChange::LoggedField { key, .. } => {
                let d = self.integration(key)?;
                let steps: Vec<(String, String)> = d
                    .activities
                    .iter()
                    .filter(|a| a.kind == ActivityKind::Task)
                    .map(|a| (a.id.clone(), a.name.clone().unwrap_or_default()))
                    .collect();
                let label = d.name.clone().unwrap_or_default();
                (key.clone(), label, steps, d.logged_fields.clone())
            }
        };
        match change {
            IntegrationChange::Process { .. } => {}
            IntegrationChange::Step { key, step, label } => {
                if steps.iter().any(|(id, _)| *id == step) {
                    return Err(CoreError::Conflict(Clash::StepExists { key, step }));
                }
                steps.push((step, label));
            }
            IntegrationChange::LoggedField {
                key,
                step,
                document,
                field,
            } => {
                if !steps.iter().any(|(id, _)| *id == step) {
                    return Err(CoreError::NotFound(Missing::Step { key, step }));
                }
                if fields.iter().any(|f| f.step == step && f.field == field) {
                    return Err(CoreError::Conflict(Clash::LoggedFieldExists { key, step, field }));
                }
                fields.push(LoggedField {
                    step,
                    document,
                    field,
                });
            }
        }
        let mut activities = vec![json!({"id": START, "type": "startEvent"})];
        activities.extend(
            steps
                .iter()
                .map(|(id, label)| json!({"id": id, "type": "task", "name": label})),
        );
        let file: Value = json!({
            "key": key, "name": label, "integration": true, "steps": activities, "flows": [],
            "loggedFields": fields,
        });
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| CoreError::Internal {
            message: format!("cannot write a definition: {e}"),
        })?;
        self.deploy(
            Deploy {
                name: Some(key.clone()),
                key: None,
                category: None,
                tenant_id: String::new(),
                resources: vec![Resource {
                    name: format!("{key}.process.json"),
                    bytes,
                }],
                replaces: None,
            },
            false,
            ctx.now,
        )
        .await?;
        Ok(())
    }

    /// The newest instance a client's id names — its business key (within `key` when given),
    /// else, for an instance started without one elsewhere, its own id.
    pub(super) async fn by_client_id(
        &self,
        key: Option<&str>,
        id: &str,
    ) -> Result<Option<ProcessInstance>, CoreError> {
        let query = InstanceQuery {
            filter: InstanceFilter {
                definition_key: key.map(|k| TextMatch::Equals(k.to_owned())),
                business_key: Some(TextMatch::Equals(id.to_owned())),
                states: InstanceState::ALL.to_vec(),
                ..InstanceFilter::default()
            },
            sort: InstanceSort::StartTime,
            order: SortOrder::Desc,
            size: 1,
            ..InstanceQuery::default()
        };
        if let Some(i) = self.store.list_instances(&query).await?.items.into_iter().next() {
            return Ok(Some(i));
        }
        let by_id = match id.parse::<u64>() {
            Ok(n) => self.store.get_instance(bpm_compat_model::InstanceId(n)).await?,
            Err(_) => None,
        };
        Ok(by_id.filter(|i| key.is_none_or(|k| i.definition_key == k)))
    }

    /// The instance a logged change names.
    async fn logged_instance(&self, r: &LoggedInstance) -> Result<ProcessInstance, CoreError> {
        self.by_client_id(Some(&r.key), &r.id).await?.ok_or_else(|| {
            CoreError::NotFound(Missing::ExternalInstance {
                key: r.key.clone(),
                id: r.id.clone(),
            })
        })
    }

    /// The instance a client's id names, in any definition (an error's `processInstanceID`).
    pub(super) async fn instance_by_client_id(&self, id: &str) -> Result<ProcessInstance, CoreError> {
        self.by_client_id(None, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(Missing::InstanceText(id.to_owned())))
    }

    /// A logged change failed: when its instance exists, the failure is recorded on it as an
    /// error (the Process Audit Log's error table), then answered.
    pub(super) async fn record_failure(
        &self,
        r: &LoggedInstance,
        err: CoreError,
        ctx: &RequestCtx,
    ) -> CoreError {
        if err.is_refusal() {
            if let Ok(i) = self.logged_instance(r).await {
                let comment = Comment {
                    id: String::new(),
                    instance_id: i.id,
                    time: ctx.now,
                    author: ctx.user.clone(),
                    kind: "error".into(),
                    message: err.to_string(),
                    source: None,
                    details: None,
                };
                if let Err(e) = self.store.add_comment(&comment).await {
                    tracing::warn!(error = %e, instance = i.id.0, "Could not record a failed logged change.");
                }
            }
        }
        err
    }

    /// An open instance for a logged change; an ended one cannot change.
    async fn open_logged(&self, r: &LoggedInstance) -> Result<ProcessInstance, CoreError> {
        let i = self.logged_instance(r).await?;
        if !i.state.is_open() {
            return Err(CoreError::NotAllowed {
                message: format!("Process instance '{}' of process '{}' has ended", r.id, r.key),
            });
        }
        Ok(i)
    }

    /// Opens a logged instance. The id's uniqueness is checked, then the instance written: two
    /// requests racing with one new id can both succeed (the store has no unique business-key
    /// index); Integration Server's own database would refuse the second.
    pub(super) async fn log_instance(
        &self,
        r: LoggedInstance,
        user: Option<String>,
        ctx: &RequestCtx,
    ) -> Result<ProcessInstance, CoreError> {
        let d = self.integration(&r.key)?;
        match self.logged_instance(&r).await {
            Ok(_) => {
                return Err(CoreError::Conflict(Clash::InstanceExists {
                    key: r.key,
                    id: r.id,
                }))
            }
            Err(CoreError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        let new = NewInstance {
            definition_id: d.id.clone(),
            definition_key: d.key.clone(),
            definition_version: d.version,
            tenant_id: d.tenant_id.clone(),
            name: None,
            business_key: Some(r.id),
            state: InstanceState::Active,
            activity_id: None,
            tokens: Vec::new(),
            start_activity_id: None,
            end_activity_id: None,
            start_time: ctx.now,
            end_time: None,
            start_user_id: user,
            origin: Some("webmethods".into()),
            variables: Variables::new(),
            identity_links: Vec::new(),
            tasks: Vec::new(),
            activities: Vec::new(),
        };
        Ok(self.store.create_instance(new).await?)
    }

    /// One revision-guarded step on a logged instance, retried when another request moved it.
    pub(super) async fn log_commit(
        &self,
        r: &LoggedInstance,
        step: impl Fn(&ProcessInstance, u64) -> Result<Commit, CoreError>,
    ) -> Result<ProcessInstance, CoreError> {
        let mut raced = bpm_compat_model::InstanceId(0);
        for _ in 0..super::tasks::ATTEMPTS {
            let i = self.open_logged(r).await?;
            raced = i.id;
            match self.store.commit(&step(&i, i.revision)?).await {
                Ok((after, _)) => return Ok(after),
                Err(crate::store::StoreError::Conflict(Clash::Stale(_))) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Conflict(Clash::Stale(raced)))
    }

    pub(super) async fn log_instance_status(
        &self,
        r: LoggedInstance,
        state: InstanceState,
        label: String,
        ctx: &RequestCtx,
    ) -> Result<ProcessInstance, CoreError> {
        let i = self.open_logged(&r).await?;
        if state == InstanceState::Suspended {
            self.refuse_integration(&i)?;
        }
        if !state.is_open() && !i.tokens.is_empty() {
            // An instance the engine runs ends the way every dialect ends one, tasks included.
            self.store
                .close_instances(
                    &[i.id],
                    &Closing {
                        state,
                        reason: (state == InstanceState::Terminated).then_some(label),
                        at: ctx.now,
                    },
                )
                .await?;
            return self.logged_instance(&r).await;
        }
        self.log_commit(&r, |i, revision| {
            Ok(Commit {
                progress: Some(Progress {
                    state,
                    activity_id: i.activity_id.clone(),
                    tokens: i.tokens.clone(),
                    end_time: (!state.is_open()).then_some(ctx.now),
                    end_activity_id: i.end_activity_id.clone(),
                }),
                business_status: Some(label.clone()),
                ..Commit::new(i.id, revision)
            })
        })
        .await
    }

    pub(super) async fn log_step(
        &self,
        r: LoggedInstance,
        step: String,
        iteration: u32,
        status: Option<StepStatus>,
        ctx: &RequestCtx,
    ) -> Result<(), CoreError> {
        self.check_step(&r.key, &step)?;
        let i = self.open_logged(&r).await?;
        let history = self.store.activity_history(i.id).await?;
        let existing = history
            .into_iter()
            .find(|a| a.activity_id == step && a.logged.as_ref().is_some_and(|l| l.iteration == iteration));
        let record = match (existing, status) {
            (Some(_), None) => {
                return Err(CoreError::Conflict(Clash::StepInstanceExists {
                    instance: i.id,
                    step,
                    iteration,
                }))
            }
            (None, Some(_)) => {
                return Err(CoreError::NotFound(Missing::StepInstance {
                    instance: i.id,
                    step,
                    iteration,
                }))
            }
            (None, None) => ActivityRecord {
                key: String::new(),
                activity_id: step,
                start_time: ctx.now,
                end_time: None,
                logged: Some(StepLog {
                    iteration,
                    status: "Started".into(),
                }),
            },
            (Some(old), Some(s)) => ActivityRecord {
                end_time: if s.ends { Some(ctx.now) } else { old.end_time },
                logged: Some(StepLog {
                    iteration,
                    status: s.label,
                }),
                ..old
            },
        };
        self.log_commit(&r, |i, revision| {
            let mut record = record.clone();
            if record.key.is_empty() {
                // Keys order a history by revision, then place: this step's is its own.
                record.key = format!("{}.0", revision + 1);
            }
            Ok(Commit {
                activities: vec![record],
                ..Commit::new(i.id, revision)
            })
        })
        .await?;
        Ok(())
    }

    pub(super) async fn log_field(
        &self,
        r: LoggedInstance,
        step: String,
        iteration: u32,
        variable: Variable,
    ) -> Result<(), CoreError> {
        self.check_step(&r.key, &step)?;
        let d = self.latest(&r.key)?;
        if d.integration
            && !d
                .logged_fields
                .iter()
                .any(|f| f.step == step && f.field == variable.name)
        {
            return Err(CoreError::NotFound(Missing::LoggedField {
                key: r.key,
                step,
                field: variable.name,
            }));
        }
        let i = self.open_logged(&r).await?;
        let history = self.store.activity_history(i.id).await?;
        if !history
            .iter()
            .any(|a| a.activity_id == step && a.logged.as_ref().is_some_and(|l| l.iteration == iteration))
        {
            return Err(CoreError::NotFound(Missing::StepInstance {
                instance: i.id,
                step,
                iteration,
            }));
        }
        self.log_commit(&r, |i, revision| {
            Ok(Commit {
                variables: vec![variable.clone()],
                ..Commit::new(i.id, revision)
            })
        })
        .await?;
        Ok(())
    }
}
