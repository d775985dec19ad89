//! Process instances and their identity links.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::task::Task;
use crate::time::Timestamp;
use crate::variable::Variables;

/// The store-wide unique integer id of an instance. Every dialect renders it its own way and
/// parses it back (Flowable `"7"`, IBM `"@7"`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceId(pub u64);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for InstanceId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `u64::from_str` accepts a leading `+`; an id is digits only.
        if s.starts_with('+') {
            return "x".parse::<u64>().map(InstanceId);
        }
        s.parse().map(InstanceId)
    }
}

/// Lifecycle state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InstanceState {
    Active,
    Suspended,
    Completed,
    Failed,
    FailedEscalated,
    Terminated,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Active,
        InstanceState::Suspended,
        InstanceState::Completed,
        InstanceState::Failed,
        InstanceState::FailedEscalated,
        InstanceState::Terminated,
    ];

    /// Running or suspended: the instance still has a place in the runtime.
    pub fn is_open(self) -> bool {
        matches!(self, InstanceState::Active | InstanceState::Suspended)
    }
}

/// A user or a group involved in an instance, with the kind of involvement
/// (`starter`, `participant`, `candidate`, ... or any custom type).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdentityLink {
    pub identity: Identity,
    #[serde(rename = "type")]
    pub link_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identity {
    User(String),
    Group(String),
}

impl IdentityLink {
    pub fn user(user: impl Into<String>, link_type: impl Into<String>) -> IdentityLink {
        IdentityLink {
            identity: Identity::User(user.into()),
            link_type: link_type.into(),
        }
    }
    pub fn group(group: impl Into<String>, link_type: impl Into<String>) -> IdentityLink {
        IdentityLink {
            identity: Identity::Group(group.into()),
            link_type: link_type.into(),
        }
    }
}

/// The link type every dialect gives the user who started an instance.
pub const STARTER_LINK: &str = "starter";

/// A process instance as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessInstance {
    pub id: InstanceId,
    pub definition_id: String,
    pub definition_key: String,
    pub definition_version: u32,
    /// `""` is the default tenant.
    pub tenant_id: String,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub business_status: Option<String>,
    pub state: InstanceState,
    /// The activity the instance waits at (`None` once ended); with parallel paths, the
    /// first of `tokens` that is not a join.
    pub activity_id: Option<String>,
    /// Every activity a path of the instance waits at (wait states, and parallel joins that
    /// wait for their other incoming paths), in the order the paths arrived.
    pub tokens: Vec<String>,
    /// The start event the instance started from.
    pub start_activity_id: Option<String>,
    /// The end event that ended it, once completed.
    pub end_activity_id: Option<String>,
    /// Bumped by every engine step (a store commit) that moves the process or
    /// changes its tasks: the optimistic lock those steps check.
    pub revision: u64,
    pub start_time: Timestamp,
    pub end_time: Option<Timestamp>,
    pub start_user_id: Option<String>,
    pub due_date: Option<Timestamp>,
    pub claimed_by: Option<String>,
    pub claim_time: Option<Timestamp>,
    pub delete_reason: Option<String>,
    /// Which dialect created the instance (`flowable`, `ibm-bpm`, ...); informational.
    pub origin: Option<String>,
    pub variables: Variables,
    /// Sorted, without duplicates.
    pub identity_links: Vec<IdentityLink>,
}

impl ProcessInstance {
    /// Drops the variables and identity links, for a list that renders neither
    /// (`InstanceQuery::with_details`); [`ProcessInstance::without_details`] is the same for a
    /// copy.
    pub fn clear_details(&mut self) {
        self.variables = Variables::new();
        self.identity_links = Vec::new();
    }

    /// A copy without variables and identity links (see [`ProcessInstance::clear_details`]):
    /// cloning them was most of what such a copy cost.
    pub fn without_details(&self) -> ProcessInstance {
        ProcessInstance {
            id: self.id,
            definition_id: self.definition_id.clone(),
            definition_key: self.definition_key.clone(),
            definition_version: self.definition_version,
            tenant_id: self.tenant_id.clone(),
            name: self.name.clone(),
            business_key: self.business_key.clone(),
            business_status: self.business_status.clone(),
            state: self.state,
            activity_id: self.activity_id.clone(),
            tokens: self.tokens.clone(),
            start_activity_id: self.start_activity_id.clone(),
            end_activity_id: self.end_activity_id.clone(),
            revision: self.revision,
            start_time: self.start_time,
            end_time: self.end_time,
            start_user_id: self.start_user_id.clone(),
            due_date: self.due_date,
            claimed_by: self.claimed_by.clone(),
            claim_time: self.claim_time,
            delete_reason: self.delete_reason.clone(),
            origin: self.origin.clone(),
            variables: Variables::new(),
            identity_links: Vec::new(),
        }
    }

