//! Process semantics of the engine, on both stores: where a start waits, how instances end,
//! and which commands see closed instances.

mod common;

use std::sync::Arc;

use bpm_compat::definitions;
use bpm_compat::engine::Engine;
use bpm_compat::store::{MemoryStore, RedisStore, Store};
use bpm_compat_model::*;

fn ctx() -> RequestCtx {
    RequestCtx {
        now: Timestamp(1_700_000_000_000),
        request_id: 1,
        base_url: "http://test".into(),
        path: String::new(),
        user: Some("kermit".into()),
    }
}

fn start(selector: DefinitionSelector) -> Command {
    Command::StartInstance(StartInstance {
        definition: selector,
        name: None,
        business_key: Some("bk".into()),
        variables: vec![
            Variable::new("a", VariableValue::Integer(1)),
            Variable::new("a", VariableValue::Integer(2)),
        ],
        transient_variables: vec![Variable::new("t", VariableValue::Boolean(true))],
        start_user: Some("kermit".into()),
        origin: Some("test".into()),
    })
}

fn key(k: &str) -> DefinitionSelector {
    DefinitionSelector::Key {
        key: k.into(),
        tenant_id: String::new(),
    }
}

async fn engine(store: Arc<dyn Store>) -> Engine {
    let files = definitions::load_dir(&common::definitions_dir()).expect("definitions load");
    let engine = Engine::new(store);
    engine.deploy_files(files, ctx().now).await.expect("deploys");
    engine
}

fn instance(outcome: Outcome) -> InstanceView {
    match outcome {
        Outcome::Instance(v) => v,
        other => panic!("expected an instance, got {other:?}"),
    }
}

async fn start_waits_at_the_first_wait_state(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let v = instance(
        e.apply(start(key("oneTaskProcess")), &ctx())
            .await
            .expect("starts"),
    );
    let i = &v.instance;
    assert_eq!(i.activity_id.as_deref(), Some("processTask"));
    assert_eq!(i.state, InstanceState::Active);
    assert_eq!(i.start_time, ctx().now);
    assert_eq!(i.start_user_id.as_deref(), Some("kermit"));
    assert_eq!(i.identity_links, vec![IdentityLink::user("kermit", STARTER_LINK)]);
    // The last value of a repeated name wins; transient variables are never stored.
    assert_eq!(i.variables.get("a"), Some(&VariableValue::Integer(2)));
    assert!(!i.variables.contains_key("t"));
    assert_eq!(v.definition.key, "oneTaskProcess");
    let got = instance(
        e.apply(Command::GetInstance(InstanceRef { id: i.id }), &ctx())
            .await
            .expect("get"),
    );
    assert_eq!(&got.instance, i);
}

async fn message_and_tenant_starts(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let by_msg = DefinitionSelector::Message {
        name: "newOrderMessage".into(),
        tenant_id: String::new(),
    };
    let v = instance(e.apply(start(by_msg), &ctx()).await.expect("message start"));
    assert_eq!(v.instance.activity_id.as_deref(), Some("reviewOrder"));
    let in_tenant = DefinitionSelector::Key {
        key: "oneTaskProcess".into(),
        tenant_id: "tenant1".into(),
    };
    let v = instance(e.apply(start(in_tenant), &ctx()).await.expect("tenant start"));
    assert_eq!(v.instance.tenant_id, "tenant1");
    let unknown = key("nope");
    let err = e
        .apply(start(unknown.clone()), &ctx())
        .await
        .expect_err("unknown key");
    assert_eq!(err, CoreError::NotFound(Missing::Definition(unknown)));
}

async fn a_start_without_wait_state_ends_at_once(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let v = instance(e.apply(start(key("autoComplete")), &ctx()).await.expect("starts"));
    assert_eq!(v.instance.state, InstanceState::Completed);
    assert_eq!(v.instance.end_time, Some(ctx().now));
    assert_eq!(v.instance.activity_id, None);
    let id = v.instance.id;
    let err = e
        .apply(Command::GetInstance(InstanceRef { id }), &ctx())
        .await
        .expect_err("ended");
    assert_eq!(err, CoreError::NotFound(Missing::Instance(id)));
}

