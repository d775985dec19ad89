//! Parse tests: representative requests → the exact command, and every validation message.

use bpm_compat_model::{
    Adapter, Blob, Claim, Command, CoreError, DefinitionSelector, DeleteInstance, DeleteInstances,
    IdentityLink, IdentityLinkRef, InstanceFilter, InstanceId, InstanceQuery, InstanceRef, InstanceSort,
    Missing, RequestCtx, SetMode, SetSuspended, SetVariables, SortOrder, StartInstance, TextMatch, Timestamp,
    UpdateInstance, Variable, VariableFilter, VariableOp, VariableRef, VariableValue,
};
use bytes::Bytes;
use http::{Method, Request};
use serde_json::{json, Value};

use crate::routes::{ListShape, Op, VarScope};
use crate::Flowable;

const NOW: Timestamp = Timestamp(1_763_990_160_123);

fn ctx(path: &str) -> RequestCtx {
    RequestCtx {
        now: NOW,
        request_id: 1,
        base_url: "http://localhost:8080/flowable-rest/service".into(),
        path: path.into(),
        user: Some("kermit".into()),
    }
}

fn request(
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (Request<Bytes>, RequestCtx) {
    let path = uri.split('?').next().unwrap_or("").to_string();
    let mut b = Request::builder()
        .method(method)
        .uri(format!("/flowable-rest/service/{uri}"));
    if let Some(ct) = content_type {
        b = b.header("Content-Type", ct);
    }
    let req = b.body(Bytes::copy_from_slice(body)).expect("request");
    (req, ctx(&path))
}

fn run(method: Method, uri: &str, body: Option<Value>) -> Result<(Op, Command), CoreError> {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let (req, c) = request(method, uri, Some("application/json"), bytes.as_bytes());
    Flowable.parse(&req, &c)
}

fn cmd(method: Method, uri: &str, body: Option<Value>) -> Command {
    match run(method.clone(), uri, body) {
        Ok((_, c)) => c,
        Err(e) => panic!("{method} {uri}: {e:?}"),
    }
}

fn invalid(method: Method, uri: &str, body: Option<Value>) -> String {
    match run(method.clone(), uri, body) {
        Err(CoreError::Invalid { message }) => message,
        other => panic!("{method} {uri}: expected Invalid, got {other:?}"),
    }
}

fn list(uri: &str) -> (InstanceQuery, ListShape) {
    match run(Method::GET, uri, None) {
        Ok((Op::ListInstances { shape }, Command::ListInstances(q))) => (q, shape),
        other => panic!("{uri}: {other:?}"),
    }
}

fn query(uri: &str, body: Value) -> (InstanceQuery, ListShape) {
    match run(Method::POST, uri, Some(body)) {
        Ok((Op::QueryInstances { shape }, Command::ListInstances(q))) => (q, shape),
        other => panic!("{uri}: {other:?}"),
    }
}

const PI: &str = "runtime/process-instances";

// --------------------------------------------------------------------------------------
// Start

#[test]
fn start_by_key_with_variables() {
    let c = cmd(
        Method::POST,
        PI,
        Some(json!({
            "processDefinitionKey": "oneTaskProcess",
            "businessKey": "myBusinessKey",
            "name": "n",
            "tenantId": "tenant1",
            "returnVariables": true,
            "variables": [
                {"name": "myVar", "value": "This is a variable", "scope": "global"},
                {"name": "amount", "value": 1234, "type": "long"}
            ],
            "transientVariables": [{"name": "t", "value": true}]
        })),
    );
    assert_eq!(
        c,
        Command::StartInstance(StartInstance {
            definition: DefinitionSelector::Key {
                key: "oneTaskProcess".into(),
                tenant_id: "tenant1".into(),
            },
            name: Some("n".into()),
            business_key: Some("myBusinessKey".into()),
            variables: vec![
                Variable::new("myVar", VariableValue::String("This is a variable".into())),
                Variable::new("amount", VariableValue::Long(1234)),
            ],
            transient_variables: vec![Variable::new("t", VariableValue::Boolean(true))],
            start_user: Some("kermit".into()),
            origin: Some("flowable".into()),
        })
    );
}

#[test]
fn start_selectors() {
    let selector = |body: Value| match cmd(Method::POST, PI, Some(body)) {
        Command::StartInstance(s) => s.definition,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        selector(json!({"processDefinitionId": "oneTaskProcess:1:4", "tenantId": ""})),
        DefinitionSelector::Id("oneTaskProcess:1:4".into())
    );
    assert_eq!(
        selector(json!({"processDefinitionKey": "k"})),
        DefinitionSelector::Key {
            key: "k".into(),
            tenant_id: "".into()
        }
    );
    assert_eq!(
        selector(json!({"message": "newOrderMessage", "tenantId": "t"})),
        DefinitionSelector::Message {
            name: "newOrderMessage".into(),
            tenant_id: "t".into()
        }
    );
}

#[test]
fn start_validation_messages() {
    let e = |b: Value| invalid(Method::POST, PI, Some(b));
    assert_eq!(
        e(json!({"businessKey": "x"})),
        "Either processDefinitionId, processDefinitionKey or message is required."
    );
    assert_eq!(
        e(json!({"processDefinitionId": "a", "message": "m"})),
        "Only one of processDefinitionId, processDefinitionKey or message should be set."
    );
    assert_eq!(
        e(json!({"processDefinitionId": "a", "tenantId": "t"})),
        "TenantId can only be used with either processDefinitionKey or message."
    );
    assert_eq!(
        e(json!({"processDefinitionKey": "k", "variables": [{"value": 1}]})),
        "Variable name is required."
    );
    assert_eq!(
        e(json!({"processDefinitionKey": "k", "transientVariables": [{"value": 1}]})),
        "Variable name is required."
    );
    assert_eq!(
        e(
            json!({"processDefinitionKey": "k", "variables": [{"name": "a", "type": "integer", "value": "x"}]})
        ),
        "Converter can only convert integers"
    );
    assert!(e(json!({"processDefinitionKey": 5})).starts_with("JSON parse error: "));
    assert!(e(json!([1])).starts_with("JSON parse error: "));
}

// --------------------------------------------------------------------------------------
// Single instance

#[test]
fn get_delete_diagram() {
    let r = InstanceRef { id: InstanceId(7) };
    assert_eq!(
        cmd(Method::GET, "runtime/process-instances/7", None),
        Command::GetInstance(r)
    );
    assert_eq!(
        cmd(
            Method::DELETE,
            "runtime/process-instances/7?deleteReason=no%20longer%20needed",
            None
        ),
        Command::DeleteInstance(DeleteInstance {
            id: InstanceId(7),
            reason: Some("no longer needed".into())
        })
    );
    assert_eq!(
        cmd(Method::DELETE, "runtime/process-instances/7", None),
        Command::DeleteInstance(DeleteInstance {
            id: InstanceId(7),
            reason: None
        })
    );
    assert_eq!(
        cmd(Method::GET, "runtime/process-instances/7/diagram", None),
        Command::GetDiagram(r)
    );
}

#[test]
fn non_numeric_ids_are_not_found() {
    for (m, p) in [
        (Method::GET, "runtime/process-instances/abc"),
        (Method::GET, "runtime/process-instances/abc/variables"),
        (Method::GET, "runtime/process-instances/abc/identitylinks"),
        (Method::DELETE, "runtime/process-instances/abc/variables/v"),
    ] {
        assert_eq!(
            run(m, p, None),
            Err(CoreError::NotFound(Missing::InstanceText("abc".into()))),
            "{p}"
        );
    }
}

#[test]
fn put_actions() {
    let put = |body: Value| cmd(Method::PUT, "runtime/process-instances/7", Some(body));
    let id = InstanceId(7);
    assert_eq!(
        put(json!({"action": "suspend"})),
        Command::SetSuspended(SetSuspended { id, suspended: true })
    );
    assert_eq!(
        put(json!({"action": "activate"})),
        Command::SetSuspended(SetSuspended { id, suspended: false })
    );
    assert_eq!(
        put(json!({"action": "claim", "assignee": "fozzie"})),
        Command::UpdateInstance(UpdateInstance {
            id,
            claim: Some(Some(Claim {
                user: "fozzie".into(),
                at: NOW
            })),
            ..UpdateInstance::default()
        })
    );
    assert_eq!(
        put(json!({"action": "claim"})),
        Command::UpdateInstance(UpdateInstance {
            id,
            claim: Some(Some(Claim {
                user: "kermit".into(),
                at: NOW
            })),
            ..UpdateInstance::default()
        })
    );
    assert_eq!(
        put(json!({"action": "unclaim"})),
        Command::UpdateInstance(UpdateInstance {
            id,
            claim: Some(None),
            ..UpdateInstance::default()
        })
    );
    assert_eq!(
        put(json!({"name": "n", "businessKey": "bk", "businessStatus": "open",
                   "dueDate": "2026-06-15T10:00:00.000+0000", "action": ""})),
        Command::UpdateInstance(UpdateInstance {
            id,
            name: Some("n".into()),
            business_key: Some("bk".into()),
            business_status: Some("open".into()),
            due_date: Timestamp::parse_iso("2026-06-15T10:00:00Z"),
            claim: None,
        })
    );
    assert_eq!(
        put(json!({})),
        Command::UpdateInstance(UpdateInstance {
            id,
            ..UpdateInstance::default()
        })
    );
    let e = |b: Value| invalid(Method::PUT, "runtime/process-instances/7", Some(b));
    assert_eq!(e(json!({"action": "explode"})), "Invalid action: 'explode'.");
    assert!(e(json!({"dueDate": "tomorrow"})).contains("dueDate"));
}

#[test]
fn bulk_delete() {
    let p = "runtime/process-instances/delete";
    assert_eq!(
        cmd(
            Method::POST,
            p,
            Some(json!({"action": "delete", "instanceIds": ["7", "8", "7"], "deleteReason": "r"}))
        ),
        Command::DeleteInstances(DeleteInstances {
            ids: vec![InstanceId(7), InstanceId(8)],
            reason: Some("r".into())
        })
    );
    assert_eq!(
        invalid(
            Method::POST,
            p,
            Some(json!({"action": "remove", "instanceIds": ["7"]}))
        ),
        "Illegal action: 'remove'."
    );
    assert_eq!(
        invalid(Method::POST, p, Some(json!({"instanceIds": ["7"]}))),
        "Illegal action: 'null'."
    );
    assert_eq!(
        invalid(Method::POST, p, Some(json!({"action": "delete"}))),
        "instanceIds is required."
    );
    assert_eq!(
        run(
            Method::POST,
            p,
            Some(json!({"action": "delete", "instanceIds": ["7", "x"]}))
        ),
        Err(CoreError::NotFound(Missing::InstanceText("x".into())))
    );
}

// --------------------------------------------------------------------------------------
// Lists and queries

#[test]
fn list_defaults() {
    let (q, shape) = list(PI);
    // A default list renders no variables: the store may leave them out.
    let lean = InstanceQuery {
        with_details: false,
        ..InstanceQuery::default()
    };
    assert_eq!(q, lean);
    assert_eq!(shape, ListShape::default());
}

#[test]
fn list_maps_every_filter() {
    let (q, shape) = list(
        "runtime/process-instances?id=7&name=n&processDefinitionKey=k&processDefinitionId=d:1:1\
         &processDefinitionName=dn&processDefinitionCategoryLike=cat%25&processDefinitionVersion=2\
         &businessKeyLike=bk%25&businessStatusLikeIgnoreCase=OPEN%25&startedBy=kermit\
         &startedBefore=2025-01-02T00:00:00Z&startedAfter=2025-01-01&activeActivityId=theTask\
         &involvedUser=fozzie&suspended=True&excludeSubprocesses=true&rootScopeIds=7,8\
         &tenantIdLike=ac%25&withoutTenantId=TRUE&includeProcessVariables=true\
         &start=5&size=3&sort=startTime&order=desc&unknownParam=x",
    );
    let f = InstanceFilter {
        ids: Some(vec![InstanceId(7)]),
        name: Some(TextMatch::Equals("n".into())),
        definition_key: Some(TextMatch::Equals("k".into())),
        definition_ids: Some(vec!["d:1:1".into()]),
        definition_name: Some(TextMatch::Equals("dn".into())),
        definition_category: Some(TextMatch::Like("cat%".into())),
        definition_version: Some(2),
        business_key: Some(TextMatch::Like("bk%".into())),
        business_status: Some(TextMatch::LikeIgnoreCase("OPEN%".into())),
        started_by: Some("kermit".into()),
        started_before: Timestamp::parse_iso("2025-01-02"),
        started_after: Timestamp::parse_iso("2025-01-01"),
        activity_ids: Some(vec!["theTask".into()]),
        involved_user: Some("fozzie".into()),
        suspended: Some(true),
        tenant_id: Some(TextMatch::Like("ac%".into())),
        without_tenant: true,
        ..InstanceFilter::default()
    };
    assert_eq!(
        q,
        InstanceQuery {
            filter: f,
            sort: InstanceSort::StartTime,
            order: SortOrder::Desc,
            start: 5,
            size: 3,
            with_details: true,
        }
    );
    assert_eq!(
        shape,
        ListShape {
            sort: "startTime".into(),
            order: "desc".into(),
            variables: Some(None),
        }
    );
}

#[test]
fn list_text_variants_and_booleans() {
    let (q, shape) = list(
        "runtime/process-instances?nameLikeIgnoreCase=my%25&processDefinitionKeyLike=one%25\
         &tenantId=acme&suspended=yes&withoutTenantId=false&includeProcessVariablesNames=a,b",
    );
    assert_eq!(q.filter.name, Some(TextMatch::LikeIgnoreCase("my%".into())));
    assert_eq!(q.filter.definition_key, Some(TextMatch::Like("one%".into())));
    assert_eq!(q.filter.tenant_id, Some(TextMatch::Equals("acme".into())));
    assert_eq!(q.filter.suspended, Some(false));
    assert!(!q.filter.without_tenant);
    assert_eq!(shape.variables, Some(Some(vec!["a".into(), "b".into()])));
    assert!(q.with_details, "the named variables are rendered");

    // equals with a pattern is exact: compatible stays, contradictory is impossible.
    let (q, _) = list("runtime/process-instances?businessKey=order-1&businessKeyLike=order%25");
    assert_eq!(q.filter.business_key, Some(TextMatch::Equals("order-1".into())));
    assert!(!q.filter.impossible);
    assert!(
        !q.with_details,
        "no variables rendered: the store may leave them out"
    );
    let (q, _) = list("runtime/process-instances?businessKey=order-1&businessKeyLike=x%25");
    assert!(q.filter.impossible);
}

#[test]
fn list_impossible_filters() {
    for param in [
        "superProcessInstanceId=1",
        "subProcessInstanceId=1",
        "parentScopeId=1",
        "parentScopeIds=1,2",
        "callbackId=c",
        "callbackIds=c",
        "callbackType=t",
        "parentCaseInstanceId=1",
        "processDefinitionEngineVersion=v6",
        "processDefinitionVersion=-1",
    ] {
        let (q, _) = list(&format!("runtime/process-instances?{param}"));
        assert!(q.filter.impossible, "{param}");
    }
    let (q, _) = list("runtime/process-instances?id=abc");
    assert_eq!(q.filter.ids, Some(vec![]));
    let (q, _) = list("runtime/process-instances?id=7&rootScopeId=8");
    assert_eq!(q.filter.ids, Some(vec![]));
    let (q, _) = list("runtime/process-instances?excludeSubprocesses=true");
    assert_eq!((q.filter, q.with_details), (InstanceFilter::default(), false));
}

#[test]
fn list_paging_and_sort_errors() {
    let (q, _) = list("runtime/process-instances?start=-3&size=-1");
    assert_eq!((q.start, q.size), (0, 10));
    let e = |uri: &str| invalid(Method::GET, uri, None);
    assert_eq!(
        e("runtime/process-instances?sort=name"),
        "Value for param 'sort' is not valid, 'name' is not a valid property"
    );
    assert_eq!(
        e("runtime/process-instances?order=up"),
        "Value for param 'order' is not valid : 'up', must be 'asc' or 'desc'"
    );
    assert_eq!(
        e("runtime/process-instances?start=abc"),
        "Value for param 'start' is not a valid number: 'abc'"
    );
    assert_eq!(
        e("runtime/process-instances?size=1.5"),
        "Value for param 'size' is not a valid number: '1.5'"
    );
    assert_eq!(
        e("runtime/process-instances?processDefinitionVersion=x"),
        "Value for param 'processDefinitionVersion' is not a valid number: 'x'"
    );
    assert_eq!(
        e("runtime/process-instances?startedBefore=yesterday"),
        "Failed to parse date yesterday"
    );
    for sort in [
        "id",
        "processDefinitionId",
        "processDefinitionKey",
        "startTime",
        "tenantId",
        "businessKey",
    ] {
        let (_, shape) = list(&format!("runtime/process-instances?sort={sort}"));
        assert_eq!(shape.sort, sort);
    }
}

#[test]
fn list_ignores_bodies_and_content_types_on_get() {
    let (req, c) = request(Method::GET, PI, Some("text/plain"), b"not json at all");
    assert!(Flowable.parse(&req, &c).is_ok());
}

#[test]
fn query_body_names_and_paging() {
    let (q, shape) = query(
        "query/process-instances?start=9&size=2&sort=id",
        json!({
            "processInstanceIds": ["7", "8", "x"],
            "processInstanceNameLike": "n%",
            "processBusinessKey": "bk",
            "processBusinessStatus": "s",
            "processDefinitionKeys": ["a", "b"],
            "excludeProcessDefinitionKeys": ["c"],
            "processDefinitionIds": ["a:1:1"],
            "processDefinitionNameLikeIgnoreCase": "N%",
            "processDefinitionVersion": 3,
            "activeActivityIds": ["t1", "t2"],
            "startedBefore": "2025-01-02T00:00:00.000+01:00",
            "startedAfter": 0,
            "suspended": false,
            "tenantIdLikeIgnoreCase": "AC%",
            "includeProcessVariables": true,
            "size": 4,
            "order": "desc",
            "unknownField": {"ignored": true}
        }),
    );
    let f = InstanceFilter {
        ids: Some(vec![InstanceId(7), InstanceId(8)]),
        name: Some(TextMatch::Like("n%".into())),
        business_key: Some(TextMatch::Equals("bk".into())),
        business_status: Some(TextMatch::Equals("s".into())),
        definition_keys: Some(vec!["a".into(), "b".into()]),
        excluded_definition_keys: Some(vec!["c".into()]),
        definition_ids: Some(vec!["a:1:1".into()]),
        definition_name: Some(TextMatch::LikeIgnoreCase("N%".into())),
        definition_version: Some(3),
        activity_ids: Some(vec!["t1".into(), "t2".into()]),
        started_before: Timestamp::parse_iso("2025-01-01T23:00:00Z"),
        started_after: Some(Timestamp(0)),
        suspended: Some(false),
        tenant_id: Some(TextMatch::LikeIgnoreCase("AC%".into())),
        ..InstanceFilter::default()
    };
    assert_eq!(
        q,
        InstanceQuery {
            filter: f,
            sort: InstanceSort::Id,
            order: SortOrder::Desc,
            start: 9,
            size: 4,
            with_details: true,
        }
    );
    assert_eq!(shape.variables, Some(None));
    assert_eq!(shape.order, "desc");
    let (q, _) = query("query/process-instances", json!({"deploymentId": "1"}));
    assert!(q.filter.impossible);
    let (q, _) = query("query/process-instances", json!({"start": "2", "size": "5"}));
    assert_eq!((q.start, q.size), (2, 5));
}

#[test]
fn query_variables() {
    let (q, _) = query(
        "query/process-instances",
        json!({"variables": [
            {"name": "myVariable", "value": 1234, "operation": "equals", "type": "long"},
            {"name": "who", "value": "ker%", "operation": "likeIgnoreCase"},
            {"name": "amount", "value": 5, "operation": "greaterThanOrEquals"},
            {"name": "flag", "operation": "exists"},
            {"name": "gone", "operation": "notExists"},
            {"value": "x", "operation": "equals"}
        ]}),
    );
    let f = |name: Option<&str>, op, value| VariableFilter {
        name: name.map(str::to_string),
        op,
        value,
    };
    assert_eq!(
        q.filter.variables,
        vec![
            f(
                Some("myVariable"),
                VariableOp::Equals,
                Some(VariableValue::Long(1234))
            ),
            f(
                Some("who"),
                VariableOp::LikeIgnoreCase,
                Some(VariableValue::String("ker%".into()))
            ),
            f(
                Some("amount"),
                VariableOp::GreaterThanOrEquals,
                Some(VariableValue::Integer(5))
            ),
            f(Some("flag"), VariableOp::Exists, None),
            f(Some("gone"), VariableOp::NotExists, None),
            f(None, VariableOp::Equals, Some(VariableValue::String("x".into()))),
        ]
    );
    for op in [
        "notEquals",
        "equalsIgnoreCase",
        "notEqualsIgnoreCase",
        "like",
        "lessThan",
        "lessThanOrEquals",
        "greaterThan",
    ] {
        let (q, _) = query(
            "query/process-instances",
            json!({"variables": [{"name": "v", "value": "a", "operation": op}]}),
        );
        assert_eq!(q.filter.variables.len(), 1, "{op}");
    }
}

#[test]
fn query_variable_messages() {
    let e = |v: Value| {
        invalid(
            Method::POST,
            "query/process-instances",
            Some(json!({"variables": [v]})),
        )
    };
    assert_eq!(
        e(json!({"name": "v", "value": 1})),
        "Variable operation is missing for variable: v"
    );
    assert_eq!(
        e(json!({"name": "v", "value": 1, "operation": "about"})),
        "Unsupported variable query operation: about"
    );
    assert_eq!(
        e(json!({"name": "v", "operation": "equals"})),
        "Variable value is missing for variable: v"
    );
    assert_eq!(
        e(json!({"value": 1, "operation": "greaterThan"})),
        "Value-only query (without a variable-name) is only supported when using 'equals' operation."
    );
    assert!(
        e(json!({"name": "v", "value": 1, "operation": "like"})).starts_with("Only string variable values")
    );
    assert!(
        e(json!({"name": "v", "value": 1, "operation": "equalsIgnoreCase"}))
            .starts_with("Only string variable values")
    );
    assert_eq!(
        e(json!({"name": "v", "value": "x", "operation": "equals", "type": "integer"})),
        "Converter can only convert integers"
    );
}

// --------------------------------------------------------------------------------------
// Identity links

#[test]
fn identity_links() {
    let p = "runtime/process-instances/7/identitylinks";
    let id = InstanceId(7);
    assert_eq!(
        cmd(Method::GET, p, None),
        Command::GetIdentityLinks(InstanceRef { id })
    );
    let add = |b: Value| cmd(Method::POST, p, Some(b));
    assert_eq!(
        add(json!({"user": "kermit", "type": "participant"})),
        Command::AddIdentityLink(IdentityLinkRef {
            id,
            link: IdentityLink::user("kermit", "participant")
        })
    );
    assert_eq!(
        add(json!({"userId": "kermit", "type": "participant"})),
        Command::AddIdentityLink(IdentityLinkRef {
            id,
            link: IdentityLink::user("kermit", "participant")
        })
    );
    assert_eq!(
        add(json!({"user": "kermit", "group": "sales", "type": "candidate"})),
        Command::AddIdentityLink(IdentityLinkRef {
            id,
            link: IdentityLink::group("sales", "candidate")
        })
    );
    assert_eq!(
        invalid(Method::POST, p, Some(json!({"type": "participant"}))),
        "User or group are required."
    );
    assert_eq!(
        invalid(Method::POST, p, Some(json!({"user": "kermit"}))),
        "The identity link type is required."
    );
    assert_eq!(
        cmd(
            Method::GET,
            "runtime/process-instances/7/identitylinks/users/kermit/starter",
            None
        ),
        Command::GetIdentityLink(IdentityLinkRef {
            id,
            link: IdentityLink::user("kermit", "starter")
        })
    );
    assert_eq!(
        cmd(
            Method::DELETE,
            "runtime/process-instances/7/identitylinks/groups/sales%20team/candidate",
            None
        ),
        Command::RemoveIdentityLink(IdentityLinkRef {
            id,
            link: IdentityLink::group("sales team", "candidate")
        })
    );
    assert_eq!(
        invalid(
            Method::GET,
            "runtime/process-instances/7/identitylinks/people/kermit/starter",
            None
        ),
        "Identity link family should be 'users' or 'groups'."
    );
}

// --------------------------------------------------------------------------------------
// Variables

const VARS: &str = "runtime/process-instances/7/variables";

#[test]
fn variable_reads_and_deletes() {
    let id = InstanceId(7);
    let r = InstanceRef { id };
    let vref = VariableRef { id, name: "v".into() };
    assert_eq!(cmd(Method::GET, VARS, None), Command::GetVariables(r));
    match run(Method::GET, &format!("{VARS}?scope=global"), None) {
        Ok((Op::ListVariables { scope, .. }, Command::GetVariables(_))) => {
            assert_eq!(scope, VarScope::Global)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        invalid(Method::GET, &format!("{VARS}?scope=nearby"), None),
        "Invalid variable scope: 'nearby'"
    );
    assert_eq!(cmd(Method::DELETE, VARS, None), Command::DeleteVariables(r));
    assert_eq!(
        cmd(Method::GET, &format!("{VARS}/v"), None),
        Command::GetVariable(vref.clone())
    );
    assert_eq!(
        cmd(Method::GET, &format!("{VARS}/v?scope=local"), None),
        Command::GetVariable(vref.clone())
    );
    assert_eq!(
        cmd(Method::GET, &format!("{VARS}/v/data"), None),
        Command::GetVariable(vref.clone())
    );
    assert_eq!(
        cmd(Method::DELETE, &format!("{VARS}/v"), None),
        Command::DeleteVariable(vref)
    );
    // Global deletes only check the instance; render answers the 404.
    assert_eq!(
        cmd(Method::DELETE, &format!("{VARS}/v?scope=global"), None),
        Command::GetVariables(r)
    );
}

#[test]
fn variable_collection_writes() {
    let body = json!([
        {"name": "intProcVar", "type": "integer", "value": 123},
        {"name": "d", "type": "date", "value": "2020-01-02T03:04:05Z", "scope": "local"},
        {"name": "obj", "value": {"a": 1}}
    ]);
    let vars = vec![
        Variable::new("intProcVar", VariableValue::Integer(123)),
        Variable::new(
            "d",
            VariableValue::Date(Timestamp::parse_iso("2020-01-02T03:04:05Z").expect("date")),
        ),
        Variable::new("obj", VariableValue::Json(json!({"a": 1}))),
    ];
    for (m, mode) in [(Method::POST, SetMode::Create), (Method::PUT, SetMode::Upsert)] {
        assert_eq!(
            run(m.clone(), VARS, Some(body.clone())),
            Ok((
                if m == Method::POST {
                    Op::CreateVariables {
                        id: "7".into(),
                        multipart: false,
                    }
                } else {
                    Op::UpsertVariables {
                        id: "7".into(),
                        multipart: false,
                    }
                },
                Command::SetVariables(SetVariables {
                    id: InstanceId(7),
                    variables: vars.clone(),
                    mode,
                })
            ))
        );
    }
}

#[test]
fn variable_collection_messages() {
    let e = |b: Value| invalid(Method::POST, VARS, Some(b));
    assert_eq!(
        e(json!({"name": "v"})),
        "Failed to serialize to a RestVariable instance"
    );
    assert_eq!(e(json!([1])), "Failed to serialize to a RestVariable instance");
    assert_eq!(
        e(json!([])),
        "Request did not contain a list of variables to create."
    );
    assert_eq!(e(json!([{"value": 1}])), "Variable name is required");
    assert_eq!(
        e(json!([{"name": "a", "value": 1}, {"name": "b", "value": 1, "scope": "global"}])),
        "Only allowed to update multiple variables in the same scope."
    );
    assert_eq!(
        e(json!([{"name": "a", "value": 1, "scope": "global"}])),
        "Cannot set global variables on execution '7', task is not part of process."
    );
    assert_eq!(
        e(json!([{"name": "a", "value": 1, "scope": "wide"}])),
        "Invalid variable scope: 'wide'"
    );
    assert_eq!(
        e(json!([{"name": "a", "value": "x", "type": "binary"}])),
        "Variable 'a' has unsupported type: 'binary'."
    );
}

#[test]
fn single_variable_update() {
    let p = format!("{VARS}/intProcVar");
    assert_eq!(
        cmd(
            Method::PUT,
            &p,
            Some(json!({"name": "intProcVar", "type": "integer", "value": 124}))
        ),
        Command::SetVariables(SetVariables {
            id: InstanceId(7),
            variables: vec![Variable::new("intProcVar", VariableValue::Integer(124))],
            mode: SetMode::Update,
        })
    );
    assert_eq!(
        invalid(Method::PUT, &p, Some(json!({"name": "other", "value": 1}))),
        "Variable name in the body should be equal to the name used in the requested URL."
    );
    assert_eq!(
        invalid(Method::PUT, &p, Some(json!({"value": 1}))),
        "Variable name is required"
    );
}

fn multipart_body(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--XX\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some(data) = file {
        b.extend_from_slice(
            b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\
              Content-Type: application/pdf\r\n\r\n",
        );
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"--XX--\r\n");
    b
}

fn multipart(method: Method, uri: &str, body: &[u8]) -> Result<(Op, Command), CoreError> {
    let (req, c) = request(method, uri, Some("multipart/form-data; boundary=XX"), body);
    Flowable.parse(&req, &c)
}

#[test]
fn multipart_variables() {
    let blob = Blob {
        data: vec![0, 1, 2],
        content_type: Some("application/pdf".into()),
    };
    let body = multipart_body(&[("name", "binaryVariable")], Some(&[0, 1, 2]));
    assert_eq!(
        multipart(Method::POST, VARS, &body),
        Ok((
            Op::CreateVariables {
                id: "7".into(),
                multipart: true
            },
            Command::SetVariables(SetVariables {
                id: InstanceId(7),
                variables: vec![Variable::new(
                    "binaryVariable",
                    VariableValue::Binary(blob.clone())
                )],
                mode: SetMode::Create,
            })
        ))
    );
    let body = multipart_body(
        &[("name", "s"), ("type", "serializable"), ("scope", "local")],
        Some(&[0, 1, 2]),
    );
    assert_eq!(
        multipart(Method::PUT, VARS, &body).map(|(_, c)| c),
        Ok(Command::SetVariables(SetVariables {
            id: InstanceId(7),
            variables: vec![Variable::new("s", VariableValue::Serializable(blob.clone()))],
            mode: SetMode::Upsert,
        }))
    );
    let body = multipart_body(&[("name", "binaryVariable")], Some(&[0, 1, 2]));
    assert_eq!(
        multipart(Method::PUT, &format!("{VARS}/binaryVariable"), &body),
        Ok((
            Op::UpdateVariable {
                id: "7".into(),
                name: "binaryVariable".into(),
                multipart: true
            },
            Command::SetVariables(SetVariables {
                id: InstanceId(7),
                variables: vec![Variable::new("binaryVariable", VariableValue::Binary(blob))],
                mode: SetMode::Update,
            })
        ))
    );
    let msg = |r: Result<(Op, Command), CoreError>| match r {
        Err(CoreError::Invalid { message }) => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        msg(multipart(Method::POST, VARS, &multipart_body(&[], Some(b"x")))),
        "No variable name was found in request body."
    );
    assert_eq!(
        msg(multipart(
            Method::POST,
            VARS,
            &multipart_body(&[("name", "v")], None)
        )),
        "No file content was found in request body."
    );
    assert_eq!(
        msg(multipart(
            Method::POST,
            VARS,
            &multipart_body(&[("name", "v"), ("type", "string")], Some(b"x"))
        )),
        "Only 'binary' and 'serializable' are supported as variable type."
    );
    assert_eq!(
        msg(multipart(
            Method::PUT,
            &format!("{VARS}/other"),
            &multipart_body(&[("name", "v")], Some(b"x"))
        )),
        "Variable name in the body should be equal to the name used in the requested URL."
    );
    assert!(multipart(Method::POST, VARS, b"garbage").is_err());
}

// --------------------------------------------------------------------------------------
// Bodies and robustness

#[test]
fn content_types_and_bodies() {
    for ct in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
    ] {
        let (req, c) = request(Method::POST, PI, Some(ct), b"{\"processDefinitionKey\":\"k\"}");
        assert_eq!(
            Flowable.parse(&req, &c).map(|_| ()),
            Err(CoreError::UnsupportedMedia {
                content_type: ct.into()
            })
        );
    }
    for ct in [
        Some("application/json;charset=UTF-8"),
        Some("Application/JSON"),
        Some("application/vnd.api+json"),
        None,
    ] {
        let (req, c) = request(Method::POST, PI, ct, b"{\"processDefinitionKey\":\"k\"}");
        assert!(Flowable.parse(&req, &c).is_ok(), "{ct:?}");
    }
    let (req, c) = request(
        Method::POST,
        PI,
        Some("application/json"),
        b"{\"processDefinitionKey\":",
    );
    match Flowable.parse(&req, &c) {
        Err(CoreError::Invalid { message }) => assert!(message.starts_with("JSON parse error"), "{message}"),
        other => panic!("{other:?}"),
    }
    let (req, c) = request(Method::POST, PI, Some("application/json"), b"  ");
    assert_eq!(
        Flowable.parse(&req, &c).map(|_| ()),
        Err(CoreError::invalid("Required request body is missing"))
    );
}

#[test]
fn unknown_routes_are_unsupported() {
    let (req, c) = request(Method::GET, "runtime/jobs", None, b"");
    assert_eq!(
        Flowable.parse(&req, &c).map(|_| ()),
        Err(CoreError::Unsupported {
            operation: "GET runtime/jobs".into()
        })
    );
}

/// A cheap deterministic generator (no dev-dependencies): xorshift.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn parse_never_panics() {
    let paths = [
        PI,
        "runtime/process-instances/7",
        "runtime/process-instances/delete",
        "query/process-instances",
        "runtime/process-instances/7/identitylinks",
        "runtime/process-instances/7/identitylinks/users/u/t",
        "runtime/process-instances/7/variables",
        "runtime/process-instances/7/variables/v",
        "runtime/process-instances/%ZZ/variables/%C3",
    ];
    let bodies = [
        "",
        "{}",
        "[]",
        "null",
        "{\"variables\":[{\"operation\":\"equals\"}]}",
        "[{\"name\":\"a\",\"type\":\"date\",\"value\":\"2020-02-30\"}]",
        "{\"processDefinitionKey\":\"k\",\"variables\":[{\"name\":\"x\",\"type\":\"localDateTime\",\"value\":\"2020-01-01T10:00é\"}]}",
        "{\"action\":\"delete\",\"instanceIds\":[\"99999999999999999999999\"]}",
        "{\"start\":1e300,\"size\":-0.5}",
        "\u{0}\u{1}\u{2}",
    ];
    let queries = [
        "",
        "?start=1e9",
        "?size=99999999999999999999",
        "?scope=%FF",
        "?startedBefore=2020-01-01T",
        "?sort=&order=",
    ];
    let types = [
        "application/json",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "text/plain",
    ];
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let uri = format!("{}{}", rng.pick(&paths), rng.pick(&queries));
        let method = methods[(rng.next() % methods.len() as u64) as usize].clone();
        let mut body = rng.pick(&bodies).as_bytes().to_vec();
        // Flip a few bytes now and then.
        if rng.next() % 3 == 0 && !body.is_empty() {
            let i = (rng.next() % body.len() as u64) as usize;
            body[i] = (rng.next() & 0xff) as u8;
        }
        let (req, c) = request(method, &uri, Some(rng.pick(&types)), &body);
        let _ = Flowable.parse(&req, &c);
    }
}
