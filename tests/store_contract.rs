//! One suite, two stores: every behaviour of the `Store` contract is written once, as an
//! `async fn` over `&dyn Store`, and `store_tests!` runs it against `MemoryStore` and against
//! `RedisStore` on a live Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`; each test gets
//! its own key prefix and removes its keys). A Redis that does not answer fails the Redis
//! tests: they are never skipped. A model-based test then drives both stores with the same
//! pseudo-random operations and compares every answer, the memory store being the oracle.
//!
//! Ids differ between the stores (Redis ids encode their shard), so tests never hard-code
//! them; expected pages are computed from the instances the store returned.

mod common;

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use bpm_compat::store::redis::LAYOUT_ROUND_ROBIN;
use bpm_compat::store::{
    Closing, Commit, MemoryStore, NewDeployment, Progress, RedisStore, Store, StoreError,
};
use bpm_compat_model::{
    Activity, ActivityKind, ActivityRecord, Blob, Claim, Clash, Comment, DelegationState, Deployment,
    Identity, IdentityLink, InstanceFilter, InstanceId, InstanceQuery, InstanceSort, InstanceState, Item,
    Missing, NewInstance, Page, ProcessDefinition, ProcessInstance, Resource, SetMode, SortOrder, StepLog,
    Task, TaskFilter, TaskId, TaskQuery, TaskSort, TextMatch, Timestamp, UpdateInstance, Variable,
    VariableFilter, VariableOp, VariableValue, Variables,
};
use futures_util::FutureExt;
use serde_json::json;

// ---- harness ----

use common::{keys_under, redis_raw, redis_url, remove_keys, unique_prefix};

/// Over two connections, whatever the machine's default: consecutive calls of a test take
/// different connections, as on a server with more cores.
async fn redis_store(prefix: &str) -> RedisStore {
    let url = redis_url();
    RedisStore::connect_with(&url, prefix, 2)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis at {url} does not answer ({e}); the store suite needs a live Redis (set REDIS_URL)")
        })
}

/// Runs a test body on a fresh Redis store and removes its keys, even when the body panics.
async fn on_redis<F, Fut>(body: F)
where
    F: FnOnce(RedisStore, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_redis_in_layout(None, body).await;
}

/// [`on_redis`], on a store whose layout marker is set to `layout` before the first connect.
async fn on_redis_in_layout<F, Fut>(layout: Option<&str>, body: F)
where
    F: FnOnce(RedisStore, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let prefix = unique_prefix("store");
    if let Some(layout) = layout {
        let _: () = ::redis::cmd("SET")
            .arg(format!("{prefix}{{repo}}:layout"))
            .arg(layout)
            .query_async(&mut redis_raw().await)
            .await
            .expect("SET");
    }
    let store = redis_store(&prefix).await;
    let outcome = AssertUnwindSafe(body(store, prefix.clone())).catch_unwind().await;
    remove_keys(&prefix).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

macro_rules! store_tests {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(&bpm_compat::store::MemoryStore::new()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $test() {
                    super::on_redis(|store, _| async move { super::$test(&store).await }).await;
                }
            )*
        }
    };
}

store_tests!(
    access_tokens_expire,
    items_merge_their_values_and_list_by_catalog,
    comments_stay_on_ended_instances_in_order,
    activity_history_is_kept_in_order,
    deployments_version_definitions,
    commit_checks_before_it_writes,
    commit_moves_the_process_and_its_tasks,
    task_queries,
    ids_are_unique,
    create_and_get_round_trip,
    unknown_ids_read_as_none,
    list_default_is_open_instances_in_string_id_order,
    list_filters,
    list_sorts_and_paging,
    lists_page_through_thousands_of_instances,
    first_pages_past_two_chunks,
    first_pages_after_the_first_chunk_shrinks,
    many_instances_share_a_business_key,
    lists_without_details,
    fast_and_general_paths_agree,
    update_instance_changes_fields_and_moves_indexes,
    fields_packed_at_create_survive_later_changes,
    set_suspended_conflicts,
    close_instances_all_or_nothing,
    instances_created_closed_stay_out_of_open_lists,
    identity_links,
    set_variables_modes,
    delete_variables,
);

// ---- fixtures ----

fn deployment_of(
    name: &str,
    tenant: &str,
    files: &[(&str, &str)],
    keys: &[&str],
    dedupe: bool,
) -> NewDeployment {
    let resources: Vec<Resource> = files
        .iter()
        .map(|(n, body)| Resource {
            name: (*n).to_owned(),
            bytes: body.as_bytes().to_vec(),
        })
        .collect();
    NewDeployment {
        deployment: Deployment {
            id: String::new(),
            name: Some(name.to_owned()),
            key: Some("k".into()),
            category: None,
            tenant_id: tenant.to_owned(),
            deploy_time: Timestamp(T0),
            resources: resources.iter().map(|r| r.name.clone()).collect(),
        },
        resources,
        definitions: keys
            .iter()
            .map(|k| ProcessDefinition {
                id: String::new(),
                key: (*k).to_owned(),
                name: Some(format!("{k} process")),
                description: None,
                category: None,
                version: 0,
                version_label: None,
                tenant_id: tenant.to_owned(),
                resource_name: Some(files[0].0.to_owned()),
                deployment_id: None,
                ordinal: 0,
                activities: vec![Activity::new("s", ActivityKind::StartEvent { message: None })],
                flows: Vec::new(),
                layout: None,
                aliases: Vec::new(),
                integration: false,
                logged_fields: Vec::new(),
            })
            .collect(),
        dedupe,
    }
}

async fn deployments_version_definitions(s: &dyn Store) {
    let v0 = s.repository_version();
    let first = s
        .deploy(&deployment_of(
            "a.bpmn",
            "",
            &[("a.bpmn", "<a/>"), ("b.png", "\u{0}png")],
            &["p", "q"],
            true,
        ))
        .await
        .expect("deploys");
    assert!(first.created);
    assert_ne!(
        s.repository_version(),
        v0,
        "a deployment changes the repository version"
    );
    let d1 = first.deployment.id.clone();
    assert!(!d1.is_empty() && d1.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        first
            .definitions
            .iter()
            .map(|p| (p.id.clone(), p.version))
            .collect::<Vec<_>>(),
        vec![(format!("p:1:{d1}"), 1), (format!("q:1:{d1}"), 1)]
    );
    assert!(first
        .definitions
        .iter()
        .all(|p| p.deployment_id.as_deref() == Some(d1.as_str())));
    assert_eq!(
        first.deployment.resources,
        vec!["a.bpmn".to_owned(), "b.png".to_owned()]
    );

    // The same files under the same name with duplicate filtering: the first deployment.
    let again = s
        .deploy(&deployment_of(
            "a.bpmn",
            "",
            &[("a.bpmn", "<a/>"), ("b.png", "\u{0}png")],
            &["p", "q"],
            true,
        ))
        .await
        .expect("dedupes");
    assert!(!again.created);
    assert_eq!(again.deployment, first.deployment);
    assert_eq!(again.definitions.len(), 2);
    // Changed content, or no filtering: a new deployment and the next versions.
    let changed = s
        .deploy(&deployment_of(
            "a.bpmn",
            "",
            &[("a.bpmn", "<a v='2'/>")],
            &["p"],
            true,
        ))
        .await
        .expect("deploys v2");
    assert!(changed.created);
    assert_eq!(changed.definitions[0].version, 2);
    let other_tenant = s
        .deploy(&deployment_of(
            "a.bpmn",
            "t1",
            &[("a.bpmn", "<a/>")],
            &["p"],
            false,
        ))
        .await
        .expect("deploys in t1");
    assert_eq!(
        other_tenant.definitions[0].version, 1,
        "versions count per tenant"
    );

    let repo = s.repository().await.expect("repository");
    assert_eq!(repo.deployments.len(), 3);
    assert_eq!(repo.definitions.len(), 4);
    let p1 = repo
        .definitions
        .iter()
        .find(|p| p.id == format!("p:1:{d1}"))
        .expect("p v1");
    assert_eq!(p1, &first.definitions[0]);
    assert_eq!(
        s.resource(&d1, "b.png").await.expect("resource"),
        Some(b"\x00png".to_vec())
    );
    assert_eq!(s.resource(&d1, "nope").await.expect("resource"), None);

    let v = s.repository_version();
    s.delete_deployment(&d1).await.expect("deletes");
    assert_ne!(s.repository_version(), v);
    assert_eq!(
        s.delete_deployment(&d1).await,
        Err(StoreError::NotFound(Missing::Deployment(d1.clone())))
    );
    assert_eq!(s.resource(&d1, "a.bpmn").await.expect("resource"), None);
    let repo = s.repository().await.expect("repository");
    assert_eq!(repo.deployments.len(), 2);
    assert!(repo
        .definitions
        .iter()
        .all(|p| p.deployment_id.as_deref() != Some(d1.as_str())));
}

fn new_task(key: &str, assignee: Option<&str>, candidates: Vec<Identity>) -> Task {
    Task {
        id: TaskId(0),
        instance_id: InstanceId(0),
        definition_id: "flow:1:1".into(),
        definition_key: "flow".into(),
        tenant_id: String::new(),
        task_definition_key: key.into(),
        name: Some(format!("Task {key}")),
        description: None,
        assignee: assignee.map(str::to_owned),
        owner: None,
        delegation_state: None,
        candidates,
        links: Vec::new(),
        priority: 50,
        create_time: Timestamp(T0),
        claim_time: None,
        due_date: None,
        category: None,
        form_key: None,
        suspended: false,
        end_time: None,
        delete_reason: None,
        variables: Variables::new(),
        activity_instance: None,
    }
}

async fn tasks(s: &dyn Store, filter: TaskFilter) -> Vec<Task> {
    let page = s
        .list_tasks(&TaskQuery {
            filter,
            size: 1000,
            ..TaskQuery::default()
        })
        .await
        .expect("list tasks");
    assert_eq!(page.total as usize, page.items.len());
    page.items
}

fn by_instance(id: InstanceId) -> TaskFilter {
    TaskFilter {
        instance_id: Some(id),
        ..TaskFilter::default()
    }
}

fn step(i: &ProcessInstance) -> Commit {
    Commit::new(i.id, i.revision)
}

async fn access_tokens_expire(s: &dyn Store) {
    // Redis expires tokens on its own clock: use real times, an hour ahead and a second ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .expect("clock");
    s.put_token("t-live", "kermit", Timestamp(now), Timestamp(now + 3_600_000))
        .await
        .expect("puts");
    s.put_token(
        "t-dead",
        "fozzie",
        Timestamp(now - 10_000),
        Timestamp(now - 1_000),
    )
    .await
    .expect("puts");
    assert_eq!(
        s.token_user("t-live", Timestamp(now)).await,
        Ok(Some("kermit".into()))
    );
    assert_eq!(s.token_user("t-dead", Timestamp(now)).await, Ok(None), "expired");
    assert_eq!(s.token_user("t-none", Timestamp(now)).await, Ok(None));
}

async fn items_merge_their_values_and_list_by_catalog(s: &dyn Store) {
    let item = |id: &str, entity: &str, values: &[(&str, &str)]| Item {
        id: id.into(),
        entity: entity.into(),
        entity_id: Some("1000".into()),
        label: None,
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let first = s
        .write_items(&[
            item("2@1", "Article", &[("Article.CurrentStatus", "01 New")]),
            item("1@1", "Article", &[]),
            item("1@2", "Article", &[]),
            item("3@1", "Product2G", &[]),
        ])
        .await
        .expect("writes");
    assert_eq!(first, vec![true, true, true, true]);
    let again = s
        .write_items(&[
            Item {
                label: Some("Drill <18V>".into()),
                ..item("2@1", "Article", &[("Article.Name", "Drill")])
            },
            item("4@1", "Article", &[]),
        ])
        .await
        .expect("writes");
    assert_eq!(
        again,
        vec![false, true],
        "a known item is updated, a new one created"
    );
    let merged = s.get_item("2@1").await.expect("reads").expect("there");
    assert_eq!(merged.label.as_deref(), Some("Drill <18V>"));
    assert_eq!(
        merged.values.into_iter().collect::<Vec<_>>(),
        vec![
            ("Article.CurrentStatus".to_owned(), "01 New".to_owned()),
            ("Article.Name".to_owned(), "Drill".to_owned())
        ],
        "values merge"
    );
    assert_eq!(s.get_item("9@9").await, Ok(None));
    let page = s.list_items("Article", "1", 1, 2).await.expect("lists");
    assert_eq!(page.total, 3, "Articles of catalog 1");
    let ids: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, vec!["2@1", "4@1"], "by id, from the second");
    assert_eq!(s.list_items("Article", "2", 0, 10).await.expect("lists").total, 1);
    assert_eq!(
        s.list_items("Article", "1", 5, 10).await.expect("lists").items,
        Vec::<Item>::new()
    );
    assert_eq!(s.write_items(&[]).await, Ok(Vec::new()));
}

async fn comments_stay_on_ended_instances_in_order(s: &dyn Store) {
    let i = create(s, new_instance("flow")).await;
    let comment = |message: &str, kind: &str| Comment {
        id: String::new(),
        instance_id: i.id,
        time: Timestamp(T0 + 5),
        author: Some("kermit".into()),
        kind: kind.into(),
        message: message.into(),
        source: (kind == "error").then(|| "orders:sync".into()),
        details: None,
    };
    let first = s
        .add_comment(&comment("looks good", "comment"))
        .await
        .expect("adds");
    assert_eq!(first.id, format!("{}-1", i.id));
    s.close_instances(
        &[i.id],
        &Closing {
            state: InstanceState::Failed,
            reason: None,
            at: Timestamp(T0 + 9),
        },
    )
    .await
    .expect("closes");
    let second = s
        .add_comment(&comment("timeout | retry <later>", "error"))
        .await
        .expect("an ended instance takes comments");
    assert_eq!(second.id, format!("{}-2", i.id));
    assert_eq!(
        s.comments(i.id).await.expect("reads"),
        vec![first, second],
        "oldest first, every field kept"
    );
    let missing = InstanceId(i.id.0 + 1_000_000);
    assert_eq!(
        s.add_comment(&Comment {
            instance_id: missing,
            ..comment("x", "comment")
        })
        .await,
        Err(StoreError::NotFound(Missing::Instance(missing)))
    );
    assert_eq!(s.comments(missing).await, Ok(Vec::new()), "nothing written");
}

fn record(key: &str, activity: &str, start: i64, end: Option<i64>) -> ActivityRecord {
    ActivityRecord {
        key: key.into(),
        activity_id: activity.into(),
        start_time: Timestamp(T0 + start),
        end_time: end.map(|e| Timestamp(T0 + e)),
        logged: None,
    }
}