async fn deleted_instances_leave_the_runtime(store: Arc<dyn Store>) {
    let e = engine(store.clone()).await;
    let id = instance(
        e.apply(start(key("oneTaskProcess")), &ctx())
            .await
            .expect("starts"),
    )
    .instance
    .id;
    let delete = Command::DeleteInstance(DeleteInstance {
        id,
        reason: Some("because".into()),
    });
    // The answer is the instance as it ended.
    let ended = instance(e.apply(delete.clone(), &ctx()).await.expect("deletes")).instance;
    assert_eq!(
        (ended.id, ended.state, ended.delete_reason.as_deref()),
        (id, InstanceState::Terminated, Some("because"))
    );
    assert_eq!(
        e.apply(delete, &ctx()).await,
        Err(CoreError::NotFound(Missing::Instance(id)))
    );
    for cmd in [
        Command::GetInstance(InstanceRef { id }),
        Command::GetVariables(InstanceRef { id }),
        Command::GetIdentityLinks(InstanceRef { id }),
        Command::SetSuspended(SetSuspended { id, suspended: true }),
    ] {
        assert_eq!(
            e.apply(cmd, &ctx()).await,
            Err(CoreError::NotFound(Missing::Instance(id)))
        );
    }
    let kept = store
        .get_instance(id)
        .await
        .expect("store answers")
        .expect("kept for history");
    assert_eq!(kept.state, InstanceState::Terminated);
    assert_eq!(kept.delete_reason.as_deref(), Some("because"));
    let page = e
        .apply(Command::ListInstances(InstanceQuery::default()), &ctx())
        .await
        .expect("lists");
    let Outcome::Instances(page) = page else {
        panic!("a page")
    };
    assert!(page.items.iter().all(|v| v.instance.id != id));
}

async fn variables_and_links(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let id = instance(
        e.apply(start(key("oneTaskProcess")), &ctx())
            .await
            .expect("starts"),
    )
    .instance
    .id;
    let set = |mode, vars: Vec<Variable>| {
        Command::SetVariables(SetVariables {
            id,
            variables: vars,
            mode,
        })
    };
    let out = e
        .apply(
            set(
                SetMode::Create,
                vec![Variable::new("b", VariableValue::String("x".into()))],
            ),
            &ctx(),
        )
        .await
        .expect("creates");
    assert_eq!(
        out,
        Outcome::Variables(vec![Variable::new("b", VariableValue::String("x".into()))])
    );
    let clash = e
        .apply(
            set(SetMode::Create, vec![Variable::new("b", VariableValue::Null)]),
            &ctx(),
        )
        .await;
    assert_eq!(
        clash,
        Err(CoreError::Conflict(Clash::VariableExists {
            instance: id,
            name: "b".into()
        }))
    );
    let get = Command::GetVariable(VariableRef {
        id,
        name: "zz".into(),
    });
    assert_eq!(
        e.apply(get, &ctx()).await,
        Err(CoreError::NotFound(Missing::Variable {
            instance: id,
            name: "zz".into()
        }))
    );
    let link = IdentityLink::group("sales", "candidate");
    let r = IdentityLinkRef {
        id,
        link: link.clone(),
    };
    assert_eq!(
        e.apply(Command::AddIdentityLink(r.clone()), &ctx()).await,
        Ok(Outcome::IdentityLink(link.clone()))
    );
    assert_eq!(
        e.apply(Command::GetIdentityLink(r.clone()), &ctx()).await,
        Ok(Outcome::IdentityLink(link.clone()))
    );
    assert_eq!(
        e.apply(Command::RemoveIdentityLink(r.clone()), &ctx()).await,
        Ok(Outcome::Done)
    );
    assert_eq!(
        e.apply(Command::GetIdentityLink(r), &ctx()).await,
        Err(CoreError::NotFound(Missing::IdentityLink { instance: id, link }))
    );
}

