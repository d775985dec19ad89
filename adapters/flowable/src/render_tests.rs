//! Render tests: outcomes built by hand, whole JSON bodies compared.

use std::sync::Arc;

use bpm_compat_model::{
    Activity, ActivityKind, Blob, Clash, CoreError, Edge, IdentityLink, InstanceId, InstanceState,
    InstanceView, Layout, Missing, Outcome, Page, ProcessDefinition, ProcessInstance, RequestCtx,
    SequenceFlow, Shape, Timestamp, Variable, VariableValue,
};
use bytes::Bytes;
use http::{header, Response};
use serde_json::{json, Value};

use super::*;
use crate::routes::ListShape;

pub(crate) const BASE: &str = "http://localhost:8080/flowable-rest/service";

pub(crate) fn ctx() -> RequestCtx {
    RequestCtx {
        now: Timestamp(1_763_990_160_123),
        request_id: 9,
        base_url: BASE.into(),
        path: "runtime/process-instances/7".into(),
        user: Some("kermit".into()),
    }
}

fn shape(element: &str, x: f64, y: f64, width: f64, height: f64) -> Shape {
    Shape {
        element: element.into(),
        x,
        y,
        width,
        height,
    }
}

pub(crate) fn definition() -> ProcessDefinition {
    let activity = |id: &str, kind| Activity::new(id, kind);
    ProcessDefinition {
        id: "oneTaskProcess:1:4".into(),
        key: "oneTaskProcess".into(),
        name: Some("One task process".into()),
        description: Some("A process with one task".into()),
        category: None,
        version: 1,
        version_label: None,
        tenant_id: String::new(),
        resource_name: Some("oneTask.bpmn20.xml".into()),
        deployment_id: None,
        ordinal: 0,
        activities: vec![
            activity("start", ActivityKind::StartEvent { message: None }),
            activity("theTask", ActivityKind::UserTask),
            activity("end", ActivityKind::EndEvent),
        ],
        flows: vec![
            SequenceFlow {
                id: "flow1".into(),
                source: "start".into(),
                target: "theTask".into(),
                condition: None,
            },
            SequenceFlow {
                id: "flow2".into(),
                source: "theTask".into(),
                target: "end".into(),
                condition: None,
            },
        ],
        layout: Some(Layout {
            shapes: vec![
                shape("start", 100.0, 125.0, 30.0, 30.0),
                shape("theTask", 200.0, 100.0, 100.0, 80.0),
                shape("end", 415.0, 125.0, 30.0, 30.0),
            ],
            edges: vec![
                Edge {
                    element: "flow1".into(),
                    waypoints: vec![(130.0, 140.0), (200.0, 140.0)],
                },
                Edge {
                    element: "flow2".into(),
                    waypoints: vec![(300.0, 140.0), (415.0, 140.0)],
                },
            ],
        }),
        aliases: vec![],
        integration: false,
        logged_fields: Vec::new(),
    }
}

pub(crate) fn instance() -> ProcessInstance {
    let mut variables = bpm_compat_model::Variables::new();
    variables.insert("amount".into(), VariableValue::Integer(5));
    variables.insert("who".into(), VariableValue::String("Kermit".into()));
    ProcessInstance {
        id: InstanceId(7),
        definition_id: "oneTaskProcess:1:4".into(),
        definition_key: "oneTaskProcess".into(),
        definition_version: 1,
        tenant_id: String::new(),
        name: Some("My instance".into()),
        business_key: Some("myBusinessKey".into()),
        business_status: None,
        state: InstanceState::Active,
        activity_id: Some("theTask".into()),
        tokens: vec!["theTask".into()],
        start_activity_id: Some("start".into()),
        end_activity_id: None,
        revision: 0,
        start_time: Timestamp::parse_iso("2025-11-24T13:16:00.123Z").expect("date"),
        end_time: None,
        start_user_id: Some("kermit".into()),
        due_date: None,
        claimed_by: None,
        claim_time: None,
        delete_reason: None,
        origin: Some("flowable".into()),
        variables,
        identity_links: vec![IdentityLink::user("kermit", "starter")],
    }
}

fn view() -> InstanceView {
    InstanceView {
        instance: instance(),
        definition: Arc::new(definition()),
    }
}

fn body(resp: &Response<Bytes>) -> Value {
    serde_json::from_slice(resp.body()).expect("json body")
}

