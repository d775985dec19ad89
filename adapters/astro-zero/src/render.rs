//! Outcome → Astro Zero's envelope `{"resCode":"0","resMsg":"Success","result":…}`.

use bpm_compat_model::{
    ActivityKind, CoreError, DefinitionSelector, InstanceState, InstanceView, Missing, Outcome, RequestCtx,
};
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::errors::{error_response, json_response};
use crate::ids::{self, render_definition_id, render_instance_id};
use crate::metadata;
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

/// One item of `GET runtime/instances` (astrozero_api_0070's example): a flat record whose
/// user references are spread over three keys each (`createdBy`, `createdBy.__objectType`,
/// `createdBy.name`), as the platform's object records are.
pub type BpListItem = Map<String, Value>;

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
        processDefID: render_definition_id(d),
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
    let start = i.start_time.to_sql_seconds();
    let end = i.end_time.map(|t| t.to_sql_seconds()).unwrap_or_default();
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("id", Value::from(render_instance_id(i.id)));
    put("name", Value::from(d.key.clone()));
    put("label", Value::from(d.name.clone().unwrap_or_default()));
    put("title", Value::from(i.name.clone().unwrap_or_default()));
    put(
        "description",
        Value::from(d.description.clone().unwrap_or_default()),
    );
    put("type", Value::from("BP"));
    put("version", Value::from(version(view)));
    put("state", Value::from(state));
    put(
        "bpStatus",
        Value::from(i.business_status.clone().unwrap_or_else(|| state.to_owned())),
    );
    put("bpStage", Value::from(""));
    put("bpStep", Value::from(""));
    put(
        "curElement",
        Value::from(i.activity_id.clone().unwrap_or_default()),
    );
    put("businessKey", Value::from(business_key(view)));
    put("urgency", Value::from(0));
    put("suspended", Value::from(i.state == InstanceState::Suspended));
    put("startTime", Value::from(start.clone()));
    put("endTime", Value::from(end.clone()));
    put("createdDate", Value::from(start.clone()));
    put(
        "lastModifiedDate",
        Value::from(if end.is_empty() { start } else { end }),
    );
    put("lastHandler", Value::Null);
    // bpm-compat's users have names, not record ids: the name stands for both.
    for who in ["owner", "createdBy", "lastModifiedBy"] {
        let user = i.start_user_id.clone().map_or(Value::Null, Value::from);
        put(who, user.clone());
        put(&format!("{who}.__objectType"), Value::from("User"));
        put(&format!("{who}.name"), user);
    }
    m
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

/// The BPM an id in the path names does not exist.
fn no_such_definition(path: &str) -> CoreError {
    let id = path.rsplit('/').next().unwrap_or_default();
    CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(id.to_owned())))
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
        (OpKind::ListDefinitions, Outcome::Definitions(page)) => {
            let items: Vec<Value> = page.items.iter().map(|d| metadata::list_item(d)).collect();
            Ok(success(&op, Some(items)))
        }
        (OpKind::GetDefinition, Outcome::Definitions(page)) => match page.items.first() {
            Some(d) => Ok(success(&op, Some(metadata::design(d)))),
            None => Err(no_such_definition(&ctx.path)),
        },
        // A design is deployed alone, so its definition is the first of the deployment.
        (OpKind::SaveDefinition, Outcome::Deployed { deployment: d, .. }) => {
            Ok(success(&op, Some(ids::definition_id(&d.id, 0))))
        }
        (OpKind::DeleteDefinition, Outcome::Done) => Ok(success(&op, Some("1"))),
        _ => Err(unexpected(&op)),
    });
    rendered.unwrap_or_else(|err| error_response(&err, ctx))
}

/// Only the asked-for fields of a list item (`fields=id,name,state`); all when not asked. A
/// user field brings its `.__objectType` and `.name` keys along.
fn project(item: BpListItem, fields: Option<&[String]>) -> Value {
    match fields {
        None => Value::Object(item),
        Some(fields) => Value::Object(
            item.into_iter()
                .filter(|(k, _)| {
                    let base = k.split('.').next().unwrap_or(k);
                    fields.iter().any(|f| f == k || f == base)
                })
                .collect(),
        ),
    }
}