async fn activity_history_is_kept_in_order(s: &dyn Store) {
    let i = create(
        s,
        NewInstance {
            activities: vec![record("0.0", "start", 0, Some(0)), record("0.1", "a|b", 0, None)],
            ..new_instance("flow")
        },
    )
    .await;
    assert_eq!(
        s.activity_history(i.id).await.expect("history"),
        vec![record("0.0", "start", 0, Some(0)), record("0.1", "a|b", 0, None)],
        "an activity id may hold the separator"
    );
    let mut later = Vec::new();
    for rev in 0..10u64 {
        let now = get(s, i.id).await;
        let key = format!("{}.0", rev + 1);
        later.push(record(&key, "loop", rev as i64 + 1, Some(rev as i64 + 1)));
        s.commit(&Commit {
            activities: vec![later.last().cloned().expect("just pushed")],
            ..step(&now)
        })
        .await
        .expect("commits");
    }
    // A logged step (an integration process's) keeps its iteration and status.
    let now = get(s, i.id).await;
    let logged = ActivityRecord {
        logged: Some(StepLog {
            iteration: 2,
            status: "Failed (Escalated)".into(),
        }),
        ..record("11.0", "step;1", 11, Some(12))
    };
    later.push(logged.clone());
    s.commit(&Commit {
        activities: vec![logged],
        business_status: Some("Waiting".into()),
        ..step(&now)
    })
    .await
    .expect("commits");
    assert_eq!(
        get(s, i.id).await.business_status.as_deref(),
        Some("Waiting"),
        "a commit sets the business status"
    );
    let mut want = vec![record("0.0", "start", 0, Some(0)), record("0.1", "a|b", 0, None)];
    want.extend(later);
    let got = s.activity_history(i.id).await.expect("history");
    assert_eq!(
        got, want,
        "10.0 comes after 9.0: keys order by revision, then place"
    );
    s.close_instances(
        &[i.id],
        &Closing {
            state: InstanceState::Terminated,
            reason: None,
            at: Timestamp(T0 + 99),
        },
    )
    .await
    .expect("closes");
    let closed = s.activity_history(i.id).await.expect("history");
    assert_eq!(
        closed[1].end_time,
        Some(Timestamp(T0 + 99)),
        "closing ends what was open"
    );
    assert_eq!(
        closed[0].end_time,
        Some(Timestamp(T0)),
        "ended records keep their end"
    );
    assert!(s
        .activity_history(InstanceId(i.id.0 + 7))
        .await
        .expect("history")
        .is_empty());
}

async fn commit_checks_before_it_writes(s: &dyn Store) {
    let i = create(
        s,
        NewInstance {
            tasks: vec![new_task("task", None, Vec::new())],
            ..new_instance("flow")
        },
    )
    .await;
    assert_eq!(i.revision, 0);
    let t = tasks(s, by_instance(i.id)).await.remove(0);
    assert_eq!(t.instance_id, i.id);
    assert_ne!(t.id.0, i.id.0);
    assert_eq!(s.get_task(t.id).await.expect("get task"), Some(t.clone()));
    assert_eq!(
        s.get_task(TaskId(i.id.0))
            .await
            .expect("an instance id is no task"),
        None
    );

    let write = Commit {
        variables: vec![Variable::new("x", VariableValue::Long(1))],
        links: vec![IdentityLink::user("fozzie", "participant")],
        tasks: vec![Task {
            assignee: Some("fozzie".into()),
            ..t.clone()
        }],
        ..step(&i)
    };
    let stale = Commit {
        revision: 7,
        ..write.clone()
    };
    assert_eq!(
        s.commit(&stale).await,
        Err(StoreError::Conflict(Clash::Stale(i.id)))
    );
    s.set_suspended(i.id, true).await.expect("suspends");
    assert_eq!(
        s.commit(&write).await,
        Err(StoreError::Conflict(Clash::InstanceSuspended(i.id)))
    );
    assert!(
        s.get_task(t.id).await.expect("get").expect("task").suspended,
        "suspension reaches the task"
    );
    s.set_suspended(i.id, false).await.expect("activates");
    let unknown = Commit {
        id: InstanceId(i.id.0 + 999),
        ..write.clone()
    };
    assert!(matches!(
        s.commit(&unknown).await,
        Err(StoreError::NotFound(Missing::Instance(_)))
    ));
    // Nothing of the refused commits was written.
    let now = get(s, i.id).await;
    assert_eq!(now, i);
    assert_eq!(s.get_task(t.id).await.expect("get"), Some(t.clone()));

    let (after, written) = s.commit(&write).await.expect("commits");
    assert_eq!(after.revision, 1);
    assert_eq!(after.variables.get("x"), Some(&VariableValue::Long(1)));
    assert!(after
        .identity_links
        .contains(&IdentityLink::user("fozzie", "participant")));
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].assignee.as_deref(), Some("fozzie"));
    assert_eq!(s.get_task(t.id).await.expect("get"), Some(written[0].clone()));
    assert_eq!(get(s, i.id).await, after);
    // The revision moved: the same commit again is stale.
    assert_eq!(
        s.commit(&write).await,
        Err(StoreError::Conflict(Clash::Stale(i.id)))
    );
}

async fn commit_moves_the_process_and_its_tasks(s: &dyn Store) {
    let i = create(
        s,
        NewInstance {
            tasks: vec![new_task("a", None, vec![Identity::Group("g".into())])],
            ..new_instance("flow")
        },
    )
    .await;
    let a = tasks(s, by_instance(i.id)).await.remove(0);
    // Complete `a`, fork into `b` and `c`.
    let (after, written) = s
        .commit(&Commit {
            progress: Some(Progress {
                state: InstanceState::Active,
                activity_id: Some("b".into()),
                tokens: vec!["b".into(), "c".into()],
                end_time: None,
                end_activity_id: None,
            }),
            tasks: vec![
                Task {
                    end_time: Some(Timestamp(T0 + 1)),
                    ..a.clone()
                },
                new_task("b", Some("kermit"), Vec::new()),
                new_task("c", None, vec![Identity::User("fozzie".into())]),
            ],
            ..step(&i)
        })
        .await
        .expect("forks");
    assert_eq!(after.tokens, vec!["b".to_owned(), "c".to_owned()]);
    assert_eq!(get(s, i.id).await, after);
    let ids: Vec<TaskId> = written.iter().map(|t| t.id).collect();
    assert_eq!(ids[0], a.id);
    assert!(ids[1] != ids[2] && !ids[1..].contains(&a.id) && ids[1].0 != i.id.0);
    let open: BTreeSet<TaskId> = tasks(s, by_instance(i.id)).await.iter().map(|t| t.id).collect();
    assert_eq!(open, ids[1..].iter().copied().collect());
    let done = tasks(
        s,
        TaskFilter {
            finished: Some(true),
            ..by_instance(i.id)
        },
    )
    .await;
    assert_eq!(done.iter().map(|t| t.id).collect::<Vec<_>>(), vec![a.id]);
    assert!(tasks(
        s,
        TaskFilter {
            candidate_groups: Some(vec!["g".into()]),
            ..TaskFilter::default()
        }
    )
    .await
    .is_empty());

    // End the process: the instance closes and leaves the open indexes.
    let b = written[1].clone();
    let c = written[2].clone();
    let (ended, _) = s
        .commit(&Commit {
            progress: Some(Progress {
                state: InstanceState::Completed,
                activity_id: None,
                tokens: Vec::new(),
                end_time: Some(Timestamp(T0 + 2)),
                end_activity_id: Some("end".into()),
            }),
            tasks: vec![
                Task {
                    end_time: Some(Timestamp(T0 + 2)),
                    ..b
                },
                Task {
                    end_time: Some(Timestamp(T0 + 2)),
                    ..c
                },
            ],
            ..step(&after)
        })
        .await
        .expect("ends");
    assert_eq!(
        (
            ended.state,
            ended.end_time,
            ended.end_activity_id.as_deref(),
            ended.activity_id.clone()
        ),
        (
            InstanceState::Completed,
            Some(Timestamp(T0 + 2)),
            Some("end"),
            None
        )
    );
    assert!(ended.tokens.is_empty());
    assert_eq!(get(s, i.id).await, ended);
    assert!(list(s, &query(InstanceFilter::default()))
        .await
        .items
        .iter()
        .all(|x| x.id != i.id));
    assert!(tasks(s, by_instance(i.id)).await.is_empty());
    assert_eq!(
        s.commit(&step(&ended)).await,
        Err(StoreError::NotFound(Missing::Instance(i.id))),
        "an ended instance takes no more steps"
    );
}

async fn task_queries(s: &dyn Store) {
    let i = create(
        s,
        NewInstance {
            tasks: vec![
                new_task("a", Some("kermit"), Vec::new()),
                new_task(
                    "b",
                    None,
                    vec![Identity::User("fozzie".into()), Identity::Group("mgmt".into())],
                ),
                new_task(
                    "c",
                    None,
                    vec![Identity::Group("mgmt".into()), Identity::Group("sales".into())],
                ),
                Task {
                    priority: 90,
                    delegation_state: Some(DelegationState::Pending),
                    owner: Some("kermit".into()),
                    ..new_task("d", Some("gonzo"), vec![Identity::User("fozzie".into())])
                },
            ],
            ..new_instance("flow")
        },
    )
    .await;
    let other = create(
        s,
        NewInstance {
            tasks: vec![new_task("e", Some("kermit"), Vec::new())],
            ..new_instance("other")
        },
    )
    .await;
    let keys = |ts: Vec<Task>| {
        let mut k: Vec<String> = ts.into_iter().map(|t| t.task_definition_key).collect();
        k.sort();
        k
    };
    let f = TaskFilter::default;
    assert_eq!(keys(tasks(s, by_instance(i.id)).await), ["a", "b", "c", "d"]);
    assert_eq!(keys(tasks(s, by_instance(other.id)).await), ["e"]);
    let kermit = TaskFilter {
        assignee: Some(TextMatch::Equals("kermit".into())),
        ..f()
    };
    assert_eq!(keys(tasks(s, kermit).await), ["a", "e"]);
    let fozzie = TaskFilter {
        candidate_user: Some("fozzie".into()),
        ..f()
    };
    assert_eq!(
        keys(tasks(s, fozzie).await),
        ["b"],
        "an assigned task is nobody's candidate task"
    );
    let mgmt = TaskFilter {
        candidate_groups: Some(vec!["mgmt".into()]),
        ..f()
    };
    assert_eq!(keys(tasks(s, mgmt).await), ["b", "c"]);
    let either = TaskFilter {
        candidate_user: Some("fozzie".into()),
        candidate_groups: Some(vec!["sales".into()]),
        ..f()
    };
    assert_eq!(keys(tasks(s, either).await), ["b", "c"]);
    let unassigned = TaskFilter {
        unassigned: Some(true),
        definition_key: Some(TextMatch::Equals("flow".into())),
        ..f()
    };
    assert_eq!(keys(tasks(s, unassigned).await), ["b", "c"]);
    let involved = TaskFilter {
        involved_user: Some("kermit".into()),
        ..by_instance(i.id)
    };
    assert_eq!(keys(tasks(s, involved).await), ["a", "d"]);
    let pending = TaskFilter {
        delegation_state: Some(DelegationState::Pending),
        min_priority: Some(60),
        ..f()
    };
    assert_eq!(keys(tasks(s, pending).await), ["d"]);

    // Sorting and paging over every open task of the two instances.
    let all = TaskFilter {
        instance_ids: Some(vec![i.id, other.id]),
        ..f()
    };
    let page = s
        .list_tasks(&TaskQuery {
            filter: all.clone(),
            sort: TaskSort::Priority,
            order: SortOrder::Desc,
            start: 0,
            size: 2,
            ..TaskQuery::default()
        })
        .await
        .expect("page");
    assert_eq!(page.total, 5);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].task_definition_key, "d", "highest priority first");
    let by_id = s
        .list_tasks(&TaskQuery {
            filter: all,
            start: 1,
            size: 10,
            ..TaskQuery::default()
        })
        .await
        .expect("by id");
    assert_eq!((by_id.total, by_id.items.len(), by_id.start), (5, 4, 1));
    let mut ids: Vec<String> = by_id.items.iter().map(|t| t.id.to_string()).collect();
    let sorted = {
        let mut x = ids.clone();
        x.sort();
        x
    };
    assert_eq!(ids, sorted, "id order is string order");
    ids.clear();

    // Closing the instance ends its open tasks; the other instance's stay.
    s.close_instances(
        &[i.id],
        &Closing {
            state: InstanceState::Terminated,
            reason: Some("stop".into()),
            at: Timestamp(T0 + 5),
        },
    )
    .await
    .expect("closes");
    assert!(tasks(s, by_instance(i.id)).await.is_empty());
    let ended = tasks(
        s,
        TaskFilter {
            finished: Some(true),
            ..by_instance(i.id)
        },
    )
    .await;
    assert_eq!(ended.len(), 4);
    assert!(ended
        .iter()
        .all(|t| t.end_time == Some(Timestamp(T0 + 5)) && t.delete_reason.as_deref() == Some("stop")));
    assert_eq!(
        keys(
            tasks(
                s,
                TaskFilter {
                    assignee: Some(TextMatch::Equals("kermit".into())),
                    ..f()
                }
            )
            .await
        ),
        ["e"]
    );
}

const T0: i64 = 1_700_000_000_000;

fn new_instance(key: &str) -> NewInstance {
    NewInstance {
        definition_id: format!("{key}:1:4"),
        definition_key: key.to_owned(),
        definition_version: 1,
        tenant_id: String::new(),
        name: None,
        business_key: None,
        state: InstanceState::Active,
        activity_id: Some("task".to_owned()),
        tokens: vec!["task".to_owned()],
        start_activity_id: Some("start".to_owned()),
        end_activity_id: None,
        start_time: Timestamp(T0),
        end_time: None,
        start_user_id: None,
        origin: None,
        variables: Variables::new(),
        identity_links: Vec::new(),
        tasks: Vec::new(),
        activities: Vec::new(),
    }
}

async fn create(s: &dyn Store, new: NewInstance) -> ProcessInstance {
    s.create_instance(new).await.expect("create")
}

async fn get(s: &dyn Store, id: InstanceId) -> ProcessInstance {
    s.get_instance(id).await.expect("get").expect("instance exists")
}

async fn list(s: &dyn Store, query: &InstanceQuery) -> Page<ProcessInstance> {
    s.list_instances(query).await.expect("list")
}

fn query(filter: InstanceFilter) -> InstanceQuery {
    InstanceQuery {
        filter,
        size: 1000,
        ..InstanceQuery::default()
    }
}

fn ids_of(items: &[ProcessInstance]) -> Vec<InstanceId> {
    items.iter().map(|i| i.id).collect()
}

/// The page `query` should answer over `all`, by the reference matcher and order.
fn expected(query: &InstanceQuery, all: &[ProcessInstance]) -> (Vec<InstanceId>, u64) {
    let mut hits: Vec<&ProcessInstance> = all.iter().filter(|i| query.filter.matches(i)).collect();
    hits.sort_by(|a, b| query.compare(a, b));
    let total = hits.len() as u64;
    let page = hits
        .iter()
        .skip(query.start)
        .take(query.size)
        .map(|i| i.id)
        .collect();
    (page, total)
}