fn instance_json(variables: Value, definition_shown: bool) -> Value {
    json!({
        "id": "7",
        "url": format!("{BASE}/runtime/process-instances/7"),
        "name": "My instance",
        "businessKey": "myBusinessKey",
        "businessStatus": null,
        "dueDate": null,
        "claimTime": null,
        "claimedBy": null,
        "suspended": false,
        "ended": false,
        "processDefinitionId": "oneTaskProcess:1:4",
        "processDefinitionUrl": format!("{BASE}/repository/process-definitions/oneTaskProcess:1:4"),
        "processDefinitionName": if definition_shown { json!("One task process") } else { Value::Null },
        "processDefinitionDescription": if definition_shown { json!("A process with one task") } else { Value::Null },
        "activityId": "theTask",
        "startUserId": "kermit",
        "startTime": "2025-11-24T13:16:00.123Z",
        "superProcessInstanceId": null,
        "variables": variables,
        "callbackId": null,
        "callbackType": null,
        "referenceId": null,
        "referenceType": null,
        "propagatedStageInstanceId": null,
        "tenantId": "",
        "completed": false
    })
}

fn all_vars_json() -> Value {
    json!([
        {"name": "amount", "type": "integer", "value": 5, "scope": "local"},
        {"name": "who", "type": "string", "value": "Kermit", "scope": "local"}
    ])
}

#[test]
fn get_instance_has_every_field() {
    let resp = render(
        Op::GetInstance { id: "7".into() },
        Ok(Outcome::Instance(view())),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/json;charset=UTF-8"
    );
    assert_eq!(body(&resp), instance_json(json!([]), true));
}

#[test]
fn start_shows_variables_and_is_created() {
    let resp = render(Op::StartInstance, Ok(Outcome::Instance(view())), &ctx());
    assert_eq!(resp.status(), 201);
    assert_eq!(body(&resp), instance_json(all_vars_json(), true));
}

