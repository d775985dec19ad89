//! State behind a narrow, domain-level trait: one method per atomic engine step, so the Redis
//! implementation can make each one a single round trip and the memory implementation one
//! critical section.
//!
//! Dispatch is `Arc<dyn Store>` through `async_trait`: the store is chosen from configuration
//! at start-up, and one boxed future per call costs nothing next to a Redis round trip, while
//! a generic `S: Store` would spread a type parameter through the engine and the server.
//!
//! Rules every implementation keeps (checked by `tests/store_contract.rs` on both):
//! - ids are unique across the store and never reused;
//! - mutations address *open* instances (active or suspended) and answer
//!   `StoreError::NotFound(Missing::Instance)` for unknown or closed ones; reads see every
//!   instance;
//! - a failed precondition writes nothing;
//! - identity links are kept sorted and without duplicates, variables by name;
//! - tasks share the id sequence of instances and live with their instance: suspending an
//!   instance suspends its open tasks, closing it ends them;
//! - a [`Commit`] applies only while the instance is open, active, and still at the revision
//!   the engine read (optimistic locking, as Flowable's own engine does).

pub mod memory;
pub mod redis;

use async_trait::async_trait;
use bpm_compat_model::{
    ActivityRecord, Clash, Comment, Deployment, IdentityLink, InstanceId, InstanceQuery, InstanceState, Item,
    Missing, NewInstance, Page, ProcessDefinition, ProcessInstance, Resource, SetMode, Task, TaskId,
    TaskQuery, Timestamp, UpdateInstance, Variable,
};

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    NotFound(Missing),
    #[error(transparent)]
    Conflict(Clash),
    /// The backend did not answer or refused (connection lost, timeout, OOM ...).
    #[error("store backend failed: {0}")]
    Backend(String),
    /// Stored data that does not decode: a bug or a foreign writer.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<StoreError> for bpm_compat_model::CoreError {
    fn from(e: StoreError) -> Self {
        use bpm_compat_model::CoreError;
        match e {
            StoreError::NotFound(m) => CoreError::NotFound(m),
            StoreError::Conflict(c) => CoreError::Conflict(c),
            StoreError::Backend(message) => CoreError::Unavailable { message },
            StoreError::Corrupt(message) => CoreError::Internal { message },
        }
    }
}

/// How an instance ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    /// A closed state (`Completed`, `Terminated`, `Failed` ...).
    pub state: InstanceState,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// What a deployment writes: the deployment (its id is assigned), its files, and the
/// definitions parsed from them (ids and versions are assigned).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeployment {
    pub deployment: Deployment,
    pub resources: Vec<Resource>,
    pub definitions: Vec<ProcessDefinition>,
    /// Flowable's duplicate filtering: when the latest deployment of the same name in the
    /// tenant has exactly these resources, answer it instead of deploying again.
    pub dedupe: bool,
}

/// The answer to a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    pub deployment: Deployment,
    pub definitions: Vec<ProcessDefinition>,
    /// `false` when duplicate filtering answered an earlier deployment.
    pub created: bool,
}

/// Every deployment and definition (resource bytes are read one by one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Repository {
    pub deployments: Vec<Deployment>,
    pub definitions: Vec<ProcessDefinition>,
}

/// A fingerprint of a deployment's resources, for duplicate filtering (FNV-1a over names
/// and bytes, lengths included so no two lists collide by concatenation).
pub fn resources_digest(resources: &[Resource]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for r in resources {
        eat(r.name.as_bytes());
        eat(&r.bytes);
    }
    format!("{h:016x}")
}

/// Activity record keys (`<revision>.<n>`) in the order they were entered.
pub fn record_order(a: &ActivityRecord, b: &ActivityRecord) -> std::cmp::Ordering {
    let parts = |r: &ActivityRecord| -> (u64, u64) {
        let mut it = r.key.split('.').map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
        (it.next().unwrap_or(u64::MAX), it.next().unwrap_or(u64::MAX))
    };
    parts(a).cmp(&parts(b)).then_with(|| a.key.cmp(&b.key))
}

/// One step of a running process: what the engine decided, written at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub id: InstanceId,
    /// The revision the engine read; the commit fails with `Conflict(Stale)` if it moved.
    pub revision: u64,
    /// Where the process went, when the step moved it.
    pub progress: Option<Progress>,
    /// Instance variables to create or overwrite.
    pub variables: Vec<Variable>,
    /// Identity links to add to the instance (present ones are kept once).
    pub links: Vec<IdentityLink>,
    /// Tasks to write whole: a task with id 0 is new and gets an id; an ended task (with an
    /// end time) leaves the open indexes.
    pub tasks: Vec<Task>,
    /// Activity records to write whole (new ones, and ones that end now), by key.
    pub activities: Vec<ActivityRecord>,
    /// A new business status (an integration process's logged status label).
    pub business_status: Option<String>,
}

impl Commit {
    /// A step against `id` read at `revision` that writes nothing yet: callers name what it
    /// changes and take the rest from here (`..Commit::new(id, revision)`).
    pub fn new(id: InstanceId, revision: u64) -> Self {
        Commit {
            id,
            revision,
            progress: None,
            variables: Vec::new(),
            links: Vec::new(),
            tasks: Vec::new(),
            activities: Vec::new(),
            business_status: None,
        }
    }
}

