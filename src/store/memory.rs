//! The embedded default store and the reference every other store is tested against.
//!
//! A clone-cheap handle over `Arc<Mutex<State>>`. A std `Mutex`, not tokio's: every critical
//! section is short, CPU-only and never held across an `.await` (the methods do all their
//! work between `lock()` and the end of a synchronous block), so an async mutex would only
//! add overhead (mini-redis `db.rs` makes the same choice).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bpm_compat_model::{
    ActivityRecord, Clash, Comment, Deployment, IdentityLink, InstanceFilter, InstanceId, InstanceQuery,
    InstanceSort, InstanceState, Item, LexId, Missing, NewInstance, Page, ProcessDefinition, ProcessInstance,
    SetMode, SortOrder, Task, TaskId, TaskQuery, TextMatch, Timestamp, UpdateInstance, Variable,
};

use super::{
    record_order, resources_digest, Closing, Commit, Deployed, NewDeployment, Repository, Store, StoreError,
};

#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    /// Bumped by every deployment change (outside the lock: read on every request).
    repository_version: Arc<AtomicU64>,
    /// The last instance or task id handed out. Outside the lock, so that a new instance
    /// and its tasks are built (and their memory touched) before the lock is taken: the
    /// critical section only links them in.
    last_id: Arc<AtomicU64>,
}

/// Deployments, their files and definitions.
#[derive(Debug, Default)]
struct Repo {
    next_id: u64,
    deployments: BTreeMap<u64, Deployment>,
    resources: HashMap<(String, String), Vec<u8>>,
    definitions: Vec<ProcessDefinition>,
    /// The latest version of each (tenant, key).
    versions: HashMap<(String, String), u32>,
    /// The latest deployment of each (tenant, name), with its resources' digest.
    by_name: HashMap<(String, String), (String, String)>,
}

#[derive(Debug, Default)]
struct State {
    // A BTreeMap rather than a HashMap: no rehash pauses as the store grows, and no hashing.
    // Boxed values: a node holds eleven of them, and an inline instance is ~460 bytes, so a
    // node split would move kilobytes and half-empty nodes would waste them.
    instances: BTreeMap<InstanceId, Box<ProcessInstance>>,
    /// Open instances in id string order (Flowable's default sort), all of them and by
    /// definition key and business key, the filters list calls use most: a page sorted by id
    /// costs the page, not the number of instances.
    open: BTreeSet<LexId>,
    by_key: BTreeMap<String, Ids>,
    // A BTreeMap too: business keys are about as many as instances, and doubling a hash
    // table of half a million of them stalled every request for ~35 ms (bench max latency).
    by_business_key: BTreeMap<String, Ids>,
    tasks: BTreeMap<TaskId, Box<Task>>,
    /// Ids of open tasks, and every task of an instance: task lists are driven by one of
    /// them (an instance's tasks, or the open ones), so their cost grows with open tasks,
    /// not with history.
    open_tasks: BTreeSet<TaskId>,
    // BTreeMaps rather than HashMaps here too: growing a hash table of every instance means
    // rehashing it whole under the lock (100+ ms pauses at a few hundred thousand instances).
    instance_tasks: BTreeMap<InstanceId, Vec<TaskId>>,
    /// Activity records per instance, in the order written (a handful each: a Vec is smaller
    /// than a map node).
    history: BTreeMap<InstanceId, Vec<ActivityRecord>>,
    comments: BTreeMap<InstanceId, Vec<Comment>>,
    items: BTreeMap<String, Item>,
    /// Access tokens: user and expiry.
    tokens: HashMap<String, (String, Timestamp)>,
    repo: Repo,
}

/// The open instances of one definition key or business key. Most business keys name one
/// instance, and a set keeps even one id in a node of eleven (~190 bytes): one id is kept
/// inline. Never empty (the index drops the key instead).
#[derive(Debug)]
enum Ids {
    One(LexId),
    Many(BTreeSet<LexId>),
}

/// Ids in id string order, `.rev()` for the reverse.
type IdIter<'a> = Box<dyn DoubleEndedIterator<Item = &'a LexId> + 'a>;

impl Ids {
    fn insert(&mut self, id: LexId) {
        match self {
            Ids::One(one) if *one == id => {}
            Ids::One(one) => *self = Ids::Many(BTreeSet::from([*one, id])),
            Ids::Many(set) => {
                set.insert(id);
            }
        }
    }

