//! Tasks (`runtime/tasks`) and history (`history/historic-process-instances`): parsing and
//! rendering of the resources that follow an instance past its start.
//!
//! Sources: `TaskCollectionResource`, `TaskBaseResource`, `TaskResource`, `TaskActionRequest`,
//! `TaskResponse`, `HistoricProcessInstanceCollectionResource`, `HistoricProcessInstanceResponse`
//! and `RestResponseFactory` in flowable-engine `modules/flowable-rest`.

use bpm_compat_model::{
    ActivityQuery, ActivitySort, ActivityView, ClaimTask, Command, CompleteTask, CoreError, DelegateTask,
    DelegationState, Identity, IdentityLink, InstanceFilter, InstanceQuery, InstanceSort, InstanceState,
    InstanceView, Missing, RequestCtx, TaskFilter, TaskId, TaskQuery, TaskRef, TaskSort, TaskView, Timestamp,
    UpdateTask, Variable, VariableScope,
};
use serde_json::Value;

use crate::ids::{filter_instance_id, render_instance_id};
use crate::parse::{date_filter, listing, named_variables, rest_variable_list, texts, Listing, Params};
use crate::render::{definition_url, instance_url, variable_data_url};
use crate::routes::ListShape;
use crate::variables::to_rest;
use crate::wire::{
    HistoricActivityInstanceResponse, HistoricProcessInstanceResponse, HistoricTaskInstanceResponse,
    RestIdentityLink, RestIdentityLinkRequest, RestVariable, RestVariableRequest, TaskActionRequest,
    TaskResponse,
};

pub fn parse_task_id(text: &str) -> Result<TaskId, CoreError> {
    text.parse::<TaskId>()
        .map_err(|_| CoreError::NotFound(Missing::TaskText(text.to_string())))
}

pub fn task_url(base: &str, id: TaskId) -> String {
    format!("{base}/runtime/tasks/{id}")
}

pub fn historic_instance_url(base: &str, id: bpm_compat_model::InstanceId) -> String {
    format!(
        "{base}/history/historic-process-instances/{}",
        render_instance_id(id)
    )
}

/// An "on" date and a "before"/"after" pair (`createdOn`, `createdBefore`, `createdAfter`):
/// "on" is the one millisecond, as a before/after pair around it; explicit bounds win.
fn date_range(
    p: &Params,
    [on, before, after]: [&str; 3],
    lo_before: &mut Option<Timestamp>,
    hi_after: &mut Option<Timestamp>,
) -> Result<(), CoreError> {
    if let Some(t) = date_param(p, on)? {
        *hi_after = Some(Timestamp(t.0 - 1));
        *lo_before = Some(Timestamp(t.0 + 1));
    }
    if let Some(t) = date_param(p, before)? {
        *lo_before = Some(t);
    }
    if let Some(t) = date_param(p, after)? {
        *hi_after = Some(t);
    }
    Ok(())
}

fn date_param(p: &Params, name: &str) -> Result<Option<Timestamp>, CoreError> {
    date_filter(p.get(name).map(|v| Value::String(v.to_owned())))
}

fn int_param(p: &Params, name: &str) -> Result<Option<i32>, CoreError> {
    p.get(name)
        .map(|v| {
            v.trim().parse::<i32>().map_err(|_| {
                CoreError::invalid(format!("Value for param '{name}' is not a valid number: '{v}'"))
            })
        })
        .transpose()
}

