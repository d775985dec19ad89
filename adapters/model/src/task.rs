//! User tasks: the work items a process instance waits on, and the queries over them.
//!
//! A task is created when an instance enters a user task and ends when it is completed or
//! its instance ends. Ended tasks stay readable (history). Task ids come from the same
//! sequence as instance ids, so no task id is ever an instance id.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::instance::{Identity, IdentityLink, InstanceId};
use crate::query::{id_string_cmp, SortOrder, TextMatch, VariableFilter};
use crate::time::Timestamp;
use crate::variable::Variables;

/// The store-wide unique integer id of a task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TaskId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<InstanceId>().map(|i| TaskId(i.0))
    }
}

/// Where a delegated task stands (Flowable's `DelegationState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DelegationState {
    /// Delegated to the assignee; goes back to the owner when resolved.
    Pending,
    /// Back with the owner.
    Resolved,
}

/// The link type of candidate users and groups.
pub const CANDIDATE_LINK: &str = "candidate";

/// The priority a task gets when its definition names none (Flowable's default).
pub const DEFAULT_PRIORITY: i32 = 50;

/// A user task of an instance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Task {
    /// Assigned by the store when the task is first written; ignored on a new task.
    pub id: TaskId,
    pub instance_id: InstanceId,
    pub definition_id: String,
    pub definition_key: String,
    pub tenant_id: String,
    /// The user task's activity id in the definition.
    pub task_definition_key: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub assignee: Option<String>,
    pub owner: Option<String>,
    pub delegation_state: Option<DelegationState>,
    /// Candidate users and groups, sorted, without duplicates.
    pub candidates: Vec<Identity>,
    /// Identity links of other types than `candidate` (added through the API), sorted.
    #[serde(default)]
    pub links: Vec<IdentityLink>,
    pub priority: i32,
    pub create_time: Timestamp,
    pub claim_time: Option<Timestamp>,
    pub due_date: Option<Timestamp>,
    pub category: Option<String>,
    pub form_key: Option<String>,
    /// Follows the instance: a task of a suspended instance is suspended.
    pub suspended: bool,
    /// Set when the task ended (completed, or its instance ended).
    pub end_time: Option<Timestamp>,
    /// Why it ended without being completed (the instance's delete reason).
    pub delete_reason: Option<String>,
    /// Task-local variables.
    pub variables: Variables,
    /// The key of the activity record the task belongs to (see `ActivityRecord`).
    #[serde(default)]
    pub activity_instance: Option<String>,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.end_time.is_none()
    }

    /// Every stored identity link: the candidates (type `candidate`), then the others.
    pub fn identity_links(&self) -> Vec<IdentityLink> {
        let mut all: Vec<IdentityLink> = self
            .candidates
            .iter()
            .map(|c| IdentityLink {
                identity: c.clone(),
                link_type: CANDIDATE_LINK.into(),
            })
            .collect();
        all.extend(self.links.iter().cloned());
        all
    }

    /// Adds a link (candidates by type); answers whether it was new.
    pub fn add_link(&mut self, link: IdentityLink) -> bool {
        if link.link_type == CANDIDATE_LINK {
            match self.candidates.binary_search(&link.identity) {
                Ok(_) => false,
                Err(at) => {
                    self.candidates.insert(at, link.identity);
                    true
                }
            }
        } else {
            match self.links.binary_search(&link) {
                Ok(_) => false,
                Err(at) => {
                    self.links.insert(at, link);
                    true
                }
            }
        }
    }

    /// Removes a link; answers whether it was there.
    pub fn remove_link(&mut self, link: &IdentityLink) -> bool {
        if link.link_type == CANDIDATE_LINK {
            let before = self.candidates.len();
            self.candidates.retain(|c| c != &link.identity);
            before != self.candidates.len()
        } else {
            let before = self.links.len();
            self.links.retain(|l| l != link);
            before != self.links.len()
        }
    }

    pub fn is_candidate_user(&self, user: &str) -> bool {
        self.candidates
            .iter()
            .any(|c| matches!(c, Identity::User(u) if u == user))
    }

    pub fn is_candidate_group(&self, group: &str) -> bool {
        self.candidates
            .iter()
            .any(|c| matches!(c, Identity::Group(g) if g == group))
    }

    /// Assignee, owner or candidate user.
    pub fn involves(&self, user: &str) -> bool {
        self.assignee.as_deref() == Some(user)
            || self.owner.as_deref() == Some(user)
            || self.is_candidate_user(user)
    }
}

