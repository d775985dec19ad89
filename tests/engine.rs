//! Process semantics of the engine, on both stores: where a start waits, how instances end,
//! and which commands see closed instances.

mod common;

use std::sync::Arc;

use bpm_compat::definitions::Definitions;
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
    let defs = Definitions::load_dir(&common::definitions_dir()).expect("definitions load");
    Engine::new(store, Arc::new(defs))
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
    assert_eq!(e.apply(delete.clone(), &ctx()).await, Ok(Outcome::Done));
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
);
