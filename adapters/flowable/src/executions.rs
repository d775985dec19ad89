//! Executions (`runtime/executions`): the paths of a process instance. The instance is its own
//! root execution (id = the instance id); each activity a path waits at is a child execution
//! whose id is `<instance>.<activity record key>`, the same id tasks show as `executionId`.
//! Triggering a child that waits at a receive task moves that path on.
//!
//! Sources: `ExecutionCollectionResource`, `ExecutionResource`, `ExecutionBaseResource`,
//! `ExecutionActionRequest`, `ExecutionResponse` (flowable-engine `modules/flowable-rest`).

use bpm_compat_model::{ActivityView, Command, CoreError, InstanceId, InstanceState, InstanceView, Missing};
use serde::{Deserialize, Serialize};

use crate::ids::render_instance_id;
use crate::parse::{listing, named_variables, Listing, Params};
use crate::render::instance_url;
use crate::routes::ListShape;
use crate::wire::RestVariableRequest;

/// `org.flowable.rest.service.api.runtime.process.ExecutionResponse`, fields in Flowable's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionResponse {
    pub id: String,
    pub url: String,
    pub parent_id: Option<String>,
    pub parent_url: Option<String>,
    pub super_execution_id: Option<String>,
    pub super_execution_url: Option<String>,
    pub process_instance_id: String,
    pub process_instance_url: String,
    pub suspended: bool,
    pub activity_id: Option<String>,
    pub tenant_id: String,
}

/// `org.flowable.rest.service.api.runtime.process.ExecutionActionRequest`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionActionRequest {
    pub action: Option<String>,
    pub signal_name: Option<String>,
    pub message_name: Option<String>,
    pub variables: Option<Vec<RestVariableRequest>>,
    pub transient_variables: Option<Vec<RestVariableRequest>>,
}

/// An execution id: the instance, and the activity record of a child (none for the root).
pub fn parse_execution_id(text: &str) -> Result<(InstanceId, Option<String>), CoreError> {
    let missing = || CoreError::NotFound(Missing::Execution(text.to_owned()));
    let (instance, key) = match text.split_once('.') {
        Some((i, k)) => (i, Some(k.to_owned())),
        None => (text, None),
    };
    let id = instance.parse::<InstanceId>().map_err(|_| missing())?;
    Ok((id, key))
}

pub fn execution_url(base: &str, id: &str) -> String {
    format!("{base}/runtime/executions/{id}")
}

/// `GET runtime/executions`: the executions of one instance (`processInstanceId` is required:
/// paths are kept per instance), optionally those at one `activityId`.
pub fn execution_query(p: &Params) -> Result<(Command, ListShape), CoreError> {
    let Listing { shape, .. } = listing(p, "processInstanceId", |key| {
        matches!(
            key,
            "processInstanceId" | "processDefinitionId" | "processDefinitionKey" | "tenantId"
        )
        .then_some(())
    })?;
    let Some(instance) = p.get("processInstanceId").or(p.get("id")) else {
        return Err(CoreError::invalid(
            "bpm-compat lists executions per process instance: give processInstanceId",
        ));
    };
    let (instance, key) = parse_execution_id(instance)?;
    Ok((
        Command::GetExecutions {
            instance,
            key,
            activity_id: p.get("activityId").map(str::to_owned),
        },
        shape,
    ))
}

/// `PUT runtime/executions/{id}`: `trigger` (or the older `signal`) moves a receive task on.
pub fn execution_action(text: &str, body: ExecutionActionRequest) -> Result<Command, CoreError> {
    let (instance, key) = parse_execution_id(text)?;
    let action = body.action.unwrap_or_else(|| "null".into());
    if action != "trigger" && action != "signal" {
        return Err(CoreError::invalid(format!(
            "Invalid action: '{action}'. bpm-compat executions take 'trigger' (or 'signal')."
        )));
    }
    Ok(Command::TriggerExecution {
        instance,
        // The root execution (no key) waits nowhere: the engine refuses it.
        key: key.unwrap_or_default(),
        variables: named_variables(body.variables.unwrap_or_default(), "Variable name is required")?,
        transient_variables: named_variables(
            body.transient_variables.unwrap_or_default(),
            "Transient variable name is required",
        )?,
    })
}

/// The root execution of an instance.
pub fn root_execution(view: &InstanceView, base: &str) -> ExecutionResponse {
    let i = &view.instance;
    let id = render_instance_id(i.id);
    ExecutionResponse {
        url: execution_url(base, &id),
        id: id.clone(),
        parent_id: None,
        parent_url: None,
        super_execution_id: None,
        super_execution_url: None,
        process_instance_id: id,
        process_instance_url: instance_url(base, i.id),
        suspended: i.state == InstanceState::Suspended,
        activity_id: None,
        tenant_id: i.tenant_id.clone(),
    }
}

/// A path waiting at an activity.
pub fn child_execution(view: &InstanceView, wait: &ActivityView, base: &str) -> ExecutionResponse {
    let root = render_instance_id(view.instance.id);
    let id = wait.id();
    ExecutionResponse {
        url: execution_url(base, &id),
        id,
        parent_url: Some(execution_url(base, &root)),
        parent_id: Some(root.clone()),
        super_execution_id: None,
        super_execution_url: None,
        process_instance_id: root,
        process_instance_url: instance_url(base, view.instance.id),
        suspended: view.instance.state == InstanceState::Suspended,
        activity_id: Some(wait.record.activity_id.clone()),
        tenant_id: view.instance.tenant_id.clone(),
    }
}