/// Which tasks a query selects. Every field is a conjunct; `None` means "any".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskFilter {
    pub id: Option<TaskId>,
    pub instance_id: Option<InstanceId>,
    /// Any of these instances (the engine resolves instance-level filters such as a
    /// business key into this list).
    pub instance_ids: Option<Vec<InstanceId>>,
    pub name: Option<TextMatch>,
    pub description: Option<TextMatch>,
    pub task_definition_key: Option<TextMatch>,
    pub definition_key: Option<TextMatch>,
    pub definition_id: Option<String>,
    /// Any of these definition ids (the engine resolves `definition_name` into it).
    #[serde(default)]
    pub definition_ids: Option<Vec<String>>,
    /// The instance's business key and the definition's name: not matched here; the engine
    /// resolves them into `instance_ids` and `definition_ids` before the store sees the query.
    #[serde(default)]
    pub business_key: Option<TextMatch>,
    #[serde(default)]
    pub definition_name: Option<TextMatch>,
    /// Conditions on the task's own variables.
    #[serde(default)]
    pub variables: Vec<VariableFilter>,
    /// Conditions on its instance's variables: resolved by the engine into `instance_ids`.
    #[serde(default)]
    pub instance_variables: Vec<VariableFilter>,
    pub assignee: Option<TextMatch>,
    pub owner: Option<TextMatch>,
    /// `Some(true)`: only tasks without an assignee; `Some(false)`: only assigned ones.
    pub unassigned: Option<bool>,
    pub delegation_state: Option<DelegationState>,
    /// A candidate user, or a member of a candidate group in `candidate_groups`, of an
    /// unassigned task.
    pub candidate_user: Option<String>,
    /// Unassigned tasks with any of these candidate groups.
    pub candidate_groups: Option<Vec<String>>,
    pub involved_user: Option<String>,
    pub priority: Option<i32>,
    pub min_priority: Option<i32>,
    pub max_priority: Option<i32>,
    pub created_before: Option<Timestamp>,
    pub created_after: Option<Timestamp>,
    pub due_before: Option<Timestamp>,
    pub due_after: Option<Timestamp>,
    #[serde(default)]
    pub ended_before: Option<Timestamp>,
    #[serde(default)]
    pub ended_after: Option<Timestamp>,
    #[serde(default)]
    pub delete_reason: Option<TextMatch>,
    pub without_due_date: bool,
    pub suspended: Option<bool>,
    pub tenant_id: Option<TextMatch>,
    pub without_tenant: bool,
    pub category: Option<TextMatch>,
    /// `None`: open tasks only; `Some(true)`: ended only; `Some(false)`: open only.
    /// `all` overrides it and selects both.
    pub finished: Option<bool>,
    pub all: bool,
    /// A condition no task can meet: the query answers nothing.
    pub impossible: bool,
}

impl TaskFilter {
    pub fn matches(&self, t: &Task) -> bool {
        let text = |m: &Option<TextMatch>, v: Option<&str>| m.as_ref().is_none_or(|m| m.matches(v));
        let finished_ok = self.all || (self.finished == Some(true)) != t.is_open();
        let candidate_ok = match (&self.candidate_user, &self.candidate_groups) {
            (None, None) => true,
            (user, groups) => {
                t.assignee.is_none()
                    && (user.as_ref().is_some_and(|u| t.is_candidate_user(u))
                        || groups
                            .as_ref()
                            .is_some_and(|gs| gs.iter().any(|g| t.is_candidate_group(g))))
            }
        };
        !self.impossible
            && finished_ok
            && self.id.is_none_or(|id| t.id == id)
            && self.instance_id.is_none_or(|id| t.instance_id == id)
            && self
                .instance_ids
                .as_ref()
                .is_none_or(|l| l.contains(&t.instance_id))
            && text(&self.name, t.name.as_deref())
            && text(&self.description, t.description.as_deref())
            && text(&self.task_definition_key, Some(&t.task_definition_key))
            && text(&self.definition_key, Some(&t.definition_key))
            && self.definition_id.as_ref().is_none_or(|d| &t.definition_id == d)
            && self
                .definition_ids
                .as_ref()
                .is_none_or(|l| l.contains(&t.definition_id))
            && text(&self.assignee, t.assignee.as_deref())
            && text(&self.owner, t.owner.as_deref())
            && self.unassigned.is_none_or(|u| t.assignee.is_none() == u)
            && self
                .delegation_state
                .is_none_or(|d| t.delegation_state == Some(d))
            && candidate_ok
            && self.involved_user.as_ref().is_none_or(|u| t.involves(u))
            && self.priority.is_none_or(|p| t.priority == p)
            && self.min_priority.is_none_or(|p| t.priority >= p)
            && self.max_priority.is_none_or(|p| t.priority <= p)
            && self.created_before.is_none_or(|x| t.create_time < x)
            && self.created_after.is_none_or(|x| t.create_time > x)
            && self.due_before.is_none_or(|x| t.due_date.is_some_and(|d| d < x))
            && self.due_after.is_none_or(|x| t.due_date.is_some_and(|d| d > x))
            && (!self.without_due_date || t.due_date.is_none())
            && self
                .ended_before
                .is_none_or(|x| t.end_time.is_some_and(|e| e < x))
            && self.ended_after.is_none_or(|x| t.end_time.is_some_and(|e| e > x))
            && text(&self.delete_reason, t.delete_reason.as_deref())
            && self.suspended.is_none_or(|s| t.suspended == s)
            && text(&self.tenant_id, Some(&t.tenant_id))
            && (!self.without_tenant || t.tenant_id.is_empty())
            && text(&self.category, t.category.as_deref())
            && self.variables.iter().all(|f| f.matches(&t.variables))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskSort {
    #[default]
    Id,
    Name,
    Description,
    Owner,
    Priority,
    Assignee,
    CreateTime,
    DueDate,
    InstanceId,
    TenantId,
    EndTime,
    /// End time minus create time (open tasks have none and sort first).
    Duration,
    DefinitionId,
    DeleteReason,
    TaskDefinitionKey,
}

/// A page request over tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: TaskSort,
    pub order: SortOrder,
    pub start: usize,
    pub size: usize,
    /// Whether items should carry their instance's variables.
    pub include_process_variables: bool,
    /// Whether items should carry their own (task-local) variables.
    #[serde(default)]
    pub include_local_variables: bool,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            filter: TaskFilter::default(),
            sort: TaskSort::Id,
            order: SortOrder::Asc,
            start: 0,
            size: 10,
            include_process_variables: false,
            include_local_variables: false,
        }
    }
}