    pub fn is_involved(&self, user: &str) -> bool {
        self.identity_links
            .iter()
            .any(|l| matches!(&l.identity, Identity::User(u) if u == user))
    }
}

/// One activity an instance entered (Flowable's activity instance): when, and when it was
/// left. Kept per instance, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// Unique within the instance: `<revision>.<n>`, the step that entered it and its place
    /// in that step.
    pub key: String,
    pub activity_id: String,
    pub start_time: Timestamp,
    /// `None` while the instance waits there.
    pub end_time: Option<Timestamp>,
    /// What its client logged about it (an integration process's step); `None` for
    /// activities the engine ran.
    #[serde(default)]
    pub logged: Option<StepLog>,
}

/// A step instance as an integration process's client logs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLog {
    /// Which run of the step (a step in a loop runs more than once), from 1.
    pub iteration: u32,
    /// The status label (webMethods Monitor's: `Started`, `Completed`, `Failed` ...); no `|`.
    pub status: String,
}

/// What a start writes: everything of an instance but the id, which the store assigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewInstance {
    pub definition_id: String,
    pub definition_key: String,
    pub definition_version: u32,
    pub tenant_id: String,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub state: InstanceState,
    pub activity_id: Option<String>,
    pub tokens: Vec<String>,
    pub start_activity_id: Option<String>,
    pub end_activity_id: Option<String>,
    pub start_time: Timestamp,
    pub end_time: Option<Timestamp>,
    pub start_user_id: Option<String>,
    pub origin: Option<String>,
    pub variables: Variables,
    pub identity_links: Vec<IdentityLink>,
    /// The tasks the start created; written with the instance, ids assigned by the store.
    pub tasks: Vec<Task>,
    /// The activities the start passed through or waits at (history).
    pub activities: Vec<ActivityRecord>,
}

impl NewInstance {
    /// The instance as stored under `id`; its tasks are not part of it.
    pub fn with_id(self, id: InstanceId) -> ProcessInstance {
        let mut links = self.identity_links;
        links.sort();
        links.dedup();
        ProcessInstance {
            id,
            definition_id: self.definition_id,
            definition_key: self.definition_key,
            definition_version: self.definition_version,
            tenant_id: self.tenant_id,
            name: self.name,
            business_key: self.business_key,
            business_status: None,
            state: self.state,
            activity_id: self.activity_id,
            tokens: self.tokens,
            start_activity_id: self.start_activity_id,
            end_activity_id: self.end_activity_id,
            revision: 0,
            start_time: self.start_time,
            end_time: self.end_time,
            start_user_id: self.start_user_id,
            due_date: None,
            claimed_by: None,
            claim_time: None,
            delete_reason: None,
            origin: self.origin,
            variables: self.variables,
            identity_links: links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_digits_only() {
        assert_eq!("42".parse::<InstanceId>(), Ok(InstanceId(42)));
        assert!("+42".parse::<InstanceId>().is_err());
        assert!("-1".parse::<InstanceId>().is_err());
        assert!("4 2".parse::<InstanceId>().is_err());
        assert!("".parse::<InstanceId>().is_err());
    }
}

/// A note on an instance: a user's comment, or an error its client logged (an integration
/// process's `createProcessError`). Comments are never changed; their ids are
/// `<instance>-<n>`, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Assigned by the store.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub instance_id: InstanceId,
    pub time: Timestamp,
    pub author: Option<String>,
    /// `comment` or `error`.
    pub kind: String,
    pub message: String,
    /// Where an error happened (a service name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// An error's details (a stack trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// A product-information item (P360's `1@1`: item 1 of catalog 1) with its column values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item {
    /// `<item>@<catalog>`.
    pub id: String,
    /// The entity (`Article`, `Product2G`, …).
    pub entity: String,
    /// The entity's numeric id as the client gave it (`1000` for Article).
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Column values by column identifier (`Article.CurrentStatus`); a write merges them.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, String>,
}

impl Item {
    /// The catalog part of the id (after `@`).
    pub fn catalog(&self) -> &str {
        self.id.split_once('@').map_or("", |(_, c)| c)
    }
}