/// Asserts the store answers `query` as the reference does over `all`; answers the page.
async fn check(s: &dyn Store, query: &InstanceQuery, all: &[ProcessInstance]) -> Vec<InstanceId> {
    let page = list(s, query).await;
    let (ids, total) = expected(query, all);
    assert_eq!(ids_of(&page.items), ids, "page of {query:?}");
    assert_eq!(page.total, total, "total of {query:?}");
    assert_eq!(page.start, query.start);
    for item in &page.items {
        let stored = all.iter().find(|i| i.id == item.id).expect("known instance");
        assert_eq!(item, stored, "listed instance equals the stored one");
    }
    ids
}

async fn refresh(s: &dyn Store, all: &mut [ProcessInstance]) {
    for i in all.iter_mut() {
        *i = get(s, i.id).await;
    }
}

fn closing(state: InstanceState, reason: Option<&str>) -> Closing {
    Closing {
        state,
        reason: reason.map(str::to_owned),
        at: Timestamp(T0 + 99_000),
    }
}

const UNKNOWN: InstanceId = InstanceId(999_999_999);
const UNKNOWN_2: InstanceId = InstanceId(999_999_984);

// ---- behaviours ----

async fn ids_are_unique(s: &dyn Store) {
    let mut seen = BTreeSet::new();
    for _ in 0..40 {
        let i = create(s, new_instance("unique")).await;
        assert!(seen.insert(i.id), "id {} handed out twice", i.id);
        assert_eq!(get(s, i.id).await.id, i.id);
    }
}

fn every_variable_kind() -> Variables {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let values = [
        ("null", VariableValue::Null),
        (
            "string",
            VariableValue::String("Grüße, \"quoted\"\nline 2 🎉".to_owned()),
        ),
        ("emptyString", VariableValue::String(String::new())),
        ("longString", VariableValue::String("x".repeat(300))),
        ("short", VariableValue::Short(i16::MIN)),
        ("integer", VariableValue::Integer(i32::MAX)),
        ("long", VariableValue::Long(i64::MAX)),
        ("longMin", VariableValue::Long(i64::MIN)),
        ("double", VariableValue::Double(0.1)),
        ("doubleBig", VariableValue::Double(-1.7976931348623157e308)),
        ("doubleTiny", VariableValue::Double(5e-324)),
        ("doubleInfinite", VariableValue::Double(f64::INFINITY)),
        ("doubleNegInfinite", VariableValue::Double(f64::NEG_INFINITY)),
        ("boolean", VariableValue::Boolean(true)),
        ("date", VariableValue::Date(Timestamp(1_700_000_000_123))),
        ("datePre1970", VariableValue::Date(Timestamp(-86_400_001))),
        ("instant", VariableValue::Instant(Timestamp(0))),
        ("localDate", VariableValue::LocalDate("2025-11-24".to_owned())),
        (
            "localDateTime",
            VariableValue::LocalDateTime("2025-11-24T13:16:00".to_owned()),
        ),
        (
            "bigDecimal",
            VariableValue::BigDecimal("12345678901234567890.000000001".to_owned()),
        ),
        (
            "bigInteger",
            VariableValue::BigInteger("-123456789012345678901234567890".to_owned()),
        ),
        (
            "uuid",
            VariableValue::Uuid("5f0c8a4e-2d5b-4c8e-9a39-0d1c2b3a4f5e".to_owned()),
        ),
        (
            "json",
            VariableValue::Json(json!({
                "emptyArray": [], "emptyObject": {}, "nested": [[], {}, [1, {"a": []}]],
                "big": i64::MAX, "bigger": u64::MAX, "negative": i64::MIN, "float": 2.5,
                "null": null, "text": "ü"
            })),
        ),
        ("jsonEmptyArray", VariableValue::Json(json!([]))),
        ("jsonEmptyObject", VariableValue::Json(json!({}))),
        (
            "binary",
            VariableValue::Binary(Blob {
                data: all_bytes.clone(),
                content_type: Some("application/octet-stream".to_owned()),
            }),
        ),
        (
            "binaryEmpty",
            VariableValue::Binary(Blob {
                data: Vec::new(),
                content_type: None,
            }),
        ),
        (
            "serializable",
            VariableValue::Serializable(Blob {
                data: all_bytes,
                content_type: Some("application/x-java-serialized-object".to_owned()),
            }),
        ),
        ("name:with:colons", VariableValue::Integer(1)),
        ("", VariableValue::Boolean(false)),
    ];
    values.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

async fn create_and_get_round_trip(s: &dyn Store) {
    let full = NewInstance {
        definition_id: "order:3:17".to_owned(),
        definition_key: "order".to_owned(),
        definition_version: 3,
        tenant_id: "acme".to_owned(),
        name: Some("Order 4711 — ü".to_owned()),
        business_key: Some("BK:4711 {x}".to_owned()),
        state: InstanceState::Active,
        activity_id: Some("approve".to_owned()),
        tokens: vec!["approve".to_owned(), "join".to_owned()],
        start_activity_id: Some("start".to_owned()),
        end_activity_id: None,
        start_time: Timestamp(1_732_454_160_123),
        end_time: None,
        start_user_id: Some("kermit".to_owned()),
        origin: Some("flowable".to_owned()),
        variables: every_variable_kind(),
        // Unsorted, with a duplicate: the store keeps them sorted and unique.
        identity_links: vec![
            IdentityLink::user("kermit", "starter"),
            IdentityLink::group("management", "candidate"),
            IdentityLink::user("fozzie", "participant"),
            IdentityLink::user("kermit", "starter"),
            IdentityLink::user("kermit", "participant"),
        ],
        tasks: Vec::new(),
        activities: Vec::new(),
    };
    let created = create(s, full.clone()).await;
    assert_eq!(created, full.clone().with_id(created.id));
    assert_eq!(created.identity_links.len(), 4);
    let read = get(s, created.id).await;
    assert_eq!(read, created);
    // Byte-exact through the stored JSON too.
    for (name, value) in &read.variables {
        assert_eq!(
            serde_json::to_string(value).expect("serializes"),
            serde_json::to_string(&full.variables[name]).expect("serializes"),
            "variable {name:?}"
        );
    }

    // NaN is a value like any other (JSON cannot spell it; the store must keep it anyway).
    let mut nan = Variables::new();
    nan.insert("nan".to_owned(), VariableValue::Double(f64::NAN));
    let created = create(
        s,
        NewInstance {
            variables: nan,
            ..new_instance("nan")
        },
    )
    .await;
    assert!(
        matches!(get(s, created.id).await.variables.get("nan"), Some(VariableValue::Double(x)) if x.is_nan())
    );

    let bare = NewInstance {
        activity_id: None,
        ..new_instance("bare")
    };
    let created = create(s, bare.clone()).await;
    assert_eq!(get(s, created.id).await, bare.with_id(created.id));

    let empty_strings = NewInstance {
        name: Some(String::new()),
        business_key: Some(String::new()),
        start_user_id: Some(String::new()),
        origin: Some(String::new()),
        activity_id: Some(String::new()),
        ..new_instance("empty")
    };
    let created = create(s, empty_strings.clone()).await;
    assert_eq!(get(s, created.id).await, empty_strings.with_id(created.id));
}

async fn unknown_ids_read_as_none(s: &dyn Store) {
    create(s, new_instance("one")).await;
    for id in [UNKNOWN, UNKNOWN_2, InstanceId(0), InstanceId(u64::MAX)] {
        assert_eq!(s.get_instance(id).await, Ok(None), "{id}");
    }
}

async fn list_default_is_open_instances_in_string_id_order(s: &dyn Store) {
    // Enough instances that ids cross a digit boundary in both stores ("99" > "100").
    let mut all = Vec::new();
    for n in 0..110 {
        all.push(
            create(
                s,
                NewInstance {
                    name: Some(format!("n{n}")),
                    ..new_instance("many")
                },
            )
            .await,
        );
    }
    let mut by_string: Vec<InstanceId> = ids_of(&all);
    by_string.sort_by_key(|id| id.to_string());
    // The memory store's ids cross a digit boundary here ("99" < "100" numerically, not as
    // strings); the Redis store's ids all have 14 digits, where both orders agree by design.

    let first = list(s, &InstanceQuery::default()).await;
    assert_eq!(first.total, 110);
    assert_eq!(first.start, 0);
    assert_eq!(
        ids_of(&first.items),
        by_string[..10].to_vec(),
        "default page: 10, string order"
    );

    let mut paged = Vec::new();
    for start in (0..110).step_by(25) {
        let page = list(
            s,
            &InstanceQuery {
                start,
                size: 25,
                ..InstanceQuery::default()
            },
        )
        .await;
        assert_eq!(page.total, 110);
        paged.extend(ids_of(&page.items));
    }
    assert_eq!(paged, by_string);

    let desc = list(
        s,
        &InstanceQuery {
            order: SortOrder::Desc,
            start: 5,
            size: 7,
            ..InstanceQuery::default()
        },
    )
    .await;
    let mut reversed = by_string.clone();
    reversed.reverse();
    assert_eq!(ids_of(&desc.items), reversed[5..12].to_vec());

    let beyond = list(
        s,
        &InstanceQuery {
            start: 500,
            ..InstanceQuery::default()
        },
    )
    .await;
    assert!(beyond.items.is_empty());
    assert_eq!((beyond.total, beyond.start), (110, 500));
    let none = list(
        s,
        &InstanceQuery {
            size: 0,
            ..InstanceQuery::default()
        },
    )
    .await;
    assert!(none.items.is_empty());
    assert_eq!(none.total, 110);
    let huge = list(
        s,
        &InstanceQuery {
            start: 100,
            size: usize::MAX,
            ..InstanceQuery::default()
        },
    )
    .await;
    assert_eq!(ids_of(&huge.items), by_string[100..].to_vec());
}

/// 30 varied instances: three keys, business keys with repeats, three tenants, suspended and
/// closed ones, links, variables and a business status. Answers them as stored.
async fn varied(s: &dyn Store) -> Vec<ProcessInstance> {
    let mut all = Vec::new();
    for i in 0..30i64 {
        let key = ["order", "invoice", "hr"][(i % 3) as usize];
        let user = ["kermit", "fozzie"][(i % 2) as usize];
        let mut variables = Variables::new();
        variables.insert("amount".to_owned(), VariableValue::Long(i * 10));
        variables.insert(
            "who".to_owned(),
            VariableValue::String(format!("Person {}", i % 4)),
        );
        let mut links = vec![IdentityLink::user(user, "starter")];
        if i % 3 == 0 {
            links.push(IdentityLink::group("mgmt", "candidate"));
        }
        if i % 5 == 0 {
            links.push(IdentityLink::user("gonzo", "participant"));
        }
        let new = NewInstance {
            definition_id: format!("{key}:{}:{}", 1 + i % 2, 100 + i % 2),
            definition_version: (1 + i % 2) as u32,
            tenant_id: ["", "acme", "globex"][((i / 3) % 3) as usize].to_owned(),
            name: (i % 2 == 0).then(|| format!("Name {i}")),
            business_key: (i % 4 != 0).then(|| format!("BK-{}", i % 5)),
            activity_id: Some(["review", "approve", "ship"][((i / 2) % 3) as usize].to_owned()),
            start_time: Timestamp(T0 + (i * 7919) % 30 * 1000),
            start_user_id: Some(user.to_owned()),
            variables,
            identity_links: links,
            ..new_instance(key)
        };
        all.push(create(s, new).await);
    }
    for (n, i) in all.iter().enumerate() {
        if n % 6 == 0 {
            s.update_instance(&UpdateInstance {
                id: i.id,
                business_status: Some("urgent".to_owned()),
                ..UpdateInstance::default()
            })
            .await
            .expect("update");
        }
        if n % 5 == 1 {
            s.set_suspended(i.id, true).await.expect("suspend");
        }
    }
    let completed: Vec<InstanceId> = all
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 7 == 3)
        .map(|(_, i)| i.id)
        .collect();
    s.close_instances(&completed, &closing(InstanceState::Completed, None))
        .await
        .expect("close");
    s.close_instances(
        &[all[20].id],
        &closing(InstanceState::Terminated, Some("cancelled")),
    )
    .await
    .expect("close");
    refresh(s, &mut all).await;
    all
}

fn text(m: fn(String) -> TextMatch, s: &str) -> Option<TextMatch> {
    Some(m(s.to_owned()))
}

