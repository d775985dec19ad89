//! User tasks in the engine: creating them when a path enters a user task, and the task
//! commands (read, list, claim, delegate, resolve, complete).
//!
//! Every task command is a step on the task's instance: read the task and the instance, decide
//! in Rust, and write the decision as one [`Commit`] guarded by the instance's revision. When
//! someone else moved the instance in between, the step is decided again on fresh state, a
//! few times, before the client gets a conflict (Flowable's optimistic locking, retried).

use std::collections::BTreeMap;

use bpm_compat_model::{
    ActivityKind, ActivityQuery, ActivityRecord, ActivitySort, ActivityView, ClaimTask, Clash, CompleteTask,
    CoreError, DelegateTask, DelegationState, Identity, IdentityLink, InstanceFilter, InstanceId,
    InstanceQuery, InstanceState, Missing, Outcome, Page, ProcessDefinition, ProcessInstance, RequestCtx,
    ResumeTarget, SetMode, SortOrder, Task, TaskFilter, TaskId, TaskLinkRef, TaskQuery, TaskView, Timestamp,
    UpdateTask, Variable, VariableScope, Variables, DEFAULT_PRIORITY,
};
use futures_util::future::try_join_all;

use super::expr::{resolve_text, ExprError};
use super::{definition_in, failure, run, Engine};
use crate::store::{Commit, Progress, StoreError};

/// How often a step is decided again after losing a race.
pub(super) const ATTEMPTS: usize = 5;

/// The link type a task's assignee and candidates get on the process instance.
pub const PARTICIPANT_LINK: &str = "participant";

