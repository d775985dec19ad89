//! The engine applies one [`Command`] to the store and answers an [`Outcome`]. It holds the
//! process semantics every dialect shares and knows nothing of any vendor.
//!
//! One match, one arm per command; each arm is one atomic store step (plus, for reads that
//! show definition fields, a lookup in the cached definition snapshot). Steps that move a
//! process (completing a task, triggering a path) read the instance, decide in Rust and write
//! one `Commit` guarded by the instance's revision, deciding again when they lose a race.
//!
//! - `run`: token semantics of the BPMN subset (pure).
//! - `expr`: JUEL conditions and expressions (pure).
//! - `tasks`: user tasks, executions and activity history.
//! - `repository`: deployments and definition queries.

pub mod expr;
mod integration;
mod items;
mod repository;
pub mod run;
mod tasks;

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use bpm_compat_model::{
    Command, Comment, CoreError, DefinitionSelector, Deploy, IdentityLink, InstanceId, InstanceState,
    InstanceView, Missing, NewInstance, Outcome, ProcessDefinition, ProcessInstance, RequestCtx,
    StartInstance, Timestamp, Variable, Variables, STARTER_LINK,
};
use tracing::instrument;

use self::run::RunError;
use crate::definitions::{Definitions, DirFile};
use crate::server::Users;
use crate::store::{Closing, Store};

#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    /// The repository as last read, with the store's repository version it was read at.
    cache: Arc<RwLock<(u64, Arc<Definitions>)>>,
    /// The user directory tokens are issued against; `None` when authentication is off.
    users: Option<Arc<Users>>,
}

/// How long an issued access token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;

impl Engine {
    pub fn new(store: Arc<dyn Store>) -> Engine {
        Engine {
            store,
            // A version no store reports: the first command loads the repository.
            cache: Arc::new(RwLock::new((u64::MAX, Arc::new(Definitions::default())))),
            users: None,
        }
    }

    /// The user directory access tokens are issued against (none: tokens for any client).
    pub fn with_users(mut self, users: Option<Users>) -> Engine {
        self.users = users.map(Arc::new);
        self
    }

    /// The user an access token was issued to, while it lives.
    pub async fn token_user(&self, token: &str, now: Timestamp) -> Result<Option<String>, CoreError> {
        Ok(self.store.token_user(token, now).await?)
    }

    async fn issue_token(&self, client_id: &str, secret: &str, now: Timestamp) -> Result<Outcome, CoreError> {
        if let Some(users) = &self.users {
            if !users.check(client_id, secret) {
                return Err(CoreError::Unauthorized);
            }
        }
        let token = random_id();
        let expires = Timestamp(now.0 + (TOKEN_LIFETIME_SECS * 1000) as i64);
        self.store.put_token(&token, client_id, now, expires).await?;
        Ok(Outcome::Token {
            token,
            expires_in: TOKEN_LIFETIME_SECS,
        })
    }

    /// The deployed definitions, read again from the store when it reports a change (a
    /// deployment here or on another node); otherwise the cached snapshot, at the cost of
    /// one atomic read.
    pub async fn definitions(&self) -> Result<Arc<Definitions>, CoreError> {
        let version = self.store.repository_version();
        {
            let cached = self.cache.read().unwrap_or_else(|p| p.into_inner());
            if cached.0 == version {
                return Ok(cached.1.clone());
            }
        }
        let fresh = Arc::new(Definitions::new(self.store.repository().await?));
        let mut cached = self.cache.write().unwrap_or_else(|p| p.into_inner());
        *cached = (version, fresh.clone());
        Ok(fresh)
    }

    /// The snapshot the current command works with (see `apply`).
    fn snapshot(&self) -> Arc<Definitions> {
        self.cache.read().unwrap_or_else(|p| p.into_inner()).1.clone()
    }