async fn definition_filters_resolve(store: Arc<dyn Store>) {
    let e = engine(store).await;
    e.apply(start(key("oneTaskProcess")), &ctx())
        .await
        .expect("starts");
    let msg = DefinitionSelector::Message {
        name: "newOrderMessage".into(),
        tenant_id: String::new(),
    };
    let wanted = instance(e.apply(start(msg), &ctx()).await.expect("starts"))
        .instance
        .id;
    let list = |filter: InstanceFilter| {
        let e = e.clone();
        async move {
            let query = InstanceQuery {
                filter,
                ..InstanceQuery::default()
            };
            match e
                .apply(Command::ListInstances(query), &ctx())
                .await
                .expect("lists")
            {
                Outcome::Instances(p) => p.items.into_iter().map(|v| v.instance.id).collect::<Vec<_>>(),
                other => panic!("a page, got {other:?}"),
            }
        }
    };
    let by_name = InstanceFilter {
        definition_name: Some(TextMatch::Like("Message%".into())),
        ..InstanceFilter::default()
    };
    assert_eq!(list(by_name).await, vec![wanted]);
    let by_version = InstanceFilter {
        definition_version: Some(7),
        ..InstanceFilter::default()
    };
    assert_eq!(list(by_version).await, Vec::<InstanceId>::new());
    assert_eq!(list(InstanceFilter::default()).await.len(), 2);
}

// ---- tasks and process semantics ----

fn as_user(user: &str) -> RequestCtx {
    RequestCtx {
        user: Some(user.into()),
        ..ctx()
    }
}

fn expense(amount: Option<i64>) -> Command {
    let mut variables = vec![Variable::new("employee", VariableValue::String("piggy".into()))];
    if let Some(a) = amount {
        variables.push(Variable::new("amount", VariableValue::Long(a)));
    }
    Command::StartInstance(StartInstance {
        definition: key("expenseFlow"),
        name: None,
        business_key: None,
        variables,
        transient_variables: Vec::new(),
        start_user: Some("kermit".into()),
        origin: Some("test".into()),
    })
}

async fn tasks_of(e: &Engine, filter: TaskFilter) -> Vec<Task> {
    let query = TaskQuery {
        filter,
        size: 100,
        ..TaskQuery::default()
    };
    match e
        .apply(Command::ListTasks(query), &ctx())
        .await
        .expect("lists tasks")
    {
        Outcome::Tasks(page) => {
            assert_eq!(page.total as usize, page.items.len());
            page.items.into_iter().map(|v| v.task).collect()
        }
        other => panic!("expected tasks, got {other:?}"),
    }
}

async fn open_tasks(e: &Engine, id: InstanceId) -> Vec<Task> {
    tasks_of(
        e,
        TaskFilter {
            instance_id: Some(id),
            ..TaskFilter::default()
        },
    )
    .await
}

async fn get_any(e: &Engine, id: InstanceId) -> ProcessInstance {
    instance(
        e.apply(Command::GetHistoricInstance(InstanceRef { id }), &ctx())
            .await
            .expect("historic get"),
    )
    .instance
}

fn complete(id: TaskId, vars: Vec<Variable>) -> Command {
    Command::CompleteTask(CompleteTask {
        id,
        variables: vars,
        transient_variables: Vec::new(),
        user: None,
    })
}