/// The process part of a [`Commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// `Active`, or `Completed` when no token is left.
    pub state: InstanceState,
    pub activity_id: Option<String>,
    pub tokens: Vec<String>,
    pub end_time: Option<Timestamp>,
    pub end_activity_id: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Assigns a fresh id and writes the instance with its variables, links and tasks.
    async fn create_instance(&self, new: NewInstance) -> Result<ProcessInstance, StoreError>;

    /// Applies a step (see [`Commit`]); answers the instance after it and the tasks written,
    /// with their ids. `NotFound` for an unknown or closed instance, `Conflict(InstanceSuspended)`
    /// for a suspended one, `Conflict(Stale)` when the revision moved; nothing is written then.
    async fn commit(&self, commit: &Commit) -> Result<(ProcessInstance, Vec<Task>), StoreError>;

    /// Writes a deployment (see [`NewDeployment`]); each definition gets the next version of
    /// its key in the tenant and the id `key:version:deploymentId`, atomically, so two nodes
    /// deploying at once never share a version.
    async fn deploy(&self, new: &NewDeployment) -> Result<Deployed, StoreError>;

    /// Every deployment and definition.
    async fn repository(&self) -> Result<Repository, StoreError>;

    /// The bytes of one resource of a deployment.
    async fn resource(&self, deployment: &str, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes a deployment, its resources and its definitions (instances stay);
    /// `NotFound(Deployment)` when unknown.
    async fn delete_deployment(&self, id: &str) -> Result<(), StoreError>;

    /// Changes whenever the repository may have changed, here or on another node sharing the
    /// store: a cache of [`Store::repository`] is fresh while this stays the same.
    fn repository_version(&self) -> u64;

    /// Keeps an access token for `user` until `expires` (tokens live in the store so that every
    /// node accepts them).
    async fn put_token(
        &self,
        token: &str,
        user: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError>;

    /// The user of a token that has not expired at `now`.
    async fn token_user(&self, token: &str, now: Timestamp) -> Result<Option<String>, StoreError>;

    /// The activity records of an instance, in the order they were entered.
    async fn activity_history(&self, id: InstanceId) -> Result<Vec<ActivityRecord>, StoreError>;

    /// Adds a comment to an instance, open or ended (its `id` is assigned: `<instance>-<n>`);
    /// `NotFound(Instance)` when there is no such instance.
    async fn add_comment(&self, comment: &Comment) -> Result<Comment, StoreError>;

    /// An instance's comments, oldest first.
    async fn comments(&self, id: InstanceId) -> Result<Vec<Comment>, StoreError>;

    /// Writes items: a new one is stored, a known one gets the given label (when set) and
    /// values merged into its own, in one atomic step; answers, per item, whether it was new.
    async fn write_items(&self, items: &[Item]) -> Result<Vec<bool>, StoreError>;

    async fn get_item(&self, id: &str) -> Result<Option<Item>, StoreError>;

    /// One page of the items of an entity in a catalog, by id, and their number.
    async fn list_items(
        &self,
        entity: &str,
        catalog: &str,
        start: usize,
        size: usize,
    ) -> Result<Page<Item>, StoreError>;

    /// Any task, open or ended.
    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// One page of the tasks matching `query.filter`, in `query`'s order, and the total.
    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError>;

    /// Any instance, open or closed.
    async fn get_instance(&self, id: InstanceId) -> Result<Option<ProcessInstance>, StoreError>;

    /// One page of the instances matching `query.filter`, in `query`'s order, and the total;
    /// without variables and identity links unless `query.with_details` (both stores leave
    /// them out alike, so the shared suite can compare them).
    async fn list_instances(&self, query: &InstanceQuery) -> Result<Page<ProcessInstance>, StoreError>;

    /// Sets the given fields of an open instance; answers the instance after the change.
    async fn update_instance(&self, change: &UpdateInstance) -> Result<ProcessInstance, StoreError>;

    /// Suspends or activates an open instance and its open tasks; `Conflict(AlreadySuspended | AlreadyActive)`
    /// when it is in that state already. Answers the instance after the change.
    async fn set_suspended(&self, id: InstanceId, suspended: bool) -> Result<ProcessInstance, StoreError>;

    /// Ends open instances, their open tasks and their open activity records. All or nothing: when any id is unknown or closed, the answer is
    /// `NotFound` for the first such id and no instance changes.
    async fn close_instances(&self, ids: &[InstanceId], closing: &Closing) -> Result<(), StoreError>;

    /// Adds a link to an open instance (a no-op when present); answers the link.
    async fn add_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError>;

    /// Removes a link; `NotFound(IdentityLink)` when absent.
    async fn remove_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError>;

    /// Writes variables of an open instance per `mode` (see [`SetMode`]); answers the
    /// instance after the change.
    async fn set_variables(
        &self,
        id: InstanceId,
        variables: &[Variable],
        mode: SetMode,
    ) -> Result<ProcessInstance, StoreError>;

    /// Removes one variable (`NotFound(Variable)` when absent) or, with `name: None`, all.
    async fn delete_variables(&self, id: InstanceId, name: Option<&str>) -> Result<(), StoreError>;
}
