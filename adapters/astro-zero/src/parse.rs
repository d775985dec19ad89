//! Request → command, with Astro Zero's checks. Pure; nothing here can panic.

use bpm_compat_model::{
    Command, CoreError, DefinitionFilter, DefinitionQuery, DefinitionSelector, DefinitionSort,
    DeleteInstance, Deploy, InstanceFilter, InstanceQuery, InstanceSort, InstanceState, RequestCtx, Resource,
    SetMode, SetSuspended, SetVariables, SortOrder, StartInstance, TextMatch, Variable, VariableValue,
};
use bytes::Bytes;
use http::{header, Method, Request};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ids::{parse_definition_id, parse_instance_id};
use crate::metadata::Design;
use crate::{Op, OpKind};

/// The variables Astro Zero defines for every BPM and reads specially.
pub const BUSINESS_KEY: &str = "$Flow.BusinessKey";
pub const TITLE: &str = "$Flow.Title";

/// The most list items one call answers (Astro Zero's list has no paging parameters).
pub const LIST_LIMIT: usize = 1000;

/// Astro Zero's instance state strings, each with the neutral state it stands for.
pub const STATES: [(&str, InstanceState); 12] = [
    ("New", InstanceState::Active),
    ("Running", InstanceState::Active),
    ("Waiting for user interaction", InstanceState::Active),
    ("Waiting for page event", InstanceState::Active),
    ("Dispatched", InstanceState::Active),
    ("CompletedOkWait", InstanceState::Active),
    ("Paused", InstanceState::Suspended),
    ("Suspended", InstanceState::Suspended),
    ("Completed OK", InstanceState::Completed),
    ("Broken", InstanceState::Failed),
    ("User Terminated", InstanceState::Terminated),
    ("Terminated", InstanceState::Terminated),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    name: Option<String>,
    version: Option<String>,
    variables: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct ActionBody {
    action: Option<String>,
}

fn segments(path: &str) -> Vec<&str> {
    path.split('?').next().unwrap_or_default().split('/').collect()
}

fn json<T: serde::de::DeserializeOwned>(req: &Request<Bytes>) -> Result<T, CoreError> {
    if let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" {
            return Err(CoreError::UnsupportedMedia {
                content_type: ct.to_owned(),
            });
        }
    }
    serde_json::from_slice(req.body())
        .map_err(|e| CoreError::invalid(format!("The request body is not valid: {e}")))
}

fn params(req: &Request<Bytes>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Chinese `resMsg` when the client asks for it.
fn chinese(req: &Request<Bytes>, params: &[(String, String)]) -> bool {
    let header = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let locale = param(params, "locale").unwrap_or(header);
    locale.trim_start().to_ascii_lowercase().starts_with("zh")
}

/// Variables of a JSON object, without Astro Zero's system variables.
fn variables(map: &Map<String, Value>) -> Vec<Variable> {
    map.iter()
        .filter(|(k, _)| !k.starts_with("$Flow."))
        .map(|(k, v)| Variable::new(k.clone(), VariableValue::from_json(v)))
        .collect()
}

fn text_variable(map: &Map<String, Value>, name: &str) -> Result<Option<String>, CoreError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(CoreError::invalid(format!(
            "{name} must be a string, not {other}"
        ))),
    }
}