/// `GET runtime/tasks`: the query and what the envelope echoes.
pub fn task_query(p: &Params) -> Result<(TaskQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "id", |key| {
        Some(match key {
            "id" => TaskSort::Id,
            "name" => TaskSort::Name,
            "description" => TaskSort::Description,
            "dueDate" => TaskSort::DueDate,
            "createTime" => TaskSort::CreateTime,
            "priority" => TaskSort::Priority,
            // Without child executions a task's execution is its process instance.
            "executionId" | "processInstanceId" => TaskSort::InstanceId,
            "tenantId" => TaskSort::TenantId,
            "assignee" => TaskSort::Assignee,
            "owner" => TaskSort::Owner,
            _ => return None,
        })
    })?;
    let mut f = TaskFilter::default();
    let mut impossible = false;
    let s = |name: &str| p.get(name).map(str::to_owned);
    if let Some(id) = s("taskId") {
        match id.parse::<TaskId>() {
            Ok(id) => f.id = Some(id),
            Err(_) => impossible = true,
        }
    }
    texts(
        &mut f.name,
        s("name"),
        s("nameLike"),
        s("nameLikeIgnoreCase"),
        &mut impossible,
    );
    texts(
        &mut f.description,
        s("description"),
        s("descriptionLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.assignee,
        s("assignee"),
        s("assigneeLike"),
        None,
        &mut impossible,
    );
    texts(&mut f.owner, s("owner"), s("ownerLike"), None, &mut impossible);
    texts(
        &mut f.task_definition_key,
        s("taskDefinitionKey"),
        s("taskDefinitionKeyLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.definition_key,
        s("processDefinitionKey"),
        s("processDefinitionKeyLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.tenant_id,
        s("tenantId"),
        s("tenantIdLike"),
        None,
        &mut impossible,
    );
    texts(&mut f.category, s("category"), None, None, &mut impossible);
    f.priority = int_param(p, "priority")?;
    f.min_priority = int_param(p, "minimumPriority")?;
    f.max_priority = int_param(p, "maximumPriority")?;
    // Flowable checks only that `unassigned` is present: even `false` selects unassigned tasks.
    if p.get("unassigned").is_some() {
        f.unassigned = Some(true);
    }
    if let Some(d) = p.get("delegationState") {
        f.delegation_state = Some(match d {
            "pending" => DelegationState::Pending,
            "resolved" => DelegationState::Resolved,
            other => {
                return Err(CoreError::invalid(format!(
                    "Illegal value for delegationState: {other}"
                )))
            }
        });
    }
    f.candidate_user = s("candidateUser");
    let mut groups: Vec<String> = Vec::new();
    if let Some(g) = s("candidateGroup") {
        groups.push(g);
    }
    if let Some(list) = p.get("candidateGroups").filter(|v| !v.is_empty()) {
        groups.extend(list.split(',').map(str::to_owned));
    }
    if !groups.is_empty() {
        f.candidate_groups = Some(groups);
    }
    f.involved_user = s("involvedUser");
    f.definition_id = s("processDefinitionId");
    for name in ["processInstanceId", "executionId"] {
        if let Some(id) = p.get(name) {
            match filter_instance_id(id) {
                Some(id) if f.instance_id.is_none_or(|x| x == id) => f.instance_id = Some(id),
                _ => impossible = true,
            }
        }
    }
    date_range(
        p,
        ["createdOn", "createdBefore", "createdAfter"],
        &mut f.created_before,
        &mut f.created_after,
    )?;
    date_range(
        p,
        ["dueDate", "dueBefore", "dueAfter"],
        &mut f.due_before,
        &mut f.due_after,
    )?;
    if let Some(active) = p.get("active") {
        f.suspended = Some(!active.eq_ignore_ascii_case("true"));
    }
    if p.get("withoutTenantId")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        f.without_tenant = true;
    }
    texts(
        &mut f.business_key,
        s("processInstanceBusinessKey"),
        s("processInstanceBusinessKeyLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.definition_name,
        s("processDefinitionName"),
        s("processDefinitionNameLike"),
        None,
        &mut impossible,
    );
    f.impossible = impossible;
    let include = |name: &str| p.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let query = TaskQuery {
        filter: f,
        sort,
        order,
        start,
        size,
        include_process_variables: include("includeProcessVariables"),
        include_local_variables: include("includeTaskLocalVariables"),
    };
    Ok((query, shape))
}

/// `POST runtime/tasks/{id}`: the action.
pub fn task_action(id: TaskId, body: TaskActionRequest, ctx: &RequestCtx) -> Result<Command, CoreError> {
    let action = body.action.clone().unwrap_or_else(|| "null".into());
    Ok(match action.as_str() {
        "complete" => Command::CompleteTask(CompleteTask {
            id,
            variables: named_variables(body.variables.unwrap_or_default(), "Variable name is required")?,
            transient_variables: named_variables(
                body.transient_variables.unwrap_or_default(),
                "Transient variable name is required",
            )?,
            user: ctx.user.clone(),
        }),
        "claim" => Command::ClaimTask(ClaimTask {
            id,
            user: body.assignee,
        }),
        "delegate" => match body.assignee {
            Some(assignee) => Command::DelegateTask(DelegateTask { id, assignee }),
            None => {
                return Err(CoreError::invalid(
                    "An assignee is required when delegating a task.",
                ))
            }
        },
        "resolve" => Command::ResolveTask(TaskRef { id }),
        other => return Err(CoreError::invalid(format!("Invalid action: '{other}'."))),
    })
}

pub fn task_response(view: &TaskView, ctx: &RequestCtx) -> TaskResponse {
    let t = &view.task;
    let base = ctx.base_url.as_str();
    let instance_id = render_instance_id(t.instance_id);
    let variables = process_variables(view, base);
    TaskResponse {
        id: t.id.to_string(),
        url: task_url(base, t.id),
        owner: t.owner.clone(),
        assignee: t.assignee.clone(),
        delegation_state: t.delegation_state.map(|d| match d {
            DelegationState::Pending => "pending",
            DelegationState::Resolved => "resolved",
        }),
        name: t.name.clone(),
        description: t.description.clone(),
        create_time: t.create_time.to_iso_millis(),
        due_date: t.due_date.map(|d| d.to_iso_millis()),
        priority: t.priority,
        suspended: t.suspended,
        claim_time: t.claim_time.map(|d| d.to_iso_millis()),
        task_definition_key: t.task_definition_key.clone(),
        scope_definition_id: None,
        scope_id: None,
        sub_scope_id: None,
        scope_type: None,
        propagated_stage_instance_id: None,
        tenant_id: t.tenant_id.clone(),
        category: t.category.clone(),
        form_key: t.form_key.clone(),
        parent_task_id: None,
        parent_task_url: None,
        execution_url: crate::executions::execution_url(base, &execution_id(t)),
        execution_id: execution_id(t),
        process_instance_id: instance_id,
        process_instance_url: instance_url(base, t.instance_id),
        process_definition_id: t.definition_id.clone(),
        process_definition_url: definition_url(base, &t.definition_id),
        variables,
    }
}

/// The execution a task waits in: the path at its activity (`<instance>.<record key>`), or
/// the instance itself for a task without an activity record.
fn execution_id(t: &bpm_compat_model::Task) -> String {
    match &t.activity_instance {
        Some(key) => format!("{}.{key}", render_instance_id(t.instance_id)),
        None => render_instance_id(t.instance_id),
    }
}

/// The instance variables a task view carries (when asked for), as global variables.
fn process_variables(view: &TaskView, base: &str) -> Vec<RestVariable> {
    let global = view.process_variables.iter().flatten().map(|(name, value)| {
        let v = Variable::new(name.clone(), value.clone());
        to_rest(&v, Some("global"), || {
            variable_data_url(base, view.task.instance_id, name)
        })
    });
    let local = view.local_variables.iter().flatten().map(|(name, value)| {
        task_variable(
            base,
            view.task.id,
            &Variable::new(name.clone(), value.clone()),
            VariableScope::Local,
        )
    });
    global.chain(local).collect()
}

/// `GET history/historic-process-instances`: the query (over running and ended instances)
/// and what the envelope echoes.
pub fn historic_instance_query(p: &Params) -> Result<(InstanceQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "processInstanceId", |key| {
        Some(match key {
            "processInstanceId" => InstanceSort::Id,
            "processDefinitionId" => InstanceSort::DefinitionId,
            "businessKey" => InstanceSort::BusinessKey,
            "startTime" => InstanceSort::StartTime,
            "tenantId" => InstanceSort::TenantId,
            "endTime" => InstanceSort::EndTime,
            "duration" => InstanceSort::Duration,
            _ => return None,
        })
    })?;
    let s = |name: &str| p.get(name).map(str::to_owned);
    let mut f = InstanceFilter {
        states: match p.get("finished") {
            Some(v) if v.eq_ignore_ascii_case("true") => CLOSED.to_vec(),
            Some(_) => vec![InstanceState::Active, InstanceState::Suspended],
            None => InstanceState::ALL.to_vec(),
        },
        ..InstanceFilter::default()
    };
    let mut impossible = false;
    if let Some(id) = p.get("processInstanceId") {
        match filter_instance_id(id) {
            Some(id) => f.ids = Some(vec![id]),
            None => impossible = true,
        }
    }
    texts(
        &mut f.name,
        s("processInstanceName"),
        s("processInstanceNameLike"),
        s("processInstanceNameLikeIgnoreCase"),
        &mut impossible,
    );
    texts(
        &mut f.definition_key,
        s("processDefinitionKey"),
        s("processDefinitionKeyLike"),
        s("processDefinitionKeyLikeIgnoreCase"),
        &mut impossible,
    );
    texts(
        &mut f.business_key,
        s("businessKey"),
        s("businessKeyLike"),
        s("businessKeyLikeIgnoreCase"),
        &mut impossible,
    );
    texts(
        &mut f.tenant_id,
        s("tenantId"),
        s("tenantIdLike"),
        s("tenantIdLikeIgnoreCase"),
        &mut impossible,
    );
    if let Some(id) = s("processDefinitionId") {
        f.definition_ids = Some(vec![id]);
    }
    f.started_by = s("startedBy");
    f.involved_user = s("involvedUser");
    f.started_before = date_param(p, "startedBefore")?;
    f.started_after = date_param(p, "startedAfter")?;
    f.finished_before = date_param(p, "finishedBefore")?;
    f.finished_after = date_param(p, "finishedAfter")?;
    if let Some(a) = s("activeActivityId") {
        f.activity_ids = Some(vec![a]);
    }
    if p.get("withoutTenantId")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        f.without_tenant = true;
    }
    // No call activities: no instance has a super process instance.
    if p.get("superProcessInstanceId").is_some() {
        impossible = true;
    }
    f.impossible = impossible;
    let include = p
        .get("includeProcessVariables")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok((
        InstanceQuery {
            filter: f,
            sort,
            order,
            start,
            size,
            with_details: include,
        },
        ListShape {
            variables: include.then_some(None),
            ..shape
        },
    ))
}