async fn a_process_moves_through_gateways_and_tasks(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let i = instance(e.apply(expense(Some(5000)), &ctx()).await.expect("starts")).instance;
    assert_eq!(
        (i.activity_id.as_deref(), i.tokens.clone()),
        (Some("submit"), vec!["submit".to_owned()])
    );
    assert_eq!(i.start_activity_id.as_deref(), Some("start"));

    let submit = open_tasks(&e, i.id).await;
    assert_eq!(submit.len(), 1);
    let t = &submit[0];
    assert_eq!(
        (
            t.task_definition_key.as_str(),
            t.name.as_deref(),
            t.description.as_deref()
        ),
        ("submit", Some("Submit claim"), Some("Describe the expense"))
    );
    assert_eq!(
        (t.assignee.as_deref(), t.priority, t.create_time),
        (Some("piggy"), 60, ctx().now)
    );
    assert_eq!(t.instance_id, i.id);
    assert_ne!(t.id.0, i.id.0, "tasks and instances share one id space");
    // The expression assignee takes part in the process.
    assert!(get_any(&e, i.id)
        .await
        .identity_links
        .contains(&IdentityLink::user("piggy", "participant")));

    e.apply(complete(t.id, Vec::new()), &as_user("piggy"))
        .await
        .expect("submit completes");
    let after = get_any(&e, i.id).await;
    assert_eq!(
        after.activity_id.as_deref(),
        Some("managerApproval"),
        "5000 > 1000 takes the condition"
    );
    assert!(after
        .identity_links
        .contains(&IdentityLink::user("piggy", "participant")));
    let approval = open_tasks(&e, i.id).await;
    assert_eq!(approval.len(), 1);
    let a = approval[0].clone();
    assert_eq!(a.candidates, vec![Identity::Group("management".into())]);
    assert_eq!(a.assignee, None);
    let by_group = tasks_of(
        &e,
        TaskFilter {
            candidate_groups: Some(vec!["management".into()]),
            ..TaskFilter::default()
        },
    )
    .await;
    assert_eq!(by_group.iter().map(|t| t.id).collect::<Vec<_>>(), vec![a.id]);
    // The completed task is history: not found at runtime, listed as finished.
    let gone = e.apply(Command::GetTask(TaskRef { id: t.id }), &ctx()).await;
    assert_eq!(gone, Err(CoreError::NotFound(Missing::Task(t.id))));

    // Claim, a clashing claim, delegate, a refused complete, resolve.
    let claim = |user: Option<&str>| {
        Command::ClaimTask(ClaimTask {
            id: a.id,
            user: user.map(str::to_owned),
        })
    };
    e.apply(claim(Some("miss")), &ctx()).await.expect("claims");
    assert_eq!(
        e.apply(claim(Some("other")), &ctx()).await,
        Err(CoreError::Conflict(Clash::TaskClaimed {
            task: a.id,
            by: "miss".into()
        }))
    );
    e.apply(claim(Some("miss")), &ctx())
        .await
        .expect("claiming again by the same user is fine");
    assert!(
        tasks_of(
            &e,
            TaskFilter {
                candidate_groups: Some(vec!["management".into()]),
                ..TaskFilter::default()
            }
        )
        .await
        .is_empty(),
        "a claimed task is no longer a candidate task"
    );
    let delegated = match e
        .apply(
            Command::DelegateTask(DelegateTask {
                id: a.id,
                assignee: "animal".into(),
            }),
            &ctx(),
        )
        .await
        .expect("delegates")
    {
        Outcome::Task(v) => v.task,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (
            delegated.owner.as_deref(),
            delegated.assignee.as_deref(),
            delegated.delegation_state
        ),
        (Some("miss"), Some("animal"), Some(DelegationState::Pending))
    );
    assert!(matches!(
        e.apply(complete(a.id, Vec::new()), &ctx()).await,
        Err(CoreError::ProcessFailure { .. })
    ));
    e.apply(Command::ResolveTask(TaskRef { id: a.id }), &ctx())
        .await
        .expect("resolves");
    let resolved = open_tasks(&e, i.id).await.remove(0);
    assert_eq!(
        (resolved.assignee.as_deref(), resolved.delegation_state),
        (Some("miss"), Some(DelegationState::Resolved))
    );

    // A suspended instance suspends its task and refuses to move.
    e.apply(
        Command::SetSuspended(SetSuspended {
            id: i.id,
            suspended: true,
        }),
        &ctx(),
    )
    .await
    .expect("suspends");
    assert!(open_tasks(&e, i.id).await[0].suspended);
    assert_eq!(
        e.apply(complete(a.id, Vec::new()), &ctx()).await,
        Err(CoreError::Conflict(Clash::InstanceSuspended(i.id)))
    );
    e.apply(
        Command::SetSuspended(SetSuspended {
            id: i.id,
            suspended: false,
        }),
        &ctx(),
    )
    .await
    .expect("activates");
    assert!(!open_tasks(&e, i.id).await[0].suspended);

    // Approval forks into two tasks; completing one waits at the join.
    e.apply(
        complete(
            a.id,
            vec![Variable::new("approvedBy", VariableValue::String("miss".into()))],
        ),
        &as_user("miss"),
    )
    .await
    .expect("approves");
    let mut parallel = open_tasks(&e, i.id).await;
    parallel.sort_by(|x, y| x.task_definition_key.cmp(&y.task_definition_key));
    assert_eq!(
        parallel
            .iter()
            .map(|t| t.task_definition_key.as_str())
            .collect::<Vec<_>>(),
        vec!["archive", "payout"]
    );
    assert_eq!(parallel[0].assignee.as_deref(), Some("kermit"));
    assert_eq!(
        parallel[1].candidates,
        vec![Identity::User("fozzie".into()), Identity::User("gonzo".into())]
    );
    let running = get_any(&e, i.id).await;
    assert_eq!(running.tokens, vec!["payout".to_owned(), "archive".to_owned()]);
    assert_eq!(
        running.variables.get("approvedBy"),
        Some(&VariableValue::String("miss".into()))
    );
    for who in ["fozzie", "gonzo", "kermit", "miss"] {
        assert!(
            running
                .identity_links
                .contains(&IdentityLink::user(who, "participant")),
            "{who}"
        );
    }
    assert!(!running
        .identity_links
        .iter()
        .any(|l| l.identity == Identity::Group("management".into())));
    let fozzie = tasks_of(
        &e,
        TaskFilter {
            candidate_user: Some("fozzie".into()),
            ..TaskFilter::default()
        },
    )
    .await;
    assert_eq!(
        fozzie.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![parallel[1].id]
    );

    e.apply(complete(parallel[0].id, Vec::new()), &ctx())
        .await
        .expect("archives");
    let waiting = get_any(&e, i.id).await;
    assert_eq!(waiting.tokens, vec!["payout".to_owned(), "join".to_owned()]);
    assert_eq!(waiting.activity_id.as_deref(), Some("payout"));
    assert_eq!(waiting.state, InstanceState::Active);

    e.apply(complete(parallel[1].id, Vec::new()), &ctx())
        .await
        .expect("pays out");
    let done = get_any(&e, i.id).await;
    assert_eq!(done.state, InstanceState::Completed);
    assert_eq!(done.end_activity_id.as_deref(), Some("end"));
    assert_eq!(done.end_time, Some(ctx().now));
    assert!(done.tokens.is_empty() && done.activity_id.is_none());
    assert_eq!(
        e.apply(Command::GetInstance(InstanceRef { id: i.id }), &ctx())
            .await,
        Err(CoreError::NotFound(Missing::Instance(i.id)))
    );
    assert!(open_tasks(&e, i.id).await.is_empty());
    let finished = tasks_of(
        &e,
        TaskFilter {
            instance_id: Some(i.id),
            finished: Some(true),
            ..TaskFilter::default()
        },
    )
    .await;
    assert_eq!(finished.len(), 4);
    assert!(finished.iter().all(|t| t.end_time == Some(ctx().now)));
}