/// New tasks for the user tasks a step entered, their attributes resolved against `variables`.
pub(super) fn create(
    definition: &ProcessDefinition,
    instance: InstanceId,
    activities: &[String],
    variables: &Variables,
    ctx: &RequestCtx,
) -> Result<Vec<Task>, CoreError> {
    let lookup = |name: &str| variables.get(name).cloned();
    let text = |t: &Option<String>| -> Result<Option<String>, CoreError> {
        match t {
            None => Ok(None),
            Some(t) => Ok(resolve_text(t, &lookup)
                .map_err(expression_failure)?
                .filter(|v| !v.is_empty())),
        }
    };
    let mut out = Vec::with_capacity(activities.len());
    for id in activities {
        let activity = definition
            .activity(id)
            .ok_or_else(|| failure(run::RunError::UnknownActivity(id.clone())))?;
        let spec = activity.task.clone().unwrap_or_default();
        let mut candidates = Vec::new();
        for (list, user) in [(&spec.candidate_users, true), (&spec.candidate_groups, false)] {
            for entry in list {
                // An expression may give a comma-separated list.
                for name in text(&Some(entry.clone()))?.iter().flat_map(|v| v.split(',')) {
                    let name = name.trim().to_owned();
                    if !name.is_empty() {
                        candidates.push(if user {
                            Identity::User(name)
                        } else {
                            Identity::Group(name)
                        });
                    }
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        out.push(Task {
            id: TaskId(0),
            instance_id: instance,
            definition_id: definition.id.clone(),
            definition_key: definition.key.clone(),
            tenant_id: definition.tenant_id.clone(),
            task_definition_key: id.clone(),
            // Names and descriptions may be expressions, as in Flowable (`${taskName}`).
            name: text(&activity.name)?,
            description: text(&activity.documentation)?,
            assignee: text(&spec.assignee)?,
            owner: text(&spec.owner)?,
            delegation_state: None,
            candidates,
            links: Vec::new(),
            priority: text(&spec.priority)?
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(DEFAULT_PRIORITY),
            create_time: ctx.now,
            claim_time: None,
            due_date: text(&spec.due_date)?.and_then(|d| Timestamp::parse_iso(&d)),
            category: text(&spec.category)?,
            form_key: text(&spec.form_key)?,
            suspended: false,
            end_time: None,
            delete_reason: None,
            variables: Variables::new(),
            activity_instance: None,
        });
    }
    Ok(out)
}

/// The links the people of new or reassigned tasks get on the instance: an assignee, owner
/// or candidate user takes part in the process (Flowable's `participant` links; candidate
/// groups get none).
pub(super) fn participants(tasks: &[Task]) -> Vec<IdentityLink> {
    let mut links = Vec::new();
    for t in tasks {
        let candidates = t.candidates.iter().filter_map(|c| match c {
            Identity::User(u) => Some(u),
            Identity::Group(_) => None,
        });
        for user in t.assignee.iter().chain(t.owner.iter()).chain(candidates) {
            links.push(IdentityLink::user(user.clone(), PARTICIPANT_LINK));
        }
    }
    links.sort();
    links.dedup();
    links
}

/// Where a step left the process: still active, or completed when no path is left.
fn progress(step: run::Advance, definition: &ProcessDefinition, now: Timestamp) -> Progress {
    let ended = step.ended();
    Progress {
        state: if ended {
            InstanceState::Completed
        } else {
            InstanceState::Active
        },
        activity_id: step.current_activity(definition),
        tokens: step.tokens,
        end_time: ended.then_some(now),
        end_activity_id: step.end_activity,
    }
}

fn expression_failure(e: ExprError) -> CoreError {
    failure(run::RunError::Expression(e))
}

impl Engine {
    /// An open task; ended ones are history and not found here.
    pub(super) async fn task(&self, id: TaskId) -> Result<Task, CoreError> {
        match self.store.get_task(id).await? {
            Some(t) if t.is_open() => Ok(t),
            _ => Err(CoreError::NotFound(Missing::Task(id))),
        }
    }

    pub(super) fn task_view(&self, task: Task, process_variables: Option<Variables>) -> TaskView {
        let definition = self.definition_of(&task.definition_id, &task.definition_key, &task.tenant_id);
        TaskView {
            task,
            definition,
            process_variables,
            local_variables: None,
        }
    }

    pub(super) async fn list_tasks(&self, mut query: TaskQuery) -> Result<Outcome, CoreError> {
        self.resolve_task_joins(&mut query.filter).await?;
        let page = self.store.list_tasks(&query).await?;
        let mut variables: BTreeMap<InstanceId, Variables> = BTreeMap::new();
        if query.include_process_variables {
            let mut ids: Vec<InstanceId> = page.items.iter().map(|t| t.instance_id).collect();
            ids.sort();
            ids.dedup();
            let instances = try_join_all(ids.iter().map(|id| self.store.get_instance(*id))).await?;
            variables.extend(instances.into_iter().flatten().map(|i| (i.id, i.variables)));
        }
        let defs = self.snapshot();
        Ok(Outcome::Tasks(Page {
            items: page
                .items
                .into_iter()
                .map(|t| {
                    let vars = query
                        .include_process_variables
                        .then(|| variables.get(&t.instance_id).cloned().unwrap_or_default());
                    let local = query.include_local_variables.then(|| t.variables.clone());
                    TaskView {
                        definition: definition_in(&defs, &t.definition_id, &t.definition_key, &t.tenant_id),
                        task: t,
                        process_variables: vars,
                        local_variables: local,
                    }
                })
                .collect(),
            total: page.total,
            start: page.start,
        }))
    }

    /// Filters on the instance or definition of a task (business key, instance variables,
    /// definition name) become
    /// lists of instance and definition ids, intersected with what the filter has.
    async fn resolve_task_joins(&self, f: &mut TaskFilter) -> Result<(), CoreError> {
        if let Some(name) = f.definition_name.take() {
            let ids: Vec<String> = self
                .snapshot()
                .all()
                .iter()
                .filter(|d| name.matches(d.name.as_deref()))
                .map(|d| d.id.clone())
                .filter(|id| f.definition_ids.as_ref().is_none_or(|l| l.contains(id)))
                .collect();
            f.definition_ids = Some(ids);
        }
        let variables = std::mem::take(&mut f.instance_variables);
        if f.business_key.is_some() || !variables.is_empty() {
            let bk = f.business_key.take();
            // Tasks of ended instances only when the query asks for ended tasks too.
            let states = if f.all || f.finished == Some(true) {
                InstanceState::ALL.to_vec()
            } else {
                Vec::new()
            };
            let query = InstanceQuery {
                filter: InstanceFilter {
                    business_key: bk,
                    variables,
                    states,
                    ..InstanceFilter::default()
                },
                size: usize::MAX,
                ..InstanceQuery::default()
            };
            let ids: Vec<InstanceId> = self
                .store
                .list_instances(&query)
                .await?
                .items
                .into_iter()
                .map(|i| i.id)
                .filter(|id| f.instance_ids.as_ref().is_none_or(|l| l.contains(id)))
                .collect();
            f.instance_ids = Some(ids);
        }
        Ok(())
    }

    /// Decides a step on a task's instance and commits it, deciding again on fresh state
    /// when the instance moved in between.
    async fn step(
        &self,
        id: TaskId,
        decide: impl Fn(&Task, &ProcessInstance, &ProcessDefinition) -> Result<Commit, CoreError>,
    ) -> Result<Vec<Task>, CoreError> {
        let mut raced = InstanceId(0);
        for _ in 0..ATTEMPTS {
            let task = self.task(id).await?;
            raced = task.instance_id;
            let instance = match self.store.get_instance(task.instance_id).await? {
                Some(i) if i.state.is_open() => i,
                _ => return Err(CoreError::NotFound(Missing::Task(id))),
            };
            let definition = self.definition_for(&instance);
            let commit = decide(&task, &instance, &definition)?;
            match self.store.commit(&commit).await {
                Ok((_, tasks)) => return Ok(tasks),
                Err(StoreError::Conflict(Clash::Stale(_))) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Conflict(Clash::Stale(raced)))
    }

    /// A step that only rewrites one task (and adds the links its people get).
    async fn change_task(
        &self,
        id: TaskId,
        change: impl Fn(&Task) -> Result<Task, CoreError>,
    ) -> Result<TaskView, CoreError> {
        let written = self
            .step(id, |task, instance, _| {
                let after = change(task)?;
                Ok(Commit {
                    links: participants(std::slice::from_ref(&after)),
                    tasks: vec![after],
                    ..Commit::new(instance.id, instance.revision)
                })
            })
            .await?;
        let task = written.into_iter().next().ok_or_else(|| CoreError::Internal {
            message: "a task commit wrote no task".into(),
        })?;
        Ok(self.task_view(task, None))
    }

    pub(super) async fn claim_task(&self, c: ClaimTask, ctx: &RequestCtx) -> Result<TaskView, CoreError> {
        self.change_task(c.id, |task| {
            if let (Some(user), Some(current)) = (&c.user, &task.assignee) {
                if user != current {
                    return Err(CoreError::Conflict(Clash::TaskClaimed {
                        task: task.id,
                        by: current.clone(),
                    }));
                }
            }
            Ok(Task {
                assignee: c.user.clone(),
                claim_time: c.user.as_ref().map(|_| ctx.now),
                ..task.clone()
            })
        })
        .await
    }

    pub(super) async fn delegate_task(&self, c: DelegateTask) -> Result<TaskView, CoreError> {
        self.change_task(c.id, |task| {
            Ok(Task {
                owner: task.owner.clone().or_else(|| task.assignee.clone()),
                assignee: Some(c.assignee.clone()),
                delegation_state: Some(DelegationState::Pending),
                ..task.clone()
            })
        })
        .await
    }

    pub(super) async fn resolve_task(&self, id: TaskId) -> Result<TaskView, CoreError> {
        self.change_task(id, |task| {
            Ok(Task {
                assignee: task.owner.clone(),
                delegation_state: Some(DelegationState::Resolved),
                ..task.clone()
            })
        })
        .await
    }

    /// Completes an instance's open task (the earliest, when it waits at several) or the given
    /// task, and answers the instance after the step.
    pub(super) async fn resume(
        &self,
        target: ResumeTarget,
        variables: Vec<Variable>,
        user: Option<String>,
        ctx: &RequestCtx,
    ) -> Result<ProcessInstance, CoreError> {
        let (task, instance) = match target {
            ResumeTarget::Task(id) => {
                let task = self.task(id).await?;
                (id, task.instance_id)
            }
            ResumeTarget::Instance(id) => {
                let i = match self.store.get_instance(id).await? {
                    Some(i) if i.state.is_open() => i,
                    Some(_) => {
                        return Err(CoreError::NotAllowed {
                            message: format!("Process instance {id} has ended"),
                        })
                    }
                    None => return Err(CoreError::NotFound(Missing::Instance(id))),
                };
                let open = self
                    .store
                    .list_tasks(&TaskQuery {
                        filter: TaskFilter {
                            instance_id: Some(i.id),
                            ..TaskFilter::default()
                        },
                        size: 1,
                        ..TaskQuery::default()
                    })
                    .await?
                    .items;
                match open.first() {
                    Some(t) => (t.id, i.id),
                    None => {
                        return Err(CoreError::NotAllowed {
                            message: format!("Process instance {id} does not wait at a task"),
                        })
                    }
                }
            }
        };
        self.complete_task(
            CompleteTask {
                id: task,
                variables,
                transient_variables: Vec::new(),
                user,
            },
            ctx,
        )
        .await?;
        self.store
            .get_instance(instance)
            .await?
            .ok_or(CoreError::NotFound(Missing::Instance(instance)))
    }

    pub(super) async fn complete_task(&self, c: CompleteTask, ctx: &RequestCtx) -> Result<(), CoreError> {
        self.step(c.id, |task, instance, definition| {
            if task.delegation_state == Some(DelegationState::Pending) {
                return Err(CoreError::ProcessFailure {
                    message: "A delegated task cannot be completed, but should be resolved instead.".into(),
                });
            }
            let mut seen = instance.variables.clone();
            seen.extend(
                c.variables
                    .iter()
                    .chain(&c.transient_variables)
                    .map(|v| (v.name.clone(), v.value.clone())),
            );
            let step = run::leave(definition, &instance.tokens, &task.task_definition_key, &seen)
                .map_err(failure)?;
            let mut new_tasks = create(definition, instance.id, &step.new_tasks, &seen, ctx)?;
            let mut activities = step.records(definition, instance.revision + 1, ctx.now, &mut new_tasks);
            // The completed task's activity ends now.
            if let Some(key) = &task.activity_instance {
                activities.push(ActivityRecord {
                    key: key.clone(),
                    activity_id: task.task_definition_key.clone(),
                    start_time: task.create_time,
                    end_time: Some(ctx.now),
                    logged: None,
                });
            }
            let mut tasks = vec![Task {
                end_time: Some(ctx.now),
                ..task.clone()
            }];
            let mut links = participants(&new_tasks);
            // Whoever completes a task takes part in the process.
            links.extend(
                c.user
                    .iter()
                    .map(|u| IdentityLink::user(u.clone(), PARTICIPANT_LINK)),
            );
            tasks.extend(new_tasks);
            Ok(Commit {
                id: instance.id,
                revision: instance.revision,
                progress: Some(progress(step, definition, ctx.now)),
                variables: c.variables.clone(),
                links,
                tasks,
                activities,
                business_status: None,
            })
        })
        .await?;
        Ok(())
    }
}

impl Engine {
    /// The activity records of an instance, in the order entered, with its definition and
    /// the task of each user-task record.
    async fn activity_views(&self, instance: &ProcessInstance) -> Result<Vec<ActivityView>, CoreError> {
        let definition = self.definition_for(instance);
        let tasks = self
            .store
            .list_tasks(&TaskQuery {
                filter: TaskFilter {
                    instance_id: Some(instance.id),
                    all: true,
                    ..TaskFilter::default()
                },
                size: usize::MAX,
                ..TaskQuery::default()
            })
            .await?
            .items;
        Ok(self
            .store
            .activity_history(instance.id)
            .await?
            .into_iter()
            .map(|record| ActivityView {
                instance_id: instance.id,
                tenant_id: instance.tenant_id.clone(),
                task: tasks
                    .iter()
                    .find(|t| t.activity_instance.as_deref() == Some(record.key.as_str()))
                    .cloned(),
                record,
                definition: definition.clone(),
            })
            .collect())
    }

    /// The activity records of the query's instances, with names and types from their
    /// definitions and the tasks of user-task activities.
    pub(super) async fn list_activities(&self, q: ActivityQuery) -> Result<Outcome, CoreError> {
        let mut views = Vec::new();
        for id in &q.instance_ids {
            if let Some(instance) = self.store.get_instance(*id).await? {
                views.extend(self.activity_views(&instance).await?);
            }
        }
        let text = |m: &Option<String>, v: Option<&str>| m.as_deref().is_none_or(|m| Some(m) == v);
        views.retain(|v| {
            text(&q.id, Some(&v.id()))
                && text(&q.activity_id, Some(&v.record.activity_id))
                && text(&q.activity_name, v.activity_name())
                && text(&q.activity_type, v.activity_type())
                && q.finished.is_none_or(|f| v.record.end_time.is_some() == f)
                && text(
                    &q.task_assignee,
                    v.task.as_ref().and_then(|t| t.assignee.as_deref()),
                )
                && text(&q.definition_id, Some(&v.definition.id))
                && q.tenant_id.as_ref().is_none_or(|m| m.matches(Some(&v.tenant_id)))
                && (!q.without_tenant || v.tenant_id.is_empty())
        });
        // A stable sort: equal keys keep the order the records were entered in.
        views.sort_by(|a, b| {
            let (x, y) = (&a.record, &b.record);
            let o = match q.sort {
                ActivitySort::StartTime => x.start_time.cmp(&y.start_time),
                ActivitySort::EndTime => x.end_time.cmp(&y.end_time),
                ActivitySort::Duration => {
                    let d = |r: &ActivityRecord| r.end_time.map(|e| e.0 - r.start_time.0);
                    d(x).cmp(&d(y))
                }
                ActivitySort::ActivityId => x.activity_id.cmp(&y.activity_id),
                ActivitySort::ActivityName => a.activity_name().cmp(&b.activity_name()),
                ActivitySort::ActivityType => a.activity_type().cmp(&b.activity_type()),
                ActivitySort::InstanceId => a.instance_id.cmp(&b.instance_id),
                ActivitySort::Id => a.id().cmp(&b.id()),
                ActivitySort::TenantId => a.tenant_id.cmp(&b.tenant_id),
            };
            match q.order {
                SortOrder::Asc => o,
                SortOrder::Desc => o.reverse(),
            }
        });
        Ok(Outcome::Activities(Page {
            total: views.len() as u64,
            items: views.into_iter().skip(q.start).take(q.size).collect(),
            start: q.start,
        }))
    }
}

impl Engine {
    pub(super) async fn update_task(&self, c: UpdateTask) -> Result<TaskView, CoreError> {
        self.change_task(c.id, |task| {
            let mut t = task.clone();
            let set = |slot: &mut Option<String>, v: &Option<Option<String>>| {
                if let Some(v) = v {
                    slot.clone_from(v);
                }
            };
            set(&mut t.name, &c.name);
            set(&mut t.description, &c.description);
            set(&mut t.assignee, &c.assignee);
            set(&mut t.owner, &c.owner);
            set(&mut t.category, &c.category);
            set(&mut t.form_key, &c.form_key);
            if let Some(d) = c.delegation_state {
                t.delegation_state = d;
            }
            if let Some(d) = c.due_date {
                t.due_date = d;
            }
            if let Some(p) = c.priority {
                t.priority = p;
            }
            Ok(t)
        })
        .await
    }

    /// The stored links, then the assignee and the owner as Flowable shows them.
    pub(super) async fn task_identity_links(&self, id: TaskId) -> Result<Vec<IdentityLink>, CoreError> {
        let task = self.task(id).await?;
        let mut links = task.identity_links();
        links.extend(
            task.assignee
                .iter()
                .map(|u| IdentityLink::user(u.clone(), "assignee")),
        );
        links.extend(task.owner.iter().map(|u| IdentityLink::user(u.clone(), "owner")));
        Ok(links)
    }

    pub(super) async fn add_task_link(&self, r: TaskLinkRef) -> Result<(), CoreError> {
        self.change_task(r.id, |task| {
            let mut t = task.clone();
            t.add_link(r.link.clone());
            Ok(t)
        })
        .await?;
        Ok(())
    }

    pub(super) async fn remove_task_link(&self, r: TaskLinkRef) -> Result<(), CoreError> {
        self.change_task(r.id, |task| {
            let mut t = task.clone();
            if !t.remove_link(&r.link) {
                return Err(CoreError::NotFound(Missing::TaskIdentityLink {
                    task: r.id,
                    link: r.link.clone(),
                }));
            }
            Ok(t)
        })
        .await?;
        Ok(())
    }

    /// Local variables first, then the instance's ones a local variable does not hide.
    pub(super) async fn task_variables(
        &self,
        id: TaskId,
        scope: Option<VariableScope>,
    ) -> Result<Vec<(Variable, VariableScope)>, CoreError> {
        let task = self.task(id).await?;
        let mut out: Vec<(Variable, VariableScope)> = Vec::new();
        if scope != Some(VariableScope::Global) {
            out.extend(
                task.variables
                    .iter()
                    .map(|(n, v)| (Variable::new(n.clone(), v.clone()), VariableScope::Local)),
            );
        }
        if scope != Some(VariableScope::Local) {
            if let Some(instance) = self.store.get_instance(task.instance_id).await? {
                for (n, v) in instance.variables {
                    if scope.is_some() || !task.variables.contains_key(&n) {
                        out.push((Variable::new(n, v), VariableScope::Global));
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn set_task_variables(
        &self,
        id: TaskId,
        scope: VariableScope,
        variables: Vec<Variable>,
        mode: SetMode,
    ) -> Result<Vec<(Variable, VariableScope)>, CoreError> {
        match scope {
            VariableScope::Global => {
                let task = self.task(id).await?;
                self.store
                    .set_variables(task.instance_id, &variables, mode)
                    .await?;
            }
            VariableScope::Local => {
                self.change_task(id, |task| {
                    let mut t = task.clone();
                    for v in &variables {
                        let exists = t.variables.contains_key(&v.name);
                        if mode == SetMode::Create && exists {
                            return Err(CoreError::Conflict(Clash::TaskVariableExists {
                                task: id,
                                name: v.name.clone(),
                            }));
                        }
                        if mode == SetMode::Update && !exists {
                            return Err(CoreError::NotFound(Missing::TaskVariable {
                                task: id,
                                name: v.name.clone(),
                            }));
                        }
                    }
                    // Checked against the variables before the call, as Flowable does; then
                    // written in one sorted merge (a repeated name: the last value).
                    t.variables
                        .extend(variables.iter().map(|v| (v.name.clone(), v.value.clone())));
                    Ok(t)
                })
                .await?;
            }
        }
        Ok(variables.into_iter().map(|v| (v, scope)).collect())
    }

    pub(super) async fn delete_task_variable(
        &self,
        id: TaskId,
        scope: VariableScope,
        name: String,
    ) -> Result<(), CoreError> {
        let missing = || {
            CoreError::NotFound(Missing::TaskVariable {
                task: id,
                name: name.clone(),
            })
        };
        match scope {
            VariableScope::Global => {
                let task = self.task(id).await?;
                self.store
                    .delete_variables(task.instance_id, Some(&name))
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound(Missing::Variable { .. }) => missing(),
                        other => other.into(),
                    })
            }
            VariableScope::Local => {
                self.change_task(id, |task| {
                    let mut t = task.clone();
                    t.variables.remove(&name).ok_or_else(missing)?;
                    Ok(t)
                })
                .await?;
                Ok(())
            }
        }
    }
}

impl Engine {
    /// An open instance and the open activity records of its wait states (its paths).
    pub(super) async fn executions(
        &self,
        id: InstanceId,
        key: Option<&str>,
        activity_id: Option<&str>,
    ) -> Result<Outcome, CoreError> {
        let instance = self.open(id).await?;
        let waits: Vec<ActivityView> = self
            .activity_views(&instance)
            .await?
            .into_iter()
            .filter(|v| v.record.end_time.is_none())
            .filter(|v| {
                v.definition
                    .activity(&v.record.activity_id)
                    .is_some_and(|a| a.kind.is_wait_state())
            })
            .filter(|v| key.is_none_or(|k| v.record.key == k))
            .filter(|v| activity_id.is_none_or(|a| v.record.activity_id == a))
            .collect();
        let view = self.view(instance);
        if let Some(k) = key {
            if waits.is_empty() {
                return Err(CoreError::NotFound(Missing::Execution(format!("{id}.{k}"))));
            }
        }
        Ok(Outcome::Executions {
            instance: view,
            waits,
        })
    }

    /// Moves on the path waiting at a receive task (`key` its activity record; empty for the
    /// instance's root execution, which waits nowhere): like completing a task, without one.
    /// Answers the instance and where the path waits next (nothing when it ended).
    pub(super) async fn trigger(
        &self,
        id: InstanceId,
        key: &str,
        variables: Vec<Variable>,
        transient: Vec<Variable>,
        ctx: &RequestCtx,
    ) -> Result<Outcome, CoreError> {
        let missing = || CoreError::NotFound(Missing::Execution(format!("{id}.{key}")));
        if key.is_empty() {
            return Err(CoreError::invalid(format!(
                "Execution '{id}' is the process instance itself; trigger the execution waiting at the activity"
            )));
        }
        for _ in 0..ATTEMPTS {
            let instance = self.open(id).await?;
            let definition = self.definition_for(&instance);
            let record = self
                .store
                .activity_history(id)
                .await?
                .into_iter()
                .find(|r| r.key == key && r.end_time.is_none())
                .ok_or_else(missing)?;
            match definition.activity(&record.activity_id).map(|a| &a.kind) {
                Some(ActivityKind::ReceiveTask) => {}
                Some(ActivityKind::UserTask) => {
                    return Err(CoreError::invalid(format!(
                        "Execution '{id}.{key}' waits at a user task: complete the task instead."
                    )))
                }
                _ => return Err(missing()),
            }
            let mut seen = instance.variables.clone();
            seen.extend(
                variables
                    .iter()
                    .chain(&transient)
                    .map(|v| (v.name.clone(), v.value.clone())),
            );
            let step =
                run::leave(&definition, &instance.tokens, &record.activity_id, &seen).map_err(failure)?;
            let mut new_tasks = create(&definition, id, &step.new_tasks, &seen, ctx)?;
            let mut activities = step.records(&definition, instance.revision + 1, ctx.now, &mut new_tasks);
            // Where the path waits next (Flowable's execution goes on there).
            let next: Vec<ActivityRecord> = activities
                .iter()
                .filter(|r| r.end_time.is_none())
                .cloned()
                .collect();
            activities.push(ActivityRecord {
                end_time: Some(ctx.now),
                ..record
            });
            let commit = Commit {
                id,
                revision: instance.revision,
                progress: Some(progress(step, &definition, ctx.now)),
                variables: variables.clone(),
                links: participants(&new_tasks),
                tasks: new_tasks,
                activities,
                business_status: None,
            };
            match self.store.commit(&commit).await {
                Ok((after, tasks)) => {
                    let waits = next
                        .into_iter()
                        .map(|record| ActivityView {
                            instance_id: id,
                            tenant_id: after.tenant_id.clone(),
                            task: tasks
                                .iter()
                                .find(|t| t.activity_instance.as_deref() == Some(record.key.as_str()))
                                .cloned(),
                            record,
                            definition: definition.clone(),
                        })
                        .collect();
                    return Ok(Outcome::Executions {
                        instance: self.view(after),
                        waits,
                    });
                }
                Err(StoreError::Conflict(Clash::Stale(_))) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Conflict(Clash::Stale(id)))
    }
}