#[test]
fn put_hides_definition_fields_and_shows_state() {
    let mut v = view();
    v.instance.state = InstanceState::Suspended;
    v.instance.claimed_by = Some("fozzie".into());
    v.instance.claim_time = Some(Timestamp(0));
    v.instance.due_date = Some(Timestamp(86_400_000));
    v.instance.business_status = Some("open".into());
    let resp = render(
        Op::UpdateInstance { id: "7".into() },
        Ok(Outcome::Instance(v)),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    let mut want = instance_json(json!([]), false);
    want["suspended"] = json!(true);
    want["claimedBy"] = json!("fozzie");
    want["claimTime"] = json!("1970-01-01T00:00:00.000Z");
    want["dueDate"] = json!("1970-01-02T00:00:00.000Z");
    want["businessStatus"] = json!("open");
    assert_eq!(body(&resp), want);
}

#[test]
fn ended_instances_are_completed_and_tenants_render() {
    let mut v = view();
    v.instance.state = InstanceState::Completed;
    v.instance.activity_id = None;
    v.instance.tenant_id = "acme".into();
    let resp = render(
        Op::GetInstance { id: "7".into() },
        Ok(Outcome::Instance(v)),
        &ctx(),
    );
    let b = body(&resp);
    assert_eq!(b["ended"], json!(true));
    assert_eq!(b["completed"], json!(true));
    assert_eq!(b["activityId"], Value::Null);
    assert_eq!(b["tenantId"], json!("acme"));
}

#[test]
fn list_envelope() {
    let mut second = view();
    second.instance.id = InstanceId(10);
    let page = Page {
        items: vec![view(), second],
        total: 12,
        start: 4,
    };
    let shape = ListShape {
        sort: "startTime".into(),
        order: "desc".into(),
        variables: None,
    };
    let resp = render(
        Op::ListInstances { shape },
        Ok(Outcome::Instances(page.clone())),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    let b = body(&resp);
    assert_eq!(b["total"], json!(12));
    assert_eq!(b["start"], json!(4));
    assert_eq!(b["sort"], json!("startTime"));
    assert_eq!(b["order"], json!("desc"));
    assert_eq!(b["size"], json!(2));
    // List items carry the definition name but not its description (Flowable's query joins
    // only the name).
    let mut first = instance_json(json!([]), true);
    first["processDefinitionDescription"] = serde_json::Value::Null;
    assert_eq!(b["data"][0], first);
    assert_eq!(b["data"][1]["id"], json!("10"));
    assert_eq!(b.as_object().map(|o| o.len()), Some(6));

    // includeProcessVariables, and a name selection.
    let shape = ListShape {
        variables: Some(None),
        ..ListShape::default()
    };
    let resp = render(
        Op::QueryInstances { shape },
        Ok(Outcome::Instances(page.clone())),
        &ctx(),
    );
    assert_eq!(body(&resp)["data"][0]["variables"], all_vars_json());
    let shape = ListShape {
        variables: Some(Some(vec!["who".into()])),
        ..ListShape::default()
    };
    let resp = render(Op::QueryInstances { shape }, Ok(Outcome::Instances(page)), &ctx());
    assert_eq!(
        body(&resp)["data"][0]["variables"],
        json!([{"name": "who", "type": "string", "value": "Kermit", "scope": "local"}])
    );
}

#[test]
fn empty_list() {
    let page = Page {
        items: vec![],
        total: 0,
        start: 0,
    };
    let resp = render(
        Op::ListInstances {
            shape: ListShape::default(),
        },
        Ok(Outcome::Instances(page)),
        &ctx(),
    );
    assert_eq!(
        body(&resp),
        json!({"data": [], "total": 0, "start": 0, "sort": "id", "order": "asc", "size": 0})
    );
}

#[test]
fn no_content_answers() {
    for op in [
        Op::DeleteInstances,
        Op::DeleteInstance { id: "7".into() },
        Op::DeleteIdentityLink {
            id: "7".into(),
            family: "users".into(),
            identity: "u".into(),
            link_type: "t".into(),
        },
        Op::DeleteVariables { id: "7".into() },
        Op::DeleteVariable {
            id: "7".into(),
            name: "v".into(),
            scope: VarScope::Local,
        },
    ] {
        let resp = render(op.clone(), Ok(Outcome::Done), &ctx());
        assert_eq!(resp.status(), 204, "{op:?}");
        assert!(resp.body().is_empty());
    }
}

#[test]
fn identity_links() {
    let links = vec![
        IdentityLink::user("kermit", "starter"),
        IdentityLink::group("sales", "candidate"),
    ];
    let resp = render(
        Op::ListIdentityLinks { id: "7".into() },
        Ok(Outcome::IdentityLinks(links)),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(
        body(&resp),
        json!([
            {"url": format!("{BASE}/runtime/process-instances/7/identitylinks/users/kermit/starter"),
             "user": "kermit", "group": null, "type": "starter"},
            {"url": format!("{BASE}/runtime/process-instances/7/identitylinks/groups/sales/candidate"),
             "user": null, "group": "sales", "type": "candidate"}
        ])
    );
    let link = IdentityLink::user("fozzie", "participant");
    let want = json!({"url": format!("{BASE}/runtime/process-instances/7/identitylinks/users/fozzie/participant"),
                      "user": "fozzie", "group": null, "type": "participant"});
    for outcome in [Outcome::IdentityLink(link.clone()), Outcome::Done] {
        let resp = render(
            Op::AddIdentityLink {
                id: "7".into(),
                link: Some(link.clone()),
            },
            Ok(outcome),
            &ctx(),
        );
        assert_eq!(resp.status(), 201);
        assert_eq!(body(&resp), want);
    }
    let resp = render(
        Op::GetIdentityLink {
            id: "7".into(),
            family: "users".into(),
            identity: "fozzie".into(),
            link_type: "participant".into(),
        },
        Ok(Outcome::IdentityLink(link)),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(body(&resp), want);
}

fn var_ops() -> Vec<Variable> {
    vec![
        Variable::new("a", VariableValue::Long(1)),
        Variable::new(
            "file",
            VariableValue::Binary(Blob {
                data: vec![1, 2, 3],
                content_type: Some("application/pdf".into()),
            }),
        ),
    ]
}

#[test]
fn variable_lists_and_scopes() {
    let data_url = format!("{BASE}/runtime/process-instances/7/variables/file/data");
    let list_json = json!([
        {"name": "a", "type": "long", "value": 1, "scope": "local"},
        {"name": "file", "type": "binary", "value": null, "valueUrl": data_url, "scope": "local"}
    ]);
    let resp = render(
        Op::ListVariables {
            id: "7".into(),
            scope: VarScope::Local,
        },
        Ok(Outcome::Variables(var_ops())),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(body(&resp), list_json);
    let resp = render(
        Op::ListVariables {
            id: "7".into(),
            scope: VarScope::Global,
        },
        Ok(Outcome::Variables(var_ops())),
        &ctx(),
    );
    assert_eq!(body(&resp), json!([]));
    for op in [
        Op::CreateVariables {
            id: "7".into(),
            multipart: false,
        },
        Op::UpsertVariables {
            id: "7".into(),
            multipart: false,
        },
    ] {
        let resp = render(op, Ok(Outcome::Variables(var_ops())), &ctx());
        assert_eq!(resp.status(), 201);
        assert_eq!(body(&resp), list_json);
    }
    let resp = render(
        Op::CreateVariables {
            id: "7".into(),
            multipart: true,
        },
        Ok(Outcome::Variables(var_ops()[1..].to_vec())),
        &ctx(),
    );
    assert_eq!(resp.status(), 201);
    assert_eq!(body(&resp), list_json[1]);
}

#[test]
fn single_variable_scope_is_null() {
    let resp = render(
        Op::GetVariable {
            id: "7".into(),
            name: "a".into(),
            scope: VarScope::Local,
        },
        Ok(Outcome::Variable(var_ops()[0].clone())),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(
        body(&resp),
        json!({"name": "a", "type": "long", "value": 1, "scope": null})
    );
    let resp = render(
        Op::UpdateVariable {
            id: "7".into(),
            name: "a".into(),
            multipart: false,
        },
        Ok(Outcome::Variables(vec![var_ops()[0].clone()])),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(
        body(&resp),
        json!({"name": "a", "type": "long", "value": 1, "scope": null})
    );
    let resp = render(
        Op::UpdateVariable {
            id: "7".into(),
            name: "a".into(),
            multipart: true,
        },
        Ok(Outcome::Variable(var_ops()[0].clone())),
        &ctx(),
    );
    assert_eq!(body(&resp)["scope"], json!("local"));
    let resp = render(
        Op::GetVariable {
            id: "7".into(),
            name: "a".into(),
            scope: VarScope::Global,
        },
        Ok(Outcome::Variable(var_ops()[0].clone())),
        &ctx(),
    );
    assert_eq!(resp.status(), 404);
    assert_eq!(
        body(&resp),
        json!({"message": "Not found", "exception": "Execution '7' does not have a variable with name: 'a'."})
    );
    let resp = render(
        Op::DeleteVariable {
            id: "7".into(),
            name: "a".into(),
            scope: VarScope::Global,
        },
        Ok(Outcome::Variables(vec![])),
        &ctx(),
    );
    assert_eq!(resp.status(), 404);
    assert_eq!(
        body(&resp),
        json!({"message": "Not found", "exception": "Execution '7' does not have a variable 'a' in scope global"})
    );
}

#[test]
fn variable_data() {
    let op = || Op::GetVariableData {
        id: "7".into(),
        name: "file".into(),
    };
    let resp = render(op(), Ok(Outcome::Variable(var_ops()[1].clone())), &ctx());
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(resp.body().as_ref(), &[1, 2, 3]);
    let ser = Variable::new(
        "s",
        VariableValue::Serializable(Blob {
            data: vec![0xac, 0xed],
            content_type: None,
        }),
    );
    let resp = render(op(), Ok(Outcome::Variable(ser)), &ctx());
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/x-java-serialized-object"
    );
    assert_eq!(resp.body().as_ref(), &[0xac, 0xed]);
    let resp = render(op(), Ok(Outcome::Variable(var_ops()[0].clone())), &ctx());
    assert_eq!(resp.status(), 404);
    assert_eq!(
        body(&resp),
        json!({"message": "Not found", "exception": "The variable does not have a binary data stream."})
    );
}

#[test]
fn diagram_answers() {
    let resp = render(
        Op::GetDiagram { id: "7".into() },
        Ok(Outcome::Diagram(view())),
        &ctx(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/png");
    assert!(resp.body().starts_with(b"\x89PNG\r\n\x1a\n"));
    let mut def = definition();
    def.layout = None;
    let v = InstanceView {
        instance: instance(),
        definition: Arc::new(def),
    };
    let resp = render(Op::GetDiagram { id: "7".into() }, Ok(Outcome::Diagram(v)), &ctx());
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body(&resp),
        json!({"message": "Bad request", "exception": "Process instance with id '7' has no graphical notation defined."})
    );
}

#[test]
fn errors_take_the_op_wording() {
    let resp = render(
        Op::ListVariables {
            id: "8".into(),
            scope: VarScope::Local,
        },
        Err(CoreError::NotFound(Missing::Instance(InstanceId(8)))),
        &ctx(),
    );
    assert_eq!(resp.status(), 404);
    assert_eq!(
        body(&resp),
        json!({"message": "Not found", "exception": "Could not find an execution with id '8'."})
    );
    let resp = render(
        Op::UpdateInstance { id: "7".into() },
        Err(CoreError::Conflict(Clash::AlreadySuspended(InstanceId(7)))),
        &ctx(),
    );
    assert_eq!(resp.status(), 409);
    let resp = render(
        Op::StartInstance,
        Err(CoreError::NotFound(Missing::Definition(
            bpm_compat_model::DefinitionSelector::Key {
                key: "nope".into(),
                tenant_id: String::new(),
            },
        ))),
        &ctx(),
    );
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body(&resp),
        json!({"message": "Bad request", "exception": "no processes deployed with key 'nope'"})
    );
}

#[test]
fn unexpected_outcomes_are_generic_500s() {
    let resp = render(Op::GetInstance { id: "7".into() }, Ok(Outcome::Done), &ctx());
    assert_eq!(resp.status(), 500);
    assert_eq!(
        body(&resp),
        json!({"message": "Internal server error", "exception": "Error with ID: 9"})
    );
}

#[test]
fn render_error_uses_the_path() {
    let mut c = ctx();
    c.path = "runtime/process-instances/abc/variables".into();
    let resp = render_error(CoreError::NotFound(Missing::InstanceText("abc".into())), &c);
    assert_eq!(
        body(&resp),
        json!({"message": "Not found", "exception": "Could not find an execution with id 'abc'."})
    );
}