pub fn parse(req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
    let params = params(req);
    let chinese = chinese(req, &params);
    let op = |kind| Op { kind, chinese };
    let unsupported = || CoreError::Unsupported {
        operation: format!("{} {}", req.method(), ctx.path),
    };
    let m = req.method();
    match segments(&ctx.path).as_slice() {
        ["runtime", "instances"] if m == Method::POST => {
            let body: StartBody = json(req)?;
            let Some(name) = body.name.filter(|n| !n.is_empty()) else {
                return Err(CoreError::invalid("name is required"));
            };
            let vars = body.variables.unwrap_or_default();
            let start = StartInstance {
                definition: DefinitionSelector::Alias {
                    dialect: "astro-zero".into(),
                    name,
                    version: body.version,
                },
                name: text_variable(&vars, TITLE)?,
                business_key: text_variable(&vars, BUSINESS_KEY)?,
                variables: variables(&vars),
                transient_variables: Vec::new(),
                start_user: ctx.user.clone(),
                origin: Some("astro-zero".into()),
            };
            Ok((op(OpKind::Start), Command::StartInstance(start)))
        }
        ["runtime", "instances"] if m == Method::GET => {
            let Some(states_text) = param(&params, "states").filter(|s| !s.trim().is_empty()) else {
                return Err(CoreError::invalid("states is required"));
            };
            let mut states = Vec::new();
            let mut neutral = Vec::new();
            for s in states_text.split(',').map(str::trim) {
                let Some((name, state)) = STATES.iter().find(|(n, _)| *n == s) else {
                    return Err(CoreError::invalid(format!("Unknown state: {s}")));
                };
                states.push((*name).to_owned());
                if !neutral.contains(state) {
                    neutral.push(*state);
                }
            }
            let sort = match param(&params, "orderField").unwrap_or("startTime") {
                "startTime" | "createdDate" => InstanceSort::StartTime,
                "id" => InstanceSort::Id,
                "businessKey" => InstanceSort::BusinessKey,
                "name" => InstanceSort::DefinitionKey,
                other => return Err(CoreError::invalid(format!("Unknown orderField: {other}"))),
            };
            let order = match param(&params, "orderType").unwrap_or("desc") {
                "asc" => SortOrder::Asc,
                "desc" => SortOrder::Desc,
                other => {
                    return Err(CoreError::invalid(format!(
                        "orderType must be asc or desc, not {other}"
                    )))
                }
            };
            let fields = param(&params, "fields")
                .filter(|f| !f.trim().is_empty())
                .map(|f| f.split(',').map(|x| x.trim().to_owned()).collect());
            let query = InstanceQuery {
                filter: InstanceFilter {
                    states: neutral,
                    ..InstanceFilter::default()
                },
                sort,
                order,
                start: 0,
                size: LIST_LIMIT,
                // A list item shows neither variables nor identity links, whatever `fields` picks.
                with_details: false,
            };
            Ok((op(OpKind::List { states, fields }), Command::ListInstances(query)))
        }
        ["runtime", "instances", id] if m == Method::PUT => {
            let id = parse_instance_id(id)?;
            let body: ActionBody = json(req)?;
            let command = match body.action.as_deref() {
                Some("suspend") => Command::SetSuspended(SetSuspended { id, suspended: true }),
                Some("resume") => Command::SetSuspended(SetSuspended { id, suspended: false }),
                Some("terminate") => Command::DeleteInstance(DeleteInstance {
                    id,
                    reason: Some("User Terminated".into()),
                }),
                Some(other) => {
                    return Err(CoreError::invalid(format!(
                        "Unknown action: {other} (suspend, resume or terminate)"
                    )))
                }
                None => return Err(CoreError::invalid("action is required")),
            };
            Ok((op(OpKind::Action), command))
        }
        ["runtime", "instances", id] if m == Method::DELETE => {
            let id = parse_instance_id(id)?;
            Ok((
                op(OpKind::Delete),
                Command::DeleteInstance(DeleteInstance { id, reason: None }),
            ))
        }
        ["runtime", "instances", id, "variables"] if m == Method::PUT => {
            let id = parse_instance_id(id)?;
            let body: Map<String, Value> = json(req)?;
            Ok((
                op(OpKind::SetVariables),
                Command::SetVariables(SetVariables {
                    id,
                    variables: variables(&body),
                    mode: SetMode::Upsert,
                }),
            ))
        }
        ["metadata", "definitions"] if m == Method::GET => Ok((
            op(OpKind::ListDefinitions),
            Command::ListDefinitions(definition_query(&params)?),
        )),
        ["metadata", "definitions", id] if m == Method::GET => {
            let r = parse_definition_id(id)?;
            let query = DefinitionQuery {
                filter: DefinitionFilter {
                    deployment_id: Some(r.deployment),
                    ordinal: Some(r.ordinal),
                    ..DefinitionFilter::default()
                },
                size: 1,
                ..DefinitionQuery::default()
            };
            Ok((op(OpKind::GetDefinition), Command::ListDefinitions(query)))
        }
        ["metadata", "definitions"] if m == Method::POST => {
            Ok((op(OpKind::SaveDefinition), deploy(req, None)?))
        }
        ["metadata", "definitions", id] if m == Method::PUT => {
            let r = parse_definition_id(id)?;
            Ok((op(OpKind::SaveDefinition), deploy(req, Some(r))?))
        }
        ["metadata", "definitions", id] if m == Method::DELETE => Ok((
            op(OpKind::DeleteDefinition),
            Command::DeleteDefinition(parse_definition_id(id)?),
        )),
        _ => Err(unsupported()),
    }
}

/// A design deployed as one declarative file named by the BPM (see [`crate::metadata`]).
fn deploy(
    req: &Request<Bytes>,
    replaces: Option<bpm_compat_model::DefinitionRef>,
) -> Result<Command, CoreError> {
    let design: Design = json(req)?;
    let declarative = design.to_declarative()?;
    let name = design.name().unwrap_or_default().to_owned();
    let bytes = serde_json::to_vec_pretty(&declarative).map_err(|e| CoreError::Internal {
        message: format!("cannot write a definition: {e}"),
    })?;
    Ok(Command::Deploy(Deploy {
        name: Some(name.clone()),
        key: None,
        category: None,
        tenant_id: String::new(),
        resources: vec![Resource {
            name: format!("{name}.process.json"),
            bytes,
        }],
        replaces,
    }))
}

/// `GET metadata/definitions`: `name` (exact, or a part of it with `like=true`), `active`
/// (every definition here is active), `skip` and `limit`.
fn definition_query(params: &[(String, String)]) -> Result<DefinitionQuery, CoreError> {
    let flag = |name: &str| -> Result<Option<bool>, CoreError> {
        match param(params, name) {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(CoreError::invalid(format!(
                "{name} must be true or false, not {other}"
            ))),
        }
    };
    let number = |name: &str, min: usize| -> Result<Option<usize>, CoreError> {
        match param(params, name) {
            None | Some("") => Ok(None),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n >= min => Ok(Some(n)),
                _ => Err(CoreError::invalid(format!(
                    "{name} must be a whole number of at least {min}, not {text}"
                ))),
            },
        }
    };
    let like = flag("like")?.unwrap_or(false);
    let key = param(params, "name").filter(|n| !n.is_empty()).map(|n| {
        if like {
            TextMatch::Like(format!("%{n}%"))
        } else {
            TextMatch::Equals(n.to_owned())
        }
    });
    Ok(DefinitionQuery {
        filter: DefinitionFilter {
            key,
            impossible: flag("active")? == Some(false),
            ..DefinitionFilter::default()
        },
        sort: DefinitionSort::Key,
        order: SortOrder::Asc,
        start: number("skip", 0)?.unwrap_or(0),
        size: number("limit", 1)?.unwrap_or(LIST_LIMIT).min(LIST_LIMIT),
    })
}