async fn list_filters(s: &dyn Store) {
    let all = varied(s).await;
    let open = |n: usize| all[n].state.is_open();
    let f = InstanceFilter::default;
    let var = |name: &str, op, value| VariableFilter {
        name: Some(name.to_owned()),
        op,
        value,
    };
    let every_state = InstanceState::ALL.to_vec();
    // (filter, number of matches worked out by hand from `varied`)
    let cases: Vec<(InstanceFilter, usize)> = vec![
        (f(), 25),
        (
            InstanceFilter {
                ids: Some(vec![all[0].id, all[3].id, all[4].id, UNKNOWN]),
                ..f()
            },
            2,
        ),
        (
            InstanceFilter {
                ids: Some(vec![]),
                ..f()
            },
            0,
        ),
        (
            InstanceFilter {
                name: text(TextMatch::Equals, "Name 4"),
                ..f()
            },
            1,
        ),
        (
            InstanceFilter {
                name: text(TextMatch::Like, "Name 1%"),
                ..f()
            },
            4,
        ),
        (
            InstanceFilter {
                name: text(TextMatch::LikeIgnoreCase, "name _"),
                ..f()
            },
            5,
        ),
        (
            InstanceFilter {
                definition_key: text(TextMatch::Equals, "order"),
                ..f()
            },
            8,
        ),
        (
            InstanceFilter {
                definition_key: text(TextMatch::Equals, "nope"),
                ..f()
            },
            0,
        ),
        (
            InstanceFilter {
                definition_key: text(TextMatch::Like, "%o%"),
                ..f()
            },
            17,
        ),
        (
            InstanceFilter {
                definition_keys: Some(vec!["order".into(), "hr".into()]),
                ..f()
            },
            16,
        ),
        (
            InstanceFilter {
                definition_keys: Some(vec!["hr".into()]),
                ..f()
            },
            8,
        ),
        (
            InstanceFilter {
                excluded_definition_keys: Some(vec!["order".into()]),
                ..f()
            },
            17,
        ),
        (
            InstanceFilter {
                definition_ids: Some(vec!["order:1:100".into()]),
                ..f()
            },
            4,
        ),
        (
            InstanceFilter {
                business_key: text(TextMatch::Equals, "BK-1"),
                ..f()
            },
            5,
        ),
        (
            InstanceFilter {
                business_key: text(TextMatch::Like, "bk-%"),
                ..f()
            },
            0,
        ),
        (
            InstanceFilter {
                business_key: text(TextMatch::LikeIgnoreCase, "bk-%"),
                ..f()
            },
            19,
        ),
        (
            InstanceFilter {
                business_status: text(TextMatch::Equals, "urgent"),
                ..f()
            },
            4,
        ),
        (
            InstanceFilter {
                started_by: Some("fozzie".into()),
                ..f()
            },
            13,
        ),
        (
            InstanceFilter {
                started_before: Some(Timestamp(T0 + 10_000)),
                ..f()
            },
            9,
        ),
        (
            InstanceFilter {
                started_after: Some(Timestamp(T0 + 10_000)),
                ..f()
            },
            16,
        ),
        (
            InstanceFilter {
                activity_ids: Some(vec!["ship".into(), "review".into()]),
                ..f()
            },
            17,
        ),
        (
            InstanceFilter {
                involved_user: Some("gonzo".into()),
                ..f()
            },
            4,
        ),
        (
            InstanceFilter {
                suspended: Some(true),
                ..f()
            },
            6,
        ),
        (
            InstanceFilter {
                suspended: Some(false),
                ..f()
            },
            19,
        ),
        (
            InstanceFilter {
                tenant_id: text(TextMatch::Equals, "acme"),
                ..f()
            },
            8,
        ),
        (
            InstanceFilter {
                tenant_id: text(TextMatch::Equals, ""),
                ..f()
            },
            10,
        ),
        (
            InstanceFilter {
                tenant_id: text(TextMatch::Like, "%e%"),
                ..f()
            },
            15,
        ),
        (
            InstanceFilter {
                without_tenant: true,
                ..f()
            },
            10,
        ),
        (
            InstanceFilter {
                variables: vec![var(
                    "amount",
                    VariableOp::GreaterThanOrEquals,
                    Some(VariableValue::Long(200)),
                )],
                ..f()
            },
            8,
        ),
        (
            InstanceFilter {
                variables: vec![var("missing", VariableOp::NotExists, None)],
                ..f()
            },
            25,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Completed],
                ..f()
            },
            4,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Terminated],
                ..f()
            },
            1,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Active],
                ..f()
            },
            19,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Suspended],
                ..f()
            },
            6,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Suspended, InstanceState::Completed],
                ..f()
            },
            10,
        ),
        (
            InstanceFilter {
                states: every_state.clone(),
                ..f()
            },
            30,
        ),
        (
            InstanceFilter {
                states: every_state.clone(),
                definition_key: text(TextMatch::Equals, "invoice"),
                ..f()
            },
            10,
        ),
        (
            InstanceFilter {
                states: vec![InstanceState::Completed],
                ids: Some(vec![all[3].id, all[4].id]),
                ..f()
            },
            1,
        ),
        (
            InstanceFilter {
                impossible: true,
                ..f()
            },
            0,
        ),
        (
            InstanceFilter {
                definition_key: text(TextMatch::Equals, "order"),
                suspended: Some(true),
                ..f()
            },
            2,
        ),
        (
            InstanceFilter {
                business_key: text(TextMatch::Equals, "BK-2"),
                tenant_id: text(TextMatch::Equals, "globex"),
                ..f()
            },
            1,
        ),
    ];
    assert!(open(0) && !open(3) && !open(20));
    for (filter, count) in cases {
        let q = query(filter.clone());
        let ids = check(s, &q, &all).await;
        assert_eq!(ids.len(), count, "matches of {filter:?}");
        // And a descending page out of the middle, in another order.
        let q = InstanceQuery {
            sort: InstanceSort::StartTime,
            order: SortOrder::Desc,
            start: 1,
            size: 3,
            ..q
        };
        check(s, &q, &all).await;
    }
}

async fn list_sorts_and_paging(s: &dyn Store) {
    let all = varied(s).await;
    let sorts = [
        InstanceSort::Id,
        InstanceSort::DefinitionId,
        InstanceSort::DefinitionKey,
        InstanceSort::StartTime,
        InstanceSort::TenantId,
        InstanceSort::BusinessKey,
    ];
    let filters = [
        InstanceFilter::default(),
        InstanceFilter {
            states: vec![
                InstanceState::Active,
                InstanceState::Completed,
                InstanceState::Terminated,
            ],
            ..InstanceFilter::default()
        },
        InstanceFilter {
            definition_key: text(TextMatch::Equals, "order"),
            ..InstanceFilter::default()
        },
    ];
    for filter in &filters {
        for sort in sorts {
            for order in [SortOrder::Asc, SortOrder::Desc] {
                for (start, size) in [(0, 1000), (0, 4), (3, 5), (20, 10), (40, 5)] {
                    let q = InstanceQuery {
                        filter: filter.clone(),
                        sort,
                        order,
                        start,
                        size,
                        ..InstanceQuery::default()
                    };
                    check(s, &q, &all).await;
                }
            }
        }
    }
}

/// `check` for every filter, in both orders, at every `(start, size)`.
async fn check_pages(
    s: &dyn Store,
    all: &[ProcessInstance],
    filters: &[InstanceFilter],
    pages: &[(usize, usize)],
) {
    for filter in filters {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for &(start, size) in pages {
                let q = InstanceQuery {
                    filter: filter.clone(),
                    order,
                    start,
                    size,
                    ..InstanceQuery::default()
                };
                check(s, &q, all).await;
            }
        }
    }
}

/// Enough instances that each index spans several chunks on Redis (a chunk holds a stretch of
/// 100 ids of one shard): pages at and across chunk boundaries in both orders, and the same
/// after closing a long stretch of instances empties whole chunks.
async fn lists_page_through_thousands_of_instances(s: &dyn Store) {
    let mut all = Vec::new();
    for n in 0..2100 {
        let mut new = new_instance("many");
        if n % 3 == 0 {
            new.tasks = vec![new_task("review", Some("ann"), Vec::new())];
        }
        all.push(create(s, new).await);
    }
    let filters = [
        InstanceFilter::default(),
        InstanceFilter {
            definition_key: text(TextMatch::Equals, "many"),
            ..InstanceFilter::default()
        },
    ];
    // On Redis, pages ending within 100 members read the first shard's first two chunks with
    // plain commands (`PEEK_LIMIT`): within the first chunk, across into the second, starting
    // in it, and reaching past it (the page script then).
    let pages = [
        (0, 10),
        (0, 2),
        (45, 10),
        (60, 2),
        (70, 20),
        (30, 70),
        (0, 100),
        (95, 10),
        (1000, 300),
        (2090, 20),
        (2200, 10),
    ];
    check_pages(s, &all, &filters, &pages).await;
    let assigned = TaskFilter {
        assignee: Some(TextMatch::Equals("ann".into())),
        ..TaskFilter::default()
    };
    assert_eq!(tasks(s, assigned.clone()).await.len(), 700);

    let closed: Vec<InstanceId> = all[..1500].iter().map(|i| i.id).collect();
    s.close_instances(&closed, &closing(InstanceState::Completed, None))
        .await
        .expect("close");
    refresh(s, &mut all).await;
    check_pages(s, &all, &filters, &pages).await;
    let open_tasks = tasks(s, assigned).await;
    assert_eq!(open_tasks.len(), 700 - (0..1500).filter(|n| n % 3 == 0).count());
    assert!(open_tasks.iter().all(|t| !closed.contains(&t.instance_id)));
}

/// Instances with three tasks each, so that a chunk (100 ids of a shard) holds 25 of them:
/// on Redis, first pages of up to 100 members that reach past the first shard's first two
/// chunks (which plain reads cover) fall back to the page script.
async fn first_pages_past_two_chunks(s: &dyn Store) {
    let mut all = Vec::new();
    for _ in 0..16 * 60 {
        let mut new = new_instance("tasked");
        new.tasks = (0..3).map(|_| new_task("review", None, Vec::new())).collect();
        all.push(create(s, new).await);
    }
    let filters = [InstanceFilter {
        definition_key: text(TextMatch::Equals, "tasked"),
        ..InstanceFilter::default()
    }];
    check_pages(
        s,
        &all,
        &filters,
        &[(0, 60), (40, 20), (55, 5), (0, 100), (60, 40)],
    )
    .await;
}

/// On Redis a node remembers how many members the first chunk of an index had and, while
/// that held the page, reads it alone on speculation: first pages stay right when that chunk
/// then shrinks below the page (the short read is not taken for the end of the index).
async fn first_pages_after_the_first_chunk_shrinks(s: &dyn Store) {
    let mut all = Vec::new();
    // 150 per shard: two chunks on each (a chunk is 100 ids of a shard).
    for _ in 0..16 * 150 {
        all.push(create(s, new_instance("shrinking")).await);
    }
    let filters = [InstanceFilter {
        definition_key: text(TextMatch::Equals, "shrinking"),
        ..InstanceFilter::default()
    }];
    let pages = [(0, 10), (5, 20)];
    // The first round learns the chunk names, the second their sizes, the third reads one.
    for _ in 0..3 {
        check_pages(s, &all, &filters, &pages).await;
    }
    let mut by_id: Vec<InstanceId> = all.iter().map(|i| i.id).collect();
    by_id.sort_by_key(|id| id.to_string());
    let ends: Vec<InstanceId> = by_id[..95]
        .iter()
        .chain(&by_id[by_id.len() - 95..])
        .copied()
        .collect();
    s.close_instances(&ends, &closing(InstanceState::Completed, None))
        .await
        .expect("close");
    refresh(s, &mut all).await;
    for _ in 0..3 {
        check_pages(s, &all, &filters, &pages).await;
    }
}

/// Many instances under one business key (on Redis more than a shard lists in its bucket
/// field, so its index becomes chunked) beside a few under others: pages in both orders,
/// before and after closing most of them, and none once all are closed.
async fn many_instances_share_a_business_key(s: &dyn Store) {
    let mut all = Vec::new();
    for n in 0..300 {
        let business_key = if n % 50 == 7 {
            format!("own-{n}")
        } else {
            "shared".to_owned()
        };
        let new = NewInstance {
            business_key: Some(business_key),
            ..new_instance("shared")
        };
        all.push(create(s, new).await);
    }
    let filters = ["shared", "own-57", "own-1"].map(|bk| InstanceFilter {
        business_key: text(TextMatch::Equals, bk),
        ..InstanceFilter::default()
    });
    let pages = [(0, 10), (0, 1), (15, 20), (280, 30), (0, 1000)];
    check_pages(s, &all, &filters, &pages).await;
    let closed: Vec<InstanceId> = all[..250].iter().map(|i| i.id).collect();
    s.close_instances(&closed, &closing(InstanceState::Completed, None))
        .await
        .expect("close");
    refresh(s, &mut all).await;
    check_pages(s, &all, &filters, &pages).await;
    let rest: Vec<InstanceId> = all[250..].iter().map(|i| i.id).collect();
    s.close_instances(&rest, &closing(InstanceState::Completed, None))
        .await
        .expect("close the rest");
    assert_eq!(list(s, &query(filters[0].clone())).await.total, 0);
}