    /// Removes `id`; answers whether none is left.
    fn remove(&mut self, id: LexId) -> bool {
        match self {
            Ids::One(one) => *one == id,
            Ids::Many(set) => {
                set.remove(&id);
                if let (1, Some(&last)) = (set.len(), set.first()) {
                    *self = Ids::One(last);
                }
                false
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Ids::One(_) => 1,
            Ids::Many(set) => set.len(),
        }
    }

    fn iter(&self) -> IdIter<'_> {
        match self {
            Ids::One(one) => Box::new(std::iter::once(one)),
            Ids::Many(set) => Box::new(set.iter()),
        }
    }
}

/// The ids under `key` in a key index and their number.
fn lookup<'a>(index: &'a BTreeMap<String, Ids>, key: &str) -> (usize, IdIter<'a>) {
    match index.get(key) {
        Some(ids) => (ids.len(), ids.iter()),
        None => (0, Box::new(std::iter::empty())),
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn next_id(&self) -> u64 {
        self.last_id.fetch_add(1, AtomicOrdering::Relaxed) + 1
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave half-applied changes (every method
        // checks before it writes), so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn index(&mut self, i: &ProcessInstance) {
        let id = LexId::new(i.id);
        self.open.insert(id);
        add_to(&mut self.by_key, &i.definition_key, id);
        if let Some(bk) = &i.business_key {
            add_to(&mut self.by_business_key, bk, id);
        }
    }

    fn unindex(&mut self, i: &ProcessInstance) {
        self.open.remove(&LexId::new(i.id));
        remove_from(&mut self.by_key, &i.definition_key, i.id);
        if let Some(bk) = &i.business_key {
            remove_from(&mut self.by_business_key, bk, i.id);
        }
    }

    /// Writes a task; `new` when its id was just handed out.
    fn write_task(&mut self, task: Box<Task>, new: bool) {
        if new {
            self.instance_tasks
                .entry(task.instance_id)
                .or_default()
                .push(task.id);
        }
        if task.is_open() {
            self.open_tasks.insert(task.id);
        } else {
            self.open_tasks.remove(&task.id);
        }
        self.tasks.insert(task.id, task);
    }

    /// Applies `f` to the open tasks of an instance.
    fn each_open_task(&mut self, id: InstanceId, mut f: impl FnMut(&mut Task)) {
        let ids = self.instance_tasks.get(&id).cloned().unwrap_or_default();
        for t in ids {
            if let Some(task) = self.tasks.get_mut(&t).filter(|t| t.is_open()) {
                f(task);
                if !task.is_open() {
                    self.open_tasks.remove(&t);
                }
            }
        }
    }

    fn record(&mut self, id: InstanceId, records: &[ActivityRecord]) {
        if !records.is_empty() {
            merge_records(self.history.entry(id).or_default(), records);
        }
    }

    fn open_mut(&mut self, id: InstanceId) -> Result<&mut ProcessInstance, StoreError> {
        match self.instances.get_mut(&id) {
            Some(i) if i.state.is_open() => Ok(i),
            _ => Err(StoreError::NotFound(Missing::Instance(id))),
        }
    }
}

/// Writes activity records into an instance's history: a record replaces the one with its key.
fn merge_records(history: &mut Vec<ActivityRecord>, records: &[ActivityRecord]) {
    for r in records {
        match history.iter_mut().find(|h| h.key == r.key) {
            Some(slot) => *slot = r.clone(),
            None => history.push(r.clone()),
        }
    }
}

/// Looks the key up before allocating it: few definition keys, each shared by many instances.
fn add_to(index: &mut BTreeMap<String, Ids>, key: &str, id: LexId) {
    match index.get_mut(key) {
        Some(ids) => ids.insert(id),
        None => {
            index.insert(key.to_owned(), Ids::One(id));
        }
    }
}

fn remove_from(index: &mut BTreeMap<String, Ids>, key: &str, id: InstanceId) {
    if let Some(ids) = index.get_mut(key) {
        if ids.remove(LexId::new(id)) {
            index.remove(key);
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_instance(&self, mut new: NewInstance) -> Result<ProcessInstance, StoreError> {
        // Everything is built before the lock is taken: the other workers wait only while
        // it is linked in.
        let tasks = std::mem::take(&mut new.tasks);
        let activities = std::mem::take(&mut new.activities);
        let instance = new.with_id(InstanceId(self.next_id()));
        let stored = Box::new(instance.clone());
        let tasks: Vec<Box<Task>> = tasks
            .into_iter()
            .map(|mut t| {
                t.id = TaskId(self.next_id());
                t.instance_id = instance.id;
                Box::new(t)
            })
            .collect();
        let mut history = Vec::with_capacity(activities.len());
        merge_records(&mut history, &activities);
        let mut state = self.lock();
        if instance.state.is_open() {
            state.index(&instance);
        }
        state.instances.insert(instance.id, stored);
        if !history.is_empty() {
            state.history.insert(instance.id, history);
        }
        for t in tasks {
            state.write_task(t, true);
        }
        Ok(instance)
    }

    async fn commit(&self, commit: &Commit) -> Result<(ProcessInstance, Vec<Task>), StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(commit.id)?;
        if i.state == InstanceState::Suspended {
            return Err(StoreError::Conflict(Clash::InstanceSuspended(commit.id)));
        }
        if i.revision != commit.revision {
            return Err(StoreError::Conflict(Clash::Stale(commit.id)));
        }
        let before = i.clone();
        let mut after = before.clone();
        after.revision += 1;
        after
            .variables
            .extend(commit.variables.iter().map(|v| (v.name.clone(), v.value.clone())));
        if let Some(status) = &commit.business_status {
            after.business_status = Some(status.clone());
        }
        for link in &commit.links {
            if let Err(at) = after.identity_links.binary_search(link) {
                after.identity_links.insert(at, link.clone());
            }
        }
        if let Some(p) = &commit.progress {
            after.state = p.state;
            after.activity_id = p.activity_id.clone();
            after.tokens = p.tokens.clone();
            after.end_time = p.end_time;
            after.end_activity_id = p.end_activity_id.clone();
        }
        state.unindex(&before);
        if after.state.is_open() {
            state.index(&after);
        }
        state.instances.insert(after.id, Box::new(after.clone()));
        state.record(after.id, &commit.activities);
        let written = commit
            .tasks
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.instance_id = commit.id;
                let new = t.id.0 == 0;
                if new {
                    t.id = TaskId(self.next_id());
                }
                state.write_task(Box::new(t.clone()), new);
                t
            })
            .collect();
        Ok((after, written))
    }

    async fn deploy(&self, new: &NewDeployment) -> Result<Deployed, StoreError> {
        let mut state = self.lock();
        let repo = &mut state.repo;
        let d = &new.deployment;
        let name_key = (d.tenant_id.clone(), d.name.clone().unwrap_or_default());
        let digest = resources_digest(&new.resources);
        if new.dedupe {
            if let Some((prev, prev_digest)) = repo.by_name.get(&name_key) {
                if *prev_digest == digest {
                    let deployment = prev
                        .parse::<u64>()
                        .ok()
                        .and_then(|n| repo.deployments.get(&n))
                        .cloned()
                        .ok_or_else(|| StoreError::Corrupt(format!("deployment {prev} is gone")))?;
                    let definitions = repo
                        .definitions
                        .iter()
                        .filter(|p| p.deployment_id.as_deref() == Some(prev.as_str()))
                        .cloned()
                        .collect();
                    return Ok(Deployed {
                        deployment,
                        definitions,
                        created: false,
                    });
                }
            }
        }
        repo.next_id += 1;
        let n = repo.next_id;
        let deployment = Deployment {
            id: n.to_string(),
            ..d.clone()
        };
        let mut definitions = Vec::with_capacity(new.definitions.len());
        for p in &new.definitions {
            let version = repo
                .versions
                .entry((p.tenant_id.clone(), p.key.clone()))
                .or_insert(0);
            *version += 1;
            definitions.push(ProcessDefinition {
                id: format!("{}:{}:{}", p.key, version, deployment.id),
                version: *version,
                deployment_id: Some(deployment.id.clone()),
                ..p.clone()
            });
        }
        for r in &new.resources {
            repo.resources
                .insert((deployment.id.clone(), r.name.clone()), r.bytes.clone());
        }
        repo.definitions.extend(definitions.iter().cloned());
        repo.by_name.insert(name_key, (deployment.id.clone(), digest));
        repo.deployments.insert(n, deployment.clone());
        self.repository_version.fetch_add(1, AtomicOrdering::Release);
        Ok(Deployed {
            deployment,
            definitions,
            created: true,
        })
    }

    async fn repository(&self) -> Result<Repository, StoreError> {
        let state = self.lock();
        Ok(Repository {
            deployments: state.repo.deployments.values().cloned().collect(),
            definitions: state.repo.definitions.clone(),
        })
    }

    async fn resource(&self, deployment: &str, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .lock()
            .repo
            .resources
            .get(&(deployment.to_owned(), name.to_owned()))
            .cloned())
    }

    async fn delete_deployment(&self, id: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        let repo = &mut state.repo;
        let n = id
            .parse::<u64>()
            .ok()
            .filter(|n| repo.deployments.contains_key(n));
        let Some(n) = n else {
            return Err(StoreError::NotFound(Missing::Deployment(id.to_owned())));
        };
        repo.deployments.remove(&n);
        repo.resources.retain(|(d, _), _| d != id);
        repo.definitions
            .retain(|p| p.deployment_id.as_deref() != Some(id));
        repo.by_name.retain(|_, (d, _)| d != id);
        self.repository_version.fetch_add(1, AtomicOrdering::Release);
        Ok(())
    }

    fn repository_version(&self) -> u64 {
        self.repository_version.load(AtomicOrdering::Acquire)
    }

    async fn put_token(
        &self,
        token: &str,
        user: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        // Expired tokens go when new ones come, so the map holds about the live tokens only.
        state.tokens.retain(|_, (_, e)| *e > now);
        state.tokens.insert(token.to_owned(), (user.to_owned(), expires));
        Ok(())
    }

    async fn token_user(&self, token: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .get(token)
            .filter(|(_, expires)| *expires > now)
            .map(|(user, _)| user.clone()))
    }

    async fn activity_history(&self, id: InstanceId) -> Result<Vec<ActivityRecord>, StoreError> {
        let state = self.lock();
        let mut records: Vec<ActivityRecord> = state.history.get(&id).cloned().unwrap_or_default();
        records.sort_by(record_order);
        Ok(records)
    }

    async fn add_comment(&self, comment: &Comment) -> Result<Comment, StoreError> {
        let mut state = self.lock();
        let id = comment.instance_id;
        if !state.instances.contains_key(&id) {
            return Err(StoreError::NotFound(Missing::Instance(id)));
        }
        let list = state.comments.entry(id).or_default();
        let added = Comment {
            id: format!("{id}-{}", list.len() + 1),
            ..comment.clone()
        };
        list.push(added.clone());
        Ok(added)
    }

    async fn write_items(&self, items: &[Item]) -> Result<Vec<bool>, StoreError> {
        let mut state = self.lock();
        Ok(items
            .iter()
            .map(|item| match state.items.get_mut(&item.id) {
                Some(known) => {
                    if item.label.is_some() {
                        known.label = item.label.clone();
                    }
                    known.values.extend(item.values.clone());
                    false
                }
                None => {
                    state.items.insert(item.id.clone(), item.clone());
                    true
                }
            })
            .collect())
    }

    async fn get_item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        Ok(self.lock().items.get(id).cloned())
    }

    async fn list_items(
        &self,
        entity: &str,
        catalog: &str,
        start: usize,
        size: usize,
    ) -> Result<Page<Item>, StoreError> {
        let state = self.lock();
        let matching: Vec<&Item> = state
            .items
            .values()
            .filter(|i| i.entity == entity && i.catalog() == catalog)
            .collect();
        Ok(Page {
            total: matching.len() as u64,
            items: matching.into_iter().skip(start).take(size).cloned().collect(),
            start,
        })
    }

    async fn comments(&self, id: InstanceId) -> Result<Vec<Comment>, StoreError> {
        Ok(self.lock().comments.get(&id).cloned().unwrap_or_default())
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        Ok(self.lock().tasks.get(&id).map(|t| (**t).clone()))
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError> {
        let state = self.lock();
        let f = &query.filter;
        let open_only = !f.all && f.finished != Some(true);
        let mut hits: Vec<&Task> = if let Some(id) = f.instance_id {
            let ids = state
                .instance_tasks
                .get(&id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            ids.iter()
                .filter_map(|t| state.tasks.get(t).map(Box::as_ref))
                .filter(|t| f.matches(t))
                .collect()
        } else if open_only {
            state
                .open_tasks
                .iter()
                .filter_map(|t| state.tasks.get(t).map(Box::as_ref))
                .filter(|t| f.matches(t))
                .collect()
        } else {
            state
                .tasks
                .values()
                .map(Box::as_ref)
                .filter(|t| f.matches(t))
                .collect()
        };
        hits.sort_by(|a, b| query.compare(a, b));
        Ok(Page {
            total: hits.len() as u64,
            items: hits
                .into_iter()
                .skip(query.start)
                .take(query.size)
                .cloned()
                .collect(),
            start: query.start,
        })
    }

    async fn get_instance(&self, id: InstanceId) -> Result<Option<ProcessInstance>, StoreError> {
        Ok(self.lock().instances.get(&id).map(|i| (**i).clone()))
    }

    async fn list_instances(&self, query: &InstanceQuery) -> Result<Page<ProcessInstance>, StoreError> {
        let state = self.lock();
        let f = &query.filter;
        let page = |items, total| {
            Ok(Page {
                items,
                total,
                start: query.start,
            })
        };
        if f.impossible {
            return page(Vec::new(), 0);
        }
        // The driver is an index that holds every possible match, in id string order, and the
        // number of its ids; with closed states asked for there is none and every instance is
        // a candidate.
        let (driver, served): (Option<(usize, IdIter<'_>)>, InstanceFilter) = if !f.states.is_empty() {
            (None, f.clone())
        } else if let Some(TextMatch::Equals(k)) = &f.definition_key {
            (
                Some(lookup(&state.by_key, k)),
                InstanceFilter {
                    definition_key: None,
                    ..f.clone()
                },
            )
        } else if let Some(TextMatch::Equals(bk)) = &f.business_key {
            (
                Some(lookup(&state.by_business_key, bk)),
                InstanceFilter {
                    business_key: None,
                    ..f.clone()
                },
            )
        } else {
            (Some((state.open.len(), Box::new(state.open.iter()))), f.clone())
        };
        let get = |id: &LexId| state.instances.get(&id.id()).map(Box::as_ref);
        let copy = |i: &ProcessInstance| {
            if query.with_details {
                i.clone()
            } else {
                i.without_details()
            }
        };
        match driver {
            Some((len, ids)) if query.sort == InstanceSort::Id => {
                let ordered: IdIter<'_> = match query.order {
                    SortOrder::Asc => ids,
                    SortOrder::Desc => Box::new(ids.rev()),
                };
                if served == InstanceFilter::default() {
                    // The index answers the filter alone: walk just the page.
                    let items = ordered
                        .skip(query.start)
                        .take(query.size)
                        .filter_map(get)
                        .map(copy)
                        .collect();
                    return page(items, len as u64);
                }
                let mut total = 0u64;
                let mut items = Vec::new();
                for i in ordered.filter_map(get).filter(|i| f.matches(i)) {
                    if total as usize >= query.start && items.len() < query.size {
                        items.push(copy(i));
                    }
                    total += 1;
                }
                page(items, total)
            }
            _ => {
                let mut hits: Vec<&ProcessInstance> = match driver {
                    Some((_, ids)) => ids.filter_map(get).filter(|i| f.matches(i)).collect(),
                    None => state
                        .instances
                        .values()
                        .map(Box::as_ref)
                        .filter(|i| f.matches(i))
                        .collect(),
                };
                hits.sort_by(|a, b| query.compare(a, b));
                let total = hits.len() as u64;
                page(
                    hits.into_iter()
                        .skip(query.start)
                        .take(query.size)
                        .map(copy)
                        .collect(),
                    total,
                )
            }
        }
    }

    async fn update_instance(&self, change: &UpdateInstance) -> Result<ProcessInstance, StoreError> {
        let mut state = self.lock();
        let before = state.open_mut(change.id)?.clone();
        let mut after = before.clone();
        if let Some(v) = &change.name {
            after.name = Some(v.clone());
        }
        if let Some(v) = &change.business_key {
            after.business_key = Some(v.clone());
        }
        if let Some(v) = &change.business_status {
            after.business_status = Some(v.clone());
        }
        if let Some(v) = change.due_date {
            after.due_date = Some(v);
        }
        if let Some(claim) = &change.claim {
            after.claimed_by = claim.as_ref().map(|c| c.user.clone());
            after.claim_time = claim.as_ref().map(|c| c.at);
        }
        state.unindex(&before);
        state.index(&after);
        state.instances.insert(after.id, Box::new(after.clone()));
        Ok(after)
    }

    async fn set_suspended(&self, id: InstanceId, suspended: bool) -> Result<ProcessInstance, StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(id)?;
        match (i.state, suspended) {
            (InstanceState::Suspended, true) => Err(StoreError::Conflict(Clash::AlreadySuspended(id))),
            (InstanceState::Active, false) => Err(StoreError::Conflict(Clash::AlreadyActive(id))),
            _ => {
                i.state = if suspended {
                    InstanceState::Suspended
                } else {
                    InstanceState::Active
                };
                let after = i.clone();
                state.each_open_task(id, |t| t.suspended = suspended);
                Ok(after)
            }
        }
    }

    async fn close_instances(&self, ids: &[InstanceId], closing: &Closing) -> Result<(), StoreError> {
        let mut state = self.lock();
        for id in ids {
            state.open_mut(*id)?;
        }
        for id in ids {
            let Some(mut i) = state.instances.remove(id) else {
                continue;
            };
            state.unindex(&i);
            i.state = closing.state;
            i.end_time = Some(closing.at);
            i.delete_reason = closing.reason.clone();
            i.activity_id = None;
            i.tokens.clear();
            state.instances.insert(*id, i);
            state.each_open_task(*id, |t| {
                t.end_time = Some(closing.at);
                t.delete_reason = closing.reason.clone();
            });
            for r in state.history.entry(*id).or_default() {
                r.end_time.get_or_insert(closing.at);
            }
        }
        Ok(())
    }

    async fn add_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(id)?;
        if let Err(at) = i.identity_links.binary_search(link) {
            i.identity_links.insert(at, link.clone());
        }
        Ok(())
    }

    async fn remove_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(id)?;
        match i.identity_links.binary_search(link) {
            Ok(at) => {
                i.identity_links.remove(at);
                Ok(())
            }
            Err(_) => Err(StoreError::NotFound(Missing::IdentityLink {
                instance: id,
                link: link.clone(),
            })),
        }
    }

    async fn set_variables(
        &self,
        id: InstanceId,
        variables: &[Variable],
        mode: SetMode,
    ) -> Result<ProcessInstance, StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(id)?;
        for v in variables {
            let exists = i.variables.contains_key(&v.name);
            match mode {
                SetMode::Create if exists => {
                    return Err(StoreError::Conflict(Clash::VariableExists {
                        instance: id,
                        name: v.name.clone(),
                    }))
                }
                SetMode::Update if !exists => {
                    return Err(StoreError::NotFound(Missing::Variable {
                        instance: id,
                        name: v.name.clone(),
                    }))
                }
                _ => {}
            }
        }
        i.variables
            .extend(variables.iter().map(|v| (v.name.clone(), v.value.clone())));
        Ok(i.clone())
    }

    async fn delete_variables(&self, id: InstanceId, name: Option<&str>) -> Result<(), StoreError> {
        let mut state = self.lock();
        let i = state.open_mut(id)?;
        match name {
            None => i.variables.clear(),
            Some(name) => {
                if i.variables.remove(name).is_none() {
                    return Err(StoreError::NotFound(Missing::Variable {
                        instance: id,
                        name: name.to_owned(),
                    }));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(set: &Ids) -> Vec<u64> {
        set.iter().map(|id| id.id().0).collect()
    }

    #[test]
    fn key_ids_keep_one_inline_and_string_order() {
        let (a, b, c) = (
            LexId::new(InstanceId(9)),
            LexId::new(InstanceId(10)),
            LexId::new(InstanceId(2)),
        );
        let mut set = Ids::One(a);
        set.insert(a);
        assert!(matches!(set, Ids::One(_)), "a repeated id stays inline");
        set.insert(b);
        set.insert(c);
        assert_eq!(
            (ids(&set), set.len()),
            (vec![10, 2, 9], 3),
            "string order: 10 < 2 < 9"
        );
        assert_eq!(
            set.iter().rev().map(|id| id.id().0).collect::<Vec<_>>(),
            vec![9, 2, 10]
        );
        assert!(!set.remove(b));
        assert!(
            !set.remove(LexId::new(InstanceId(77))),
            "an absent id changes nothing"
        );
        assert!(!set.remove(a));
        assert!(matches!(set, Ids::One(id) if id == c), "back to one id inline");
        assert!(!set.remove(a), "an absent id leaves the one there");
        assert!(set.remove(c), "none left");
    }
}