const CLOSED: [InstanceState; 4] = [
    InstanceState::Completed,
    InstanceState::Failed,
    InstanceState::FailedEscalated,
    InstanceState::Terminated,
];

pub fn historic_instance_response(
    view: &InstanceView,
    ctx: &RequestCtx,
    variables: &[Variable],
) -> HistoricProcessInstanceResponse {
    let i = &view.instance;
    let d = &view.definition;
    let base = ctx.base_url.as_str();
    HistoricProcessInstanceResponse {
        id: render_instance_id(i.id),
        url: historic_instance_url(base, i.id),
        name: i.name.clone(),
        business_key: i.business_key.clone(),
        business_status: i.business_status.clone(),
        process_definition_id: i.definition_id.clone(),
        process_definition_url: definition_url(base, &i.definition_id),
        process_definition_name: d.name.clone(),
        process_definition_description: d.description.clone(),
        start_time: i.start_time.to_iso_millis(),
        end_time: i.end_time.map(|t| t.to_iso_millis()),
        duration_in_millis: i.end_time.map(|t| t.0 - i.start_time.0),
        start_user_id: i.start_user_id.clone(),
        end_user_id: None,
        state: Some(match i.state {
            InstanceState::Active | InstanceState::Suspended => "running",
            InstanceState::Completed => "completed",
            InstanceState::Failed | InstanceState::FailedEscalated | InstanceState::Terminated => {
                "terminated"
            }
        }),
        start_activity_id: i.start_activity_id.clone(),
        end_activity_id: i.end_activity_id.clone(),
        delete_reason: i.delete_reason.clone(),
        super_process_instance_id: None,
        variables: variables
            .iter()
            .map(|v| {
                to_rest(v, Some("local"), || {
                    format!("{}/variables/{}/data", historic_instance_url(base, i.id), v.name)
                })
            })
            .collect(),
        callback_id: None,
        callback_type: None,
        reference_id: None,
        reference_type: None,
        propagated_stage_instance_id: None,
        tenant_id: i.tenant_id.clone(),
    }
}

