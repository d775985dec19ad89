//! Outcome → Astro Zero's envelope `{"resCode":"0","resMsg":"Success","result":…}`.

use bpm_compat_model::{ActivityKind, CoreError, InstanceState, InstanceView, Outcome, RequestCtx};
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{error_response, json_response};
use crate::ids::{render_definition_id, render_instance_id};
use crate::{Op, OpKind};

/// The envelope of a success.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Success<T: Serialize> {
    pub res_code: &'static str,
    pub res_msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
}

/// The instance as the start API (seed 004) and the instance operations return it, fields in
/// the seed's order and types.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(non_snake_case)]
pub struct BpInstance {
    pub name: String,
    pub version: String,
    pub id: String,
    pub processDefID: String,
    pub interviewLabel: String,
    pub nextElem: String,
    pub isTest: bool,
    pub state: &'static str,
    pub bpStatus: String,
    pub urgency: i64,
    pub taskOutcome: String,
    pub businessKey: String,
    pub startTime: String,
    pub endTime: String,
    pub Ext1: String,
    pub Ext2: String,
    pub Ext3: String,
    pub Ext4: String,
    pub Ext5: String,
    pub Ext6: String,
    pub Ext7: i64,
    pub Ext8: i64,
    pub suspended: bool,
    pub isClosed: bool,
}

/// A user as list items show one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRef {
    #[serde(rename = "__objectType")]
    pub object_type: &'static str,
    pub name: String,
}

/// One item of `GET runtime/instances` (astrozero_api_0068).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BpListItem {
    pub id: String,
    pub name: String,
    pub label: String,
    pub title: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: String,
    pub state: &'static str,
    pub bp_status: String,
    pub bp_stage: String,
    pub bp_step: String,
    pub cur_element: String,
    pub business_key: String,
    pub urgency: i64,
    pub suspended: bool,
    pub start_time: String,
    pub end_time: String,
    pub created_date: String,
    pub last_modified_date: String,
    pub last_handler: String,
    pub owner: Option<UserRef>,
    pub created_by: Option<UserRef>,
    pub last_modified_by: Option<UserRef>,
}

/// Astro Zero's state string of an instance.
pub fn state(view: &InstanceView) -> &'static str {
    let i = &view.instance;
    match i.state {
        InstanceState::Active => {
            let at_user_task = i.tokens.iter().chain(i.activity_id.iter()).any(|a| {
                view.definition
                    .activity(a)
                    .is_some_and(|a| a.kind == ActivityKind::UserTask)
            });
            if at_user_task {
                "Waiting for user interaction"
            } else {
                "Running"
            }
        }
        InstanceState::Suspended => "Suspended",
        InstanceState::Completed => "Completed OK",
        InstanceState::Terminated => "Terminated",
        InstanceState::Failed | InstanceState::FailedEscalated => "Broken",
    }
}

/// The definition's version label (`1.0.1`), else its number.
fn version(view: &InstanceView) -> String {
    let d = &view.definition;
    d.version_label.clone().unwrap_or_else(|| d.version.to_string())
}

fn business_key(view: &InstanceView) -> String {
    view.instance
        .business_key
        .clone()
        .unwrap_or_else(|| render_instance_id(view.instance.id))
}

pub fn instance(view: &InstanceView) -> BpInstance {
    let i = &view.instance;
    let d = &view.definition;
    let state = state(view);
    BpInstance {
        name: d.key.clone(),
        version: version(view),
        id: render_instance_id(i.id),
        processDefID: render_definition_id(&d.id),
        interviewLabel: d.name.clone().unwrap_or_default(),
        nextElem: i.activity_id.clone().unwrap_or_default(),
        isTest: false,
        state,
        bpStatus: i.business_status.clone().unwrap_or_else(|| state.to_owned()),
        urgency: 0,
        taskOutcome: String::new(),
        businessKey: business_key(view),
        startTime: i.start_time.to_sql_seconds(),
        endTime: i.end_time.map(|t| t.to_sql_seconds()).unwrap_or_default(),
        Ext1: String::new(),
        Ext2: String::new(),
        Ext3: String::new(),
        Ext4: String::new(),
        Ext5: String::new(),
        Ext6: String::new(),
        Ext7: 0,
        Ext8: 0,
        suspended: i.state == InstanceState::Suspended,
        isClosed: !i.state.is_open(),
    }
}

pub fn list_item(view: &InstanceView) -> BpListItem {
    let i = &view.instance;
    let d = &view.definition;
    let state = state(view);
    let user = i.start_user_id.as_ref().map(|u| UserRef {
        object_type: "User",
        name: u.clone(),
    });
    let start = i.start_time.to_sql_seconds();
    BpListItem {
        id: render_instance_id(i.id),
        name: d.key.clone(),
        label: d.name.clone().unwrap_or_default(),
        title: i.name.clone().unwrap_or_default(),
        description: d.description.clone().unwrap_or_default(),
        kind: "BP",
        version: version(view),
        state,
        bp_status: i.business_status.clone().unwrap_or_else(|| state.to_owned()),
        bp_stage: String::new(),
        bp_step: String::new(),
        cur_element: i.activity_id.clone().unwrap_or_default(),
        business_key: business_key(view),
        urgency: 0,
        suspended: i.state == InstanceState::Suspended,
        start_time: start.clone(),
        end_time: i.end_time.map(|t| t.to_sql_seconds()).unwrap_or_default(),
        created_date: start.clone(),
        last_modified_date: i.end_time.map(|t| t.to_sql_seconds()).unwrap_or(start),
        last_handler: String::new(),
        owner: user.clone(),
        created_by: user.clone(),
        last_modified_by: user,
    }
}

fn success<T: Serialize>(op: &Op, result: Option<T>) -> Response<Bytes> {
    json_response(
        StatusCode::OK,
        &Success {
            res_code: "0",
            res_msg: if op.chinese { "成功" } else { "Success" },
            result,
        },
    )
}

fn unexpected(op: &Op) -> CoreError {
    CoreError::Internal {
        message: format!("unexpected outcome for {}", op.name()),
    }
}

pub fn render(op: Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes> {
    let rendered = result.and_then(|outcome| match (&op.kind, outcome) {
        // Astro Zero answers a start before the instance runs: it shows it dispatched and new
        // (seed 004), whatever the instance does next.
        (OpKind::Start, Outcome::Instance(view)) => Ok(success(
            &op,
            Some(BpInstance {
                state: "Dispatched",
                bpStatus: "New".into(),
                ..instance(&view)
            }),
        )),
        (OpKind::Action, Outcome::Instance(view)) => Ok(success(&op, Some(instance(&view)))),
        (OpKind::List { states, fields }, Outcome::Instances(page)) => {
            let items: Vec<Value> = page
                .items
                .iter()
                .filter(|v| states.iter().any(|s| s == state(v)))
                .map(|v| project(list_item(v), fields.as_deref()))
                .collect();
            Ok(success(&op, Some(items)))
        }
        (OpKind::Delete | OpKind::SetVariables, _) => Ok(success::<()>(&op, None)),
        _ => Err(unexpected(&op)),
    });
    rendered.unwrap_or_else(|err| error_response(&err, ctx))
}

/// Only the asked-for fields of a list item (`fields=id,name,state`); all when not asked.
fn project(item: BpListItem, fields: Option<&[String]>) -> Value {
    let value = serde_json::to_value(item).unwrap_or(Value::Null);
    match (value, fields) {
        (Value::Object(map), Some(fields)) => {
            Value::Object(map.into_iter().filter(|(k, _)| fields.contains(k)).collect())
        }
        (value, _) => value,
    }
}