async fn small_amounts_take_the_default_flow(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let i = instance(e.apply(expense(Some(10)), &ctx()).await.expect("starts")).instance;
    let submit = open_tasks(&e, i.id).await.remove(0);
    e.apply(complete(submit.id, Vec::new()), &ctx())
        .await
        .expect("completes");
    let mut keys: Vec<String> = open_tasks(&e, i.id)
        .await
        .into_iter()
        .map(|t| t.task_definition_key)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["archive", "payout"],
        "the default flow skips the approval"
    );
}

async fn activity_history_follows_the_path(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let i = instance(e.apply(expense(Some(10)), &ctx()).await.expect("starts")).instance;
    let submit = open_tasks(&e, i.id).await.remove(0);
    e.apply(complete(submit.id, Vec::new()), &ctx())
        .await
        .expect("completes");
    let history = |finished: Option<bool>| {
        let e = e.clone();
        async move {
            let q = ActivityQuery {
                instance_ids: vec![i.id],
                finished,
                size: 100,
                ..ActivityQuery::default()
            };
            match e
                .apply(Command::ListActivities(q), &ctx())
                .await
                .expect("history")
            {
                Outcome::Activities(page) => page.items,
                other => panic!("{other:?}"),
            }
        }
    };
    let ids = |views: &[ActivityView]| {
        views
            .iter()
            .map(|v| v.record.activity_id.clone())
            .collect::<Vec<_>>()
    };
    let all = history(None).await;
    assert_eq!(
        ids(&all),
        [
            "start",
            "toSubmit",
            "submit",
            "toAmount",
            "amountCheck",
            "toAuto",
            "autoApprove",
            "approvedAutomatically",
            "approved",
            "toFork",
            "fork",
            "toPayout",
            "toArchive",
            "payout",
            "archive"
        ]
    );
    let submit_view = &all[2];
    assert_eq!(submit_view.task.as_ref().map(|t| t.id), Some(submit.id));
    assert_eq!(submit_view.activity_type(), Some("userTask"));
    assert_eq!(all[1].activity_type(), Some("sequenceFlow"));
    assert_eq!(all[4].activity_name(), Some("Large amount?"));
    assert_eq!(
        ids(&history(Some(false)).await),
        ["payout", "archive"],
        "open: where it waits"
    );
    for t in open_tasks(&e, i.id).await {
        e.apply(complete(t.id, Vec::new()), &ctx())
            .await
            .expect("completes");
    }
    let done = history(None).await;
    assert_eq!(
        ids(&done)[15..],
        ["paid", "archived", "join", "toEnd", "end"],
        "the join is recorded once, when it fires"
    );
    assert!(history(Some(false)).await.is_empty());
}