pub fn historic_task_url(base: &str, id: TaskId) -> String {
    format!("{base}/history/historic-task-instances/{id}")
}

/// `GET history/historic-task-instances`: running and ended tasks.
pub fn historic_task_query(p: &Params) -> Result<(TaskQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "taskInstanceId", |key| {
        Some(match key {
            "taskInstanceId" => TaskSort::Id,
            "deleteReason" => TaskSort::DeleteReason,
            "duration" => TaskSort::Duration,
            "endTime" => TaskSort::EndTime,
            "executionId" | "processInstanceId" => TaskSort::InstanceId,
            "processDefinitionId" => TaskSort::DefinitionId,
            "start" | "startTime" => TaskSort::CreateTime,
            "assignee" => TaskSort::Assignee,
            "taskDefinitionKey" => TaskSort::TaskDefinitionKey,
            "description" => TaskSort::Description,
            "dueDate" => TaskSort::DueDate,
            "name" => TaskSort::Name,
            "owner" => TaskSort::Owner,
            "priority" => TaskSort::Priority,
            "tenantId" => TaskSort::TenantId,
            _ => return None,
        })
    })?;
    let s = |name: &str| p.get(name).map(str::to_owned);
    let mut f = TaskFilter {
        all: p.get("finished").is_none(),
        finished: p.get("finished").map(|v| v.eq_ignore_ascii_case("true")),
        ..TaskFilter::default()
    };
    let mut impossible = false;
    if let Some(id) = s("taskId") {
        match id.parse::<TaskId>() {
            Ok(id) => f.id = Some(id),
            Err(_) => impossible = true,
        }
    }
    if let Some(id) = p.get("processInstanceId") {
        match filter_instance_id(id) {
            Some(id) => f.instance_id = Some(id),
            None => impossible = true,
        }
    }
    texts(
        &mut f.definition_key,
        s("processDefinitionKey"),
        s("processDefinitionKeyLike"),
        None,
        &mut impossible,
    );
    f.definition_id = s("processDefinitionId");
    texts(
        &mut f.name,
        s("taskName"),
        s("taskNameLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.description,
        s("taskDescription"),
        s("taskDescriptionLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.task_definition_key,
        s("taskDefinitionKey"),
        None,
        None,
        &mut impossible,
    );
    texts(&mut f.category, s("taskCategory"), None, None, &mut impossible);
    texts(
        &mut f.delete_reason,
        s("taskDeleteReason"),
        s("taskDeleteReasonLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.assignee,
        s("taskAssignee"),
        s("taskAssigneeLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.owner,
        s("taskOwner"),
        s("taskOwnerLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.tenant_id,
        s("tenantId"),
        s("tenantIdLike"),
        None,
        &mut impossible,
    );
    f.involved_user = s("taskInvolvedUser");
    f.priority = int_param(p, "taskPriority")?;
    f.min_priority = int_param(p, "taskMinPriority")?;
    f.max_priority = int_param(p, "taskMaxPriority")?;
    if let Some(g) = s("taskCandidateGroup") {
        f.candidate_groups = Some(vec![g]);
    }
    date_range(
        p,
        ["dueDate", "dueDateBefore", "dueDateAfter"],
        &mut f.due_before,
        &mut f.due_after,
    )?;
    date_range(
        p,
        ["taskCreatedOn", "taskCreatedBefore", "taskCreatedAfter"],
        &mut f.created_before,
        &mut f.created_after,
    )?;
    date_range(
        p,
        ["taskCompletedOn", "taskCompletedBefore", "taskCompletedAfter"],
        &mut f.ended_before,
        &mut f.ended_after,
    )?;
    if p.get("withoutTenantId")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        f.without_tenant = true;
    }
    // No sub-tasks exist here.
    if p.get("parentTaskId").is_some() {
        impossible = true;
    }
    texts(
        &mut f.business_key,
        s("processBusinessKey"),
        s("processBusinessKeyLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.definition_name,
        s("processDefinitionName"),
        s("processDefinitionNameLike"),
        None,
        &mut impossible,
    );
    for unsupported in ["processFinished"] {
        if p.get(unsupported).is_some() {
            return Err(CoreError::invalid(format!(
                "Query parameter '{unsupported}' is not supported by bpm-compat yet."
            )));
        }
    }
    f.impossible = impossible;
    let include = p
        .get("includeProcessVariables")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok((
        TaskQuery {
            filter: f,
            sort,
            order,
            start,
            size,
            include_process_variables: include,
            include_local_variables: p
                .get("includeTaskLocalVariables")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        },
        shape,
    ))
}

pub fn historic_task_response(view: &TaskView, ctx: &RequestCtx) -> HistoricTaskInstanceResponse {
    let t = &view.task;
    let base = ctx.base_url.as_str();
    let instance_id = render_instance_id(t.instance_id);
    HistoricTaskInstanceResponse {
        id: t.id.to_string(),
        process_definition_id: t.definition_id.clone(),
        process_definition_url: definition_url(base, &t.definition_id),
        process_instance_id: instance_id.clone(),
        process_instance_url: historic_instance_url(base, t.instance_id),
        execution_id: execution_id(t),
        name: t.name.clone(),
        description: t.description.clone(),
        delete_reason: t.delete_reason.clone(),
        owner: t.owner.clone(),
        assignee: t.assignee.clone(),
        start_time: t.create_time.to_iso_millis(),
        end_time: t.end_time.map(|e| e.to_iso_millis()),
        duration_in_millis: t.end_time.map(|e| e.0 - t.create_time.0),
        work_time_in_millis: match (t.end_time, t.claim_time) {
            (Some(e), Some(c)) => Some(e.0 - c.0),
            _ => None,
        },
        claim_time: t.claim_time.map(|c| c.to_iso_millis()),
        task_definition_key: t.task_definition_key.clone(),
        form_key: t.form_key.clone(),
        priority: t.priority,
        due_date: t.due_date.map(|d| d.to_iso_millis()),
        parent_task_id: None,
        url: historic_task_url(base, t.id),
        variables: process_variables(view, base),
        scope_definition_id: None,
        scope_id: None,
        sub_scope_id: None,
        scope_type: None,
        propagated_stage_instance_id: None,
        tenant_id: t.tenant_id.clone(),
        category: t.category.clone(),
    }
}

/// `GET history/historic-activity-instances`. The records are kept per instance, so the query
/// must name the instances (`processInstanceId`, `processInstanceIds` or `executionId`).
pub fn historic_activity_query(p: &Params) -> Result<(ActivityQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "startTime", |key| {
        Some(match key {
            "startTime" => ActivitySort::StartTime,
            "endTime" => ActivitySort::EndTime,
            "duration" => ActivitySort::Duration,
            "activityId" => ActivitySort::ActivityId,
            "activityName" => ActivitySort::ActivityName,
            "activityType" => ActivitySort::ActivityType,
            "executionId" | "processInstanceId" | "processDefinitionId" => ActivitySort::InstanceId,
            "activityInstanceId" => ActivitySort::Id,
            "tenantId" => ActivitySort::TenantId,
            _ => return None,
        })
    })?;
    let s = |name: &str| p.get(name).map(str::to_owned);
    let mut named: Vec<&str> = Vec::new();
    for name in ["processInstanceId", "executionId"] {
        named.extend(p.get(name));
    }
    if let Some(list) = p.get("processInstanceIds").filter(|v| !v.is_empty()) {
        named.extend(list.split(','));
    }
    if named.is_empty() {
        return Err(CoreError::invalid(
            "bpm-compat keeps activity history per process instance: give processInstanceId, \
             processInstanceIds or executionId",
        ));
    }
    let mut instance_ids: Vec<_> = named.iter().filter_map(|t| filter_instance_id(t)).collect();
    instance_ids.sort();
    instance_ids.dedup();
    // Instance and execution ids name the same thing here; two different ones select nothing.
    if p.get("processInstanceId").is_some()
        && p.get("executionId").is_some()
        && p.get("processInstanceId") != p.get("executionId")
    {
        instance_ids.clear();
    }
    let mut tenant = None;
    let mut impossible = false;
    texts(
        &mut tenant,
        s("tenantId"),
        s("tenantIdLike"),
        None,
        &mut impossible,
    );
    if impossible || p.get("calledProcessInstanceIds").is_some() {
        instance_ids.clear();
    }
    Ok((
        ActivityQuery {
            instance_ids,
            id: s("activityInstanceId"),
            activity_id: s("activityId"),
            activity_name: s("activityName"),
            activity_type: s("activityType"),
            finished: p.get("finished").map(|v| v.eq_ignore_ascii_case("true")),
            task_assignee: s("taskAssignee"),
            definition_id: s("processDefinitionId"),
            tenant_id: tenant,
            without_tenant: p
                .get("withoutTenantId")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            sort,
            order,
            start,
            size,
        },
        shape,
    ))
}

pub fn historic_activity_response(v: &ActivityView, ctx: &RequestCtx) -> HistoricActivityInstanceResponse {
    let base = ctx.base_url.as_str();
    let r = &v.record;
    let instance_id = render_instance_id(v.instance_id);
    HistoricActivityInstanceResponse {
        id: v.id(),
        activity_id: r.activity_id.clone(),
        activity_name: v.activity_name().map(str::to_owned),
        activity_type: v.activity_type(),
        process_definition_id: v.definition.id.clone(),
        process_definition_url: definition_url(base, &v.definition.id),
        process_instance_id: instance_id.clone(),
        process_instance_url: historic_instance_url(base, v.instance_id),
        execution_id: v.id(),
        task_id: v.task.as_ref().map(|t| t.id.to_string()),
        called_process_instance_id: None,
        assignee: v.task.as_ref().and_then(|t| t.assignee.clone()),
        start_time: r.start_time.to_iso_millis(),
        end_time: r.end_time.map(|e| e.to_iso_millis()),
        duration_in_millis: r.end_time.map(|e| e.0 - r.start_time.0),
        tenant_id: v.tenant_id.clone(),
    }
}

/// `POST runtime/tasks/{id}/identitylinks`: Flowable's task wording of the checks.
pub fn task_link_body(body: RestIdentityLinkRequest) -> Result<IdentityLink, CoreError> {
    let user = body.user.or(body.user_id);
    let group = body.group.or(body.group_id);
    let link = match (user, group) {
        (None, None) => {
            return Err(CoreError::invalid(
                "A group or a user is required to create an identity link.",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(CoreError::invalid(
                "Only one of user or group can be used to create an identity link.",
            ))
        }
        (Some(u), None) => Identity::User(u),
        (None, Some(g)) => Identity::Group(g),
    };
    let Some(link_type) = body.link_type else {
        return Err(CoreError::invalid("The identity link type is required."));
    };
    Ok(IdentityLink {
        identity: link,
        link_type,
    })
}

/// A `scope` of the task variable resources: absent means both (reads) or local (writes).
pub fn task_scope(scope: Option<&str>) -> Result<Option<VariableScope>, CoreError> {
    match scope {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("local") => Ok(Some(VariableScope::Local)),
        Some(s) if s.eq_ignore_ascii_case("global") => Ok(Some(VariableScope::Global)),
        Some(s) => Err(CoreError::invalid(format!("Invalid variable scope: '{s}'"))),
    }
}

/// `POST runtime/tasks/{id}/variables`: a JSON array of variables of one scope (default local).
pub fn task_variables_body(raw: Value) -> Result<(Vec<Variable>, VariableScope), CoreError> {
    let list = rest_variable_list(raw)?;
    let mut shared: Option<VariableScope> = None;
    for v in &list {
        let scope = task_scope(v.scope.as_deref())?.unwrap_or(VariableScope::Local);
        if shared.is_some_and(|s| s != scope) {
            return Err(CoreError::invalid(
                "Only allowed to update multiple variables in the same scope.",
            ));
        }
        shared = Some(scope);
    }
    Ok((
        named_variables(list, "Variable name is required")?,
        shared.unwrap_or(VariableScope::Local),
    ))
}

/// `PUT runtime/tasks/{id}/variables/{name}`: one variable whose name is the URL's.
pub fn task_variable_body(
    body: RestVariableRequest,
    url_name: &str,
) -> Result<(Variable, VariableScope), CoreError> {
    let Some(name) = body.name.clone() else {
        return Err(CoreError::invalid("Variable name is required"));
    };
    if name != url_name {
        return Err(CoreError::invalid(
            "Variable name in the body should be equal to the name used in the requested URL.",
        ));
    }
    let scope = task_scope(body.scope.as_deref())?.unwrap_or(VariableScope::Local);
    let value = crate::variables::from_rest(&name, body.type_name.as_deref(), &body.value)?;
    Ok((Variable::new(name, value), scope))
}

/// `PUT runtime/tasks/{id}`: only the fields present in the body change; `null` clears one.
pub fn task_update(id: TaskId, body: Value) -> Result<Command, CoreError> {
    let Value::Object(map) = body else {
        return Err(CoreError::invalid("JSON parse error: expected a JSON object"));
    };
    let text = |name: &str| -> Result<Option<Option<String>>, CoreError> {
        match map.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(other) => Err(CoreError::invalid(format!(
                "JSON parse error: '{name}' must be text, not {other}"
            ))),
        }
    };
    let delegation_state = match text("delegationState")? {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => Some(Some(match d.as_str() {
            "pending" => DelegationState::Pending,
            "resolved" => DelegationState::Resolved,
            other => {
                return Err(CoreError::invalid(format!(
                    "Illegal value for delegationState: {other}"
                )))
            }
        })),
    };
    let due_date = match map.get("dueDate") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(date_filter(Some(v.clone()))?),
    };
    let priority = match map.get("priority") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().and_then(|p| i32::try_from(p).ok()).ok_or_else(|| {
            CoreError::invalid(format!(
                "JSON parse error: 'priority' must be an integer, not {v}"
            ))
        })?),
    };
    Ok(Command::UpdateTask(UpdateTask {
        id,
        name: text("name")?,
        description: text("description")?,
        assignee: text("assignee")?,
        owner: text("owner")?,
        delegation_state,
        due_date,
        priority,
        category: text("category")?,
        form_key: text("formKey")?,
    }))
}

pub fn task_link_url(base: &str, id: TaskId, link: &IdentityLink) -> String {
    let (family, who) = match &link.identity {
        Identity::User(u) => ("users", u),
        Identity::Group(g) => ("groups", g),
    };
    format!(
        "{}/identitylinks/{family}/{who}/{}",
        task_url(base, id),
        link.link_type
    )
}

pub fn task_link_response(base: &str, id: TaskId, link: &IdentityLink) -> RestIdentityLink {
    crate::render::rest_link(task_link_url(base, id, link), link)
}

pub fn task_variable(base: &str, id: TaskId, v: &Variable, scope: VariableScope) -> RestVariable {
    let scope_name = match scope {
        VariableScope::Local => "local",
        VariableScope::Global => "global",
    };
    to_rest(v, Some(scope_name), || {
        format!("{}/variables/{}/data", task_url(base, id), v.name)
    })
}