/// A query that does not use variables and identity links gets the same page without them,
/// on the index paths and the general one (where a variable filter still applies).
async fn lists_without_details(s: &dyn Store) {
    varied(s).await;
    let filters = [
        InstanceFilter::default(),
        InstanceFilter {
            definition_key: text(TextMatch::Equals, "order"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            business_key: text(TextMatch::Equals, "BK-1"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            variables: vec![VariableFilter {
                name: Some("amount".into()),
                op: VariableOp::GreaterThan,
                value: Some(VariableValue::Long(100)),
            }],
            states: InstanceState::ALL.to_vec(),
            ..InstanceFilter::default()
        },
    ];
    for filter in filters {
        for sort in [InstanceSort::Id, InstanceSort::StartTime] {
            let detailed = InstanceQuery {
                sort,
                size: 7,
                ..query(filter.clone())
            };
            let full = list(s, &detailed).await;
            assert!(
                full.items
                    .iter()
                    .any(|i| !i.variables.is_empty() && !i.identity_links.is_empty()),
                "{detailed:?} has details to leave out"
            );
            let lean = list(
                s,
                &InstanceQuery {
                    with_details: false,
                    ..detailed.clone()
                },
            )
            .await;
            assert_eq!(lean.total, full.total, "{detailed:?}");
            let expected: Vec<ProcessInstance> =
                full.items.iter().map(ProcessInstance::without_details).collect();
            assert_eq!(lean.items, expected, "{detailed:?}");
        }
    }
}

/// The same selection asked so that one form can use an index's fast path and the other
/// cannot: the answers are the same.
async fn fast_and_general_paths_agree(s: &dyn Store) {
    let all = varied(s).await;
    let pairs = [
        (
            InstanceFilter {
                definition_key: text(TextMatch::Equals, "hr"),
                ..InstanceFilter::default()
            },
            InstanceFilter {
                definition_keys: Some(vec!["hr".into()]),
                ..InstanceFilter::default()
            },
        ),
        (
            InstanceFilter {
                suspended: Some(true),
                ..InstanceFilter::default()
            },
            InstanceFilter {
                states: vec![InstanceState::Suspended],
                ..InstanceFilter::default()
            },
        ),
        (
            InstanceFilter::default(),
            InstanceFilter {
                states: vec![InstanceState::Active, InstanceState::Suspended],
                ..InstanceFilter::default()
            },
        ),
        (
            InstanceFilter {
                business_key: text(TextMatch::Equals, "BK-3"),
                ..InstanceFilter::default()
            },
            InstanceFilter {
                business_key: text(TextMatch::Like, "BK-3"),
                ..InstanceFilter::default()
            },
        ),
        (
            InstanceFilter {
                tenant_id: text(TextMatch::Equals, "globex"),
                ..InstanceFilter::default()
            },
            InstanceFilter {
                tenant_id: text(TextMatch::Like, "globex"),
                ..InstanceFilter::default()
            },
        ),
    ];
    for (a, b) in pairs {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for (start, size) in [(0, 1000), (1, 2), (4, 3)] {
                let qa = InstanceQuery {
                    filter: a.clone(),
                    order,
                    start,
                    size,
                    sort: InstanceSort::Id,
                    ..InstanceQuery::default()
                };
                let qb = InstanceQuery {
                    filter: b.clone(),
                    ..qa.clone()
                };
                assert_eq!(list(s, &qa).await, list(s, &qb).await, "{a:?} vs {b:?}");
                check(s, &qa, &all).await;
            }
        }
    }
}

/// Redis packs a new instance's rarely set fields itself (in Rust) and changes them in Lua:
/// both must read each other's packing.
async fn fields_packed_at_create_survive_later_changes(s: &dyn Store) {
    let a = create(
        s,
        NewInstance {
            name: Some("Order 4711 — ü".repeat(3)),
            activity_id: Some("a".into()),
            tokens: vec!["a".into(), "b".into()],
            ..new_instance("packed")
        },
    )
    .await;
    assert_eq!(get(s, a.id).await, a);
    let status = UpdateInstance {
        id: a.id,
        business_status: Some("late".into()),
        ..UpdateInstance::default()
    };
    let after = s.update_instance(&status).await.expect("update");
    let want = ProcessInstance {
        business_status: Some("late".into()),
        ..a.clone()
    };
    assert_eq!((&after, &get(s, a.id).await), (&want, &want));
    let renamed = UpdateInstance {
        id: a.id,
        name: Some(String::new()),
        ..UpdateInstance::default()
    };
    let want = ProcessInstance {
        name: Some(String::new()),
        ..want
    };
    assert_eq!(s.update_instance(&renamed).await.expect("update"), want);
    assert_eq!(get(s, a.id).await.tokens, ["a", "b"]);
}

async fn update_instance_changes_fields_and_moves_indexes(s: &dyn Store) {
    let a = create(
        s,
        NewInstance {
            business_key: Some("old".into()),
            ..new_instance("upd")
        },
    )
    .await;
    let b = create(s, new_instance("upd")).await;
    let by_bk = |bk: &str| {
        query(InstanceFilter {
            business_key: text(TextMatch::Equals, bk),
            ..InstanceFilter::default()
        })
    };

    let change = UpdateInstance {
        id: a.id,
        name: Some("renamed".into()),
        business_key: Some("new".into()),
        business_status: Some("late".into()),
        due_date: Some(Timestamp(T0 + 5)),
        claim: Some(Some(Claim {
            user: "kermit".into(),
            at: Timestamp(T0 + 6),
        })),
    };
    let after = s.update_instance(&change).await.expect("update");
    let want = ProcessInstance {
        name: Some("renamed".into()),
        business_key: Some("new".into()),
        business_status: Some("late".into()),
        due_date: Some(Timestamp(T0 + 5)),
        claimed_by: Some("kermit".into()),
        claim_time: Some(Timestamp(T0 + 6)),
        ..a.clone()
    };
    assert_eq!(after, want);
    assert_eq!(get(s, a.id).await, want);
    assert!(
        list(s, &by_bk("old")).await.items.is_empty(),
        "the old business key lets go"
    );
    assert_eq!(ids_of(&list(s, &by_bk("new")).await.items), vec![a.id]);

    // None leaves fields alone; Some(None) unclaims.
    let after = s
        .update_instance(&UpdateInstance {
            id: a.id,
            claim: Some(None),
            ..UpdateInstance::default()
        })
        .await
        .expect("unclaim");
    assert_eq!(
        after,
        ProcessInstance {
            claimed_by: None,
            claim_time: None,
            ..want.clone()
        }
    );
    let same = s
        .update_instance(&UpdateInstance {
            id: a.id,
            ..UpdateInstance::default()
        })
        .await;
    assert_eq!(same, Ok(after));

    // A business key where there was none, shared with another instance.
    s.update_instance(&UpdateInstance {
        id: b.id,
        business_key: Some("new".into()),
        ..UpdateInstance::default()
    })
    .await
    .expect("update");
    let mut both = vec![a.id, b.id];
    both.sort_by_key(|id| id.to_string());
    assert_eq!(ids_of(&list(s, &by_bk("new")).await.items), both);

    let unknown = UpdateInstance {
        id: UNKNOWN,
        name: Some("x".into()),
        ..UpdateInstance::default()
    };
    assert_eq!(
        s.update_instance(&unknown).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );

    s.close_instances(&[b.id], &closing(InstanceState::Completed, None))
        .await
        .expect("close");
    let closed = UpdateInstance {
        id: b.id,
        business_key: Some("other".into()),
        ..UpdateInstance::default()
    };
    assert_eq!(
        s.update_instance(&closed).await,
        Err(StoreError::NotFound(Missing::Instance(b.id)))
    );
    assert_eq!(get(s, b.id).await.business_key.as_deref(), Some("new"));
    assert!(list(s, &by_bk("other")).await.items.is_empty());
    assert_eq!(ids_of(&list(s, &by_bk("new")).await.items), vec![a.id]);
}

async fn set_suspended_conflicts(s: &dyn Store) {
    let a = create(s, new_instance("susp")).await;
    let suspended = query(InstanceFilter {
        suspended: Some(true),
        ..InstanceFilter::default()
    });

    let after = s.set_suspended(a.id, true).await.expect("suspend");
    assert_eq!(
        after,
        ProcessInstance {
            state: InstanceState::Suspended,
            ..a.clone()
        }
    );
    assert_eq!(get(s, a.id).await.state, InstanceState::Suspended);
    assert_eq!(ids_of(&list(s, &suspended).await.items), vec![a.id]);
    assert_eq!(
        list(s, &InstanceQuery::default()).await.total,
        1,
        "suspended ones are open"
    );
    assert_eq!(
        s.set_suspended(a.id, true).await,
        Err(StoreError::Conflict(Clash::AlreadySuspended(a.id)))
    );

    let after = s.set_suspended(a.id, false).await.expect("activate");
    assert_eq!(after, a);
    assert!(list(s, &suspended).await.items.is_empty());
    assert_eq!(
        s.set_suspended(a.id, false).await,
        Err(StoreError::Conflict(Clash::AlreadyActive(a.id)))
    );
    assert_eq!(get(s, a.id).await, a, "a conflict writes nothing");

    for flag in [true, false] {
        assert_eq!(
            s.set_suspended(UNKNOWN, flag).await,
            Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
        );
    }
    s.set_suspended(a.id, true).await.expect("suspend");
    s.close_instances(&[a.id], &closing(InstanceState::Terminated, None))
        .await
        .expect("close");
    assert!(
        list(s, &suspended).await.items.is_empty(),
        "a closed instance is not suspended"
    );
    for flag in [true, false] {
        assert_eq!(
            s.set_suspended(a.id, flag).await,
            Err(StoreError::NotFound(Missing::Instance(a.id)))
        );
    }
}

async fn close_instances_all_or_nothing(s: &dyn Store) {
    // Several instances, so the Redis store spreads them over several shards.
    let mut all = Vec::new();
    for n in 0..6 {
        let new = NewInstance {
            business_key: Some(format!("c{}", n % 2)),
            tenant_id: "acme".into(),
            identity_links: vec![IdentityLink::user("kermit", "starter")],
            ..new_instance("closing")
        };
        all.push(create(s, new).await);
    }
    let ids = ids_of(&all);
    s.set_suspended(ids[1], true).await.expect("suspend");

    // One unknown id: nothing closes, and the first bad id (in the caller's order) is named.
    let batch = [ids[0], ids[1], UNKNOWN, ids[2], UNKNOWN_2];
    let end = closing(InstanceState::Completed, Some("done"));
    assert_eq!(
        s.close_instances(&batch, &end).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );
    let batch = [ids[3], UNKNOWN_2, ids[4], UNKNOWN];
    assert_eq!(
        s.close_instances(&batch, &end).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN_2)))
    );
    assert_eq!(
        list(s, &InstanceQuery::default()).await.total,
        6,
        "nothing closed"
    );
    for i in &all[1..] {
        assert!(get(s, i.id).await.state.is_open());
    }

    assert_eq!(s.close_instances(&[], &end).await, Ok(()));
    s.close_instances(&[ids[0], ids[1], ids[2], ids[0]], &end)
        .await
        .expect("close");
    s.close_instances(&[ids[3]], &closing(InstanceState::Failed, None))
        .await
        .expect("close");

    let open = list(s, &InstanceQuery::default()).await;
    assert_eq!(open.total, 2);
    let mut rest = vec![ids[4], ids[5]];
    rest.sort_by_key(|id| id.to_string());
    assert_eq!(ids_of(&open.items), rest);
    for filter in [
        InstanceFilter {
            definition_key: text(TextMatch::Equals, "closing"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            business_key: text(TextMatch::Equals, "c0"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            tenant_id: text(TextMatch::Equals, "acme"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            suspended: Some(true),
            ..InstanceFilter::default()
        },
    ] {
        for i in list(s, &query(filter.clone())).await.items {
            assert!(i.state.is_open(), "{filter:?} lists closed {}", i.id);
        }
    }

    let closed = get(s, ids[1]).await;
    let want = ProcessInstance {
        state: InstanceState::Completed,
        end_time: Some(Timestamp(T0 + 99_000)),
        delete_reason: Some("done".into()),
        activity_id: None,
        tokens: Vec::new(),
        ..all[1].clone()
    };
    assert_eq!(closed, want, "a suspended instance closes like an active one");
    let failed = get(s, ids[3]).await;
    assert_eq!(
        (failed.state, failed.delete_reason),
        (InstanceState::Failed, None)
    );

    let completed = list(
        s,
        &query(InstanceFilter {
            states: vec![InstanceState::Completed],
            ..InstanceFilter::default()
        }),
    )
    .await;
    let mut done = vec![ids[0], ids[1], ids[2]];
    done.sort_by_key(|id| id.to_string());
    assert_eq!(ids_of(&completed.items), done);

    // Closed instances are read-only.
    let gone: Result<(), StoreError> = Err(StoreError::NotFound(Missing::Instance(ids[2])));
    let link = IdentityLink::user("kermit", "starter");
    assert_eq!(s.close_instances(&[ids[2]], &end).await, gone.clone());
    assert_eq!(s.close_instances(&[ids[4], ids[2]], &end).await, gone.clone());
    assert!(get(s, ids[4]).await.state.is_open(), "all or nothing");
    assert_eq!(s.add_identity_link(ids[2], &link).await, gone.clone());
    assert_eq!(s.remove_identity_link(ids[2], &link).await, gone.clone());
    let vars = [Variable::new("x", VariableValue::Integer(1))];
    for mode in [SetMode::Create, SetMode::Upsert, SetMode::Update] {
        assert_eq!(
            s.set_variables(ids[2], &vars, mode).await.map(|_| ()),
            gone.clone()
        );
    }
    assert_eq!(s.delete_variables(ids[2], None).await, gone.clone());
    assert_eq!(s.delete_variables(ids[2], Some("x")).await, gone.clone());
    assert_eq!(get(s, ids[2]).await.state, InstanceState::Completed);
}

async fn instances_created_closed_stay_out_of_open_lists(s: &dyn Store) {
    let done = NewInstance {
        state: InstanceState::Completed,
        end_time: Some(Timestamp(T0 + 1)),
        activity_id: None,
        business_key: Some("bk".into()),
        ..new_instance("history")
    };
    let done = create(s, done).await;
    let open = create(
        s,
        NewInstance {
            business_key: Some("bk".into()),
            ..new_instance("history")
        },
    )
    .await;
    assert_eq!(
        ids_of(&list(s, &InstanceQuery::default()).await.items),
        vec![open.id]
    );
    let by_key = query(InstanceFilter {
        definition_key: text(TextMatch::Equals, "history"),
        ..InstanceFilter::default()
    });
    assert_eq!(ids_of(&list(s, &by_key).await.items), vec![open.id]);
    let closed = query(InstanceFilter {
        states: vec![InstanceState::Completed],
        ..InstanceFilter::default()
    });
    assert_eq!(list(s, &closed).await.items, vec![done.clone()]);
    assert_eq!(
        s.set_suspended(done.id, true).await,
        Err(StoreError::NotFound(Missing::Instance(done.id)))
    );
}

async fn identity_links(s: &dyn Store) {
    let a = create(
        s,
        NewInstance {
            identity_links: vec![IdentityLink::user("kermit", "starter")],
            ..new_instance("links")
        },
    )
    .await;
    let fozzie = IdentityLink::user("fozzie", "participant");
    let group = IdentityLink::group("fozzie", "participant");
    let odd = IdentityLink::user("a\"b:[c]", "type with spaces, \"quotes\" and ]");

    for link in [&fozzie, &group, &odd, &fozzie] {
        assert_eq!(
            s.add_identity_link(a.id, link).await,
            Ok(()),
            "adding twice is a no-op"
        );
    }
    let mut want = vec![
        IdentityLink::user("kermit", "starter"),
        fozzie.clone(),
        group.clone(),
        odd.clone(),
    ];
    want.sort();
    assert_eq!(get(s, a.id).await.identity_links, want);
    let involved = query(InstanceFilter {
        involved_user: Some("fozzie".into()),
        ..InstanceFilter::default()
    });
    assert_eq!(ids_of(&list(s, &involved).await.items), vec![a.id]);

    assert_eq!(s.remove_identity_link(a.id, &fozzie).await, Ok(()));
    want.retain(|l| *l != fozzie);
    assert_eq!(
        get(s, a.id).await.identity_links,
        want,
        "the group link with the same name stays"
    );
    assert_eq!(
        s.remove_identity_link(a.id, &fozzie).await,
        Err(StoreError::NotFound(Missing::IdentityLink {
            instance: a.id,
            link: fozzie.clone()
        }))
    );
    assert!(list(s, &involved).await.items.is_empty());
    assert_eq!(s.remove_identity_link(a.id, &odd).await, Ok(()));

    assert_eq!(
        s.add_identity_link(UNKNOWN, &fozzie).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );
    assert_eq!(
        s.remove_identity_link(UNKNOWN, &fozzie).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );
}

async fn set_variables_modes(s: &dyn Store) {
    let mut vars = Variables::new();
    vars.insert("a".into(), VariableValue::Integer(1));
    let i = create(
        s,
        NewInstance {
            variables: vars,
            ..new_instance("vars")
        },
    )
    .await;
    let v = |name: &str, value: VariableValue| Variable::new(name, value);

    // Create: every name must be new; one clash writes nothing.
    let clash = [
        v("b", VariableValue::Long(2)),
        v("a", VariableValue::Long(9)),
        v("c", VariableValue::Null),
    ];
    assert_eq!(
        s.set_variables(i.id, &clash, SetMode::Create).await,
        Err(StoreError::Conflict(Clash::VariableExists {
            instance: i.id,
            name: "a".into()
        }))
    );
    assert_eq!(get(s, i.id).await, i, "nothing written");
    let after = s
        .set_variables(
            i.id,
            &[
                v("b", VariableValue::Long(i64::MAX)),
                v("c", VariableValue::Json(json!([]))),
            ],
            SetMode::Create,
        )
        .await
        .expect("create");
    assert_eq!(after.variables.len(), 3);
    assert_eq!(after.variables.get("b"), Some(&VariableValue::Long(i64::MAX)));
    assert_eq!(get(s, i.id).await, after);

    // Update: every name must exist; one missing writes nothing.
    let missing = [
        v("a", VariableValue::String("x".into())),
        v("zzz", VariableValue::Null),
    ];
    assert_eq!(
        s.set_variables(i.id, &missing, SetMode::Update).await,
        Err(StoreError::NotFound(Missing::Variable {
            instance: i.id,
            name: "zzz".into()
        }))
    );
    assert_eq!(get(s, i.id).await, after, "nothing written");
    let after = s
        .set_variables(
            i.id,
            &[v("a", VariableValue::String("x".into()))],
            SetMode::Update,
        )
        .await
        .expect("update");
    assert_eq!(after.variables.get("a"), Some(&VariableValue::String("x".into())));

    // Upsert: both.
    let after = s
        .set_variables(
            i.id,
            &[
                v("a", VariableValue::Boolean(true)),
                v("d", VariableValue::Double(0.5)),
            ],
            SetMode::Upsert,
        )
        .await
        .expect("upsert");
    assert_eq!(after.variables.len(), 4);
    assert_eq!(after.variables.get("a"), Some(&VariableValue::Boolean(true)));
    assert_eq!(get(s, i.id).await, after);

    // Nothing to write still answers the instance; many at once work.
    assert_eq!(
        s.set_variables(i.id, &[], SetMode::Create).await,
        Ok(after.clone())
    );
    let many: Vec<Variable> = (0..600)
        .map(|n| v(&format!("m{n}"), VariableValue::Integer(n)))
        .collect();
    let after = s.set_variables(i.id, &many, SetMode::Create).await.expect("many");
    assert_eq!(after.variables.len(), 604);
    assert_eq!(get(s, i.id).await, after);

    for mode in [SetMode::Create, SetMode::Upsert, SetMode::Update] {
        assert_eq!(
            s.set_variables(UNKNOWN, &[v("a", VariableValue::Null)], mode)
                .await,
            Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
        );
    }
}

async fn delete_variables(s: &dyn Store) {
    let mut vars = Variables::new();
    for name in ["a", "b", "c"] {
        vars.insert(name.into(), VariableValue::String(name.into()));
    }
    let links = vec![IdentityLink::user("kermit", "starter")];
    let i = create(
        s,
        NewInstance {
            variables: vars,
            identity_links: links.clone(),
            ..new_instance("del")
        },
    )
    .await;

    assert_eq!(s.delete_variables(i.id, Some("b")).await, Ok(()));
    assert_eq!(
        get(s, i.id).await.variables.keys().collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(
        s.delete_variables(i.id, Some("b")).await,
        Err(StoreError::NotFound(Missing::Variable {
            instance: i.id,
            name: "b".into()
        }))
    );
    assert_eq!(s.delete_variables(i.id, None).await, Ok(()));
    let after = get(s, i.id).await;
    assert!(after.variables.is_empty());
    assert_eq!(after.identity_links, links, "links are not variables");
    assert_eq!(
        ProcessInstance {
            variables: i.variables.clone(),
            ..after
        },
        i
    );
    assert_eq!(
        s.delete_variables(i.id, None).await,
        Ok(()),
        "deleting none is fine"
    );
    assert_eq!(
        s.delete_variables(UNKNOWN, None).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );
    assert_eq!(
        s.delete_variables(UNKNOWN, Some("a")).await,
        Err(StoreError::NotFound(Missing::Instance(UNKNOWN)))
    );
}

// ---- Redis only ----

#[tokio::test]
async fn redis_unreachable_fails_fast_with_backend_error() {
    let started = Instant::now();
    let answer = RedisStore::connect("redis://127.0.0.1:1", "bpmtest:dead:").await;
    assert!(matches!(answer, Err(StoreError::Backend(_))), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// A server that accepts connections and never answers: an error within seconds, no hang.
#[tokio::test]
async fn redis_silent_server_fails_fast_with_backend_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let started = Instant::now();
    let answer = RedisStore::connect(&format!("redis://{addr}"), "bpmtest:silent:").await;
    assert!(matches!(answer, Err(StoreError::Backend(_))), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

/// Two nodes on one Redis: a deployment through one reaches the other's repository (its
/// version moves, so an engine there reloads), through the announcement channel.
#[tokio::test]
async fn redis_deployments_reach_every_node() {
    on_redis(|first, prefix| async move {
        let second = redis_store(&prefix).await;
        // Let the second node's watcher subscribe before the deployment is announced.
        let deadline = Instant::now() + Duration::from_secs(5);
        while second.repository_version() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let seen = second.repository_version();
        first
            .deploy(&deployment_of("n.bpmn", "", &[("n.bpmn", "<n/>")], &["n"], false))
            .await
            .expect("deploys");
        while second.repository_version() == seen && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_ne!(
            second.repository_version(),
            seen,
            "the other node heard of the deployment"
        );
        let repo = second.repository().await.expect("repository");
        assert_eq!(
            repo.definitions
                .iter()
                .map(|p| p.key.as_str())
                .collect::<Vec<_>>(),
            vec!["n"]
        );
    })
    .await;
}

/// The store's Lua code lives in Redis as a library of functions; a Redis that lost it (a
/// restart without persistence, `FUNCTION FLUSH`) gets it again on the next call, which then
/// succeeds, and nothing is written twice.
#[tokio::test]
async fn redis_reloads_its_functions_when_redis_lost_them() {
    on_redis(|store, _| async move {
        let mut raw = redis_raw().await;
        let libraries = |listing: ::redis::Value| -> Vec<String> {
            let ::redis::Value::Array(libraries) = listing else {
                panic!("FUNCTION LIST answers an array: {listing:?}");
            };
            libraries
                .into_iter()
                .filter_map(|library| match library {
                    ::redis::Value::Array(fields) => fields.chunks(2).find_map(|pair| {
                        let text = |v: &::redis::Value| ::redis::from_redis_value_ref::<String>(v).ok();
                        (text(&pair[0])? == "library_name").then(|| text(&pair[1]))?
                    }),
                    _ => None,
                })
                .collect()
        };
        let list = ::redis::cmd("FUNCTION")
            .arg("LIST")
            .arg("LIBRARYNAME")
            .arg("bpmcompat_*")
            .clone();
        let loaded = libraries(list.query_async(&mut raw).await.expect("FUNCTION LIST"));
        assert!(!loaded.is_empty(), "connecting loaded the library");
        for name in &loaded {
            let _: () = ::redis::cmd("FUNCTION")
                .arg("DELETE")
                .arg(name)
                .query_async(&mut raw)
                .await
                .expect("FUNCTION DELETE");
        }
        let started = store
            .create_instance(new_instance("reload"))
            .await
            .expect("creates after the library was deleted");
        assert!(!libraries(list.query_async(&mut raw).await.expect("FUNCTION LIST")).is_empty());
        let found = store.get_instance(started.id).await.expect("reads");
        assert_eq!(found.map(|i| i.definition_key), Some("reload".to_owned()));
        let page = store
            .list_instances(&InstanceQuery::default())
            .await
            .expect("lists");
        assert_eq!(page.total, 1, "written once");
    })
    .await;
}

#[tokio::test]
async fn redis_rejects_prefix_with_braces() {
    let answer = RedisStore::connect(&redis_url(), "bpm{x}:").await;
    assert!(matches!(answer, Err(StoreError::Backend(_))), "{answer:?}");
}

/// A store records its layout version on first connect and refuses data written in another
/// layout, instead of misreading it.
#[tokio::test]
async fn redis_refuses_data_in_another_layout() {
    let prefix = unique_prefix("layout");
    let key = format!("{prefix}{{repo}}:layout");
    let mut raw = redis_raw().await;
    let store = RedisStore::connect(&redis_url(), &prefix)
        .await
        .expect("connects");
    drop(store);
    let recorded: Option<String> = ::redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("GET");
    assert_eq!(recorded.as_deref(), Some(bpm_compat::store::redis::LAYOUT));
    // Connecting again to the same layout is fine.
    RedisStore::connect(&redis_url(), &prefix)
        .await
        .expect("connects again");
    let _: () = ::redis::cmd("SET")
        .arg(&key)
        .arg("0")
        .query_async(&mut raw)
        .await
        .expect("SET");
    let answer = RedisStore::connect(&redis_url(), &prefix).await;
    assert!(
        matches!(&answer, Err(StoreError::Backend(m)) if m.contains("layout 0") && m.contains(&format!("reads layout {}", bpm_compat::store::redis::LAYOUT))),
        "{answer:?}"
    );
    remove_keys(&prefix).await;
}

/// Rewrites the indexes under `prefix` as layout 1 kept them (one sorted set per index, all
/// scores 0) and drops the layout marker, as a store written before the marker existed: the
/// instance and task hashes are the same in every layout.
async fn downgrade_to_layout_1(prefix: &str) -> u64 {
    type Con = ::redis::aio::MultiplexedConnection;
    async fn members(con: &mut Con, key: &str) -> Vec<String> {
        ::redis::cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query_async(con)
            .await
            .expect("ZRANGE")
    }
    async fn zadd(con: &mut Con, key: &str, id: &str) -> u64 {
        ::redis::cmd("ZADD")
            .arg(key)
            .arg(0)
            .arg(id)
            .query_async(con)
            .await
            .expect("ZADD")
    }
    async fn del(con: &mut Con, key: &str) {
        let _: () = ::redis::cmd("DEL").arg(key).query_async(con).await.expect("DEL");
    }
    let mut entries = 0;
    let mut con = redis_raw().await;
    for key in keys_under(prefix).await {
        let key = String::from_utf8(key).expect("utf-8 key");
        let (base, rest) = key.split_at(key.find("}:").expect("tagged") + 2);
        if rest == "n" || rest.starts_with("n:") || rest == "layout" {
            del(&mut con, &key).await;
        }
        if rest.starts_with("bk:") {
            // Business keys: a bucket field listing ids, or `*` for a chunked index (below).
            let fields: Vec<(String, String)> = ::redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut con)
                .await
                .expect("HGETALL");
            for (business_key, ids) in fields {
                for id in ids.split(',').filter(|id| *id != "*") {
                    entries += zadd(&mut con, &format!("{base}b:{business_key}"), id).await;
                }
            }
            del(&mut con, &key).await;
        }
        let Some(index) = rest.strip_prefix("x:") else {
            continue;
        };
        for chunk in members(&mut con, &key).await {
            let chunk_key = format!("{base}c{chunk}:{index}");
            for id in members(&mut con, &chunk_key).await {
                entries += zadd(&mut con, &format!("{base}{index}"), &id).await;
            }
            del(&mut con, &chunk_key).await;
        }
        del(&mut con, &key).await;
    }
    entries
}

/// Instances and tasks in every kind of index (business keys in both of their forms: a few
/// instances each, and 300 sharing one, more than a shard lists in its bucket field), and the
/// queries a migration must answer as before.
async fn migration_fixture(store: &dyn Store) -> (Vec<ProcessInstance>, Vec<InstanceQuery>, [TaskFilter; 4]) {
    let mut all = varied(store).await;
    let mut with_tasks = new_instance("tasks");
    with_tasks.tasks = vec![
        new_task("a", Some("ann"), Vec::new()),
        new_task(
            "b",
            None,
            vec![Identity::User("bob".into()), Identity::Group("ops".into())],
        ),
    ];
    all.push(create(store, with_tasks).await);
    for _ in 0..300 {
        let new = NewInstance {
            business_key: Some("shared".into()),
            ..new_instance("order")
        };
        all.push(create(store, new).await);
    }
    let queries: Vec<InstanceQuery> = [
        InstanceFilter::default(),
        InstanceFilter {
            definition_key: text(TextMatch::Equals, "order"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            suspended: Some(true),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            states: InstanceState::ALL.to_vec(),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            business_key: text(TextMatch::Equals, "shared"),
            ..InstanceFilter::default()
        },
        InstanceFilter {
            business_key: text(TextMatch::Equals, "BK-1"),
            ..InstanceFilter::default()
        },
    ]
    .into_iter()
    .map(query)
    .collect();
    let task_filters = [
        TaskFilter::default(),
        TaskFilter {
            assignee: Some(TextMatch::Equals("ann".into())),
            ..TaskFilter::default()
        },
        TaskFilter {
            candidate_user: Some("bob".into()),
            ..TaskFilter::default()
        },
        TaskFilter {
            candidate_groups: Some(vec!["ops".into()]),
            ..TaskFilter::default()
        },
    ];
    (all, queries, task_filters)
}

/// What the queries and task filters of [`migration_fixture`] answer now.
async fn answers(
    store: &dyn Store,
    queries: &[InstanceQuery],
    all: &[ProcessInstance],
    filters: &[TaskFilter],
) -> Vec<Vec<Task>> {
    for q in queries {
        check(store, q, all).await;
    }
    let mut answers = Vec::new();
    for f in filters {
        answers.push(tasks(store, f.clone()).await);
    }
    answers
}

/// A store in layout 1 is refused with the command that migrates it; `migrate-store`'s
/// conversion answers every query as before, and a second run changes nothing. Business keys
/// come in both of layout 3's forms: a few instances each (`varied`), and 300 sharing one
/// (more than a shard lists in its bucket field).
#[tokio::test]
async fn redis_migrates_layout_1() {
    on_redis(|store, prefix| async move {
        let (mut all, queries, task_filters) = migration_fixture(&store).await;
        let task_answers = answers(&store, &queries, &all, &task_filters).await;
        assert_eq!(task_answers[0].len(), 2);
        drop(store);

        let rows = unpack_rows(&prefix).await;
        assert!(rows > 0, "some instances have a name or a business status");
        let entries = downgrade_to_layout_1(&prefix).await;
        let keys: Vec<String> = keys_under(&prefix)
            .await
            .into_iter()
            .map(|k| String::from_utf8(k).expect("utf-8"))
            .collect();
        assert!(keys.iter().any(|k| k.ends_with("}:open")), "layout 1 has its plain index: {keys:?}");
        let refused = RedisStore::connect(&redis_url(), &prefix).await;
        assert!(
            matches!(&refused, Err(StoreError::Backend(m)) if m.contains("layout 1") && m.contains("migrate-store")),
            "{refused:?}"
        );

        // Seven ids per step: every index but the smallest takes several.
        let done = bpm_compat::store::redis::migrate_in_steps(&redis_url(), &prefix, 7)
            .await
            .expect("migrates");
        assert_eq!((done.from.as_deref(), done.to.as_str()), (Some("1"), LAYOUT_ROUND_ROBIN));
        // Open (25 + 1), closed, by key, by tenant, suspended; open tasks and by each person.
        assert!(done.indexes >= 8, "{done:?}");
        assert_eq!(done.entries, entries, "every index entry moved once");
        assert_eq!(done.rows, rows, "every instance with rarely set fields packed once");
        let store = RedisStore::connect(&redis_url(), &prefix).await.expect("connects after");
        assert_eq!(answers(&store, &queries, &all, &task_filters).await, task_answers);
        // The store works on: a new instance lands in the indexes beside the migrated ones.
        all.push(create(&store, new_instance("order")).await);
        for q in &queries {
            check(&store, q, &all).await;
        }

        let again = bpm_compat::store::redis::migrate(&redis_url(), &prefix)
            .await
            .expect("migrates again");
        // Converted, it keeps its round-robin placement, which this binary serves.
        assert_eq!(
            (again.from.as_deref(), again.to.as_str(), again.indexes, again.counts, again.rows),
            (Some(LAYOUT_ROUND_ROBIN), LAYOUT_ROUND_ROBIN, 0, 0, 0)
        );
    })
    .await;
}

fn shard_of_id(id: InstanceId) -> u64 {
    id.0 / bpm_compat::store::redis::ID_SPAN - 10
}

/// Layout 4: an instance started with a business key lives on the key's home shard, so a
/// lookup reads that shard alone; one given a business key after its start, on another
/// shard, is still found (its new key's home shard marks the key as having strays).
#[tokio::test]
async fn redis_business_keys_live_on_their_home_shard() {
    use bpm_compat::store::redis::home_shard;
    on_redis(|store, _| async move {
        let mut all = Vec::new();
        for n in 0..40 {
            let business_key = if n % 2 == 0 {
                "shared".to_owned()
            } else {
                format!("order-{n}")
            };
            let i = create(
                &store,
                NewInstance {
                    business_key: Some(business_key.clone()),
                    ..new_instance("homes")
                },
            )
            .await;
            assert_eq!(shard_of_id(i.id), home_shard(&business_key), "{business_key}");
            all.push(i);
        }
        let shards: std::collections::BTreeSet<u64> = all.iter().map(|i| shard_of_id(i.id)).collect();
        assert!(
            shards.len() > 4,
            "distinct keys spread over the shards: {shards:?}"
        );

        // Started without a business key (round-robin), then given one whose home is elsewhere.
        let mut stray = create(&store, new_instance("homes")).await;
        let key = (0..)
            .map(|n| format!("moved-{n}"))
            .find(|k| home_shard(k) != shard_of_id(stray.id))
            .expect("some key lives elsewhere");
        all.push(
            create(
                &store,
                NewInstance {
                    business_key: Some(key.clone()),
                    ..new_instance("homes")
                },
            )
            .await,
        );
        stray = store
            .update_instance(&UpdateInstance {
                id: stray.id,
                business_key: Some(key.clone()),
                ..UpdateInstance::default()
            })
            .await
            .expect("update");
        all.push(stray);
        let filters = ["shared", "order-3", &key].map(|bk| InstanceFilter {
            business_key: text(TextMatch::Equals, bk),
            ..InstanceFilter::default()
        });
        let found = check(&store, &query(filters[2].clone()), &all).await;
        assert_eq!(found.len(), 2, "the stray and the one at home");
        check_pages(&store, &all, &filters, &[(0, 10), (0, 1), (1, 30)]).await;
    })
    .await;
}

/// Unpacks the rarely set fields of every instance under `prefix` (field `z`) into fields of
/// their own, as layouts 1 to 4 kept them. Answers how many instances had any.
async fn unpack_rows(prefix: &str) -> u64 {
    let mut con = redis_raw().await;
    let mut unpacked = 0;
    for key in keys_under(prefix).await {
        let key = String::from_utf8(key).expect("utf-8 key");
        if !key[key.find("}:").expect("tagged") + 2..].starts_with("i:") {
            continue;
        }
        let had: u64 = ::redis::cmd("EVAL")
            .arg(
                "local z = redis.call('HGET', KEYS[1], 'z') if not z then return 0 end \
                 local f = cmsgpack.unpack(z) for i = 1, #f, 2 do redis.call('HSET', KEYS[1], f[i], f[i + 1]) end \
                 redis.call('HDEL', KEYS[1], 'z') return 1",
            )
            .arg(1)
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("EVAL");
        unpacked += had;
    }
    unpacked
}

/// Moves every index count of the store under `prefix` into its shard's hash `n` and unpacks
/// its instances' packed fields, as layouts 3 and 4 kept them, and marks the store with
/// `layout`. Answers how many counts moved and how many instances were unpacked.
async fn downgrade_counts(prefix: &str, layout: &str) -> (u64, u64) {
    let rows = unpack_rows(prefix).await;
    let mut con = redis_raw().await;
    let mut moved = 0;
    for key in keys_under(prefix).await {
        let key = String::from_utf8(key).expect("utf-8 key");
        let (base, rest) = key.split_at(key.find("}:").expect("tagged") + 2);
        let Some(index) = rest.strip_prefix("n:") else {
            continue;
        };
        let count: String = ::redis::cmd("GET")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("GET");
        let _: () = ::redis::pipe()
            .cmd("HSET")
            .arg(format!("{base}n"))
            .arg(index)
            .arg(count)
            .cmd("DEL")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("HSET, DEL");
        moved += 1;
    }
    let _: () = ::redis::cmd("SET")
        .arg(format!("{prefix}{{repo}}:layout"))
        .arg(layout)
        .query_async(&mut con)
        .await
        .expect("SET");
    (moved, rows)
}

/// A store in layout 3 or 4 (index counts in a hash per shard) is refused with the command
/// that migrates it; migrated, it answers every query as before, a layout-4 store keeps the
/// business-key placement rule and a layout-3 one its round-robin placement.
#[tokio::test]
async fn redis_migrates_layouts_3_and_4() {
    for (old, new) in [("3", LAYOUT_ROUND_ROBIN), ("4", bpm_compat::store::redis::LAYOUT)] {
        on_redis(|store, prefix| async move {
            let (mut all, queries, task_filters) = migration_fixture(&store).await;
            let before = answers(&store, &queries, &all, &task_filters).await;
            drop(store);
            let (counts, rows) = downgrade_counts(&prefix, old).await;
            // Open, closed, suspended, by key and tenant, the shared business key; tasks.
            assert!(counts >= 16, "{counts} counts");
            assert!(rows > 0, "some instances have a name or a business status");
            let refused = RedisStore::connect(&redis_url(), &prefix).await;
            assert!(
                matches!(&refused, Err(StoreError::Backend(m)) if m.contains(&format!("layout {old}")) && m.contains("migrate-store")),
                "{refused:?}"
            );
            let done = bpm_compat::store::redis::migrate(&redis_url(), &prefix)
                .await
                .expect("migrates");
            assert_eq!(
                (done.from.as_deref(), done.to.as_str(), done.counts, done.rows, done.indexes),
                (Some(old), new, counts, rows, 0)
            );
            let store = RedisStore::connect(&redis_url(), &prefix).await.expect("connects after");
            assert_eq!(answers(&store, &queries, &all, &task_filters).await, before);
            let at_home = NewInstance {
                business_key: Some("after".into()),
                ..new_instance("order")
            };
            let started = create(&store, at_home).await;
            if new == bpm_compat::store::redis::LAYOUT {
                assert_eq!(shard_of_id(started.id), bpm_compat::store::redis::home_shard("after"));
            }
            all.push(started);
            answers(&store, &queries, &all, &task_filters).await;
        })
        .await;
    }
}

/// A store converted from layouts 1 to 3 (written before the placement rule) is served as it
/// is: instances keep going to the shards round-robin and business-key lookups ask every shard.
#[tokio::test]
async fn redis_serves_round_robin_stores() {
    on_redis_in_layout(Some(LAYOUT_ROUND_ROBIN), |store, _| async move {
        many_instances_share_a_business_key(&store).await;
        let shared = list(
            &store,
            &InstanceQuery {
                size: 1000,
                ..query(InstanceFilter {
                    business_key: text(TextMatch::Equals, "shared"),
                    states: InstanceState::ALL.to_vec(),
                    ..InstanceFilter::default()
                })
            },
        )
        .await;
        let shards: std::collections::BTreeSet<u64> =
            shared.items.iter().map(|i| shard_of_id(i.id)).collect();
        assert_eq!(shards.len(), 16, "one business key on every shard");
    })
    .await;
}

/// Every key carries the prefix and one shard's hash tag, an instance lives in the shard its
/// id names, and an instance with five small variables stays a compact listpack hash.
#[tokio::test]
async fn redis_key_layout_is_sharded_and_compact() {
    on_redis(|store, prefix| async move {
        let mut ids = Vec::new();
        for n in 0..40u32 {
            let mut vars = Variables::new();
            for v in 0..5 {
                vars.insert(format!("var{v}"), VariableValue::String(format!("value {n}")));
            }
            // Half with a business key (on its home shard), half without (round-robin).
            let new = NewInstance {
                business_key: (n % 2 == 0).then(|| format!("order-{n}")),
                tenant_id: "acme".into(),
                start_user_id: Some("kermit".into()),
                variables: vars,
                identity_links: vec![IdentityLink::user("kermit", "starter")],
                ..new_instance("layout")
            };
            ids.push(store.create_instance(new).await.expect("create").id);
        }
        store.set_suspended(ids[0], true).await.expect("suspend");
        store
            .close_instances(&[ids[1]], &closing(InstanceState::Completed, None))
            .await
            .expect("close");

        let keys = keys_under(&prefix).await;
        let mut shards = BTreeSet::new();
        for key in &keys {
            let key = String::from_utf8(key.clone()).expect("utf-8 key");
            let rest = key.strip_prefix(&prefix).expect("prefixed");
            if rest == "{repo}:layout" {
                // The store's layout version, written on connect.
                continue;
            }
            let tag = rest
                .strip_prefix("{s")
                .and_then(|r| r.split_once("}:"))
                .expect("hash tag after the prefix");
            let shard: u64 = tag.0.parse().expect("shard number");
            assert!(shard < 16, "{key}");
            shards.insert(shard);
            if let Some(id) = tag.1.strip_prefix("i:") {
                let id = InstanceId(id.parse().expect("id"));
                assert_eq!(shard_of_id(id), shard, "{key} lives in its id's shard");
            }
        }
        assert_eq!(shards.len(), 16, "instances spread over every shard");

        let mut con = redis_raw().await;
        let id = ids[5];
        let key = format!("{prefix}{{s{}}}:i:{id}", shard_of_id(id));
        let encoding: String = ::redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("OBJECT");
        assert_eq!(encoding, "listpack");
        let bytes: u64 = ::redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("MEMORY");
        assert!(bytes < 512, "instance hash takes {bytes} bytes");

        // Once no instance is open, the chunked indexes of open ones leave nothing behind:
        // no chunk, no chunk directory, no count.
        let open: Vec<InstanceId> = ids.iter().copied().filter(|id| *id != ids[1]).collect();
        store
            .close_instances(&open, &closing(InstanceState::Terminated, None))
            .await
            .expect("close the rest");
        for key in keys_under(&prefix).await {
            let key = String::from_utf8(key).expect("utf-8 key");
            let rest = key.split_once("}").expect("tagged").1;
            assert!(
                ![":open", ":sus"].iter().any(|end| rest.ends_with(end))
                    && ![":k:", ":t:", ":b:", ":bk:"]
                        .iter()
                        .any(|part| rest.contains(part)),
                "{key} left behind"
            );
            if rest.starts_with(":n") {
                assert_eq!(rest, ":n:closed", "only the closed instances are counted");
            }
        }
    })
    .await;
}

// ---- model-based: Redis against the memory store as oracle ----

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Instances of both stores, paired by creation order.
struct Pairs(Vec<(InstanceId, InstanceId)>);

impl Pairs {
    fn to_redis(&self, id: InstanceId) -> InstanceId {
        self.0.iter().find(|(m, _)| *m == id).map_or(id, |(_, r)| *r)
    }
    fn instance(&self, mut i: ProcessInstance) -> ProcessInstance {
        i.id = self.to_redis(i.id);
        i
    }
    fn error(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::NotFound(Missing::Instance(id)) => {
                StoreError::NotFound(Missing::Instance(self.to_redis(id)))
            }
            StoreError::NotFound(Missing::Variable { instance, name }) => {
                StoreError::NotFound(Missing::Variable {
                    instance: self.to_redis(instance),
                    name,
                })
            }
            StoreError::NotFound(Missing::IdentityLink { instance, link }) => {
                StoreError::NotFound(Missing::IdentityLink {
                    instance: self.to_redis(instance),
                    link,
                })
            }
            StoreError::Conflict(Clash::AlreadySuspended(id)) => {
                StoreError::Conflict(Clash::AlreadySuspended(self.to_redis(id)))
            }
            StoreError::Conflict(Clash::AlreadyActive(id)) => {
                StoreError::Conflict(Clash::AlreadyActive(self.to_redis(id)))
            }
            StoreError::Conflict(Clash::VariableExists { instance, name }) => {
                StoreError::Conflict(Clash::VariableExists {
                    instance: self.to_redis(instance),
                    name,
                })
            }
            other => other,
        }
    }
    fn result<T>(&self, r: Result<T, StoreError>, map: impl FnOnce(T) -> T) -> Result<T, StoreError> {
        r.map(map).map_err(|e| self.error(e))
    }
}

const MODEL_UNKNOWN: InstanceId = InstanceId(7_777_777_777);

fn random_value(rng: &mut Rng) -> VariableValue {
    match rng.below(6) {
        0 => VariableValue::Long(rng.next() as i64),
        1 => VariableValue::String(rng.pick(&["", "a", "Kermit", "x y"]).to_owned()),
        2 => VariableValue::Integer(rng.below(100) as i32),
        3 => VariableValue::Json(rng.pick(&[json!([]), json!({}), json!({"n": u64::MAX, "l": [[]]})])),
        4 => VariableValue::Double(rng.below(1000) as f64 / 8.0),
        _ => VariableValue::Binary(Blob {
            data: (0..rng.below(5)).map(|_| rng.next() as u8).collect(),
            content_type: None,
        }),
    }
}

fn random_variables(rng: &mut Rng) -> Vec<Variable> {
    (0..rng.below(4))
        .map(|_| Variable::new(rng.pick(&["v1", "v2", "v3", "v4"]), random_value(rng)))
        .collect()
}

fn random_link(rng: &mut Rng) -> IdentityLink {
    let who = rng.pick(&["kermit", "fozzie", "gonzo"]);
    let kind = rng.pick(&["starter", "participant", "candidate"]);
    if rng.chance(70) {
        IdentityLink::user(who, kind)
    } else {
        IdentityLink::group(who, kind)
    }
}

fn random_new(rng: &mut Rng) -> NewInstance {
    let key = rng.pick(&["a", "b", "c"]);
    NewInstance {
        definition_id: format!("{key}:{}:1", rng.below(2) + 1),
        tenant_id: rng.pick(&["", "t1", "t2"]).to_owned(),
        name: rng.chance(50).then(|| format!("name {}", rng.below(5))),
        business_key: rng.chance(70).then(|| format!("bk{}", rng.below(6))),
        state: if rng.chance(8) {
            InstanceState::Completed
        } else {
            InstanceState::Active
        },
        start_time: Timestamp(T0 + rng.below(50) as i64),
        start_user_id: rng.chance(50).then(|| rng.pick(&["kermit", "fozzie"]).to_owned()),
        variables: random_variables(rng)
            .into_iter()
            .map(|v| (v.name, v.value))
            .collect(),
        identity_links: (0..rng.below(3)).map(|_| random_link(rng)).collect(),
        ..new_instance(key)
    }
}

fn random_query(rng: &mut Rng, known: &[InstanceId]) -> InstanceQuery {
    let mut f = InstanceFilter::default();
    // Half the queries use at most one indexed equality (the fast path), half mix freely.
    let fast = rng.chance(50);
    match rng.below(6) {
        0 => f.definition_key = Some(TextMatch::Equals(rng.pick(&["a", "b", "c", "zz"]).to_owned())),
        1 => f.business_key = Some(TextMatch::Equals(format!("bk{}", rng.below(7)))),
        2 => f.suspended = Some(true),
        3 => f.tenant_id = Some(TextMatch::Equals(rng.pick(&["t1", "t2", ""]).to_owned())),
        _ => {}
    }
    if !fast {
        if rng.chance(30) {
            f.states = (0..rng.below(3) + 1)
                .map(|_| {
                    rng.pick(&[
                        InstanceState::Active,
                        InstanceState::Suspended,
                        InstanceState::Completed,
                        InstanceState::Terminated,
                        InstanceState::Failed,
                    ])
                })
                .collect();
        }
        if rng.chance(20) && !known.is_empty() {
            let mut ids: Vec<InstanceId> = (0..rng.below(4)).map(|_| rng.pick(known)).collect();
            if rng.chance(30) {
                ids.push(MODEL_UNKNOWN);
            }
            f.ids = Some(ids);
        }
        if rng.chance(20) {
            f.suspended = Some(rng.chance(50));
        }
        if rng.chance(20) {
            f.involved_user = Some(rng.pick(&["kermit", "fozzie", "gonzo"]).to_owned());
        }
        if rng.chance(20) {
            f.variables.push(VariableFilter {
                name: Some(rng.pick(&["v1", "v2"]).to_owned()),
                op: rng.pick(&[VariableOp::Exists, VariableOp::NotExists]),
                value: None,
            });
        }
        if rng.chance(15) {
            f.name = Some(TextMatch::Like("name%".into()));
        }
        if rng.chance(3) {
            f.impossible = true;
        }
    }
    InstanceQuery {
        filter: f,
        sort: if fast || rng.chance(50) {
            InstanceSort::Id
        } else {
            rng.pick(&[
                InstanceSort::DefinitionId,
                InstanceSort::DefinitionKey,
                InstanceSort::StartTime,
                InstanceSort::TenantId,
                InstanceSort::BusinessKey,
            ])
        },
        order: if rng.chance(50) {
            SortOrder::Asc
        } else {
            SortOrder::Desc
        },
        start: if rng.chance(60) { 0 } else { rng.below(8) },
        size: rng.below(15),
        with_details: rng.chance(70),
    }
}

/// The page the memory store's matches give once its ids are the Redis ids: ids sort as
/// strings, so the order is worked out after the mapping.
async fn oracle_page(memory: &MemoryStore, q: &InstanceQuery, pairs: &Pairs) -> Page<ProcessInstance> {
    let everything = InstanceQuery {
        start: 0,
        size: usize::MAX,
        ..q.clone()
    };
    let all = memory.list_instances(&everything).await.expect("memory list");
    let mut items: Vec<ProcessInstance> = all.items.into_iter().map(|i| pairs.instance(i)).collect();
    items.sort_by(|a, b| q.compare(a, b));
    Page {
        total: all.total,
        items: items.into_iter().skip(q.start).take(q.size).collect(),
        start: q.start,
    }
}

async fn run_model(seed: u64, steps: usize, redis: &RedisStore) {
    let memory = MemoryStore::new();
    let mut rng = Rng(seed);
    let mut pairs = Pairs(Vec::new());
    for step in 0..steps {
        let known: Vec<InstanceId> = pairs.0.iter().map(|(m, _)| *m).collect();
        let pick = |rng: &mut Rng| {
            if known.is_empty() || rng.chance(5) {
                MODEL_UNKNOWN
            } else {
                rng.pick(&known)
            }
        };
        // Mostly creations, lists and variable work; closes are rarer so instances stay open.
        let op = if known.len() < 5 {
            0
        } else {
            rng.pick(&[0, 0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 7, 8, 8, 9, 9, 9, 10])
        };
        let ctx = format!("seed {seed}, step {step}, op {op}");
        match op {
            0 => {
                let new = random_new(&mut rng);
                let m = memory.create_instance(new.clone()).await.expect("memory create");
                let r = redis.create_instance(new).await.expect("redis create");
                pairs.0.push((m.id, r.id));
                assert_eq!(pairs.instance(m), r, "{ctx}");
            }
            1 => {
                let id = pick(&mut rng);
                let m = memory
                    .get_instance(id)
                    .await
                    .map(|i| i.map(|i| pairs.instance(i)));
                assert_eq!(m, redis.get_instance(pairs.to_redis(id)).await, "{ctx}");
            }
            2 | 3 => {
                let q = random_query(&mut rng, &known);
                let mut rq = q.clone();
                if let Some(ids) = &mut rq.filter.ids {
                    ids.iter_mut().for_each(|id| *id = pairs.to_redis(*id));
                }
                let want = oracle_page(&memory, &q, &pairs).await;
                assert_eq!(redis.list_instances(&rq).await, Ok(want), "{ctx}: {q:?}");
            }
            4 => {
                let id = pick(&mut rng);
                let change = UpdateInstance {
                    id,
                    name: rng.chance(40).then(|| format!("name {}", rng.below(5))),
                    business_key: rng.chance(50).then(|| format!("bk{}", rng.below(6))),
                    business_status: rng.chance(30).then(|| "s".to_owned()),
                    due_date: rng.chance(30).then_some(Timestamp(T0 + 5)),
                    claim: match rng.below(3) {
                        0 => Some(Some(Claim {
                            user: "kermit".into(),
                            at: Timestamp(T0 + 7),
                        })),
                        1 => Some(None),
                        _ => None,
                    },
                };
                let m = pairs.result(memory.update_instance(&change).await, |i| pairs.instance(i));
                let change = UpdateInstance {
                    id: pairs.to_redis(id),
                    ..change
                };
                assert_eq!(m, redis.update_instance(&change).await, "{ctx}");
            }
            5 => {
                let (id, flag) = (pick(&mut rng), rng.chance(50));
                let m = pairs.result(memory.set_suspended(id, flag).await, |i| pairs.instance(i));
                assert_eq!(m, redis.set_suspended(pairs.to_redis(id), flag).await, "{ctx}");
            }
            6 => {
                let ids: Vec<InstanceId> = (0..rng.below(3) + 1).map(|_| pick(&mut rng)).collect();
                let end = Closing {
                    state: rng.pick(&[
                        InstanceState::Completed,
                        InstanceState::Terminated,
                        InstanceState::Failed,
                    ]),
                    reason: rng.chance(50).then(|| "why".to_owned()),
                    at: Timestamp(T0 + 1000),
                };
                let m = pairs.result(memory.close_instances(&ids, &end).await, |x| x);
                let rids: Vec<InstanceId> = ids.iter().map(|id| pairs.to_redis(*id)).collect();
                assert_eq!(m, redis.close_instances(&rids, &end).await, "{ctx}");
            }
            7 => {
                let (id, link) = (pick(&mut rng), random_link(&mut rng));
                let m = pairs.result(memory.add_identity_link(id, &link).await, |x| x);
                assert_eq!(
                    m,
                    redis.add_identity_link(pairs.to_redis(id), &link).await,
                    "{ctx}"
                );
            }
            8 => {
                let (id, link) = (pick(&mut rng), random_link(&mut rng));
                let m = pairs.result(memory.remove_identity_link(id, &link).await, |x| x);
                assert_eq!(
                    m,
                    redis.remove_identity_link(pairs.to_redis(id), &link).await,
                    "{ctx}"
                );
            }
            9 => {
                let id = pick(&mut rng);
                let vars = random_variables(&mut rng);
                let mode = rng.pick(&[SetMode::Create, SetMode::Upsert, SetMode::Update]);
                let m = pairs.result(memory.set_variables(id, &vars, mode).await, |i| pairs.instance(i));
                assert_eq!(
                    m,
                    redis.set_variables(pairs.to_redis(id), &vars, mode).await,
                    "{ctx}"
                );
            }
            _ => {
                let id = pick(&mut rng);
                let name = rng.chance(70).then(|| rng.pick(&["v1", "v2", "v3", "v4"]));
                let m = pairs.result(memory.delete_variables(id, name).await, |x| x);
                assert_eq!(m, redis.delete_variables(pairs.to_redis(id), name).await, "{ctx}");
            }
        }
    }
    // Finally every instance, read back.
    for (m, r) in &pairs.0 {
        let want = memory
            .get_instance(*m)
            .await
            .expect("memory get")
            .map(|i| pairs.instance(i));
        assert_eq!(
            redis.get_instance(*r).await,
            Ok(want),
            "seed {seed}: final state of {r}"
        );
    }
}

#[tokio::test]
async fn model_redis_answers_like_memory() {
    for seed in [0x9e37_79b9_7f4a_7c15, 42, 2024] {
        on_redis(|store, _| async move { run_model(seed, 400, &store).await }).await;
    }
}

// ---- model test of tasks: Redis answers task queries like the memory store ----

/// A task of both stores: the memory one with its ids mapped to Redis ids.
fn mapped_task(t: &Task, instances: &Pairs, tasks: &[(TaskId, TaskId)]) -> Task {
    Task {
        id: tasks.iter().find(|(m, _)| *m == t.id).map_or(t.id, |(_, r)| *r),
        instance_id: instances.to_redis(t.instance_id),
        ..t.clone()
    }
}

fn random_task(rng: &mut Rng, key: &str) -> Task {
    let mut candidates = Vec::new();
    for _ in 0..rng.below(3) {
        candidates.push(if rng.chance(50) {
            Identity::User(rng.pick(&["fozzie", "gonzo", "piggy"]).to_owned())
        } else {
            Identity::Group(rng.pick(&["mgmt", "sales"]).to_owned())
        });
    }
    candidates.sort();
    candidates.dedup();
    Task {
        priority: rng.pick(&[10, 50, 90]),
        category: rng.chance(30).then(|| "c1".to_owned()),
        ..new_task(
            key,
            rng.chance(40).then(|| rng.pick(&["kermit", "fozzie"])),
            candidates,
        )
    }
}

fn random_task_filter(rng: &mut Rng, known: &[InstanceId]) -> TaskFilter {
    let mut f = TaskFilter::default();
    match rng.below(9) {
        0 => f.assignee = Some(TextMatch::Equals(rng.pick(&["kermit", "fozzie"]).into())),
        1 => f.candidate_user = Some(rng.pick(&["fozzie", "gonzo", "piggy"]).into()),
        2 => f.candidate_groups = Some(vec![rng.pick(&["mgmt", "sales"]).into()]),
        3 => {
            f.candidate_user = Some("gonzo".into());
            f.candidate_groups = Some(vec!["mgmt".into(), "sales".into()]);
        }
        4 => f.unassigned = Some(rng.chance(50)),
        5 if !known.is_empty() => f.instance_id = Some(rng.pick(known)),
        6 => f.task_definition_key = Some(TextMatch::Like("t%".into())),
        7 => f.min_priority = Some(50),
        _ => {}
    }
    match rng.below(4) {
        0 => f.finished = Some(true),
        1 => f.all = true,
        _ => {}
    }
    if rng.chance(20) {
        f.suspended = Some(rng.chance(50));
    }
    if rng.chance(20) {
        f.category = Some(TextMatch::Equals("c1".into()));
    }
    f
}

async fn run_task_model(seed: u64, steps: usize, redis: &RedisStore) {
    let memory = MemoryStore::new();
    let mut rng = Rng(seed);
    let mut instances = Pairs(Vec::new());
    let mut task_pairs: Vec<(TaskId, TaskId)> = Vec::new();
    for n in 0..steps {
        let known: Vec<InstanceId> = instances.0.iter().map(|(m, _)| *m).collect();
        let ctx = format!("seed {seed}, step {n}");
        let op = if known.len() < 4 { 0 } else { rng.below(6) };
        match op {
            0 => {
                let new = NewInstance {
                    tasks: (0..rng.below(3) + 1)
                        .map(|n| random_task(&mut rng, &format!("t{n}")))
                        .collect(),
                    ..new_instance(rng.pick(&["flow", "other"]))
                };
                let m = memory.create_instance(new.clone()).await.expect("memory create");
                let r = redis.create_instance(new).await.expect("redis create");
                instances.0.push((m.id, r.id));
                let open = |id| TaskFilter {
                    instance_id: Some(id),
                    all: true,
                    ..TaskFilter::default()
                };
                let mut mt = tasks(&memory, open(m.id)).await;
                let mut rt = tasks(redis, open(r.id)).await;
                mt.sort_by_key(|t| t.task_definition_key.clone());
                rt.sort_by_key(|t| t.task_definition_key.clone());
                assert_eq!(mt.len(), rt.len(), "{ctx}");
                for (a, b) in mt.iter().zip(&rt) {
                    task_pairs.push((a.id, b.id));
                }
            }
            1 | 2 => {
                // A step on an instance: claim or end one of its open tasks.
                let m_id = rng.pick(&known);
                let r_id = instances.to_redis(m_id);
                let open = |id| TaskFilter {
                    instance_id: Some(id),
                    ..TaskFilter::default()
                };
                let mut open_tasks = tasks(&memory, open(m_id)).await;
                open_tasks.sort_by_key(|t| t.id);
                let Some(t) = open_tasks.first().cloned() else {
                    continue;
                };
                let changed = if op == 1 {
                    Task {
                        assignee: Some(rng.pick(&["kermit", "fozzie", "gonzo"]).into()),
                        ..t.clone()
                    }
                } else {
                    Task {
                        end_time: Some(Timestamp(T0 + n as i64)),
                        ..t.clone()
                    }
                };
                let mi = memory.get_instance(m_id).await.expect("get").expect("exists");
                let ri = redis.get_instance(r_id).await.expect("get").expect("exists");
                let m = memory
                    .commit(&Commit {
                        tasks: vec![changed.clone()],
                        ..step(&mi)
                    })
                    .await
                    .map(|_| ());
                let r = redis
                    .commit(&Commit {
                        tasks: vec![mapped_task(&changed, &instances, &task_pairs)],
                        ..step(&ri)
                    })
                    .await
                    .map(|_| ());
                assert_eq!(m.is_ok(), r.is_ok(), "{ctx}: {m:?} vs {r:?}");
            }
            3 => {
                let m_id = rng.pick(&known);
                let flag = rng.chance(50);
                let m = memory.set_suspended(m_id, flag).await.is_ok();
                let r = redis.set_suspended(instances.to_redis(m_id), flag).await.is_ok();
                assert_eq!(m, r, "{ctx}");
            }
            4 if rng.chance(30) => {
                let m_id = rng.pick(&known);
                let closing = Closing {
                    state: InstanceState::Terminated,
                    reason: Some("model".into()),
                    at: Timestamp(T0 + 1_000),
                };
                let m = memory.close_instances(&[m_id], &closing).await.is_ok();
                let r = redis
                    .close_instances(&[instances.to_redis(m_id)], &closing)
                    .await
                    .is_ok();
                assert_eq!(m, r, "{ctx}");
            }
            _ => {
                let f = random_task_filter(&mut rng, &known);
                let mut rf = f.clone();
                rf.instance_id = f.instance_id.map(|id| instances.to_redis(id));
                let mut want: Vec<Task> = tasks(&memory, f.clone())
                    .await
                    .iter()
                    .map(|t| mapped_task(t, &instances, &task_pairs))
                    .collect();
                let mut got = tasks(redis, rf).await;
                want.sort_by_key(|t| t.id);
                got.sort_by_key(|t| t.id);
                assert_eq!(got, want, "{ctx}: {f:?}");
            }
        }
    }
}

#[tokio::test]
async fn model_redis_answers_task_queries_like_memory() {
    for seed in [7, 0x5eed, 99] {
        on_redis(|store, _| async move { run_task_model(seed, 300, &store).await }).await;
    }
}