    /// Deploys the files of a definitions directory, one deployment per file named by it,
    /// with duplicate filtering: unchanged files keep their deployment and version across
    /// restarts and nodes.
    pub async fn deploy_files(&self, files: Vec<DirFile>, now: Timestamp) -> Result<(), CoreError> {
        for f in files {
            let name = f.resource.name.clone();
            self.deploy(
                Deploy {
                    name: Some(name),
                    key: None,
                    category: None,
                    tenant_id: f.tenant_id,
                    resources: vec![f.resource],
                    replaces: None,
                },
                true,
                now,
            )
            .await?;
        }
        Ok(())
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    #[instrument(level = "debug", skip_all, fields(command = command.name(), instance_id = ?command.instance_id(), task_id = ?command.task_id()))]
    pub async fn apply(&self, command: Command, ctx: &RequestCtx) -> Result<Outcome, CoreError> {
        let store = &self.store;
        // Brings the snapshot up to date; every read of definitions below uses it.
        self.definitions().await?;
        Ok(match command {
            Command::StartInstance(start) => Outcome::Instance(self.start(start, ctx).await?),
            Command::StartForTask(start) => {
                let view = self.start(start, ctx).await?;
                let tasks = store
                    .list_tasks(&bpm_compat_model::TaskQuery {
                        filter: bpm_compat_model::TaskFilter {
                            instance_id: Some(view.instance.id),
                            ..bpm_compat_model::TaskFilter::default()
                        },
                        size: 1,
                        ..bpm_compat_model::TaskQuery::default()
                    })
                    .await?;
                let Some(task) = tasks.items.into_iter().next() else {
                    return Err(CoreError::ProcessFailure {
                        message: format!("process '{}' created no task", view.definition.key),
                    });
                };
                Outcome::Task(self.task_view(task, None))
            }
            Command::GetInstance(r) => Outcome::Instance(self.view(self.open(r.id).await?)),
            Command::GetDiagram(r) => Outcome::Diagram(self.view(self.open(r.id).await?)),
            Command::GetHistoricInstance(r) => match store.get_instance(r.id).await? {
                Some(i) => Outcome::Instance(self.view(i)),
                None => return Err(CoreError::NotFound(Missing::Instance(r.id))),
            },
            Command::ListInstances(mut query) => {
                self.resolve_definition_filters(&mut query.filter);
                let page = store.list_instances(&query).await?;
                let defs = self.snapshot();
                let view = |instance: ProcessInstance| InstanceView {
                    definition: definition_in(
                        &defs,
                        &instance.definition_id,
                        &instance.definition_key,
                        &instance.tenant_id,
                    ),
                    instance,
                };
                Outcome::Instances(bpm_compat_model::Page {
                    items: page.items.into_iter().map(view).collect(),
                    total: page.total,
                    start: page.start,
                })
            }
            Command::UpdateInstance(change) => {
                Outcome::Instance(self.view(store.update_instance(&change).await?))
            }
            Command::SetSuspended(c) => {
                if self.has_integration() {
                    if let Some(i) = store.get_instance(c.id).await? {
                        self.refuse_integration(&i)?;
                    }
                }
                Outcome::Instance(self.view(store.set_suspended(c.id, c.suspended).await?))
            }
            Command::DeleteInstance(c) => {
                if self.has_integration() {
                    if let Some(i) = store.get_instance(c.id).await? {
                        self.refuse_integration(&i)?;
                    }
                }
                store.close_instances(&[c.id], &terminated(c.reason, ctx)).await?;
                // The instance as it ended, for dialects that show it (Astro Zero's terminate).
                match store.get_instance(c.id).await? {
                    Some(i) => Outcome::Instance(self.view(i)),
                    None => Outcome::Done,
                }
            }
            Command::DeleteInstances(c) => {
                store.close_instances(&c.ids, &terminated(c.reason, ctx)).await?;
                Outcome::Done
            }
            Command::GetIdentityLinks(r) => Outcome::IdentityLinks(self.open(r.id).await?.identity_links),
            Command::GetIdentityLink(r) => {
                let instance = self.open(r.id).await?;
                if !instance.identity_links.contains(&r.link) {
                    return Err(CoreError::NotFound(Missing::IdentityLink {
                        instance: r.id,
                        link: r.link,
                    }));
                }
                Outcome::IdentityLink(r.link)
            }
            Command::AddIdentityLink(r) => {
                store.add_identity_link(r.id, &r.link).await?;
                Outcome::IdentityLink(r.link)
            }
            Command::RemoveIdentityLink(r) => {
                store.remove_identity_link(r.id, &r.link).await?;
                Outcome::Done
            }
            Command::GetVariables(r) => Outcome::Variables(to_list(self.open(r.id).await?.variables)),
            Command::GetVariable(r) => {
                let mut instance = self.open(r.id).await?;
                match instance.variables.remove(&r.name) {
                    Some(value) => Outcome::Variable(Variable { name: r.name, value }),
                    None => {
                        return Err(CoreError::NotFound(Missing::Variable {
                            instance: r.id,
                            name: r.name,
                        }))
                    }
                }
            }
            Command::SetVariables(c) => {
                // Every variable given, in order, as written: a name given twice appears twice
                // (Flowable echoes each), and the store kept the last.
                store.set_variables(c.id, &c.variables, c.mode).await?;
                Outcome::Variables(c.variables)
            }
            Command::DeleteVariable(r) => {
                store.delete_variables(r.id, Some(&r.name)).await?;
                Outcome::Done
            }
            Command::DeleteVariables(r) => {
                store.delete_variables(r.id, None).await?;
                Outcome::Done
            }
            Command::GetTask(r) => Outcome::Task(self.task_view(self.task(r.id).await?, None)),
            Command::GetHistoricTask(r) => match store.get_task(r.id).await? {
                Some(t) => Outcome::Task(self.task_view(t, None)),
                None => return Err(CoreError::NotFound(Missing::Task(r.id))),
            },
            Command::ListTasks(query) => self.list_tasks(query).await?,
            Command::ListActivities(query) => self.list_activities(query).await?,
            Command::CompleteTask(c) => {
                self.complete_task(c, ctx).await?;
                Outcome::Done
            }
            Command::ClaimTask(c) => Outcome::Task(self.claim_task(c, ctx).await?),
            Command::DelegateTask(c) => Outcome::Task(self.delegate_task(c).await?),
            Command::ResolveTask(r) => Outcome::Task(self.resolve_task(r.id).await?),
            Command::UpdateTask(c) => Outcome::Task(self.update_task(c).await?),
            Command::GetTaskIdentityLinks(r) => Outcome::IdentityLinks(self.task_identity_links(r.id).await?),
            Command::AddTaskIdentityLink(r) => {
                let link = r.link.clone();
                self.add_task_link(r).await?;
                Outcome::IdentityLink(link)
            }
            Command::RemoveTaskIdentityLink(r) => {
                self.remove_task_link(r).await?;
                Outcome::Done
            }
            Command::GetTaskVariables { id, scope } => {
                Outcome::ScopedVariables(self.task_variables(id, scope).await?)
            }
            Command::SetTaskVariables {
                id,
                scope,
                variables,
                mode,
            } => Outcome::ScopedVariables(self.set_task_variables(id, scope, variables, mode).await?),
            Command::DeleteTaskVariable { id, scope, name } => {
                self.delete_task_variable(id, scope, name).await?;
                Outcome::Done
            }
            Command::IssueToken {
                client_id,
                client_secret,
            } => self.issue_token(&client_id, &client_secret, ctx.now).await?,
            Command::GetExecutions {
                instance,
                key,
                activity_id,
            } => {
                self.executions(instance, key.as_deref(), activity_id.as_deref())
                    .await?
            }
            Command::TriggerExecution {
                instance,
                key,
                variables,
                transient_variables,
            } => {
                self.trigger(instance, &key, variables, transient_variables, ctx)
                    .await?
            }
            Command::Deploy(d) => {
                let deployed = self.deploy(d, false, ctx.now).await?;
                Outcome::Deployed {
                    deployment: deployed.deployment,
                    definitions: deployed.definitions,
                }
            }
            Command::GetDeployment(id) => Outcome::Deployment(self.deployment(&id)?),
            Command::ListDeployments(q) => Outcome::Deployments(self.list_deployments(&q)),
            Command::DeleteDeployment(id) => {
                store.delete_deployment(&id).await?;
                Outcome::Done
            }
            Command::GetDeploymentResource { deployment, name } => {
                Outcome::Resource(self.deployment_resource(&deployment, &name).await?)
            }
            Command::ListDefinitions(q) => Outcome::Definitions(self.list_definitions(&q)),
            Command::GetDefinition(id) => Outcome::Definition(self.definition(&id)?),
            Command::Resume {
                target,
                variables,
                user,
            } => Outcome::Instance(self.view(self.resume(target, variables, user, ctx).await?)),
            Command::GetInstanceDetails(r) => {
                let Some(i) = store.get_instance(r.id).await? else {
                    return Err(CoreError::NotFound(Missing::Instance(r.id)));
                };
                let tasks = store
                    .list_tasks(&bpm_compat_model::TaskQuery {
                        filter: bpm_compat_model::TaskFilter {
                            instance_id: Some(i.id),
                            all: true,
                            ..bpm_compat_model::TaskFilter::default()
                        },
                        size: usize::MAX,
                        ..bpm_compat_model::TaskQuery::default()
                    })
                    .await?
                    .items;
                Outcome::InstanceDetails {
                    instance: self.view(i),
                    tasks,
                }
            }
            Command::AddComment(c) => Outcome::Comment(store.add_comment(&c).await?),
            Command::GetComments(r) => {
                if store.get_instance(r.id).await?.is_none() {
                    return Err(CoreError::NotFound(Missing::Instance(r.id)));
                }
                Outcome::Comments(store.comments(r.id).await?)
            }
            Command::LogError {
                id,
                source,
                message,
                details,
                user,
            } => {
                let instance = self.instance_by_client_id(&id).await?;
                Outcome::Comment(
                    store
                        .add_comment(&Comment {
                            id: String::new(),
                            instance_id: instance.id,
                            time: ctx.now,
                            author: user,
                            kind: "error".into(),
                            message,
                            source,
                            details,
                        })
                        .await?,
                )
            }
            Command::WriteItems(items) => {
                for item in &items {
                    if item
                        .id
                        .split_once('@')
                        .is_none_or(|(n, c)| n.is_empty() || c.is_empty())
                    {
                        return Err(CoreError::invalid(format!(
                            "'{}' is not an item id (<item>@<catalog>)",
                            item.id
                        )));
                    }
                }
                Outcome::ItemsWritten(store.write_items(&items).await?)
            }
            Command::ListItems {
                entity,
                catalog,
                start,
                size,
            } => Outcome::Items(store.list_items(&entity, &catalog, start, size).await?),
            Command::ChangeItemStatus(c) => Outcome::StatusChanged(self.change_item_status(c, ctx).await?),
            Command::GenerateId => Outcome::Id(random_id()),
            Command::Refuse { error, instance } => {
                return Err(match instance {
                    Some(r) => self.record_failure(&r, error, ctx).await,
                    None => error,
                })
            }
            Command::DefineIntegration(change) => {
                self.define_integration(change, ctx).await?;
                Outcome::Done
            }
            Command::LogInstance { instance, user } => {
                match self.log_instance(instance.clone(), user, ctx).await {
                    Ok(i) => Outcome::Instance(self.view(i)),
                    Err(e) => return Err(self.record_failure(&instance, e, ctx).await),
                }
            }
            Command::LogInstanceStatus {
                instance,
                state,
                label,
            } => match self
                .log_instance_status(instance.clone(), state, label, ctx)
                .await
            {
                Ok(i) => Outcome::Instance(self.view(i)),
                Err(e) => return Err(self.record_failure(&instance, e, ctx).await),
            },
            Command::LogStep {
                instance,
                step,
                iteration,
                status,
            } => match self
                .log_step(instance.clone(), step, iteration, status, ctx)
                .await
            {
                Ok(()) => Outcome::Done,
                Err(e) => return Err(self.record_failure(&instance, e, ctx).await),
            },
            Command::LogField {
                instance,
                step,
                iteration,
                variable,
            } => match self.log_field(instance.clone(), step, iteration, variable).await {
                Ok(()) => Outcome::Done,
                Err(e) => return Err(self.record_failure(&instance, e, ctx).await),
            },
            Command::DeleteDefinition(r) => {
                let d = self.definition_by_ref(&r)?;
                if let Some(deployment) = &d.deployment_id {
                    store.delete_deployment(deployment).await?;
                }
                Outcome::Done
            }
            Command::GetDefinitionResource(id) => {
                let d = self.definition(&id)?;
                let (Some(deployment), Some(name)) = (&d.deployment_id, &d.resource_name) else {
                    return Err(CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(
                        id,
                    ))));
                };
                Outcome::Resource(self.deployment_resource(deployment, name).await?)
            }
        })
    }

    async fn start(&self, start: StartInstance, ctx: &RequestCtx) -> Result<InstanceView, CoreError> {
        let definition = self
            .snapshot()
            .resolve(&start.definition)
            .ok_or_else(|| CoreError::NotFound(Missing::Definition(start.definition.clone())))?
            .clone();
        let message = match &start.definition {
            bpm_compat_model::DefinitionSelector::Message { name, .. } => Some(name.as_str()),
            _ => None,
        };
        let start_event = definition
            .start_event(message)
            .ok_or_else(|| CoreError::Internal {
                message: format!("definition {} has no start event", definition.id),
            })?;
        // Collected, not inserted one by one: the map sorts once, and a repeated name keeps its
        // last value.
        let variables: Variables = start.variables.into_iter().map(|v| (v.name, v.value)).collect();
        // What expressions see: the variables, plus transient ones when there are any (a copy
        // only then: most starts have none).
        let seen = if start.transient_variables.is_empty() {
            Cow::Borrowed(&variables)
        } else {
            let mut all = variables.clone();
            all.extend(start.transient_variables.into_iter().map(|v| (v.name, v.value)));
            Cow::Owned(all)
        };
        let step = run::start(&definition, &start_event.id, &seen).map_err(failure)?;
        let mut identity_links = Vec::new();
        if let Some(user) = &start.start_user {
            identity_links.push(IdentityLink::user(user.clone(), STARTER_LINK));
        }
        let mut tasks = tasks::create(&definition, InstanceId(0), &step.new_tasks, &seen, ctx)?;
        let activities = step.records(&definition, 0, ctx.now, &mut tasks);
        identity_links.extend(tasks::participants(&tasks));
        let ended = step.ended();
        let new = NewInstance {
            definition_id: definition.id.clone(),
            definition_key: definition.key.clone(),
            definition_version: definition.version,
            tenant_id: definition.tenant_id.clone(),
            name: start.name,
            business_key: start.business_key,
            state: if ended {
                InstanceState::Completed
            } else {
                InstanceState::Active
            },
            activity_id: step.current_activity(&definition),
            tokens: step.tokens,
            start_activity_id: Some(start_event.id.clone()),
            end_activity_id: step.end_activity,
            start_time: ctx.now,
            end_time: ended.then_some(ctx.now),
            start_user_id: start.start_user,
            origin: start.origin,
            variables,
            identity_links,
            tasks,
            activities,
        };
        let instance = self.store.create_instance(new).await?;
        Ok(InstanceView { instance, definition })
    }

    /// An instance that is still running (active or suspended); closed ones are not found.
    pub(super) async fn open(&self, id: InstanceId) -> Result<ProcessInstance, CoreError> {
        match self.store.get_instance(id).await? {
            Some(i) if i.state.is_open() => Ok(i),
            _ => Err(CoreError::NotFound(Missing::Instance(id))),
        }
    }

    pub(super) fn view(&self, instance: ProcessInstance) -> InstanceView {
        let definition = self.definition_for(&instance);
        InstanceView { instance, definition }
    }

    /// The definition an instance runs (see `definition_of`).
    fn definition_for(&self, i: &ProcessInstance) -> Arc<ProcessDefinition> {
        self.definition_of(&i.definition_id, &i.definition_key, &i.tenant_id)
    }

    /// The definition an instance or task runs (see [`definition_in`]).
    fn definition_of(&self, id: &str, key: &str, tenant_id: &str) -> Arc<ProcessDefinition> {
        definition_in(&self.snapshot(), id, key, tenant_id)
    }

    /// Filters on definition fields the store does not keep (name, category, version) become
    /// a list of definition ids, intersected with any list the query already has.
    fn resolve_definition_filters(&self, filter: &mut bpm_compat_model::InstanceFilter) {
        let name = filter.definition_name.take();
        let category = filter.definition_category.take();
        let version = filter.definition_version.take();
        if name.is_none() && category.is_none() && version.is_none() {
            return;
        }
        let ids: Vec<String> = self
            .snapshot()
            .all()
            .iter()
            .filter(|d| name.as_ref().is_none_or(|m| m.matches(d.name.as_deref())))
            .filter(|d| category.as_ref().is_none_or(|m| m.matches(d.category.as_deref())))
            .filter(|d| version.is_none_or(|v| d.version == v))
            .filter(|d| filter.definition_ids.as_ref().is_none_or(|l| l.contains(&d.id)))
            .map(|d| d.id.clone())
            .collect();
        filter.definition_ids = Some(ids);
    }
}