impl TaskQuery {
    /// Total order every store uses: the sort key, then the id in string order.
    pub fn compare(&self, a: &Task, b: &Task) -> Ordering {
        let primary = match self.sort {
            TaskSort::Id => Ordering::Equal,
            TaskSort::Name => a.name.cmp(&b.name),
            TaskSort::Description => a.description.cmp(&b.description),
            TaskSort::Owner => a.owner.cmp(&b.owner),
            TaskSort::Priority => a.priority.cmp(&b.priority),
            TaskSort::Assignee => a.assignee.cmp(&b.assignee),
            TaskSort::CreateTime => a.create_time.cmp(&b.create_time),
            TaskSort::DueDate => a.due_date.cmp(&b.due_date),
            TaskSort::InstanceId => id_string_cmp(a.instance_id, b.instance_id),
            TaskSort::TenantId => a.tenant_id.cmp(&b.tenant_id),
            TaskSort::EndTime => a.end_time.cmp(&b.end_time),
            TaskSort::Duration => {
                let d = |t: &Task| t.end_time.map(|e| e.0 - t.create_time.0);
                d(a).cmp(&d(b))
            }
            TaskSort::DefinitionId => a.definition_id.cmp(&b.definition_id),
            TaskSort::DeleteReason => a.delete_reason.cmp(&b.delete_reason),
            TaskSort::TaskDefinitionKey => a.task_definition_key.cmp(&b.task_definition_key),
        };
        let o = primary.then_with(|| id_string_cmp(InstanceId(a.id.0), InstanceId(b.id.0)));
        match self.order {
            SortOrder::Asc => o,
            SortOrder::Desc => o.reverse(),
        }
    }
}

/// Which activity records a history query selects: those of the listed instances, narrowed by
/// the other fields (`None` means any).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActivityQuery {
    pub instance_ids: Vec<InstanceId>,
    /// `<instance id>.<record key>`, as dialects show an activity instance's id.
    pub id: Option<String>,
    pub activity_id: Option<String>,
    pub activity_name: Option<String>,
    pub activity_type: Option<String>,
    pub finished: Option<bool>,
    pub task_assignee: Option<String>,
    pub definition_id: Option<String>,
    pub tenant_id: Option<TextMatch>,
    pub without_tenant: bool,
    pub sort: ActivitySort,
    pub order: SortOrder,
    pub start: usize,
    pub size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActivitySort {
    /// Start time, then the order entered.
    #[default]
    StartTime,
    EndTime,
    Duration,
    ActivityId,
    ActivityName,
    ActivityType,
    InstanceId,
    Id,
    TenantId,
}

/// Which variables of a task a command means: its own, its instance's, or both (local first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VariableScope {
    Local,
    Global,
}