async fn a_receive_task_waits_until_triggered(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="recv">
      <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
      <receiveTask id="wait"/><sequenceFlow id="f2" sourceRef="wait" targetRef="gw"/>
      <exclusiveGateway id="gw" default="toEnd"/>
      <sequenceFlow id="toShip" sourceRef="gw" targetRef="ship"><conditionExpression>${paid}</conditionExpression></sequenceFlow>
      <sequenceFlow id="toEnd" sourceRef="gw" targetRef="e"/>
      <userTask id="ship"/><sequenceFlow id="f3" sourceRef="ship" targetRef="e"/><endEvent id="e"/></process></definitions>"#;
    e.apply(
        Command::Deploy(Deploy {
            name: Some("recv".into()),
            key: None,
            category: None,
            tenant_id: String::new(),
            resources: vec![Resource {
                name: "recv.bpmn".into(),
                bytes: xml.as_bytes().to_vec(),
            }],
            replaces: None,
        }),
        &ctx(),
    )
    .await
    .expect("deploys");
    let start = |e: Engine| async move {
        let mut c = start(key("recv"));
        if let Command::StartInstance(s) = &mut c {
            s.variables.clear();
        }
        instance(e.apply(c, &ctx()).await.expect("starts")).instance
    };
    let waits = |e: Engine, id: InstanceId| async move {
        match e
            .apply(
                Command::GetExecutions {
                    instance: id,
                    key: None,
                    activity_id: None,
                },
                &ctx(),
            )
            .await
            .expect("executions")
        {
            Outcome::Executions { waits, .. } => waits,
            other => panic!("{other:?}"),
        }
    };
    let trigger = |id: InstanceId, key: String, paid: bool| Command::TriggerExecution {
        instance: id,
        key,
        variables: vec![Variable::new("paid", VariableValue::Boolean(paid))],
        transient_variables: Vec::new(),
    };

    let i = start(e.clone()).await;
    assert_eq!(i.activity_id.as_deref(), Some("wait"));
    assert!(
        open_tasks(&e, i.id).await.is_empty(),
        "a receive task makes no task"
    );
    let w = waits(e.clone(), i.id).await;
    assert_eq!(w.len(), 1);
    let wait_key = w[0].record.key.clone();
    assert_eq!(
        e.apply(trigger(i.id, "9.9".into(), true), &ctx()).await,
        Err(CoreError::NotFound(Missing::Execution(format!("{}.9.9", i.id))))
    );
    match e
        .apply(trigger(i.id, wait_key.clone(), true), &ctx())
        .await
        .expect("triggers")
    {
        Outcome::Executions { waits, instance } => {
            assert_eq!(
                waits
                    .iter()
                    .map(|v| v.record.activity_id.as_str())
                    .collect::<Vec<_>>(),
                ["ship"]
            );
            assert_eq!(
                instance.instance.variables.get("paid"),
                Some(&VariableValue::Boolean(true))
            );
        }
        other => panic!("{other:?}"),
    }
    let ship = waits(e.clone(), i.id).await.remove(0);
    assert!(ship.task.is_some(), "the user task's path carries its task");
    assert!(
        matches!(
            e.apply(trigger(i.id, ship.record.key.clone(), true), &ctx())
                .await,
            Err(CoreError::Invalid { .. })
        ),
        "a user task is completed, not triggered"
    );
    assert_eq!(
        e.apply(trigger(i.id, wait_key, true), &ctx()).await,
        Err(CoreError::NotFound(Missing::Execution(format!(
            "{}.{}",
            i.id, "0.2"
        )))),
        "a path triggered once has moved on"
    );

    // Unpaid: the default flow ends the instance; the answer has nowhere left to wait.
    let j = start(e.clone()).await;
    let key = waits(e.clone(), j.id).await.remove(0).record.key;
    match e
        .apply(trigger(j.id, key, false), &ctx())
        .await
        .expect("triggers")
    {
        Outcome::Executions { waits, .. } => assert!(waits.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(get_any(&e, j.id).await.state, InstanceState::Completed);
}

async fn a_failing_condition_writes_nothing(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let i = instance(e.apply(expense(None), &ctx()).await.expect("starts")).instance;
    let submit = open_tasks(&e, i.id).await.remove(0);
    let before = get_any(&e, i.id).await;
    let err = e
        .apply(
            complete(
                submit.id,
                vec![Variable::new("note", VariableValue::String("x".into()))],
            ),
            &ctx(),
        )
        .await
        .expect_err("amount is unknown");
    match err {
        CoreError::ProcessFailure { message } => {
            assert!(
                message.contains("Unknown property used in expression"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(get_any(&e, i.id).await, before, "nothing written");
    assert_eq!(open_tasks(&e, i.id).await, vec![submit.clone()]);
    // With the variable it goes on.
    e.apply(
        complete(
            submit.id,
            vec![Variable::new("amount", VariableValue::Integer(2000))],
        ),
        &ctx(),
    )
    .await
    .expect("completes");
    assert_eq!(
        get_any(&e, i.id).await.activity_id.as_deref(),
        Some("managerApproval")
    );
}

async fn deleting_an_instance_ends_its_tasks(store: Arc<dyn Store>) {
    let e = engine(store).await;
    let i = instance(e.apply(expense(Some(1)), &ctx()).await.expect("starts")).instance;
    let submit = open_tasks(&e, i.id).await.remove(0);
    e.apply(
        Command::DeleteInstance(DeleteInstance {
            id: i.id,
            reason: Some("withdrawn".into()),
        }),
        &ctx(),
    )
    .await
    .expect("deletes");
    assert!(open_tasks(&e, i.id).await.is_empty());
    let ended = tasks_of(
        &e,
        TaskFilter {
            id: Some(submit.id),
            all: true,
            ..TaskFilter::default()
        },
    )
    .await;
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0].end_time, ended[0].delete_reason.as_deref()),
        (Some(ctx().now), Some("withdrawn"))
    );
    assert_eq!(
        e.apply(complete(submit.id, Vec::new()), &ctx()).await,
        Err(CoreError::NotFound(Missing::Task(submit.id)))
    );
    let h = get_any(&e, i.id).await;
    assert_eq!(
        (h.state, h.delete_reason.as_deref()),
        (InstanceState::Terminated, Some("withdrawn"))
    );
}

/// Runs a test on a Redis store of its own prefix, and removes its keys afterwards.
async fn on_redis<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let prefix = common::unique_prefix("engine");
    let store = RedisStore::connect(&common::redis_url(), &prefix)
        .await
        .expect("Redis answers at REDIS_URL");
    test(Arc::new(store)).await;
    common::remove_keys(&prefix).await;
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(#[tokio::test] async fn $name() { super::$name(Arc::new(MemoryStore::new())).await })*
        }
        mod redis {
            $(#[tokio::test] async fn $name() { super::on_redis(super::$name).await })*
        }
    };
}

on_both_stores!(
    start_waits_at_the_first_wait_state,
    message_and_tenant_starts,
    a_start_without_wait_state_ends_at_once,
    deleted_instances_leave_the_runtime,
    variables_and_links,
    definition_filters_resolve,
    a_process_moves_through_gateways_and_tasks,
    small_amounts_take_the_default_flow,
    activity_history_follows_the_path,
    a_receive_task_waits_until_triggered,
    a_failing_condition_writes_nothing,
    deleting_an_instance_ends_its_tasks,
);