/// The definition an instance or task runs, from one snapshot (lists read it once for all
/// their items). When it is gone since the instance started, a stand-in with what the
/// instance itself knows, rather than failing every read of it.
fn definition_in(defs: &Definitions, id: &str, key: &str, tenant_id: &str) -> Arc<ProcessDefinition> {
    match defs.get(id) {
        Some(d) => d.clone(),
        None => Arc::new(ProcessDefinition {
            id: id.to_owned(),
            key: key.to_owned(),
            version: id.split(':').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0),
            tenant_id: tenant_id.to_owned(),
            ..ProcessDefinition::default()
        }),
    }
}

/// 128 unpredictable bits as 32 hex digits: SipHash (std's `RandomState`, keyed from the
/// operating system's randomness) over a process-wide counter and the clock. Access tokens
/// and generated ids.
fn random_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let part = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        h.write_u64(salt);
        h.finish()
    };
    format!("{:016x}{:016x}", part(1), part(2))
}

/// A process that cannot go on: the vendor's engine would throw.
fn failure(e: RunError) -> CoreError {
    CoreError::ProcessFailure {
        message: e.to_string(),
    }
}

fn terminated(reason: Option<String>, ctx: &RequestCtx) -> Closing {
    Closing {
        state: InstanceState::Terminated,
        reason,
        at: ctx.now,
    }
}

fn to_list(vars: Variables) -> Vec<Variable> {
    vars.into_iter()
        .map(|(name, value)| Variable { name, value })
        .collect()
}
